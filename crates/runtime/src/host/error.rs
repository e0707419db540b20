//! The errors host functions return, and the Python exceptions they raise.

use std::fmt;

use rustpython_vm::{
    AsObject, PyObjectRef, VirtualMachine,
    builtins::{PyBaseException, PyBaseExceptionRef},
};

/// The Python exception a [`HostError`] raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `ValueError`: an argument of the right type with a wrong value.
    ValueError,
    /// `TypeError`: an argument of the wrong type.
    TypeError,
    /// `RuntimeError`: anything else that went wrong.
    RuntimeError,
    /// `OSError` with this errno (`errno.EIO` is 5): the device or system failed.
    OSError(i32),
    /// `TimeoutError` (an `OSError` with `ETIMEDOUT`, as MicroPython raises it).
    TimeoutError,
    /// `KeyError`: no such key.
    KeyError,
    /// `IndexError`: an index out of range.
    IndexError,
    /// `NotImplementedError`.
    NotImplementedError,
}

/// An error a host function returns; Python code sees it raised as the exception its
/// [`ErrorKind`] names, with the message as its argument.
///
/// ```
/// use microloop_runtime::{ErrorKind, HostError};
/// let e = HostError::value_error("channel must be 0-3");
/// assert_eq!(e.kind(), ErrorKind::ValueError);
/// assert_eq!(e.to_string(), "ValueError: channel must be 0-3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    kind: ErrorKind,
    message: String,
}

impl HostError {
    /// An error raising `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        HostError { kind, message: message.into() }
    }

    /// A `ValueError`.
    pub fn value_error(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ValueError, message)
    }

    /// A `TypeError`.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TypeError, message)
    }

    /// A `RuntimeError`.
    pub fn runtime_error(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::RuntimeError, message)
    }

    /// An `OSError` with `errno` (its `errno` attribute and first argument) and `message`.
    pub fn os_error(errno: i32, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::OSError(errno), message)
    }

    /// Which exception this raises.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The exception's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The Python exception this error raises.
    pub(crate) fn to_python(&self, vm: &VirtualMachine) -> PyBaseExceptionRef {
        let ex = &vm.ctx.exceptions;
        let msg: PyObjectRef = vm.ctx.new_str(self.message.as_str()).into();
        let (cls, args) = match self.kind {
            ErrorKind::ValueError => (ex.value_error, vec![msg]),
            ErrorKind::TypeError => (ex.type_error, vec![msg]),
            ErrorKind::RuntimeError => (ex.runtime_error, vec![msg]),
            ErrorKind::OSError(errno) => (ex.os_error, vec![vm.ctx.new_int(errno).into(), msg]),
            ErrorKind::TimeoutError => (ex.timeout_error, vec![msg]),
            ErrorKind::KeyError => (ex.key_error, vec![msg]),
            ErrorKind::IndexError => (ex.index_error, vec![msg]),
            ErrorKind::NotImplementedError => (ex.not_implemented_error, vec![msg]),
        };
        // Calling the class runs its constructor, which OSError and its subclasses need for
        // their own fields (errno, strerror).
        match cls.as_object().call(args, vm).map(|e| e.downcast::<PyBaseException>()) {
            Ok(Ok(exc)) => exc,
            Ok(Err(_)) => vm.new_runtime_error(self.message.clone()),
            Err(e) => e,
        }
    }
}

impl fmt::Display for HostError {
    /// `ValueError: message`, as the last line of a traceback shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.kind {
            ErrorKind::ValueError => "ValueError",
            ErrorKind::TypeError => "TypeError",
            ErrorKind::RuntimeError => "RuntimeError",
            ErrorKind::OSError(errno) => return write!(f, "OSError: [Errno {errno}] {}", self.message),
            ErrorKind::TimeoutError => "TimeoutError",
            ErrorKind::KeyError => "KeyError",
            ErrorKind::IndexError => "IndexError",
            ErrorKind::NotImplementedError => "NotImplementedError",
        };
        write!(f, "{name}: {}", self.message)
    }
}

impl std::error::Error for HostError {}
