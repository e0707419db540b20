//! The CPython-diffed suite: every `conformance/*.py` runs under microloop and under CPython 3
//! (`python3`), and the two stdouts must be identical. A `NAME.exp` beside a script is the
//! expected stdout instead, for MicroPython-only features CPython lacks.
//!
//! Prints a table of pass/fail per script and fails on any difference. `CONFORMANCE=name`
//! restricts the run to scripts whose name contains `name`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{microloop, run_with_limit};

fn scripts(dir: &Path) -> Vec<PathBuf> {
    let filter = std::env::var("CONFORMANCE").unwrap_or_default();
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("conformance/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .filter(|p| p.file_stem().is_some_and(|s| s.to_string_lossy().contains(&filter)))
        .collect();
    all.sort();
    all
}

/// The expected stdout: the `.exp` file, or CPython's output.
fn expected(script: &Path, dir: &Path) -> Result<String, String> {
    let exp = script.with_extension("exp");
    if exp.exists() {
        return std::fs::read_to_string(&exp).map_err(|e| format!("cannot read {exp:?}: {e}"));
    }
    let mut cmd = Command::new("python3");
    cmd.arg(script.file_name().expect("a file name")).current_dir(dir);
    let out = run_with_limit(cmd, b"", Duration::from_secs(60));
    match out.code {
        Some(0) => Ok(out.stdout),
        code => Err(format!("python3 failed ({code:?}): {}", out.stderr)),
    }
}

/// A short unified-style listing of the first differing lines.
fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let line = e.iter().zip(&a).position(|(x, y)| x != y).unwrap_or(e.len().min(a.len()));
    format!(
        "line {}: expected {:?}, got {:?}",
        line + 1,
        e.get(line).copied().unwrap_or("<end of output>"),
        a.get(line).copied().unwrap_or("<end of output>")
    )
}

#[test]
fn conformance_suite_matches_cpython() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let scripts = scripts(&dir);
    assert!(!scripts.is_empty(), "no conformance scripts found");
    let mut failures = Vec::new();
    println!("\n{:<44} {:<8} result", "script", "oracle");
    for script in &scripts {
        let name = script.file_name().expect("a file name").to_string_lossy().into_owned();
        let oracle = if script.with_extension("exp").exists() { ".exp" } else { "python3" };
        let verdict = match expected(script, &dir) {
            Err(e) => Err(e),
            Ok(want) => {
                let got = microloop(&[&name], &dir);
                if got.code != Some(0) {
                    Err(format!("exit {:?}\n{}", got.code, got.stderr))
                } else if got.stdout != want {
                    Err(first_difference(&want, &got.stdout))
                } else {
                    Ok(())
                }
            }
        };
        println!("{:<44} {:<8} {}", name, oracle, if verdict.is_ok() { "pass" } else { "FAIL" });
        if let Err(why) = verdict {
            failures.push(format!("{name}: {why}"));
        }
    }
    println!("{} passed, {} failed", scripts.len() - failures.len(), failures.len());
    assert!(failures.is_empty(), "conformance failures:\n{}", failures.join("\n"));
}
