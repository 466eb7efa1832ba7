//! DTLS 1.2 record protection with the AEAD suites.
//!
//! AES-GCM follows RFC 5288 section 3: the 12-byte nonce is the 4-byte
//! implicit salt from the key block followed by an 8-byte explicit nonce sent
//! in front of the ciphertext; we send `epoch || sequence_number`, which is
//! unique per key. ChaCha20-Poly1305 follows RFC 7905 section 2: the nonce is
//! the 12-byte IV XOR the left-padded `epoch || sequence_number`, and nothing
//! extra goes on the wire. The additional data is RFC 5246 section 6.2.3.3's,
//! with the DTLS 8-byte `epoch || sequence_number` as `seq_num` (RFC 6347
//! section 4.1.2.1).
// Used by the state machines in progress.

use crate::Error;
use crate::crypto::{AEAD_NONCE_LEN, AEAD_TAG_LEN, AeadAlgorithm, AeadKey, CipherSuite};

/// DTLS record header: type (1), version (2), epoch (2), sequence number (6),
/// length (2).
pub(crate) const RECORD_HEADER_LEN: usize = 13;
/// Largest DTLSPlaintext fragment (RFC 6347 section 4.3.1, RFC 5246 6.2.1).
pub(crate) const MAX_PLAINTEXT_LEN: usize = 1 << 14;
/// Largest sequence number: 48 bits.
pub(crate) const MAX_SEQUENCE: u64 = (1 << 48) - 1;

const GCM_EXPLICIT_NONCE_LEN: usize = 8;
const GCM_SALT_LEN: usize = 4;
const CHACHA_IV_LEN: usize = 12;

/// One direction of record protection: the key and IV of one side.
pub(crate) struct RecordCipher {
    key: AeadKey,
    /// GCM: the 4-byte salt followed by zeros; ChaCha20-Poly1305: the IV. In
    /// both cases the nonce is this XOR `0^32 || epoch || sequence`.
    iv: [u8; AEAD_NONCE_LEN],
    /// 8 for GCM, 0 for ChaCha20-Poly1305.
    explicit_nonce_len: usize,
}

impl RecordCipher {
    /// Our sealing cipher and the peer's opening cipher, from the key block
    /// (RFC 5246 section 6.3): `client_write_key`, `server_write_key`,
    /// `client_write_IV`, `server_write_IV`, in that order, no MAC keys.
    pub(crate) fn pair(
        suite: CipherSuite,
        key_block: &[u8],
        is_client: bool,
    ) -> Result<(RecordCipher, RecordCipher), Error> {
        let algorithm = suite.aead();
        let key_len = algorithm.key_len();
        let iv_len = fixed_iv_len(algorithm);
        let block = key_block
            .get(..2 * (key_len + iv_len))
            .ok_or(Error::Crypto("key block too short"))?;
        let (client_key, rest) = block.split_at(key_len);
        let (server_key, rest) = rest.split_at(key_len);
        let (client_iv, server_iv) = rest.split_at(iv_len);
        let client = RecordCipher::new(algorithm, client_key, client_iv)?;
        let server = RecordCipher::new(algorithm, server_key, server_iv)?;
        Ok(if is_client {
            (client, server)
        } else {
            (server, client)
        })
    }

    fn new(algorithm: AeadAlgorithm, key: &[u8], fixed_iv: &[u8]) -> Result<Self, Error> {
        let mut iv = [0u8; AEAD_NONCE_LEN];
        iv.get_mut(..fixed_iv.len())
            .ok_or(Error::Crypto("IV too long"))?
            .copy_from_slice(fixed_iv);
        Ok(RecordCipher {
            key: AeadKey::new(algorithm, key)?,
            iv,
            explicit_nonce_len: explicit_nonce_len(algorithm),
        })
    }

    /// Bytes of key block the suite needs.
    pub(crate) fn key_block_len(suite: CipherSuite) -> usize {
        let algorithm = suite.aead();
        2 * (algorithm.key_len() + fixed_iv_len(algorithm))
    }

    /// Bytes a record grows by when sealed: explicit nonce and tag (24 for
    /// AES-GCM, 16 for ChaCha20-Poly1305).
    pub(crate) fn overhead(&self) -> usize {
        self.explicit_nonce_len + AEAD_TAG_LEN
    }

    /// Bytes between the record header and the ciphertext: 8 for AES-GCM,
    /// 0 for ChaCha20-Poly1305. See [`RecordCipher::seal_reserved`].
    pub(crate) fn explicit_nonce_len(&self) -> usize {
        self.explicit_nonce_len
    }

    /// Seals one record in place. `record` holds the 13-byte record header
    /// followed by the plaintext; afterwards it holds the header (every field
    /// rewritten from the arguments, so the header always matches the
    /// additional data, and the length filled in), the explicit nonce, the
    /// ciphertext and the tag. Reserve [`RecordCipher::overhead`] spare
    /// capacity to avoid a reallocation.
    ///
    /// For AES-GCM this moves the plaintext up by 8 bytes; callers that can
    /// leave that gap themselves use [`RecordCipher::seal_reserved`].
    #[allow(dead_code)] // kept for callers without room for the explicit nonce; tested
    pub(crate) fn seal(
        &self,
        epoch: u16,
        sequence: u64,
        content_type: u8,
        version: u16,
        record: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if record.len() < RECORD_HEADER_LEN {
            return Err(Error::Crypto("record shorter than its header"));
        }
        let plaintext_len = record.len() - RECORD_HEADER_LEN;
        // Checked before anything moves, so a refused record is left as it was.
        if plaintext_len > MAX_PLAINTEXT_LEN {
            return Err(Error::Crypto("record plaintext longer than 2^14 bytes"));
        }
        if sequence > MAX_SEQUENCE {
            return Err(Error::Crypto("record sequence number exhausted"));
        }
        if self.explicit_nonce_len > 0 {
            record.reserve(self.overhead());
            record.resize(record.len() + self.explicit_nonce_len, 0);
            record.copy_within(
                RECORD_HEADER_LEN..RECORD_HEADER_LEN + plaintext_len,
                RECORD_HEADER_LEN + self.explicit_nonce_len,
            );
        }
        self.seal_reserved(epoch, sequence, content_type, version, record)
    }

    /// Like [`RecordCipher::seal`], but `record` already has
    /// [`RecordCipher::explicit_nonce_len`] bytes (of any value) between the
    /// header and the plaintext, so nothing moves.
    pub(crate) fn seal_reserved(
        &self,
        epoch: u16,
        sequence: u64,
        content_type: u8,
        version: u16,
        record: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let start = RECORD_HEADER_LEN + self.explicit_nonce_len;
        if record.len() < start {
            return Err(Error::Crypto("record shorter than its header"));
        }
        let plaintext_len = record.len() - start;
        if plaintext_len > MAX_PLAINTEXT_LEN {
            return Err(Error::Crypto("record plaintext longer than 2^14 bytes"));
        }
        if sequence > MAX_SEQUENCE {
            return Err(Error::Crypto("record sequence number exhausted"));
        }
        let epoch_sequence = epoch_sequence(epoch, sequence);
        let aad = additional_data(&epoch_sequence, content_type, version, plaintext_len);
        // Under cargo-fuzz nothing is encrypted and the tag is zero, the
        // mirror of `open`: two endpoints built for fuzzing still talk, so
        // fuzz targets can start from a finished handshake.
        #[cfg(fuzzing)]
        {
            let _ = aad;
            record.extend_from_slice(&[0u8; AEAD_TAG_LEN]);
        }
        #[cfg(not(fuzzing))]
        {
            let tag = self
                .key
                .seal_in_place(self.nonce(&epoch_sequence), &aad, &mut record[start..])?;
            record.extend_from_slice(&tag);
        }
        let length = (record.len() - RECORD_HEADER_LEN) as u16;
        // Header: the additional data minus its length, then our length.
        record[0] = content_type;
        record[1..3].copy_from_slice(&version.to_be_bytes());
        record[3..11].copy_from_slice(&epoch_sequence);
        record[11..13].copy_from_slice(&length.to_be_bytes());
        record[RECORD_HEADER_LEN..start].copy_from_slice(&epoch_sequence[..self.explicit_nonce_len]);
        Ok(())
    }

    /// Opens the fragment (everything after the 13-byte header) of one record
    /// in place and returns the plaintext. The header fields come in as
    /// arguments; any change to them, to the explicit nonce, the ciphertext or
    /// the tag gives [`Error::BadRecordMac`].
    pub(crate) fn open<'a>(
        &self,
        epoch: u16,
        sequence: u64,
        content_type: u8,
        version: u16,
        fragment: &'a mut [u8],
    ) -> Result<&'a [u8], Error> {
        if fragment.len() < self.overhead()
            || fragment.len() > usize::from(u16::MAX)
            || sequence > MAX_SEQUENCE
        {
            return Err(Error::BadRecordMac);
        }
        let plaintext_len = fragment.len() - self.overhead();
        let epoch_sequence = epoch_sequence(epoch, sequence);
        let aad = additional_data(&epoch_sequence, content_type, version, plaintext_len);
        let (explicit, sealed) = fragment.split_at_mut(self.explicit_nonce_len);
        let nonce = if self.explicit_nonce_len > 0 {
            // RFC 5288 lets the sender choose the explicit nonce: use the
            // one on the wire, not ours.
            let mut nonce = self.iv;
            nonce[GCM_SALT_LEN..].copy_from_slice(explicit);
            nonce
        } else {
            self.nonce(&epoch_sequence)
        };
        // Under cargo-fuzz (`--cfg fuzzing`) the tag is not checked and
        // nothing is decrypted, so the fuzzer reaches the protocol behind
        // the record layer, as rustls does with its fuzzing provider.
        #[cfg(fuzzing)]
        {
            let _ = (nonce, aad);
            let n = sealed.len() - AEAD_TAG_LEN;
            return Ok(&sealed[..n]);
        }
        #[cfg(not(fuzzing))]
        {
            let plaintext = self.key.open_in_place(nonce, &aad, sealed)?;
            Ok(plaintext)
        }
    }

    #[inline]
    fn nonce(&self, epoch_sequence: &[u8; 8]) -> [u8; AEAD_NONCE_LEN] {
        let mut nonce = self.iv;
        for (n, e) in nonce[4..].iter_mut().zip(epoch_sequence) {
            *n ^= e;
        }
        nonce
    }
}

impl std::fmt::Debug for RecordCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordCipher")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// The implicit part of the nonce taken from the key block.
fn fixed_iv_len(algorithm: AeadAlgorithm) -> usize {
    match algorithm {
        AeadAlgorithm::Aes128Gcm | AeadAlgorithm::Aes256Gcm => GCM_SALT_LEN,
        AeadAlgorithm::Chacha20Poly1305 => CHACHA_IV_LEN,
    }
}

fn explicit_nonce_len(algorithm: AeadAlgorithm) -> usize {
    match algorithm {
        AeadAlgorithm::Aes128Gcm | AeadAlgorithm::Aes256Gcm => GCM_EXPLICIT_NONCE_LEN,
        AeadAlgorithm::Chacha20Poly1305 => 0,
    }
}

#[inline]
fn epoch_sequence(epoch: u16, sequence: u64) -> [u8; 8] {
    ((u64::from(epoch) << 48) | (sequence & MAX_SEQUENCE)).to_be_bytes()
}

/// `seq_num || type || version || length` (RFC 5246 section 6.2.3.3).
#[inline]
fn additional_data(epoch_sequence: &[u8; 8], content_type: u8, version: u16, length: usize) -> [u8; 13] {
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(epoch_sequence);
    aad[8] = content_type;
    aad[9..11].copy_from_slice(&version.to_be_bytes());
    aad[11..13].copy_from_slice(&(length as u16).to_be_bytes());
    aad
}

#[cfg(test)]
mod tests {
    //! Oracles, none computed by the code under test:
    //! - Known answers: records sealed by pyca/cryptography 48 (`AESGCM`,
    //!   `ChaCha20Poly1305`) with the nonce and additional data built by hand
    //!   from RFC 5288 / RFC 7905 and RFC 5246 6.2.3.3.
    //! - Real sessions: `openssl s_server` and `s_client` 3.0.19 (DTLS 1.2,
    //!   extended master secret) talking through a logging UDP relay on
    //!   loopback, once per AEAD suite; master secret and client random from
    //!   `s_client -keylogfile`, server random from the captured ServerHello,
    //!   Finished and alert plaintexts from `-msg`, keying material as both
    //!   printed it. See tests/data/README.md.
    use super::*;
    use crate::crypto::{export_keying_material, from_hex, key_block};

    const SUITES: [CipherSuite; 3] = [
        CipherSuite::EcdheEcdsaAes128Gcm,
        CipherSuite::EcdheEcdsaAes256Gcm,
        CipherSuite::EcdheEcdsaChacha20Poly1305,
    ];
    const DTLS_1_2: u16 = 0xfefd;
    const APPLICATION_DATA: u8 = 23;

    fn header(content_type: u8, epoch: u16, sequence: u64) -> Vec<u8> {
        let mut record = vec![content_type, 0xfe, 0xfd];
        record.extend_from_slice(&epoch_sequence(epoch, sequence));
        record.extend_from_slice(&[0, 0]);
        record
    }

    fn sealed(cipher: &RecordCipher, epoch: u16, sequence: u64, plaintext: &[u8]) -> Vec<u8> {
        let mut record = header(APPLICATION_DATA, epoch, sequence);
        record.extend_from_slice(plaintext);
        cipher
            .seal(epoch, sequence, APPLICATION_DATA, DTLS_1_2, &mut record)
            .unwrap();
        record
    }

    /// Opens a whole record, taking every input from its header the way the
    /// record layer will.
    fn open_record<'a>(cipher: &RecordCipher, record: &'a mut [u8]) -> Result<&'a [u8], Error> {
        let content_type = record[0];
        let version = u16::from_be_bytes([record[1], record[2]]);
        let epoch = u16::from_be_bytes([record[3], record[4]]);
        let mut sequence = [0u8; 8];
        sequence[2..].copy_from_slice(&record[5..11]);
        let sequence = u64::from_be_bytes(sequence);
        let length = usize::from(u16::from_be_bytes([record[11], record[12]]));
        let fragment = record
            .get_mut(RECORD_HEADER_LEN..RECORD_HEADER_LEN + length)
            .ok_or(Error::BadRecordMac)?;
        cipher.open(epoch, sequence, content_type, version, fragment)
    }

    fn test_key_block(suite: CipherSuite) -> Vec<u8> {
        (0..RecordCipher::key_block_len(suite)).map(|i| i as u8).collect()
    }

    #[test]
    fn key_block_lengths_and_overheads() {
        let expect = [
            (CipherSuite::EcdheEcdsaAes128Gcm, 40, 24),
            (CipherSuite::EcdheRsaAes256Gcm, 72, 24),
            (CipherSuite::EcdheRsaChacha20Poly1305, 88, 16),
        ];
        for (suite, key_block_len, overhead) in expect {
            assert_eq!(RecordCipher::key_block_len(suite), key_block_len, "{suite}");
            let (ours, _) = RecordCipher::pair(suite, &test_key_block(suite), true).unwrap();
            assert_eq!(ours.overhead(), overhead, "{suite}");
            let short = &test_key_block(suite)[..key_block_len - 1];
            assert!(matches!(
                RecordCipher::pair(suite, short, true),
                Err(Error::Crypto(_))
            ));
        }
    }

    #[test]
    fn known_answers_from_pyca_cryptography() {
        // Key block 00 01 02 ..; the client seals epoch 1, sequence 5.
        let plaintext = b"rtcwire record protection known answer";
        let expected = [
            "17fefd0001000000000005003e000100000000000573186e5bd3870d4750438128dbdfd5cf1a98b58b684f339f31289283c0\
             293ed7b736b663039aa03eef31e7731ed081e3a60916059ec4",
            "17fefd0001000000000005003e000100000000000575aa50895d5e5144f2cbde47b9c66835e418af44672db823bcdf270740\
             2e4cd0066417bb177760e394460b81d85ef80a69e226052c16",
            "17fefd00010000000000050036b2960f121554c384b3ddd3d000b75730b078ccfc9100c5b36b0432947ea375427669543327\
             eb03158b477ee199a94c17dec4ff6a2e7f",
        ];
        for (suite, expected) in SUITES.into_iter().zip(expected) {
            let key_block = test_key_block(suite);
            let (client, _) = RecordCipher::pair(suite, &key_block, true).unwrap();
            let mut record = sealed(&client, 1, 5, plaintext);
            assert_eq!(record, from_hex(expected), "{suite}");
            let (_, server_view_of_client) = RecordCipher::pair(suite, &key_block, false).unwrap();
            assert_eq!(
                open_record(&server_view_of_client, &mut record).unwrap(),
                plaintext,
                "{suite}"
            );
        }
    }

    struct Session {
        suite: CipherSuite,
        master: &'static str,
        client_random: &'static str,
        server_random: &'static str,
        keying_material: &'static str,
        client_finished: &'static str,
        server_finished: &'static str,
        client_close_notify: &'static str,
    }

    const SESSIONS: [Session; 3] = [
        Session {
            suite: CipherSuite::EcdheEcdsaAes128Gcm,
            master: "8466d87ae019f77d6f0a0750e88bbd8917e6c0656384b19fd4f00006b9e2fc59e1f1cca931295cf6f804b548ee217379",
            client_random: "181abac8252b6a3b1d61fd7dc4fe9ec5ecb40d8236a6ace04f4329957bcc6c80",
            server_random: "b58c1b3bfec86ed810797543b87c99146d3502a26698b7a24d9090bdf9f46864",
            keying_material: "69BCE66744162A84F3480F7FFE52BE618E16EB22C108655C245714EDC32DF235F47A6F288D7A368EF1BDD0EE\
                              B438D694F191A53BABF92597C2221885",
            client_finished: "16fefd00010000000000000030a999a65eeb1ab739849893b32ee08ef740542345c8efab1a99f53e29effd3f\
                              d28df19e316d16a7dde0e899e6b4212310",
            server_finished: "16fefd0001000000000000003005f149a32bd8e09b6e877196cbf8fc7d8797ee10a29c1b4e5a41f3c53a233aef\
                              0f27e714cad92900ad3f6a5772e59606",
            client_close_notify: "15fefd0001000000000001001aa999a65eeb1ab73aa544a913918e8cf52ef066699f867f1fbe39",
        },
        Session {
            suite: CipherSuite::EcdheEcdsaAes256Gcm,
            master: "322fdcf0a57047b9a081ccb73b7e006d0d48d516040b74ad5565fe9bc6b4524d6937418640ab2af0d679eb8a623e44e4",
            client_random: "2db4ef4bbdb7a42caee591d56f7c525deed140ebf2a5189761b0caa9766e6b9c",
            server_random: "5fae05257428ee04613a31f0518865bb6d6c78243ca036843269219d09d6cec3",
            keying_material: "17D77C55FE63AAE90DAB9D1788A2AF70FD855AD665381C4FB66ADB9BAD4B5662DEB31586B43830FB90150E0A\
                              F0D1B2F4D6A1616287FD739CBC57B0EB",
            client_finished: "16fefd00010000000000000030ebffdb34e3599f4da2af297623ef3fce1cc03cba7e8cc37133cee7bba147fb\
                              7e4874f5f622e466a6e6e87bf2a59a2121",
            server_finished: "16fefd000100000000000000300cd8f1727ce594d1f53b70083de075870458d850f0eab76fda539e0439f7ef\
                              9057aefc89e5e9f34569b8d165a33a0f59",
            client_close_notify: "15fefd0001000000000001001aebffdb34e3599f4e6d0657de2b071bd829ce1acda33280835f23",
        },
        Session {
            suite: CipherSuite::EcdheEcdsaChacha20Poly1305,
            master: "5def8dcc771d44d692262570a770c4d39429f75770fe206c80d8c496ee4cf9c5ae2b8cdb59ac69837086a046cf25fd99",
            client_random: "117fae3bf3200a3eb49459c50de25d9145a8fe7766264b18472b9c548fee4a11",
            server_random: "ca3489b2a82eb38fb4116cc342fedd142f08d4edd10f1f95c3f90ab8f4a32784",
            keying_material: "2F476086844C73C94E61661FD64AEFD1D4FF90224D833A687351464AD71612F0FAE5B108DAAD04B0458910DE\
                              4D87F7FE1F5ECB5CAF2FBB792195EDC8",
            client_finished: "16fefd000100000000000000285e117192a40723242805de302d552742d6715d5dbbbabe7df10982c13325f7\
                              af360ac1053b8f8682",
            server_finished: "16fefd000100000000000000285083fe56b53f185439e0b8709679953ba03c9560df38b321d2b1792ed293a5\
                              f0d3c73ad70d140cf2",
            client_close_notify: "15fefd0001000000000001001298f491120ad683cb561bcd6f245d7eba0ab4",
        },
    ];

    /// The Finished plaintexts `-msg` printed, same order as `SESSIONS`.
    const FINISHED_PLAINTEXTS: [(&str, &str); 3] = [
        (
            "1400000c000300000000000cfa77d47705113e04ef6b492a",
            "1400000c000600000000000c195267fcbef2757fe00fb886",
        ),
        (
            "1400000c000300000000000c1b95f7f3726d73d8eb795da7",
            "1400000c000600000000000cd6c83210f977decf6355021c",
        ),
        (
            "1400000c000300000000000c8bc85a354a8e13216cd1fa49",
            "1400000c000600000000000c614e9cbe63d54bf420ec4b1a",
        ),
    ];

    #[test]
    fn opens_records_of_real_openssl_sessions() {
        for (session, (client_plain, server_plain)) in SESSIONS.iter().zip(FINISHED_PLAINTEXTS) {
            let suite = session.suite;
            let master: [u8; 48] = from_hex(session.master).try_into().unwrap();
            let client_random: [u8; 32] = from_hex(session.client_random).try_into().unwrap();
            let server_random: [u8; 32] = from_hex(session.server_random).try_into().unwrap();

            let mut exported = [0u8; 60];
            export_keying_material(
                suite.hash(),
                &master,
                "EXTRACTOR-dtls_srtp",
                &client_random,
                &server_random,
                &mut exported,
            );
            assert_eq!(
                exported[..],
                from_hex(session.keying_material)[..],
                "{suite} exporter"
            );

            let key_block = key_block(
                suite.hash(),
                &master,
                &client_random,
                &server_random,
                RecordCipher::key_block_len(suite),
            );
            let (client_seal, client_open) = RecordCipher::pair(suite, &key_block, true).unwrap();
            let (server_seal, server_open) = RecordCipher::pair(suite, &key_block, false).unwrap();

            let mut record = from_hex(session.client_finished);
            assert_eq!(
                open_record(&server_open, &mut record).unwrap(),
                from_hex(client_plain),
                "{suite} client Finished"
            );
            let mut record = from_hex(session.server_finished);
            assert_eq!(
                open_record(&client_open, &mut record).unwrap(),
                from_hex(server_plain),
                "{suite} server Finished"
            );
            let mut record = from_hex(session.client_close_notify);
            assert_eq!(
                open_record(&server_open, &mut record).unwrap(),
                [1, 0],
                "{suite} close_notify"
            );
            // Each side's key opens only the other side's records.
            let mut record = from_hex(session.client_finished);
            assert_eq!(
                open_record(&client_open, &mut record),
                Err(Error::BadRecordMac),
                "{suite}"
            );

            // ChaCha20-Poly1305 nonces are deterministic, so sealing the same
            // plaintext gives OpenSSL's bytes exactly. (OpenSSL's GCM explicit
            // nonces are its own counter, not epoch || sequence.)
            if suite == CipherSuite::EcdheEcdsaChacha20Poly1305 {
                for (cipher, plaintext, expected) in [
                    (&client_seal, client_plain, session.client_finished),
                    (&server_seal, server_plain, session.server_finished),
                ] {
                    let mut record = header(22, 1, 0);
                    record.extend_from_slice(&from_hex(plaintext));
                    cipher.seal(1, 0, 22, DTLS_1_2, &mut record).unwrap();
                    assert_eq!(record, from_hex(expected));
                }
            }
        }
    }

    #[test]
    fn round_trips_in_both_directions() {
        let mut key_block = vec![0u8; 88];
        crate::crypto::fill_random(&mut key_block).unwrap();
        for suite in CipherSuite::ALL {
            let (client_seal, client_open) = RecordCipher::pair(suite, &key_block, true).unwrap();
            let (server_seal, server_open) = RecordCipher::pair(suite, &key_block, false).unwrap();
            for (seal, open) in [(&client_seal, &server_open), (&server_seal, &client_open)] {
                for (len, sequence) in [(0, 0), (1, 1), (1200, 77), (MAX_PLAINTEXT_LEN, MAX_SEQUENCE)] {
                    let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                    let mut record = sealed(seal, 3, sequence, &plaintext);
                    assert_eq!(record.len(), RECORD_HEADER_LEN + len + seal.overhead());
                    assert_eq!(
                        usize::from(u16::from_be_bytes([record[11], record[12]])),
                        len + seal.overhead()
                    );
                    assert_eq!(
                        open_record(open, &mut record).unwrap(),
                        plaintext,
                        "{suite} {len}"
                    );
                }
            }
            // Our own sealing key does not open what we sent.
            let mut record = sealed(&client_seal, 1, 1, b"x");
            assert_eq!(
                open_record(&client_open, &mut record),
                Err(Error::BadRecordMac),
                "{suite}"
            );
        }
    }

    #[test]
    fn any_modified_byte_fails_authentication() {
        for suite in SUITES {
            let key_block = test_key_block(suite);
            let (seal, _) = RecordCipher::pair(suite, &key_block, true).unwrap();
            let (_, open) = RecordCipher::pair(suite, &key_block, false).unwrap();
            let record = sealed(
                &seal,
                2,
                0x0000_1234_5678_9abc,
                b"sixteen bytes of application data",
            );
            // Every header field (type, version, epoch, sequence, length), the
            // explicit nonce, the ciphertext and the tag.
            for i in 0..record.len() {
                for flip in [0x01, 0x80] {
                    let mut tampered = record.clone();
                    tampered[i] ^= flip;
                    assert_eq!(
                        open_record(&open, &mut tampered),
                        Err(Error::BadRecordMac),
                        "{suite} byte {i}"
                    );
                }
            }
            // Truncated, or longer than sealed.
            for len in [
                RECORD_HEADER_LEN,
                RECORD_HEADER_LEN + 1,
                RECORD_HEADER_LEN + seal.overhead(),
                record.len() - 1,
            ] {
                let mut tampered = record[..len].to_vec();
                let fragment_len = (len - RECORD_HEADER_LEN) as u16;
                tampered[11..13].copy_from_slice(&fragment_len.to_be_bytes());
                assert_eq!(
                    open_record(&open, &mut tampered),
                    Err(Error::BadRecordMac),
                    "{suite} length {len}"
                );
            }
            let mut longer = record.clone();
            longer.push(0);
            let fragment_len = (longer.len() - RECORD_HEADER_LEN) as u16;
            longer[11..13].copy_from_slice(&fragment_len.to_be_bytes());
            assert_eq!(
                open_record(&open, &mut longer),
                Err(Error::BadRecordMac),
                "{suite} longer"
            );
            // The right bytes with the wrong epoch or sequence number.
            let mut fragment = record[RECORD_HEADER_LEN..].to_vec();
            assert_eq!(
                open.open(3, 0x0000_1234_5678_9abc, 23, DTLS_1_2, &mut fragment),
                Err(Error::BadRecordMac)
            );
            let mut fragment = record[RECORD_HEADER_LEN..].to_vec();
            assert_eq!(
                open.open(2, 0x0000_1234_5678_9abd, 23, DTLS_1_2, &mut fragment),
                Err(Error::BadRecordMac)
            );
            let mut fragment = record[RECORD_HEADER_LEN..].to_vec();
            assert_eq!(
                open.open(2, 1 << 48, 23, DTLS_1_2, &mut fragment),
                Err(Error::BadRecordMac)
            );
            let mut fragment = record[RECORD_HEADER_LEN..].to_vec();
            assert!(
                open.open(2, 0x0000_1234_5678_9abc, 23, DTLS_1_2, &mut fragment)
                    .is_ok()
            );
        }
    }

    #[test]
    fn seal_rewrites_the_header_and_rejects_what_cannot_be_sent() {
        let suite = CipherSuite::EcdheEcdsaAes128Gcm;
        let (seal, open) = RecordCipher::pair(suite, &test_key_block(suite), true).unwrap();
        // A header written with other values ends up matching the arguments.
        let mut record = vec![0xff; RECORD_HEADER_LEN];
        record.extend_from_slice(b"payload");
        seal.seal(4, 9, APPLICATION_DATA, DTLS_1_2, &mut record).unwrap();
        assert_eq!(record[..11], header(APPLICATION_DATA, 4, 9)[..11]);
        // GCM explicit nonce = epoch || sequence.
        assert_eq!(record[13..21], epoch_sequence(4, 9));
        let (_, peer) = RecordCipher::pair(suite, &test_key_block(suite), false).unwrap();
        assert_eq!(open_record(&peer, &mut record).unwrap(), b"payload");
        let _ = open;

        let mut short = vec![0u8; RECORD_HEADER_LEN - 1];
        assert!(matches!(
            seal.seal(0, 0, 23, DTLS_1_2, &mut short),
            Err(Error::Crypto(_))
        ));
        let mut too_long = header(23, 1, 0);
        too_long.resize(RECORD_HEADER_LEN + MAX_PLAINTEXT_LEN + 1, 0);
        assert!(matches!(
            seal.seal(1, 0, 23, DTLS_1_2, &mut too_long),
            Err(Error::Crypto(_))
        ));
        let mut record = header(23, 1, 0);
        record.extend_from_slice(b"unchanged");
        let before = record.clone();
        assert!(matches!(
            seal.seal(1, MAX_SEQUENCE + 1, 23, DTLS_1_2, &mut record),
            Err(Error::Crypto(_))
        ));
        assert_eq!(record, before);
    }

    #[test]
    fn seal_reserved_equals_seal() {
        for suite in SUITES {
            let (seal, _) = RecordCipher::pair(suite, &test_key_block(suite), true).unwrap();
            let expected = sealed(&seal, 1, 42, b"same bytes either way");
            let mut record = header(APPLICATION_DATA, 1, 42);
            record.resize(RECORD_HEADER_LEN + seal.explicit_nonce_len(), 0xaa);
            record.extend_from_slice(b"same bytes either way");
            seal.seal_reserved(1, 42, APPLICATION_DATA, DTLS_1_2, &mut record)
                .unwrap();
            assert_eq!(record, expected, "{suite}");
        }
    }
}
