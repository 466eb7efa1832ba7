//! Hello extensions (RFC 5246 section 7.4.1.4) that a WebRTC DTLS 1.2
//! endpoint reads or writes: use_srtp (RFC 5764 section 4.1.1),
//! extended_master_secret (RFC 7627), renegotiation_info (RFC 5746),
//! supported_groups and ec_point_formats (RFC 8422), signature_algorithms
//! (RFC 5246 section 7.4.1.4.1, code points of RFC 8446), and the
//! ClientHello form of supported_versions (RFC 8446 section 4.2.1), which
//! browsers send to offer DTLS 1.3. Everything else (key_share, psk modes,
//! padding, GREASE, ...) is kept as [`Extension::Unknown`] with its bytes,
//! so a hello re-encodes exactly.

use crate::Error;
use crate::codec::{LengthPrefix, Reader, put_nested, put_u16, put_u16_list, put_vec8, u16_list};

/// Extension type numbers (IANA "TLS ExtensionType Values").
#[allow(dead_code)] // the registry, kept whole as documentation
pub(crate) mod ext {
    /// server_name (RFC 6066).
    pub(crate) const SERVER_NAME: u16 = 0;
    /// supported_groups, formerly elliptic_curves (RFC 8422).
    pub(crate) const SUPPORTED_GROUPS: u16 = 10;
    /// ec_point_formats (RFC 8422).
    pub(crate) const EC_POINT_FORMATS: u16 = 11;
    /// signature_algorithms (RFC 5246).
    pub(crate) const SIGNATURE_ALGORITHMS: u16 = 13;
    /// use_srtp (RFC 5764).
    pub(crate) const USE_SRTP: u16 = 14;
    /// padding (RFC 7685).
    pub(crate) const PADDING: u16 = 21;
    /// extended_master_secret (RFC 7627).
    pub(crate) const EXTENDED_MASTER_SECRET: u16 = 23;
    /// session_ticket (RFC 5077).
    pub(crate) const SESSION_TICKET: u16 = 35;
    /// supported_versions (RFC 8446).
    pub(crate) const SUPPORTED_VERSIONS: u16 = 43;
    /// psk_key_exchange_modes (RFC 8446).
    pub(crate) const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    /// key_share (RFC 8446).
    pub(crate) const KEY_SHARE: u16 = 51;
    /// renegotiation_info (RFC 5746).
    pub(crate) const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// SRTP protection profiles (RFC 5764 section 4.1.2, RFC 7714 section 14.2).
pub(crate) mod srtp_profile {
    /// SRTP_AES128_CM_HMAC_SHA1_80.
    pub(crate) const SRTP_AES128_CM_HMAC_SHA1_80: u16 = 0x0001;
    /// SRTP_AES128_CM_HMAC_SHA1_32.
    pub(crate) const SRTP_AES128_CM_HMAC_SHA1_32: u16 = 0x0002;
    /// SRTP_AEAD_AES_128_GCM.
    pub(crate) const SRTP_AEAD_AES_128_GCM: u16 = 0x0007;
    /// SRTP_AEAD_AES_256_GCM.
    pub(crate) const SRTP_AEAD_AES_256_GCM: u16 = 0x0008;
}

/// Named groups for ECDHE (IANA "TLS Supported Groups").
#[allow(dead_code)] // the registry, kept whole as documentation
pub(crate) mod named_group {
    /// secp256r1 (P-256).
    pub(crate) const SECP256R1: u16 = 23;
    /// secp384r1 (P-384).
    pub(crate) const SECP384R1: u16 = 24;
    /// x25519 (RFC 8422).
    pub(crate) const X25519: u16 = 29;
    /// X25519MLKEM768, the hybrid post-quantum group browsers offer for
    /// (D)TLS 1.3 only.
    pub(crate) const X25519MLKEM768: u16 = 0x11ec;
}

/// Signature schemes, as TLS 1.2 SignatureAndHashAlgorithm pairs (hash
/// byte, signature byte) which RFC 8446 renamed.
#[allow(dead_code)] // the registry, kept whole as documentation
pub(crate) mod signature_scheme {
    /// rsa_pkcs1_sha256.
    pub(crate) const RSA_PKCS1_SHA256: u16 = 0x0401;
    /// ecdsa_secp256r1_sha256.
    pub(crate) const ECDSA_SECP256R1_SHA256: u16 = 0x0403;
    /// rsa_pkcs1_sha384.
    pub(crate) const RSA_PKCS1_SHA384: u16 = 0x0501;
    /// ecdsa_secp384r1_sha384.
    pub(crate) const ECDSA_SECP384R1_SHA384: u16 = 0x0503;
    /// rsa_pkcs1_sha512.
    pub(crate) const RSA_PKCS1_SHA512: u16 = 0x0601;
    /// rsa_pss_rsae_sha256.
    pub(crate) const RSA_PSS_RSAE_SHA256: u16 = 0x0804;
    /// rsa_pss_rsae_sha384.
    pub(crate) const RSA_PSS_RSAE_SHA384: u16 = 0x0805;
    /// rsa_pss_rsae_sha512.
    pub(crate) const RSA_PSS_RSAE_SHA512: u16 = 0x0806;
    /// ed25519.
    pub(crate) const ED25519: u16 = 0x0807;
}

/// EC point formats (RFC 8422 section 5.1.2).
pub(crate) mod ec_point_format {
    /// uncompressed, the only one RFC 8422 allows.
    pub(crate) const UNCOMPRESSED: u8 = 0;
}

/// Which hello an extension block belongs to: some extensions have a
/// different form in a ServerHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HelloKind {
    /// ClientHello.
    Client,
    /// ServerHello.
    Server,
}

/// One hello extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Extension {
    /// use_srtp (14): the SRTP protection profiles offered (client) or the
    /// one chosen (server), and the MKI (RFC 5764 section 4.1.1).
    UseSrtp {
        /// Protection profiles, [`srtp_profile`] values. Not empty.
        profiles: Vec<u16>,
        /// srtp_mki, at most 255 bytes; WebRTC uses none.
        mki: Vec<u8>,
    },
    /// extended_master_secret (23), empty (RFC 7627 section 5.1).
    ExtendedMasterSecret,
    /// renegotiation_info (0xff01): `renegotiated_connection`, empty on an
    /// initial handshake (RFC 5746 section 3.2).
    RenegotiationInfo(Vec<u8>),
    /// supported_groups (10): [`named_group`] values. Not empty.
    SupportedGroups(Vec<u16>),
    /// ec_point_formats (11): [`ec_point_format`] values. Not empty.
    EcPointFormats(Vec<u8>),
    /// signature_algorithms (13): [`signature_scheme`] values. Not empty.
    SignatureAlgorithms(Vec<u16>),
    /// supported_versions (43) in its ClientHello form: a list with a
    /// 1-byte length of versions offered (`0xfefc` is DTLS 1.3). Read only
    /// from a ClientHello; in a ServerHello the extension stays
    /// [`Extension::Unknown`].
    SupportedVersions(Vec<u16>),
    /// Any other extension, kept as its bytes.
    Unknown {
        /// Extension type.
        extension_type: u16,
        /// extension_data.
        data: Vec<u8>,
    },
}

impl Extension {
    /// The extension type number.
    pub(crate) fn extension_type(&self) -> u16 {
        match self {
            Extension::UseSrtp { .. } => ext::USE_SRTP,
            Extension::ExtendedMasterSecret => ext::EXTENDED_MASTER_SECRET,
            Extension::RenegotiationInfo(_) => ext::RENEGOTIATION_INFO,
            Extension::SupportedGroups(_) => ext::SUPPORTED_GROUPS,
            Extension::EcPointFormats(_) => ext::EC_POINT_FORMATS,
            Extension::SignatureAlgorithms(_) => ext::SIGNATURE_ALGORITHMS,
            Extension::SupportedVersions(_) => ext::SUPPORTED_VERSIONS,
            Extension::Unknown { extension_type, .. } => *extension_type,
        }
    }

    /// Decodes `extension_data` of an extension of type `extension_type`
    /// found in a hello of kind `kind`. Rejects trailing bytes and lists
    /// outside their RFC length ranges.
    pub(crate) fn parse(extension_type: u16, data: &[u8], kind: HelloKind) -> Result<Self, Error> {
        let mut r = Reader::new(data);
        let ext = match extension_type {
            ext::USE_SRTP => {
                let bad = Error::Decode("use_srtp extension");
                let profiles = r.vec16().map_err(|_| bad.clone())?;
                if profiles.is_empty() {
                    return Err(bad);
                }
                let profiles = u16_list(profiles, "use_srtp extension")?;
                let mki = r.vec8().map_err(|_| bad)?.to_vec();
                r.finish("use_srtp extension")?;
                Extension::UseSrtp { profiles, mki }
            }
            ext::EXTENDED_MASTER_SECRET => {
                r.finish("extended_master_secret extension")?;
                Extension::ExtendedMasterSecret
            }
            ext::RENEGOTIATION_INFO => {
                let info = r
                    .vec8()
                    .map_err(|_| Error::Decode("renegotiation_info extension"))?;
                r.finish("renegotiation_info extension")?;
                Extension::RenegotiationInfo(info.to_vec())
            }
            ext::SUPPORTED_GROUPS => {
                Extension::SupportedGroups(nonempty_u16_list16(&mut r, "supported_groups extension")?)
            }
            ext::SIGNATURE_ALGORITHMS => {
                Extension::SignatureAlgorithms(nonempty_u16_list16(&mut r, "signature_algorithms extension")?)
            }
            ext::EC_POINT_FORMATS => {
                let formats = r
                    .vec8()
                    .map_err(|_| Error::Decode("ec_point_formats extension"))?;
                if formats.is_empty() {
                    return Err(Error::Decode("ec_point_formats extension"));
                }
                r.finish("ec_point_formats extension")?;
                Extension::EcPointFormats(formats.to_vec())
            }
            ext::SUPPORTED_VERSIONS if kind == HelloKind::Client => {
                let versions = r
                    .vec8()
                    .map_err(|_| Error::Decode("supported_versions extension"))?;
                if versions.is_empty() {
                    return Err(Error::Decode("supported_versions extension"));
                }
                r.finish("supported_versions extension")?;
                Extension::SupportedVersions(u16_list(versions, "supported_versions extension")?)
            }
            _ => Extension::Unknown {
                extension_type,
                data: data.to_vec(),
            },
        };
        Ok(ext)
    }

    /// Appends the extension: type, 2-byte length, extension_data. On
    /// error (a list too long for its length prefix) `out` is unchanged.
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        put_u16(out, self.extension_type());
        let written = put_nested(out, LengthPrefix::U16, |out| match self {
            Extension::UseSrtp { profiles, mki } => {
                put_u16_list(out, LengthPrefix::U16, profiles)?;
                put_vec8(out, mki)
            }
            Extension::ExtendedMasterSecret => Ok(()),
            Extension::RenegotiationInfo(info) => put_vec8(out, info),
            Extension::SupportedGroups(list) | Extension::SignatureAlgorithms(list) => {
                put_u16_list(out, LengthPrefix::U16, list)
            }
            Extension::EcPointFormats(formats) => put_vec8(out, formats),
            Extension::SupportedVersions(list) => put_u16_list(out, LengthPrefix::U8, list),
            Extension::Unknown { data, .. } => {
                out.extend_from_slice(data);
                Ok(())
            }
        });
        if written.is_err() {
            out.truncate(start);
        }
        written
    }
}

/// A `uint16` list with a 2-byte length prefix that fills `r`, not empty.
fn nonempty_u16_list16(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u16>, Error> {
    let bytes = r.vec16().map_err(|_| Error::Decode(what))?;
    if bytes.is_empty() {
        return Err(Error::Decode(what));
    }
    r.finish(what)?;
    u16_list(bytes, what)
}

/// Decodes the contents of a hello's `extensions` vector (without its
/// 2-byte length). Extensions may come in any order; a type appearing twice
/// is a decode error (RFC 5246 section 7.4.1.4).
pub(crate) fn parse_extensions(block: &[u8], kind: HelloKind) -> Result<Vec<Extension>, Error> {
    let mut r = Reader::new(block);
    let mut exts = Vec::new();
    while !r.is_empty() {
        let bad = |_| Error::Decode("extension: truncated");
        let extension_type = r.u16().map_err(bad)?;
        let data = r.vec16().map_err(bad)?;
        exts.push(Extension::parse(extension_type, data, kind)?);
    }
    // A block holds at most 16,384 extensions: sorting is cheap and keeps
    // adversarial input from costing n^2 comparisons.
    let mut types: Vec<u16> = exts.iter().map(Extension::extension_type).collect();
    types.sort_unstable();
    if types.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::Decode("hello: duplicate extension"));
    }
    Ok(exts)
}

/// Appends an `extensions` vector: 2-byte length, then each extension.
/// Does not check for duplicates; a writer adds each extension once.
pub(crate) fn write_extensions(exts: &[Extension], out: &mut Vec<u8>) -> Result<(), Error> {
    put_nested(out, LengthPrefix::U16, |out| {
        exts.iter().try_for_each(|e| e.write(out))
    })
}

/// The first extension of type `extension_type`.
#[allow(dead_code)] // used by the fuzzing harness and tests
pub(crate) fn find(exts: &[Extension], extension_type: u16) -> Option<&Extension> {
    exts.iter().find(|e| e.extension_type() == extension_type)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// Each known extension, as a client would send it, with its encoding.
    fn vectors() -> Vec<(Extension, &'static [u8])> {
        vec![
            (
                Extension::UseSrtp {
                    profiles: vec![0x0001, 0x0008, 0x0007],
                    mki: vec![],
                },
                // type 14, length 9, profiles length 6, three profiles, empty MKI
                &[
                    0x00, 0x0e, 0x00, 0x09, 0x00, 0x06, 0x00, 0x01, 0x00, 0x08, 0x00, 0x07, 0x00,
                ],
            ),
            (
                Extension::UseSrtp {
                    profiles: vec![0x0007],
                    mki: vec![0xab, 0xcd],
                },
                &[0x00, 0x0e, 0x00, 0x07, 0x00, 0x02, 0x00, 0x07, 0x02, 0xab, 0xcd],
            ),
            (Extension::ExtendedMasterSecret, &[0x00, 0x17, 0x00, 0x00]),
            (
                Extension::RenegotiationInfo(vec![]),
                &[0xff, 0x01, 0x00, 0x01, 0x00],
            ),
            (
                Extension::RenegotiationInfo(vec![1, 2, 3]),
                &[0xff, 0x01, 0x00, 0x04, 0x03, 0x01, 0x02, 0x03],
            ),
            (
                Extension::SupportedGroups(vec![0x11ec, 29, 23, 24]),
                &[
                    0x00, 0x0a, 0x00, 0x0a, 0x00, 0x08, 0x11, 0xec, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
                ],
            ),
            (
                Extension::EcPointFormats(vec![0]),
                &[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00],
            ),
            (
                Extension::SignatureAlgorithms(vec![0x0403, 0x0804, 0x0401]),
                &[
                    0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
                ],
            ),
            (
                Extension::SupportedVersions(vec![0xfefc, 0xfefd]),
                &[0x00, 0x2b, 0x00, 0x05, 0x04, 0xfe, 0xfc, 0xfe, 0xfd],
            ),
            (
                // psk_key_exchange_modes: psk_dhe_ke
                Extension::Unknown {
                    extension_type: ext::PSK_KEY_EXCHANGE_MODES,
                    data: vec![0x01, 0x01],
                },
                &[0x00, 0x2d, 0x00, 0x02, 0x01, 0x01],
            ),
            (
                // A GREASE extension (RFC 8701), empty.
                Extension::Unknown {
                    extension_type: 0x3a3a,
                    data: vec![],
                },
                &[0x3a, 0x3a, 0x00, 0x00],
            ),
        ]
    }

    fn parse_one(bytes: &[u8], kind: HelloKind) -> Result<Extension, Error> {
        let mut exts = parse_extensions(bytes, kind)?;
        assert_eq!(exts.len(), 1);
        Ok(exts.remove(0))
    }

    #[test]
    fn parse_and_emit_each_extension() {
        for (ext, bytes) in vectors() {
            assert_eq!(parse_one(bytes, HelloKind::Client).unwrap(), ext, "{bytes:02x?}");
            let mut out = Vec::new();
            ext.write(&mut out).unwrap();
            assert_eq!(out, bytes, "{ext:?}");
        }
    }

    #[test]
    fn supported_versions_in_a_server_hello_is_unknown() {
        // DTLS 1.3 ServerHello form: one version, no list length.
        let bytes = [0x00, 0x2b, 0x00, 0x02, 0xfe, 0xfc];
        let ext = parse_one(&bytes, HelloKind::Server).unwrap();
        assert_eq!(
            ext,
            Extension::Unknown {
                extension_type: ext::SUPPORTED_VERSIONS,
                data: vec![0xfe, 0xfc]
            }
        );
        let mut out = Vec::new();
        ext.write(&mut out).unwrap();
        assert_eq!(out, bytes);
        // The client form is a list.
        assert!(parse_one(&bytes, HelloKind::Client).is_err());
    }

    #[test]
    fn every_truncation_is_an_error() {
        for (_, bytes) in vectors() {
            for cut in 1..bytes.len() {
                assert!(
                    parse_extensions(&bytes[..cut], HelloKind::Client).is_err(),
                    "{bytes:02x?} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn trailing_bytes_inside_extension_data_are_rejected() {
        for (ext, bytes) in vectors() {
            if matches!(ext, Extension::Unknown { .. }) {
                continue;
            }
            let mut longer = bytes.to_vec();
            longer.push(0);
            let len = u16::from_be_bytes([longer[2], longer[3]]) + 1;
            longer[2..4].copy_from_slice(&len.to_be_bytes());
            assert!(
                matches!(
                    parse_extensions(&longer, HelloKind::Client),
                    Err(Error::Decode(_))
                ),
                "{ext:?}"
            );
        }
    }

    #[test]
    fn out_of_range_lists_are_rejected() {
        let bad: &[&[u8]] = &[
            &[0x00, 0x0e, 0x00, 0x03, 0x00, 0x00, 0x00], // use_srtp, no profiles
            &[0x00, 0x0e, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00], // use_srtp, odd profile list
            &[0x00, 0x17, 0x00, 0x01, 0x00],             // extended_master_secret with data
            &[0x00, 0x0a, 0x00, 0x02, 0x00, 0x00],       // supported_groups, empty
            &[0x00, 0x0a, 0x00, 0x03, 0x00, 0x01, 0x17], // supported_groups, odd
            &[0x00, 0x0b, 0x00, 0x01, 0x00],             // ec_point_formats, empty
            &[0x00, 0x0d, 0x00, 0x02, 0x00, 0x00],       // signature_algorithms, empty
            &[0x00, 0x2b, 0x00, 0x01, 0x00],             // supported_versions, empty
            &[0x00, 0x2b, 0x00, 0x02, 0x01, 0xfe],       // supported_versions, odd
            &[0xff, 0x01, 0x00, 0x00],                   // renegotiation_info, no length
        ];
        for bytes in bad {
            assert!(
                matches!(parse_extensions(bytes, HelloKind::Client), Err(Error::Decode(_))),
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn duplicates_are_rejected_in_any_position() {
        let ems = [0x00, 0x17, 0x00, 0x00];
        let grease = [0x3a, 0x3a, 0x00, 0x00];
        let srtp = [0x00, 0x0e, 0x00, 0x05, 0x00, 0x02, 0x00, 0x01, 0x00];
        let ok = [&ems[..], &grease, &srtp].concat();
        assert_eq!(parse_extensions(&ok, HelloKind::Client).unwrap().len(), 3);
        for dup in [&ems[..], &grease, &srtp] {
            for at in [0, 4, ok.len()] {
                let mut block = ok.clone();
                block.splice(at..at, dup.iter().copied());
                assert_eq!(
                    parse_extensions(&block, HelloKind::Client),
                    Err(Error::Decode("hello: duplicate extension"))
                );
            }
        }
    }

    #[test]
    fn block_round_trip_and_find() {
        let exts: Vec<Extension> = vectors()
            .into_iter()
            .map(|(e, _)| e)
            .filter(|e| !matches!(e, Extension::UseSrtp { mki, .. } if !mki.is_empty()))
            .filter(|e| !matches!(e, Extension::RenegotiationInfo(i) if !i.is_empty()))
            .collect();
        let mut out = Vec::new();
        write_extensions(&exts, &mut out).unwrap();
        let mut r = Reader::new(&out);
        let block = r.vec16().unwrap();
        r.finish("block").unwrap();
        assert_eq!(parse_extensions(block, HelloKind::Client).unwrap(), exts);
        assert_eq!(
            find(&exts, ext::EXTENDED_MASTER_SECRET),
            Some(&Extension::ExtendedMasterSecret)
        );
        assert_eq!(find(&exts, ext::KEY_SHARE), None);
    }

    #[test]
    fn oversized_values_do_not_encode() {
        let mut out = vec![1];
        let e = Extension::SupportedVersions(vec![0xfefd; 128]);
        assert!(matches!(e.write(&mut out), Err(Error::TooLarge(_))));
        let e = Extension::RenegotiationInfo(vec![0; 256]);
        assert!(matches!(e.write(&mut out), Err(Error::TooLarge(_))));
        let e = Extension::Unknown {
            extension_type: 99,
            data: vec![0; 65536],
        };
        assert!(matches!(e.write(&mut out), Err(Error::TooLarge(_))));
        assert_eq!(out, [1]);
    }
}
