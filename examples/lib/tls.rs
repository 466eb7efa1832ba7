//! TLS for the echo server's HTTPS and WSS, with rustls driven by hand
//! over a tokio `TcpStream` (no tokio-rustls), and a self-signed
//! certificate made by rcgen at start; and the client configuration the
//! peers' `--tls-ca` makes for `turns:` servers.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use rustls::ServerConnection;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Error;

/// A server configuration with a fresh self-signed certificate.
#[derive(Debug, Clone)]
pub struct SelfSigned {
    /// For [`TlsStream::new`].
    pub config: Arc<rustls::ServerConfig>,
    /// The certificate (DER), for clients that should trust it.
    pub certificate: CertificateDer<'static>,
    /// Its SHA-256 fingerprint, hex with colons, to compare with what the
    /// browser shows.
    pub fingerprint: String,
}

/// A server configuration with a fresh self-signed certificate for
/// `names` (DNS names or IP addresses).
pub fn self_signed(names: Vec<String>) -> Result<SelfSigned, Error> {
    let certified = rcgen::generate_simple_self_signed(names)?;
    let der: CertificateDer<'static> = certified.cert.der().clone();
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, &der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![der.clone()], key)?;
    Ok(SelfSigned {
        config: Arc::new(config),
        certificate: der,
        fingerprint,
    })
}

/// A TLS server stream over TCP.
#[derive(Debug)]
pub struct TlsStream {
    tcp: TcpStream,
    conn: ServerConnection,
}

impl TlsStream {
    /// Starts the server side; the handshake runs within the first reads.
    pub fn new(tcp: TcpStream, config: Arc<rustls::ServerConfig>) -> Result<TlsStream, Error> {
        Ok(TlsStream {
            tcp,
            conn: ServerConnection::new(config)?,
        })
    }

    /// Reads plaintext; 0 at the end of the stream.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut raw = vec![0u8; 16 * 1024];
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed TCP without close_notify: an end all the same.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            let n = self.tcp.read(&mut raw).await?;
            if n == 0 {
                return Ok(0);
            }
            let mut rest = &raw[..n];
            while !rest.is_empty() {
                self.conn.read_tls(&mut rest)?;
                if let Err(e) = self.conn.process_new_packets() {
                    // Send the alert before giving up.
                    let _ = self.flush().await;
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                }
            }
            self.flush().await?;
        }
    }

    /// Writes plaintext and sends it.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.conn.writer().write_all(data)?;
        self.flush().await
    }

    /// Sends close_notify and shuts TCP down.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush().await?;
        self.tcp.shutdown().await
    }

    async fn flush(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            let mut out = Vec::new();
            self.conn.write_tls(&mut out)?;
            self.tcp.write_all(&out).await?;
        }
        Ok(())
    }
}

/// A client configuration that trusts the certificates in the PEM file
/// `ca` (and nothing else): for `turns:` servers
/// ([`rtcwire::RtcConfig::tls_config`]).
pub fn client_config_trusting(ca: &Path) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| format!("{}: {e}", ca.display()))? {
        let cert = cert.map_err(|e| format!("{}: {e}", ca.display()))?;
        roots.add(cert).map_err(|e| format!("{}: {e}", ca.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("{}: no PEM certificate", ca.display()).into());
    }
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}
