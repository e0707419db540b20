//! The differential fuzzer (`conformance/fuzz/`): a fixed set of random asyncio programs runs
//! under MicroPython's unix port (the oracle) and under the microloop binary built for this
//! test, and no program may print differently. Programs on which MicroPython disagrees with
//! itself, or on which microloop matched MicroPython on a rerun, are listed but not counted
//! (timing noise on a loaded machine). `conformance/fuzz/README.md` explains the report.
//!
//! `FUZZ_SEEDS=A:B` runs other seeds (default `0:300`), `FUZZ_JOBS=N` sets the parallelism
//! (default 4); `MICROPYTHON=PATH` picks the oracle.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{MICROLOOP, micropython, run_with_limit};

#[test]
fn random_programs_print_what_micropython_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = std::env::var("FUZZ_SEEDS").unwrap_or_else(|_| "0:300".into());
    let jobs = std::env::var("FUZZ_JOBS").unwrap_or_else(|_| "4".into());
    let mut cmd = Command::new("python3");
    cmd.arg(root.join("conformance/fuzz/run.py"))
        .args(["--seeds", &seeds, "--jobs", &jobs, "--microloop", MICROLOOP, "--micropython"])
        .arg(micropython())
        .current_dir(root);
    let out = run_with_limit(cmd, b"", Duration::from_secs(900));
    println!("{}", out.stdout);
    eprint!("{}", out.stderr);
    assert_eq!(
        out.code,
        Some(0),
        "programs print differently under microloop and MicroPython (report above; rerun one \
         with `python3 conformance/fuzz/run.py --seeds N:N+1 --keep DIR`, shrink it with \
         `--minimise N`)"
    );
}
