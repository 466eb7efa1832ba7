//! Our certificate and the peer's fingerprint.
//!
//! WebRTC authenticates DTLS with self-signed certificates whose fingerprints
//! travel in the SDP (`a=fingerprint:sha-256 AB:CD:..`, RFC 8122 section 5,
//! RFC 8842 section 5). Nothing else about a peer's certificate is checked:
//! no chain, no names, no dates.
// Used by the state machines in progress.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Validity of [`DtlsCertificate::generate`]: 2025-01-01 ...
const FIXED_NOT_BEFORE_UNIX: u64 = 1_735_689_600;
/// ... to 2035-01-01.
const FIXED_NOT_AFTER_UNIX: u64 = 2_051_222_400;

use crate::Error;
use crate::crypto::{self, Date, SigningKey};

/// SubjectPublicKeyInfo of an ECDSA P-256 key up to the point (RFC 5480):
/// SEQUENCE { SEQUENCE { id-ecPublicKey, secp256r1 }, BIT STRING { 0, point } }.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// How far back the validity of a generated certificate starts, so a peer
/// whose clock is behind ours still accepts it.
const VALID_BEFORE: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// How long a generated certificate stays valid.
const VALID_AFTER: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Our DTLS identity: a certificate (DER) and its ECDSA P-256 private key.
///
/// Cloning is cheap (the certificate is shared), so one certificate can serve
/// every connection of a server.
#[derive(Clone)]
pub struct DtlsCertificate(Arc<Inner>);

struct Inner {
    der: Vec<u8>,
    key: SigningKey,
    fingerprint: Fingerprint,
}

impl DtlsCertificate {
    /// A fresh self-signed ECDSA P-256 certificate, `CN=rtcwire`, valid
    /// from 2025-01-01 to 2035-01-01.
    ///
    /// Peers check only its fingerprint (browsers look at nothing else).
    /// Like everything in rtcwire it reads no clock; for a window around the
    /// current time, pass it to [`DtlsCertificate::generate_at`].
    pub fn generate() -> Result<Self, Error> {
        // Sans-IO: no clock read here. Peers check the certificate by its
        // fingerprint only (RFC 8122), so a fixed, generous validity window
        // serves; `generate_at` centres one on a time the caller gives.
        let not_before = SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_NOT_BEFORE_UNIX);
        let not_after = SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_NOT_AFTER_UNIX);
        let (der, key) =
            crypto::generate_self_signed("rtcwire", utc_date(not_before)?, utc_date(not_after)?)?;
        Self::from_der(der, &key)
    }

    /// Like [`DtlsCertificate::generate`], valid from 30 days before `now` to a
    /// year after it.
    pub fn generate_at(now: SystemTime) -> Result<Self, Error> {
        let not_before = now
            .checked_sub(VALID_BEFORE)
            .ok_or(Error::Certificate("clock out of range"))?;
        let not_after = now
            .checked_add(VALID_AFTER)
            .ok_or(Error::Certificate("clock out of range"))?;
        let (der, key) =
            crypto::generate_self_signed("rtcwire", utc_date(not_before)?, utc_date(not_after)?)?;
        Self::from_der(der, &key)
    }

    /// An existing certificate (DER) and its private key (PKCS#8 DER, as
    /// `openssl pkcs8 -topk8 -nocrypt -outform der` writes it). Only ECDSA
    /// P-256 keys for now; the key must be the certificate's.
    pub fn from_der(certificate_der: Vec<u8>, private_key_pkcs8_der: &[u8]) -> Result<Self, Error> {
        let key = SigningKey::from_pkcs8(private_key_pkcs8_der)?;
        let spki = crypto::subject_public_key_info(&certificate_der)
            .ok_or(Error::Certificate("malformed certificate"))?;
        let matches = spki
            .strip_prefix(&P256_SPKI_PREFIX[..])
            .is_some_and(|point| point == key.public_key());
        if !matches {
            return Err(Error::Certificate("private key does not match the certificate"));
        }
        let fingerprint = Fingerprint::of(FingerprintAlgorithm::Sha256, &certificate_der);
        Ok(DtlsCertificate(Arc::new(Inner {
            der: certificate_der,
            key,
            fingerprint,
        })))
    }

    /// The certificate, DER, as it goes into the Certificate message.
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// The SHA-256 fingerprint, for `a=fingerprint` in our SDP.
    pub fn fingerprint(&self) -> Fingerprint {
        self.0.fingerprint.clone()
    }

    /// Signs a handshake message (ServerKeyExchange params or the
    /// CertificateVerify transcript) with [`DtlsCertificate::signature_scheme`].
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.0.key.sign(message)
    }

    /// `ecdsa_secp256r1_sha256` (0x0403), the only scheme our keys sign with.
    pub(crate) fn signature_scheme(&self) -> u16 {
        crypto::ECDSA_SECP256R1_SHA256
    }
}

impl fmt::Debug for DtlsCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DtlsCertificate")
            .field("fingerprint", &self.0.fingerprint)
            .finish_non_exhaustive()
    }
}

/// A hash function for certificate fingerprints (RFC 8122 section 5, the
/// IANA "Hash Function Textual Names" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FingerprintAlgorithm {
    /// `sha-256`, what every browser sends.
    Sha256,
    /// `sha-384`.
    Sha384,
    /// `sha-512`.
    Sha512,
}

impl FingerprintAlgorithm {
    /// The textual name used in SDP, e.g. `sha-256`.
    pub fn hash_function(self) -> &'static str {
        match self {
            FingerprintAlgorithm::Sha256 => "sha-256",
            FingerprintAlgorithm::Sha384 => "sha-384",
            FingerprintAlgorithm::Sha512 => "sha-512",
        }
    }

    /// The algorithm named `name` in SDP (case-insensitive, RFC 8122 section
    /// 5), if we support it.
    pub fn from_hash_function(name: &str) -> Option<Self> {
        [
            FingerprintAlgorithm::Sha256,
            FingerprintAlgorithm::Sha384,
            FingerprintAlgorithm::Sha512,
        ]
        .into_iter()
        .find(|algorithm| algorithm.hash_function().eq_ignore_ascii_case(name))
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            FingerprintAlgorithm::Sha256 => 32,
            FingerprintAlgorithm::Sha384 => 48,
            FingerprintAlgorithm::Sha512 => 64,
        }
    }
}

/// A certificate fingerprint: a hash of the certificate's DER encoding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// The hash function.
    pub algorithm: FingerprintAlgorithm,
    /// The digest.
    pub bytes: Vec<u8>,
}

impl Fingerprint {
    /// The fingerprint of a DER certificate.
    pub fn of(algorithm: FingerprintAlgorithm, certificate_der: &[u8]) -> Self {
        Fingerprint {
            algorithm,
            bytes: crypto::fingerprint_digest(algorithm, certificate_der),
        }
    }

    /// Parses the two halves of an `a=fingerprint:` attribute: the hash
    /// function (`sha-256`) and the value (`AB:CD:..`), both
    /// case-insensitive. The value must have exactly the hash's length.
    pub fn parse_sdp(hash_function: &str, value: &str) -> Result<Self, Error> {
        let algorithm = FingerprintAlgorithm::from_hash_function(hash_function.trim())
            .ok_or(Error::Certificate("unsupported fingerprint hash function"))?;
        let bytes = value
            .trim()
            .split(':')
            .map(|pair| match pair.as_bytes() {
                &[high, low] => Some((hex_digit(high)? << 4) | hex_digit(low)?),
                _ => None,
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or(Error::Certificate("malformed fingerprint value"))?;
        if bytes.len() != algorithm.output_len() {
            return Err(Error::Certificate(
                "fingerprint length does not match its hash function",
            ));
        }
        Ok(Fingerprint { algorithm, bytes })
    }

    /// The value as SDP writes it: upper-case hex bytes separated by colons.
    pub fn to_sdp_value(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = String::with_capacity(self.bytes.len() * 3);
        for (i, byte) in self.bytes.iter().enumerate() {
            if i > 0 {
                out.push(':');
            }
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        out
    }

    /// The hash function's SDP name, e.g. `sha-256`.
    pub fn hash_function(&self) -> &'static str {
        self.algorithm.hash_function()
    }
}

/// `sha-256 AB:CD:..`, the value of an `a=fingerprint:` attribute.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.hash_function(), self.to_sdp_value())
    }
}

/// Parses `sha-256 AB:CD:..`, the value of an `a=fingerprint:` attribute.
impl FromStr for Fingerprint {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let (hash_function, value) = s
            .trim()
            .split_once(' ')
            .ok_or(Error::Certificate("malformed fingerprint attribute"))?;
        Fingerprint::parse_sdp(hash_function, value)
    }
}

/// Checks the peer's certificate against the fingerprints from its SDP
/// (RFC 8122 section 5, RFC 8842 section 5): it is accepted if any expected
/// fingerprint matches. Otherwise the error names the first expected
/// fingerprint and the certificate's SHA-256 fingerprint. Digests are
/// compared in constant time.
pub fn verify_fingerprint(certificate_der: &[u8], expected: &[Fingerprint]) -> Result<(), Error> {
    let mut matched = false;
    for fingerprint in expected {
        let actual = crypto::fingerprint_digest(fingerprint.algorithm, certificate_der);
        matched |= crypto::constant_time_eq(&actual, &fingerprint.bytes);
    }
    if matched {
        return Ok(());
    }
    Err(Error::FingerprintMismatch {
        expected: expected
            .first()
            .map_or_else(|| "(none)".to_owned(), Fingerprint::to_string),
        actual: Fingerprint::of(FingerprintAlgorithm::Sha256, certificate_der).to_string(),
    })
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The UTC calendar date of `time`.
fn utc_date(time: SystemTime) -> Result<Date, Error> {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| Error::Certificate("clock before 1970"))?
        .as_secs();
    let days = i64::try_from(seconds / 86_400).map_err(|_| Error::Certificate("clock out of range"))?;
    let (year, month, day) = civil_from_days(days);
    // X.509 dates are UTCTime up to 2049 and GeneralizedTime after; four
    // digits of year is all either can hold.
    let year = i32::try_from(year)
        .ok()
        .filter(|year| (1970..=9999).contains(year))
        .ok_or(Error::Certificate("clock out of range"))?;
    Ok(Date { year, month, day })
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`), as (year, month 1..=12, day 1..=31).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction: 1..=12 and 1..=31.
    (year, month as u8, day as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificates_sign_and_verify_through_webpki() {
        let certificate = DtlsCertificate::generate().unwrap();
        assert_eq!(certificate.signature_scheme(), crypto::ECDSA_SECP256R1_SHA256);
        let message = b"client_random || server_random || ServerECDHParams";
        let signature = certificate.sign(message).unwrap();
        assert_eq!(
            crypto::verify_signature(
                certificate.der(),
                certificate.signature_scheme(),
                message,
                &signature
            ),
            Ok(())
        );
        assert_eq!(
            crypto::verify_signature(
                certificate.der(),
                certificate.signature_scheme(),
                b"other",
                &signature
            ),
            Err(Error::BadSignature)
        );
        // Another certificate's key does not verify it.
        let other = DtlsCertificate::generate().unwrap();
        assert_eq!(
            crypto::verify_signature(other.der(), other.signature_scheme(), message, &signature),
            Err(Error::BadSignature)
        );
        // webpki parses what rcgen writes (no fallback needed).
        let der = rustls_pki_types::CertificateDer::from(certificate.der());
        assert!(webpki::EndEntityCert::try_from(&der).is_ok());
    }

    #[test]
    fn generated_certificate_validity_is_30_days_back_to_a_year_ahead() {
        // 2024-01-01T12:00:00Z.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200 + 12 * 3600);
        let certificate = DtlsCertificate::generate_at(now).unwrap();
        let der = certificate.der();
        // UTCTime (tag 23, 13 bytes) values: 2023-12-02 and 2024-12-31
        // (2024 is a leap year), at midnight.
        let contains = |needle: &[u8]| der.windows(needle.len()).any(|w| w == needle);
        assert!(contains(b"\x17\x0d231202000000Z"), "not_before");
        assert!(contains(b"\x17\x0d241231000000Z"), "not_after");
        assert!(contains(b"rtcwire"), "common name");
        assert!(DtlsCertificate::generate_at(SystemTime::UNIX_EPOCH).is_err());
    }

    #[test]
    fn serial_numbers_are_random() {
        let a = DtlsCertificate::generate().unwrap();
        let b = DtlsCertificate::generate().unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.der(), b.der());
    }

    #[test]
    fn civil_from_days_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
    }

    #[test]
    fn clock_out_of_range_is_an_error() {
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(300_000 * 365 * 86_400);
        assert!(utc_date(far).is_err());
        assert!(DtlsCertificate::generate_at(far).is_err());
    }
}
