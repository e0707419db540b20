//! Streams over real loopback sockets, with CPython's asyncio as the peer: each conversation
//! runs with microloop on one side and CPython on the other, both ways, and must give the
//! output CPython gives on both sides. TLS uses certificates generated here for each run.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{MICROLOOP, run_with_limit};
use wait_timeout::ChildExt;

/// Generous guard against a hang; every test finishes in a few seconds.
const LIMIT: Duration = Duration::from_secs(120);

/// The scripts both interpreters run.
fn net_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/net")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("microloop-streams-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    Microloop,
    CPython,
    MicroPython,
}

/// A command running `script` under `side`, with `nofile` as its descriptor limit if given.
fn command(side: Side, script: &str, args: &[String], nofile: Option<u64>) -> Command {
    let mut cmd = match side {
        Side::Microloop => Command::new(MICROLOOP),
        Side::CPython => Command::new("python3"),
        Side::MicroPython => Command::new(common::micropython()),
    };
    cmd.arg(net_dir().join(script)).args(args);
    if let Some(limit) = nofile {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe and touches only the child being started.
        unsafe {
            cmd.pre_exec(move || {
                let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
                libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
                rl.rlim_cur = limit.min(rl.rlim_max);
                if libc::setrlimit(libc::RLIMIT_NOFILE, &rl) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd
}

/// A port free at the time of the call. The server binds it a moment later; another process
/// taking it in between would make the server fail to start, loudly, not pass wrongly.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server process that has printed "listening".
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Server {
    fn start(cmd: Command) -> Server {
        Server::start_until(cmd, "listening")
    }

    /// Starts `cmd` and waits for a stdout line starting with `ready`.
    fn start_until(mut cmd: Command, ready: &str) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let mut server = Server { child, lines, stderr };
        match server.lines.recv_timeout(LIMIT) {
            Ok(line) if line.starts_with(ready) => server,
            other => {
                let _ = server.child.kill();
                let err = server.stderr.join().unwrap_or_default();
                panic!("server did not start: {other:?}\n{err}");
            }
        }
    }

    /// Waits for the server to exit (a client told it to) and returns the rest of its stdout.
    fn finish(mut self) -> String {
        let status = self.child.wait_timeout(LIMIT).expect("wait for server");
        if status.is_none() {
            let _ = self.child.kill();
        }
        let rest: Vec<String> = self.lines.iter().collect();
        let err = self.stderr.join().unwrap_or_default();
        assert!(status.is_some_and(|s| s.success()), "server failed: {status:?}\n{err}");
        rest.join("\n") + "\n"
    }
}

/// Runs the echo conversation with `server` and `client` sides; returns both outputs.
fn echo(server: Side, client: Side, server_args: &[String], client_args: &[String]) -> (String, String) {
    let port = free_port().to_string();
    let srv = Server::start(command(server, "echo_server.py", &[std::slice::from_ref(&port), server_args].concat(), None));
    let out = run_with_limit(command(client, "echo_client.py", &[&[port], client_args].concat(), None), b"", LIMIT);
    assert_eq!(out.code, Some(0), "client failed:\n{}", out.stderr);
    (srv.finish(), out.stdout)
}

const CLIENT_OUTPUT: &str = "\
6 bytes echoed exactly
256 bytes echoed exactly
1 bytes echoed exactly
1047552 bytes echoed exactly
4 bytes echoed exactly
server closed: True
";

const SERVER_OUTPUT: &str = "served 1 connections, 1028 lines, 1047819 bytes\n";

#[test]
fn echo_with_microloop_server_and_cpython_client() {
    let (server, client) = echo(Side::Microloop, Side::CPython, &[], &[]);
    assert_eq!(client, CLIENT_OUTPUT);
    assert_eq!(server, SERVER_OUTPUT);
}

#[test]
fn echo_with_cpython_server_and_microloop_client() {
    let (server, client) = echo(Side::CPython, Side::Microloop, &[], &[]);
    assert_eq!(client, CLIENT_OUTPUT);
    assert_eq!(server, SERVER_OUTPUT);
}

#[test]
fn echo_between_two_microloops_matches_two_cpythons() {
    let ours = echo(Side::Microloop, Side::Microloop, &[], &[]);
    let theirs = echo(Side::CPython, Side::CPython, &[], &[]);
    assert_eq!(ours, theirs);
    assert_eq!(ours.1, CLIENT_OUTPUT);
}

/// Raises this process's descriptor limit (children inherit it) for the many-connection tests.
fn many_clients(server_nofile: Option<u64>, n: usize, backlog: usize) -> (String, String) {
    let port = free_port().to_string();
    let srv = Server::start(command(Side::Microloop, "echo_server.py", &[port.clone(), backlog.to_string()], server_nofile));
    let client = command(Side::CPython, "many_clients.py", &[port, n.to_string()], Some(4096));
    let out = run_with_limit(client, b"", LIMIT);
    assert_eq!(out.code, Some(0), "clients failed:\n{}", out.stderr);
    (srv.finish(), out.stdout)
}

#[test]
fn a_thousand_concurrent_connections_to_one_server() {
    let (server, client) = many_clients(Some(4096), 1000, 1024);
    assert_eq!(client, "1000 connected at once, 1000 echoed\n");
    assert_eq!(server, "served 1001 connections, 1000 lines, 10890 bytes\n");
}

#[test]
fn a_burst_of_500_clients_is_served_at_once_with_micropythons_backlog_of_5() {
    // microloop listens with a kernel backlog of at least SOMAXCONN whatever the script asks
    // for. With the 5 asked for, the kernel dropped the SYNs beyond it and the clients waited
    // for their retransmissions (1 s, then 3 s, 7 s...): up to a minute for 500. Served at
    // once it takes a fraction of a second; the bound is generous, and beyond what the first
    // retransmission rounds could meet.
    let started = std::time::Instant::now();
    let (server, client) = many_clients(None, 500, 5);
    let took = started.elapsed();
    assert_eq!(client, "500 connected at once, 500 echoed\n");
    assert_eq!(server, "served 501 connections, 500 lines, 5390 bytes\n");
    assert!(took < Duration::from_secs(10), "500 clients took {took:?}");
}

#[test]
fn running_out_of_descriptors_delays_accepts_instead_of_killing_the_server() {
    // 40 descriptors: the server can hold about 30 connections at once, the clients make 80.
    // Those it cannot accept wait in the backlog until served connections close.
    let (server, client) = many_clients(Some(40), 80, 128);
    assert_eq!(client, "80 connected at once, 80 echoed\n");
    assert_eq!(server, "served 81 connections, 80 lines, 790 bytes\n");
}

/// A CA, a server certificate for localhost signed by it, and a client certificate, as PEM
/// files in `dir`; also a second, unrelated CA.
struct Pki {
    ca: String,
    /// The CA in DER, as MicroPython's `load_verify_locations` takes it.
    ca_der: String,
    other_ca: String,
    cert: String,
    key: String,
    client_cert: String,
    client_key: String,
}

fn pki(dir: &Path) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let make_ca = |cn: &str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.self_signed(&key).unwrap();
        ((cert.pem(), cert.der().to_vec()), Issuer::new(params, key))
    };
    let ((ca_pem, ca_der), issuer) = make_ca("microloop test CA");
    let ((other_pem, _), _) = make_ca("unrelated CA");
    std::fs::write(dir.join("ca.der"), ca_der).unwrap();
    let leaf = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names).unwrap().signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (cert, key) = leaf(vec!["localhost".into(), "127.0.0.1".into()]);
    let (client_cert, client_key) = leaf(vec!["client.test".into()]);
    Pki {
        ca: write("ca.pem", ca_pem),
        ca_der: dir.join("ca.der").to_string_lossy().into_owned(),
        other_ca: write("other-ca.pem", other_pem),
        cert: write("cert.pem", cert),
        key: write("key.pem", key),
        client_cert: write("client.pem", client_cert),
        client_key: write("client-key.pem", client_key),
    }
}

#[test]
fn tls_echo_both_ways_with_verified_certificates() {
    let dir = scratch("tls-echo");
    let p = pki(&dir);
    let server_args = vec!["5".into(), p.cert.clone(), p.key.clone()];
    let client_args = vec![p.ca.clone(), "localhost".into()];
    for (server, client) in [(Side::Microloop, Side::CPython), (Side::CPython, Side::Microloop), (Side::Microloop, Side::Microloop)] {
        let (s, c) = echo(server, client, &server_args, &client_args);
        assert_eq!(c, CLIENT_OUTPUT, "{server:?} server, {client:?} client");
        assert_eq!(s, SERVER_OUTPUT, "{server:?} server, {client:?} client");
    }
}

/// A microloop client against a CPython TLS server that it must not trust.
fn tls_client_failure(client_args: Vec<String>, p: &Pki) -> String {
    let port = free_port().to_string();
    let srv = Server::start(command(Side::CPython, "echo_server.py", &[port.clone(), "5".into(), p.cert.clone(), p.key.clone()], None));
    let out = run_with_limit(command(Side::Microloop, "echo_client.py", &[std::slice::from_ref(&port), &client_args[..]].concat(), None), b"", LIMIT);
    assert_eq!(out.code, Some(0), "client failed:\n{}", out.stderr);
    // Stop the server through a client that trusts it.
    let stop = run_with_limit(command(Side::CPython, "echo_client.py", &[port, p.ca.clone(), "localhost".into()], None), b"", LIMIT);
    assert_eq!(stop.stdout, CLIENT_OUTPUT);
    srv.finish();
    out.stdout
}

#[test]
fn tls_a_wrong_host_name_is_refused_with_micropythons_error() {
    let dir = scratch("tls-name");
    let p = pki(&dir);
    let out = tls_client_failure(vec![p.ca.clone(), "wrong.example".into()], &p);
    assert_eq!(out, "failed: True The certificate Common Name (CN) does not match with the expected CN\n");
}

#[test]
fn tls_an_untrusted_certificate_is_refused() {
    let dir = scratch("tls-ca");
    let p = pki(&dir);
    let out = tls_client_failure(vec![p.other_ca.clone(), "localhost".into()], &p);
    assert_eq!(out, "failed: True The certificate is not correctly signed by the trusted CA\n");
}

#[test]
fn tls_a_server_requiring_client_certificates() {
    let dir = scratch("tls-client-cert");
    let p = pki(&dir);
    let port = free_port().to_string();
    let server_args = vec![port.clone(), "5".into(), p.cert.clone(), p.key.clone(), p.ca.clone()];
    let srv = Server::start(command(Side::Microloop, "echo_server.py", &server_args, None));
    // Without a certificate the handshake fails on both sides; the server goes on. The server
    // speaks TLS 1.2, so the client learns of the refusal in its handshake (at its first
    // write's drain for microloop, as for MicroPython), not at a later read.
    let no_cert = [port.clone(), p.ca.clone(), "localhost".into()];
    let refused = run_with_limit(command(Side::CPython, "echo_client.py", &no_cert, None), b"", LIMIT);
    assert!(refused.stdout.starts_with("failed: False"), "{}", refused.stdout);
    let refused = run_with_limit(command(Side::Microloop, "echo_client.py", &no_cert, None), b"", LIMIT);
    assert_eq!(refused.stdout, "failed: False (-30592, 'MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE')\n", "{}", refused.stderr);
    let with_cert = [port, p.ca.clone(), "localhost".into(), p.client_cert.clone(), p.client_key.clone()];
    let accepted = run_with_limit(command(Side::CPython, "echo_client.py", &with_cert, None), b"", LIMIT);
    assert_eq!(accepted.stdout, CLIENT_OUTPUT);
    assert_eq!(
        srv.finish(),
        "connection error: (-29824, 'MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE')\n\
         connection error: (-29824, 'MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE')\n\
         served 3 connections, 1028 lines, 1047819 bytes\n"
    );
}

#[test]
fn standard_input_through_a_stream_reader() {
    let out = run_with_limit(command(Side::Microloop, "stdin_lines.py", &[], None), b"first\nsecond\nno newline", LIMIT);
    assert_eq!(
        out.stdout,
        "line 1 b'first\\n'\nline 2 b'second\\n'\nline 3 b'no newline'\nend of input\n"
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn a_large_transfer_between_two_streams_of_one_loop_delivers_every_byte() {
    // The loop announces a send to a stream of its own without asking the kernel; bytes that
    // a full receive buffer keeps in the sender's queue arrive later and must still wake the
    // reader. The limit only guards against a hang.
    // With three clients, two write before the server has accepted them.
    for clients in [1, 3] {
        let port = free_port().to_string();
        let args = [port, clients.to_string()];
        let out = run_with_limit(command(Side::Microloop, "bulk_one_loop.py", &args, None), b"", LIMIT);
        // How the conversations interleave depends on the kernel's buffers: compare the lines
        // in sorted order.
        let mut lines: Vec<&str> = out.stdout.lines().collect();
        lines.sort_unstable();
        let want = [vec!["client got b'ok'"; clients], vec!["server got 8488608"; clients]].concat();
        assert_eq!(lines, want, "{clients} clients: {}", out.stderr);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

#[test]
fn example_http_get_fetches_from_its_own_server() {
    let port = free_port().to_string();
    let mut cmd = Command::new(MICROLOOP);
    cmd.arg(example("http_get.py")).arg(&port);
    let out = run_with_limit(cmd, b"", LIMIT);
    assert_eq!(
        out.stdout,
        "GET /\n  HTTP/1.0 200 OK\n  Content-Type: text/html\n  Content-Length: 47\n  \
         body: b'<html><body>Hello from microloop</body></html>\\n'\n\
         GET /missing\n  HTTP/1.0 404 Not Found\n  Content-Length: 0\n  body: b''\n"
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn example_echo_server_echoes_and_survives_a_client_reset() {
    let port = free_port().to_string();
    let mut cmd = Command::new(MICROLOOP);
    cmd.arg(example("echo_server.py")).arg(&port);
    let mut srv = Server::start_until(cmd, "listening on 127.0.0.1:");
    let talk = |port: &str| {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
        s.write_all(b"one\ntwo\n").unwrap();
        let mut got = [0u8; 8];
        s.read_exact(&mut got).unwrap();
        s
    };
    let next_line = || srv.lines.recv_timeout(LIMIT).expect("server output");
    // A client that resets its connection: only its task sees the error.
    let rude = talk(&port);
    socket2::SockRef::from(&rude).set_linger(Some(Duration::ZERO)).unwrap();
    drop(rude);
    let mut seen = vec![next_line(), next_line(), next_line()];
    // The server still serves the next client (and runs until killed).
    drop(talk(&port));
    seen.push(next_line());
    seen.push(next_line());
    let _ = srv.child.kill();
    let _ = srv.child.wait();
    let kinds: Vec<&str> = seen.iter().map(|l| l.split(':').next().unwrap_or("")).collect();
    assert_eq!(kinds, ["connected", "connection error", "disconnected", "connected", "disconnected"], "{seen:?}");
    // The system error reads as MicroPython's: the errno's name, not the C library's text.
    assert_eq!(seen[1], "connection error: [Errno 104] ECONNRESET");
}

#[test]
fn tls_ssl_true_verifies_against_the_default_roots() {
    // The test CA is in no platform or bundled root store, so `ssl=True` must refuse it.
    let dir = scratch("tls-default-roots");
    let p = pki(&dir);
    let port = free_port().to_string();
    let srv = Server::start(command(Side::CPython, "echo_server.py", &[port.clone(), "5".into(), p.cert.clone(), p.key.clone()], None));
    let script = dir.join("ssl_true.py");
    std::fs::write(
        &script,
        "import asyncio, sys\n\
         async def main():\n    \
             r, w = await asyncio.open_connection('localhost', int(sys.argv[1]), ssl=True)\n    \
             try:\n        \
                 w.write(b'hi\\n')\n        \
                 await w.drain()\n    \
             except ValueError as e:\n        \
                 print('refused:', str(e).strip())\n    \
             w.close()\n\
         asyncio.run(main())\n",
    )
    .unwrap();
    let mut cmd = Command::new(MICROLOOP);
    cmd.arg(&script).arg(&port);
    let out = run_with_limit(cmd, b"", LIMIT);
    assert_eq!(out.stdout, "refused: The certificate is not correctly signed by the trusted CA\n", "{}", out.stderr);
    let stop = run_with_limit(command(Side::CPython, "echo_client.py", &[port, p.ca.clone(), "localhost".into()], None), b"", LIMIT);
    assert_eq!(stop.stdout, CLIENT_OUTPUT);
    srv.finish();
}

/// A client on a plain blocking socket, MicroPython's way (`socket.write`, `readline`, `read`,
/// `readinto`), in the clear, over `SSLContext.wrap_socket` with a verified certificate and
/// over `ssl.wrap_socket` (which verifies nothing, as MicroPython's), against a CPython TLS
/// server: microloop prints what MicroPython prints.
#[test]
fn blocking_socket_clients_plain_and_tls_print_what_micropython_prints() {
    const EXPECTED: &str = "\
b'GET / HTTP/1.0\\n'
b'text is sent as UTF-8: \\xc3\\xa9\\n'
19200 True
6 b'abcdef' b'\\n'
None None
b''
closed
";
    let dir = scratch("blocking-client");
    let p = pki(&dir);
    // MicroPython's `load_verify_locations` takes the CA in DER.
    let ca_der = p.ca_der.clone();
    let cases: [(Vec<String>, Vec<String>); 3] = [
        (vec![], vec![]),
        (vec!["5".into(), p.cert.clone(), p.key.clone()], vec![ca_der, "localhost".into()]),
        (vec!["5".into(), p.cert.clone(), p.key.clone()], vec!["none".into()]),
    ];
    for (server_args, client_args) in cases {
        for client in [Side::Microloop, Side::MicroPython] {
            let port = free_port().to_string();
            let srv = Server::start(command(Side::CPython, "echo_server.py", &[std::slice::from_ref(&port), &server_args[..]].concat(), None));
            let out = run_with_limit(command(client, "blocking_client.py", &[&[port][..], &client_args[..]].concat(), None), b"", LIMIT);
            let has_getpeercert = client == Side::Microloop && !client_args.is_empty();
            let expected = if has_getpeercert { format!("peer certificate b'0'\n{EXPECTED}") } else { EXPECTED.to_owned() };
            assert_eq!((out.code, out.stdout.as_str()), (Some(0), expected.as_str()), "{client:?} {client_args:?}:\n{}", out.stderr);
            srv.finish();
        }
    }
}


/// A TLS socket that does not block: its handshake happens while the script writes and polls,
/// `select.poll` reports the decrypted lines, and `close()` sends what `write` took (the
/// server stops only on the last line). microloop prints what MicroPython prints.
#[test]
fn nonblocking_tls_socket_client_prints_what_micropython_prints() {
    const EXPECTED: &str = "write 8\n[b'one\\n', b'two\\n']\nwrite 5\nclosed\n";
    let dir = scratch("nonblocking-tls");
    let p = pki(&dir);
    for client in [Side::Microloop, Side::MicroPython] {
        let port = free_port().to_string();
        let server_args = [port.clone(), "5".into(), p.cert.clone(), p.key.clone()];
        let srv = Server::start(command(Side::CPython, "echo_server.py", &server_args, None));
        let out = run_with_limit(command(client, "nonblocking_tls_client.py", &[port], None), b"", LIMIT);
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), EXPECTED), "{client:?}:\n{}", out.stderr);
        assert_eq!(srv.finish(), "served 1 connections, 2 lines, 8 bytes\n", "{client:?}");
    }
}
