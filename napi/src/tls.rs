//! TLS to TURN servers (`turns:`, RFC 8656 §3.1 over TLS): rustls client configurations.
//! The server's certificate is checked against the system's roots (the PEM bundle of the
//! distribution, `SSL_CERT_FILE` first, plus `NODE_EXTRA_CA_CERTS` as Node does) or against
//! roots the application gives (the nonstandard `turnsCa` of the configuration), and its
//! name against the URL's host (a DNS name, or an IP address in the certificate's SANs).

use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

/// Where distributions keep their CA bundle (the first that exists is read).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
];

/// Largest PEM text of given roots accepted (a bundle of a few hundred certificates).
pub const MAX_ROOTS_PEM_LEN: usize = 1024 * 1024;

fn add_pem(roots: &mut RootCertStore, pem: &[u8]) -> usize {
    let mut added = 0;
    for der in CertificateDer::pem_slice_iter(pem).flatten() {
        if roots.add(der).is_ok() {
            added += 1;
        }
    }
    added
}

fn config(roots: RootCertStore) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The configuration with the system's roots, built once per process.
pub fn system_config() -> Result<Arc<ClientConfig>, String> {
    static SYSTEM: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    SYSTEM
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            let env_file = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
            let files = env_file.into_iter().chain(SYSTEM_BUNDLES.iter().map(std::path::PathBuf::from));
            for f in files {
                if let Ok(pem) = std::fs::read(&f) {
                    if add_pem(&mut roots, &pem) > 0 {
                        break;
                    }
                }
            }
            if let Some(extra) = std::env::var_os("NODE_EXTRA_CA_CERTS") {
                if let Ok(pem) = std::fs::read(extra) {
                    add_pem(&mut roots, &pem);
                }
            }
            config(roots)
        })
        .clone()
}

/// A configuration trusting only the roots in `pem` (one or more PEM certificates).
pub fn config_with_roots(pem: &str) -> Result<Arc<ClientConfig>, String> {
    if pem.len() > MAX_ROOTS_PEM_LEN {
        return Err(format!("turnsCa is longer than {MAX_ROOTS_PEM_LEN} bytes"));
    }
    let mut roots = RootCertStore::empty();
    if add_pem(&mut roots, pem.as_bytes()) == 0 {
        return Err("turnsCa holds no usable PEM certificate".to_string());
    }
    config(roots)
}

/// A client connection to `host` (the URL's: a DNS name or an IP address literal).
pub fn connect(config: &Arc<ClientConfig>, host: &str) -> Result<ClientConnection, String> {
    let name = match crate::resolve::ip_literal(host) {
        Some(ip) => ServerName::IpAddress(ip.into()),
        None => ServerName::try_from(host.to_string()).map_err(|e| format!("{host:?} is not a TLS server name: {e}"))?,
    };
    let mut conn = ClientConnection::new(config.clone(), name).map_err(|e| format!("TLS: {e}"))?;
    // The host bounds what it hands over (MAX_TCP_SEND_QUEUE) and gives plaintext to rustls
    // only once its previous records are written.
    conn.set_buffer_limit(None);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_roots_must_hold_a_certificate_and_names_must_be_valid() {
        assert!(config_with_roots("not a certificate").is_err());
        assert!(config_with_roots(&"x".repeat(MAX_ROOTS_PEM_LEN + 1)).is_err());
        let system = system_config().expect("a configuration, even with no system bundle");
        assert!(connect(&system, "turn.example.com").is_ok());
        assert!(connect(&system, "127.0.0.1").is_ok());
        assert!(connect(&system, "[::1]").is_ok());
        assert!(connect(&system, "bad name!").is_err());
    }
}
