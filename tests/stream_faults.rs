//! Streams against peers that misbehave: real sockets on loopback, written here, that send part
//! of a conversation and then close, half-close (shut down their sending side) or reset
//! (`SO_LINGER` 0), at every point of the conversation, one byte at a time or all at once,
//! many conversations at the same time, against a server and a client script
//! (`tests/net/fault_peer.py`). Every read method must see every byte the peer sent and then
//! the end (`b""`, `EOFError` for `readexactly`) or the reset (`OSError` `ECONNRESET`, which
//! drops what the failed read had gathered, as MicroPython's read does); every conversation's
//! task must finish, and the process must end with the descriptors it started with.
//!
//! The expectations are MicroPython's: each test runs the script under microloop and under
//! MicroPython's unix port (the conformance oracle, see `common::micropython`).
//!
//! Nothing here waits by sleeping: a peer that sends one byte at a time waits for the echo of
//! each unit the method returns (a line, a byte, four bytes) before the next, and the test
//! waits for the line the script prints as each conversation ends.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use common::{MICROLOOP, run_with_limit};
use wait_timeout::ChildExt;

/// Guard against a hang: the whole run takes a few seconds.
const LIMIT: Duration = Duration::from_secs(60);

/// What the peers send, cut at every point: lines of several lengths, an empty line, and a
/// last line without its newline.
const MESSAGE: &[u8] = b"ab\ncdef\ng\n\nhij";

/// How the script reads (`METHODS` in the script, in this order).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Method {
    /// `readline()`
    Readline,
    /// `read(3)`
    Read3,
    /// `read()`, to the end
    ReadAll,
    /// `readexactly(4)`
    ReadExactly4,
    /// `readinto(bytearray(5))`
    ReadInto5,
}

impl Method {
    const ALL: [Method; 5] = [Method::Readline, Method::Read3, Method::ReadAll, Method::ReadExactly4, Method::ReadInto5];

    fn name(self) -> &'static str {
        match self {
            Method::Readline => "readline",
            Method::Read3 => "read3",
            Method::ReadAll => "readall",
            Method::ReadExactly4 => "readexactly4",
            Method::ReadInto5 => "readinto5",
        }
    }

    /// Whether a read returns once the first `p` bytes of `sent` have arrived, ending with
    /// byte `p - 1` (so an echoing script echoes them without waiting for more).
    fn returns_at(self, sent: &[u8], p: usize) -> bool {
        match self {
            Method::Readline => sent[p - 1] == b'\n',
            Method::Read3 | Method::ReadInto5 => true,
            Method::ReadExactly4 => p % 4 == 0,
            Method::ReadAll => false,
        }
    }
}

/// How the peer ends the conversation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    /// `close()`: the script reads the end of the stream.
    Close,
    /// `shutdown(SHUT_WR)`, then the peer reads until the script closes.
    HalfClose,
    /// `SO_LINGER` 0 and `close()`: the script reads `ECONNRESET`.
    Reset,
}

/// One conversation: the peer sends the first `cut` bytes of [`MESSAGE`] and ends with `end`.
/// `slow`: one byte per write, waiting for the script's echo of each unit its read method
/// returns; otherwise everything in one write, and the script does not echo.
#[derive(Clone, Copy, Debug)]
struct Conversation {
    method: Method,
    slow: bool,
    cut: usize,
    end: End,
}

const CUTS: usize = MESSAGE.len() + 1;

/// Conversation `i`, as the script's client mode numbers them: method `i % 5`, slow (echoing)
/// when `(i / 5) % 2 == 0`, then every cut, then every end.
fn conversation(i: usize) -> Conversation {
    Conversation {
        method: Method::ALL[i % 5],
        slow: (i / 5) % 2 == 0,
        cut: (i / 10) % CUTS,
        end: [End::Close, End::HalfClose, End::Reset][i / (10 * CUTS)],
    }
}

/// Every conversation: 5 methods, slow and all at once, 15 cuts, 3 ends.
const CONVERSATIONS: usize = 10 * CUTS * 3;

/// What the script must report for a conversation.
struct Expected {
    /// The bytes received, or (`exact` false) a prefix of them.
    bytes: Vec<u8>,
    exact: bool,
    end: &'static str,
}

impl Conversation {
    fn sent(&self) -> &'static [u8] {
        &MESSAGE[..self.cut]
    }

    fn expected(&self) -> Expected {
        let sent = self.sent();
        let whole_blocks = &sent[..sent.len() / 4 * 4];
        let (bytes, exact, end): (&[u8], bool, &str) = match (self.end, self.method) {
            (End::Close | End::HalfClose, Method::ReadExactly4) => (whole_blocks, true, "EOFError"),
            (End::Close | End::HalfClose, _) => (sent, true, "eof"),
            // A reset fails the read that meets it, and that read's bytes go with it: the
            // partial last line, the partial last block, everything `read()` gathered.
            (End::Reset, Method::Readline) => {
                let lines = sent.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                (&sent[..lines], true, "OSError:104")
            }
            (End::Reset, Method::ReadExactly4) => (whole_blocks, true, "OSError:104"),
            (End::Reset, Method::ReadAll) => (b"", true, "OSError:104"),
            // The slow peer waited for the echo of every byte before resetting; all at once,
            // whether the last bytes arrive before the reset is found is a matter of timing.
            (End::Reset, Method::Read3 | Method::ReadInto5) => (sent, self.slow, "OSError:104"),
        };
        Expected { bytes: bytes.to_vec(), exact, end }
    }

    /// What the peer reads after shutting down its side: the echo of what the script's
    /// method returns only at the end of the stream.
    fn echo_after_end(&self) -> &'static [u8] {
        let sent = self.sent();
        match self.method {
            _ if !self.slow => b"",
            Method::Readline => &sent[sent.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1)..],
            Method::ReadAll => sent,
            Method::Read3 | Method::ReadInto5 | Method::ReadExactly4 => b"",
        }
    }

    /// Plays the peer's side on `stream`; an error says what went wrong.
    fn play(&self, mut stream: TcpStream) -> Result<(), String> {
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
        let sent = self.sent();
        if self.slow {
            let mut echoed = 0;
            for p in 1..=sent.len() {
                stream.write_all(&sent[p - 1..p]).map_err(|e| format!("write: {e}"))?;
                if self.method.returns_at(sent, p) {
                    let mut echo = vec![0; p - echoed];
                    stream.read_exact(&mut echo).map_err(|e| format!("echo of {:?}: {e}", &sent[echoed..p]))?;
                    if echo != sent[echoed..p] {
                        return Err(format!("echo {echo:?}, sent {:?}", &sent[echoed..p]));
                    }
                    echoed = p;
                }
            }
        } else {
            stream.write_all(sent).map_err(|e| format!("write: {e}"))?;
        }
        match self.end {
            End::Close => drop(stream),
            End::HalfClose => {
                stream.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
                let mut rest = Vec::new();
                stream.read_to_end(&mut rest).map_err(|e| format!("echo after the end: {e}"))?;
                if rest != self.echo_after_end() {
                    return Err(format!("echo after the end {rest:?}, expected {:?}", self.echo_after_end()));
                }
            }
            End::Reset => reset(stream),
        }
        Ok(())
    }
}

/// Closes `stream` with a reset.
fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).expect("SO_LINGER");
    drop(stream);
}

/// One line of the script's report.
#[derive(Debug)]
struct Report {
    ident: String,
    method: String,
    end: String,
    bytes: Vec<u8>,
}

fn parse_report(line: &str) -> Report {
    let fields: Vec<&str> = line.rsplitn(3, ' ').collect();
    let [hex, end, head] = fields[..] else { panic!("bad report line {line:?}") };
    let (ident, method) = head.split_once(' ').unwrap_or_else(|| panic!("bad report line {line:?}"));
    let bytes = if hex == "-" {
        Vec::new()
    } else {
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
    };
    Report { ident: ident.into(), method: method.into(), end: end.into(), bytes }
}

/// Compares a report with what conversation `c` must give; a mismatch is described.
fn check(c: &Conversation, r: &Report) -> Option<String> {
    let want = c.expected();
    let bytes_ok = if want.exact { r.bytes == want.bytes } else { want.bytes.starts_with(&r.bytes) };
    if r.method == c.method.name() && r.end == want.end && bytes_ok {
        return None;
    }
    Some(format!(
        "{c:?}: got {} {} {:?}, expected {} {}{:?}",
        r.method,
        r.end,
        String::from_utf8_lossy(&r.bytes),
        want.end,
        if want.exact { "" } else { "a prefix of " },
        String::from_utf8_lossy(&want.bytes)
    ))
}

/// Checks the script's last line, `fds BEFORE AFTER tasks STARTED FINISHED`.
fn check_totals(line: &str, conversations: usize) {
    let n: Vec<usize> = line.split(' ').filter_map(|w| w.parse().ok()).collect();
    assert!(line.starts_with("fds ") && n.len() == 4, "bad totals line {line:?}");
    assert_eq!(n[0], n[1], "descriptors before and after: {line}");
    assert_eq!((n[2], n[3]), (conversations, conversations), "conversation tasks started and finished: {line}");
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/net/fault_peer.py")
}

/// `n` distinct ports, free at the time of the call (the server binds them a moment later;
/// another process taking one in between makes the server fail to start, loudly).
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    held.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

/// The loopback address conversation `i` of the server test comes from.
fn peer_address(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8)
}

/// A connection from `from` to the test server's `port`.
fn connect_from(from: Ipv4Addr, port: u16) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    sock.bind(&SocketAddr::from((from, 0)).into()).expect("bind");
    sock.connect(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into()).expect("connect");
    sock.into()
}

/// Runs `jobs` on `threads` threads at once, each taking the next job when done.
fn run_all(jobs: usize, threads: usize, job: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= jobs {
                        break;
                    }
                    job(i);
                }
            });
        }
    });
}

/// The script running as a server, its output read line by line as it comes.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
    /// When the test gives up waiting for output.
    deadline: Instant,
}

impl Server {
    /// Starts `fault_peer.py ARGS` under `interpreter` and waits for it to listen.
    fn start(interpreter: &Path, args: &[String]) -> Server {
        let mut child = Command::new(interpreter)
            .arg(script())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {interpreter:?}: {e}"));
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let mut server = Server { child, lines, stderr: Some(stderr), deadline: Instant::now() + LIMIT };
        match server.next_line() {
            Some(line) if line == "listening" => server,
            first => {
                // MicroPython prints its traceback on stdout.
                let rest: Vec<String> = server.lines.try_iter().collect();
                panic!("{interpreter:?} did not start: {first:?}\n{}\n{}", rest.join("\n"), server.stop());
            }
        }
    }

    /// The next line of output; None once the time is up.
    fn next_line(&self) -> Option<String> {
        self.lines.recv_timeout(self.deadline.saturating_duration_since(Instant::now())).ok()
    }

    /// Waits for the script to exit (killing it when the time is up) and gives its error
    /// output, headed by the exit status when that is not 0.
    fn stop(&mut self) -> String {
        let status = self.child.wait_timeout(self.deadline.saturating_duration_since(Instant::now())).unwrap();
        if status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let stderr = self.stderr.take().map(|t| t.join().unwrap()).unwrap_or_default();
        match status {
            Some(s) if s.success() => stderr,
            _ => format!("server failed ({status:?}):\n{stderr}"),
        }
    }
}

/// A test that fails leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// microloop, and MicroPython's unix port, whose behaviour the expectations describe: each test
/// runs the script under both.
fn interpreters() -> [PathBuf; 2] {
    [PathBuf::from(MICROLOOP), common::micropython()]
}

#[test]
fn a_server_reads_every_byte_and_every_end() {
    for interpreter in interpreters() {
        server_conversations(&interpreter);
    }
}

fn server_conversations(interpreter: &Path) {
    let ports = free_ports(11);
    let args = [&["server".to_string()][..], &ports.iter().map(u16::to_string).collect::<Vec<_>>()].concat();
    let mut server = Server::start(interpreter, &args);

    // The peers, eight at a time. Each conversation comes from its own loopback address, by
    // which the script's report names it (ports are reused as soon as a reset frees them).
    let failures = Mutex::new(Vec::new());
    run_all(CONVERSATIONS, 8, |i| {
        let c = conversation(i);
        let port = ports[Method::ALL.iter().position(|&m| m == c.method).unwrap() + if c.slow { 0 } else { 5 }];
        if let Err(e) = c.play(connect_from(peer_address(i), port)) {
            failures.lock().unwrap().push(format!("{c:?}: peer: {e}"));
        }
    });

    let by_address: HashMap<String, Conversation> =
        (0..CONVERSATIONS).map(|i| (peer_address(i).to_string(), conversation(i))).collect();
    let mut failures = failures.into_inner().unwrap();
    let mut seen = 0;
    while seen < CONVERSATIONS {
        let Some(line) = server.next_line() else {
            let _ = server.child.kill();
            panic!("{interpreter:?}: {} conversations never ended; {failures:#?}\n{}", CONVERSATIONS - seen, server.stop());
        };
        let report = parse_report(&line);
        let c = by_address.get(&report.ident).unwrap_or_else(|| panic!("report for no conversation: {line:?}"));
        failures.extend(check(c, &report));
        seen += 1;
    }
    let mut control = TcpStream::connect(("127.0.0.1", ports[10])).unwrap();
    control.write_all(b"quit\n").unwrap();
    let totals = server.next_line().unwrap_or_default();
    let stderr = server.stop();
    assert!(failures.is_empty(), "{interpreter:?}: {} of {CONVERSATIONS} conversations went wrong:\n{}", failures.len(), failures.join("\n"));
    check_totals(&totals, CONVERSATIONS);
    assert!(stderr.is_empty(), "{interpreter:?}: {stderr}");
}

/// What a read method gives for the first `cut` bytes of [`MESSAGE`] when they and the end
/// (`Close`) or the reset have all arrived before its first read: as on MicroPython, a read
/// that returns fewer bytes than asked for reads again, so it meets the reset and fails with
/// what it had; one that got all it asked for returns them, and the next read fails.
fn expected_when_queued(method: Method, cut: usize, end: End) -> (Vec<u8>, &'static str) {
    let sent = &MESSAGE[..cut];
    let whole = |n: usize| sent[..sent.len() / n * n].to_vec();
    match (end, method) {
        (End::Reset, Method::Read3) => (whole(3), "OSError:104"),
        (End::Reset, Method::ReadInto5) => (whole(5), "OSError:104"),
        (End::Reset, Method::ReadAll) => (Vec::new(), "OSError:104"),
        (End::Reset, Method::Readline) => {
            (sent[..sent.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1)].to_vec(), "OSError:104")
        }
        (End::Reset, Method::ReadExactly4) => (whole(4), "OSError:104"),
        (_, Method::ReadExactly4) => (whole(4), "EOFError"),
        _ => (sent.to_vec(), "eof"),
    }
}

#[test]
fn bytes_and_the_end_that_arrived_before_the_first_read() {
    for interpreter in interpreters() {
        queued_conversations(&interpreter);
    }
}

/// Each conversation: the peer sends its bytes and closes or resets; only then does it tell
/// the script (on another connection) to start reading, with which method.
fn queued_conversations(interpreter: &Path) {
    let cases: Vec<(Method, usize, End)> = Method::ALL
        .iter()
        .flat_map(|&m| [0, 1, 3, 8, 10, 11, 14].into_iter().flat_map(move |cut| [End::Close, End::Reset].map(|e| (m, cut, e))))
        .collect();
    let [port, go_port] = free_ports(2)[..] else { unreachable!() };
    let args = ["late".into(), port.to_string(), go_port.to_string(), cases.len().to_string()];
    let mut server = Server::start(interpreter, &args);
    let mut failures = Vec::new();
    for &(method, cut, end) in &cases {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream.write_all(&MESSAGE[..cut]).unwrap();
        match end {
            End::Reset => reset(stream),
            _ => drop(stream),
        }
        let mut go = TcpStream::connect(("127.0.0.1", go_port)).expect("connect");
        go.write_all(format!("{}\n", method.name()).as_bytes()).unwrap();
        let Some(line) = server.next_line() else {
            let _ = server.child.kill();
            panic!("{interpreter:?}: {method:?} {cut} {end:?} never ended; {failures:#?}\n{}", server.stop());
        };
        let report = parse_report(&line);
        let (bytes, how) = expected_when_queued(method, cut, end);
        if (report.method.as_str(), report.end.as_str(), &report.bytes) != (method.name(), how, &bytes) {
            failures.push(format!("{method:?} {cut} {end:?}: got {line}, expected {how} {:?}", String::from_utf8_lossy(&bytes)));
        }
    }
    let totals = server.next_line().unwrap_or_default();
    let stderr = server.stop();
    assert!(failures.is_empty(), "{interpreter:?}: {} of {} went wrong:\n{}", failures.len(), cases.len(), failures.join("\n"));
    check_totals(&totals, cases.len());
    assert!(stderr.is_empty(), "{interpreter:?}: {stderr}");
}

#[test]
fn a_client_reads_every_byte_and_every_end() {
    for interpreter in interpreters() {
        client_conversations(&interpreter);
    }
}

fn client_conversations(interpreter: &Path) {
    const RESETS: usize = 20;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let resetter = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reset_port = resetter.local_addr().unwrap().port();
    let failures = Arc::new(Mutex::new(Vec::new()));
    // The peer: a thread per connection, which reads the conversation's number and plays it.
    let peer = {
        let failures = failures.clone();
        std::thread::spawn(move || {
            std::thread::scope(|s| {
                for stream in listener.incoming().take(CONVERSATIONS) {
                    let mut stream = stream.expect("accept");
                    let failures = &failures;
                    s.spawn(move || {
                        stream.set_read_timeout(Some(LIMIT)).unwrap();
                        let mut header = Vec::new();
                        let mut byte = [0u8];
                        while header.last() != Some(&b'\n') {
                            if stream.read(&mut byte).unwrap_or(0) == 0 {
                                failures.lock().unwrap().push(format!("no header: {header:?}"));
                                return;
                            }
                            header.push(byte[0]);
                        }
                        let i: usize = String::from_utf8_lossy(&header).trim().parse().expect("conversation number");
                        if let Err(e) = conversation(i).play(stream) {
                            failures.lock().unwrap().push(format!("{:?}: peer: {e}", conversation(i)));
                        }
                    });
                }
            });
        })
    };
    // A peer that resets each connection as soon as it has accepted it.
    let resets = std::thread::spawn(move || {
        for stream in resetter.incoming().take(RESETS) {
            reset(stream.expect("accept"));
        }
    });

    let mut cmd = Command::new(interpreter);
    let args = [port as usize, CONVERSATIONS, 50, reset_port as usize, RESETS].map(|n| n.to_string());
    cmd.arg(script()).arg("client").args(args);
    let out = run_with_limit(cmd, b"", LIMIT);
    assert_eq!(out.code, Some(0), "{interpreter:?}: {}\n{}", out.stdout, out.stderr);
    peer.join().unwrap();
    resets.join().unwrap();

    let mut failures = Arc::try_unwrap(failures).unwrap().into_inner().unwrap();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    let totals = lines.pop().unwrap_or_default();
    let mut seen = vec![false; CONVERSATIONS];
    let mut reset_seen = 0;
    for line in &lines {
        let report = parse_report(line);
        if report.ident.starts_with('x') {
            // The reset can reach the stream before or after its first write: either raises.
            if (report.end.as_str(), report.bytes.len()) != ("OSError:104", 0) {
                failures.push(format!("reset at once: {line}"));
            }
            reset_seen += 1;
            continue;
        }
        let i: usize = report.ident.parse().unwrap_or_else(|_| panic!("bad report {line:?}"));
        assert!(!std::mem::replace(&mut seen[i], true), "two reports for conversation {i}");
        failures.extend(check(&conversation(i), &report));
    }
    assert!(failures.is_empty(), "{interpreter:?}: {} conversations went wrong:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(reset_seen, RESETS, "{interpreter:?}");
    assert!(seen.iter().all(|&s| s), "{interpreter:?}: conversations without a report");
    check_totals(totals, CONVERSATIONS + RESETS);
}
