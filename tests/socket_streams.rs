//! Sockets as MicroPython's streams against a real peer on loopback: a Rust server that sends
//! in pieces, with pauses, and reads what the script writes; the script uses the blocking
//! `readline`, `read(n)` and `write` (as micropython-lib's `requests` and `umqtt.simple` do),
//! then `select.poll` with the socket and an ioctl object together.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use common::microloop_c;

#[test]
fn blocking_socket_streams_against_a_real_peer() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        // A status line and a body in pieces, a pause between them.
        s.write_all(b"HTTP/1.0 200 OK\r\nContent-").unwrap();
        thread::sleep(Duration::from_millis(50));
        s.write_all(b"Length: 5\r\n\r\nhel").unwrap();
        thread::sleep(Duration::from_millis(50));
        s.write_all(b"lo").unwrap();
        let mut got = [0u8; 8];
        s.read_exact(&mut got).unwrap();
        thread::sleep(Duration::from_millis(100));
        s.write_all(b"!").unwrap();
        thread::sleep(Duration::from_millis(50));
        got
    });
    let script = format!(
        r#"
import socket, select, io
s = socket.socket()
s.connect(socket.getaddrinfo("127.0.0.1", {port})[0][-1])
print(s.readline())
print(s.readline(), s.readline())
print(s.read(5))
print(s.write("GET \u00e9\r\n"))
class Dev(io.IOBase):
    def ioctl(self, req, arg):
        return 0 if req == 3 else -1
p = select.poll()
p.register(Dev(), select.POLLIN)
p.register(s, select.POLLIN)
r = p.poll(2000)
print(len(r), r[0][0] is s, r[0][1])
print(s.read())
s.close()
"#
    );
    let out = microloop_c(&script);
    let sent = peer.join().unwrap();
    assert_eq!(&sent, "GET é\r\n".as_bytes());
    let stdout = &out.stdout;
    assert_eq!(
        stdout,
        "b'HTTP/1.0 200 OK\\r\\n'\nb'Content-Length: 5\\r\\n' b'\\r\\n'\nb'hello'\n8\n1 True 1\nb'!'\n",
        "stderr: {}",
        out.stderr
    );
    assert_eq!(out.code, Some(0));
}
