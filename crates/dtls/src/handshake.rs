//! DTLS 1.2 handshake messages: the 12-byte handshake header (RFC 6347
//! section 4.2.2) and the bodies of every message of a WebRTC handshake
//! (RFC 5246 section 7.4, RFC 6347 section 4.2.1, ECDHE as in RFC 8422
//! section 5).
//!
//! Bodies are owned: the handshake runs a dozen messages per connection,
//! not a hot path. [`HandshakeMessage::parse`] rejects trailing bytes, so
//! `parse` and [`HandshakeMessage::write_body`] are inverses on everything
//! `parse` accepts (byte-exact, except that an empty `extensions` block in a
//! hello is written by omitting it).

use crate::Error;
use crate::codec::{
    LengthPrefix, Reader, TRUNCATED, put_nested, put_u8, put_u16, put_u16_list, put_u24, put_vec8, put_vec16,
    put_vec24, u16_list,
};
use crate::extensions::{Extension, HelloKind, parse_extensions, write_extensions};

/// Cipher suite numbers (IANA "TLS Cipher Suites") of the ECDHE AEAD suites
/// WebRTC endpoints use.
#[allow(dead_code)] // the registry, kept whole as documentation
pub(crate) mod cipher_suite {
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.
    pub(crate) const TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: u16 = 0xc02b;
    /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384.
    pub(crate) const TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: u16 = 0xc02c;
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.
    pub(crate) const TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: u16 = 0xc02f;
    /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.
    pub(crate) const TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: u16 = 0xc030;
    /// TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.
    pub(crate) const TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: u16 = 0xcca8;
    /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256.
    pub(crate) const TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: u16 = 0xcca9;
}

/// The null compression method, the only one DTLS peers offer.
pub(crate) const COMPRESSION_NULL: u8 = 0;
/// ECCurveType named_curve (RFC 8422 section 5.4), the only one allowed.
pub(crate) const CURVE_TYPE_NAMED_CURVE: u8 = 3;
/// ClientCertificateType values (RFC 5246 section 7.4.4, RFC 8422 5.5).
pub(crate) mod certificate_type {
    /// rsa_sign.
    pub(crate) const RSA_SIGN: u8 = 1;
    /// ecdsa_sign.
    pub(crate) const ECDSA_SIGN: u8 = 64;
}

/// Size of the DTLS handshake header: type, length, message_seq,
/// fragment_offset, fragment_length.
pub(crate) const HANDSHAKE_HEADER_LEN: usize = 12;
/// Largest handshake body the 24-bit length can describe.
pub(crate) const MAX_HANDSHAKE_BODY: usize = (1 << 24) - 1;
/// Length of a hello's random.
pub(crate) const RANDOM_LEN: usize = 32;
/// Longest session_id (RFC 5246 section 7.4.1.2).
pub(crate) const MAX_SESSION_ID_LEN: usize = 32;

/// Handshake message types of DTLS 1.2 (RFC 5246 section 7.4, RFC 6347
/// section 4.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(crate) enum HandshakeType {
    /// hello_request.
    HelloRequest = 0,
    /// client_hello.
    ClientHello = 1,
    /// server_hello.
    ServerHello = 2,
    /// hello_verify_request (DTLS only).
    HelloVerifyRequest = 3,
    /// certificate.
    Certificate = 11,
    /// server_key_exchange.
    ServerKeyExchange = 12,
    /// certificate_request.
    CertificateRequest = 13,
    /// server_hello_done.
    ServerHelloDone = 14,
    /// certificate_verify.
    CertificateVerify = 15,
    /// client_key_exchange.
    ClientKeyExchange = 16,
    /// finished.
    Finished = 20,
}

impl HandshakeType {
    /// Every type, in wire order.
    pub(crate) const ALL: [HandshakeType; 11] = [
        HandshakeType::HelloRequest,
        HandshakeType::ClientHello,
        HandshakeType::ServerHello,
        HandshakeType::HelloVerifyRequest,
        HandshakeType::Certificate,
        HandshakeType::ServerKeyExchange,
        HandshakeType::CertificateRequest,
        HandshakeType::ServerHelloDone,
        HandshakeType::CertificateVerify,
        HandshakeType::ClientKeyExchange,
        HandshakeType::Finished,
    ];

    /// The type for a wire value; `None` for others (including TLS 1.3's
    /// and session tickets, which this endpoint never negotiates).
    pub(crate) fn from_u8(v: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.to_u8() == v)
    }

    /// The wire value.
    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }

    /// The error reason for a body that ends early.
    fn truncated(self) -> &'static str {
        match self {
            HandshakeType::HelloRequest => "HelloRequest: truncated",
            HandshakeType::ClientHello => "ClientHello: truncated",
            HandshakeType::ServerHello => "ServerHello: truncated",
            HandshakeType::HelloVerifyRequest => "HelloVerifyRequest: truncated",
            HandshakeType::Certificate => "Certificate: truncated",
            HandshakeType::ServerKeyExchange => "ServerKeyExchange: truncated",
            HandshakeType::CertificateRequest => "CertificateRequest: truncated",
            HandshakeType::ServerHelloDone => "ServerHelloDone: truncated",
            HandshakeType::CertificateVerify => "CertificateVerify: truncated",
            HandshakeType::ClientKeyExchange => "ClientKeyExchange: truncated",
            HandshakeType::Finished => "Finished: truncated",
        }
    }

    /// The error reason for a body with bytes after its last field.
    fn trailing(self) -> &'static str {
        match self {
            HandshakeType::HelloRequest => "HelloRequest: trailing bytes",
            HandshakeType::ClientHello => "ClientHello: trailing bytes",
            HandshakeType::ServerHello => "ServerHello: trailing bytes",
            HandshakeType::HelloVerifyRequest => "HelloVerifyRequest: trailing bytes",
            HandshakeType::Certificate => "Certificate: trailing bytes",
            HandshakeType::ServerKeyExchange => "ServerKeyExchange: trailing bytes",
            HandshakeType::CertificateRequest => "CertificateRequest: trailing bytes",
            HandshakeType::ServerHelloDone => "ServerHelloDone: trailing bytes",
            HandshakeType::CertificateVerify => "CertificateVerify: trailing bytes",
            HandshakeType::ClientKeyExchange => "ClientKeyExchange: trailing bytes",
            HandshakeType::Finished => "Finished: trailing bytes",
        }
    }
}

/// The DTLS handshake header that precedes every handshake fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HandshakeHeader {
    /// Message type.
    pub(crate) msg_type: HandshakeType,
    /// Length of the whole message body (24 bits).
    pub(crate) length: u32,
    /// Message sequence number, counting each sender's messages from 0.
    pub(crate) message_seq: u16,
    /// Where this fragment starts in the body (24 bits).
    pub(crate) fragment_offset: u32,
    /// Bytes in this fragment (24 bits).
    pub(crate) fragment_length: u32,
}

impl HandshakeHeader {
    /// Reads the 12-byte header; checks the type and that the fragment lies
    /// within the message (`fragment_offset + fragment_length <= length`),
    /// not that the fragment bytes follow.
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let truncated = |_| Error::Decode("handshake header: truncated");
        let msg_type = r.u8().map_err(truncated)?;
        let length = r.u24().map_err(truncated)?;
        let message_seq = r.u16().map_err(truncated)?;
        let fragment_offset = r.u24().map_err(truncated)?;
        let fragment_length = r.u24().map_err(truncated)?;
        let msg_type =
            HandshakeType::from_u8(msg_type).ok_or(Error::Decode("handshake header: unknown type"))?;
        // Both are below 2^24: the sum cannot overflow.
        if fragment_offset + fragment_length > length {
            return Err(Error::Decode("handshake header: fragment outside the message"));
        }
        Ok(HandshakeHeader {
            msg_type,
            length,
            message_seq,
            fragment_offset,
            fragment_length,
        })
    }

    /// Appends the 12-byte header. The three lengths are written as 24
    /// bits; callers keep them below 2^24.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_u8(out, self.msg_type.to_u8());
        put_u24(out, self.length);
        put_u16(out, self.message_seq);
        put_u24(out, self.fragment_offset);
        put_u24(out, self.fragment_length);
    }
}

/// ClientHello (RFC 6347 section 4.2.1: TLS's plus the cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientHello {
    /// Highest version offered in the DTLS 1.2 sense; browsers that offer
    /// DTLS 1.3 still put `0xfefd` here.
    pub(crate) client_version: u16,
    /// ClientHello.random.
    pub(crate) random: [u8; RANDOM_LEN],
    /// Session to resume, at most 32 bytes; empty in WebRTC.
    pub(crate) session_id: Vec<u8>,
    /// Cookie echoed from a HelloVerifyRequest (at most 255 bytes), empty on
    /// the first ClientHello.
    pub(crate) cookie: Vec<u8>,
    /// Cipher suites offered, in preference order. Not empty.
    pub(crate) cipher_suites: Vec<u16>,
    /// Compression methods offered. Not empty.
    pub(crate) compression_methods: Vec<u8>,
    /// Extensions, in the order received.
    pub(crate) extensions: Vec<Extension>,
}

/// HelloVerifyRequest (RFC 6347 section 4.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HelloVerifyRequest {
    /// `0xfefd` or, as RFC 6347 recommends, `0xfeff`.
    pub(crate) server_version: u16,
    /// The cookie the client must echo, at most 255 bytes.
    pub(crate) cookie: Vec<u8>,
}

/// ServerHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerHello {
    /// Negotiated version.
    pub(crate) server_version: u16,
    /// ServerHello.random.
    pub(crate) random: [u8; RANDOM_LEN],
    /// Session id, at most 32 bytes.
    pub(crate) session_id: Vec<u8>,
    /// The chosen cipher suite.
    pub(crate) cipher_suite: u16,
    /// The chosen compression method.
    pub(crate) compression_method: u8,
    /// Extensions, in the order received.
    pub(crate) extensions: Vec<Extension>,
}

/// Certificate: the sender's chain, leaf first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertificateMsg {
    /// DER certificates, none empty (a u24 list of u24 entries). A client
    /// without a certificate sends an empty list.
    pub(crate) certificates: Vec<Vec<u8>>,
}

/// ServerKeyExchange for ECDHE with a named curve (RFC 8422 section 5.4),
/// signed with a TLS 1.2 SignatureAndHashAlgorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerKeyExchange {
    /// The ECDHE group.
    pub(crate) named_group: u16,
    /// The server's ephemeral public key. Not empty.
    pub(crate) public_key: Vec<u8>,
    /// How `signature` was made.
    pub(crate) signature_scheme: u16,
    /// The signature over client_random || server_random ||
    /// [`signed_params`](Self::signed_params).
    pub(crate) signature: Vec<u8>,
}

impl ServerKeyExchange {
    /// The ServerECDHParams bytes the server signs after client_random ||
    /// server_random: curve_type (3) || named_group || public key with a
    /// 1-byte length. A public key longer than 255 bytes is cut off here
    /// (it cannot be encoded, and [`HandshakeMessage::write_body`] refuses it).
    pub(crate) fn signed_params(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.public_key.len());
        put_u8(&mut out, CURVE_TYPE_NAMED_CURVE);
        put_u16(&mut out, self.named_group);
        let key = self.public_key.get(..255).unwrap_or(&self.public_key);
        let _fits = put_vec8(&mut out, key);
        out
    }
}

/// CertificateRequest (RFC 5246 section 7.4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertificateRequest {
    /// ClientCertificateType values ([`certificate_type`]). Not empty.
    pub(crate) certificate_types: Vec<u8>,
    /// supported_signature_algorithms. Not empty.
    pub(crate) signature_schemes: Vec<u16>,
    /// DER distinguished names of acceptable authorities, none empty;
    /// WebRTC sends none.
    pub(crate) authorities: Vec<Vec<u8>>,
}

/// ClientKeyExchange for ECDHE: the client's ephemeral public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientKeyExchange {
    /// The public key (a 1-byte length on the wire). Not empty.
    pub(crate) public_key: Vec<u8>,
}

/// CertificateVerify (RFC 5246 section 7.4.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertificateVerify {
    /// How `signature` was made.
    pub(crate) signature_scheme: u16,
    /// Signature over the handshake messages so far.
    pub(crate) signature: Vec<u8>,
}

/// Finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finished {
    /// verify_data: the whole body. Every suite here uses 12 bytes; the
    /// length is checked when the value is compared, not when parsed.
    pub(crate) verify_data: Vec<u8>,
}

/// A decoded handshake message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HandshakeMessage {
    /// HelloRequest (empty body); a WebRTC endpoint ignores it.
    HelloRequest,
    /// ClientHello.
    ClientHello(ClientHello),
    /// HelloVerifyRequest.
    HelloVerifyRequest(HelloVerifyRequest),
    /// ServerHello.
    ServerHello(ServerHello),
    /// Certificate.
    Certificate(CertificateMsg),
    /// ServerKeyExchange.
    ServerKeyExchange(ServerKeyExchange),
    /// CertificateRequest.
    CertificateRequest(CertificateRequest),
    /// ServerHelloDone (empty body).
    ServerHelloDone,
    /// ClientKeyExchange.
    ClientKeyExchange(ClientKeyExchange),
    /// CertificateVerify.
    CertificateVerify(CertificateVerify),
    /// Finished.
    Finished(Finished),
}

impl HandshakeMessage {
    /// The message's type.
    pub(crate) fn msg_type(&self) -> HandshakeType {
        match self {
            HandshakeMessage::HelloRequest => HandshakeType::HelloRequest,
            HandshakeMessage::ClientHello(_) => HandshakeType::ClientHello,
            HandshakeMessage::HelloVerifyRequest(_) => HandshakeType::HelloVerifyRequest,
            HandshakeMessage::ServerHello(_) => HandshakeType::ServerHello,
            HandshakeMessage::Certificate(_) => HandshakeType::Certificate,
            HandshakeMessage::ServerKeyExchange(_) => HandshakeType::ServerKeyExchange,
            HandshakeMessage::CertificateRequest(_) => HandshakeType::CertificateRequest,
            HandshakeMessage::ServerHelloDone => HandshakeType::ServerHelloDone,
            HandshakeMessage::ClientKeyExchange(_) => HandshakeType::ClientKeyExchange,
            HandshakeMessage::CertificateVerify(_) => HandshakeType::CertificateVerify,
            HandshakeMessage::Finished(_) => HandshakeType::Finished,
        }
    }

    /// Decodes a whole (reassembled) message body of type `msg_type`.
    /// Rejects truncated bodies, trailing bytes, values outside their RFC
    /// ranges and duplicated hello extensions, with [`Error::Decode`].
    pub(crate) fn parse(msg_type: HandshakeType, body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let msg = read_body(msg_type, &mut r).map_err(|e| match e {
            Error::Decode(TRUNCATED) => Error::Decode(msg_type.truncated()),
            other => other,
        })?;
        r.finish(msg_type.trailing())?;
        Ok(msg)
    }

    /// Appends the body (without the handshake header). Fails with
    /// [`Error::TooLarge`] if a field does not fit its length prefix, a
    /// session_id is longer than 32 bytes, or the body exceeds 2^24 - 1
    /// bytes; `out` is then unchanged.
    pub(crate) fn write_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        let written = write_body(self, out).and_then(|()| {
            if out.len() - start > MAX_HANDSHAKE_BODY {
                Err(Error::TooLarge("handshake message longer than 2^24 - 1 bytes"))
            } else {
                Ok(())
            }
        });
        if written.is_err() {
            out.truncate(start);
        }
        written
    }

    /// The body as a new vector.
    pub(crate) fn to_body(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.write_body(&mut out)?;
        Ok(out)
    }
}

fn read_random(r: &mut Reader<'_>) -> Result<[u8; RANDOM_LEN], Error> {
    r.array()
}

fn read_session_id(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u8>, Error> {
    let id = r.vec8()?;
    if id.len() > MAX_SESSION_ID_LEN {
        return Err(Error::Decode(what));
    }
    Ok(id.to_vec())
}

/// The optional extensions block at the end of a hello.
fn read_hello_extensions(r: &mut Reader<'_>, kind: HelloKind) -> Result<Vec<Extension>, Error> {
    if r.is_empty() {
        return Ok(Vec::new());
    }
    parse_extensions(r.vec16()?, kind)
}

fn write_hello_extensions(exts: &[Extension], out: &mut Vec<u8>) -> Result<(), Error> {
    if exts.is_empty() {
        Ok(())
    } else {
        write_extensions(exts, out)
    }
}

/// A list of non-empty opaque entries with a `prefix`-byte length each.
fn read_opaque_list(list: &[u8], prefix: LengthPrefix, what: &'static str) -> Result<Vec<Vec<u8>>, Error> {
    let mut r = Reader::new(list);
    let mut out = Vec::new();
    while !r.is_empty() {
        let entry = match prefix {
            LengthPrefix::U8 => r.vec8(),
            LengthPrefix::U16 => r.vec16(),
            LengthPrefix::U24 => r.vec24(),
        }
        .map_err(|_| Error::Decode(what))?;
        if entry.is_empty() {
            return Err(Error::Decode(what));
        }
        out.push(entry.to_vec());
    }
    Ok(out)
}

fn read_body(msg_type: HandshakeType, r: &mut Reader<'_>) -> Result<HandshakeMessage, Error> {
    Ok(match msg_type {
        HandshakeType::HelloRequest => HandshakeMessage::HelloRequest,
        HandshakeType::ServerHelloDone => HandshakeMessage::ServerHelloDone,
        HandshakeType::ClientHello => {
            let client_version = r.u16()?;
            let random = read_random(r)?;
            let session_id = read_session_id(r, "ClientHello: session_id longer than 32 bytes")?;
            let cookie = r.vec8()?.to_vec();
            let suites = r.vec16()?;
            if suites.is_empty() {
                return Err(Error::Decode("ClientHello: no cipher suites"));
            }
            let cipher_suites = u16_list(suites, "ClientHello: odd cipher suite list")?;
            let compression_methods = r.vec8()?.to_vec();
            if compression_methods.is_empty() {
                return Err(Error::Decode("ClientHello: no compression methods"));
            }
            let extensions = read_hello_extensions(r, HelloKind::Client)?;
            HandshakeMessage::ClientHello(ClientHello {
                client_version,
                random,
                session_id,
                cookie,
                cipher_suites,
                compression_methods,
                extensions,
            })
        }
        HandshakeType::HelloVerifyRequest => HandshakeMessage::HelloVerifyRequest(HelloVerifyRequest {
            server_version: r.u16()?,
            cookie: r.vec8()?.to_vec(),
        }),
        HandshakeType::ServerHello => {
            let server_version = r.u16()?;
            let random = read_random(r)?;
            let session_id = read_session_id(r, "ServerHello: session_id longer than 32 bytes")?;
            let cipher_suite = r.u16()?;
            let compression_method = r.u8()?;
            let extensions = read_hello_extensions(r, HelloKind::Server)?;
            HandshakeMessage::ServerHello(ServerHello {
                server_version,
                random,
                session_id,
                cipher_suite,
                compression_method,
                extensions,
            })
        }
        HandshakeType::Certificate => {
            let list = r.vec24()?;
            let certificates =
                read_opaque_list(list, LengthPrefix::U24, "Certificate: bad certificate entry")?;
            HandshakeMessage::Certificate(CertificateMsg { certificates })
        }
        HandshakeType::ServerKeyExchange => {
            if r.u8()? != CURVE_TYPE_NAMED_CURVE {
                return Err(Error::Decode("ServerKeyExchange: not a named curve"));
            }
            let named_group = r.u16()?;
            let public_key = r.vec8()?.to_vec();
            if public_key.is_empty() {
                return Err(Error::Decode("ServerKeyExchange: empty public key"));
            }
            HandshakeMessage::ServerKeyExchange(ServerKeyExchange {
                named_group,
                public_key,
                signature_scheme: r.u16()?,
                signature: r.vec16()?.to_vec(),
            })
        }
        HandshakeType::CertificateRequest => {
            let certificate_types = r.vec8()?.to_vec();
            if certificate_types.is_empty() {
                return Err(Error::Decode("CertificateRequest: no certificate types"));
            }
            let schemes = r.vec16()?;
            if schemes.is_empty() {
                return Err(Error::Decode("CertificateRequest: no signature algorithms"));
            }
            let signature_schemes = u16_list(schemes, "CertificateRequest: odd signature algorithm list")?;
            let authorities =
                read_opaque_list(r.vec16()?, LengthPrefix::U16, "CertificateRequest: bad authority")?;
            HandshakeMessage::CertificateRequest(CertificateRequest {
                certificate_types,
                signature_schemes,
                authorities,
            })
        }
        HandshakeType::ClientKeyExchange => {
            let public_key = r.vec8()?.to_vec();
            if public_key.is_empty() {
                return Err(Error::Decode("ClientKeyExchange: empty public key"));
            }
            HandshakeMessage::ClientKeyExchange(ClientKeyExchange { public_key })
        }
        HandshakeType::CertificateVerify => HandshakeMessage::CertificateVerify(CertificateVerify {
            signature_scheme: r.u16()?,
            signature: r.vec16()?.to_vec(),
        }),
        HandshakeType::Finished => HandshakeMessage::Finished(Finished {
            verify_data: r.rest().to_vec(),
        }),
    })
}

fn write_body(msg: &HandshakeMessage, out: &mut Vec<u8>) -> Result<(), Error> {
    match msg {
        HandshakeMessage::HelloRequest | HandshakeMessage::ServerHelloDone => Ok(()),
        HandshakeMessage::ClientHello(m) => {
            put_u16(out, m.client_version);
            out.extend_from_slice(&m.random);
            write_session_id(out, &m.session_id)?;
            put_vec8(out, &m.cookie)?;
            put_u16_list(out, LengthPrefix::U16, &m.cipher_suites)?;
            put_vec8(out, &m.compression_methods)?;
            write_hello_extensions(&m.extensions, out)
        }
        HandshakeMessage::HelloVerifyRequest(m) => {
            put_u16(out, m.server_version);
            put_vec8(out, &m.cookie)
        }
        HandshakeMessage::ServerHello(m) => {
            put_u16(out, m.server_version);
            out.extend_from_slice(&m.random);
            write_session_id(out, &m.session_id)?;
            put_u16(out, m.cipher_suite);
            put_u8(out, m.compression_method);
            write_hello_extensions(&m.extensions, out)
        }
        HandshakeMessage::Certificate(m) => put_nested(out, LengthPrefix::U24, |out| {
            m.certificates.iter().try_for_each(|c| put_vec24(out, c))
        }),
        HandshakeMessage::ServerKeyExchange(m) => {
            put_u8(out, CURVE_TYPE_NAMED_CURVE);
            put_u16(out, m.named_group);
            put_vec8(out, &m.public_key)?;
            put_u16(out, m.signature_scheme);
            put_vec16(out, &m.signature)
        }
        HandshakeMessage::CertificateRequest(m) => {
            put_vec8(out, &m.certificate_types)?;
            put_u16_list(out, LengthPrefix::U16, &m.signature_schemes)?;
            put_nested(out, LengthPrefix::U16, |out| {
                m.authorities.iter().try_for_each(|a| put_vec16(out, a))
            })
        }
        HandshakeMessage::ClientKeyExchange(m) => put_vec8(out, &m.public_key),
        HandshakeMessage::CertificateVerify(m) => {
            put_u16(out, m.signature_scheme);
            put_vec16(out, &m.signature)
        }
        HandshakeMessage::Finished(m) => {
            out.extend_from_slice(&m.verify_data);
            Ok(())
        }
    }
}

fn write_session_id(out: &mut Vec<u8>, id: &[u8]) -> Result<(), Error> {
    if id.len() > MAX_SESSION_ID_LEN {
        return Err(Error::TooLarge("session_id longer than 32 bytes"));
    }
    put_vec8(out, id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::extensions::{ext, named_group, signature_scheme, srtp_profile};
    use crate::test_vectors::{self, Vector};

    #[test]
    fn header_parse_and_emit() {
        // ServerHello, length 0x4a, message_seq 1, fragment 0x10..0x10+0x20
        const BYTES: [u8; 12] = [
            0x02, 0x00, 0x00, 0x4a, 0x00, 0x01, 0x00, 0x00, 0x10, 0x00, 0x00, 0x20,
        ];
        let h = HandshakeHeader::parse(&mut Reader::new(&BYTES)).unwrap();
        assert_eq!(
            h,
            HandshakeHeader {
                msg_type: HandshakeType::ServerHello,
                length: 0x4a,
                message_seq: 1,
                fragment_offset: 0x10,
                fragment_length: 0x20,
            }
        );
        let mut out = Vec::new();
        h.write(&mut out);
        assert_eq!(out, BYTES);
        for cut in 0..BYTES.len() {
            assert!(HandshakeHeader::parse(&mut Reader::new(&BYTES[..cut])).is_err());
        }
    }

    #[test]
    fn header_rejects_unknown_types_and_fragments_past_the_end() {
        let mut b = [
            0x02, 0x00, 0x00, 0x4a, 0x00, 0x01, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x20,
        ];
        assert!(HandshakeHeader::parse(&mut Reader::new(&b)).is_ok()); // 0x2a + 0x20 = 0x4a
        b[11] = 0x21;
        assert_eq!(
            HandshakeHeader::parse(&mut Reader::new(&b)),
            Err(Error::Decode("handshake header: fragment outside the message"))
        );
        b[11] = 0x20;
        for t in (0..=255u8).filter(|t| HandshakeType::from_u8(*t).is_none()) {
            b[0] = t;
            assert_eq!(
                HandshakeHeader::parse(&mut Reader::new(&b)),
                Err(Error::Decode("handshake header: unknown type"))
            );
        }
        // Maximal lengths do not overflow.
        let max = [
            0x14, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        assert!(HandshakeHeader::parse(&mut Reader::new(&max)).is_err());
    }

    #[test]
    fn type_numbers() {
        for t in HandshakeType::ALL {
            assert_eq!(HandshakeType::from_u8(t.to_u8()), Some(t));
        }
        assert_eq!(HandshakeType::Finished.to_u8(), 20);
        assert_eq!(HandshakeType::from_u8(4), None); // NewSessionTicket
    }

    #[test]
    fn every_vector_parses_and_reemits_byte_for_byte() {
        for Vector { name, msg, body } in test_vectors::messages() {
            let parsed =
                HandshakeMessage::parse(msg.msg_type(), &body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(parsed, msg, "{name}");
            assert_eq!(msg.to_body().unwrap(), body, "{name}");
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for Vector { name, msg, body } in test_vectors::messages() {
            for cut in 0..body.len() {
                let got = HandshakeMessage::parse(msg.msg_type(), &body[..cut]);
                // A hello cut exactly before its extensions block is a valid
                // hello without extensions; everything else must fail.
                let before_extensions = match &msg {
                    HandshakeMessage::ClientHello(_) | HandshakeMessage::ServerHello(_) => {
                        let mut without = msg.clone();
                        match &mut without {
                            HandshakeMessage::ClientHello(m) => m.extensions.clear(),
                            HandshakeMessage::ServerHello(m) => m.extensions.clear(),
                            _ => unreachable!(),
                        }
                        without.to_body().unwrap().len() == cut
                    }
                    // A Finished is all verify_data: any prefix is one.
                    HandshakeMessage::Finished(_) => true,
                    _ => false,
                };
                if before_extensions {
                    assert!(got.is_ok(), "{name} cut at {cut}");
                } else {
                    assert!(
                        matches!(got, Err(Error::Decode(_))),
                        "{name} cut at {cut}: {got:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        for Vector { name, msg, body } in test_vectors::messages() {
            if matches!(msg, HandshakeMessage::Finished(_)) {
                continue; // verify_data is the whole body
            }
            let mut longer = body.clone();
            longer.push(0);
            let got = HandshakeMessage::parse(msg.msg_type(), &longer);
            assert!(matches!(got, Err(Error::Decode(_))), "{name}: {got:?}");
        }
    }

    #[test]
    fn chromium_client_hello() {
        let body = test_vectors::chromium_client_hello();
        assert!(body.len() + HANDSHAKE_HEADER_LEN > 1400);
        let HandshakeMessage::ClientHello(ch) =
            HandshakeMessage::parse(HandshakeType::ClientHello, &body).unwrap()
        else {
            panic!("not a ClientHello");
        };
        assert_eq!(ch.client_version, 0xfefd);
        assert!(ch.cookie.is_empty());
        assert!(
            ch.cipher_suites
                .contains(&cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
        );
        assert_eq!(
            crate::extensions::find(&ch.extensions, ext::USE_SRTP),
            Some(&Extension::UseSrtp {
                profiles: vec![
                    srtp_profile::SRTP_AES128_CM_HMAC_SHA1_80,
                    srtp_profile::SRTP_AEAD_AES_256_GCM,
                    srtp_profile::SRTP_AEAD_AES_128_GCM
                ],
                mki: vec![]
            })
        );
        assert_eq!(
            crate::extensions::find(&ch.extensions, ext::SUPPORTED_VERSIONS),
            Some(&Extension::SupportedVersions(vec![0xfefc, 0xfefd]))
        );
        assert_eq!(
            crate::extensions::find(&ch.extensions, ext::SUPPORTED_GROUPS),
            Some(&Extension::SupportedGroups(vec![
                named_group::X25519MLKEM768,
                named_group::X25519,
                named_group::SECP256R1,
                named_group::SECP384R1
            ]))
        );
        assert!(crate::extensions::find(&ch.extensions, ext::EXTENDED_MASTER_SECRET).is_some());
        assert!(matches!(
            crate::extensions::find(&ch.extensions, ext::SIGNATURE_ALGORITHMS),
            Some(Extension::SignatureAlgorithms(s)) if s.contains(&signature_scheme::ECDSA_SECP256R1_SHA256)
        ));
        match crate::extensions::find(&ch.extensions, ext::KEY_SHARE) {
            Some(Extension::Unknown { data, .. }) => assert_eq!(data.len(), 2 + 4 + 1216 + 4 + 32),
            other => panic!("key_share: {other:?}"),
        }
        // Shuffled order is kept.
        let order: Vec<u16> = ch.extensions.iter().map(Extension::extension_type).collect();
        assert_eq!(order, test_vectors::CHROMIUM_EXTENSION_ORDER);
        // And it re-encodes identically.
        assert_eq!(HandshakeMessage::ClientHello(ch).to_body().unwrap(), body);
    }

    #[test]
    fn client_hello_with_a_duplicated_extension_is_rejected() {
        let body = test_vectors::chromium_client_hello();
        let HandshakeMessage::ClientHello(mut ch) =
            HandshakeMessage::parse(HandshakeType::ClientHello, &body).unwrap()
        else {
            panic!("not a ClientHello");
        };
        ch.extensions.insert(3, Extension::ExtendedMasterSecret);
        let dup = HandshakeMessage::ClientHello(ch).to_body().unwrap();
        assert_eq!(
            HandshakeMessage::parse(HandshakeType::ClientHello, &dup),
            Err(Error::Decode("hello: duplicate extension"))
        );
    }

    #[test]
    fn out_of_range_fields_are_rejected() {
        let mut hello = test_vectors::client_hello_minimal();
        // session_id of 33 bytes
        let mut body = hello.to_body().unwrap();
        body[34] = 33;
        body.splice(35..35, [0u8; 33]);
        assert_eq!(
            HandshakeMessage::parse(HandshakeType::ClientHello, &body),
            Err(Error::Decode("ClientHello: session_id longer than 32 bytes"))
        );
        if let HandshakeMessage::ClientHello(m) = &mut hello {
            m.session_id = vec![0; 33];
        }
        assert!(matches!(hello.to_body(), Err(Error::TooLarge(_))));

        // ServerKeyExchange with explicit curve parameters (curve_type 1).
        let ske = [1u8, 0, 23, 1, 4, 4, 3, 0, 0];
        assert_eq!(
            HandshakeMessage::parse(HandshakeType::ServerKeyExchange, &ske),
            Err(Error::Decode("ServerKeyExchange: not a named curve"))
        );
        // Empty certificate entry.
        assert!(HandshakeMessage::parse(HandshakeType::Certificate, &[0, 0, 3, 0, 0, 0]).is_err());
        // Empty lists.
        assert!(HandshakeMessage::parse(HandshakeType::ClientKeyExchange, &[0]).is_err());
        assert!(HandshakeMessage::parse(HandshakeType::CertificateRequest, &[0, 0, 2, 4, 3, 0, 0]).is_err());
        assert!(HandshakeMessage::parse(HandshakeType::CertificateRequest, &[1, 64, 0, 0, 0, 0]).is_err());
        assert!(
            HandshakeMessage::parse(
                HandshakeType::CertificateRequest,
                &[1, 64, 0, 2, 4, 3, 0, 2, 0, 0]
            )
            .is_err()
        );
        // Body where there should be none.
        assert_eq!(
            HandshakeMessage::parse(HandshakeType::ServerHelloDone, &[0]),
            Err(Error::Decode("ServerHelloDone: trailing bytes"))
        );
    }

    #[test]
    fn signed_params_layout() {
        let ske = ServerKeyExchange {
            named_group: named_group::X25519,
            public_key: vec![9; 32],
            signature_scheme: signature_scheme::ECDSA_SECP256R1_SHA256,
            signature: vec![1, 2],
        };
        let mut expect = vec![3, 0, 29, 32];
        expect.extend_from_slice(&[9; 32]);
        assert_eq!(ske.signed_params(), expect);
        // The params are the first bytes of the body.
        let body = HandshakeMessage::ServerKeyExchange(ske).to_body().unwrap();
        assert!(body.starts_with(&expect));
    }

    #[test]
    fn write_failures_leave_the_buffer_unchanged() {
        let msg = HandshakeMessage::ClientKeyExchange(ClientKeyExchange {
            public_key: vec![0; 256],
        });
        let mut out = vec![1, 2];
        assert!(matches!(msg.write_body(&mut out), Err(Error::TooLarge(_))));
        assert_eq!(out, [1, 2]);
        let msg = HandshakeMessage::Certificate(CertificateMsg {
            certificates: vec![vec![0; 1 << 23], vec![0; 1 << 23]],
        });
        assert!(matches!(msg.write_body(&mut out), Err(Error::TooLarge(_))));
        assert_eq!(out, [1, 2]);
    }
}
