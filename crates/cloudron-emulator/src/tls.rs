//! The emulator's TLS: its own certificate authority (CA:TRUE) and a leaf certificate for
//! `localhost`, `127.0.0.1` and the listen address, signed by it. Clients trust the CA file,
//! as they would a private CA; rustls rejects a CA certificate used directly as a server
//! certificate, hence the two levels.
//!
//! When a directory is given, the CA (certificate and key, 0600) is kept there and reused on
//! the next start, so a client that trusts it keeps working across restarts.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::LabError;

/// File names in the lab directory.
pub const CA_FILE: &str = "cloudron-ca.pem";
pub const CA_KEY_FILE: &str = "cloudron-ca-key.pem";

/// What the server needs and what clients are told.
pub struct TlsMaterial {
    pub server_config: Arc<rustls::ServerConfig>,
    pub ca_pem: String,
    pub ca_file: Option<PathBuf>,
}

fn tls_err(what: &str, e: impl std::fmt::Display) -> LabError {
    LabError::Tls(format!("{what}: {e}"))
}

/// The CA's fixed parameters (so a reloaded key signs leaves its old certificate verifies).
fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "matelot lab Cloudron emulator CA");
    dn.push(DnType::OrganizationName, "matelot lab");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p
}

/// Load the CA from `dir` or make a new one (written to `dir` when given).
fn ca(dir: Option<&Path>) -> Result<(String, KeyPair, Option<PathBuf>), LabError> {
    if let Some(dir) = dir {
        let cert_path = dir.join(CA_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        if let (Ok(pem), Ok(key_pem)) = (
            std::fs::read_to_string(&cert_path),
            std::fs::read_to_string(&key_path),
        ) && let Ok(key) = KeyPair::from_pem(&key_pem)
        {
            return Ok((pem, key, Some(cert_path)));
        }
    }
    let key = KeyPair::generate().map_err(|e| tls_err("generating the CA key", e))?;
    let cert = ca_params()
        .self_signed(&key)
        .map_err(|e| tls_err("signing the CA certificate", e))?;
    let pem = cert.pem();
    let mut written = None;
    if let Some(dir) = dir {
        let cert_path = dir.join(CA_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        write_file(&key_path, key.serialize_pem().as_bytes())?;
        write_file(&cert_path, pem.as_bytes())?;
        written = Some(cert_path);
    }
    Ok((pem, key, written))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), LabError> {
    use std::io::Write;
    let io = |source| LabError::Io {
        what: "writing the emulator's CA",
        path: path.to_path_buf(),
        source,
    };
    let mut f = super::persist::private_file(path).map_err(io)?;
    f.write_all(bytes).map_err(io)
}

/// Make the CA (or reuse it) and a leaf for the listen address.
pub fn material(listen_ip: IpAddr, dir: Option<&Path>) -> Result<TlsMaterial, LabError> {
    let (ca_pem, ca_key, ca_file) = ca(dir)?;
    let issuer = Issuer::new(ca_params(), ca_key);

    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if !listen_ip.is_unspecified() && listen_ip.to_string() != "127.0.0.1" {
        names.push(listen_ip.to_string());
    }
    let mut leaf = CertificateParams::new(names).map_err(|e| tls_err("leaf names", e))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localhost");
    leaf.distinguished_name = dn;
    leaf.is_ca = IsCa::NoCa;
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().map_err(|e| tls_err("generating the leaf key", e))?;
    let leaf_cert = leaf
        .signed_by(&leaf_key, &issuer)
        .map_err(|e| tls_err("signing the leaf certificate", e))?;

    let chain = vec![CertificateDer::from(leaf_cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("TLS protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| tls_err("TLS server certificate", e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        server_config: Arc::new(config),
        ca_pem,
        ca_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_is_written_privately_and_reused() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!("tempdir")
        };
        let ip: IpAddr = [127, 0, 0, 1].into();
        let first = material(ip, Some(dir.path())).map(|m| m.ca_pem);
        let second = material(ip, Some(dir.path())).map(|m| m.ca_pem);
        assert!(first.is_ok());
        assert_eq!(first.ok(), second.ok(), "the CA is reused");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(CA_KEY_FILE))
            .map(|m| m.permissions().mode() & 0o777)
            .ok();
        assert_eq!(mode, Some(0o600));
    }

    #[test]
    fn without_a_dir_nothing_is_written() {
        let m = material([127, 0, 0, 1].into(), None);
        assert!(m.as_ref().is_ok_and(|m| m.ca_file.is_none()));
        assert!(m.is_ok_and(|m| m.ca_pem.starts_with("-----BEGIN CERTIFICATE-----")));
    }
}
