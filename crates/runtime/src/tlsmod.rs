//! The native `tls` module: MicroPython's `tls.SSLContext` over rustls. The frozen `ssl`
//! module (python-lib/ssl.py) re-exports it with the exception classes, as MicroPython's `ssl`
//! wraps `tls`.
//!
//! Errors from the TLS layer are mapped to what MicroPython (built on mbedTLS) raises, so
//! scripts that print or compare them behave the same: certificate verification failures are
//! `ValueError`-compatible with mbedTLS's verify text, other failures `OSError`-compatible with
//! mbedTLS's code and name.

use std::cell::RefCell;
use std::sync::Arc;

use microloop_core::stream::StreamError;
use microloop_core::tls::{TlsSettings, TlsSetupError, VerifyMode};
use rustls::{CertificateError, ClientConfig, ServerConfig};
use rustpython_vm::{
    Py, PyObjectRef, PyPayload, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyBytes, PyStr, PyType},
    convert::ToPyException,
    function::{FuncArgs, OptionalArg},
    pyclass,
    types::Constructor,
};

pub(crate) use _tls::module_def;

mod socket;

/// `PROTOCOL_TLS_CLIENT` (MicroPython's value).
const PROTOCOL_TLS_CLIENT: i32 = 0;
/// `PROTOCOL_TLS_SERVER`.
const PROTOCOL_TLS_SERVER: i32 = 1;

/// A TLS configuration, shared by every stream that uses it (MicroPython's `SSLContext`).
#[pyclass(module = "tls", name = "SSLContext")]
#[derive(Debug, PyPayload)]
pub struct PySslContext {
    /// What the script configured.
    settings: RefCell<TlsSettings>,
    /// The rustls client config built from `settings`, until they change.
    client: RefCell<Option<Arc<ClientConfig>>>,
    /// The rustls server config built from `settings`, until they change.
    server: RefCell<Option<Arc<ServerConfig>>>,
}

impl PySslContext {
    /// A client context with the defaults (verify against the default roots).
    pub(crate) fn default_client() -> Self {
        PySslContext::new(TlsSettings::new(false))
    }

    fn new(settings: TlsSettings) -> Self {
        PySslContext { settings: RefCell::new(settings), client: RefCell::new(None), server: RefCell::new(None) }
    }

    /// Whether this is a server-side context.
    pub(crate) fn is_server(&self) -> bool {
        self.settings.borrow().server
    }

    fn changed(&self) {
        self.client.borrow_mut().take();
        self.server.borrow_mut().take();
    }

    /// The client config, built once per change.
    pub(crate) fn client_config(&self, vm: &VirtualMachine) -> PyResult<Arc<ClientConfig>> {
        if let Some(c) = self.client.borrow().as_ref() {
            return Ok(c.clone());
        }
        let config = self.settings.borrow().client_config().map_err(|e| setup_error(e, vm))?;
        *self.client.borrow_mut() = Some(config.clone());
        Ok(config)
    }

    /// The server config, built once per change.
    pub(crate) fn server_config(&self, vm: &VirtualMachine) -> PyResult<Arc<ServerConfig>> {
        if let Some(c) = self.server.borrow().as_ref() {
            return Ok(c.clone());
        }
        let config = self.settings.borrow().server_config().map_err(|e| setup_error(e, vm))?;
        *self.server.borrow_mut() = Some(config.clone());
        Ok(config)
    }
}

/// A certificate or key argument: a path (read as a file) or the data itself.
fn load_data(arg: &PyObjectRef, vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    if let Some(path) = arg.downcast_ref::<PyStr>() {
        return std::fs::read(&*path.to_string_lossy()).map_err(|e| e.to_pyexception(vm));
    }
    if let Some(b) = arg.downcast_ref::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    let buf = <rustpython_vm::function::ArgBytesLike as rustpython_vm::convert::TryFromObject>::try_from_object(vm, arg.clone())?;
    Ok(buf.borrow_buf().to_vec())
}

fn setup_error(e: TlsSetupError, vm: &VirtualMachine) -> PyBaseExceptionRef {
    vm.new_value_error(e.0)
}

/// The arguments of `load_verify_locations`.
#[derive(rustpython_vm::FromArgs)]
struct VerifyLocationsArgs {
    #[pyarg(any, optional)]
    cafile: Option<PyObjectRef>,
    #[pyarg(any, optional)]
    cadata: Option<PyObjectRef>,
}

impl Constructor for PySslContext {
    type Args = (i32,);
    fn py_new(_cls: &Py<PyType>, (protocol,): (i32,), vm: &VirtualMachine) -> PyResult<Self> {
        match protocol {
            PROTOCOL_TLS_CLIENT => Ok(PySslContext::new(TlsSettings::new(false))),
            PROTOCOL_TLS_SERVER => Ok(PySslContext::new(TlsSettings::new(true))),
            _ => Err(vm.new_value_error("invalid protocol")),
        }
    }
}

#[pyclass(with(Constructor))]
impl PySslContext {
    /// Our certificate chain and private key, each a file path or PEM/DER data. Without
    /// `keyfile` the key is read from `certfile`.
    #[pymethod]
    fn load_cert_chain(zelf: &Py<Self>, certfile: PyObjectRef, keyfile: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<()> {
        let cert = load_data(&certfile, vm)?;
        let key = match keyfile.into_option().filter(|k| !vm.is_none(k)) {
            Some(k) => load_data(&k, vm)?,
            None => cert.clone(),
        };
        // MicroPython's messages for data that is not a certificate or a key at all.
        if microloop_core::tls::parse_certs(&cert).is_err() {
            return Err(vm.new_value_error("invalid cert"));
        }
        if microloop_core::tls::parse_key(&key).is_err() {
            return Err(vm.new_value_error("invalid key"));
        }
        // Leaves the settings as they were if the key cannot sign.
        zelf.settings.borrow_mut().set_cert_chain(&cert, &key).map_err(|e| setup_error(e, vm))?;
        zelf.changed();
        Ok(())
    }

    /// Trusts the CA certificates in `cafile` (a path) or `cadata` (PEM or DER data).
    #[pymethod]
    fn load_verify_locations(zelf: &Py<Self>, args: VerifyLocationsArgs, vm: &VirtualMachine) -> PyResult<()> {
        let mut loaded = false;
        for arg in [args.cafile, args.cadata].into_iter().flatten().filter(|a| !vm.is_none(a)) {
            let data = load_data(&arg, vm)?;
            zelf.settings.borrow_mut().add_cas(&data).map_err(|_| vm.new_value_error("invalid cert"))?;
            loaded = true;
        }
        if !loaded {
            return Err(vm.new_type_error("cafile or cadata must be specified"));
        }
        zelf.changed();
        Ok(())
    }

    /// Uses the platform's (or bundled) roots: what a context without `load_verify_locations`
    /// does already.
    #[pymethod]
    fn load_default_certs(_zelf: &Py<Self>, _args: FuncArgs) {}

    /// As `load_default_certs`.
    #[pymethod]
    fn set_default_verify_paths(_zelf: &Py<Self>) {}

    /// `CERT_NONE`, `CERT_OPTIONAL` or `CERT_REQUIRED`.
    #[pygetset]
    fn verify_mode(zelf: &Py<Self>) -> i32 {
        match zelf.settings.borrow().verify {
            VerifyMode::None => 0,
            VerifyMode::Optional => 1,
            VerifyMode::Required => 2,
        }
    }

    #[pygetset(setter)]
    fn set_verify_mode(zelf: &Py<Self>, value: i32, vm: &VirtualMachine) -> PyResult<()> {
        let mode = match value {
            0 => VerifyMode::None,
            1 => VerifyMode::Optional,
            2 => VerifyMode::Required,
            _ => return Err(vm.new_value_error("invalid verify_mode")),
        };
        zelf.settings.borrow_mut().verify = mode;
        zelf.changed();
        Ok(())
    }

    /// A TLS session over the connected socket `sock`, which it takes over (see
    /// [`socket::wrap_socket`]).
    #[pymethod]
    fn wrap_socket(zelf: &Py<Self>, args: socket::WrapArgs, vm: &VirtualMachine) -> PyResult<rustpython_vm::PyRef<socket::PySslSocket>> {
        socket::wrap_socket(zelf, args, vm)
    }

    /// Clients: whether the server's certificate must match `server_hostname`.
    #[pygetset]
    fn check_hostname(zelf: &Py<Self>) -> bool {
        zelf.settings.borrow().check_hostname
    }

    #[pygetset(setter)]
    fn set_check_hostname(zelf: &Py<Self>, value: bool) {
        zelf.settings.borrow_mut().check_hostname = value;
        zelf.changed();
    }
}

/// The `ssl` module's exception classes, looked up when an error is raised (the module is
/// frozen, so the import cannot fail for want of a file).
fn ssl_class(name: &'static str, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    vm.import("ssl", 0)?.get_attr(name, vm)
}

/// An `ssl.SSLError(code, name)`, printed by MicroPython as the tuple.
fn ssl_error(code: i32, name: &str, vm: &VirtualMachine) -> PyBaseExceptionRef {
    let made = ssl_class("SSLError", vm).and_then(|cls| cls.call((code, name.to_owned()), vm));
    match made.and_then(|e| e.downcast().map_err(|_| vm.new_type_error("SSLError is not an exception"))) {
        Ok(exc) => exc,
        Err(e) => e,
    }
}

/// An `ssl.SSLCertVerificationError` (a ValueError, as MicroPython raises) with mbedTLS's
/// verify text.
fn verify_error(text: &str, vm: &VirtualMachine) -> PyBaseExceptionRef {
    let made = ssl_class("SSLCertVerificationError", vm).and_then(|cls| cls.call((format!("\n{text}\n"),), vm));
    match made.and_then(|e| e.downcast().map_err(|_| vm.new_type_error("SSLCertVerificationError is not an exception"))) {
        Ok(exc) => exc,
        Err(e) => e,
    }
}

/// The exception a failed stream operation raises.
pub(crate) fn stream_error(err: StreamError, vm: &VirtualMachine) -> PyBaseExceptionRef {
    match err {
        StreamError::Io(e) => e.to_pyexception(vm),
        StreamError::HandshakeEof => ssl_error(-0x7280, "MBEDTLS_ERR_SSL_CONN_EOF", vm),
        StreamError::Tls(e) => tls_error(e, vm),
    }
}

fn tls_error(e: rustls::Error, vm: &VirtualMachine) -> PyBaseExceptionRef {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(cert) => {
            let text = match cert {
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    "The certificate Common Name (CN) does not match with the expected CN".to_owned()
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "The certificate validity has expired".to_owned()
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "The certificate validity starts in the future".to_owned()
                }
                CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                    "The certificate is not correctly signed by the trusted CA".to_owned()
                }
                CertificateError::Revoked => "The certificate has been revoked (is on a CRL)".to_owned(),
                other => format!("The certificate is not acceptable: {other:?}"),
            };
            verify_error(&text, vm)
        }
        E::AlertReceived(_) => ssl_error(-0x7780, "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE", vm),
        E::NoCertificatesPresented => ssl_error(-0x7480, "MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE", vm),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            ssl_error(-0x7200, "MBEDTLS_ERR_SSL_INVALID_RECORD", vm)
        }
        E::DecryptError => ssl_error(-0x7180, "MBEDTLS_ERR_SSL_INVALID_MAC", vm),
        other => ssl_error(-0x6E00, &format!("MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE: {other}"), vm),
    }
}

#[rustpython_vm::pymodule(name = "tls")]
mod _tls {
    use super::PySslContext;
    use rustpython_vm::{Py, PyResult, VirtualMachine, builtins::{PyModule, PyTypeRef}, class::PyClassImpl};

    #[pyattr]
    const PROTOCOL_TLS_CLIENT: i32 = super::PROTOCOL_TLS_CLIENT;
    #[pyattr]
    const PROTOCOL_TLS_SERVER: i32 = super::PROTOCOL_TLS_SERVER;
    #[pyattr]
    const CERT_NONE: i32 = 0;
    #[pyattr]
    const CERT_OPTIONAL: i32 = 1;
    #[pyattr]
    const CERT_REQUIRED: i32 = 2;

    #[pyattr(name = "SSLContext")]
    fn ssl_context(_vm: &VirtualMachine) -> PyTypeRef {
        PySslContext::make_static_type()
    }

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        __module_exec(vm, module);
        Ok(())
    }
}
