//! A non-blocking byte stream with its buffers in Rust: TCP, TLS over TCP, or any descriptor.
//!
//! [`Conn`] never blocks. Each operation either completes ([`Step::Ready`]) or says which
//! readiness to wait for ([`Step::Blocked`]); the caller parks on the reactor and calls again.
//! An operation only reports `Blocked` after the descriptor said `WouldBlock`, which is what the
//! edge-triggered reactor needs to report the next change. The one exception saves a system
//! call per message: a read from a socket that returned fewer bytes than asked for drained the
//! socket, so epoll will report the next bytes as a new event (tokio relies on the same). The
//! caller passes the count of read events the reactor has seen for the descriptor
//! ([`Conn::set_read_epoch`]); until it moves on, a read reports `Blocked` without asking the
//! kernel for the `WouldBlock` it would get.
//!
//! The shortcut never waits for an event already taken in. Bytes that arrive between the
//! poll and the short read are read by it, but their event stays queued in the poller and
//! moves the epoch on later: a wake-up for nothing, never a lost one. The end of the stream
//! and a reset come as a hang-up event, after which the caller passes no epoch and every read
//! asks the kernel, so the last bytes and the close arriving together are read to the end.
//!
//! Received bytes wait in the read buffer until taken, so a reader that is cancelled half-way
//! through a line loses nothing. A read that fails (a reset, a TLS error) drops them, as a
//! MicroPython read loses what it had gathered when the descriptor fails. Written bytes wait
//! in the write buffer until the kernel (or rustls) accepts them: the buffer holds exactly what
//! the script wrote and has not been sent.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use socket2::Socket;

use crate::reactor::Interest;

/// Bytes read from the descriptor per system call.
const CHUNK: usize = 64 * 1024;

/// A buffer that keeps more than this after being emptied gives the memory back.
const KEEP_CAPACITY: usize = 16 * 1024;

/// The outcome of a non-blocking operation.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<T> {
    /// Done, with its value.
    Ready(T),
    /// Wait for this readiness, then call again.
    Blocked(Interest),
}

/// Why a stream operation failed.
#[derive(Debug)]
pub enum StreamError {
    /// The descriptor failed (`ECONNRESET`, `EPIPE`, ...).
    Io(io::Error),
    /// The TLS session failed: a bad certificate, an alert from the peer, a protocol error.
    Tls(rustls::Error),
    /// The peer closed the connection before the TLS handshake finished.
    HandshakeEof,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Io(e) => e.fmt(f),
            StreamError::Tls(e) => e.fmt(f),
            StreamError::HandshakeEof => f.write_str("connection closed during the TLS handshake"),
        }
    }
}

impl std::error::Error for StreamError {}

impl From<io::Error> for StreamError {
    fn from(e: io::Error) -> Self {
        StreamError::Io(e)
    }
}

/// Shorthand for the result of a stream operation.
pub type StreamResult<T> = Result<Step<T>, StreamError>;

/// A byte queue: appended at the back, consumed from the front without moving the rest.
#[derive(Debug, Default)]
struct Buf {
    data: Vec<u8>,
    start: usize,
}

impl Buf {
    fn as_slice(&self) -> &[u8] {
        &self.data[self.start..]
    }

    fn len(&self) -> usize {
        self.data.len() - self.start
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.data.len() {
            self.data.clear();
            self.start = 0;
            if self.data.capacity() > KEEP_CAPACITY {
                self.data.shrink_to(KEEP_CAPACITY);
            }
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start >= self.data.len() / 2 {
            self.data.drain(..self.start);
            self.start = 0;
        }
        self.data.extend_from_slice(bytes);
    }
}

thread_local! {
    /// Where reads land before being appended to a stream's buffer, so idle streams keep no
    /// 64 KiB buffer each.
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; CHUNK]);
}

/// A descriptor that is not a socket (a pipe, a tty, standard input), set non-blocking for as
/// long as the stream lives. It is a duplicate, so closing the stream leaves the original open;
/// its original flags are restored on drop because they belong to the shared open file.
#[derive(Debug)]
pub struct FdIo {
    fd: OwnedFd,
    restore_flags: Option<libc::c_int>,
}

impl FdIo {
    /// Duplicates `fd` and makes the open file non-blocking.
    pub fn new(fd: RawFd) -> io::Result<Self> {
        // SAFETY: fcntl on a caller-supplied descriptor; failures are reported through errno.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `dup` is a new descriptor this struct now owns.
        let fd = unsafe { OwnedFd::from_raw_fd(dup) };
        // SAFETY: as above, on the descriptor we own.
        let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut restore_flags = None;
        if flags & libc::O_NONBLOCK == 0 {
            // SAFETY: as above.
            if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
                return Err(io::Error::last_os_error());
            }
            restore_flags = Some(flags);
        }
        Ok(FdIo { fd, restore_flags })
    }
}

impl Drop for FdIo {
    fn drop(&mut self) {
        if let Some(flags) = self.restore_flags {
            // SAFETY: restoring the flags read in `new` on the descriptor we still own.
            unsafe { libc::fcntl(self.fd.as_raw_fd(), libc::F_SETFL, flags) };
        }
    }
}

/// What a [`Conn`] reads from and writes to.
#[derive(Debug)]
pub enum Transport {
    /// A connected TCP socket.
    Socket(Socket),
    /// Any other descriptor.
    Fd(FdIo),
}

impl Transport {
    /// The descriptor, for registering with the reactor.
    pub fn raw_fd(&self) -> RawFd {
        match self {
            Transport::Socket(s) => s.as_raw_fd(),
            Transport::Fd(f) => f.fd.as_raw_fd(),
        }
    }
}

/// `io::Read`/`io::Write` over a transport, for rustls and for plain transfers. Writes to
/// sockets use `MSG_NOSIGNAL`: a closed peer is an `EPIPE` error, never a signal. The flag is
/// the connection's reset taken from the socket before anyone read ([`Conn::finish_connect`]):
/// it is reported where the kernel would have reported it, by the first read that finds the
/// end or the first write that finds the socket shut.
struct RawIo<'a>(&'a Transport, &'a Cell<bool>);

impl RawIo<'_> {
    fn reset(&self) -> io::Error {
        self.1.set(false);
        io::Error::from_raw_os_error(libc::ECONNRESET)
    }
}

impl Read for RawIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0 {
            Transport::Socket(s) => {
                let mut s: &Socket = s;
                match s.read(buf) {
                    Ok(0) if self.1.get() && !buf.is_empty() => Err(self.reset()),
                    other => other,
                }
            }
            Transport::Fd(f) => {
                // SAFETY: reading into a valid, writable slice of the given length.
                let n = unsafe { libc::read(f.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
            }
        }
    }
}

impl Write for RawIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0 {
            Transport::Socket(s) => match s.send_with_flags(buf, libc::MSG_NOSIGNAL) {
                Err(e) if self.1.get() && e.raw_os_error() == Some(libc::EPIPE) => Err(self.reset()),
                other => other,
            },
            Transport::Fd(f) => {
                // SAFETY: writing from a valid slice of the given length.
                let n = unsafe { libc::write(f.fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
                if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Retries `op` while it fails with `EINTR`.
fn retry<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn is_would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// One stream: a transport, an optional TLS session, and the two buffers.
#[derive(Debug)]
pub struct Conn {
    io: Transport,
    tls: Option<Box<rustls::Connection>>,
    rbuf: Buf,
    wbuf: Buf,
    /// TLS only: the session has ended (close_notify or the socket's end-of-file).
    tls_eof: bool,
    /// TLS only: the session failed here and a fatal alert went to the peer, which may still
    /// be sending (see [`Conn::sent_fatal_alert`]).
    alert_sent: bool,
    /// A reset that arrived before the connect was looked at, kept for the first read or
    /// write (see [`Conn::finish_connect`]).
    reset: Cell<bool>,
    /// The reactor's count of read events for the descriptor, as last passed by the caller
    /// (None: unknown, so every read asks the kernel).
    read_epoch: Option<u64>,
    /// The read epoch at which a socket read came back short (drained the socket).
    drained_at: Option<u64>,
    /// Bytes received from a plain transport so far.
    received: u64,
    /// Bytes handed to a plain transport so far.
    sent: u64,
}

impl Conn {
    /// A stream over a plain transport.
    pub fn new(io: Transport) -> Self {
        Conn {
            // A new socket has had no read event: like one just drained at epoch 0 (the
            // reactor counts a descriptor's events from 0 when it is registered).
            drained_at: matches!(io, Transport::Socket(_)).then_some(0),
            io,
            tls: None,
            rbuf: Buf::default(),
            wbuf: Buf::default(),
            tls_eof: false,
            alert_sent: false,
            reset: Cell::new(false),
            read_epoch: None,
            received: 0,
            sent: 0,
        }
    }

    /// A TLS stream: `tls` is a fresh client or server session over `io`. The handshake runs as
    /// part of the first reads and writes, or explicitly through [`Conn::handshake`].
    pub fn with_tls(io: Transport, tls: rustls::Connection) -> Self {
        Conn { tls: Some(Box::new(tls)), ..Conn::new(io) }
    }

    /// The descriptor, for the reactor.
    pub fn raw_fd(&self) -> RawFd {
        self.io.raw_fd()
    }

    /// The transport (to read socket addresses).
    pub fn transport(&self) -> &Transport {
        &self.io
    }

    /// After a connecting socket turned writable: `Ok(true)` once connected, `Ok(false)` while
    /// in progress, or what ended the attempt (see [`crate::net::finish_connect`]). A
    /// connection that was made and then reset before this looked (a server that accepted and
    /// reset at once) was made: `ECONNRESET` only ever ends an established connection (a
    /// refused attempt is `ECONNREFUSED`). Looking took the reset from the socket, so the
    /// stream keeps it for the first read that reaches the end of what the peer sent, or the
    /// first write, as the kernel would have reported it to MicroPython, which does not look.
    pub fn finish_connect(&mut self) -> io::Result<bool> {
        let Transport::Socket(sock) = &self.io else { return Err(io::Error::from_raw_os_error(libc::EBADF)) };
        match crate::net::finish_connect(sock) {
            Err(e) if e.raw_os_error() == Some(libc::ECONNRESET) => {
                self.reset.set(true);
                Ok(true)
            }
            other => other,
        }
    }

    /// Whether this side's TLS session failed and sent the peer a fatal alert. The peer may
    /// still be sending the rest of its handshake: closing now would answer that with a reset,
    /// which can reach the peer before it reads the alert. See [`Conn::discard_input`].
    pub fn sent_fatal_alert(&self) -> bool {
        self.alert_sent
    }

    /// Shuts down the sending side of a socket (the peer reads the end of the stream after
    /// what was sent), leaving the receiving side open.
    pub fn shutdown_write(&self) -> io::Result<()> {
        match &self.io {
            Transport::Socket(s) => s.shutdown(std::net::Shutdown::Write),
            Transport::Fd(_) => Ok(()),
        }
    }

    /// Reads and drops what the descriptor has, below any TLS session: `Ready` at the end of
    /// the stream, `Blocked` once nothing is left for now. For a stream that is being closed
    /// but whose peer is still sending (a descriptor closed with unread bytes, or receiving
    /// bytes after its close, makes the kernel send a reset).
    pub fn discard_input(&mut self) -> StreamResult<()> {
        self.rbuf = Buf::default();
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            loop {
                match retry(|| RawIo(&self.io, &self.reset).read(&mut scratch[..])) {
                    Ok(0) => return Ok(Step::Ready(())),
                    Ok(_) => {}
                    Err(e) if is_would_block(&e) => return Ok(Step::Blocked(Interest::Read)),
                    Err(e) => return Err(e.into()),
                }
            }
        })
    }

    /// The peer's address, for sockets.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        match &self.io {
            Transport::Socket(s) => s.peer_addr().ok()?.as_socket(),
            Transport::Fd(_) => None,
        }
    }

    /// Our own address, for sockets.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.io {
            Transport::Socket(s) => s.local_addr().ok()?.as_socket(),
            Transport::Fd(_) => None,
        }
    }

    /// How many bytes have been handed to a plain transport so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// How many bytes a plain transport has delivered so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether the stream is TLS (whose reads may also send: handshake and session records).
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Whether a TLS handshake is still to finish.
    pub fn is_handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.is_handshaking())
    }

    /// Bytes received and not yet taken.
    pub fn buffered(&self) -> &[u8] {
        self.rbuf.as_slice()
    }

    /// Drops the first `n` received bytes (after the caller copied them out).
    pub fn consume(&mut self, n: usize) {
        self.rbuf.consume(n);
    }

    /// Takes up to `n` received bytes.
    pub fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.rbuf.len());
        let out = self.rbuf.as_slice()[..n].to_vec();
        self.rbuf.consume(n);
        out
    }

    /// Bytes written and not yet handed to the kernel (or to rustls).
    pub fn pending_write(&self) -> usize {
        self.wbuf.len()
    }

    /// Whether a read could find something without waiting for the reactor: bytes buffered,
    /// or a socket not known to be drained since the last read event. Always true for TLS and
    /// for descriptors that are not sockets, which are read to find out.
    pub fn may_have_input(&self) -> bool {
        let socket = matches!(self.io, Transport::Socket(_));
        !self.rbuf.is_empty() || self.tls.is_some() || !socket || self.read_epoch.is_none() || self.drained_at != self.read_epoch
    }

    /// Tells the stream how many read (or error) events the reactor has reported for its
    /// descriptor so far; see the module's documentation. Call it before each read attempt.
    pub fn set_read_epoch(&mut self, epoch: Option<u64>) {
        self.read_epoch = epoch;
    }

    /// Receives more bytes into the read buffer. `Ready(n)` with `n > 0` when bytes arrived,
    /// `Ready(0)` at end of stream.
    pub fn fill(&mut self) -> StreamResult<usize> {
        self.fill_upto(CHUNK)
    }

    /// As [`Conn::fill`], taking at most `limit` bytes from a plain transport (at least one).
    /// `Stream.read(n)` asks for no more than `n`, as MicroPython does, so bytes it did not ask
    /// for stay in the kernel. TLS reads whole records. A failure drops the bytes received and
    /// not yet taken (see the module's documentation).
    pub fn fill_upto(&mut self, limit: usize) -> StreamResult<usize> {
        let filled = self.fill_from_transport(limit);
        if filled.is_err() {
            self.rbuf = Buf::default();
        }
        filled
    }

    fn fill_from_transport(&mut self, limit: usize) -> StreamResult<usize> {
        if self.tls.is_some() {
            return self.tls_fill();
        }
        let socket = matches!(self.io, Transport::Socket(_));
        if socket && self.read_epoch.is_some() && self.drained_at == self.read_epoch {
            return Ok(Step::Blocked(Interest::Read));
        }
        let limit = limit.clamp(1, CHUNK);
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            match retry(|| RawIo(&self.io, &self.reset).read(&mut scratch[..limit])) {
                Ok(n) => {
                    if socket && n > 0 && n < limit {
                        self.drained_at = self.read_epoch;
                    }
                    self.rbuf.extend(&scratch[..n]);
                    self.received += n as u64;
                    Ok(Step::Ready(n))
                }
                Err(e) if is_would_block(&e) => {
                    if socket {
                        self.drained_at = self.read_epoch;
                    }
                    Ok(Step::Blocked(Interest::Read))
                }
                Err(e) => Err(e.into()),
            }
        })
    }

    /// Queues `data` for sending. When nothing was queued before, sends at once as much as the
    /// kernel takes (MicroPython's `Stream.write` does the same), so a small write costs no
    /// extra trip through the loop. It never reads: over TLS it sends what the session has to
    /// send now, and a refusal by the peer arrives at the next drain or read.
    pub fn write(&mut self, data: &[u8]) -> Result<(), StreamError> {
        if !self.wbuf.is_empty() || self.tls.is_some() {
            self.wbuf.extend(data);
            if self.tls.is_some() && self.wbuf.len() == data.len() {
                self.tls_send()?;
            }
            return Ok(());
        }
        let sent = match retry(|| RawIo(&self.io, &self.reset).write(data)) {
            Ok(n) => n,
            Err(e) if is_would_block(&e) => 0,
            Err(e) => return Err(e.into()),
        };
        self.sent += sent as u64;
        self.wbuf.extend(&data[sent..]);
        Ok(())
    }

    /// Sends the write buffer. `Ready(())` once everything written so far is out of this
    /// process (for TLS: encrypted and handed to the kernel).
    pub fn flush(&mut self) -> StreamResult<()> {
        if self.tls.is_some() {
            return self.tls_flush();
        }
        while !self.wbuf.is_empty() {
            match retry(|| RawIo(&self.io, &self.reset).write(self.wbuf.as_slice())) {
                Ok(n) => {
                    self.wbuf.consume(n);
                    self.sent += n as u64;
                }
                Err(e) if is_would_block(&e) => return Ok(Step::Blocked(Interest::Write)),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Step::Ready(()))
    }

    /// Runs the TLS handshake to its end (a no-op for plain streams).
    pub fn handshake(&mut self) -> StreamResult<()> {
        loop {
            let Some(tls) = self.tls.as_deref_mut() else { return Ok(Step::Ready(())) };
            if !tls.is_handshaking() {
                return Ok(Step::Ready(()));
            }
            if tls.wants_write() {
                match retry(|| tls.write_tls(&mut RawIo(&self.io, &self.reset))) {
                    Ok(_) => continue,
                    Err(e) if is_would_block(&e) => return Ok(Step::Blocked(Interest::Write)),
                    Err(e) => return Err(e.into()),
                }
            }
            match self.tls_fill()? {
                Step::Ready(_) => continue,
                // Reading may have finished the handshake before the socket ran dry.
                Step::Blocked(_) if !self.tls.as_ref().is_some_and(|t| t.is_handshaking()) => continue,
                Step::Blocked(i) => return Ok(Step::Blocked(i)),
            }
        }
    }

    /// TLS: hands the write buffer to rustls and sends the records the socket takes now,
    /// without reading. During the handshake that is this side's next handshake message (a
    /// client's hello) and the bytes written wait in rustls; [`Conn::flush`] (the script's
    /// `drain`) or a read takes the handshake further. MicroPython's `write` also reads, as far
    /// as the peer has answered, so whether a refused handshake fails its `write` or its
    /// `drain` depends on how fast the peer answers (on a loaded machine, `write`); here it is
    /// always the `drain` or the read.
    fn tls_send(&mut self) -> Result<(), StreamError> {
        let Some(tls) = self.tls.as_deref_mut() else { return Ok(()) };
        if !self.wbuf.is_empty() {
            let n = tls.writer().write(self.wbuf.as_slice())?;
            self.wbuf.consume(n);
        }
        while tls.wants_write() {
            match retry(|| tls.write_tls(&mut RawIo(&self.io, &self.reset))) {
                Ok(_) => {}
                Err(e) if is_would_block(&e) => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Queues a TLS close_notify, sent by the next [`Conn::flush`].
    pub fn close_notify(&mut self) {
        if let Some(tls) = self.tls.as_deref_mut() {
            tls.send_close_notify();
        }
    }

    /// TLS receive: moves decrypted bytes to the read buffer, reading records from the socket
    /// (and sending any handshake replies) when none are ready. The peer closing before the
    /// handshake finished is an error, not an end of stream.
    fn tls_fill(&mut self) -> StreamResult<usize> {
        let Some(tls) = self.tls.as_deref_mut() else { return Ok(Step::Ready(0)) };
        loop {
            let got = SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                match tls.reader().read(&mut scratch) {
                    Ok(n) => {
                        self.rbuf.extend(&scratch[..n]);
                        Ok(Some(n))
                    }
                    Err(e) if is_would_block(&e) => Ok(None),
                    // The peer closed the socket without close_notify: the end of the stream
                    // all the same (many servers end HTTP/1.0 responses this way).
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Some(0)),
                    Err(e) => Err(StreamError::Io(e)),
                }
            })?;
            if let Some(n) = got {
                if n == 0 {
                    self.tls_eof = true;
                }
                return Ok(Step::Ready(n));
            }
            if self.tls_eof {
                if tls.is_handshaking() {
                    return Err(StreamError::HandshakeEof);
                }
                return Ok(Step::Ready(0));
            }
            let mut write_blocked = false;
            while tls.wants_write() {
                match retry(|| tls.write_tls(&mut RawIo(&self.io, &self.reset))) {
                    Ok(_) => {}
                    Err(e) if is_would_block(&e) => {
                        write_blocked = true;
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            match retry(|| tls.read_tls(&mut RawIo(&self.io, &self.reset))) {
                Ok(0) => {
                    self.tls_eof = true;
                    if tls.is_handshaking() {
                        return Err(StreamError::HandshakeEof);
                    }
                    // Deliver whatever decrypted data the last records carried, then the end.
                    tls.process_new_packets().map_err(StreamError::Tls)?;
                    continue;
                }
                Ok(_) => {
                    if let Err(e) = tls.process_new_packets() {
                        // Tell the peer why (best effort), then fail.
                        self.alert_sent = tls.wants_write();
                        while tls.wants_write() && matches!(tls.write_tls(&mut RawIo(&self.io, &self.reset)), Ok(n) if n > 0) {}
                        return Err(StreamError::Tls(e));
                    }
                }
                Err(e) if is_would_block(&e) => {
                    let interest = if write_blocked { Interest::ReadWrite } else { Interest::Read };
                    return Ok(Step::Blocked(interest));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// TLS send: hands the write buffer to rustls and its records to the socket. While the
    /// handshake is still running this also reads (keeping any early data in the read buffer):
    /// the flush is done only once the handshake is, and the bytes written went out encrypted.
    fn tls_flush(&mut self) -> StreamResult<()> {
        loop {
            let Some(tls) = self.tls.as_deref_mut() else { return Ok(Step::Ready(())) };
            if !self.wbuf.is_empty() {
                let n = tls.writer().write(self.wbuf.as_slice())?;
                self.wbuf.consume(n);
            }
            if tls.wants_write() {
                match retry(|| tls.write_tls(&mut RawIo(&self.io, &self.reset))) {
                    Ok(_) => continue,
                    Err(e) if is_would_block(&e) => return Ok(Step::Blocked(Interest::Write)),
                    Err(e) => return Err(e.into()),
                }
            }
            if self.wbuf.is_empty() && !tls.is_handshaking() {
                return Ok(Step::Ready(()));
            }
            // rustls holds the plaintext until the handshake completes: advance it by reading.
            // (So a flush also reports a certificate the handshake rejects.)
            match self.tls_fill()? {
                Step::Ready(0) => {
                    return Err(io::Error::from_raw_os_error(libc::EPIPE).into());
                }
                Step::Ready(_) => continue,
                Step::Blocked(_) if !self.tls.as_ref().is_some_and(|t| t.is_handshaking()) => continue,
                Step::Blocked(i) => return Ok(Step::Blocked(i)),
            }
        }
    }
}

#[cfg(test)]
mod tests;
