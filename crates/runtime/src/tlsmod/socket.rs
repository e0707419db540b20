//! `SSLContext.wrap_socket`: a TLS session over a plain socket, used the way MicroPython's
//! socket-level clients use it (`requests`, `umqtt`): `write`, `read`, `readline`,
//! `readinto`, blocking or not, plus CPython's `recv`, `send`, `sendall`. It takes the
//! socket's descriptor over (the socket object is detached, as CPython's `wrap_socket` does)
//! and drives rustls on it directly; asyncio's streams do not use it.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, FromRawFd};
use std::time::Duration;

use rustls::Connection;
use rustpython_vm::{
    Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyByteArray, PyBytes, PyStr},
    convert::ToPyException,
    function::{ArgBytesLike, ArgMemoryBuffer, FuncArgs, OptionalArg},
    pyclass,
};

use super::PySslContext;

/// How long `close()` waits for a peer that does not read to take what is queued for it.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// What `read` and friends hand back on a socket that is not blocking and has nothing.
enum Got<T> {
    Data(T),
    WouldBlock,
}

/// The session and its socket, until `close()`.
struct Session {
    tls: Connection,
    sock: TcpStream,
    /// Plaintext received and not yet given to the script.
    pending: Vec<u8>,
    /// None: blocking; Some(ZERO): not blocking; Some(t): blocking for at most t.
    timeout: Option<Duration>,
    /// The peer ended the session (close_notify or the connection's end).
    eof: bool,
}

/// An error that rustls reports through `io::Error`, or the I/O error itself.
fn io_error(e: io::Error, vm: &VirtualMachine) -> PyBaseExceptionRef {
    if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return super::stream_error(microloop_core::stream::StreamError::Tls(tls.clone()), vm);
    }
    e.to_pyexception(vm)
}

impl Session {
    fn nonblocking(&self) -> bool {
        self.timeout == Some(Duration::ZERO)
    }

    /// Sends what rustls has queued. On a socket that is not blocking, what the kernel does not
    /// take stays queued in rustls for the next call.
    fn flush(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && self.nonblocking() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Completes the handshake (blocking sockets).
    fn handshake(&mut self) -> io::Result<()> {
        while self.tls.is_handshaking() {
            self.tls.complete_io(&mut self.sock).map_err(|e| self.timed_out(e))?;
        }
        self.flush().map_err(|e| self.timed_out(e))
    }

    /// A blocking socket's timeout as MicroPython reports it: ETIMEDOUT, not EAGAIN.
    fn timed_out(&self, e: io::Error) -> io::Error {
        if e.kind() == io::ErrorKind::WouldBlock && !self.nonblocking() {
            return io::Error::from_raw_os_error(libc::ETIMEDOUT);
        }
        e
    }

    /// Moves the session on without waiting: sends what is queued, takes in what has arrived
    /// (handshake messages, records of data), and tells whether the peer has ended it. Run
    /// before a write on a socket that is not blocking and by `poll`.
    fn advance(&mut self) -> io::Result<()> {
        let blocking = !self.nonblocking();
        if blocking {
            self.sock.set_nonblocking(true)?;
        }
        let result = (|| {
            self.flush_nonblocking()?;
            if !self.eof && self.pending.is_empty() {
                match self.fill_once() {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    other => other?,
                }
            }
            self.flush_nonblocking()
        })();
        if blocking {
            self.sock.set_nonblocking(false)?;
        }
        result
    }

    /// Sends what rustls has queued as far as the kernel takes it now.
    fn flush_nonblocking(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// One read of the socket into rustls and the plaintext it gives into `pending`
    /// (WouldBlock when nothing has arrived).
    fn fill_once(&mut self) -> io::Result<()> {
        if self.read_records()? {
            self.take_plaintext()?;
        }
        Ok(())
    }

    /// Reads what the socket has into rustls and processes it: false at the connection's end.
    /// A bad record is an InvalidData error, after the alert rustls queued for the peer.
    fn read_records(&mut self) -> io::Result<bool> {
        if self.tls.read_tls(&mut self.sock)? == 0 {
            self.eof = true;
            return Ok(false);
        }
        if let Err(e) = self.tls.process_new_packets() {
            let _ = self.flush();
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        Ok(true)
    }

    /// Moves the plaintext rustls has decrypted into `pending`; the count. Notes the end of
    /// the session: close_notify, or the connection's end without it, which MicroPython's
    /// read reports as the end of the stream too.
    fn take_plaintext(&mut self) -> io::Result<usize> {
        let mut buf = [0u8; 16 * 1024];
        let mut got = 0;
        loop {
            match self.tls.reader().read(&mut buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(got);
                }
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    got += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(got),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.eof = true;
                    return Ok(got);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// MicroPython's MP_STREAM_POLL: which of `events` (POLLIN 1, POLLOUT 4) the session is
    /// ready for, counting the plaintext already received and the end of the session; sends
    /// what is queued on the way.
    fn poll(&mut self, events: u32) -> u32 {
        const POLLIN: u32 = 0x1;
        const POLLOUT: u32 = 0x4;
        const POLLERR: u32 = 0x8;
        if self.advance().is_err() {
            return POLLERR;
        }
        let mut ready = 0;
        if events & POLLIN != 0 && (!self.pending.is_empty() || self.eof) {
            ready |= POLLIN;
        }
        if events & POLLOUT != 0 && !self.tls.is_handshaking() && !self.tls.wants_write() {
            ready |= POLLOUT;
        }
        ready
    }

    /// Receives more plaintext into `pending`: the count, 0 at the end of the session.
    fn fill(&mut self) -> io::Result<Got<usize>> {
        loop {
            if self.eof {
                return Ok(Got::Data(0));
            }
            let n = self.take_plaintext()?;
            if n > 0 || self.eof {
                return Ok(Got::Data(n));
            }
            self.flush()?;
            match self.read_records() {
                Ok(false) => return Ok(Got::Data(0)),
                Ok(true) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && self.nonblocking() => return Ok(Got::WouldBlock),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT)),
                Err(e) => return Err(e),
            }
        }
    }

    /// Up to `n` bytes (all until the end for None): on a blocking socket it waits until it
    /// has them or the session ends, on one that is not blocking it gives what has arrived.
    fn read(&mut self, n: Option<usize>) -> io::Result<Got<Vec<u8>>> {
        loop {
            if n.is_some_and(|n| self.pending.len() >= n) || self.eof {
                break;
            }
            match self.fill()? {
                Got::Data(0) => break,
                Got::Data(_) => {}
                Got::WouldBlock if self.pending.is_empty() => return Ok(Got::WouldBlock),
                Got::WouldBlock => break,
            }
        }
        let take = n.map_or(self.pending.len(), |n| n.min(self.pending.len()));
        Ok(Got::Data(self.pending.drain(..take).collect()))
    }

    /// One receive, as `recv` does: what is there, waiting for something on a blocking socket.
    fn recv(&mut self, n: usize) -> io::Result<Got<Vec<u8>>> {
        if self.pending.is_empty() && n > 0 {
            if let Got::WouldBlock = self.fill()? {
                return Ok(Got::WouldBlock);
            }
        }
        let take = n.min(self.pending.len());
        Ok(Got::Data(self.pending.drain(..take).collect()))
    }

    /// A line with its newline, or what is left at the end of the session.
    fn readline(&mut self, limit: Option<usize>) -> io::Result<Got<Vec<u8>>> {
        let mut searched = 0;
        loop {
            let cap = limit.unwrap_or(usize::MAX);
            if let Some(i) = self.pending[searched..].iter().position(|&b| b == b'\n') {
                let end = (searched + i + 1).min(cap);
                return Ok(Got::Data(self.pending.drain(..end).collect()));
            }
            if self.pending.len() >= cap {
                return Ok(Got::Data(self.pending.drain(..cap).collect()));
            }
            searched = self.pending.len();
            match self.fill()? {
                Got::Data(0) => return Ok(Got::Data(std::mem::take(&mut self.pending))),
                Got::Data(_) => {}
                Got::WouldBlock if self.pending.is_empty() => return Ok(Got::WouldBlock),
                Got::WouldBlock => return Ok(Got::Data(std::mem::take(&mut self.pending))),
            }
        }
    }

    /// Queues `data` and sends it: all of it on a blocking socket, what fits on one that is
    /// not (the count taken; rustls keeps what it took until the kernel takes it).
    fn write(&mut self, data: &[u8]) -> io::Result<Got<usize>> {
        if self.nonblocking() {
            // The handshake moves on here too, or a writer that never reads would never see
            // it end; what rustls takes stays queued until the kernel takes it (by the next
            // call, `poll` or `close`).
            self.advance()?;
            let n = self.tls.writer().write(data)?;
            self.flush()?;
            return Ok(if n == 0 && !data.is_empty() { Got::WouldBlock } else { Got::Data(n) });
        }
        // A handshake put off (`do_handshake=False`) is done first, so the bytes leave now.
        if self.tls.is_handshaking() {
            self.handshake()?;
        }
        let mut done = 0;
        while done < data.len() {
            done += self.tls.writer().write(&data[done..])?;
            self.flush().map_err(|e| self.timed_out(e))?;
        }
        self.flush().map_err(|e| self.timed_out(e))?;
        Ok(Got::Data(done))
    }

    fn set_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.timeout = timeout;
        self.sock.set_nonblocking(timeout == Some(Duration::ZERO))?;
        let t = timeout.filter(|t| !t.is_zero());
        self.sock.set_read_timeout(t)?;
        self.sock.set_write_timeout(t)
    }

    /// Sends what is still queued (bytes `write` took on a socket that is not blocking
    /// included) and says goodbye to the peer, waiting for the kernel at most
    /// [`CLOSE_WAIT`], then closes the socket.
    fn close(mut self) {
        let _ = self.sock.set_nonblocking(false);
        let _ = self.sock.set_write_timeout(Some(CLOSE_WAIT));
        let _ = self.sock.set_read_timeout(Some(CLOSE_WAIT));
        // Bytes written during a handshake wait in rustls for its end.
        while self.tls.is_handshaking() && self.tls.wants_write() | self.tls.wants_read() {
            if self.tls.complete_io(&mut self.sock).is_err() {
                break;
            }
        }
        self.tls.send_close_notify();
        while self.tls.wants_write() {
            if self.tls.write_tls(&mut self.sock).is_err() {
                break;
            }
        }
    }
}

/// A socket with a TLS session on it: what `SSLContext.wrap_socket` returns.
#[pyclass(module = "ssl", name = "SSLSocket")]
#[derive(PyPayload)]
pub(crate) struct PySslSocket {
    session: RefCell<Option<Session>>,
}

impl std::fmt::Debug for PySslSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<SSLSocket>")
    }
}

/// The arguments of `SSLContext.wrap_socket`.
#[derive(rustpython_vm::FromArgs)]
pub(crate) struct WrapArgs {
    #[pyarg(positional)]
    sock: PyObjectRef,
    #[pyarg(named, default = false)]
    server_side: bool,
    #[pyarg(named, default = true)]
    do_handshake_on_connect: bool,
    #[pyarg(named, optional)]
    server_hostname: Option<PyObjectRef>,
}

/// `ctx.wrap_socket(sock, server_side=False, do_handshake_on_connect=True,
/// server_hostname=None)`.
pub(crate) fn wrap_socket(ctx: &Py<PySslContext>, args: WrapArgs, vm: &VirtualMachine) -> PyResult<PyRef<PySslSocket>> {
    let tls: Connection = if args.server_side || ctx.is_server() {
        rustls::ServerConnection::new(ctx.server_config(vm)?).map_err(|e| vm.new_value_error(e.to_string()))?.into()
    } else {
        let config = ctx.client_config(vm)?;
        let name = match args.server_hostname.filter(|n| !vm.is_none(n)) {
            Some(n) => n.str(vm)?.to_string_lossy().into_owned(),
            // A certificate to verify needs a name to verify it against (MicroPython's rule).
            None if PySslContext::verify_mode(ctx) == 2 => {
                return Err(vm.new_value_error("CERT_REQUIRED requires server_hostname"));
            }
            // No name to check: the peer's address stands for it (no SNI is sent for one).
            None => {
                let peer = vm.call_method(&args.sock, "getpeername", ())?;
                peer.get_item(&0, vm)?.str(vm)?.to_string_lossy().into_owned()
            }
        };
        let name = microloop_core::tls::server_name(&name).map_err(|e| vm.new_value_error(e.0))?;
        rustls::ClientConnection::new(config, name).map_err(|e| vm.new_value_error(e.to_string()))?.into()
    };
    let timeout = vm.call_method(&args.sock, "gettimeout", ())?;
    let timeout = if vm.is_none(&timeout) { None } else { Some(seconds(timeout.try_float(vm)?.to_f64(), vm)?) };
    let fd: i32 = vm.call_method(&args.sock, "detach", ())?.try_into_value(vm)?;
    if fd < 0 {
        return Err(std::io::Error::from_raw_os_error(libc::EBADF).to_pyexception(vm));
    }
    // SAFETY: `detach` handed the descriptor over: the socket object no longer closes it.
    let sock = unsafe { TcpStream::from_raw_fd(fd) };
    let mut session = Session { tls, sock, pending: Vec::new(), timeout: None, eof: false };
    session.set_timeout(timeout).map_err(|e| e.to_pyexception(vm))?;
    if args.do_handshake_on_connect && !session.nonblocking() {
        session.handshake().map_err(|e| match e.kind() {
            // The peer went away mid-handshake: mbedTLS's CONN_EOF, as MicroPython reports it.
            io::ErrorKind::UnexpectedEof => super::stream_error(microloop_core::stream::StreamError::HandshakeEof, vm),
            _ => io_error(e, vm),
        })?;
    }
    let _ = <PySslSocket as rustpython_vm::class::PyClassImpl>::make_static_type();
    Ok(PySslSocket { session: RefCell::new(Some(session)) }.into_ref(&vm.ctx))
}

/// A timeout in seconds as a Duration; OverflowError beyond what one holds.
fn seconds(t: f64, vm: &VirtualMachine) -> PyResult<Duration> {
    Duration::try_from_secs_f64(t.max(0.0)).map_err(|_| vm.new_overflow_error("timeout doesn't fit in a C timeval"))
}

/// A count argument: None or missing for "all", else a non-negative int.
fn count(n: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<Option<usize>> {
    match n.into_option().filter(|n| !vm.is_none(n)) {
        None => Ok(None),
        Some(n) => {
            let n: isize = n.try_into_value(vm)?;
            Ok(usize::try_from(n).ok())
        }
    }
}

impl PySslSocket {
    fn with<T>(&self, vm: &VirtualMachine, f: impl FnOnce(&mut Session) -> io::Result<T>) -> PyResult<T> {
        let mut session = self.session.try_borrow_mut().map_err(|_| vm.new_runtime_error("SSL socket used from inside its own call"))?;
        let session = session.as_mut().ok_or_else(|| std::io::Error::from_raw_os_error(libc::EBADF).to_pyexception(vm))?;
        f(session).map_err(|e| io_error(e, vm))
    }

    fn bytes_or_none(got: Got<Vec<u8>>, vm: &VirtualMachine) -> PyObjectRef {
        match got {
            Got::Data(d) => vm.ctx.new_bytes(d).into(),
            Got::WouldBlock => vm.ctx.none(),
        }
    }
}

/// The bytes of a `write` argument: bytes-like, or a str as its UTF-8 (MicroPython's).
fn data_of(data: &PyObjectRef, vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    if let Some(s) = data.downcast_ref::<PyStr>() {
        return Ok(s.as_wtf8().as_bytes().to_vec());
    }
    if let Some(b) = data.downcast_ref::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Some(b) = data.downcast_ref::<PyByteArray>() {
        return Ok(b.borrow_buf().to_vec());
    }
    let buf = ArgBytesLike::try_from_object(vm, data.clone()).map_err(|_| vm.new_type_error("object with buffer protocol required"))?;
    Ok(buf.borrow_buf().to_vec())
}

use rustpython_vm::convert::TryFromObject;

#[pyclass]
impl PySslSocket {
    /// `read([n])`: up to `n` bytes (all until the end without `n`); None on a socket that is
    /// not blocking when nothing has arrived.
    #[pymethod]
    fn read(zelf: &Py<Self>, n: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult {
        let n = count(n, vm)?;
        let got = zelf.with(vm, |s| s.read(n))?;
        Ok(Self::bytes_or_none(got, vm))
    }

    /// `readinto(buf[, n])`: the count read into `buf`, or None.
    #[pymethod]
    fn readinto(zelf: &Py<Self>, buf: ArgMemoryBuffer, n: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult {
        let len = buf.len();
        let n = count(n, vm)?.map_or(len, |n| n.min(len));
        match zelf.with(vm, |s| s.read(Some(n)))? {
            Got::Data(d) => {
                buf.borrow_buf_mut()[..d.len()].copy_from_slice(&d);
                Ok(vm.ctx.new_int(d.len()).into())
            }
            Got::WouldBlock => Ok(vm.ctx.none()),
        }
    }

    /// `readline([limit])`: a line with its newline, what is left at the end, or None.
    #[pymethod]
    fn readline(zelf: &Py<Self>, limit: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult {
        let limit = count(limit, vm)?;
        let got = zelf.with(vm, |s| s.readline(limit))?;
        Ok(Self::bytes_or_none(got, vm))
    }

    /// `write(data)`: the count sent (all of it on a blocking socket), or None.
    #[pymethod]
    fn write(zelf: &Py<Self>, data: PyObjectRef, vm: &VirtualMachine) -> PyResult {
        let data = data_of(&data, vm)?;
        Ok(match zelf.with(vm, |s| s.write(&data))? {
            Got::Data(n) => vm.ctx.new_int(n).into(),
            Got::WouldBlock => vm.ctx.none(),
        })
    }

    /// CPython's `recv(n)`: one receive of at most `n` bytes.
    #[pymethod]
    fn recv(zelf: &Py<Self>, n: usize, _flags: OptionalArg<i32>, vm: &VirtualMachine) -> PyResult<PyRef<PyBytes>> {
        match zelf.with(vm, |s| s.recv(n))? {
            Got::Data(d) => Ok(vm.ctx.new_bytes(d)),
            Got::WouldBlock => Err(std::io::Error::from_raw_os_error(libc::EAGAIN).to_pyexception(vm)),
        }
    }

    /// CPython's `send(data)`: the count taken.
    #[pymethod]
    fn send(zelf: &Py<Self>, data: ArgBytesLike, _flags: OptionalArg<i32>, vm: &VirtualMachine) -> PyResult<usize> {
        let data = data.borrow_buf().to_vec();
        match zelf.with(vm, |s| s.write(&data))? {
            Got::Data(n) => Ok(n),
            Got::WouldBlock => Err(std::io::Error::from_raw_os_error(libc::EAGAIN).to_pyexception(vm)),
        }
    }

    /// CPython's `sendall(data)`.
    #[pymethod]
    fn sendall(zelf: &Py<Self>, data: ArgBytesLike, _flags: OptionalArg<i32>, vm: &VirtualMachine) -> PyResult<()> {
        let data = data.borrow_buf().to_vec();
        let mut done = 0;
        while done < data.len() {
            match zelf.with(vm, |s| s.write(&data[done..]))? {
                Got::Data(n) => done += n,
                Got::WouldBlock => return Err(std::io::Error::from_raw_os_error(libc::EAGAIN).to_pyexception(vm)),
            }
        }
        Ok(())
    }

    /// `setblocking(flag)`.
    #[pymethod]
    fn setblocking(zelf: &Py<Self>, flag: bool, vm: &VirtualMachine) -> PyResult<()> {
        zelf.with(vm, |s| s.set_timeout(if flag { None } else { Some(Duration::ZERO) }))
    }

    /// `settimeout(seconds)`: None blocks, 0 does not.
    #[pymethod]
    fn settimeout(zelf: &Py<Self>, timeout: Option<f64>, vm: &VirtualMachine) -> PyResult<()> {
        let timeout = match timeout {
            Some(t) if t < 0.0 || t.is_nan() => return Err(vm.new_value_error("Timeout value out of range")),
            Some(t) => Some(seconds(t, vm)?),
            None => None,
        };
        zelf.with(vm, |s| s.set_timeout(timeout))
    }

    /// Ends the session and closes the socket; again does nothing.
    #[pymethod]
    fn close(zelf: &Py<Self>) {
        let session = zelf.session.borrow_mut().take();
        if let Some(session) = session {
            session.close();
        }
    }

    /// The socket's descriptor, -1 once closed.
    #[pymethod]
    fn fileno(zelf: &Py<Self>) -> i32 {
        zelf.session.borrow().as_ref().map_or(-1, |s| s.sock.as_raw_fd())
    }

    /// MicroPython's stream ioctl, for `select.poll`: MP_STREAM_POLL (3) reports the events
    /// of `arg` the session is ready for (plaintext already received counts, which the
    /// descriptor alone would not show), MP_STREAM_GET_FILENO (10) is refused so that poll
    /// asks this; other requests are not supported (-1).
    #[pymethod]
    fn ioctl(zelf: &Py<Self>, req: i64, arg: OptionalArg<i64>, vm: &VirtualMachine) -> PyResult<i64> {
        const STREAM_POLL: i64 = 3;
        match req {
            STREAM_POLL => {
                let events = u32::try_from(arg.unwrap_or(0)).unwrap_or(0);
                Ok(i64::from(zelf.with(vm, |s| Ok(s.poll(events)))?))
            }
            _ => Ok(-1),
        }
    }

    /// `getpeercert(True)`: the peer's certificate as DER bytes (None when it sent none), as
    /// MicroPython gives it; the parsed form (`binary_form=False`) is not supported, as in
    /// MicroPython.
    #[pymethod]
    fn getpeercert(zelf: &Py<Self>, binary_form: OptionalArg<bool>, vm: &VirtualMachine) -> PyResult {
        if !binary_form.unwrap_or(false) {
            return Err(vm.new_not_implemented_error(""));
        }
        let der = zelf.with(vm, |s| Ok(s.tls.peer_certificates().and_then(|certs| certs.first()).map(|c| c.as_ref().to_vec())))?;
        Ok(der.map_or_else(|| vm.ctx.none(), |d| vm.ctx.new_bytes(d).into()))
    }

    /// Finishes the handshake now.
    #[pymethod]
    fn do_handshake(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.with(vm, |s| s.handshake())
    }

    #[pymethod]
    fn __enter__(zelf: PyRef<Self>) -> PyRef<Self> {
        zelf
    }

    #[pymethod]
    fn __exit__(zelf: &Py<Self>, _args: FuncArgs) {
        Self::close(zelf);
    }
}

impl Drop for PySslSocket {
    fn drop(&mut self) {
        if let Some(session) = self.session.get_mut().take() {
            session.close();
        }
    }
}
