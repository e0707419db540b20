//! TLS settings as MicroPython's `ssl.SSLContext` gathers them, turned into `rustls` configs.
//!
//! [`TlsSettings`] holds what a script configures (side, certificate chain and key, trusted
//! CAs, verify mode, host-name checking); [`TlsSettings::client_config`] and
//! [`TlsSettings::server_config`] build the `rustls` configuration once per change. Certificates
//! and keys are accepted in PEM or DER, as MicroPython's `load_cert_chain` and
//! `load_verify_locations` accept both.

use std::fmt;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, ClientConfig, DistinguishedName, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

/// How much of the peer's certificate is checked (`ssl.CERT_NONE`, `CERT_OPTIONAL`,
/// `CERT_REQUIRED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyMode {
    /// Accept any certificate (clients), or ask for none (servers).
    None,
    /// Servers: verify a client certificate if one is sent. Clients treat it as `Required`.
    Optional,
    /// The peer must present a certificate that chains to a trusted root.
    Required,
}

/// A certificate, key or configuration that cannot be used; the message names the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSetupError(pub String);

impl fmt::Display for TlsSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsSetupError {}

fn setup_err(msg: impl Into<String>) -> TlsSetupError {
    TlsSetupError(msg.into())
}

/// True when `data` looks like PEM text rather than DER.
fn is_pem(data: &[u8]) -> bool {
    data.windows(10).any(|w| w == b"-----BEGIN")
}

/// Parses one or more certificates, PEM (any number of `CERTIFICATE` blocks) or DER (one).
pub fn parse_certs(data: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    if is_pem(data) {
        let certs = CertificateDer::pem_slice_iter(data)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| setup_err(format!("invalid PEM certificate: {e}")))?;
        if certs.is_empty() {
            return Err(setup_err("no certificate found in PEM data"));
        }
        return Ok(certs);
    }
    if data.first() != Some(&0x30) {
        return Err(setup_err("invalid certificate: neither PEM nor DER"));
    }
    Ok(vec![CertificateDer::from(data.to_vec())])
}

/// Parses a private key: PEM (PKCS#8, PKCS#1 RSA or SEC1 EC) or the same three in DER.
pub fn parse_key(data: &[u8]) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    if is_pem(data) {
        return PrivateKeyDer::from_pem_slice(data).map_err(|e| setup_err(format!("invalid PEM key: {e}")));
    }
    PrivateKeyDer::try_from(data.to_vec()).map_err(|e| setup_err(format!("invalid key: {e}")))
}

/// The crypto provider every config uses (ring).
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())).clone()
}

/// The roots `ssl=True` and contexts without `load_verify_locations` trust: the platform's
/// store, or the bundled Mozilla roots when the platform has none. Loaded once per process
/// (read-only afterwards, so runtimes on several threads may share it).
pub fn default_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            Arc::new(roots)
        })
        .clone()
}

/// Everything an `SSLContext` has been told.
#[derive(Debug)]
pub struct TlsSettings {
    /// Server side (`PROTOCOL_TLS_SERVER`) or client side.
    pub server: bool,
    /// Our certificate chain (from `load_cert_chain`), leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// Our private key (from `load_cert_chain`).
    pub key: Option<PrivateKeyDer<'static>>,
    /// Trusted CA certificates (from `load_verify_locations`); none means the default roots
    /// for clients.
    pub cas: Vec<CertificateDer<'static>>,
    /// How the peer's certificate is checked.
    pub verify: VerifyMode,
    /// Clients: whether the certificate must match the server name.
    pub check_hostname: bool,
}

impl Clone for TlsSettings {
    fn clone(&self) -> Self {
        TlsSettings {
            server: self.server,
            chain: self.chain.clone(),
            key: self.key.as_ref().map(|k| k.clone_key()),
            cas: self.cas.clone(),
            verify: self.verify,
            check_hostname: self.check_hostname,
        }
    }
}

impl TlsSettings {
    /// Settings for a new context: clients verify the server and its name, servers ask for no
    /// client certificate (the defaults of MicroPython's and CPython's `SSLContext`).
    pub fn new(server: bool) -> Self {
        TlsSettings {
            server,
            chain: Vec::new(),
            key: None,
            cas: Vec::new(),
            verify: if server { VerifyMode::None } else { VerifyMode::Required },
            check_hostname: !server,
        }
    }

    /// Sets our certificate chain and key after checking that the key can sign.
    pub fn set_cert_chain(&mut self, chain: &[u8], key: &[u8]) -> Result<(), TlsSetupError> {
        let chain = parse_certs(chain)?;
        let key = parse_key(key)?;
        provider()
            .key_provider
            .load_private_key(key.clone_key())
            .map_err(|e| setup_err(format!("unusable private key: {e}")))?;
        self.chain = chain;
        self.key = Some(key);
        Ok(())
    }

    /// Adds trusted CA certificates.
    pub fn add_cas(&mut self, data: &[u8]) -> Result<(), TlsSetupError> {
        self.cas.extend(parse_certs(data)?);
        Ok(())
    }

    fn root_store(&self) -> Result<Arc<RootCertStore>, TlsSetupError> {
        if self.cas.is_empty() {
            return Ok(default_roots());
        }
        let mut roots = RootCertStore::empty();
        for ca in &self.cas {
            roots.add(ca.clone()).map_err(|e| setup_err(format!("invalid CA certificate: {e}")))?;
        }
        Ok(Arc::new(roots))
    }

    /// A client configuration for these settings.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsSetupError> {
        let verifier: Arc<dyn ServerCertVerifier> = match self.verify {
            VerifyMode::None => Arc::new(AcceptAnyServer(provider().signature_verification_algorithms)),
            VerifyMode::Optional | VerifyMode::Required => {
                let webpki = WebPkiServerVerifier::builder_with_provider(self.root_store()?, provider())
                    .build()
                    .map_err(|e| setup_err(e.to_string()))?;
                Arc::new(VerifyServer { webpki, cas: self.cas.clone(), check_hostname: self.check_hostname })
            }
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| setup_err(e.to_string()))?
            .dangerous().with_custom_certificate_verifier(verifier);
        let config = match &self.key {
            Some(key) => builder
                .with_client_auth_cert(self.chain.clone(), key.clone_key())
                .map_err(|e| setup_err(e.to_string()))?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }

    /// A server configuration for these settings; fails without a certificate chain.
    ///
    /// A server that verifies client certificates speaks TLS 1.2, as MicroPython's mbedTLS
    /// does, so that a client it refuses learns it during the handshake: under TLS 1.3 the
    /// client finishes its handshake before the server has looked at its certificate, and the
    /// server's alert reaches it only at its next read (its `write` and `drain` succeed). A
    /// server that asks for no certificate offers TLS 1.3 and 1.2.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsSetupError> {
        let Some(key) = &self.key else {
            return Err(setup_err("a server context needs load_cert_chain first"));
        };
        let versions: &[&rustls::SupportedProtocolVersion] = match self.verify {
            VerifyMode::None => rustls::DEFAULT_VERSIONS,
            VerifyMode::Optional | VerifyMode::Required => &[&rustls::version::TLS12],
        };
        let builder = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(versions)
            .map_err(|e| setup_err(e.to_string()))?;
        let builder = match self.verify {
            VerifyMode::None => builder.with_no_client_auth(),
            mode => {
                let mut verifier = WebPkiClientVerifier::builder_with_provider(self.root_store()?, provider());
                if mode == VerifyMode::Optional {
                    verifier = verifier.allow_unauthenticated();
                }
                let webpki = verifier.build().map_err(|e| setup_err(e.to_string()))?;
                builder.with_client_cert_verifier(Arc::new(VerifyClient { webpki, cas: self.cas.clone() }))
            }
        };
        let config = builder
            .with_single_cert(self.chain.clone(), key.clone_key())
            .map_err(|e| setup_err(e.to_string()))?;
        Ok(Arc::new(config))
    }
}

/// The name a client sends for SNI and checks the certificate against: a DNS name or an IP
/// address. Names rustls cannot use (empty, with spaces) are refused here.
pub fn server_name(name: &str) -> Result<ServerName<'static>, TlsSetupError> {
    ServerName::try_from(name.to_owned()).map_err(|_| setup_err(format!("invalid server_hostname {name:?}")))
}

/// `CERT_NONE` on a client: any certificate is accepted, but the handshake signatures are still
/// checked so the connection is at least consistent with the certificate sent.
#[derive(Debug)]
struct AcceptAnyServer(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// What the chain check may forgive, as mbedTLS (MicroPython's TLS library) does: a
/// self-signed certificate that the script trusts directly (`load_verify_locations` with the
/// peer's own certificate, even one marked as a CA), and a certificate that names its host only
/// in the subject's Common Name, without a subjectAltName.
fn forgive(
    err: rustls::Error,
    end_entity: &CertificateDer<'_>,
    cas: &[CertificateDer<'static>],
    name: Option<&ServerName<'_>>,
) -> Result<(), rustls::Error> {
    let rustls::Error::InvalidCertificate(cert_err) = &err else { return Err(err) };
    let pinned = cas.iter().any(|ca| ca.as_ref() == end_entity.as_ref());
    let name_only = matches!(cert_err, CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. });
    // webpki reports a CA certificate used as the end entity as an `Other` error.
    let chain_only = pinned && matches!(cert_err, CertificateError::UnknownIssuer | CertificateError::Other(_));
    if !name_only && !chain_only {
        return Err(err);
    }
    let (_, cert) = x509_parser::parse_x509_certificate(end_entity.as_ref())
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    if chain_only {
        // The chain check stopped before the dates; check them here.
        let now = x509_parser::time::ASN1Time::now();
        if now < cert.validity().not_before {
            return Err(rustls::Error::InvalidCertificate(CertificateError::NotValidYet));
        }
        if now > cert.validity().not_after {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
        }
    }
    match name {
        Some(name) if !name_matches(&cert, name) => {
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForName))
        }
        _ => Ok(()),
    }
}

/// Whether `cert` names `name`: in its subjectAltName when it has one, else in its Common Name.
fn name_matches(cert: &x509_parser::certificate::X509Certificate<'_>, name: &ServerName<'_>) -> bool {
    use x509_parser::extensions::GeneralName;
    let wanted = match name {
        ServerName::DnsName(d) => d.as_ref().to_ascii_lowercase(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => return false,
    };
    let matches = |candidate: &str| {
        let candidate = candidate.to_ascii_lowercase();
        match candidate.strip_prefix("*.") {
            Some(suffix) => wanted.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
            None => candidate == wanted,
        }
    };
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        return san.value.general_names.iter().any(|g| match g {
            GeneralName::DNSName(d) => matches(d),
            GeneralName::IPAddress(bytes) => ip_from_bytes(bytes).is_some_and(|ip| ip.to_string() == wanted),
            _ => false,
        });
    }
    cert.subject().iter_common_name().filter_map(|cn| cn.as_str().ok()).any(matches)
}

fn ip_from_bytes(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => Some(<[u8; 4]>::try_from(bytes).ok()?.into()),
        16 => Some(<[u8; 16]>::try_from(bytes).ok()?.into()),
        _ => None,
    }
}

/// Clients with `CERT_REQUIRED`: webpki's verification, with [`forgive`]'s exceptions, and
/// without the name check when `check_hostname` is off.
#[derive(Debug)]
struct VerifyServer {
    webpki: Arc<WebPkiServerVerifier>,
    cas: Vec<CertificateDer<'static>>,
    check_hostname: bool,
}

impl ServerCertVerifier for VerifyServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Ok(v) => Ok(v),
            Err(err) => {
                let name = self.check_hostname.then_some(server_name);
                forgive(err, end_entity, &self.cas, name).map(|_| ServerCertVerified::assertion())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Servers with `CERT_OPTIONAL`/`CERT_REQUIRED`: webpki's client verification, forgiving a
/// directly trusted self-signed client certificate as [`forgive`] does.
#[derive(Debug)]
struct VerifyClient {
    webpki: Arc<dyn ClientCertVerifier>,
    cas: Vec<CertificateDer<'static>>,
}

impl ClientCertVerifier for VerifyClient {
    fn offer_client_auth(&self) -> bool {
        self.webpki.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.webpki.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match self.webpki.verify_client_cert(end_entity, intermediates, now) {
            Ok(v) => Ok(v),
            Err(err) => forgive(err, end_entity, &self.cas, None).map(|_| ClientCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
