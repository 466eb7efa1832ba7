//! Certificates for the fuzz targets that run DTLS: made once per process
//! (key generation would dominate every run).

use std::sync::{Arc, OnceLock};

use rtcwire_dtls::DtlsCertificate;

/// Two certificates, one per side.
pub fn certificates() -> &'static [Arc<DtlsCertificate>; 2] {
    static CERTS: OnceLock<[Arc<DtlsCertificate>; 2]> = OnceLock::new();
    CERTS.get_or_init(|| {
        [
            Arc::new(DtlsCertificate::generate().expect("certificate")),
            Arc::new(DtlsCertificate::generate().expect("certificate")),
        ]
    })
}
