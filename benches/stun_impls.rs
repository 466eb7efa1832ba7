//! The work the `stun` benchmark measures, once per implementation, shared
//! (through `#[path]`) by the benchmark and by the test that checks every
//! implementation accepts every other's messages, so the test covers exactly
//! the code that is timed.
//!
//! The work: an ICE connectivity check (RFC 8445 section 7.2.2), a Binding
//! request with USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE,
//! MESSAGE-INTEGRITY (short-term key) and FINGERPRINT: 104 bytes on the wire.
//! Building it; parsing it, verifying integrity and fingerprint and reading
//! USERNAME and PRIORITY; and both in a row.
//!
//! Each implementation is used the way its own users use it, with everything
//! its API lets a caller keep between packets kept outside the timed loop.

/// "remote ufrag : local ufrag", 22 characters: padded to 24 on the wire.
pub const USERNAME: &str = "Rf4kQ9xZ:Lp2mVw7nTq3s";
/// The remote agent's ice-pwd: 24 characters (RFC 8839 asks for at least 22).
pub const PASSWORD: &str = "Xk93mPq0vZ7tLw2nR5sYc8bH";
/// PRIORITY: a host candidate, peer-reflexive type preference.
pub const PRIORITY: u32 = 0x6e00_1eff;
/// ICE-CONTROLLING's tie-breaker.
pub const TIE_BREAKER: u64 = 0x1234_5678_9abc_def0;
/// A fixed transaction ID, so every implementation writes the same bytes.
pub const TRANSACTION_ID: [u8; 12] = [
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
];
/// Size of the request every implementation builds.
pub const REQUEST_LEN: usize = 104;

/// What a parser hands back: the USERNAME and the PRIORITY, as each API
/// gives them (borrowed or owned).
pub type Parsed<S> = (S, u32);

/// rtcwire-stun: a builder over a caller's stack buffer, a zero-copy view.
pub mod rtcwire {
    use rtcwire_stun::{
        Attribute, AttributeType, Error, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId,
    };

    /// State kept between packets: the key, with its HMAC pads hashed once.
    pub struct Rtcwire {
        key: IntegrityKey,
    }

    impl Rtcwire {
        /// Keys the HMAC for [`super::PASSWORD`].
        pub fn new() -> Rtcwire {
            Rtcwire {
                key: IntegrityKey::short_term(super::PASSWORD),
            }
        }

        /// Writes the request into `buf` and returns it.
        pub fn build<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8], Error> {
            let mut b = MessageBuilder::new(
                buf,
                MessageType::BINDING_REQUEST,
                TransactionId::new(super::TRANSACTION_ID),
            )?;
            b.add(&Attribute::Username(super::USERNAME))?;
            b.add(&Attribute::Priority(super::PRIORITY))?;
            b.add(&Attribute::IceControlling(super::TIE_BREAKER))?;
            b.add(&Attribute::UseCandidate)?;
            b.add_message_integrity(&self.key)?;
            b.add_fingerprint()?;
            Ok(b.finish())
        }

        /// Parses, verifies fingerprint and integrity, reads USERNAME and
        /// PRIORITY.
        pub fn parse_verify<'a>(&self, packet: &'a [u8]) -> Result<super::Parsed<&'a str>, Error> {
            let msg = Message::parse(packet)?;
            msg.verify_fingerprint()?;
            msg.verify_integrity(&self.key)?;
            let username = match msg.get(AttributeType::USERNAME) {
                Some(Ok(Attribute::Username(u))) => u,
                _ => return Err(Error::MissingIntegrity),
            };
            let priority = match msg.get(AttributeType::PRIORITY) {
                Some(Ok(Attribute::Priority(p))) => p,
                _ => return Err(Error::MissingIntegrity),
            };
            Ok((username, priority))
        }
    }

    impl Default for Rtcwire {
        fn default() -> Self {
            Rtcwire::new()
        }
    }
}

/// webrtc-rs' `stun` crate (0.17), used as `webrtc-ice` uses it: a `Message`
/// built from boxed setters and decoded from a copy of the datagram. The ICE
/// attributes live in `webrtc-ice`, whose setters call `Message::add` with the
/// big-endian value; `RawAttribute` does exactly that.
pub mod webrtc_rs {
    use stun::Error;
    use stun::agent::TransactionId;
    use stun::attributes::{
        ATTR_ICE_CONTROLLING, ATTR_PRIORITY, ATTR_USE_CANDIDATE, ATTR_USERNAME, RawAttribute,
    };
    use stun::fingerprint::FINGERPRINT;
    use stun::integrity::MessageIntegrity;
    use stun::message::{BINDING_REQUEST, Message, Setter};
    use stun::textattrs::TextAttribute;

    /// Everything the API lets a caller keep: the message (its buffer and
    /// attribute list are reused, `build` resets them), the setters with
    /// their values, and the integrity key.
    pub struct WebrtcRs {
        msg: Message,
        setters: Vec<Box<dyn Setter>>,
        integrity: MessageIntegrity,
        rx: Message,
    }

    fn raw(typ: stun::attributes::AttrType, value: &[u8]) -> Box<dyn Setter> {
        Box::new(RawAttribute {
            typ,
            length: value.len() as u16,
            value: value.to_vec(),
        })
    }

    impl WebrtcRs {
        /// Prepares the setters and the key.
        pub fn new() -> WebrtcRs {
            let setters: Vec<Box<dyn Setter>> = vec![
                Box::new(BINDING_REQUEST),
                Box::new(TransactionId(super::TRANSACTION_ID)),
                Box::new(TextAttribute::new(ATTR_USERNAME, super::USERNAME.to_owned())),
                raw(ATTR_PRIORITY, &super::PRIORITY.to_be_bytes()),
                raw(ATTR_ICE_CONTROLLING, &super::TIE_BREAKER.to_be_bytes()),
                raw(ATTR_USE_CANDIDATE, &[]),
                Box::new(MessageIntegrity::new_short_term_integrity(
                    super::PASSWORD.to_owned(),
                )),
                Box::new(FINGERPRINT),
            ];
            WebrtcRs {
                msg: Message::new(),
                setters,
                integrity: MessageIntegrity::new_short_term_integrity(super::PASSWORD.to_owned()),
                rx: Message::new(),
            }
        }

        /// Builds the request in the reused message and returns its bytes.
        pub fn build(&mut self) -> Result<&[u8], Error> {
            self.msg.build(&self.setters)?;
            Ok(&self.msg.raw)
        }

        /// Decodes into the reused message, checks integrity and fingerprint,
        /// reads USERNAME and PRIORITY (as `webrtc-ice`'s `PriorityAttr` does).
        pub fn parse_verify(&mut self, packet: &[u8]) -> Result<super::Parsed<String>, Error> {
            parse_verify(&self.integrity, &mut self.rx, packet)
        }

        /// Builds, then parses and verifies what was built.
        pub fn build_parse_verify(&mut self) -> Result<super::Parsed<String>, Error> {
            self.msg.build(&self.setters)?;
            parse_verify(&self.integrity, &mut self.rx, &self.msg.raw)
        }
    }

    fn parse_verify(
        integrity: &MessageIntegrity,
        m: &mut Message,
        packet: &[u8],
    ) -> Result<super::Parsed<String>, Error> {
        m.unmarshal_binary(packet)?;
        integrity.check(m)?;
        FINGERPRINT.check(m)?;
        let username = TextAttribute::get_from_as(m, ATTR_USERNAME)?.text;
        let v = m.get(ATTR_PRIORITY)?;
        let p: [u8; 4] = v
            .as_slice()
            .try_into()
            .map_err(|_| Error::ErrAttributeSizeInvalid)?;
        Ok((username, u32::from_be_bytes(p)))
    }

    impl Default for WebrtcRs {
        fn default() -> Self {
            WebrtcRs::new()
        }
    }
}

/// webrtc-rs' sans-IO `rtc-stun` (0.21), with its default (`ring`) crypto
/// provider, used like its `rtc-ice` sibling uses it.
pub mod rtc_stun {
    use std::sync::{Arc, LazyLock};

    use rtc_stun::attributes::{
        ATTR_ICE_CONTROLLING, ATTR_PRIORITY, ATTR_USE_CANDIDATE, ATTR_USERNAME, AttrType, RawAttribute,
    };
    use rtc_stun::crypto::{RTCCrypto, RTCCryptoProvider};
    use rtc_stun::fingerprint::FINGERPRINT;
    use rtc_stun::integrity::MessageIntegrity;
    use rtc_stun::message::{BINDING_REQUEST, Message, Setter, TransactionId};
    use rtc_stun::textattrs::TextAttribute;

    static PROVIDER: LazyLock<Arc<dyn RTCCryptoProvider>> = LazyLock::new(|| {
        rtc_stun::crypto::default_provider().unwrap_or_else(|e| panic!("rtc-stun crypto provider: {e}"))
    });

    fn crypto() -> &'static dyn RTCCrypto {
        PROVIDER.crypto()
    }

    /// Errors, as text (`rtc-shared`'s error type is not re-exported).
    pub type Error = String;

    /// Everything the API lets a caller keep, as for webrtc-rs.
    pub struct RtcStun {
        msg: Message,
        setters: Vec<Box<dyn Setter + 'static>>,
        rx: Message,
    }

    fn raw(typ: AttrType, value: &[u8]) -> Box<dyn Setter> {
        Box::new(RawAttribute {
            typ,
            length: value.len() as u16,
            value: value.to_vec(),
        })
    }

    impl RtcStun {
        /// Prepares the setters and the key.
        pub fn new() -> RtcStun {
            let setters: Vec<Box<dyn Setter>> = vec![
                Box::new(BINDING_REQUEST),
                Box::new(TransactionId(super::TRANSACTION_ID)),
                Box::new(TextAttribute::new(ATTR_USERNAME, super::USERNAME.to_owned())),
                raw(ATTR_PRIORITY, &super::PRIORITY.to_be_bytes()),
                raw(ATTR_ICE_CONTROLLING, &super::TIE_BREAKER.to_be_bytes()),
                raw(ATTR_USE_CANDIDATE, &[]),
                Box::new(MessageIntegrity::new_short_term_integrity_with_provider(
                    super::PASSWORD.to_owned(),
                    crypto(),
                )),
                Box::new(FINGERPRINT),
            ];
            RtcStun {
                msg: Message::new(),
                setters,
                rx: Message::new(),
            }
        }

        /// Builds the request in the reused message and returns its bytes.
        pub fn build(&mut self) -> Result<&[u8], Error> {
            self.msg.build(&self.setters).map_err(|e| e.to_string())?;
            Ok(&self.msg.raw)
        }

        /// Decodes into the reused message, checks integrity and fingerprint,
        /// reads USERNAME and PRIORITY.
        pub fn parse_verify(&mut self, packet: &[u8]) -> Result<super::Parsed<String>, Error> {
            parse_verify(&mut self.rx, packet)
        }

        /// Builds, then parses and verifies what was built.
        pub fn build_parse_verify(&mut self) -> Result<super::Parsed<String>, Error> {
            self.msg.build(&self.setters).map_err(|e| e.to_string())?;
            parse_verify(&mut self.rx, &self.msg.raw)
        }
    }

    fn parse_verify(m: &mut Message, packet: &[u8]) -> Result<super::Parsed<String>, Error> {
        m.unmarshal_binary(packet).map_err(|e| e.to_string())?;
        MessageIntegrity::check(m, super::PASSWORD.as_bytes(), crypto()).map_err(|e| e.to_string())?;
        FINGERPRINT.check(m).map_err(|e| e.to_string())?;
        let username = TextAttribute::get_from_as(m, ATTR_USERNAME)
            .map_err(|e| e.to_string())?
            .text;
        let v = m.get(ATTR_PRIORITY).map_err(|e| e.to_string())?;
        let p: [u8; 4] = v
            .as_slice()
            .try_into()
            .map_err(|_| "PRIORITY is not 4 bytes".to_owned())?;
        Ok((username, u32::from_be_bytes(p)))
    }

    impl Default for RtcStun {
        fn default() -> Self {
            RtcStun::new()
        }
    }
}

/// The physical limit: only the cryptography STUN cannot avoid. HMAC-SHA1
/// (RustCrypto `hmac` + `sha1`, keyed once, the keyed state cloned per
/// message) over the 72 bytes MESSAGE-INTEGRITY covers and CRC-32
/// (`crc32fast`) over the 96 bytes FINGERPRINT covers; the attribute bytes
/// come from a template, as if encoding them were free.
pub mod raw_crypto {
    use hmac::{Hmac, Mac};
    use sha1::Sha1;

    /// Header and attributes before MESSAGE-INTEGRITY.
    const SIGNED: usize = 72;
    /// Up to FINGERPRINT.
    const CHECKSUMMED: usize = SIGNED + 24;
    const FINGERPRINT_XOR: u32 = 0x5354_554e;

    /// The keyed HMAC and the request's bytes before MESSAGE-INTEGRITY.
    pub struct RawCrypto {
        mac: Hmac<Sha1>,
        template: [u8; super::REQUEST_LEN],
    }

    impl RawCrypto {
        /// Keys the HMAC; `request` is any correct encoding of the request
        /// (its first 72 bytes and attribute headers are reused).
        pub fn new(request: &[u8]) -> RawCrypto {
            let mut template = [0u8; super::REQUEST_LEN];
            template.copy_from_slice(request);
            RawCrypto {
                mac: <Hmac<Sha1> as Mac>::new_from_slice(super::PASSWORD.as_bytes())
                    .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length")),
                template,
            }
        }

        /// Copies the template, then computes MESSAGE-INTEGRITY and
        /// FINGERPRINT into `buf`.
        pub fn build<'b>(&self, buf: &'b mut [u8; super::REQUEST_LEN]) -> &'b [u8] {
            buf.copy_from_slice(&self.template);
            // While signing, the header's length ends at MESSAGE-INTEGRITY.
            buf[2..4].copy_from_slice(&((CHECKSUMMED - 20) as u16).to_be_bytes());
            let mut mac = self.mac.clone();
            mac.update(&buf[..SIGNED]);
            buf[SIGNED + 4..CHECKSUMMED].copy_from_slice(&mac.finalize().into_bytes());
            buf[2..4].copy_from_slice(&((super::REQUEST_LEN - 20) as u16).to_be_bytes());
            let crc = crc32fast::hash(&buf[..CHECKSUMMED]) ^ FINGERPRINT_XOR;
            buf[CHECKSUMMED + 4..].copy_from_slice(&crc.to_be_bytes());
            buf
        }

        /// Recomputes both over the received bytes and compares.
        pub fn verify(&self, packet: &[u8]) -> bool {
            if packet.len() != super::REQUEST_LEN {
                return false;
            }
            let mut header = [0u8; 20];
            header.copy_from_slice(&packet[..20]);
            header[2..4].copy_from_slice(&((CHECKSUMMED - 20) as u16).to_be_bytes());
            let mut mac = self.mac.clone();
            mac.update(&header);
            mac.update(&packet[20..SIGNED]);
            let mac_ok = mac.verify_slice(&packet[SIGNED + 4..CHECKSUMMED]).is_ok();
            let crc = crc32fast::hash(&packet[..CHECKSUMMED]) ^ FINGERPRINT_XOR;
            let crc_ok = packet[CHECKSUMMED + 4..] == crc.to_be_bytes();
            mac_ok & crc_ok
        }
    }
}
