use std::net::Ipv4Addr;
use std::thread;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

use super::*;
use crate::net::{self, Accepted};
use crate::tls::{TlsSettings, VerifyMode, server_name};

/// Waits (at most 10 s, far beyond any loopback transfer here) for `interest` on `fd`.
fn wait(fd: RawFd, interest: Interest) {
    let events = match interest {
        Interest::Read => libc::POLLIN,
        Interest::Write => libc::POLLOUT,
        Interest::ReadWrite => libc::POLLIN | libc::POLLOUT,
    };
    let mut pfd = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut pfd, 1, 10_000) };
    assert_eq!(n, 1, "no readiness within 10 s");
}

/// Runs a non-blocking operation to completion, waiting on the descriptor in between.
fn block<T>(conn: &mut Conn, mut op: impl FnMut(&mut Conn) -> StreamResult<T>) -> Result<T, StreamError> {
    loop {
        match op(conn)? {
            Step::Ready(v) => return Ok(v),
            Step::Blocked(i) => wait(conn.raw_fd(), i),
        }
    }
}

/// Reads until `n` bytes are buffered or the stream ends; returns them.
fn read_n(conn: &mut Conn, n: usize) -> Vec<u8> {
    while conn.buffered().len() < n {
        if block(conn, Conn::fill).unwrap() == 0 {
            break;
        }
    }
    conn.take(n)
}

/// A connected pair of TCP sockets on loopback.
fn tcp_pair() -> (Socket, Socket) {
    let listener = net::listen((Ipv4Addr::LOCALHOST, 0).into(), 4).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let client = net::start_connect(addr).unwrap();
    wait(listener.as_raw_fd(), Interest::Read);
    let Accepted::Conn(server, _) = net::accept(&listener).unwrap() else { panic!("no connection") };
    wait(client.as_raw_fd(), Interest::Write);
    assert!(net::finish_connect(&client).unwrap());
    (client, server)
}

fn plain_pair() -> (Conn, Conn) {
    let (a, b) = tcp_pair();
    (Conn::new(Transport::Socket(a)), Conn::new(Transport::Socket(b)))
}

#[test]
fn bytes_cross_in_both_directions_exactly() {
    let (mut a, mut b) = plain_pair();
    a.write(b"hello\nworld").unwrap();
    assert_eq!(a.pending_write(), 0, "a small write goes out at once");
    assert_eq!(read_n(&mut b, 11), b"hello\nworld");
    b.write(&[0, 255, 10, 13]).unwrap();
    assert_eq!(read_n(&mut a, 4), [0, 255, 10, 13]);
}

#[test]
fn a_large_write_goes_out_whole_and_the_buffer_holds_only_the_rest() {
    let (mut a, mut b) = plain_pair();
    let data: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    a.write(&data).unwrap();
    let queued = a.pending_write();
    assert!(queued > 0 && queued < data.len(), "the kernel took part of it: {queued}");
    let reader = thread::spawn(move || read_n(&mut b, 8 * 1024 * 1024));
    block(&mut a, Conn::flush).unwrap();
    assert_eq!(a.pending_write(), 0);
    assert!(reader.join().unwrap() == data);
}

#[test]
fn a_limited_fill_leaves_the_rest_in_the_kernel() {
    let (mut a, mut b) = plain_pair();
    a.write(b"0123456789").unwrap();
    wait(b.raw_fd(), Interest::Read);
    assert_eq!(b.fill_upto(4).unwrap(), Step::Ready(4));
    assert_eq!(b.take(100), b"0123");
    assert_eq!(block(&mut b, Conn::fill).unwrap(), 6);
    assert_eq!(b.take(100), b"456789");
}

#[test]
fn a_short_read_skips_the_next_read_until_the_read_epoch_moves_on() {
    let (mut a, mut b) = plain_pair();
    b.set_read_epoch(Some(7));
    a.write(b"first").unwrap();
    wait(b.raw_fd(), Interest::Read);
    assert_eq!(b.fill().unwrap(), Step::Ready(5), "5 of 64 KiB: a short read");
    a.write(b"second").unwrap();
    wait(b.raw_fd(), Interest::Read);
    // Same epoch: the socket counts as drained, and the bytes stay in the kernel.
    assert_eq!(b.fill().unwrap(), Step::Blocked(Interest::Read));
    assert_eq!(b.take(100), b"first");
    // The reactor reported an event: the next read asks the kernel again.
    b.set_read_epoch(Some(8));
    assert_eq!(b.fill().unwrap(), Step::Ready(6));
    assert_eq!(b.take(100), b"second");
}

#[test]
fn a_full_read_or_an_unknown_epoch_always_asks_the_kernel() {
    let (mut a, mut b) = plain_pair();
    b.set_read_epoch(Some(1));
    a.write(b"0123456789").unwrap();
    wait(b.raw_fd(), Interest::Read);
    // As many bytes as asked for: the socket may hold more.
    assert_eq!(b.fill_upto(4).unwrap(), Step::Ready(4));
    assert_eq!(b.fill().unwrap(), Step::Ready(6));
    // Short, but with no epoch known the next read still asks (and hears WouldBlock).
    b.set_read_epoch(None);
    a.write(b"x").unwrap();
    wait(b.raw_fd(), Interest::Read);
    assert_eq!(b.fill().unwrap(), Step::Ready(1));
    a.write(b"y").unwrap();
    wait(b.raw_fd(), Interest::Read);
    assert_eq!(b.fill().unwrap(), Step::Ready(1));
    assert_eq!(b.take(100), b"0123456789xy");
}

#[test]
fn end_of_stream_and_reset_are_told_apart() {
    let (a, b) = tcp_pair();
    let mut a = Conn::new(Transport::Socket(a));
    b.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(block(&mut a, Conn::fill).unwrap(), 0);
    // A close with unread data (or SO_LINGER 0) sends a reset.
    let (a, b) = tcp_pair();
    let mut a = Conn::new(Transport::Socket(a));
    b.set_linger(Some(std::time::Duration::ZERO)).unwrap();
    drop(b);
    let err = block(&mut a, Conn::fill).unwrap_err();
    assert!(matches!(&err, StreamError::Io(e) if e.raw_os_error() == Some(libc::ECONNRESET)), "{err:?}");
}

#[test]
fn writing_to_a_closed_peer_is_an_error_not_a_signal() {
    let (a, b) = tcp_pair();
    let mut a = Conn::new(Transport::Socket(a));
    b.set_linger(Some(std::time::Duration::ZERO)).unwrap();
    drop(b);
    wait(a.raw_fd(), Interest::Read);
    let mut failed = None;
    for _ in 0..3 {
        if let Err(e) = a.write(b"x").and_then(|_| block(&mut a, Conn::flush)) {
            failed = Some(e);
            break;
        }
    }
    let err = failed.expect("writes to a reset connection fail");
    assert!(matches!(&err, StreamError::Io(e) if matches!(e.raw_os_error(), Some(libc::EPIPE | libc::ECONNRESET))), "{err:?}");
}

#[test]
fn a_pipe_works_through_a_descriptor_stream() {
    let mut fds = [0; 2];
    // SAFETY: pipe fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are fresh and owned here.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let mut reader = Conn::new(Transport::Fd(FdIo::new(r.as_raw_fd()).unwrap()));
    let mut writer = Conn::new(Transport::Fd(FdIo::new(w.as_raw_fd()).unwrap()));
    assert_eq!(reader.fill().unwrap(), Step::Blocked(Interest::Read));
    writer.write(b"line 1\nline 2\n").unwrap();
    assert_eq!(read_n(&mut reader, 14), b"line 1\nline 2\n");
    // The duplicate was non-blocking; dropping it restores the original's flags.
    drop(reader);
    // SAFETY: reading the flags of a descriptor we own.
    let flags = unsafe { libc::fcntl(r.as_raw_fd(), libc::F_GETFL) };
    assert_eq!(flags & libc::O_NONBLOCK, 0);
    drop(writer);
    drop(w);
    let mut reader = Conn::new(Transport::Fd(FdIo::new(r.as_raw_fd()).unwrap()));
    assert_eq!(block(&mut reader, Conn::fill).unwrap(), 0);
}

/// A CA and a server certificate for `names`, signed by it, as PEM.
struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

fn rand_serial() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn pki(names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    // A distinct name per CA, so a foreign CA is an unknown issuer, not a bad signature.
    let serial: u64 = rand_serial();
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, format!("test CA {serial}"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    Pki { ca_pem: ca_cert.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() }
}

fn tls_pair(server: &TlsSettings, client: &TlsSettings, name: &str) -> (Conn, Conn) {
    let (c, s) = tcp_pair();
    let sc = rustls::ServerConnection::new(server.server_config().unwrap()).unwrap();
    let cc = rustls::ClientConnection::new(client.client_config().unwrap(), server_name(name).unwrap()).unwrap();
    (Conn::with_tls(Transport::Socket(c), cc.into()), Conn::with_tls(Transport::Socket(s), sc.into()))
}

fn server_settings(p: &Pki) -> TlsSettings {
    let mut s = TlsSettings::new(true);
    s.set_cert_chain(p.cert_pem.as_bytes(), p.key_pem.as_bytes()).unwrap();
    s
}

fn client_settings(p: &Pki) -> TlsSettings {
    let mut c = TlsSettings::new(false);
    c.add_cas(p.ca_pem.as_bytes()).unwrap();
    c
}

/// Runs the server side of a handshake and an echo of `n` bytes on a thread.
fn echo_server(mut server: Conn, n: usize) -> thread::JoinHandle<Result<Vec<u8>, StreamError>> {
    thread::spawn(move || {
        let got = loop {
            if server.buffered().len() >= n {
                break server.take(n);
            }
            if block(&mut server, Conn::fill)? == 0 {
                break server.take(n);
            }
        };
        server.write(&got)?;
        block(&mut server, Conn::flush)?;
        Ok(got)
    })
}

#[test]
fn tls_handshake_and_echo_with_a_verified_server() {
    let p = pki(&["localhost"]);
    let (mut client, server) = tls_pair(&server_settings(&p), &client_settings(&p), "localhost");
    let msg: Vec<u8> = (0..300_000u32).map(|i| (i % 256) as u8).collect();
    let echo = echo_server(server, msg.len());
    block(&mut client, Conn::handshake).unwrap();
    client.write(&msg).unwrap();
    block(&mut client, Conn::flush).unwrap();
    assert!(read_n(&mut client, msg.len()) == msg);
    assert!(echo.join().unwrap().unwrap() == msg);
}

#[test]
fn tls_data_written_before_the_handshake_waits_for_it() {
    let p = pki(&["localhost"]);
    let (mut client, server) = tls_pair(&server_settings(&p), &client_settings(&p), "localhost");
    let echo = echo_server(server, 5);
    client.write(b"early").unwrap();
    block(&mut client, Conn::flush).unwrap();
    assert_eq!(read_n(&mut client, 5), b"early");
    echo.join().unwrap().unwrap();
}

fn handshake_error(server: &TlsSettings, client: &TlsSettings, name: &str) -> (StreamError, StreamError) {
    let (mut client, mut server) = tls_pair(server, client, name);
    let s = thread::spawn(move || block(&mut server, Conn::handshake).and_then(|_| block(&mut server, Conn::fill)));
    let c = block(&mut client, Conn::handshake).and_then(|_| block(&mut client, Conn::fill).map(|_| ()));
    (c.unwrap_err(), s.join().unwrap().unwrap_err())
}

#[test]
fn tls_an_unknown_issuer_fails_the_client_handshake() {
    let p = pki(&["localhost"]);
    let other = pki(&["localhost"]);
    let (client_err, _) = handshake_error(&server_settings(&p), &client_settings(&other), "localhost");
    let text = client_err.to_string();
    assert!(matches!(client_err, StreamError::Tls(_)), "{client_err:?}");
    assert!(text.contains("UnknownIssuer"), "{text}");
}

#[test]
fn tls_a_wrong_host_name_fails_unless_hostname_checks_are_off() {
    let p = pki(&["localhost"]);
    let (client_err, _) = handshake_error(&server_settings(&p), &client_settings(&p), "example.com");
    assert!(client_err.to_string().contains("NotValidForName"), "{client_err}");
    let mut lax = client_settings(&p);
    lax.check_hostname = false;
    let (mut client, server) = tls_pair(&server_settings(&p), &lax, "example.com");
    let echo = echo_server(server, 2);
    client.write(b"ok").unwrap();
    block(&mut client, Conn::flush).unwrap();
    assert_eq!(read_n(&mut client, 2), b"ok");
    echo.join().unwrap().unwrap();
}

#[test]
fn tls_cert_none_accepts_any_server() {
    let p = pki(&["localhost"]);
    let mut any = TlsSettings::new(false);
    any.verify = VerifyMode::None;
    let (mut client, server) = tls_pair(&server_settings(&p), &any, "whatever.test");
    let echo = echo_server(server, 3);
    client.write(b"abc").unwrap();
    block(&mut client, Conn::flush).unwrap();
    assert_eq!(read_n(&mut client, 3), b"abc");
    echo.join().unwrap().unwrap();
}

#[test]
fn tls_a_server_requiring_client_certificates_rejects_a_client_without_one() {
    let p = pki(&["localhost"]);
    let mut strict = server_settings(&p);
    strict.verify = VerifyMode::Required;
    strict.add_cas(p.ca_pem.as_bytes()).unwrap();
    let (_, server_err) = handshake_error(&strict, &client_settings(&p), "localhost");
    assert!(matches!(server_err, StreamError::Tls(_)), "{server_err:?}");
    // With a certificate from the trusted CA the same server accepts the client.
    let mut with_cert = client_settings(&p);
    with_cert.set_cert_chain(p.cert_pem.as_bytes(), p.key_pem.as_bytes()).unwrap();
    let (mut client, server) = tls_pair(&strict, &with_cert, "localhost");
    let echo = echo_server(server, 1);
    client.write(b"!").unwrap();
    block(&mut client, Conn::flush).unwrap();
    assert_eq!(read_n(&mut client, 1), b"!");
    echo.join().unwrap().unwrap();
}

#[test]
fn tls_keys_and_certificates_load_from_der_too() {
    let p = pki(&["localhost"]);
    let cert = CertificateDer::from_pem_slice(p.cert_pem.as_bytes()).unwrap().to_vec();
    let key = PrivateKeyDer::from_pem_slice(p.key_pem.as_bytes()).unwrap().secret_der().to_vec();
    let mut s = TlsSettings::new(true);
    s.set_cert_chain(&cert, &key).unwrap();
    let mut c = TlsSettings::new(false);
    c.add_cas(&CertificateDer::from_pem_slice(p.ca_pem.as_bytes()).unwrap()).unwrap();
    let (mut client, server) = tls_pair(&s, &c, "localhost");
    let echo = echo_server(server, 3);
    client.write(b"der").unwrap();
    block(&mut client, Conn::flush).unwrap();
    assert_eq!(read_n(&mut client, 3), b"der");
    echo.join().unwrap().unwrap();
    assert!(TlsSettings::new(true).set_cert_chain(b"junk", b"junk").is_err());
}

#[test]
fn the_peer_closing_mid_handshake_is_reported() {
    let p = pki(&["localhost"]);
    let (c, s) = tcp_pair();
    let cc = rustls::ClientConnection::new(client_settings(&p).client_config().unwrap(), server_name("localhost").unwrap()).unwrap();
    let mut client = Conn::with_tls(Transport::Socket(c), cc.into());
    drop(s);
    let err = block(&mut client, Conn::handshake).unwrap_err();
    assert!(matches!(err, StreamError::HandshakeEof | StreamError::Io(_)), "{err:?}");
}


#[test]
fn tls_a_flush_waits_for_the_handshake_and_reports_a_rejected_certificate() {
    let p = pki(&["localhost"]);
    let (mut client, mut server) = tls_pair(&server_settings(&p), &client_settings(&p), "wrong.example");
    let s = thread::spawn(move || block(&mut server, Conn::fill));
    client.write(b"data").unwrap();
    let err = block(&mut client, Conn::flush).unwrap_err();
    assert!(err.to_string().contains("NotValidForName"), "{err}");
    // The server hears about it as an alert.
    let server_err = s.join().unwrap().unwrap_err();
    assert!(matches!(server_err, StreamError::Tls(rustls::Error::AlertReceived(_))), "{server_err:?}");
}

#[test]
fn tls_a_client_leaving_mid_handshake_is_an_error_for_the_server() {
    let p = pki(&["localhost"]);
    let (client, mut server) = tls_pair(&server_settings(&p), &client_settings(&p), "localhost");
    drop(client);
    let err = block(&mut server, Conn::fill).unwrap_err();
    assert!(matches!(err, StreamError::HandshakeEof), "{err:?}");
}

#[test]
fn a_failed_read_drops_the_bytes_it_had_received() {
    let (a, b) = tcp_pair();
    let mut a = Conn::new(Transport::Socket(a));
    (&b).write_all(b"partial").unwrap();
    wait(a.raw_fd(), Interest::Read);
    assert_eq!(a.fill().unwrap(), Step::Ready(7));
    b.set_linger(Some(std::time::Duration::ZERO)).unwrap();
    drop(b);
    wait_hangup(a.raw_fd());
    let err = a.fill().unwrap_err();
    assert!(matches!(&err, StreamError::Io(e) if e.raw_os_error() == Some(libc::ECONNRESET)), "{err:?}");
    assert!(a.buffered().is_empty());
    // Once reported, the reset leaves the end of the stream.
    assert_eq!(a.fill().unwrap(), Step::Ready(0));
}

/// Waits (at most 10 s) until the kernel reports an error or hang-up on `fd`.
fn wait_hangup(fd: RawFd) {
    // With no events asked for, poll returns only for POLLERR and POLLHUP.
    let mut pfd = libc::pollfd { fd, events: 0, revents: 0 };
    // SAFETY: one valid pollfd for the duration of the call.
    assert_eq!(unsafe { libc::poll(&mut pfd, 1, 10_000) }, 1, "no hang-up within 10 s");
}

/// A connect to a server that accepts, sends `sent` and resets, all before the connect is
/// looked at.
fn connect_to_a_resetting_server(sent: &[u8]) -> Conn {
    let listener = net::listen((Ipv4Addr::LOCALHOST, 0).into(), 4).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let client = net::start_connect(addr).unwrap();
    wait(listener.as_raw_fd(), Interest::Read);
    let Accepted::Conn(server, _) = net::accept(&listener).unwrap() else { panic!("no connection") };
    (&server).write_all(sent).unwrap();
    server.set_linger(Some(std::time::Duration::ZERO)).unwrap();
    drop(server);
    wait_hangup(client.as_raw_fd());
    let mut conn = Conn::new(Transport::Socket(client));
    assert!(conn.finish_connect().unwrap(), "the connection was made");
    conn
}

#[test]
fn a_reset_taken_by_the_connect_check_reaches_the_read_after_the_bytes() {
    let mut conn = connect_to_a_resetting_server(b"hi");
    assert_eq!(conn.fill().unwrap(), Step::Ready(2));
    let err = conn.fill().unwrap_err();
    assert!(matches!(&err, StreamError::Io(e) if e.raw_os_error() == Some(libc::ECONNRESET)), "{err:?}");
    assert_eq!(conn.fill().unwrap(), Step::Ready(0));
}

#[test]
fn a_reset_taken_by_the_connect_check_reaches_the_first_write() {
    let mut conn = connect_to_a_resetting_server(b"");
    let err = conn.write(b"x").unwrap_err();
    assert!(matches!(&err, StreamError::Io(e) if e.raw_os_error() == Some(libc::ECONNRESET)), "{err:?}");
    let err = conn.write(b"x").unwrap_err();
    assert!(matches!(&err, StreamError::Io(e) if e.raw_os_error() == Some(libc::EPIPE)), "{err:?}");
}

#[test]
fn a_connect_that_was_refused_is_still_an_error() {
    let listener = net::listen((Ipv4Addr::LOCALHOST, 0).into(), 4).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    drop(listener);
    let client = net::start_connect(addr).unwrap();
    wait(client.as_raw_fd(), Interest::Write);
    let err = Conn::new(Transport::Socket(client)).finish_connect().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ECONNREFUSED));
}

#[test]
fn discarding_input_drops_what_the_peer_sends_until_its_end() {
    let (mut a, mut b) = plain_pair();
    b.write(b"already read").unwrap();
    assert_eq!(read_n(&mut a, 4), b"alre");
    b.write(&[7; 100_000]).unwrap();
    let sender = thread::spawn(move || {
        block(&mut b, Conn::flush).unwrap();
        b.shutdown_write().unwrap();
        b
    });
    block(&mut a, Conn::discard_input).unwrap();
    assert!(a.buffered().is_empty());
    drop(sender.join().unwrap());
}

#[test]
fn tls_a_server_refusing_a_client_certificate_fails_the_clients_handshake() {
    // The server speaks TLS 1.2 when it verifies clients, so the client's handshake waits for
    // the server's verdict (under TLS 1.3 it would end before the server looked).
    let p = pki(&["localhost"]);
    let mut strict = server_settings(&p);
    strict.verify = VerifyMode::Required;
    strict.add_cas(p.ca_pem.as_bytes()).unwrap();
    let (mut client, mut server) = tls_pair(&strict, &client_settings(&p), "localhost");
    let s = thread::spawn(move || {
        let err = block(&mut server, Conn::handshake).unwrap_err();
        // The server is kept open until the client has read the alert.
        (err, server)
    });
    let client_err = block(&mut client, Conn::handshake).unwrap_err();
    assert!(matches!(client_err, StreamError::Tls(rustls::Error::AlertReceived(_))), "{client_err:?}");
    let (server_err, server) = s.join().unwrap();
    assert!(matches!(server_err, StreamError::Tls(rustls::Error::NoCertificatesPresented)), "{server_err:?}");
    assert!(server.sent_fatal_alert());
    assert!(!client.sent_fatal_alert());
}

#[test]
fn tls_a_write_sends_without_reading_the_peers_answer() {
    let p = pki(&["localhost"]);
    let (mut client, mut server) = tls_pair(&server_settings(&p), &client_settings(&p), "localhost");
    client.write(b"first").unwrap();
    // The server takes the client's hello and answers; then it waits for the client.
    wait(server.raw_fd(), Interest::Read);
    assert_eq!(server.handshake().unwrap(), Step::Blocked(Interest::Read));
    wait(client.raw_fd(), Interest::Read);
    // The answer is there, but a write only sends: the handshake goes on in flush (drain).
    client.write(b" second").unwrap();
    assert!(client.is_handshaking());
    let s = thread::spawn(move || {
        block(&mut server, Conn::handshake).unwrap();
        read_n(&mut server, 12)
    });
    block(&mut client, Conn::flush).unwrap();
    assert!(!client.is_handshaking());
    assert_eq!(s.join().unwrap(), b"first second");
}
