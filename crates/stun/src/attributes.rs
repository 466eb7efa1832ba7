//! STUN attributes: types, typed values, decoding and encoding
//! (RFC 8489 section 14, RFC 8445 section 16.1, RFC 8656 section 18).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::Error;
use crate::message::{MAGIC_COOKIE, TransactionId};

/// An attribute type number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributeType(u16);

macro_rules! attribute_types {
    ($( $(#[$doc:meta])* $name:ident = $value:expr, $text:expr; )*) => {
        impl AttributeType {
            $( $(#[$doc])* pub const $name: AttributeType = AttributeType($value); )*

            /// The attribute's name as the RFCs write it, if this crate knows it.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }
        }
    };
}

attribute_types! {
    /// MAPPED-ADDRESS (RFC 8489).
    MAPPED_ADDRESS = 0x0001, "MAPPED-ADDRESS";
    /// USERNAME (RFC 8489).
    USERNAME = 0x0006, "USERNAME";
    /// MESSAGE-INTEGRITY, HMAC-SHA1 (RFC 8489).
    MESSAGE_INTEGRITY = 0x0008, "MESSAGE-INTEGRITY";
    /// ERROR-CODE (RFC 8489).
    ERROR_CODE = 0x0009, "ERROR-CODE";
    /// UNKNOWN-ATTRIBUTES (RFC 8489).
    UNKNOWN_ATTRIBUTES = 0x000A, "UNKNOWN-ATTRIBUTES";
    /// CHANNEL-NUMBER (RFC 8656).
    CHANNEL_NUMBER = 0x000C, "CHANNEL-NUMBER";
    /// LIFETIME (RFC 8656).
    LIFETIME = 0x000D, "LIFETIME";
    /// XOR-PEER-ADDRESS (RFC 8656).
    XOR_PEER_ADDRESS = 0x0012, "XOR-PEER-ADDRESS";
    /// DATA (RFC 8656).
    DATA = 0x0013, "DATA";
    /// REALM (RFC 8489).
    REALM = 0x0014, "REALM";
    /// NONCE (RFC 8489).
    NONCE = 0x0015, "NONCE";
    /// XOR-RELAYED-ADDRESS (RFC 8656).
    XOR_RELAYED_ADDRESS = 0x0016, "XOR-RELAYED-ADDRESS";
    /// REQUESTED-ADDRESS-FAMILY (RFC 8656).
    REQUESTED_ADDRESS_FAMILY = 0x0017, "REQUESTED-ADDRESS-FAMILY";
    /// EVEN-PORT (RFC 8656).
    EVEN_PORT = 0x0018, "EVEN-PORT";
    /// REQUESTED-TRANSPORT (RFC 8656).
    REQUESTED_TRANSPORT = 0x0019, "REQUESTED-TRANSPORT";
    /// DONT-FRAGMENT (RFC 8656).
    DONT_FRAGMENT = 0x001A, "DONT-FRAGMENT";
    /// MESSAGE-INTEGRITY-SHA256 (RFC 8489).
    MESSAGE_INTEGRITY_SHA256 = 0x001C, "MESSAGE-INTEGRITY-SHA256";
    /// PASSWORD-ALGORITHM (RFC 8489).
    PASSWORD_ALGORITHM = 0x001D, "PASSWORD-ALGORITHM";
    /// USERHASH (RFC 8489).
    USERHASH = 0x001E, "USERHASH";
    /// XOR-MAPPED-ADDRESS (RFC 8489).
    XOR_MAPPED_ADDRESS = 0x0020, "XOR-MAPPED-ADDRESS";
    /// RESERVATION-TOKEN (RFC 8656).
    RESERVATION_TOKEN = 0x0022, "RESERVATION-TOKEN";
    /// PRIORITY (RFC 8445).
    PRIORITY = 0x0024, "PRIORITY";
    /// USE-CANDIDATE (RFC 8445).
    USE_CANDIDATE = 0x0025, "USE-CANDIDATE";
    /// ADDITIONAL-ADDRESS-FAMILY (RFC 8656).
    ADDITIONAL_ADDRESS_FAMILY = 0x8000, "ADDITIONAL-ADDRESS-FAMILY";
    /// ADDRESS-ERROR-CODE (RFC 8656).
    ADDRESS_ERROR_CODE = 0x8001, "ADDRESS-ERROR-CODE";
    /// PASSWORD-ALGORITHMS (RFC 8489).
    PASSWORD_ALGORITHMS = 0x8002, "PASSWORD-ALGORITHMS";
    /// ALTERNATE-DOMAIN (RFC 8489).
    ALTERNATE_DOMAIN = 0x8003, "ALTERNATE-DOMAIN";
    /// ICMP (RFC 8656).
    ICMP = 0x8004, "ICMP";
    /// SOFTWARE (RFC 8489).
    SOFTWARE = 0x8022, "SOFTWARE";
    /// ALTERNATE-SERVER (RFC 8489).
    ALTERNATE_SERVER = 0x8023, "ALTERNATE-SERVER";
    /// FINGERPRINT (RFC 8489).
    FINGERPRINT = 0x8028, "FINGERPRINT";
    /// ICE-CONTROLLED (RFC 8445).
    ICE_CONTROLLED = 0x8029, "ICE-CONTROLLED";
    /// ICE-CONTROLLING (RFC 8445).
    ICE_CONTROLLING = 0x802A, "ICE-CONTROLLING";
}

impl AttributeType {
    /// An attribute type from its number.
    pub const fn new(value: u16) -> AttributeType {
        AttributeType(value)
    }

    /// The number.
    pub const fn value(self) -> u16 {
        self.0
    }

    /// Types below 0x8000 must be understood by the receiver or the request
    /// rejected (RFC 8489 section 14).
    pub const fn is_comprehension_required(self) -> bool {
        self.0 < 0x8000
    }

    /// Whether this crate decodes the attribute into a typed value.
    pub const fn is_known(self) -> bool {
        self.name().is_some()
    }
}

impl std::fmt::Debug for AttributeType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "AttributeType({:#06x})", self.0),
        }
    }
}

/// Address family of REQUESTED-ADDRESS-FAMILY and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// IPv4, 0x01.
    V4,
    /// IPv6, 0x02.
    V6,
}

impl AddressFamily {
    fn from_u8(value: u8) -> Option<AddressFamily> {
        match value {
            0x01 => Some(AddressFamily::V4),
            0x02 => Some(AddressFamily::V6),
            _ => None,
        }
    }

    const fn to_u8(self) -> u8 {
        match self {
            AddressFamily::V4 => 0x01,
            AddressFamily::V6 => 0x02,
        }
    }
}

/// A password algorithm number (RFC 8489 section 18.5).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasswordAlgorithmId(pub u16);

impl PasswordAlgorithmId {
    /// MD5, the RFC 5389 long-term key.
    pub const MD5: PasswordAlgorithmId = PasswordAlgorithmId(0x0001);
    /// SHA-256 (RFC 8489).
    pub const SHA256: PasswordAlgorithmId = PasswordAlgorithmId(0x0002);
}

impl std::fmt::Debug for PasswordAlgorithmId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            PasswordAlgorithmId::MD5 => f.write_str("MD5"),
            PasswordAlgorithmId::SHA256 => f.write_str("SHA-256"),
            PasswordAlgorithmId(other) => write!(f, "PasswordAlgorithmId({other:#06x})"),
        }
    }
}

/// One password algorithm with its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordAlgorithm<'a> {
    /// Which algorithm.
    pub algorithm: PasswordAlgorithmId,
    /// Its parameters (empty for MD5 and SHA-256).
    pub parameters: &'a [u8],
}

/// The list in PASSWORD-ALGORITHMS, borrowed from the message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PasswordAlgorithms<'a>(&'a [u8]);

impl<'a> PasswordAlgorithms<'a> {
    /// Wraps an encoded list; checks it.
    pub fn new(encoded: &'a [u8]) -> Result<Self, Error> {
        let mut rest = encoded;
        while !rest.is_empty() {
            let (_, next) = split_algorithm(rest).ok_or(Error::InvalidAttribute {
                attr_type: AttributeType::PASSWORD_ALGORITHMS.0,
                reason: "algorithm entry overruns the attribute",
            })?;
            rest = next;
        }
        Ok(PasswordAlgorithms(encoded))
    }

    /// The algorithms, in the server's order of preference.
    pub fn iter(&self) -> impl Iterator<Item = PasswordAlgorithm<'a>> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let (alg, next) = split_algorithm(rest)?;
            rest = next;
            Some(alg)
        })
    }

    /// The encoded list.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl std::fmt::Debug for PasswordAlgorithms<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

fn split_algorithm(buf: &[u8]) -> Option<(PasswordAlgorithm<'_>, &[u8])> {
    let algorithm = PasswordAlgorithmId(u16::from_be_bytes([*buf.first()?, *buf.get(1)?]));
    let len = usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]));
    let parameters = buf.get(4..4 + len)?;
    let padded = 4 + len + crate::message::padding(len);
    let rest = buf.get(padded..)?;
    Some((
        PasswordAlgorithm {
            algorithm,
            parameters,
        },
        rest,
    ))
}

/// The list in UNKNOWN-ATTRIBUTES, borrowed from the message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UnknownAttributes<'a>(&'a [u8]);

impl<'a> UnknownAttributes<'a> {
    /// The attribute types listed.
    pub fn iter(&self) -> impl Iterator<Item = AttributeType> + 'a {
        self.0
            .chunks_exact(2)
            .map(|c| AttributeType(u16::from_be_bytes([c[0], c[1]])))
    }

    /// The encoded list.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl std::fmt::Debug for UnknownAttributes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// An ERROR-CODE value: a number from 300 to 699 and a reason phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode<'a> {
    /// The code, e.g. 401.
    pub code: u16,
    /// The reason phrase.
    pub reason: &'a str,
}

impl ErrorCode<'static> {
    /// 300 Try Alternate.
    pub const TRY_ALTERNATE: ErrorCode<'static> = ErrorCode::new(300, "Try Alternate");
    /// 400 Bad Request.
    pub const BAD_REQUEST: ErrorCode<'static> = ErrorCode::new(400, "Bad Request");
    /// 401 Unauthenticated.
    pub const UNAUTHENTICATED: ErrorCode<'static> = ErrorCode::new(401, "Unauthenticated");
    /// 403 Forbidden.
    pub const FORBIDDEN: ErrorCode<'static> = ErrorCode::new(403, "Forbidden");
    /// 420 Unknown Attribute.
    pub const UNKNOWN_ATTRIBUTE: ErrorCode<'static> = ErrorCode::new(420, "Unknown Attribute");
    /// 437 Allocation Mismatch (RFC 8656).
    pub const ALLOCATION_MISMATCH: ErrorCode<'static> = ErrorCode::new(437, "Allocation Mismatch");
    /// 438 Stale Nonce.
    pub const STALE_NONCE: ErrorCode<'static> = ErrorCode::new(438, "Stale Nonce");
    /// 440 Address Family not Supported (RFC 8656).
    pub const ADDRESS_FAMILY_NOT_SUPPORTED: ErrorCode<'static> =
        ErrorCode::new(440, "Address Family not Supported");
    /// 441 Wrong Credentials (RFC 8656).
    pub const WRONG_CREDENTIALS: ErrorCode<'static> = ErrorCode::new(441, "Wrong Credentials");
    /// 442 Unsupported Transport Protocol (RFC 8656).
    pub const UNSUPPORTED_TRANSPORT_PROTOCOL: ErrorCode<'static> =
        ErrorCode::new(442, "Unsupported Transport Protocol");
    /// 443 Peer Address Family Mismatch (RFC 8656).
    pub const PEER_ADDRESS_FAMILY_MISMATCH: ErrorCode<'static> =
        ErrorCode::new(443, "Peer Address Family Mismatch");
    /// 486 Allocation Quota Reached (RFC 8656).
    pub const ALLOCATION_QUOTA_REACHED: ErrorCode<'static> = ErrorCode::new(486, "Allocation Quota Reached");
    /// 487 Role Conflict (RFC 8445).
    pub const ROLE_CONFLICT: ErrorCode<'static> = ErrorCode::new(487, "Role Conflict");
    /// 500 Server Error.
    pub const SERVER_ERROR: ErrorCode<'static> = ErrorCode::new(500, "Server Error");
    /// 508 Insufficient Capacity (RFC 8656).
    pub const INSUFFICIENT_CAPACITY: ErrorCode<'static> = ErrorCode::new(508, "Insufficient Capacity");
}

impl<'a> ErrorCode<'a> {
    /// An error code with a reason phrase.
    pub const fn new(code: u16, reason: &'a str) -> ErrorCode<'a> {
        ErrorCode { code, reason }
    }
}

/// A decoded attribute. Strings and byte strings borrow from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute<'a> {
    /// MAPPED-ADDRESS: the reflexive address, without XOR (RFC 3489 servers).
    MappedAddress(SocketAddr),
    /// XOR-MAPPED-ADDRESS: the reflexive transport address.
    XorMappedAddress(SocketAddr),
    /// USERNAME, at most 512 bytes of UTF-8.
    Username(&'a str),
    /// USERHASH: SHA-256 of username and realm.
    UserHash(&'a [u8; 32]),
    /// MESSAGE-INTEGRITY: HMAC-SHA1 of the message.
    MessageIntegrity(&'a [u8; 20]),
    /// MESSAGE-INTEGRITY-SHA256: HMAC-SHA256 of the message, 16 to 32 bytes.
    MessageIntegritySha256(&'a [u8]),
    /// FINGERPRINT: CRC-32 of the message XOR 0x5354554e.
    Fingerprint(u32),
    /// ERROR-CODE.
    ErrorCode(ErrorCode<'a>),
    /// REALM.
    Realm(&'a str),
    /// NONCE.
    Nonce(&'a str),
    /// PASSWORD-ALGORITHMS.
    PasswordAlgorithms(PasswordAlgorithms<'a>),
    /// PASSWORD-ALGORITHM.
    PasswordAlgorithm(PasswordAlgorithm<'a>),
    /// UNKNOWN-ATTRIBUTES.
    UnknownAttributes(UnknownAttributes<'a>),
    /// SOFTWARE.
    Software(&'a str),
    /// ALTERNATE-SERVER.
    AlternateServer(SocketAddr),
    /// ALTERNATE-DOMAIN.
    AlternateDomain(&'a str),
    /// PRIORITY (ICE).
    Priority(u32),
    /// USE-CANDIDATE (ICE), no value.
    UseCandidate,
    /// ICE-CONTROLLED with the agent's tie-breaker.
    IceControlled(u64),
    /// ICE-CONTROLLING with the agent's tie-breaker.
    IceControlling(u64),
    /// CHANNEL-NUMBER (TURN).
    ChannelNumber(u16),
    /// LIFETIME in seconds (TURN).
    Lifetime(u32),
    /// XOR-PEER-ADDRESS (TURN).
    XorPeerAddress(SocketAddr),
    /// DATA (TURN).
    Data(&'a [u8]),
    /// XOR-RELAYED-ADDRESS (TURN).
    XorRelayedAddress(SocketAddr),
    /// REQUESTED-ADDRESS-FAMILY (TURN).
    RequestedAddressFamily(AddressFamily),
    /// EVEN-PORT (TURN): whether the next port should be reserved too.
    EvenPort(bool),
    /// REQUESTED-TRANSPORT (TURN): an IP protocol number, 17 for UDP.
    RequestedTransport(u8),
    /// DONT-FRAGMENT (TURN), no value.
    DontFragment,
    /// RESERVATION-TOKEN (TURN).
    ReservationToken(u64),
    /// ADDITIONAL-ADDRESS-FAMILY (TURN): always IPv6 in practice.
    AdditionalAddressFamily(AddressFamily),
    /// ADDRESS-ERROR-CODE (TURN).
    AddressErrorCode {
        /// The family that failed.
        family: AddressFamily,
        /// Why.
        error: ErrorCode<'a>,
    },
    /// ICMP (TURN): an ICMP error the relay received.
    Icmp {
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
        /// Type-specific error data.
        error_data: u32,
    },
    /// An attribute this crate does not decode, kept verbatim (Chrome's
    /// GOOG-NETWORK-INFO 0xC057, for example).
    Unknown {
        /// Its type.
        attr_type: AttributeType,
        /// Its value.
        value: &'a [u8],
    },
}

/// Longest USERNAME (RFC 8489 section 14.3: less than 513 bytes).
pub const MAX_USERNAME_LEN: usize = 512;
/// Longest REALM, NONCE, SOFTWARE or reason phrase in bytes: RFC 8489 allows
/// fewer than 128 characters and caps the encoding at 763 bytes.
pub const MAX_TEXT_LEN: usize = 763;

const fn invalid(attr_type: AttributeType, reason: &'static str) -> Error {
    Error::InvalidAttribute {
        attr_type: attr_type.0,
        reason,
    }
}

fn text(attr_type: AttributeType, value: &[u8], max: usize) -> Result<&str, Error> {
    if value.len() > max {
        return Err(invalid(attr_type, "too long"));
    }
    std::str::from_utf8(value).map_err(|_| invalid(attr_type, "not UTF-8"))
}

fn fixed<const N: usize>(attr_type: AttributeType, value: &[u8]) -> Result<[u8; N], Error> {
    value.try_into().map_err(|_| invalid(attr_type, "wrong length"))
}

fn error_code(attr_type: AttributeType, value: &[u8]) -> Result<ErrorCode<'_>, Error> {
    if value.len() < 4 {
        return Err(invalid(attr_type, "shorter than 4 bytes"));
    }
    let class = u16::from(value[2] & 0x07);
    let number = u16::from(value[3]);
    if !(3..=6).contains(&class) || number > 99 {
        return Err(invalid(attr_type, "class must be 3 to 6 and number 0 to 99"));
    }
    let reason = text(attr_type, &value[4..], MAX_TEXT_LEN)?;
    Ok(ErrorCode {
        code: class * 100 + number,
        reason,
    })
}

/// Decodes an address attribute; `xor` applies RFC 8489 section 14.2.
fn address(attr_type: AttributeType, value: &[u8], xor: Option<&TransactionId>) -> Result<SocketAddr, Error> {
    if value.len() < 4 {
        return Err(invalid(attr_type, "shorter than 4 bytes"));
    }
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let mut port = u16::from_be_bytes([value[2], value[3]]);
    if xor.is_some() {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    let ip = match (value[1], value.len()) {
        (0x01, 8) => {
            let mut octets: [u8; 4] = [value[4], value[5], value[6], value[7]];
            if xor.is_some() {
                for (o, k) in octets.iter_mut().zip(cookie) {
                    *o ^= k;
                }
            }
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        (0x02, 20) => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&value[4..20]);
            if let Some(tid) = xor {
                let key = cookie.iter().chain(tid.as_bytes());
                for (o, k) in octets.iter_mut().zip(key) {
                    *o ^= k;
                }
            }
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        (0x01 | 0x02, _) => return Err(invalid(attr_type, "length does not match the family")),
        _ => return Err(invalid(attr_type, "unknown address family")),
    };
    Ok(SocketAddr::new(ip, port))
}

fn family_attr(attr_type: AttributeType, value: &[u8]) -> Result<AddressFamily, Error> {
    let bytes: [u8; 4] = fixed(attr_type, value)?;
    AddressFamily::from_u8(bytes[0]).ok_or(invalid(attr_type, "unknown address family"))
}

impl<'a> Attribute<'a> {
    /// Decodes one attribute value. `transaction_id` is the message's, used
    /// by the XOR-ed address attributes.
    pub fn decode(
        attr_type: AttributeType,
        value: &'a [u8],
        transaction_id: &TransactionId,
    ) -> Result<Attribute<'a>, Error> {
        let t = attr_type;
        Ok(match t {
            AttributeType::MAPPED_ADDRESS => Attribute::MappedAddress(address(t, value, None)?),
            AttributeType::XOR_MAPPED_ADDRESS => {
                Attribute::XorMappedAddress(address(t, value, Some(transaction_id))?)
            }
            AttributeType::USERNAME => Attribute::Username(text(t, value, MAX_USERNAME_LEN)?),
            AttributeType::USERHASH => {
                Attribute::UserHash(value.try_into().map_err(|_| invalid(t, "must be 32 bytes"))?)
            }
            AttributeType::MESSAGE_INTEGRITY => {
                Attribute::MessageIntegrity(value.try_into().map_err(|_| invalid(t, "must be 20 bytes"))?)
            }
            AttributeType::MESSAGE_INTEGRITY_SHA256 => {
                if !(16..=32).contains(&value.len()) || value.len() % 4 != 0 {
                    return Err(invalid(t, "must be 16 to 32 bytes, a multiple of 4"));
                }
                Attribute::MessageIntegritySha256(value)
            }
            AttributeType::FINGERPRINT => Attribute::Fingerprint(u32::from_be_bytes(fixed(t, value)?)),
            AttributeType::ERROR_CODE => Attribute::ErrorCode(error_code(t, value)?),
            AttributeType::REALM => Attribute::Realm(text(t, value, MAX_TEXT_LEN)?),
            AttributeType::NONCE => Attribute::Nonce(text(t, value, MAX_TEXT_LEN)?),
            AttributeType::PASSWORD_ALGORITHMS => {
                Attribute::PasswordAlgorithms(PasswordAlgorithms::new(value)?)
            }
            AttributeType::PASSWORD_ALGORITHM => {
                let (alg, rest) =
                    split_algorithm(value).ok_or(invalid(t, "parameters overrun the attribute"))?;
                if !rest.is_empty() {
                    return Err(invalid(t, "trailing bytes"));
                }
                Attribute::PasswordAlgorithm(alg)
            }
            AttributeType::UNKNOWN_ATTRIBUTES => {
                if value.len() % 2 != 0 {
                    return Err(invalid(t, "odd length"));
                }
                Attribute::UnknownAttributes(UnknownAttributes(value))
            }
            AttributeType::SOFTWARE => Attribute::Software(text(t, value, MAX_TEXT_LEN)?),
            AttributeType::ALTERNATE_SERVER => Attribute::AlternateServer(address(t, value, None)?),
            AttributeType::ALTERNATE_DOMAIN => Attribute::AlternateDomain(text(t, value, 255)?),
            AttributeType::PRIORITY => Attribute::Priority(u32::from_be_bytes(fixed(t, value)?)),
            AttributeType::USE_CANDIDATE => {
                fixed::<0>(t, value)?;
                Attribute::UseCandidate
            }
            AttributeType::ICE_CONTROLLED => Attribute::IceControlled(u64::from_be_bytes(fixed(t, value)?)),
            AttributeType::ICE_CONTROLLING => Attribute::IceControlling(u64::from_be_bytes(fixed(t, value)?)),
            AttributeType::CHANNEL_NUMBER => {
                let b: [u8; 4] = fixed(t, value)?;
                Attribute::ChannelNumber(u16::from_be_bytes([b[0], b[1]]))
            }
            AttributeType::LIFETIME => Attribute::Lifetime(u32::from_be_bytes(fixed(t, value)?)),
            AttributeType::XOR_PEER_ADDRESS => {
                Attribute::XorPeerAddress(address(t, value, Some(transaction_id))?)
            }
            AttributeType::DATA => Attribute::Data(value),
            AttributeType::XOR_RELAYED_ADDRESS => {
                Attribute::XorRelayedAddress(address(t, value, Some(transaction_id))?)
            }
            AttributeType::REQUESTED_ADDRESS_FAMILY => {
                Attribute::RequestedAddressFamily(family_attr(t, value)?)
            }
            AttributeType::EVEN_PORT => {
                let [b]: [u8; 1] = fixed(t, value)?;
                Attribute::EvenPort(b & 0x80 != 0)
            }
            AttributeType::REQUESTED_TRANSPORT => {
                let b: [u8; 4] = fixed(t, value)?;
                Attribute::RequestedTransport(b[0])
            }
            AttributeType::DONT_FRAGMENT => {
                fixed::<0>(t, value)?;
                Attribute::DontFragment
            }
            AttributeType::RESERVATION_TOKEN => {
                Attribute::ReservationToken(u64::from_be_bytes(fixed(t, value)?))
            }
            AttributeType::ADDITIONAL_ADDRESS_FAMILY => {
                Attribute::AdditionalAddressFamily(family_attr(t, value)?)
            }
            AttributeType::ADDRESS_ERROR_CODE => {
                let family = value
                    .first()
                    .and_then(|b| AddressFamily::from_u8(*b))
                    .ok_or(invalid(t, "unknown address family"))?;
                Attribute::AddressErrorCode {
                    family,
                    error: error_code(t, value)?,
                }
            }
            AttributeType::ICMP => {
                let b: [u8; 8] = fixed(t, value)?;
                Attribute::Icmp {
                    icmp_type: b[2],
                    code: b[3],
                    error_data: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                }
            }
            _ => Attribute::Unknown { attr_type: t, value },
        })
    }

    /// The attribute's type.
    pub fn attr_type(&self) -> AttributeType {
        match self {
            Attribute::MappedAddress(_) => AttributeType::MAPPED_ADDRESS,
            Attribute::XorMappedAddress(_) => AttributeType::XOR_MAPPED_ADDRESS,
            Attribute::Username(_) => AttributeType::USERNAME,
            Attribute::UserHash(_) => AttributeType::USERHASH,
            Attribute::MessageIntegrity(_) => AttributeType::MESSAGE_INTEGRITY,
            Attribute::MessageIntegritySha256(_) => AttributeType::MESSAGE_INTEGRITY_SHA256,
            Attribute::Fingerprint(_) => AttributeType::FINGERPRINT,
            Attribute::ErrorCode(_) => AttributeType::ERROR_CODE,
            Attribute::Realm(_) => AttributeType::REALM,
            Attribute::Nonce(_) => AttributeType::NONCE,
            Attribute::PasswordAlgorithms(_) => AttributeType::PASSWORD_ALGORITHMS,
            Attribute::PasswordAlgorithm(_) => AttributeType::PASSWORD_ALGORITHM,
            Attribute::UnknownAttributes(_) => AttributeType::UNKNOWN_ATTRIBUTES,
            Attribute::Software(_) => AttributeType::SOFTWARE,
            Attribute::AlternateServer(_) => AttributeType::ALTERNATE_SERVER,
            Attribute::AlternateDomain(_) => AttributeType::ALTERNATE_DOMAIN,
            Attribute::Priority(_) => AttributeType::PRIORITY,
            Attribute::UseCandidate => AttributeType::USE_CANDIDATE,
            Attribute::IceControlled(_) => AttributeType::ICE_CONTROLLED,
            Attribute::IceControlling(_) => AttributeType::ICE_CONTROLLING,
            Attribute::ChannelNumber(_) => AttributeType::CHANNEL_NUMBER,
            Attribute::Lifetime(_) => AttributeType::LIFETIME,
            Attribute::XorPeerAddress(_) => AttributeType::XOR_PEER_ADDRESS,
            Attribute::Data(_) => AttributeType::DATA,
            Attribute::XorRelayedAddress(_) => AttributeType::XOR_RELAYED_ADDRESS,
            Attribute::RequestedAddressFamily(_) => AttributeType::REQUESTED_ADDRESS_FAMILY,
            Attribute::EvenPort(_) => AttributeType::EVEN_PORT,
            Attribute::RequestedTransport(_) => AttributeType::REQUESTED_TRANSPORT,
            Attribute::DontFragment => AttributeType::DONT_FRAGMENT,
            Attribute::ReservationToken(_) => AttributeType::RESERVATION_TOKEN,
            Attribute::AdditionalAddressFamily(_) => AttributeType::ADDITIONAL_ADDRESS_FAMILY,
            Attribute::AddressErrorCode { .. } => AttributeType::ADDRESS_ERROR_CODE,
            Attribute::Icmp { .. } => AttributeType::ICMP,
            Attribute::Unknown { attr_type, .. } => *attr_type,
        }
    }

    /// Length of the encoded value, without header and padding.
    pub fn value_len(&self) -> usize {
        fn addr_len(a: &SocketAddr) -> usize {
            if a.is_ipv4() { 8 } else { 20 }
        }
        match self {
            Attribute::MappedAddress(a)
            | Attribute::XorMappedAddress(a)
            | Attribute::AlternateServer(a)
            | Attribute::XorPeerAddress(a)
            | Attribute::XorRelayedAddress(a) => addr_len(a),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s)
            | Attribute::AlternateDomain(s) => s.len(),
            Attribute::UserHash(_) => 32,
            Attribute::MessageIntegrity(_) => 20,
            Attribute::MessageIntegritySha256(v) | Attribute::Data(v) => v.len(),
            Attribute::ErrorCode(e) => 4 + e.reason.len(),
            Attribute::PasswordAlgorithms(p) => p.0.len(),
            Attribute::PasswordAlgorithm(p) => {
                4 + p.parameters.len() + crate::message::padding(p.parameters.len())
            }
            Attribute::UnknownAttributes(u) => u.0.len(),
            Attribute::Fingerprint(_) | Attribute::Priority(_) | Attribute::Lifetime(_) => 4,
            Attribute::UseCandidate | Attribute::DontFragment => 0,
            Attribute::IceControlled(_)
            | Attribute::IceControlling(_)
            | Attribute::ReservationToken(_)
            | Attribute::Icmp { .. } => 8,
            Attribute::ChannelNumber(_)
            | Attribute::RequestedAddressFamily(_)
            | Attribute::RequestedTransport(_)
            | Attribute::AdditionalAddressFamily(_) => 4,
            Attribute::EvenPort(_) => 1,
            Attribute::AddressErrorCode { error, .. } => 4 + error.reason.len(),
            Attribute::Unknown { value, .. } => value.len(),
        }
    }

    /// Checks that the value can be encoded: lengths and ranges the RFCs
    /// impose. [`Attribute::encode_value`] assumes it passed.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let t = self.attr_type();
        let (len, max) = match self {
            Attribute::Username(s) => (s.len(), MAX_USERNAME_LEN),
            Attribute::Realm(s) | Attribute::Nonce(s) | Attribute::Software(s) => (s.len(), MAX_TEXT_LEN),
            Attribute::AlternateDomain(s) => (s.len(), 255),
            Attribute::ErrorCode(e) | Attribute::AddressErrorCode { error: e, .. } => {
                if !(300..=699).contains(&e.code) {
                    return Err(Error::CannotEncode {
                        attr_type: t.0,
                        reason: "code must be 300 to 699",
                    });
                }
                (e.reason.len(), MAX_TEXT_LEN)
            }
            Attribute::MessageIntegritySha256(v) => {
                if !(16..=32).contains(&v.len()) || v.len() % 4 != 0 {
                    return Err(Error::CannotEncode {
                        attr_type: t.0,
                        reason: "must be 16 to 32 bytes, a multiple of 4",
                    });
                }
                (0, 0)
            }
            Attribute::PasswordAlgorithm(p) => (p.parameters.len(), usize::from(u16::MAX) - 8),
            _ => (0, 0),
        };
        if len > max {
            return Err(Error::CannotEncode {
                attr_type: t.0,
                reason: "value too long",
            });
        }
        Ok(())
    }

    /// Writes the value (not the header, not the padding) into `out`, which
    /// must be exactly [`Attribute::value_len`] bytes, after
    /// [`Attribute::validate`] accepted it.
    pub(crate) fn encode_value(&self, out: &mut [u8], transaction_id: &TransactionId) {
        match self {
            Attribute::MappedAddress(a) | Attribute::AlternateServer(a) => encode_address(out, a, None),
            Attribute::XorMappedAddress(a)
            | Attribute::XorPeerAddress(a)
            | Attribute::XorRelayedAddress(a) => encode_address(out, a, Some(transaction_id)),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s)
            | Attribute::AlternateDomain(s) => out.copy_from_slice(s.as_bytes()),
            Attribute::UserHash(h) => out.copy_from_slice(&h[..]),
            Attribute::MessageIntegrity(h) => out.copy_from_slice(&h[..]),
            Attribute::MessageIntegritySha256(v) | Attribute::Data(v) => out.copy_from_slice(v),
            Attribute::ErrorCode(e) => encode_error_code(out, 0, e),
            Attribute::AddressErrorCode { family, error } => encode_error_code(out, family.to_u8(), error),
            Attribute::PasswordAlgorithms(p) => out.copy_from_slice(p.0),
            Attribute::PasswordAlgorithm(p) => {
                let n = p.parameters.len();
                out[..2].copy_from_slice(&p.algorithm.0.to_be_bytes());
                out[2..4].copy_from_slice(&(n as u16).to_be_bytes());
                out[4..4 + n].copy_from_slice(p.parameters);
                out[4 + n..].fill(0);
            }
            Attribute::UnknownAttributes(u) => out.copy_from_slice(u.0),
            Attribute::Fingerprint(v) | Attribute::Priority(v) | Attribute::Lifetime(v) => {
                out.copy_from_slice(&v.to_be_bytes())
            }
            Attribute::UseCandidate | Attribute::DontFragment => {}
            Attribute::IceControlled(v) | Attribute::IceControlling(v) | Attribute::ReservationToken(v) => {
                out.copy_from_slice(&v.to_be_bytes())
            }
            Attribute::ChannelNumber(n) => {
                out[..2].copy_from_slice(&n.to_be_bytes());
                out[2..].fill(0);
            }
            Attribute::RequestedAddressFamily(f) | Attribute::AdditionalAddressFamily(f) => {
                out.copy_from_slice(&[f.to_u8(), 0, 0, 0])
            }
            Attribute::RequestedTransport(p) => out.copy_from_slice(&[*p, 0, 0, 0]),
            Attribute::EvenPort(r) => out[0] = if *r { 0x80 } else { 0 },
            Attribute::Icmp {
                icmp_type,
                code,
                error_data,
            } => {
                out[..4].copy_from_slice(&[0, 0, *icmp_type, *code]);
                out[4..].copy_from_slice(&error_data.to_be_bytes());
            }
            Attribute::Unknown { value, .. } => out.copy_from_slice(value),
        }
    }
}

fn encode_error_code(out: &mut [u8], first: u8, e: &ErrorCode<'_>) {
    out[0] = first;
    out[1] = 0;
    out[2] = (e.code / 100) as u8;
    out[3] = (e.code % 100) as u8;
    out[4..].copy_from_slice(e.reason.as_bytes());
}

fn encode_address(out: &mut [u8], addr: &SocketAddr, xor: Option<&TransactionId>) {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let mut port = addr.port();
    if xor.is_some() {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    out[0] = 0;
    out[2..4].copy_from_slice(&port.to_be_bytes());
    match addr.ip() {
        IpAddr::V4(ip) => {
            out[1] = 0x01;
            let mut octets = ip.octets();
            if xor.is_some() {
                for (o, k) in octets.iter_mut().zip(cookie) {
                    *o ^= k;
                }
            }
            out[4..8].copy_from_slice(&octets);
        }
        IpAddr::V6(ip) => {
            out[1] = 0x02;
            let mut octets = ip.octets();
            if let Some(tid) = xor {
                for (o, k) in octets.iter_mut().zip(cookie.iter().chain(tid.as_bytes())) {
                    *o ^= k;
                }
            }
            out[4..20].copy_from_slice(&octets);
        }
    }
}
