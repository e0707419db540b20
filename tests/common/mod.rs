//! Helpers shared by the end-to-end tests: run a program with a time limit, capture its output.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use wait_timeout::ChildExt;

/// The microloop binary built for these tests.
pub const MICROLOOP: &str = env!("CARGO_BIN_EXE_microloop");

/// What a finished program left behind.
#[derive(Debug)]
pub struct Output {
    /// Exit status; None if it was killed at the time limit.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` with `stdin` as input, killing it after `limit`. The limit only guards against a
/// hang; no test relies on it for timing.
pub fn run_with_limit(mut cmd: Command, stdin: &[u8], limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = child.wait_timeout(limit).expect("wait for child");
    let code = match status {
        Some(status) => status.code(),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    let _ = writer.join();
    let stdout = String::from_utf8_lossy(&out_reader.join().expect("stdout reader")).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned();
    Output { code, stdout, stderr }
}

/// Runs `microloop ARGS` in `dir`.
pub fn microloop(args: &[&str], dir: &Path) -> Output {
    let mut cmd = Command::new(MICROLOOP);
    cmd.args(args).current_dir(dir);
    run_with_limit(cmd, b"", Duration::from_secs(60))
}

/// Runs `microloop -c CODE` in the system temp dir.
pub fn microloop_c(code: &str) -> Output {
    microloop(&["-c", code], &std::env::temp_dir())
}

/// MicroPython's unix port, the conformance oracle: `$MICROPYTHON` when set, else the
/// `micropython` of `conformance/.venv`. `conformance/setup` makes that venv; it runs here once
/// per test process (a no-op when the venv is ready, safe when several test binaries run it at
/// once), so a fresh checkout needs nothing done by hand. Panics with the script's output when
/// it fails.
pub fn micropython() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(path) = std::env::var_os("MICROPYTHON") {
            return PathBuf::from(path);
        }
        let conformance = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
        let out = Command::new("sh")
            .arg(conformance.join("setup"))
            .output()
            .unwrap_or_else(|e| panic!("cannot run conformance/setup: {e}"));
        assert!(
            out.status.success(),
            "conformance/setup failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        conformance.join(".venv/bin/micropython")
    })
    .clone()
}
