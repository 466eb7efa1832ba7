//! Certificates and fingerprints through the public API, with certificates
//! made by OpenSSL (tests/data/README.md says how) and by rtcwire itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rtcwire_dtls::{DtlsCertificate, Error, Fingerprint, FingerprintAlgorithm, verify_fingerprint};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `openssl x509 -inform der -in openssl-p256.cert.der -noout -fingerprint -sha256`.
const OPENSSL_P256_SHA256: &str =
    "1C:CD:A0:A8:0E:EE:42:3C:9E:A2:30:26:ED:21:14:5C:E0:03:DE:8E:D6:47:39:17:EF:03:69:8A:3F:CA:EA:C7";

#[test]
fn generated_certificate_fingerprint_format() {
    let certificate = DtlsCertificate::generate().unwrap();
    let fingerprint = certificate.fingerprint();
    assert_eq!(fingerprint.algorithm, FingerprintAlgorithm::Sha256);
    assert_eq!(fingerprint.bytes.len(), 32);
    assert_eq!(fingerprint.hash_function(), "sha-256");
    let value = fingerprint.to_sdp_value();
    assert_eq!(value.len(), 95);
    for (i, c) in value.chars().enumerate() {
        if i % 3 == 2 {
            assert_eq!(c, ':', "{value}");
        } else {
            assert!(c.is_ascii_digit() || ('A'..='F').contains(&c), "{value}");
        }
    }
    assert_eq!(fingerprint.to_string(), format!("sha-256 {value}"));
    assert_eq!(
        fingerprint,
        Fingerprint::of(FingerprintAlgorithm::Sha256, certificate.der())
    );
    assert_eq!(verify_fingerprint(certificate.der(), &[fingerprint]), Ok(()));
    // Cloning shares the certificate.
    let clone = certificate.clone();
    assert_eq!(clone.der(), certificate.der());
}

#[test]
fn loads_an_openssl_certificate_and_key() {
    let der = data("openssl-p256.cert.der");
    let certificate = DtlsCertificate::from_der(der.clone(), &data("openssl-p256.key.pk8.der")).unwrap();
    assert_eq!(certificate.der(), &der[..]);
    assert_eq!(certificate.fingerprint().to_sdp_value(), OPENSSL_P256_SHA256);
    // The X.509 v1 certificate of the same key loads too.
    DtlsCertificate::from_der(
        data("openssl-p256-v1.cert.der"),
        &data("openssl-p256.key.pk8.der"),
    )
    .unwrap();
}

#[test]
fn rejects_a_key_that_is_not_the_certificates() {
    let key = data("openssl-p256.key.pk8.der");
    let other = DtlsCertificate::generate().unwrap();
    for cert in [
        other.der().to_vec(),
        data("openssl-p384.cert.der"),
        data("openssl-rsa2048.cert.der"),
    ] {
        assert!(matches!(
            DtlsCertificate::from_der(cert, &key),
            Err(Error::Certificate(_))
        ));
    }
    // Not a PKCS#8 ECDSA P-256 key at all, and not a certificate.
    let cert = data("openssl-p256.cert.der");
    assert!(matches!(
        DtlsCertificate::from_der(cert.clone(), &cert),
        Err(Error::Certificate(_))
    ));
    assert!(matches!(
        DtlsCertificate::from_der(b"junk".to_vec(), &key),
        Err(Error::Certificate(_))
    ));
    assert!(matches!(
        DtlsCertificate::from_der(cert[..cert.len() - 1].to_vec(), &key),
        Err(Error::Certificate(_))
    ));
}

#[test]
fn verify_fingerprint_accepts_any_matching_one() {
    let der = data("openssl-p256.cert.der");
    let unrelated = DtlsCertificate::generate().unwrap().fingerprint();
    let right = Fingerprint::parse_sdp("sha-256", OPENSSL_P256_SHA256).unwrap();
    let sha512 = Fingerprint::of(FingerprintAlgorithm::Sha512, &der);
    assert_eq!(
        verify_fingerprint(&der, &[unrelated.clone(), right.clone()]),
        Ok(())
    );
    assert_eq!(verify_fingerprint(&der, &[right, unrelated.clone()]), Ok(()));
    // A different algorithm than ours.
    assert_eq!(verify_fingerprint(&der, &[unrelated.clone(), sha512]), Ok(()));
}

#[test]
fn verify_fingerprint_rejects_a_wrong_one_and_names_both() {
    let der = data("openssl-p256.cert.der");
    let wrong = DtlsCertificate::generate().unwrap().fingerprint();
    let mut off_by_one_bit = Fingerprint::parse_sdp("sha-256", OPENSSL_P256_SHA256).unwrap();
    off_by_one_bit.bytes[31] ^= 1;
    // The same bytes, claimed for another hash function.
    let mut sha384 = Fingerprint::of(FingerprintAlgorithm::Sha384, &der);
    sha384.algorithm = FingerprintAlgorithm::Sha512;
    for expected in [
        vec![wrong.clone()],
        vec![wrong.clone(), off_by_one_bit],
        vec![wrong.clone(), sha384],
    ] {
        let error = verify_fingerprint(&der, &expected).unwrap_err();
        assert_eq!(
            error,
            Error::FingerprintMismatch {
                expected: wrong.to_string(),
                actual: format!("sha-256 {OPENSSL_P256_SHA256}")
            }
        );
        let message = error.to_string();
        assert!(message.contains(&wrong.to_sdp_value()), "{message}");
        assert!(message.contains(OPENSSL_P256_SHA256), "{message}");
    }
    assert!(matches!(
        verify_fingerprint(&der, &[]),
        Err(Error::FingerprintMismatch { .. })
    ));
}

#[test]
fn parses_fingerprints_from_real_sdp() {
    // shared/sdp-corpus: Chromium 156, and aiortc 1.16 (all three hashes).
    let lines = [
        "sha-256 D1:C5:D7:13:41:2A:AF:06:97:E5:40:A6:4C:EE:50:31:A7:FB:8C:C5:2B:C7:93:50:B7:02:EB:C2:8E:13:CE:63",
        "sha-256 D9:AE:10:25:E4:DD:45:D9:57:91:C5:26:6A:91:C7:32:23:27:A7:D6:7F:A9:5D:73:C1:06:B9:54:E9:8F:99:AD",
        "sha-384 56:5E:FF:33:5E:40:40:70:57:E1:59:05:D7:20:C6:EE:7C:CD:4D:46:62:37:7E:E7:0E:42:3C:01:24:72:2C:C8:CA:\
         85:E0:17:DD:77:47:17:6C:94:F3:89:1F:7E:BB:ED",
        "sha-512 82:95:1E:35:E5:9E:BC:1B:A6:07:4A:48:34:E4:29:02:FD:D6:43:87:BE:63:D3:BC:85:EC:A6:47:30:DA:C8:94:7E:\
         12:B3:52:12:93:BC:C0:D4:93:48:E8:87:7B:51:63:78:A5:C9:DD:AB:AC:0E:FD:3E:14:E1:CD:72:14:2A:34",
    ];
    for line in lines {
        let (hash_function, value) = line.split_once(' ').unwrap();
        let fingerprint = Fingerprint::parse_sdp(hash_function, value).unwrap();
        assert_eq!(fingerprint.hash_function(), hash_function);
        assert_eq!(fingerprint.to_sdp_value(), value);
        assert_eq!(fingerprint.to_string(), line);
        assert_eq!(line.parse::<Fingerprint>().unwrap(), fingerprint);
    }
    let chromium = Fingerprint::parse_sdp("sha-256", &lines[0][8..]).unwrap();
    assert_eq!(chromium.bytes[..4], [0xD1, 0xC5, 0xD7, 0x13]);
    // Case-insensitive, both halves.
    assert_eq!(
        Fingerprint::parse_sdp("SHA-256", &lines[0][8..].to_lowercase()).unwrap(),
        chromium
    );
}

#[test]
fn rejects_malformed_fingerprints() {
    let good =
        "D1:C5:D7:13:41:2A:AF:06:97:E5:40:A6:4C:EE:50:31:A7:FB:8C:C5:2B:C7:93:50:B7:02:EB:C2:8E:13:CE:63";
    assert!(Fingerprint::parse_sdp("sha-256", good).is_ok());
    let bad = [
        ("sha-1", good),
        ("md5", good),
        ("sha256", good),
        ("sha-384", good),                          // length of the wrong hash
        ("sha-256", &good[..good.len() - 3]),       // 31 bytes
        ("sha-256", &good[1..]),                    // a single digit
        ("sha-256", &good.replace(':', "")),        // no colons
        ("sha-256", &good.replacen("D1", "G1", 1)), // not hex
        ("sha-256", &format!("{good}:")),           // trailing colon
        ("sha-256", &good.replacen(':', "::", 1)),  // empty byte
        ("sha-256", ""),
    ];
    for (hash_function, value) in bad {
        assert!(
            matches!(
                Fingerprint::parse_sdp(hash_function, value),
                Err(Error::Certificate(_))
            ),
            "{hash_function} {value}"
        );
    }
    assert!("sha-256".parse::<Fingerprint>().is_err());
}

/// OpenSSL reads the certificates we generate, sees the same fingerprint, and
/// finds them valid now.
#[test]
#[ignore = "needs the openssl binary"]
fn openssl_accepts_generated_certificates() {
    let certificate = DtlsCertificate::generate().unwrap();
    let path = std::env::temp_dir().join(format!("rtcwire-dtls-{}.der", std::process::id()));
    std::fs::write(&path, certificate.der()).unwrap();
    let output = std::process::Command::new("openssl")
        .args([
            "x509",
            "-inform",
            "der",
            "-noout",
            "-subject",
            "-fingerprint",
            "-sha256",
            "-checkend",
            "0",
            "-in",
        ])
        .arg(&path)
        .output()
        .expect("run openssl");
    std::fs::remove_file(&path).unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("CN = rtcwire"), "{stdout}");
    assert!(
        stdout.contains(&certificate.fingerprint().to_sdp_value()),
        "{stdout}"
    );
    assert!(stdout.contains("Certificate will not expire"), "{stdout}");
}
