//! TCP sockets for the stream layer: name resolution, non-blocking connect, listen and accept.
//!
//! Sockets are made with `socket2` so every option is set before the descriptor is used:
//! non-blocking and close-on-exec from creation, `SO_REUSEADDR` on listeners, `TCP_NODELAY` on
//! connections (as CPython's asyncio does, so a request written in pieces is not held back by
//! Nagle's algorithm waiting for a delayed ACK).

use std::fmt;
use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// A failed `getaddrinfo`: the resolver's error code (an `EAI_*` value, negative on glibc)
/// and its text, as CPython's `socket.gaierror` carries them.
#[derive(Debug)]
pub struct ResolveError {
    /// The `EAI_*` code, or the errno when the resolver failed with a system error.
    pub code: i32,
    /// What `gai_strerror` says about the code.
    pub message: String,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[Errno {}] {}", self.code, self.message)
    }
}

impl std::error::Error for ResolveError {}

/// Resolves `host` and `port` to stream-socket addresses with a blocking `getaddrinfo`, as
/// MicroPython's `open_connection` and `start_server` do. `passive` asks for addresses to bind
/// (an empty host then means every interface).
pub fn resolve(host: &str, port: u16, passive: bool) -> Result<Vec<SocketAddr>, ResolveError> {
    let hints = dns_lookup::AddrInfoHints {
        socktype: libc::SOCK_STREAM,
        flags: if passive { libc::AI_PASSIVE } else { 0 },
        ..Default::default()
    };
    let host = (!host.is_empty()).then_some(host);
    let service = port.to_string();
    let found = dns_lookup::getaddrinfo(host, Some(&service), Some(hints)).map_err(|e| {
        let code = e.error_num();
        // SAFETY: gai_strerror returns a pointer to a static, NUL-terminated message.
        let text = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(code)) };
        ResolveError { code, message: text.to_string_lossy().into_owned() }
    })?;
    let mut addrs = Vec::new();
    for info in found {
        let info = info.map_err(|e| ResolveError {
            code: e.raw_os_error().unwrap_or(libc::EIO),
            message: e.to_string(),
        })?;
        if !addrs.contains(&info.sockaddr) {
            addrs.push(info.sockaddr);
        }
    }
    if addrs.is_empty() {
        return Err(ResolveError { code: libc::EAI_NONAME, message: "no address found".into() });
    }
    Ok(addrs)
}

/// Starts a non-blocking connect to `addr`. The connection is established when the socket
/// becomes writable; [`finish_connect`] then tells whether it succeeded.
pub fn start_connect(addr: SocketAddr) -> io::Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM.nonblocking().cloexec(), Some(Protocol::TCP))?;
    sock.set_tcp_nodelay(true)?;
    match sock.connect(&SockAddr::from(addr)) {
        Ok(()) => Ok(sock),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) || e.kind() == io::ErrorKind::WouldBlock => Ok(sock),
        Err(e) => Err(e),
    }
}

/// After a connecting socket turned writable: `Ok(true)` if connected, `Ok(false)` if still in
/// progress, or the error that ended the attempt (`ECONNREFUSED`, `ETIMEDOUT`, ...).
pub fn finish_connect(sock: &Socket) -> io::Result<bool> {
    if let Some(err) = sock.take_error()? {
        return Err(err);
    }
    match sock.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

/// A non-blocking listening socket on `addr` with `SO_REUSEADDR`, so a restarted server can
/// bind at once while old connections linger in TIME_WAIT.
///
/// The kernel's accept queue is at least the system's maximum ([`somaxconn`]) whatever
/// `backlog` says; a larger `backlog` is passed on as it is. MicroPython's `start_server`
/// asks for 5, a size made for a microcontroller's memory: on a host, the kernel drops the
/// connection attempts that find the queue full, and each client waits for its SYN
/// retransmission (1 s, then 3 s, 7 s...), so a burst of a few hundred clients took most of a
/// minute. The queue costs nothing until connections wait in it.
pub fn listen(addr: SocketAddr, backlog: i32) -> io::Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM.nonblocking().cloexec(), Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    sock.bind(&SockAddr::from(addr))?;
    sock.listen(backlog.max(somaxconn()))?;
    Ok(sock)
}

/// The largest accept queue the kernel grants: `/proc/sys/net/core/somaxconn` where it can be
/// read (Linux caps every `listen` there), else the C library's `SOMAXCONN`. Read once.
pub fn somaxconn() -> i32 {
    static MAX: std::sync::OnceLock<i32> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(libc::SOMAXCONN)
    })
}

/// What one `accept` on a non-blocking listener gave.
#[derive(Debug)]
pub enum Accepted {
    /// A new connection, non-blocking, with `TCP_NODELAY`, and its peer's address.
    Conn(Socket, Option<SocketAddr>),
    /// No connection is waiting: wait for the listener to become readable.
    WouldBlock,
    /// The process or system is out of descriptors or memory: wait a while and retry, as the
    /// pending connection stays in the backlog.
    Exhausted(io::Error),
    /// The connection went away before it was accepted: try again at once.
    Retry,
}

/// Accepts one connection from `listener`, sorting the failures a server must survive from the
/// ones that mean the listener itself is broken (returned as `Err`).
pub fn accept(listener: &Socket) -> io::Result<Accepted> {
    match listener.accept() {
        Ok((sock, addr)) => {
            sock.set_nonblocking(true)?;
            // Not every stream socket takes TCP options (a Unix socket would not); ignore that.
            let _ = sock.set_tcp_nodelay(true);
            Ok(Accepted::Conn(sock, addr.as_socket()))
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Accepted::WouldBlock),
        Err(e) => match e.raw_os_error() {
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => Ok(Accepted::Exhausted(e)),
            Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO | libc::EPERM) => Ok(Accepted::Retry),
            _ => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpStream};

    fn loopback_listener() -> (Socket, SocketAddr) {
        let l = listen((Ipv4Addr::LOCALHOST, 0).into(), 16).unwrap();
        let addr = l.local_addr().unwrap().as_socket().unwrap();
        (l, addr)
    }

    #[test]
    fn resolves_numeric_and_local_names() {
        let addrs = resolve("127.0.0.1", 80, false).unwrap();
        assert_eq!(addrs, vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 80))]);
        let local = resolve("localhost", 8080, false).unwrap();
        assert!(local.iter().all(|a| a.ip().is_loopback() && a.port() == 8080), "{local:?}");
        let any = resolve("", 9, true).unwrap();
        assert!(any.iter().all(|a| a.ip().is_unspecified()), "{any:?}");
    }

    #[test]
    fn unknown_host_reports_the_resolver_code() {
        let err = resolve("no-such-host.invalid", 80, false).unwrap_err();
        assert!(err.code != 0 && !err.message.is_empty(), "{err:?}");
    }

    #[test]
    fn accept_sorts_would_block_from_connections() {
        let (l, addr) = loopback_listener();
        assert!(matches!(accept(&l).unwrap(), Accepted::WouldBlock));
        let mut client = TcpStream::connect(addr).unwrap();
        let Accepted::Conn(server, peer) = accept(&l).unwrap() else { panic!("no connection") };
        assert_eq!(peer, Some(client.local_addr().unwrap()));
        assert!(server.tcp_nodelay().unwrap());
        client.write_all(b"ping").unwrap();
        let mut got = [0u8; 4];
        let mut server_std: std::net::TcpStream = server.into();
        server_std.set_nonblocking(false).unwrap();
        server_std.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping");
    }

    #[test]
    fn connect_to_a_closed_port_fails_with_refused() {
        let (l, addr) = loopback_listener();
        drop(l);
        let sock = start_connect(addr).unwrap();
        // Wait for the outcome with a blocking poll: a refused loopback connect completes fast.
        let mut pfd = libc::pollfd { fd: std::os::fd::AsRawFd::as_raw_fd(&sock), events: libc::POLLOUT, revents: 0 };
        // SAFETY: one valid pollfd for the duration of the call.
        assert_eq!(unsafe { libc::poll(&mut pfd, 1, 5000) }, 1);
        let err = finish_connect(&sock).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ECONNREFUSED));
    }

    /// The accept queue the kernel gave a listener (`TCP_INFO` reports it for listening
    /// sockets in `tcpi_sacked`).
    fn accept_queue(l: &Socket) -> u32 {
        // SAFETY: tcp_info is plain data; getsockopt writes at most `len` bytes into it.
        unsafe {
            let mut info: libc::tcp_info = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
            let r = libc::getsockopt(
                std::os::fd::AsRawFd::as_raw_fd(l),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&mut info as *mut libc::tcp_info).cast(),
                &mut len,
            );
            assert_eq!(r, 0, "{}", io::Error::last_os_error());
            info.tcpi_sacked
        }
    }

    #[test]
    fn the_accept_queue_is_at_least_somaxconn() {
        assert!(somaxconn() >= 128, "{}", somaxconn());
        for asked in [0, 1, 5, 128] {
            let l = listen((Ipv4Addr::LOCALHOST, 0).into(), asked).unwrap();
            assert_eq!(accept_queue(&l), somaxconn() as u32, "listen({asked})");
        }
    }

    #[test]
    fn reuse_address_lets_a_server_rebind_its_port() {
        let (l, addr) = loopback_listener();
        let client = TcpStream::connect(addr).unwrap();
        let Accepted::Conn(server, _) = accept(&l).unwrap() else { panic!("no connection") };
        // The server closes first, leaving its side in TIME_WAIT.
        drop(server);
        drop(l);
        drop(client);
        listen(addr, 4).unwrap();
    }
}
