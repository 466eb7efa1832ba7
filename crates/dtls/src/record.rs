//! The DTLS record header (RFC 6347 section 4.1), splitting a datagram into
//! records, and the anti-replay window (section 4.1.2.6).
//!
//! Only the plaintext header lives here; protecting and unprotecting the
//! fragment is the cipher's job.

use crate::Error;
use crate::codec::{Reader, put_u8, put_u16, put_u48};

/// The record content types of DTLS 1.2 (RFC 5246 section 6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(crate) enum ContentType {
    /// change_cipher_spec: the next record of this sender is in a new epoch.
    ChangeCipherSpec = 20,
    /// alert.
    Alert = 21,
    /// handshake.
    Handshake = 22,
    /// application_data (for WebRTC: SCTP packets).
    ApplicationData = 23,
}

impl ContentType {
    /// The content type for a wire value; `None` for any other value
    /// (heartbeat 24, tls12_cid 25, DTLS 1.3 unified headers 32..=63, ...).
    pub(crate) fn from_u8(v: u8) -> Option<Self> {
        match v {
            20 => Some(ContentType::ChangeCipherSpec),
            21 => Some(ContentType::Alert),
            22 => Some(ContentType::Handshake),
            23 => Some(ContentType::ApplicationData),
            _ => None,
        }
    }

    /// The wire value.
    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }
}

/// DTLS 1.0's version number, which RFC 6347 section 4.2.1 allows in the
/// record header of a ClientHello and HelloVerifyRequest.
pub(crate) const DTLS_1_0: u16 = 0xfeff;
/// DTLS 1.2's version number.
pub(crate) const DTLS_1_2: u16 = 0xfefd;
/// DTLS 1.3's version number; it appears only inside supported_versions.
#[allow(dead_code)] // recognised for DTLS 1.3, next
pub(crate) const DTLS_1_3: u16 = 0xfefc;
/// Size of a DTLS 1.2 record header: type, version, epoch, 48-bit sequence
/// number, length.
pub(crate) const RECORD_HEADER_LEN: usize = 13;
/// Largest record fragment accepted: 2^14 bytes of plaintext plus 2048 of
/// expansion, the ciphertext bound of RFC 5246 section 6.2.3.
pub(crate) const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Largest 48-bit record sequence number.
pub(crate) const MAX_SEQUENCE: u64 = (1 << 48) - 1;

/// A DTLS record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    /// What the fragment carries.
    pub(crate) content_type: ContentType,
    /// Protocol version, `0xfeXX`: [`DTLS_1_2`], or [`DTLS_1_0`] on an
    /// initial ClientHello.
    pub(crate) version: u16,
    /// Epoch: 0 before the first ChangeCipherSpec, then one more per change.
    pub(crate) epoch: u16,
    /// Record sequence number within the epoch (48 bits).
    pub(crate) sequence: u64,
    /// Length of the fragment that follows the header.
    pub(crate) length: u16,
}

impl RecordHeader {
    /// Reads a header; checks the content type, that the version is a DTLS
    /// one (major byte 0xfe) and the length bound, not that the fragment
    /// follows.
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let content_type =
            ContentType::from_u8(r.u8().map_err(|_| Error::Decode("record header: truncated"))?)
                .ok_or(Error::Decode("record: unknown content type"))?;
        let mut fields =
            || -> Result<(u16, u16, u64, u16), Error> { Ok((r.u16()?, r.u16()?, r.u48()?, r.u16()?)) };
        let (version, epoch, sequence, length) =
            fields().map_err(|_| Error::Decode("record header: truncated"))?;
        if version >> 8 != 0xfe {
            return Err(Error::Decode("record: not a DTLS version"));
        }
        if usize::from(length) > MAX_RECORD_LEN {
            return Err(Error::TooLarge("record longer than 2^14 + 2048 bytes"));
        }
        Ok(RecordHeader {
            content_type,
            version,
            epoch,
            sequence,
            length,
        })
    }

    /// Appends the 13-byte header. The sequence number's bits above 48 are
    /// not written.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_u8(out, self.content_type.to_u8());
        put_u16(out, self.version);
        put_u16(out, self.epoch);
        put_u48(out, self.sequence & MAX_SEQUENCE);
        put_u16(out, self.length);
    }

    /// The record's [`epoch_sequence`].
    #[allow(dead_code)] // used by the fuzzing harness and tests
    pub(crate) fn epoch_sequence(&self) -> u64 {
        epoch_sequence(self.epoch, self.sequence)
    }
}

/// Splits a datagram into records: yields `Ok((header, fragment))` for each,
/// `Err` once on a malformed record (then stops). Unknown content types are
/// an error item, not a panic. A record's length must fit the datagram; the
/// largest record is 2^14 + 2048 bytes ([`MAX_RECORD_LEN`]).
///
/// RFC 6347 section 4.1.2.7 has a receiver drop invalid records silently;
/// since the header of a bad record cannot be trusted to say where the next
/// one starts, the rest of the datagram is dropped with it.
pub(crate) fn records(datagram: &[u8]) -> Records<'_> {
    Records {
        rest: datagram,
        failed: false,
    }
}

/// Iterator returned by [`records`].
#[derive(Debug, Clone)]
pub(crate) struct Records<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Records<'a> {
    /// The bytes not yet split into records.
    #[allow(dead_code)] // used by the fuzzing harness and tests
    pub(crate) fn remainder(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<(RecordHeader, &'a [u8]), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let mut r = Reader::new(self.rest);
        let item = RecordHeader::parse(&mut r).and_then(|header| {
            let fragment = r
                .take(usize::from(header.length))
                .map_err(|_| Error::Decode("record: length overruns the datagram"))?;
            Ok((header, fragment))
        });
        match item {
            Ok(_) => self.rest = r.rest(),
            Err(_) => self.failed = true,
        }
        Some(item)
    }
}

/// The 8-byte sequence number used in AEAD additional data and nonces:
/// epoch (16 bits) || sequence (48 bits) (RFC 6347 section 4.1.2.1).
#[allow(dead_code)] // used by the fuzzing harness and tests
pub(crate) fn epoch_sequence(epoch: u16, sequence: u64) -> u64 {
    (u64::from(epoch) << 48) | (sequence & MAX_SEQUENCE)
}

/// Width of the [`ReplayWindow`] in records.
pub(crate) const REPLAY_WINDOW: u64 = 64;

/// Anti-replay window (RFC 6347 section 4.1.2.6), 64 records wide, for the
/// 48-bit sequence numbers of one epoch (start a new window per epoch).
///
/// [`check`](Self::check) before spending effort to authenticate a record,
/// [`accept`](Self::accept) only once it authenticated: a forged record
/// must not move the window.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplayWindow {
    /// Highest accepted sequence number plus one; 0 when nothing has been
    /// accepted yet.
    next: u64,
    /// Bit `i` set: sequence number `next - 1 - i` was accepted.
    seen: u64,
}

impl ReplayWindow {
    /// A window that has accepted nothing.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// False if `seq` was already accepted, is older than the window, or
    /// is not a 48-bit number.
    pub(crate) fn check(&self, seq: u64) -> bool {
        if seq > MAX_SEQUENCE {
            return false;
        }
        if seq >= self.next {
            return true;
        }
        let age = self.next - 1 - seq;
        age < REPLAY_WINDOW && self.seen & (1 << age) == 0
    }

    /// Marks `seq` as received, sliding the window forward when it is the
    /// newest. Call only after the record authenticated. Values `check`
    /// refuses are ignored.
    pub(crate) fn accept(&mut self, seq: u64) {
        if !self.check(seq) {
            return;
        }
        if seq >= self.next {
            let shift = seq + 1 - self.next;
            self.seen = if shift >= REPLAY_WINDOW {
                0
            } else {
                self.seen << shift
            };
            self.seen |= 1;
            self.next = seq + 1;
        } else {
            self.seen |= 1 << (self.next - 1 - seq);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// Three records in one datagram, as a DTLS 1.2 server's last flight
    /// carries them: ChangeCipherSpec (epoch 0), then an encrypted Finished
    /// and application data (epoch 1).
    const THREE_RECORDS: [u8; 13 + 1 + 13 + 4 + 13 + 2] = [
        // change_cipher_spec, DTLS 1.2, epoch 0, sequence 5, length 1
        0x14, 0xfe, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01, //
        0x01, //
        // handshake, DTLS 1.2, epoch 1, sequence 0, length 4
        0x16, 0xfe, 0xfd, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, //
        0xde, 0xad, 0xbe, 0xef, //
        // application_data, DTLS 1.2, epoch 1, sequence 0x0000_0102_0304, length 2
        0x17, 0xfe, 0xfd, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x02, //
        0xca, 0xfe,
    ];

    #[test]
    fn several_records_in_one_datagram() {
        let got: Vec<_> = records(&THREE_RECORDS).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            (
                RecordHeader {
                    content_type: ContentType::ChangeCipherSpec,
                    version: DTLS_1_2,
                    epoch: 0,
                    sequence: 5,
                    length: 1
                },
                &[1u8][..]
            )
        );
        assert_eq!(got[1].0.content_type, ContentType::Handshake);
        assert_eq!(got[1].0.epoch, 1);
        assert_eq!(got[1].1, &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(got[2].0.content_type, ContentType::ApplicationData);
        assert_eq!(got[2].0.sequence, 0x0102_0304);
        assert_eq!(got[2].0.epoch_sequence(), 0x0001_0000_0102_0304);
        assert_eq!(got[2].1, &[0xca, 0xfe]);

        // Emitting the headers and fragments again gives the datagram back.
        let mut out = Vec::new();
        for (h, f) in &got {
            h.write(&mut out);
            out.extend_from_slice(f);
        }
        assert_eq!(out, THREE_RECORDS);
    }

    #[test]
    fn truncated_last_record_is_one_error_after_the_good_ones() {
        for cut in 1..THREE_RECORDS.len() {
            let items: Vec<_> = records(&THREE_RECORDS[..cut]).collect();
            let complete = [14, 14 + 17, 14 + 17 + 15]
                .iter()
                .filter(|&&end| end <= cut)
                .count();
            let partial = usize::from(![0, 14, 31, 46].contains(&cut));
            assert_eq!(items.len(), complete + partial, "cut at {cut}");
            assert!(items[..complete].iter().all(Result::is_ok));
            if partial == 1 {
                assert!(matches!(items[complete], Err(Error::Decode(_))), "cut at {cut}");
            }
        }
    }

    #[test]
    fn unknown_content_type_is_an_error_item() {
        for t in (0..=255u8).filter(|t| !(20..=23).contains(t)) {
            let mut d = THREE_RECORDS;
            d[14] = t; // the second record
            let items: Vec<_> = records(&d).collect();
            assert_eq!(items.len(), 2);
            assert!(items[0].is_ok());
            assert_eq!(items[1], Err(Error::Decode("record: unknown content type")));
        }
    }

    #[test]
    fn length_overrun_and_bounds() {
        let mut d = THREE_RECORDS;
        d[13 + 1 + 12] = 5; // the second record claims 5 bytes, 4 follow before the third
        let items: Vec<_> = records(&d).collect();
        // It swallows the first byte of the third record, whose header is then garbage.
        assert!(items[1].is_ok());
        assert!(items[2].is_err());
        assert_eq!(items.len(), 3);

        let mut d = THREE_RECORDS;
        d[31 + 12] = 3; // the last record claims 3 bytes, 2 follow
        let items: Vec<_> = records(&d).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[2],
            Err(Error::Decode("record: length overruns the datagram"))
        );

        // A record longer than 2^14 + 2048 is refused even if the bytes are there.
        let mut big = vec![0x17, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 0, 0x48, 0x01];
        big.resize(13 + 0x4801, 0);
        assert!(matches!(records(&big).next(), Some(Err(Error::TooLarge(_)))));
        big[11..13].copy_from_slice(&0x4800u16.to_be_bytes());
        big.pop();
        assert!(matches!(records(&big).next(), Some(Ok(_))));

        // Not a DTLS version (TLS 1.2's 0x0303).
        let tls = [0x16, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            records(&tls).collect::<Vec<_>>(),
            [Err(Error::Decode("record: not a DTLS version"))]
        );
        // DTLS 1.0 record version (initial ClientHello), empty fragment.
        let v10 = [0x16, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let items: Vec<_> = records(&v10).collect();
        assert_eq!(items[0].as_ref().unwrap().0.version, DTLS_1_0);
        assert_eq!(records(&[]).count(), 0);
    }

    #[test]
    fn iteration_stops_after_an_error() {
        let mut it = records(&[0x16, 0xfe]);
        assert!(matches!(it.next(), Some(Err(_))));
        assert_eq!(it.next(), None);
        assert_eq!(it.remainder(), &[0x16, 0xfe]);
    }

    #[test]
    fn epoch_sequence_layout() {
        assert_eq!(epoch_sequence(0, 0), 0);
        assert_eq!(epoch_sequence(1, 2), 0x0001_0000_0000_0002);
        assert_eq!(epoch_sequence(0xffff, MAX_SEQUENCE), u64::MAX);
        assert_eq!(epoch_sequence(2, u64::MAX), 0x0002_ffff_ffff_ffff);
    }

    #[test]
    fn replay_fresh_and_duplicate() {
        let mut w = ReplayWindow::new();
        assert!(w.check(0));
        assert!(w.check(MAX_SEQUENCE));
        assert!(!w.check(MAX_SEQUENCE + 1));
        w.accept(0);
        assert!(!w.check(0));
        assert!(w.check(1));
        w.accept(2);
        assert!(w.check(1), "a gap stays open");
        assert!(!w.check(2));
        w.accept(1);
        assert!(!w.check(1));
        assert!(!w.check(0));
    }

    #[test]
    fn replay_too_old_far_ahead_and_sliding() {
        let mut w = ReplayWindow::new();
        w.accept(100);
        // 63 behind the newest is inside the 64-record window, 64 behind is not.
        assert!(w.check(37));
        assert!(!w.check(36));
        assert!(!w.check(0));
        // Far ahead: accepted, and the old window is forgotten entirely.
        assert!(w.check(1_000_000));
        w.accept(1_000_000);
        assert!(!w.check(100));
        assert!(w.check(1_000_000 - 63));
        assert!(!w.check(1_000_000 - 64));
        // Sliding by a few keeps what was seen.
        w.accept(999_990);
        w.accept(1_000_003);
        assert!(!w.check(999_990));
        assert!(!w.check(1_000_000));
        assert!(w.check(999_991));
        assert!(!w.check(1_000_003 - 64));
        // Accepting what check refuses changes nothing.
        let before = (w.next, w.seen);
        w.accept(1_000_003);
        w.accept(5);
        w.accept(u64::MAX);
        assert_eq!((w.next, w.seen), before);
    }

    #[test]
    fn replay_matches_a_set_model() {
        // Every sequence number below 300 in a scrambled order against a
        // reference: seen set + highest accepted.
        let mut w = ReplayWindow::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut x: u64 = 7;
        for _ in 0..5000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let seq = (x >> 33) % 300;
            let newest = seen.last().copied();
            let expect = !seen.contains(&seq) && newest.is_none_or(|n| seq + REPLAY_WINDOW > n);
            assert_eq!(w.check(seq), expect, "seq {seq} newest {newest:?}");
            if expect && (x >> 20) & 1 == 1 {
                w.accept(seq);
                seen.insert(seq);
            }
        }
    }
}
