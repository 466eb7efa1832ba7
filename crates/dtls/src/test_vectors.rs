//! Handshake message bodies written by hand from the RFC structures, with
//! the value each one decodes to. Shared by the unit tests, the fuzzing
//! harness (its seeds) and the integration tests.
#![allow(dead_code)] // each user takes a different subset

use crate::extensions::{Extension, ext};
use crate::handshake::{
    CertificateMsg, CertificateRequest, CertificateVerify, ClientHello, ClientKeyExchange, Finished,
    HandshakeMessage, HelloVerifyRequest, ServerHello, ServerKeyExchange,
};

/// A message body and what it decodes to.
pub(crate) struct Vector {
    /// Short name, also the fuzz seed's file name.
    pub(crate) name: &'static str,
    /// The decoded message.
    pub(crate) msg: HandshakeMessage,
    /// Its body on the wire.
    pub(crate) body: Vec<u8>,
}

/// A hello random: 0x00, 0x01, ... 0x1f.
const RANDOM: [u8; 32] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, //
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];

/// ClientHello of a DTLS 1.2-only WebRTC client, first flight (no cookie).
const CLIENT_HELLO_HEAD: [u8; 2] = [0xfe, 0xfd]; // client_version
const CLIENT_HELLO_TAIL: [u8; 58] = [
    0x00, // session_id: empty
    0x00, // cookie: empty
    0x00, 0x04, 0xc0, 0x2b, 0xc0, 0x2f, // cipher_suites: ECDHE_ECDSA/RSA_AES_128_GCM
    0x01, 0x00, // compression_methods: null
    0x00, 0x2e, // extensions: 46 bytes
    // use_srtp: 0x0001, 0x0007; no MKI
    0x00, 0x0e, 0x00, 0x07, 0x00, 0x04, 0x00, 0x01, 0x00, 0x07, 0x00, //
    0x00, 0x17, 0x00, 0x00, // extended_master_secret
    0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, // supported_groups: x25519, secp256r1
    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, // ec_point_formats: uncompressed
    0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x04, 0x03, 0x08, 0x04, // signature_algorithms
    0xff, 0x01, 0x00, 0x01, 0x00, // renegotiation_info: empty
];

/// The second ClientHello, echoing a cookie, and without extensions.
const CLIENT_HELLO_COOKIE_TAIL: [u8; 24] = [
    0x00, // session_id: empty
    // cookie: 16 bytes
    0x10, 0xc0, 0x0c, 0x1e, 0xc0, 0x0c, 0x1e, 0xc0, 0x0c, 0x1e, 0xc0, 0x0c, 0x1e, 0xc0, 0x0c, 0x1e,
    0xc0, //
    0x00, 0x02, 0xc0, 0x2b, // cipher_suites
    0x01, 0x00, // compression_methods
];

const HELLO_VERIFY_REQUEST: [u8; 23] = [
    0xfe, 0xff, // server_version: DTLS 1.0, as RFC 6347 4.2.1 recommends
    0x14, // cookie: 20 bytes
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
    0x12, 0x13, 0x14,
];

/// ServerHello as OpenSSL answers a WebRTC client: a 32-byte session id.
const SERVER_HELLO_HEAD: [u8; 2] = [0xfe, 0xfd];
const SERVER_HELLO_TAIL: [u8; 29] = [
    0xc0, 0x2b, // cipher_suite
    0x00, // compression_method
    0x00, 0x18, // extensions: 24 bytes
    0xff, 0x01, 0x00, 0x01, 0x00, // renegotiation_info
    0x00, 0x17, 0x00, 0x00, // extended_master_secret
    0x00, 0x0e, 0x00, 0x05, 0x00, 0x02, 0x00, 0x07, 0x00, // use_srtp: AEAD_AES_128_GCM
    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, // ec_point_formats
];

/// Certificate with two (toy) DER entries.
const CERTIFICATE: [u8; 3 + 3 + 5 + 3 + 2] = [
    0x00, 0x00, 0x0d, // certificate_list: 13 bytes
    0x00, 0x00, 0x05, 0x30, 0x03, 0x02, 0x01, 0x01, // SEQUENCE { INTEGER 1 }
    0x00, 0x00, 0x02, 0x30, 0x00, // SEQUENCE {}
];

/// ServerKeyExchange, ECDHE x25519, ECDSA P-256 SHA-256 (a toy signature).
const SERVER_KEY_EXCHANGE: [u8; 4 + 32 + 2 + 2 + 8] = [
    0x03, // curve_type: named_curve
    0x00, 0x1d, // x25519
    0x20, // public key: 32 bytes
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, //
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, //
    0x04, 0x03, // ecdsa_secp256r1_sha256
    0x00, 0x08, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, // signature: 8 bytes
];

/// CertificateRequest as a WebRTC server sends it: no authorities.
const CERTIFICATE_REQUEST: [u8; 3 + 2 + 6 + 2] = [
    0x02, 0x40, 0x01, // certificate_types: ecdsa_sign, rsa_sign
    0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, // supported_signature_algorithms
    0x00, 0x00, // certificate_authorities: none
];

/// CertificateRequest naming one authority.
const CERTIFICATE_REQUEST_CA: [u8; 1 + 1 + 2 + 2 + 2 + 2 + 4] = [
    0x01, 0x40, // certificate_types: ecdsa_sign
    0x00, 0x02, 0x04, 0x03, // supported_signature_algorithms
    0x00, 0x06, // certificate_authorities: 6 bytes
    0x00, 0x04, 0x30, 0x02, 0x31, 0x00, // one DistinguishedName
];

/// ClientKeyExchange: an uncompressed P-256 point (toy coordinates).
fn client_key_exchange() -> Vec<u8> {
    let mut v = vec![0x41, 0x04]; // 65 bytes, uncompressed point
    v.extend((0..64u8).map(|i| i.wrapping_mul(3)));
    v
}

const CERTIFICATE_VERIFY: [u8; 2 + 2 + 6] = [
    0x04, 0x03, // ecdsa_secp256r1_sha256
    0x00, 0x06, 0x30, 0x04, 0x02, 0x00, 0x02, 0x00, // signature: 6 bytes
];

const FINISHED: [u8; 12] = [
    0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac,
];

/// Every message type, as bodies and decoded values.
pub(crate) fn messages() -> Vec<Vector> {
    vec![
        Vector {
            name: "hello_request",
            msg: HandshakeMessage::HelloRequest,
            body: vec![],
        },
        Vector {
            name: "client_hello",
            msg: client_hello_minimal(),
            body: [&CLIENT_HELLO_HEAD[..], &RANDOM, &CLIENT_HELLO_TAIL].concat(),
        },
        Vector {
            name: "client_hello_cookie",
            msg: HandshakeMessage::ClientHello(ClientHello {
                client_version: 0xfefd,
                random: RANDOM,
                session_id: vec![],
                cookie: [0xc0, 0x0c, 0x1e].repeat(6)[..16].to_vec(),
                cipher_suites: vec![0xc02b],
                compression_methods: vec![0],
                extensions: vec![],
            }),
            body: [&CLIENT_HELLO_HEAD[..], &RANDOM, &CLIENT_HELLO_COOKIE_TAIL].concat(),
        },
        Vector {
            name: "client_hello_chromium",
            msg: chromium_client_hello_value(),
            body: chromium_client_hello(),
        },
        Vector {
            name: "hello_verify_request",
            msg: HandshakeMessage::HelloVerifyRequest(HelloVerifyRequest {
                server_version: 0xfeff,
                cookie: (1..=20).collect(),
            }),
            body: HELLO_VERIFY_REQUEST.to_vec(),
        },
        Vector {
            name: "server_hello",
            msg: HandshakeMessage::ServerHello(ServerHello {
                server_version: 0xfefd,
                random: RANDOM,
                session_id: RANDOM.iter().rev().copied().collect(),
                cipher_suite: 0xc02b,
                compression_method: 0,
                extensions: vec![
                    Extension::RenegotiationInfo(vec![]),
                    Extension::ExtendedMasterSecret,
                    Extension::UseSrtp {
                        profiles: vec![0x0007],
                        mki: vec![],
                    },
                    Extension::EcPointFormats(vec![0]),
                ],
            }),
            body: [
                &SERVER_HELLO_HEAD[..],
                &RANDOM,
                &[0x20], // session_id: 32 bytes
                &RANDOM.iter().rev().copied().collect::<Vec<u8>>(),
                &SERVER_HELLO_TAIL,
            ]
            .concat(),
        },
        Vector {
            name: "certificate",
            msg: HandshakeMessage::Certificate(CertificateMsg {
                certificates: vec![vec![0x30, 0x03, 0x02, 0x01, 0x01], vec![0x30, 0x00]],
            }),
            body: CERTIFICATE.to_vec(),
        },
        Vector {
            name: "certificate_empty",
            msg: HandshakeMessage::Certificate(CertificateMsg { certificates: vec![] }),
            body: vec![0, 0, 0],
        },
        Vector {
            name: "server_key_exchange",
            msg: HandshakeMessage::ServerKeyExchange(ServerKeyExchange {
                named_group: 29,
                public_key: (0x20..0x40).collect(),
                signature_scheme: 0x0403,
                signature: vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02],
            }),
            body: SERVER_KEY_EXCHANGE.to_vec(),
        },
        Vector {
            name: "certificate_request",
            msg: HandshakeMessage::CertificateRequest(CertificateRequest {
                certificate_types: vec![64, 1],
                signature_schemes: vec![0x0403, 0x0804, 0x0401],
                authorities: vec![],
            }),
            body: CERTIFICATE_REQUEST.to_vec(),
        },
        Vector {
            name: "certificate_request_ca",
            msg: HandshakeMessage::CertificateRequest(CertificateRequest {
                certificate_types: vec![64],
                signature_schemes: vec![0x0403],
                authorities: vec![vec![0x30, 0x02, 0x31, 0x00]],
            }),
            body: CERTIFICATE_REQUEST_CA.to_vec(),
        },
        Vector {
            name: "server_hello_done",
            msg: HandshakeMessage::ServerHelloDone,
            body: vec![],
        },
        Vector {
            name: "client_key_exchange",
            msg: HandshakeMessage::ClientKeyExchange(ClientKeyExchange {
                public_key: client_key_exchange()[1..].to_vec(),
            }),
            body: client_key_exchange(),
        },
        Vector {
            name: "certificate_verify",
            msg: HandshakeMessage::CertificateVerify(CertificateVerify {
                signature_scheme: 0x0403,
                signature: vec![0x30, 0x04, 0x02, 0x00, 0x02, 0x00],
            }),
            body: CERTIFICATE_VERIFY.to_vec(),
        },
        Vector {
            name: "finished",
            msg: HandshakeMessage::Finished(Finished {
                verify_data: FINISHED.to_vec(),
            }),
            body: FINISHED.to_vec(),
        },
    ]
}

/// The decoded form of the `client_hello` vector.
pub(crate) fn client_hello_minimal() -> HandshakeMessage {
    HandshakeMessage::ClientHello(ClientHello {
        client_version: 0xfefd,
        random: RANDOM,
        session_id: vec![],
        cookie: vec![],
        cipher_suites: vec![0xc02b, 0xc02f],
        compression_methods: vec![0],
        extensions: vec![
            Extension::UseSrtp {
                profiles: vec![0x0001, 0x0007],
                mki: vec![],
            },
            Extension::ExtendedMasterSecret,
            Extension::SupportedGroups(vec![29, 23]),
            Extension::EcPointFormats(vec![0]),
            Extension::SignatureAlgorithms(vec![0x0403, 0x0804]),
            Extension::RenegotiationInfo(vec![]),
        ],
    })
}

/// The extension order of [`chromium_client_hello`] (randomized by the
/// browser on every connection).
pub(crate) const CHROMIUM_EXTENSION_ORDER: [u16; 7] = [
    ext::SIGNATURE_ALGORITHMS,
    ext::USE_SRTP,
    ext::KEY_SHARE,
    ext::EXTENDED_MASTER_SECRET,
    ext::SUPPORTED_VERSIONS,
    ext::PSK_KEY_EXCHANGE_MODES,
    ext::SUPPORTED_GROUPS,
];

const CHROMIUM_HEAD: [u8; 2] = [0xfe, 0xfd]; // legacy client_version: DTLS 1.2
const CHROMIUM_SUITES: [u8; 38] = [
    0x00, // session_id: empty
    0x00, // cookie: empty
    0x00, 0x1e, // cipher_suites: 15
    0x13, 0x01, 0x13, 0x02, 0x13, 0x03, // TLS 1.3 AES_128_GCM, AES_256_GCM, CHACHA20
    0xc0, 0x2b, 0xc0, 0x2f, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x2c, 0xc0, 0x30, // ECDHE AEAD
    0xc0, 0x09, 0xc0, 0x13, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x9c, 0x00, 0x2f, // legacy CBC and RSA
    0x01, 0x00, // compression_methods: null
    0x05, 0x32, // extensions: 1330 bytes
];
const CHROMIUM_EXTENSIONS_BEFORE_SHARES: [u8; 22 + 13 + 8] = [
    // signature_algorithms: 8 schemes
    0x00, 0x0d, 0x00, 0x12, 0x00, 0x10, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05,
    0x01, 0x08, 0x06, 0x06, 0x01, //
    // use_srtp: AES128_CM_SHA1_80, AEAD_AES_256_GCM, AEAD_AES_128_GCM; no MKI
    0x00, 0x0e, 0x00, 0x09, 0x00, 0x06, 0x00, 0x01, 0x00, 0x08, 0x00, 0x07, 0x00, //
    // key_share: 1258 bytes, client_shares 1256 bytes, X25519MLKEM768 share of 1216 bytes
    0x00, 0x33, 0x04, 0xea, 0x04, 0xe8, 0x11, 0xec, //
];
const CHROMIUM_MLKEM_SHARE_LEN: [u8; 2] = [0x04, 0xc0];
const CHROMIUM_X25519_SHARE_HEAD: [u8; 4] = [0x00, 0x1d, 0x00, 0x20]; // x25519, 32 bytes
const CHROMIUM_EXTENSIONS_AFTER_SHARES: [u8; 4 + 9 + 6 + 14] = [
    0x00, 0x17, 0x00, 0x00, // extended_master_secret
    0x00, 0x2b, 0x00, 0x05, 0x04, 0xfe, 0xfc, 0xfe, 0xfd, // supported_versions: DTLS 1.3, 1.2
    0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, // psk_key_exchange_modes: psk_dhe_ke
    // supported_groups: X25519MLKEM768, x25519, secp256r1, secp384r1
    0x00, 0x0a, 0x00, 0x0a, 0x00, 0x08, 0x11, 0xec, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
];

fn mlkem_share() -> Vec<u8> {
    (0..1216u32)
        .map(|i| (i.wrapping_mul(7) ^ (i >> 8)) as u8)
        .collect()
}

fn x25519_share() -> Vec<u8> {
    (0..32u8).map(|i| 0xe0 ^ i).collect()
}

/// A ClientHello body in Chromium 156's style (see INTEROP.md): 1,402
/// bytes, 1,414 with its handshake header, so it needs two records.
pub(crate) fn chromium_client_hello() -> Vec<u8> {
    [
        &CHROMIUM_HEAD[..],
        &RANDOM,
        &CHROMIUM_SUITES,
        &CHROMIUM_EXTENSIONS_BEFORE_SHARES,
        &CHROMIUM_MLKEM_SHARE_LEN,
        &mlkem_share(),
        &CHROMIUM_X25519_SHARE_HEAD,
        &x25519_share(),
        &CHROMIUM_EXTENSIONS_AFTER_SHARES,
    ]
    .concat()
}

fn chromium_client_hello_value() -> HandshakeMessage {
    let key_share = [
        &[0x04, 0xe8, 0x11, 0xec][..],
        &CHROMIUM_MLKEM_SHARE_LEN,
        &mlkem_share(),
        &CHROMIUM_X25519_SHARE_HEAD,
        &x25519_share(),
    ]
    .concat();
    HandshakeMessage::ClientHello(ClientHello {
        client_version: 0xfefd,
        random: RANDOM,
        session_id: vec![],
        cookie: vec![],
        cipher_suites: vec![
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc009, 0xc013, 0xc00a,
            0xc014, 0x009c, 0x002f,
        ],
        compression_methods: vec![0],
        extensions: vec![
            Extension::SignatureAlgorithms(vec![
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ]),
            Extension::UseSrtp {
                profiles: vec![0x0001, 0x0008, 0x0007],
                mki: vec![],
            },
            Extension::Unknown {
                extension_type: ext::KEY_SHARE,
                data: key_share,
            },
            Extension::ExtendedMasterSecret,
            Extension::SupportedVersions(vec![0xfefc, 0xfefd]),
            Extension::Unknown {
                extension_type: ext::PSK_KEY_EXCHANGE_MODES,
                data: vec![0x01, 0x01],
            },
            Extension::SupportedGroups(vec![0x11ec, 29, 23, 24]),
        ],
    })
}
