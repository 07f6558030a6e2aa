//! The TLS configuration matelot uses to reach a Cloudron: the system's trusted roots plus,
//! when configured, the operator's own CA file (a private CA, the lab's CA).
//!
//! Verification is always on. There is deliberately no switch to turn it off: a self-signed
//! Cloudron is reached by trusting its CA with `[cloudron] ca_file`, never by trusting anyone.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::error::CloudronError;

/// Build a verifying rustls client configuration (aws-lc-rs provider, TLS 1.2 and 1.3,
/// ALPN h2 and http/1.1).
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, CloudronError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);

    let mut extra = 0;
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|e| {
                CloudronError::Config(format!(
                    "[cloudron] ca_file {}: a certificate cannot be used as a trust anchor: {e}",
                    path.display()
                ))
            })?;
            extra += 1;
        }
    }
    if added + extra == 0 {
        let why = native
            .errors
            .first()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Err(CloudronError::Config(format!(
            "no trusted root certificates: none found on this system{why} and no [cloudron] \
             ca_file is set: install the system's CA certificates (ca-certificates) or set \
             ca_file to the Cloudron's CA"
        )));
    }

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CloudronError::Config(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Every certificate in a PEM file; an error when the file is unreadable or holds none.
fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, CloudronError> {
    let bytes = std::fs::read(path).map_err(|e| {
        CloudronError::Config(format!(
            "[cloudron] ca_file {} cannot be read: {e}",
            path.display()
        ))
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            CloudronError::Config(format!(
                "[cloudron] ca_file {} is not a valid PEM file: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(CloudronError::Config(format!(
            "[cloudron] ca_file {} holds no certificate (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_ca_is_accepted_and_garbage_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).expect("ca");
        let good = dir.path().join("ca.pem");
        std::fs::write(&good, ca.pem()).expect("write");
        let config = client_config(Some(&good)).expect("config with a CA file");
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let err = client_config(Some(&empty)).expect_err("no certificate");
        assert!(err.to_string().contains("holds no certificate"), "{err}");

        let missing = dir.path().join("missing.pem");
        let err = client_config(Some(&missing)).expect_err("missing file");
        assert!(err.to_string().contains("cannot be read"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }
}
