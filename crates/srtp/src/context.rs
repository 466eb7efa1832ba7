//! Per-direction SRTP/SRTCP contexts holding per-SSRC streams.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

use crate::crypto::{AesCmHmac, AesGcm, GCM_TAG_LEN, Transform};
use crate::keys::label;
use crate::replay::{MAX_REPLAY_WINDOW, ReplayWindow, estimate_index};
use crate::{Error, MasterKey, ProtectionProfile};

/// Settings of a [`Context`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Replay window in packets, per SSRC and separately for SRTP and SRTCP
    /// (RFC 3711 section 3.3.2). 1 to 32768 (2^15, for high-rate video);
    /// default 64. The bitmap costs a power of two of 64-bit words: 8 bytes
    /// at 64, 4 KiB at 32768, per stream and per protocol.
    pub replay_window: u16,
    /// Most SSRC streams the context keeps; a new one beyond it is refused
    /// with [`Error::TooManyStreams`]. Default 1024.
    pub max_streams: usize,
    /// Whether an authenticated incoming packet from an SSRC without a
    /// stream creates one (libsrtp's `ssrc_any_inbound`). Default `false`:
    /// the caller adds the SSRCs it expects with [`Context::add_stream`],
    /// and others are refused with [`Error::UnknownSsrc`] before any
    /// cryptographic work.
    pub accept_unknown_ssrc: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            replay_window: 64,
            max_streams: 1024,
            accept_unknown_ssrc: false,
        }
    }
}

/// Hashes SSRCs (random 32-bit numbers) with one multiplication.
#[derive(Default)]
struct SsrcHasher(u64);

impl Hasher for SsrcHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        let x = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = x ^ (x >> 29);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What a context knows of one SSRC.
#[derive(Debug, Clone)]
struct Stream {
    /// Highest SRTP index protected (sending side).
    sent_rtp: Option<u64>,
    /// Next SRTCP index to send.
    next_srtcp: u32,
    /// Highest SRTP index authenticated and the replay window below it
    /// (receiving side); also the base of rollover counter estimation.
    rtp_replay: ReplayWindow,
    /// The same for SRTCP indices.
    rtcp_replay: ReplayWindow,
}

impl Stream {
    fn new(window: u16) -> Stream {
        Stream {
            sent_rtp: None,
            next_srtcp: 0,
            rtp_replay: ReplayWindow::new(window),
            rtcp_replay: ReplayWindow::new(window),
        }
    }
}

/// An SRTP and SRTCP context for one master key: what one side protects
/// with, or what it unprotects the other side's packets with. In WebRTC
/// each endpoint has two, made from [`crate::DtlsSrtpKeys`].
///
/// Packets are transformed in place in the caller's buffer; nothing is
/// allocated per packet (a stream's replay window is allocated when the
/// stream is created). Protecting needs
/// [`ProtectionProfile::rtp_overhead`] (or `rtcp_overhead`) bytes of room
/// after the packet.
pub struct Context {
    profile: ProtectionProfile,
    rtp: Transform,
    rtcp: Transform,
    config: Config,
    streams: HashMap<u32, Stream, BuildHasherDefault<SsrcHasher>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("profile", &self.profile)
            .field("config", &self.config)
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

/// Length of the fixed RTP header, CSRCs and header extension (RFC 3550
/// section 5.1): everything SRTP leaves unencrypted. rtcwire-rtp checks it.
fn rtp_header_len(packet: &[u8]) -> Result<usize, Error> {
    rtcwire_rtp::rtp_header_len(packet).map_err(|e| match e {
        rtcwire_rtp::Error::Truncated { what, .. } => Error::TooShort(what),
        rtcwire_rtp::Error::BadVersion(_) => Error::Malformed("RTP version is not 2"),
        _ => Error::Malformed("RTP header"),
    })
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl Context {
    /// A context for `master` with the session keys of RFC 3711 section 4.3
    /// derived once here.
    pub fn new(master: &MasterKey, config: Config) -> Result<Context, Error> {
        if config.replay_window == 0 || config.replay_window > MAX_REPLAY_WINDOW {
            return Err(Error::InvalidKey("replay window must be 1 to 32768 packets"));
        }
        let profile = master.profile();
        let transform = |enc: u8, auth: u8, salt: u8| -> Result<Transform, Error> {
            let mut key = [0u8; 32];
            let key = &mut key[..profile.master_key_len()];
            master.derive(enc, key);
            let mut session_salt = [0u8; 14];
            let session_salt = &mut session_salt[..profile.master_salt_len()];
            master.derive(salt, session_salt);
            if profile.is_aead() {
                Ok(Transform::Gcm(AesGcm::new(key, session_salt)?))
            } else {
                let mut auth_key = [0u8; 20];
                master.derive(auth, &mut auth_key);
                Ok(Transform::AesCm(AesCmHmac::new(key, session_salt, &auth_key)?))
            }
        };
        Ok(Context {
            profile,
            rtp: transform(label::RTP_ENCRYPTION, label::RTP_AUTH, label::RTP_SALT)?,
            rtcp: transform(label::RTCP_ENCRYPTION, label::RTCP_AUTH, label::RTCP_SALT)?,
            config,
            streams: HashMap::default(),
        })
    }

    /// A context from session keys given directly (the RFC 7714 vectors give
    /// session keys, not master keys).
    #[cfg(test)]
    pub(crate) fn from_transforms(
        profile: ProtectionProfile,
        rtp: Transform,
        rtcp: Transform,
        config: Config,
    ) -> Context {
        Context {
            profile,
            rtp,
            rtcp,
            config,
            streams: HashMap::default(),
        }
    }

    #[cfg(test)]
    pub(crate) fn rtcp_transform(&self) -> &Transform {
        &self.rtcp
    }

    /// Sets the next SRTCP index `ssrc` sends (for test vectors).
    #[cfg(test)]
    pub(crate) fn set_next_srtcp_index(&mut self, ssrc: u32, index: u32) -> Result<(), Error> {
        self.stream_mut(ssrc, true)?.next_srtcp = index;
        Ok(())
    }

    /// The profile.
    pub fn profile(&self) -> ProtectionProfile {
        self.profile
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Expects packets from `ssrc` (a no-op if it is known). Fails when the
    /// context already holds [`Config::max_streams`] streams.
    pub fn add_stream(&mut self, ssrc: u32) -> Result<(), Error> {
        self.stream_mut(ssrc, true).map(|_| ())
    }

    /// Forgets `ssrc` (its rollover counter, replay window and SRTCP index).
    pub fn remove_stream(&mut self, ssrc: u32) -> bool {
        self.streams.remove(&ssrc).is_some()
    }

    /// Number of SSRC streams held.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// The rollover counter of `ssrc` as this context knows it: the highest
    /// index sent if it protects, received if it unprotects.
    pub fn rollover_counter(&self, ssrc: u32) -> Option<u32> {
        let s = self.streams.get(&ssrc)?;
        s.sent_rtp.max(s.rtp_replay.highest()).map(|i| (i >> 16) as u32)
    }

    fn stream_mut(&mut self, ssrc: u32, create: bool) -> Result<&mut Stream, Error> {
        let count = self.streams.len();
        match self.streams.entry(ssrc) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(_) if !create => Err(Error::UnknownSsrc(ssrc)),
            Entry::Vacant(_) if count >= self.config.max_streams => Err(Error::TooManyStreams),
            Entry::Vacant(e) => Ok(e.insert(Stream::new(self.config.replay_window))),
        }
    }

    /// Protects the RTP packet in `buf[..len]` in place and returns the
    /// SRTP packet's length (`len` plus [`ProtectionProfile::rtp_overhead`]).
    /// The rollover counter follows the sequence numbers sent; a sequence
    /// number must not be sent twice under one key.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let tag_len = self.profile.rtp_overhead();
        let Some(packet) = buf.get(..len) else {
            return Err(Error::BufferTooSmall("length beyond the buffer"));
        };
        let header_len = rtp_header_len(packet)?;
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let ssrc = be32(&packet[8..12]);
        if buf.len() < len + tag_len {
            return Err(Error::BufferTooSmall("no room for the authentication tag"));
        }
        let stream = self.stream_mut(ssrc, true)?;
        let index = match estimate_index(stream.sent_rtp, seq) {
            Some(index) => index,
            // A sequence number from before the first one sent: rollover
            // counter 0 still (it cannot go below).
            None if stream.sent_rtp.is_some_and(|h| h >> 16 == 0) => u64::from(seq),
            None => return Err(Error::IndexExhausted("rollover counter")),
        };
        stream.sent_rtp = Some(stream.sent_rtp.map_or(index, |h| h.max(index)));
        let roc = (index >> 16) as u32;
        match &self.rtp {
            Transform::AesCm(cm) => {
                cm.apply_keystream(ssrc, index, &mut buf[header_len..len]);
                let tag = cm.tag(&buf[..len], &roc.to_be_bytes());
                buf[len..len + tag_len].copy_from_slice(&tag[..tag_len]);
            }
            Transform::Gcm(gcm) => {
                let (header, rest) = buf.split_at_mut(header_len);
                let payload_len = len - header_len;
                let tag = gcm.seal(gcm.nonce(ssrc, roc, seq), header, &mut rest[..payload_len])?;
                rest[payload_len..payload_len + GCM_TAG_LEN].copy_from_slice(&tag);
            }
        }
        Ok(len + tag_len)
    }

    /// Authenticates and decrypts the SRTP packet `packet` in place and
    /// returns the length of the RTP packet now at its start. Nothing
    /// changes (no stream, no replay state) unless it authenticates.
    pub fn unprotect_rtp(&mut self, packet: &mut [u8]) -> Result<usize, Error> {
        let tag_len = self.profile.rtp_overhead();
        if packet.len() < 12 + tag_len {
            return Err(Error::TooShort("shorter than an RTP header and tag"));
        }
        let len = packet.len() - tag_len;
        let header_len = rtp_header_len(&packet[..len])?;
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let ssrc = be32(&packet[8..12]);
        let index = match self.streams.get(&ssrc) {
            Some(s) => {
                let index = estimate_index(s.rtp_replay.highest(), seq)
                    .ok_or(Error::Replay("older than the replay window"))?;
                s.rtp_replay.check(index)?;
                index
            }
            None if !self.config.accept_unknown_ssrc => return Err(Error::UnknownSsrc(ssrc)),
            None if self.streams.len() >= self.config.max_streams => {
                return Err(Error::TooManyStreams);
            }
            // A new stream starts with rollover counter 0.
            None => u64::from(seq),
        };
        let roc = (index >> 16) as u32;
        match &self.rtp {
            Transform::AesCm(cm) => {
                let (data, tag) = packet.split_at_mut(len);
                cm.verify(data, &roc.to_be_bytes(), tag)?;
                cm.apply_keystream(ssrc, index, &mut data[header_len..]);
            }
            Transform::Gcm(gcm) => {
                let (header, rest) = packet.split_at_mut(header_len);
                let (payload, tag) = rest.split_at_mut(len - header_len);
                gcm.open(gcm.nonce(ssrc, roc, seq), header, tag, payload)?;
            }
        }
        self.stream_mut(ssrc, true)?.rtp_replay.accept(index);
        Ok(len)
    }

    /// Protects the RTCP compound packet in `buf[..len]` in place (always
    /// encrypted: E-flag set) and returns the SRTCP packet's length (`len`
    /// plus [`ProtectionProfile::rtcp_overhead`]). Each SSRC's SRTCP index
    /// starts at 0.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let tag_len = self.profile.rtcp_tag_len();
        let Some(packet) = buf.get(..len) else {
            return Err(Error::BufferTooSmall("length beyond the buffer"));
        };
        if packet.len() < 8 {
            return Err(Error::TooShort("shorter than an RTCP header"));
        }
        if packet[0] >> 6 != 2 {
            return Err(Error::Malformed("RTCP version is not 2"));
        }
        let ssrc = be32(&packet[4..8]);
        if buf.len() < len + 4 + tag_len {
            return Err(Error::BufferTooSmall("no room for the SRTCP index and tag"));
        }
        let stream = self.stream_mut(ssrc, true)?;
        let index = stream.next_srtcp;
        if index > 0x7fff_ffff {
            return Err(Error::IndexExhausted("SRTCP index"));
        }
        stream.next_srtcp += 1;
        let e_index = (index | 0x8000_0000).to_be_bytes();
        match &self.rtcp {
            Transform::AesCm(cm) => {
                cm.apply_keystream(ssrc, u64::from(index), &mut buf[8..len]);
                buf[len..len + 4].copy_from_slice(&e_index);
                let tag = cm.tag(&buf[..len + 4], &[]);
                buf[len + 4..len + 4 + tag_len].copy_from_slice(&tag[..tag_len]);
            }
            Transform::Gcm(gcm) => {
                let mut aad = [0u8; 12];
                aad[..8].copy_from_slice(&buf[..8]);
                aad[8..].copy_from_slice(&e_index);
                let nonce = gcm.nonce(ssrc, index >> 16, index as u16);
                let tag = gcm.seal(nonce, &aad, &mut buf[8..len])?;
                buf[len..len + GCM_TAG_LEN].copy_from_slice(&tag);
                buf[len + GCM_TAG_LEN..len + GCM_TAG_LEN + 4].copy_from_slice(&e_index);
            }
        }
        Ok(len + 4 + tag_len)
    }

    /// Authenticates and (if its E-flag is set) decrypts the SRTCP packet
    /// `packet` in place and returns the length of the RTCP compound packet
    /// now at its start.
    pub fn unprotect_rtcp(&mut self, packet: &mut [u8]) -> Result<usize, Error> {
        let tag_len = self.profile.rtcp_tag_len();
        if packet.len() < 8 + 4 + tag_len {
            return Err(Error::TooShort(
                "shorter than an RTCP header, SRTCP index and tag",
            ));
        }
        if packet[0] >> 6 != 2 {
            return Err(Error::Malformed("RTCP version is not 2"));
        }
        let ssrc = be32(&packet[4..8]);
        let len = packet.len() - 4 - tag_len;
        // AES-CM: header | payload | E+index | tag; AES-GCM (RFC 7714
        // section 9): header | payload | tag | E+index.
        let e_at = if self.profile.is_aead() {
            len + tag_len
        } else {
            len
        };
        let e_index = be32(&packet[e_at..e_at + 4]);
        let encrypted = e_index & 0x8000_0000 != 0;
        let index = e_index & 0x7fff_ffff;
        match self.streams.get(&ssrc) {
            Some(s) => s.rtcp_replay.check(u64::from(index))?,
            None if !self.config.accept_unknown_ssrc => return Err(Error::UnknownSsrc(ssrc)),
            None if self.streams.len() >= self.config.max_streams => {
                return Err(Error::TooManyStreams);
            }
            None => {}
        }
        match &self.rtcp {
            Transform::AesCm(cm) => {
                let (data, tag) = packet.split_at_mut(len + 4);
                cm.verify(data, &[], tag)?;
                if encrypted {
                    cm.apply_keystream(ssrc, u64::from(index), &mut data[8..len]);
                }
            }
            Transform::Gcm(gcm) => {
                let nonce = gcm.nonce(ssrc, index >> 16, index as u16);
                let mut tag = [0u8; GCM_TAG_LEN];
                tag.copy_from_slice(&packet[len..len + GCM_TAG_LEN]);
                if encrypted {
                    let mut aad = [0u8; 12];
                    aad[..8].copy_from_slice(&packet[..8]);
                    aad[8..].copy_from_slice(&e_index.to_be_bytes());
                    gcm.open(nonce, &aad, &tag, &mut packet[8..len])?;
                } else {
                    // Unencrypted SRTCP: the whole packet and E+index are
                    // AAD (RFC 7714 section 9.2). Put E+index right after
                    // the packet (over the tag, saved above) so the AAD is
                    // one slice.
                    packet[len..len + 4].copy_from_slice(&e_index.to_be_bytes());
                    let result = gcm.open(nonce, &packet[..len + 4], &tag, &mut []);
                    packet[len..len + GCM_TAG_LEN].copy_from_slice(&tag);
                    result?;
                }
            }
        }
        self.stream_mut(ssrc, true)?.rtcp_replay.accept(u64::from(index));
        Ok(len)
    }
}
