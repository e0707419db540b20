//! Streams and servers: MicroPython's `extmod/asyncio/stream.py` on the core stream layer.
//!
//! A [`PyStream`] owns a [`Conn`] (socket or descriptor, optional TLS, Rust-side buffers) and
//! its reactor registration. Each awaitable method returns a [`PyStreamOp`] whose `__next__`
//! tries the operation and either finishes or parks the task on the stream's token. Bytes stay
//! in the stream's buffer until an operation completes, so a task cancelled in the middle of
//! `readline` or `readexactly` loses nothing.

use std::cell::{Cell, OnceCell, RefCell};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use microloop_core::net::{self, Accepted};
use microloop_core::stream::{Conn, FdIo, Step, StreamError, Transport};
use microloop_core::{Interest, Token, WaitKey, WaitQueue};
use rustpython_vm::{
    AsObject, Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyStr, PyType, PyTypeRef},
    convert::{ToPyException, TryFromBorrowedObject},
    function::{ArgBytesLike, ArgMemoryBuffer, FuncArgs, ItemDoc, OptionalArg, PyMethodDef, PyMethodFlags},
    protocol::PyIterReturn,
    pyclass,
    types::{Constructor, IterNext, Iterable, Representable, SelfIter},
};
use socket2::Socket;

use super::core::{Scheduler, current_task, sched, with_sched};
use super::fastpath::thrown;
use super::objstream::{ObjectOpState, ObjectStream};
use super::task::{PyTask, Wait, WaitSite};
use crate::tlsmod::{PySslContext, stream_error};

/// How long a server waits before accepting again when the process is out of descriptors.
const ACCEPT_BACKOFF_US: u64 = 100_000;

/// How long a stream whose TLS session failed here keeps its descriptor open for the peer to
/// finish sending and read the alert (see [`PyLinger`]).
const LINGER_US: u64 = 1_000_000;

/// How often a lingering stream looks for the peer's end in the meantime.
const LINGER_POLL_US: u64 = 20_000;

/// `OSError(EBADF)`, raised by operations on a closed stream.
fn closed_error(vm: &VirtualMachine) -> PyBaseExceptionRef {
    std::io::Error::from_raw_os_error(libc::EBADF).to_pyexception(vm)
}

thread_local! {
    static INCOMPLETE_READ_ERROR: OnceCell<PyTypeRef> = const { OnceCell::new() };
    static LIMIT_OVERRUN_ERROR: OnceCell<PyTypeRef> = const { OnceCell::new() };
}

/// Makes an exception class `name` under `base` whose `__init__` is `init` (the class lives
/// as long as the thread, so the reference the method descriptor needs is kept for ever).
fn exception_class(name: &str, base: &Py<PyType>, init: &'static PyMethodDef, vm: &VirtualMachine) -> PyTypeRef {
    let typ = vm.ctx.new_exception_type("asyncio.exceptions", name, Some(vec![base.to_owned()]));
    let method = init.build_method(&vm.ctx, PyRef::leak(typ.clone()));
    // Through `setattr`, so the type's `__init__` slot follows.
    if let Err(e) = typ.as_object().set_attr("__init__", method, vm) {
        crate::traceback::print_exception(vm, &e, None);
    }
    typ
}

/// `asyncio.IncompleteReadError(partial, expected)`, an EOFError, made once per thread:
/// `readuntil` raises it when the stream ends before the separator.
pub(crate) fn incomplete_read_error(vm: &VirtualMachine) -> PyTypeRef {
    const INIT: PyMethodDef =
        PyMethodDef::new_const("__init__", incomplete_read_init, PyMethodFlags::METHOD, ItemDoc::static_text("Initialize self."));
    INCOMPLETE_READ_ERROR.with(|c| c.get_or_init(|| exception_class("IncompleteReadError", vm.ctx.exceptions.eof_error, &INIT, vm)).clone())
}

/// The arguments of `IncompleteReadError(partial, expected)`.
#[derive(rustpython_vm::FromArgs)]
struct IncompleteReadArgs {
    #[pyarg(any)]
    partial: PyObjectRef,
    #[pyarg(any)]
    expected: PyObjectRef,
}

/// `IncompleteReadError.__init__`: the message CPython gives ("3 bytes read on a total of 5
/// expected bytes", "undefined" for an expected None), and the attributes `partial` and
/// `expected`.
fn incomplete_read_init(zelf: PyObjectRef, args: IncompleteReadArgs, vm: &VirtualMachine) -> PyResult<()> {
    let got = args.partial.length(vm)?;
    let expected = if vm.is_none(&args.expected) { "undefined".to_owned() } else { args.expected.repr(vm)?.to_string_lossy().into_owned() };
    let message = format!("{got} bytes read on a total of {expected} expected bytes");
    zelf.set_attr("args", vm.new_tuple((message,)), vm)?;
    zelf.set_attr("partial", args.partial, vm)?;
    zelf.set_attr("expected", args.expected, vm)?;
    Ok(())
}

/// A new `IncompleteReadError(partial, None)`.
fn new_incomplete_read(partial: Vec<u8>, vm: &VirtualMachine) -> PyBaseExceptionRef {
    let typ = incomplete_read_error(vm);
    match typ.as_object().call((vm.ctx.new_bytes(partial), vm.ctx.none()), vm) {
        Ok(exc) => exc.downcast().unwrap_or_else(|_| vm.new_type_error("IncompleteReadError is not an exception")),
        Err(e) => e,
    }
}

/// `asyncio.LimitOverrunError(message, consumed)`, an Exception, made once per thread.
/// microloop's streams have no buffer limit, so nothing raises it; programs catch it.
pub(crate) fn limit_overrun_error(vm: &VirtualMachine) -> PyTypeRef {
    const INIT: PyMethodDef =
        PyMethodDef::new_const("__init__", limit_overrun_init, PyMethodFlags::METHOD, ItemDoc::static_text("Initialize self."));
    LIMIT_OVERRUN_ERROR.with(|c| c.get_or_init(|| exception_class("LimitOverrunError", vm.ctx.exceptions.exception_type, &INIT, vm)).clone())
}

/// The arguments of `LimitOverrunError(message, consumed)`.
#[derive(rustpython_vm::FromArgs)]
struct LimitOverrunArgs {
    #[pyarg(any)]
    message: PyObjectRef,
    #[pyarg(any)]
    consumed: PyObjectRef,
}

/// `LimitOverrunError.__init__`: the message as its only argument, and `consumed`.
fn limit_overrun_init(zelf: PyObjectRef, args: LimitOverrunArgs, vm: &VirtualMachine) -> PyResult<()> {
    zelf.set_attr("args", vm.new_tuple((args.message,)), vm)?;
    zelf.set_attr("consumed", args.consumed, vm)?;
    Ok(())
}

/// A socket address as CPython's asyncio gives it: `(host, port)` or
/// `(host, port, flowinfo, scope_id)`.
fn addr_to_py(addr: Option<SocketAddr>, vm: &VirtualMachine) -> PyObjectRef {
    match addr {
        Some(SocketAddr::V4(a)) => vm.new_tuple((a.ip().to_string(), a.port())).into(),
        Some(SocketAddr::V6(a)) => vm.new_tuple((a.ip().to_string(), a.port(), a.flowinfo(), a.scope_id())).into(),
        None => vm.ctx.none(),
    }
}

/// Registers `fd` for both directions. Descriptors epoll refuses (regular files) are always
/// ready, so they get no token and never wait.
fn register(fd: i32, vm: &VirtualMachine) -> PyResult<Option<Token>> {
    sched().io_touched();
    match sched().reactor.borrow_mut().register(fd, Interest::ReadWrite) {
        Ok(token) => {
            sched().reset_read_epoch(token);
            Ok(Some(token))
        }
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => Ok(None),
        Err(e) => Err(e.to_pyexception(vm)),
    }
}

/// Removes `fd` from the reactor and wakes the tasks still waiting on `token` (they retry and
/// find the stream or server closed). Safe from destructors.
fn release(token: Option<Token>, fd: i32) {
    let Some(token) = token else { return };
    with_sched(|s| {
        s.io_touched();
        if let Ok(mut reactor) = s.reactor.try_borrow_mut() {
            let _ = reactor.deregister(token, fd);
        }
        s.wake_io(token);
    });
}

/// Parks the running task until `token` is ready for `interest` (or for one pass when the
/// descriptor is always ready).
fn park(token: Option<Token>, interest: Interest, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
    let task = current_task(vm)?;
    let s = sched();
    match token {
        Some(token) => s.park_io(task, token, interest),
        None => s.push_ready(task),
    }
    Ok(PyIterReturn::Return(vm.ctx.none()))
}

/// Yields to the loop once: the task runs again in the next pass.
pub(super) fn yield_once(vm: &VirtualMachine) -> PyResult<PyIterReturn> {
    let task = current_task(vm)?;
    sched().push_ready(task);
    Ok(PyIterReturn::Return(vm.ctx.none()))
}

/// A stream: MicroPython's `Stream`, also exported as `StreamReader` and `StreamWriter`.
#[pyclass(module = "asyncio", name = "Stream")]
#[derive(Debug, PyPayload)]
pub struct PyStream {
    /// The connection; None once closed.
    conn: RefCell<Option<Conn>>,
    /// Reactor registration of the descriptor (None: always ready, or closed).
    token: Cell<Option<Token>>,
    /// Peer and own address, read once (they stay readable after the socket closes).
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    /// The `extra` dict given to `Stream(obj, extra)`, consulted by `get_extra_info`.
    extra: Option<PyObjectRef>,
    /// The object a stream was made from (`sys.stdin`, a socket), kept alive with it.
    source: Option<PyObjectRef>,
    /// Set by `close()` while buffered bytes are still going out; `wait_closed` awaits it.
    closer: RefCell<Option<PyRef<PyTask>>>,
    /// A task keeps the descriptor open after a failed TLS session ([`PyLinger`]) and closes
    /// it; `close()` leaves it to that task.
    lingering: Cell<bool>,
    /// A stream over a Python object's own methods (no descriptor); `conn` is None then.
    object: Option<ObjectStream>,
    /// Made from a text stream (`sys.stdin`): `read(n)` gives a str of `n` characters and
    /// `readexactly(n)` reads `n` characters, as MicroPython's text streams do.
    text: bool,
    /// A read met the end of the stream (`at_eof()` once the buffer is empty too).
    eof: Cell<bool>,
    /// `close()` was called (`is_closing()`).
    closing: Cell<bool>,
    /// `write_eof()` was called: `write` raises, as CPython's does.
    eof_written: Cell<bool>,
    /// A plain TCP socket, which can shut down its sending side alone (`can_write_eof()`;
    /// TLS cannot, as CPython's cannot).
    half_close: bool,
}

impl PyStream {
    /// Wraps a connection and registers it with the reactor. `peer` stands in for the
    /// connection's own answer while a connect is still in progress.
    fn build(conn: Conn, peer: Option<SocketAddr>, extra: Option<PyObjectRef>, source: Option<PyObjectRef>, vm: &VirtualMachine) -> PyResult<Self> {
        let token = register(conn.raw_fd(), vm)?;
        let peer = peer.or_else(|| conn.peer_addr());
        let local = conn.local_addr();
        let half_close = !conn.is_tls() && matches!(conn.transport(), Transport::Socket(_));
        if let (Some(local), Some(peer), Some(token)) = (local, peer, token) {
            sched().io.pair(local, peer, token);
        }
        Ok(PyStream {
            peer,
            local,
            conn: RefCell::new(Some(conn)),
            token: Cell::new(token),
            extra,
            source,
            closer: RefCell::new(None),
            lingering: Cell::new(false),
            object: None,
            text: false,
            eof: Cell::new(false),
            closing: Cell::new(false),
            eof_written: Cell::new(false),
            half_close,
        })
    }

    /// Runs `f` on the open connection, or raises EBADF; what `f` sent is announced.
    fn with_conn<R>(&self, vm: &VirtualMachine, f: impl FnOnce(&mut Conn) -> R) -> PyResult<R> {
        match self.conn.borrow_mut().as_mut() {
            Some(conn) => {
                let before = conn.sent();
                let result = f(conn);
                self.after_send(conn, before);
                Ok(result)
            }
            None => Err(closed_error(vm)),
        }
    }

    /// Deregisters and closes the descriptor; tasks still waiting on it wake and see EBADF.
    /// After `conn` was used, `sent_before` being its count of bytes sent before: bytes sent
    /// make the peer, if it is a stream of this loop, readable at the next step, and bytes
    /// received are counted. A TLS stream also sends while it reads, so its use makes the
    /// loop poll.
    fn after_send(&self, conn: &Conn, sent_before: u64) {
        let s = sched();
        if conn.is_tls() {
            s.io_touched();
            return;
        }
        if conn.sent() > sent_before {
            match (self.local, self.peer) {
                (Some(local), Some(peer)) => s.io.sent(local, peer, conn.sent()),
                _ => s.io_touched(),
            }
        }
        if let Some(token) = self.token.get() {
            s.io.received(token, conn.received());
        }
    }

    fn finish_close(&self) {
        let conn = self.conn.borrow_mut().take();
        if let (Some(local), Some(peer), Some(token)) = (self.local, self.peer, self.token.get()) {
            with_sched(|s| s.io.unpair(local, peer, token));
        }
        if let Some(conn) = conn {
            release(self.token.take(), conn.raw_fd());
        }
    }

    /// The exception for a failed operation. When this side's TLS session failed and sent the
    /// peer an alert, a task starts to close the stream gracefully ([`PyLinger`]).
    fn failed(zelf: &Py<Self>, e: StreamError, vm: &VirtualMachine) -> PyBaseExceptionRef {
        let alerted = zelf.conn.borrow().as_ref().is_some_and(|c| c.sent_fatal_alert());
        if alerted && zelf.token.get().is_some() && !zelf.lingering.replace(true) {
            let linger = PyLinger { stream: zelf.to_owned(), until: Cell::new(None) }.into_ref(&vm.ctx);
            match PyTask::spawn(linger.into(), vm) {
                Ok(task) => task.mark_retrieved(),
                Err(_) => zelf.lingering.set(false),
            }
        }
        stream_error(e, vm)
    }

    fn op(zelf: &Py<Self>, kind: OpKind, vm: &VirtualMachine) -> PyRef<PyStreamOp> {
        Self::op_mode(zelf, kind, OpMode::Plain, vm)
    }

    /// An operation; `mode` says what a `ReadLine` reads up to and gives at the end.
    fn op_mode(zelf: &Py<Self>, kind: OpKind, mode: OpMode, vm: &VirtualMachine) -> PyRef<PyStreamOp> {
        PyStreamOp {
            stream: zelf.to_owned(),
            kind,
            mode,
            yielded: Cell::new(false),
            attempted: Cell::new(false),
            object_state: ObjectOpState::default(),
        }
        .into_ref(&vm.ctx)
    }
}

impl Drop for PyStream {
    fn drop(&mut self) {
        self.finish_close();
    }
}

/// `Stream(obj, extra={})`: a stream over any object with a descriptor (`fileno()`) or a
/// descriptor number, such as `sys.stdin`, a pipe or a serial tty; or over an object without
/// one that has `read`/`readinto`/`readline`/`write` methods of its own (see `objstream`).
impl Constructor for PyStream {
    type Args = (PyObjectRef, OptionalArg<PyObjectRef>);
    fn py_new(_cls: &Py<PyType>, (obj, extra): Self::Args, vm: &VirtualMachine) -> PyResult<Self> {
        let fd: i32 = match obj.try_to_value::<i32>(vm) {
            Ok(fd) => fd,
            Err(_) => match vm.call_method(&obj, "fileno", ()) {
                Ok(fd) => fd.try_to_value(vm)?,
                // No descriptor (no `fileno`, or one that raises, as io.IOBase's does).
                Err(e)
                    if e.fast_isinstance(vm.ctx.exceptions.attribute_error)
                        || e.fast_isinstance(vm.ctx.exceptions.os_error) =>
                {
                    let Some(object) = ObjectStream::new(&obj, vm)? else { return Err(e) };
                    return Ok(PyStream {
                        conn: RefCell::new(None),
                        token: Cell::new(None),
                        peer: None,
                        local: None,
                        extra: extra.into_option(),
                        source: Some(obj),
                        closer: RefCell::new(None),
                        lingering: Cell::new(false),
                        object: Some(object),
                        text: false,
                        eof: Cell::new(false),
                        closing: Cell::new(false),
                        eof_written: Cell::new(false),
                        half_close: false,
                    });
                }
                Err(e) => return Err(e),
            },
        };
        let text = is_text(&obj, vm);
        let io = FdIo::new(fd).map_err(|e| e.to_pyexception(vm))?;
        let mut stream = PyStream::build(Conn::new(Transport::Fd(io)), None, extra.into_option(), Some(obj), vm)?;
        stream.text = text;
        Ok(stream)
    }
}

/// The arguments of `readuntil(separator=b'\n')`.
#[derive(rustpython_vm::FromArgs)]
struct ReadUntilArgs {
    #[pyarg(any, optional)]
    separator: Option<ArgBytesLike>,
}

/// Whether `obj` is a text stream (an `io.TextIOBase`, as `sys.stdin` is).
fn is_text(obj: &PyObjectRef, vm: &VirtualMachine) -> bool {
    let Ok(io) = vm.import("_io", 0) else { return false };
    let Ok(base) = io.get_attr("_TextIOBase", vm) else { return false };
    obj.is_instance(&base, vm).unwrap_or(false)
}

/// The length in bytes of the first `chars` characters of the UTF-8 in `buf`, and how many
/// complete characters that is (fewer when `buf` ends first; a byte that starts no valid
/// sequence counts as one character).
fn utf8_prefix(buf: &[u8], chars: usize) -> (usize, usize) {
    let (mut at, mut count) = (0, 0);
    while count < chars && at < buf.len() {
        let width = match buf[at] {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        if at + width > buf.len() {
            break;
        }
        at += width;
        count += 1;
    }
    (at, count)
}

/// `read(n)` and `readexactly(n)` on a text stream: `n` characters. `read` gives what is there
/// (at least one character, a str); `readexactly` waits for all `n` (bytes, as MicroPython's
/// gathers them).
fn text_read(conn: &mut Conn, n: usize, exactly: bool, eof: &Cell<bool>, vm: &VirtualMachine) -> Result<Outcome, StreamError> {
    let text = |v: Vec<u8>| Outcome::Done(vm.ctx.new_str(String::from_utf8_lossy(&v).into_owned()).into());
    loop {
        let (bytes, chars) = utf8_prefix(conn.buffered(), n);
        if chars == n {
            let got = conn.take(bytes);
            return Ok(if exactly { Outcome::Done(vm.ctx.new_bytes(got).into()) } else { text(got) });
        }
        match conn.fill_upto(n - chars)? {
            Step::Ready(0) if exactly => {
                eof.set(true);
                conn.consume(conn.buffered().len());
                return Ok(Outcome::Done(vm.ctx.none()));
            }
            Step::Ready(0) => {
                eof.set(true);
                return Ok(text(conn.take(usize::MAX)));
            }
            Step::Ready(_) => {}
            Step::Blocked(i) if exactly || chars == 0 => return Ok(Outcome::Wait(i)),
            Step::Blocked(_) => return Ok(text(conn.take(bytes))),
        }
    }
}

#[pyclass(with(Constructor, Representable))]
impl PyStream {
    /// `'peername'` or `'sockname'` as `(host, port)`; other keys from the `extra` dict given
    /// to the constructor, else `default`.
    #[pymethod]
    fn get_extra_info(zelf: &Py<Self>, name: PyObjectRef, default: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if let Some(v) = zelf.extra.as_ref().and_then(|extra| extra.get_item(&*name, vm).ok()) {
            return Ok(v);
        }
        let key = name.downcast_ref::<PyStr>().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(match key.as_str() {
            "peername" if zelf.peer.is_some() => addr_to_py(zelf.peer, vm),
            "sockname" if zelf.local.is_some() => addr_to_py(zelf.local, vm),
            "socket" | "pipe" => zelf.source.clone().unwrap_or_else(|| vm.ctx.none()),
            _ => default.unwrap_or_none(vm),
        })
    }

    /// Reads up to `n` bytes (at least one unless the stream has ended), or with `n = -1`
    /// everything until the end.
    #[pymethod]
    fn read(zelf: &Py<Self>, n: OptionalArg<isize>, vm: &VirtualMachine) -> PyRef<PyStreamOp> {
        let n = n.unwrap_or(-1);
        let kind = if n < 0 { OpKind::ReadAll } else { OpKind::Read(n as usize) };
        PyStream::op(zelf, kind, vm)
    }

    /// Reads into `buf` and returns the number of bytes read (0 at the end of the stream).
    #[pymethod]
    fn readinto(zelf: &Py<Self>, buf: PyObjectRef, vm: &VirtualMachine) -> PyResult<PyRef<PyStreamOp>> {
        if zelf.object.is_some() {
            // The object's own readinto judges the buffer.
            return Ok(PyStream::op(zelf, OpKind::ReadInto(buf), vm));
        }
        // Checked now; taken again when the bytes are there, so the buffer stays resizable.
        <ArgMemoryBuffer as rustpython_vm::convert::TryFromBorrowedObject>::try_from_borrowed_object(vm, &buf)?;
        Ok(PyStream::op(zelf, OpKind::ReadInto(buf), vm))
    }

    /// Reads exactly `n` bytes; EOFError if the stream ends first.
    #[pymethod]
    fn readexactly(zelf: &Py<Self>, n: usize, vm: &VirtualMachine) -> PyRef<PyStreamOp> {
        PyStream::op(zelf, OpKind::ReadExactly(n), vm)
    }

    /// Reads one line, with its `\n`; at the end of the stream what is left (maybe `b""`).
    #[pymethod]
    fn readline(zelf: &Py<Self>, vm: &VirtualMachine) -> PyRef<PyStreamOp> {
        PyStream::op(zelf, OpKind::ReadLine, vm)
    }

    /// CPython's `readuntil(separator=b'\n')`: the bytes up to and with `separator`; at the
    /// end of the stream IncompleteReadError with what was left as `partial`. (No buffer
    /// limit, so no LimitOverrunError.) A stream over a Python object reads lines with the
    /// object's `readline`, so only `b'\n'` there.
    #[pymethod]
    fn readuntil(zelf: &Py<Self>, args: ReadUntilArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyStreamOp>> {
        let sep = args.separator.map(|s| s.borrow_buf().to_vec()).unwrap_or_else(|| b"\n".to_vec());
        if sep.is_empty() {
            return Err(vm.new_value_error("Separator should be at least one-byte string"));
        }
        if zelf.object.is_some() && sep != b"\n" {
            return Err(vm.new_exception_msg(
                vm.ctx.exceptions.not_implemented_error.to_owned(),
                "readuntil() on a stream over a Python object takes only b'\\n'".into(),
            ));
        }
        Ok(PyStream::op_mode(zelf, OpKind::ReadLine, OpMode::Until(sep), vm))
    }

    /// True once a read has met the end of the stream and nothing is left in the buffer.
    #[pymethod]
    fn at_eof(zelf: &Py<Self>) -> bool {
        zelf.eof.get() && zelf.conn.borrow().as_ref().is_none_or(|c| c.buffered().is_empty())
    }

    /// `async for line in stream:` reads lines until the end of the stream.
    #[pymethod]
    fn __aiter__(zelf: PyRef<Self>) -> PyRef<Self> {
        zelf
    }

    /// The next line, as `readline()`; StopAsyncIteration at the end of the stream.
    #[pymethod]
    fn __anext__(zelf: &Py<Self>, vm: &VirtualMachine) -> PyRef<PyStreamOp> {
        PyStream::op_mode(zelf, OpKind::ReadLine, OpMode::Lines, vm)
    }

    /// `write(b"".join(iterable))`, as CPython's default `writelines`.
    #[pymethod]
    fn writelines(zelf: &Py<Self>, lines: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let mut data = Vec::new();
        for (i, item) in lines.get_iter(vm)?.iter::<PyObjectRef>(vm)?.enumerate() {
            let item = item?;
            match ArgBytesLike::try_from_borrowed_object(vm, &item) {
                Ok(b) => data.extend_from_slice(&b.borrow_buf()),
                Err(_) => {
                    return Err(vm.new_type_error(format!(
                        "sequence item {i}: expected a bytes-like object, {} found",
                        item.class().name()
                    )));
                }
            }
        }
        PyStream::write(zelf, vm.ctx.new_bytes(data).into(), vm)
    }

    /// True once `close()` was called.
    #[pymethod]
    fn is_closing(zelf: &Py<Self>) -> bool {
        zelf.closing.get()
    }

    /// True for a plain TCP stream; False for TLS (as CPython's) and other streams.
    #[pymethod]
    fn can_write_eof(zelf: &Py<Self>) -> bool {
        zelf.half_close
    }

    /// Shuts down the sending side once what `write` accepted has gone (at once when nothing
    /// is queued, else from a background task); the stream can still read. `write` raises
    /// afterwards. NotImplementedError where `can_write_eof()` is False.
    #[pymethod]
    fn write_eof(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        if !zelf.half_close {
            return Err(vm.new_exception_empty(vm.ctx.exceptions.not_implemented_error.to_owned()));
        }
        if zelf.closing.get() || zelf.eof_written.replace(true) {
            return Ok(());
        }
        let flushed = zelf.with_conn(vm, |c| c.flush())?.map_err(|e| PyStream::failed(zelf, e, vm))?;
        match flushed {
            Step::Ready(()) => {
                sched().io_touched();
                match zelf.with_conn(vm, |c| c.shutdown_write())? {
                    // The peer is gone (reset, or never there): nothing is left to end, and
                    // CPython's write_eof on such a connection returns quietly too.
                    Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTCONN | libc::EPIPE | libc::ECONNRESET)) => Ok(()),
                    Err(e) => Err(e.to_pyexception(vm)),
                    Ok(()) => Ok(()),
                }
            }
            Step::Blocked(_) => {
                let drain = PyStream::op_mode(zelf, OpKind::Drain, OpMode::WriteEof, vm);
                let task = PyTask::spawn(drain.into(), vm)?;
                // Nobody awaits it: a failure shows in the stream's next read or write.
                task.mark_retrieved();
                Ok(())
            }
        }
    }

    /// Queues `buf` for sending, sending at once what the kernel takes. `drain()` waits until
    /// it has all gone.
    #[pymethod]
    fn write(zelf: &Py<Self>, buf: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        if zelf.eof_written.get() {
            return Err(vm.new_runtime_error("Cannot call write() after write_eof()"));
        }
        if let Some(object) = &zelf.object {
            return object.write(buf, vm);
        }
        if let Some(s) = buf.downcast_ref::<PyStr>() {
            // A str goes out as UTF-8, as MicroPython's streams take it.
            return zelf.with_conn(vm, |c| c.write(s.as_bytes()))?.map_err(|e| PyStream::failed(zelf, e, vm));
        }
        let buf = ArgBytesLike::try_from_borrowed_object(vm, &buf)?;
        zelf.with_conn(vm, |c| buf.with_ref(|b| c.write(b)))?.map_err(|e| PyStream::failed(zelf, e, vm))
    }

    /// Waits until everything written has been sent. Always yields to the loop at least once.
    #[pymethod]
    fn drain(zelf: &Py<Self>, vm: &VirtualMachine) -> PyRef<PyStreamOp> {
        PyStream::op(zelf, OpKind::Drain, vm)
    }

    /// `write(buf[off:off+sz])` then `drain()` (MicroPython's older API).
    #[pymethod]
    fn awrite(zelf: &Py<Self>, buf: PyObjectRef, off: OptionalArg<usize>, sz: OptionalArg<isize>, vm: &VirtualMachine) -> PyResult<PyRef<PyStreamOp>> {
        // A str is its UTF-8 bytes (`off` and `sz` count bytes, as MicroPython's memoryview of
        // a str does).
        let buf = match buf.downcast_ref::<PyStr>() {
            Some(s) if zelf.object.is_none() => ArgBytesLike::try_from_borrowed_object(vm, vm.ctx.new_bytes(s.as_bytes().to_vec()).as_object())?,
            Some(_) if !(off.is_present() || sz.is_present()) => {
                let object = zelf.object.as_ref().expect("checked above");
                object.write(buf, vm)?;
                return Ok(PyStream::op(zelf, OpKind::Drain, vm));
            }
            Some(s) => ArgBytesLike::try_from_borrowed_object(vm, vm.ctx.new_bytes(s.as_bytes().to_vec()).as_object())?,
            None => ArgBytesLike::try_from_borrowed_object(vm, &buf)?,
        };
        let part = buf.with_ref(|b| {
            let off = off.unwrap_or(0).min(b.len());
            let end = match sz.unwrap_or(-1) {
                n if n < 0 => b.len(),
                n => (off + n as usize).min(b.len()),
            };
            b[off..end].to_vec()
        });
        if let Some(object) = &zelf.object {
            // The caller's buffer, or a memoryview of the part asked for, as MicroPython's.
            let whole = buf.as_object().to_owned();
            let arg = if off.is_present() || sz.is_present() {
                let view = vm.ctx.types.memoryview_type.as_object().call((whole,), vm)?;
                let len = view.length(vm)?;
                let start = off.unwrap_or(0).min(len);
                let end = match sz.unwrap_or(-1) {
                    n if n < 0 => len,
                    n => (start + n as usize).min(len),
                };
                let slice = vm.ctx.types.slice_type.as_object().call((start, end), vm)?;
                view.get_item(&*slice, vm)?
            } else {
                whole
            };
            object.write(arg, vm)?;
            return Ok(PyStream::op(zelf, OpKind::Drain, vm));
        }
        zelf.with_conn(vm, |c| c.write(&part))?.map_err(|e| PyStream::failed(zelf, e, vm))?;
        Ok(PyStream::op(zelf, OpKind::Drain, vm))
    }

    /// `write(s.encode())` then `drain()`.
    #[pymethod]
    fn awritestr(zelf: &Py<Self>, s: rustpython_vm::builtins::PyStrRef, vm: &VirtualMachine) -> PyResult<PyRef<PyStreamOp>> {
        if let Some(object) = &zelf.object {
            object.write(s.into(), vm)?;
            return Ok(PyStream::op(zelf, OpKind::Drain, vm));
        }
        zelf.with_conn(vm, |c| c.write(s.to_string_lossy().as_bytes()))?.map_err(|e| PyStream::failed(zelf, e, vm))?;
        Ok(PyStream::op(zelf, OpKind::Drain, vm))
    }

    /// Closes the stream. Bytes already written still go out: if some are queued, a task
    /// sends them and then closes the descriptor (`wait_closed` waits for it).
    #[pymethod]
    fn close(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.closing.set(true);
        if zelf.lingering.get() {
            return Ok(());
        }
        let pending = {
            let mut conn = zelf.conn.borrow_mut();
            let Some(conn) = conn.as_mut() else { return Ok(()) };
            if conn.is_handshaking() && conn.pending_write() == 0 {
                // Nothing of ours to deliver: do not wait for a handshake just to end it.
                false
            } else {
                conn.close_notify();
                let before = conn.sent();
                let blocked = matches!(conn.flush(), Ok(Step::Blocked(_)));
                zelf.after_send(conn, before);
                blocked
            }
        };
        if !pending || zelf.token.get().is_none() {
            zelf.finish_close();
            return Ok(());
        }
        let closer = PyStream::op(zelf, OpKind::Close, vm);
        let task = PyTask::spawn(closer.into(), vm)?;
        // Nobody awaits the closer unless wait_closed is called: never report its failure.
        task.mark_retrieved();
        *zelf.closer.borrow_mut() = Some(task);
        Ok(())
    }

    /// Closes the stream (if `close()` was not called) and waits until it is closed.
    #[pymethod]
    fn wait_closed(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if zelf.object.is_some() {
            // `obj.close()` runs when this is awaited, as MicroPython's coroutine does.
            return Ok(PyStream::op(zelf, OpKind::Close, vm).into());
        }
        PyStream::close(zelf, vm)?;
        match zelf.closer.borrow().as_ref() {
            Some(task) if !task.is_done() => Ok(task.clone().into()),
            _ => Ok(super::done_awaitable(vm)),
        }
    }

    /// Alias of `wait_closed` (MicroPython's older API).
    #[pymethod]
    fn aclose(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        PyStream::wait_closed(zelf, vm)
    }

    /// `async with stream:` closes it at the end.
    #[pymethod]
    fn __aenter__(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PyValue> {
        PyValue::new(zelf.into(), vm)
    }

    #[pymethod]
    fn __aexit__(zelf: &Py<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        PyStream::wait_closed(zelf, vm)
    }
}

impl Representable for PyStream {
    fn repr_str(_zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok("<Stream>".to_owned())
    }
}

/// What a [`PyStreamOp`] does.
#[derive(Debug)]
pub(super) enum OpKind {
    Read(usize),
    ReadAll,
    ReadInto(PyObjectRef),
    ReadExactly(usize),
    ReadLine,
    Drain,
    /// The background flush of a stream closed with bytes still queued.
    Close,
}

impl OpKind {
    fn is_read(&self) -> bool {
        !matches!(self, OpKind::Drain | OpKind::Close)
    }
}

/// The awaitable a stream method returns.
#[pyclass(module = "asyncio", name = "stream_op")]
#[derive(Debug, PyPayload)]
pub struct PyStreamOp {
    stream: PyRef<PyStream>,
    kind: OpKind,
    /// For `ReadLine`: `readline`, `__anext__` or `readuntil`.
    mode: OpMode,
    /// Drain: whether it has yielded once already. Reads: whether the first trip through the
    /// poller, which MicroPython's reads begin with, is done.
    yielded: Cell<bool>,
    /// Reads: whether an attempt has run (`read()`'s bytes already buffered count as the
    /// first chunk it reads).
    attempted: Cell<bool>,
    /// Where the operation stands on a stream over a Python object.
    object_state: ObjectOpState,
}

#[pyclass(with(IterNext, Iterable))]
impl PyStreamOp {}

impl SelfIter for PyStreamOp {}

/// Where an operation stands after one attempt.
enum Outcome {
    Done(PyObjectRef),
    Wait(Interest),
    /// `read()` took a chunk: MicroPython yields to the loop before reading the next one.
    Again,
    /// Finished with this exception (`readuntil` at the end of the stream).
    Raise(PyBaseExceptionRef),
}

/// What a `ReadLine` operation reads up to, and what it gives at the end of the stream; or
/// what a `Drain` does once everything has gone.
#[derive(Debug)]
pub(super) enum OpMode {
    /// As the kind says (`readline()`: up to `\n`; at the end what is left, maybe `b""`).
    Plain,
    /// `__anext__` (`async for line in stream`): as `readline()`, but the end of the stream
    /// (`b""`) is StopAsyncIteration.
    Lines,
    /// `readuntil(separator)`: up to the separator; at the end IncompleteReadError.
    Until(Vec<u8>),
    /// `write_eof()`'s background drain: then shuts down the sending side.
    WriteEof,
}

/// Receives towards `n` buffered bytes for `read(n)` and `readinto`, as MicroPython's stream
/// read does (`mp_stream_rw`): after a short read it reads again, until `n` bytes, the end of
/// the stream, or nothing more for now. `Some(interest)` when nothing is buffered and the
/// task must wait. The read after a short one costs no system call on a socket the poller has
/// not reported hung up (the short read drained it; see `Conn::fill_upto`); on one that hung
/// up it finds the end, or the reset, which fails the whole read as it does MicroPython's (the
/// bytes it had gathered are dropped). TLS takes what is buffered, or else the first bytes
/// decrypted.
/// Meeting the end of the stream sets `eof`.
fn fill_towards(conn: &mut Conn, n: usize, eof: &Cell<bool>) -> Result<Option<Interest>, StreamError> {
    if conn.is_tls() && !conn.buffered().is_empty() {
        return Ok(None);
    }
    while conn.buffered().len() < n {
        match conn.fill_upto(n - conn.buffered().len())? {
            Step::Ready(0) => {
                eof.set(true);
                break;
            }
            Step::Ready(_) if conn.is_tls() => break,
            Step::Ready(_) => {}
            Step::Blocked(i) if conn.buffered().is_empty() => return Ok(Some(i)),
            Step::Blocked(_) => break,
        }
    }
    Ok(None)
}

impl PyStreamOp {
    fn attempt(&self, conn: &mut Conn, vm: &VirtualMachine) -> Result<Outcome, StreamError> {
        let bytes = |v: Vec<u8>| Outcome::Done(vm.ctx.new_bytes(v).into());
        let eof = &self.stream.eof;
        match &self.kind {
            OpKind::Read(n) | OpKind::ReadExactly(n) if self.stream.text && *n > 0 => {
                text_read(conn, *n, matches!(self.kind, OpKind::ReadExactly(_)), eof, vm)
            }
            OpKind::Read(0) if self.stream.text => Ok(Outcome::Done(vm.ctx.new_str("").into())),
            OpKind::Read(0) => Ok(bytes(Vec::new())),
            OpKind::Read(n) => match fill_towards(conn, *n, eof)? {
                Some(i) => Ok(Outcome::Wait(i)),
                None => Ok(bytes(conn.take(*n))),
            },
            OpKind::ReadAll => {
                // One round of MicroPython's `read()` loop: take what is there; a chunk means
                // another round after a yield, nothing at the end of the stream the result.
                let before = if self.attempted.replace(true) { conn.buffered().len() } else { 0 };
                let blocked = loop {
                    match conn.fill()? {
                        Step::Ready(0) => {
                            eof.set(true);
                            break None;
                        }
                        Step::Ready(_) => {}
                        Step::Blocked(i) => break Some(i),
                    }
                };
                match blocked {
                    _ if conn.buffered().len() > before => Ok(Outcome::Again),
                    None => Ok(bytes(conn.take(usize::MAX))),
                    Some(i) => Ok(Outcome::Wait(i)),
                }
            }
            OpKind::ReadInto(buf) => {
                let Ok(mem) = <ArgMemoryBuffer as rustpython_vm::convert::TryFromBorrowedObject>::try_from_borrowed_object(vm, buf) else {
                    return Ok(Outcome::Done(vm.ctx.new_int(0).into()));
                };
                let want = mem.with_ref(|dst| dst.len());
                if want > 0
                    && let Some(i) = fill_towards(conn, want, eof)?
                {
                    return Ok(Outcome::Wait(i));
                }
                let n = mem.with_ref(|dst| {
                    let n = dst.len().min(conn.buffered().len());
                    dst[..n].copy_from_slice(&conn.buffered()[..n]);
                    n
                });
                conn.consume(n);
                Ok(Outcome::Done(vm.ctx.new_int(n).into()))
            }
            OpKind::ReadExactly(n) => loop {
                let have = conn.buffered().len();
                if have >= *n {
                    return Ok(bytes(conn.take(*n)));
                }
                match conn.fill_upto(n - have)? {
                    Step::Ready(0) => {
                        eof.set(true);
                        conn.consume(have);
                        return Ok(Outcome::Done(vm.ctx.none()));
                    }
                    Step::Ready(_) => {}
                    Step::Blocked(i) => return Ok(Outcome::Wait(i)),
                }
            },
            OpKind::ReadLine => {
                let sep: &[u8] = match &self.mode {
                    OpMode::Until(sep) => sep,
                    _ => b"\n",
                };
                let mut searched = 0;
                loop {
                    if let Some(pos) = conn.buffered()[searched..].windows(sep.len()).position(|w| w == sep) {
                        return Ok(bytes(conn.take(searched + pos + sep.len())));
                    }
                    // A separator may straddle what was there and what comes next.
                    searched = (conn.buffered().len() + 1).saturating_sub(sep.len());
                    match conn.fill()? {
                        Step::Ready(0) => {
                            eof.set(true);
                            let rest = conn.take(usize::MAX);
                            return Ok(match self.mode {
                                OpMode::Until(_) => Outcome::Raise(new_incomplete_read(rest, vm)),
                                _ => bytes(rest),
                            });
                        }
                        Step::Ready(_) => {}
                        Step::Blocked(i) => return Ok(Outcome::Wait(i)),
                    }
                }
            }
            OpKind::Drain | OpKind::Close => match conn.flush()? {
                Step::Ready(()) => Ok(Outcome::Done(vm.ctx.none())),
                Step::Blocked(i) => Ok(Outcome::Wait(i)),
            },
        }
    }
}

impl IterNext for PyStreamOp {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let stream = &zelf.stream;
        if let Some(object) = &stream.object {
            let step = object.step(&zelf.kind, &zelf.object_state, vm)?;
            return match (&zelf.mode, step) {
                (OpMode::Lines | OpMode::Until(_), PyIterReturn::StopIteration(Some(line))) => {
                    let ended = line.downcast_ref::<rustpython_vm::builtins::PyBytes>().is_some_and(|b| !b.as_bytes().ends_with(b"\n"));
                    if ended {
                        stream.eof.set(true);
                    }
                    match zelf.mode {
                        OpMode::Lines if ended && line.length(vm)? == 0 => Err(vm.new_exception_empty(vm.ctx.exceptions.stop_async_iteration.to_owned())),
                        OpMode::Until(_) if ended => {
                            let partial = ArgBytesLike::try_from_borrowed_object(vm, &line)?.borrow_buf().to_vec();
                            Err(new_incomplete_read(partial, vm))
                        }
                        _ => Ok(PyIterReturn::StopIteration(Some(line))),
                    }
                }
                (_, step) => Ok(step),
            };
        }
        if zelf.kind.is_read() && !zelf.yielded.replace(true) {
            // MicroPython's reads begin with `yield queue_read(s)`: the task waits for the
            // poller even when bytes are there, and then runs behind the tasks already due.
            let may_read = match stream.conn.borrow_mut().as_mut() {
                Some(conn) => {
                    conn.set_read_epoch(stream.token.get().and_then(|token| sched().read_epoch(token)));
                    conn.may_have_input()
                }
                None => true,
            };
            return if may_read { yield_once(vm) } else { park(stream.token.get(), Interest::Read, vm) };
        }
        let attempt = {
            let mut conn = stream.conn.borrow_mut();
            match conn.as_mut() {
                Some(conn) => {
                    conn.set_read_epoch(stream.token.get().and_then(|token| sched().read_epoch(token)));
                    let before = conn.sent();
                    let attempt = zelf.attempt(conn, vm);
                    stream.after_send(conn, before);
                    attempt
                }
                None if matches!(zelf.kind, OpKind::Close) || matches!(zelf.mode, OpMode::WriteEof) => Ok(Outcome::Done(vm.ctx.none())),
                None => return Err(closed_error(vm)),
            }
        };
        match (&zelf.kind, attempt) {
            (OpKind::Close, Ok(Outcome::Wait(i))) => park(stream.token.get(), i, vm),
            (OpKind::Close, _) => {
                stream.finish_close();
                Ok(PyIterReturn::StopIteration(None))
            }
            (_, Err(e)) => Err(PyStream::failed(stream, e, vm)),
            (_, Ok(Outcome::Wait(i))) => {
                zelf.yielded.set(true);
                park(stream.token.get(), i, vm)
            }
            (_, Ok(Outcome::Again)) => yield_once(vm),
            (_, Ok(Outcome::Raise(e))) => Err(e),
            (OpKind::Drain, Ok(Outcome::Done(_))) if matches!(zelf.mode, OpMode::WriteEof) => {
                if let Some(conn) = stream.conn.borrow().as_ref() {
                    sched().io_touched();
                    conn.shutdown_write().map_err(|e| e.to_pyexception(vm))?;
                }
                Ok(PyIterReturn::StopIteration(None))
            }
            (OpKind::ReadLine, Ok(Outcome::Done(v))) if matches!(zelf.mode, OpMode::Lines) && v.length(vm)? == 0 => {
                Err(vm.new_exception_empty(vm.ctx.exceptions.stop_async_iteration.to_owned()))
            }
            // MicroPython's drain always gives other tasks a turn, even with nothing to send.
            (OpKind::Drain, Ok(Outcome::Done(_))) if !zelf.yielded.replace(true) => yield_once(vm),
            (OpKind::ReadExactly(_), Ok(Outcome::Done(v))) if vm.is_none(&v) => {
                Err(vm.new_exception_empty(vm.ctx.exceptions.eof_error.to_owned()))
            }
            (_, Ok(Outcome::Done(v))) => Ok(PyIterReturn::StopIteration(Some(v))),
        }
    }
}

/// The background close of a stream whose TLS session failed here. The peer may still be
/// sending its side of the handshake (MicroPython's client sends its last handshake messages
/// one by one): a descriptor closed with bytes unread, or receiving bytes once closed, makes
/// the kernel answer with a reset, which can reach the peer before it reads our alert (it then
/// sees `EPIPE` or `ECONNRESET` instead of the refusal). So this task shuts down the sending
/// side (the peer reads the alert, then the end), drops what arrives, and closes the
/// descriptor when the peer closes or after [`LINGER_US`]. (MicroPython's server leaves such a
/// socket open until it is collected.)
#[pyclass(module = "asyncio", name = "linger")]
#[derive(Debug, PyPayload)]
pub struct PyLinger {
    stream: PyRef<PyStream>,
    /// When the descriptor is closed at the latest; None before the first step.
    until: Cell<Option<u64>>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyLinger {}

impl SelfIter for PyLinger {}

impl IterNext for PyLinger {
    /// The first step shuts down the sending side and sets the deadline; each step drops what
    /// arrived, and the descriptor is closed at the peer's end (or a failure) or at the
    /// deadline. In between the task looks again every [`LINGER_POLL_US`].
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let stream = &zelf.stream;
        let now = sched().now_us();
        let started = zelf.until.get().is_some();
        let deadline = *zelf.until.get().get_or_insert(now.saturating_add(LINGER_US));
        zelf.until.set(Some(deadline));
        let peer_done = match stream.conn.borrow_mut().as_mut() {
            Some(conn) => {
                if !started {
                    let _ = conn.shutdown_write();
                }
                !matches!(conn.discard_input(), Ok(Step::Blocked(_)))
            }
            None => true,
        };
        if peer_done || now >= deadline {
            stream.lingering.set(false);
            stream.finish_close();
            return Ok(PyIterReturn::StopIteration(None));
        }
        sched().park_for(current_task(vm)?, LINGER_POLL_US);
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}

/// An awaitable that finishes at once with a value (`__aenter__`).
#[pyclass(module = "asyncio", name = "value")]
#[derive(Debug, PyPayload)]
pub struct PyValue {
    value: PyObjectRef,
}

impl PyValue {
    fn new(value: PyObjectRef, vm: &VirtualMachine) -> PyRef<Self> {
        PyValue { value }.into_ref(&vm.ctx)
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PyValue {}

impl SelfIter for PyValue {}

impl IterNext for PyValue {
    fn next(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        Ok(PyIterReturn::StopIteration(Some(zelf.value.clone())))
    }
}

/// The `ssl` argument of `open_connection` and `start_server`: None/False, True (a default
/// client context) or an `SSLContext`.
fn tls_context(ssl: &PyObjectRef, vm: &VirtualMachine) -> PyResult<Option<PyRef<PySslContext>>> {
    if vm.is_none(ssl) {
        return Ok(None);
    }
    if let Some(ctx) = ssl.downcast_ref::<PySslContext>() {
        return Ok(Some(ctx.to_owned()));
    }
    if ssl.clone().try_to_bool(vm)? {
        // Import `ssl` so its exception classes exist before the first error.
        vm.import("ssl", 0)?;
        return Ok(Some(PySslContext::default_client().into_ref(&vm.ctx)));
    }
    Ok(None)
}

/// A port given to `open_connection` or `start_server`, as MicroPython's unix port takes it: the
/// number goes to `getaddrinfo` as text, which keeps its low 16 bits (70000 is 4464, -1 is
/// 65535); an int beyond a machine word is MicroPython's OverflowError.
fn port_number(port: &PyObjectRef, vm: &VirtualMachine) -> PyResult<u16> {
    let int = port.try_index(vm)?;
    let n: i64 = int
        .as_bigint()
        .try_into()
        .map_err(|_| vm.new_overflow_error("overflow converting long int to machine word"))?;
    Ok((n as u64 & 0xFFFF) as u16)
}

/// Resolves `host` with a blocking `getaddrinfo`; failures are `OSError(code, text)` as
/// CPython's `socket.gaierror` carries them.
fn resolve(host: &str, port: u16, passive: bool, vm: &VirtualMachine) -> PyResult<Vec<SocketAddr>> {
    net::resolve(host, port, passive).map_err(|e| {
        let exc = vm.new_os_subtype_error(vm.ctx.exceptions.os_error.to_owned(), Some(e.code), e.message);
        exc.upcast()
    })
}

/// Where `open_connection` stands.
#[derive(Debug)]
enum Connecting {
    /// Not started: resolve and connect on the first step.
    Start,
    /// Waiting for the connect to `addrs[index]` to finish on `stream`.
    Pending { addrs: Vec<SocketAddr>, index: usize, stream: PyRef<PyStream> },
    /// Finished (or failed).
    Done,
}

/// The awaitable `open_connection` returns: resolves, connects without blocking (trying each
/// address in turn), and gives `(stream, stream)`.
#[pyclass(module = "asyncio", name = "open_connection")]
#[derive(Debug, PyPayload)]
pub struct PyOpenConnection {
    host: String,
    port: u16,
    tls: Option<(PyRef<PySslContext>, String)>,
    state: RefCell<Connecting>,
}

impl PyOpenConnection {
    /// A socket connecting to `addr`, wrapped in a (TLS) stream that does no I/O until used.
    fn start(&self, addr: SocketAddr, vm: &VirtualMachine) -> PyResult<PyRef<PyStream>> {
        sched().io_touched();
        let sock = net::start_connect(addr).map_err(|e| e.to_pyexception(vm))?;
        let conn = match &self.tls {
            None => Conn::new(Transport::Socket(sock)),
            Some((ctx, name)) => {
                let config = ctx.client_config(vm)?;
                let name = microloop_core::tls::server_name(name).map_err(|e| vm.new_value_error(e.0))?;
                let tls = rustls::ClientConnection::new(config, name).map_err(|e| vm.new_value_error(e.to_string()))?;
                Conn::with_tls(Transport::Socket(sock), tls.into())
            }
        };
        Ok(PyStream::build(conn, Some(addr), None, None, vm)?.into_ref(&vm.ctx))
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PyOpenConnection {}

impl SelfIter for PyOpenConnection {}

impl IterNext for PyOpenConnection {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let state = std::mem::replace(&mut *zelf.state.borrow_mut(), Connecting::Done);
        let (addrs, mut index, stream) = match state {
            Connecting::Done => return Err(vm.new_runtime_error("cannot reuse already awaited open_connection")),
            Connecting::Start => {
                // As MicroPython's: start the connect, then wait for the poller to find the
                // socket writable before looking at the outcome.
                let addrs = resolve(&zelf.host, zelf.port, false, vm)?;
                let stream = zelf.start(addrs[0], vm)?;
                let token = stream.token.get();
                *zelf.state.borrow_mut() = Connecting::Pending { addrs, index: 0, stream };
                return park(token, Interest::Write, vm);
            }
            Connecting::Pending { addrs, index, stream } => (addrs, index, stream),
        };
        let mut stream = stream;
        loop {
            let outcome = match stream.conn.borrow_mut().as_mut() {
                Some(conn) => conn.finish_connect(),
                None => Err(std::io::Error::from_raw_os_error(libc::EBADF)),
            };
            match outcome {
                Ok(true) => {
                    return Ok(PyIterReturn::StopIteration(Some(vm.new_tuple((stream.clone(), stream)).into())));
                }
                Ok(false) => {
                    let token = stream.token.get();
                    *zelf.state.borrow_mut() = Connecting::Pending { addrs, index, stream };
                    return park(token, Interest::Write, vm);
                }
                Err(_) if index + 1 < addrs.len() => {
                    stream.finish_close();
                    index += 1;
                    stream = zelf.start(addrs[index], vm)?;
                }
                Err(e) => {
                    stream.finish_close();
                    return Err(e.to_pyexception(vm));
                }
            }
        }
    }
}

/// The arguments of `open_connection`.
#[derive(rustpython_vm::FromArgs)]
pub(crate) struct OpenConnectionArgs {
    #[pyarg(any)]
    host: PyObjectRef,
    #[pyarg(any)]
    port: PyObjectRef,
    #[pyarg(any, optional)]
    ssl: Option<PyObjectRef>,
    #[pyarg(any, optional)]
    server_hostname: Option<PyObjectRef>,
}

/// `open_connection(host, port, ssl=None, server_hostname=None)`.
pub(crate) fn open_connection(args: OpenConnectionArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyOpenConnection>> {
    let host = args.host.str(vm)?.to_string_lossy().into_owned();
    let ssl = args.ssl.unwrap_or_else(|| vm.ctx.none());
    let tls = match tls_context(&ssl, vm)? {
        None => None,
        Some(ctx) if ctx.is_server() => return Err(vm.new_value_error("ssl context is for servers")),
        Some(ctx) => {
            let name = match args.server_hostname.filter(|n| !vm.is_none(n)) {
                Some(n) => n.str(vm)?.to_string_lossy().into_owned(),
                None => host.clone(),
            };
            Some((ctx, name))
        }
    };
    Ok(PyOpenConnection { host, port: port_number(&args.port, vm)?, tls, state: RefCell::new(Connecting::Start) }.into_ref(&vm.ctx))
}

/// A listening server (MicroPython's `Server`): its accept task runs until `close()`.
#[pyclass(module = "asyncio", name = "Server")]
#[derive(Debug, PyPayload)]
pub struct PyServer {
    listener: RefCell<Option<Socket>>,
    token: Cell<Option<Token>>,
    /// Called as `cb(stream, stream)` for each connection; returns a coroutine.
    callback: PyObjectRef,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// The accept task.
    task: RefCell<Option<PyRef<PyTask>>>,
    /// Set by `close()`: the accept task's cancellation is a normal end, not an error.
    closed: Cell<bool>,
    /// The listening address (`sockets[0].getsockname()`, useful after binding port 0).
    local: Option<SocketAddr>,
    /// The task awaiting `serve_forever()` (one at most), woken by `close()`.
    forever: RefCell<WaitQueue<PyRef<PyTask>>>,
    /// `serve_forever()` is being awaited.
    forever_awaited: Cell<bool>,
}

/// How a task parked in `serve_forever()` leaves the server's queue when cancelled.
static FOREVER_SITE: WaitSite = WaitSite { what: "Server.serve_forever", remove: forever_remove, give_back: forever_give_back };

/// [`WaitSite::remove`] for `serve_forever()`.
fn forever_remove(obj: &rustpython_vm::PyObject, key: WaitKey) {
    if let Some(server) = obj.downcast_ref::<PyServer>() {
        // Dropped after the borrow ends: dropping an object can run code.
        let removed = server.forever.borrow_mut().remove(key);
        drop(removed);
    }
}

/// [`WaitSite::give_back`] for `serve_forever()`: never recorded (a woken task is plainly ready).
fn forever_give_back(_obj: &rustpython_vm::PyObject, _sched: &Scheduler) {}

impl PyServer {
    fn close_listener(&self) {
        let listener = self.listener.borrow_mut().take();
        if let Some(listener) = listener {
            release(self.token.take(), listener.as_raw_fd());
        }
    }

    /// Starts a task for a new connection from `peer` (as `accept` gave it: a connection reset
    /// before it was accepted has no peer name left to ask for); a failure is printed and ends
    /// only that connection.
    fn serve_one(&self, sock: Socket, peer: Option<SocketAddr>, vm: &VirtualMachine) {
        let result = (|| -> PyResult<()> {
            let conn = match &self.tls {
                None => Conn::new(Transport::Socket(sock)),
                Some(config) => {
                    let tls = rustls::ServerConnection::new(config.clone()).map_err(|e| vm.new_value_error(e.to_string()))?;
                    Conn::with_tls(Transport::Socket(sock), tls.into())
                }
            };
            let stream = PyStream::build(conn, peer, None, None, vm)?.into_ref(&vm.ctx);
            let coro = self.callback.call((stream.clone(), stream), vm)?;
            PyTask::spawn(coro, vm)?;
            Ok(())
        })();
        if let Err(e) = result {
            crate::traceback::print_exception(vm, &e, None);
        }
    }
}

/// `<Server sockets=(...)>`, as CPython shows it.
impl Representable for PyServer {
    fn repr_str(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        let sockets = PyServer::sockets(zelf, vm);
        Ok(format!("<Server sockets={}>", sockets.as_object().repr(vm)?.to_string_lossy()))
    }
}

/// CPython's `TransportSocket`: a view of the server's listening socket, which stays the
/// server's (no `close`, no I/O).
#[pyclass(module = "asyncio", name = "TransportSocket")]
#[derive(Debug, PyPayload)]
pub struct PyTransportSocket {
    server: PyRef<PyServer>,
}

impl PyTransportSocket {
    /// The listening address, or EBADF once the server closed it.
    fn local(&self, vm: &VirtualMachine) -> PyResult<SocketAddr> {
        match (self.server.listener.borrow().as_ref(), self.server.local) {
            (Some(_), Some(addr)) => Ok(addr),
            _ => Err(closed_error(vm)),
        }
    }
}

#[pyclass(with(Representable))]
impl PyTransportSocket {
    /// The address the server listens on, `(host, port)` (four items for IPv6).
    #[pymethod]
    fn getsockname(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        Ok(addr_to_py(Some(zelf.local(vm)?), vm))
    }

    /// The descriptor, -1 once the server is closed.
    #[pymethod]
    fn fileno(zelf: &Py<Self>) -> i32 {
        zelf.server.listener.borrow().as_ref().map_or(-1, |l| l.as_raw_fd())
    }

    /// `AF_INET` or `AF_INET6`.
    #[pygetset]
    fn family(zelf: &Py<Self>) -> i32 {
        match zelf.server.local {
            Some(SocketAddr::V6(_)) => libc::AF_INET6,
            _ => libc::AF_INET,
        }
    }

    /// `SOCK_STREAM`.
    #[pygetset(name = "type")]
    fn sock_type(_zelf: &Py<Self>) -> i32 {
        libc::SOCK_STREAM
    }

    /// `IPPROTO_TCP`.
    #[pygetset]
    fn proto(_zelf: &Py<Self>) -> i32 {
        libc::IPPROTO_TCP
    }
}

/// `<asyncio.TransportSocket fd=6, family=2, type=1, proto=6, laddr=('127.0.0.1', 8000)>`.
impl Representable for PyTransportSocket {
    fn repr_str(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        let mut s = format!(
            "<asyncio.TransportSocket fd={}, family={}, type={}, proto={}",
            PyTransportSocket::fileno(zelf),
            PyTransportSocket::family(zelf),
            libc::SOCK_STREAM,
            libc::IPPROTO_TCP
        );
        if let Ok(addr) = zelf.local(vm) {
            s.push_str(&format!(", laddr={}", addr_to_py(Some(addr), vm).repr(vm)?.to_string_lossy()));
        }
        s.push('>');
        Ok(s)
    }
}

/// An awaitable that yields to the loop once and finishes with None (`start_serving()`).
#[pyclass(module = "asyncio", name = "yield_once")]
#[derive(Debug, PyPayload)]
pub struct PyYieldOnce {
    yielded: Cell<bool>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyYieldOnce {}

impl SelfIter for PyYieldOnce {}

impl IterNext for PyYieldOnce {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        if zelf.yielded.replace(true) {
            return Ok(PyIterReturn::StopIteration(None));
        }
        yield_once(vm)
    }
}

/// Where a `serve_forever()` stands.
#[derive(Debug, Clone, Copy)]
enum Forever {
    /// Not awaited yet.
    Start,
    /// Parked in the server's queue under this key until `close()`.
    Waiting(WaitKey),
    /// Raised.
    Done,
}

/// The awaitable `Server.serve_forever()` returns (CPython's coroutine).
#[pyclass(module = "asyncio", name = "serve_forever")]
#[derive(Debug, PyPayload)]
pub struct PyServeForever {
    server: PyRef<PyServer>,
    phase: Cell<Forever>,
}

impl PyServeForever {
    /// Parks the running task in the server's queue.
    fn park(&self, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let cur = current_task(vm)?;
        let key = self.server.forever.borrow_mut().push_back(cur.clone());
        cur.set_wait(Wait::Site(self.server.clone().into(), key, &FOREVER_SITE));
        self.phase.set(Forever::Waiting(key));
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }

    /// Leaves: the server is no longer awaited.
    fn finish(&self) {
        self.phase.set(Forever::Done);
        self.server.forever_awaited.set(false);
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PyServeForever {
    /// Cancellation (or anything else thrown in) leaves the queue; a CancelledError closes
    /// the server, as CPython's does. The exception goes on.
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult<()> {
        let exc = thrown(typ, val, tb, vm);
        if let Forever::Waiting(key) = zelf.phase.get() {
            forever_remove(zelf.server.as_object(), key);
            zelf.finish();
            if exc.fast_isinstance(&super::cancelled_error_type(vm)) {
                PyServer::close(&zelf.server, vm)?;
            }
        }
        Err(exc)
    }
}

impl SelfIter for PyServeForever {}

impl IterNext for PyServeForever {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let server = &zelf.server;
        match zelf.phase.get() {
            Forever::Start => {
                if server.forever_awaited.get() {
                    let repr = server.as_object().repr(vm)?;
                    return Err(vm.new_runtime_error(format!("server {} is already being awaited on serve_forever()", repr.to_string_lossy())));
                }
                if server.closed.get() {
                    let repr = server.as_object().repr(vm)?;
                    return Err(vm.new_runtime_error(format!("server {} is closed", repr.to_string_lossy())));
                }
                let parked = zelf.park(vm)?;
                server.forever_awaited.set(true);
                Ok(parked)
            }
            // Woken: by `close()`, which CPython reports with CancelledError.
            Forever::Waiting(_) if server.closed.get() => {
                zelf.finish();
                Err(super::new_cancelled_error(vm))
            }
            Forever::Waiting(key) => {
                // Woken by something else: wait on.
                forever_remove(server.as_object(), key);
                zelf.park(vm)
            }
            Forever::Done => Err(vm.new_runtime_error("cannot reuse already awaited coroutine")),
        }
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        self.close_listener();
    }
}

#[pyclass(with(Representable))]
impl PyServer {
    /// Stops accepting: cancels the accept task and closes the listening socket at once.
    /// Connections already accepted go on. A task awaiting `serve_forever()` gets
    /// CancelledError, as CPython's does.
    #[pymethod]
    fn close(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.closed.set(true);
        zelf.close_listener();
        let forever: Vec<_> = zelf.forever.borrow_mut().take_all().collect();
        for task in forever {
            sched().push_ready(task);
        }
        let task = zelf.task.borrow().clone();
        if let Some(task) = task {
            PyTask::cancel_task(&task, vm)?;
        }
        Ok(())
    }

    /// CPython's `sockets`: a tuple with the listening socket (a `TransportSocket` with
    /// `getsockname()`, `fileno()`, `family`, `type`, `proto`), empty once closed.
    #[pygetset]
    fn sockets(zelf: &Py<Self>, vm: &VirtualMachine) -> rustpython_vm::builtins::PyTupleRef {
        if zelf.listener.borrow().is_none() {
            return vm.ctx.empty_tuple.clone();
        }
        let sock = PyTransportSocket { server: zelf.to_owned() }.into_ref(&vm.ctx);
        vm.new_tuple((sock,))
    }

    /// True until `close()`: the server accepts from the start.
    #[pymethod]
    fn is_serving(zelf: &Py<Self>) -> bool {
        !zelf.closed.get() && zelf.listener.borrow().is_some()
    }

    /// The running loop, as CPython's `get_loop()`.
    #[pymethod]
    fn get_loop(_zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        super::loop_object(vm)
    }

    /// CPython's `start_serving()`: the server serves already; yields to the loop once, as
    /// CPython's does.
    #[pymethod]
    fn start_serving(_zelf: &Py<Self>, vm: &VirtualMachine) -> PyRef<PyYieldOnce> {
        PyYieldOnce { yielded: Cell::new(false) }.into_ref(&vm.ctx)
    }

    /// CPython's `serve_forever()`: waits until the server is closed, then raises
    /// CancelledError; cancelled, it closes the server. RuntimeError if the server is closed
    /// or another task awaits it already.
    #[pymethod]
    fn serve_forever(zelf: &Py<Self>, vm: &VirtualMachine) -> PyRef<PyServeForever> {
        PyServeForever { server: zelf.to_owned(), phase: Cell::new(Forever::Start) }.into_ref(&vm.ctx)
    }

    /// Waits for the accept task to end.
    #[pymethod]
    fn wait_closed(zelf: &Py<Self>, vm: &VirtualMachine) -> PyObjectRef {
        match zelf.task.borrow().as_ref() {
            Some(task) => task.clone().into(),
            None => super::done_awaitable(vm),
        }
    }

    #[pymethod]
    fn __aenter__(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PyValue> {
        PyValue::new(zelf.into(), vm)
    }

    /// `async with server:` closes it and waits for that at the end.
    #[pymethod]
    fn __aexit__(zelf: &Py<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        Self::close(zelf, vm)?;
        Ok(Self::wait_closed(zelf, vm))
    }
}

/// The accept loop, run as the server's task. As MicroPython's `_serve`, each round waits for
/// the poller first, then accepts one connection and starts its task.
#[pyclass(module = "asyncio", name = "serve")]
#[derive(Debug, PyPayload)]
pub struct PyServe {
    server: PyRef<PyServer>,
    /// Whether this round's wait for the poller is done.
    polled: Cell<bool>,
    /// The listener's read epoch when accept last found nothing: until the reactor reports
    /// another event, the next round waits for it.
    drained_at: Cell<Option<u64>>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyServe {

    /// Cancellation: closes the listener; a cancel from `Server.close()` ends the task
    /// normally, any other (the parent task was cancelled) propagates.
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult<()> {
        zelf.server.close_listener();
        if zelf.server.closed.get() {
            return Err(vm.new_stop_iteration(None));
        }
        Err(thrown(typ, val, tb, vm))
    }
}

impl SelfIter for PyServe {}

impl IterNext for PyServe {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let server = &zelf.server;
        let token = server.token.get();
        let epoch = || token.and_then(|t| sched().read_epoch(t));
        loop {
            if !zelf.polled.replace(true) {
                let drained = zelf.drained_at.get().is_some() && zelf.drained_at.get() == epoch();
                return if drained { park(token, Interest::Read, vm) } else { yield_once(vm) };
            }
            let accepted = match server.listener.borrow().as_ref() {
                Some(l) => {
                    sched().io_touched();
                    net::accept(l)
                }
                None => return Ok(PyIterReturn::StopIteration(None)),
            };
            match accepted {
                Ok(Accepted::Conn(sock, peer)) => {
                    server.serve_one(sock, peer, vm);
                    zelf.polled.set(false);
                }
                Ok(Accepted::WouldBlock) => {
                    zelf.drained_at.set(epoch());
                    zelf.polled.set(false);
                }
                Ok(Accepted::Retry) => continue,
                Ok(Accepted::Exhausted(_)) => {
                    // The connection waits in the backlog; try again once descriptors may be free.
                    let task = current_task(vm)?;
                    sched().park_for(task, ACCEPT_BACKOFF_US);
                    return Ok(PyIterReturn::Return(vm.ctx.none()));
                }
                Err(e) => return Err(e.to_pyexception(vm)),
            }
        }
    }
}

/// The awaitable `start_server` returns: binds, listens, starts the accept task, yields once
/// (as MicroPython does, so the task is scheduled) and gives the Server.
#[pyclass(module = "asyncio", name = "start_server")]
#[derive(Debug, PyPayload)]
pub struct PyStartServer {
    callback: PyObjectRef,
    host: String,
    port: u16,
    backlog: i32,
    tls: Option<Arc<rustls::ServerConfig>>,
    server: RefCell<Option<PyRef<PyServer>>>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyStartServer {

    /// Cancelled during the initial yield: close the new server and pass the exception on.
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult<()> {
        if let Some(server) = zelf.server.borrow_mut().take() {
            PyServer::close(&server, vm)?;
        }
        Err(thrown(typ, val, tb, vm))
    }
}

impl SelfIter for PyStartServer {}

impl IterNext for PyStartServer {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        if let Some(server) = zelf.server.borrow().as_ref() {
            return Ok(PyIterReturn::StopIteration(Some(server.clone().into())));
        }
        let addrs = resolve(&zelf.host, zelf.port, true, vm)?;
        let listener = net::listen(addrs[0], zelf.backlog).map_err(|e| e.to_pyexception(vm))?;
        let token = register(listener.as_raw_fd(), vm)?;
        let local = listener.local_addr().ok().and_then(|a| a.as_socket());
        let server = PyServer {
            listener: RefCell::new(Some(listener)),
            token: Cell::new(token),
            callback: zelf.callback.clone(),
            tls: zelf.tls.clone(),
            task: RefCell::new(None),
            closed: Cell::new(false),
            local,
            forever: RefCell::new(WaitQueue::new()),
            forever_awaited: Cell::new(false),
        }
        .into_ref(&vm.ctx);
        let serve = PyServe { server: server.clone(), polled: Cell::new(false), drained_at: Cell::new(None) }.into_ref(&vm.ctx);
        let task = PyTask::spawn(serve.into(), vm)?;
        *server.task.borrow_mut() = Some(task);
        *zelf.server.borrow_mut() = Some(server);
        yield_once(vm)
    }
}

/// The arguments of `start_server`.
#[derive(rustpython_vm::FromArgs)]
pub(crate) struct StartServerArgs {
    #[pyarg(any)]
    callback: PyObjectRef,
    #[pyarg(any)]
    host: PyObjectRef,
    #[pyarg(any)]
    port: PyObjectRef,
    #[pyarg(any, default = 5)]
    backlog: i32,
    #[pyarg(any, optional)]
    ssl: Option<PyObjectRef>,
}

/// `start_server(callback, host, port, backlog=5, ssl=None)`. The kernel's accept queue is at
/// least the system's `SOMAXCONN` whatever `backlog` says (see `microloop_core::net::listen`):
/// MicroPython's 5 made a burst of a few hundred simultaneous clients wait for SYN
/// retransmissions, seconds each; a larger `backlog` is kept.
pub(crate) fn start_server(args: StartServerArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyStartServer>> {
    let host = if vm.is_none(&args.host) { String::new() } else { args.host.str(vm)?.to_string_lossy().into_owned() };
    let tls = match tls_context(&args.ssl.unwrap_or_else(|| vm.ctx.none()), vm)? {
        None => None,
        Some(ctx) if !ctx.is_server() => return Err(vm.new_value_error("ssl context is for clients")),
        Some(ctx) => Some(ctx.server_config(vm)?),
    };
    let start = PyStartServer {
        callback: args.callback,
        host,
        port: port_number(&args.port, vm)?,
        backlog: args.backlog,
        tls,
        server: RefCell::new(None),
    };
    Ok(start.into_ref(&vm.ctx))
}

/// Creates the types of objects the module hands out without exporting them, the awaitables
/// among them with the cheap `__await__`, `throw` and `close` (see `fastpath`).
pub(crate) fn init_types(vm: &VirtualMachine) {
    use super::fastpath::init_awaitable;
    use rustpython_vm::class::PyClassImpl;
    let _ = PyServer::make_static_type();
    init_awaitable::<PyStreamOp>(vm);
    init_awaitable::<PyLinger>(vm);
    init_awaitable::<PyValue>(vm);
    init_awaitable::<PyOpenConnection>(vm);
    init_awaitable::<PyServe>(vm);
    init_awaitable::<PyStartServer>(vm);
    init_awaitable::<PyServeForever>(vm);
    init_awaitable::<PyYieldOnce>(vm);
    let _ = PyTransportSocket::make_static_type();
}

/// The `Stream` type, exported as `Stream`, `StreamReader` and `StreamWriter`.
pub(crate) fn stream_type() -> rustpython_vm::builtins::PyTypeRef {
    use rustpython_vm::class::PyClassImpl;
    PyStream::make_static_type()
}

/// The `Server` type `start_server` returns.
pub(crate) fn server_type() -> rustpython_vm::builtins::PyTypeRef {
    use rustpython_vm::class::PyClassImpl;
    PyServer::make_static_type()
}
