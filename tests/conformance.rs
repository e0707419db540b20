//! The conformance suite: every `conformance/*.py` runs under MicroPython's unix port, under
//! microloop and under CPython 3 (`python3`).
//!
//! The expected output (stdout and exit status) of a script is, in this order:
//! - its `NAME.exp` file, for what neither interpreter runs (pins, virtual time, functions
//!   only microcontroller ports have); neither interpreter is run;
//! - CPython's output, for a script listed under [`BEYOND_MICROPYTHON`] in
//!   `conformance/DIVERGENCES.md` (features MicroPython's unix port lacks);
//! - otherwise MicroPython's output. A script MicroPython fails (nonzero exit, or killed at
//!   the time limit) is a failure of the suite. CPython must then print the same, unless the
//!   script is listed under [`CPYTHON_DIFFERS`] with the reason, or its name starts with `mp_`
//!   or `mcu_` (MicroPython-only names; not run under CPython).
//!
//! microloop must always match the expected output exactly. The scripts run on a few worker
//! threads, a script's interpreters one after another (the stream scripts bind fixed ports).
//! Prints a table with a column per interpreter and fails on any difference.
//! `CONFORMANCE=name` restricts the run to scripts whose name contains `name`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Output, micropython, microloop, run_with_limit};

/// The heading in `DIVERGENCES.md` of the scripts whose CPython output differs from
/// MicroPython's.
const CPYTHON_DIFFERS: &str = "## CPython differs from MicroPython";
/// The heading in `DIVERGENCES.md` of the scripts MicroPython's unix port cannot run, whose
/// expected output is CPython's.
const BEYOND_MICROPYTHON: &str = "## MicroPython's unix port cannot run these";

/// The heading in `DIVERGENCES.md` of the scripts where microloop does what CPython does
/// instead of what MicroPython does, on purpose: their expected output is CPython's.
const ON_PURPOSE: &str = "## microloop differs from MicroPython on purpose";

/// Each interpreter run is killed after this long; only a guard against a hang.
const LIMIT: Duration = Duration::from_secs(60);

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

/// The two parsed lists of `DIVERGENCES.md`: script name to reason.
#[derive(Default)]
struct Divergences {
    cpython_differs: BTreeMap<String, String>,
    beyond_micropython: BTreeMap<String, String>,
    on_purpose: BTreeMap<String, String>,
}

/// Reads the lines ``- `NAME.py`: reason`` under the three parsed headings; other sections are
/// prose. Panics on an entry without a reason, a name listed twice, or a missing heading.
fn divergences(dir: &Path) -> Divergences {
    let path = dir.join("DIVERGENCES.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path:?}: {e}"));
    let mut lists = Divergences::default();
    let (mut seen_cpython, mut seen_beyond) = (false, false);
    let mut section: Option<&mut BTreeMap<String, String>> = None;
    for line in text.lines() {
        if line.starts_with("## ") {
            section = match line.trim_end() {
                CPYTHON_DIFFERS => {
                    seen_cpython = true;
                    Some(&mut lists.cpython_differs)
                }
                BEYOND_MICROPYTHON => {
                    seen_beyond = true;
                    Some(&mut lists.beyond_micropython)
                }
                ON_PURPOSE => Some(&mut lists.on_purpose),
                _ => None,
            };
            continue;
        }
        let (Some(list), Some(entry)) = (section.as_deref_mut(), line.strip_prefix("- `")) else {
            continue;
        };
        let (name, reason) = entry
            .split_once("`:")
            .unwrap_or_else(|| panic!("DIVERGENCES.md: expected \"- `NAME.py`: reason\", got {line:?}"));
        assert!(!reason.trim().is_empty(), "DIVERGENCES.md: {name} has no reason");
        let previous = list.insert(name.to_owned(), reason.trim().to_owned());
        assert!(previous.is_none(), "DIVERGENCES.md: {name} is listed twice");
    }
    assert!(seen_cpython && seen_beyond, "DIVERGENCES.md lacks {CPYTHON_DIFFERS:?} or {BEYOND_MICROPYTHON:?}");
    let mut all = lists.cpython_differs.keys().chain(lists.beyond_micropython.keys()).chain(lists.on_purpose.keys()).collect::<Vec<_>>();
    all.sort();
    if let Some(pair) = all.windows(2).find(|w| w[0] == w[1]) {
        panic!("DIVERGENCES.md: {} is in two lists", pair[0]);
    }
    lists
}

/// CPython's own executable, as `python3` in `dir` names it: resolved once, so that a version
/// manager's `python3` wrapper script (pyenv's shim costs 0.2 s a run) is not run for every
/// script.
fn cpython(dir: &Path) -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 (a conformance oracle): {e}"));
    assert!(out.status.success(), "python3 failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).expect("a UTF-8 path").trim_end())
}

/// A CPython of version 3.13 or later, for the scripts of CPython API newer than the oracle
/// (`python3`, 3.11 on the project's machines): `$CPYTHON_NEW`, else `python3.14` or
/// `python3.13` on the PATH, else pyenv's installed 3.13+ versions. None when there is none.
fn newer_cpython() -> Option<PathBuf> {
    static FOUND: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            let mut candidates: Vec<PathBuf> = std::env::var_os("CPYTHON_NEW").map(PathBuf::from).into_iter().collect();
            candidates.extend(["python3.14", "python3.13"].map(PathBuf::from));
            if let Some(home) = std::env::var_os("HOME") {
                let versions = Path::new(&home).join(".pyenv/versions");
                let mut installed: Vec<PathBuf> = std::fs::read_dir(&versions)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.ok().map(|e| e.path().join("bin/python3")))
                    .collect();
                installed.sort();
                candidates.extend(installed.into_iter().rev());
            }
            candidates.into_iter().find(|python| {
                Command::new(python)
                    .args(["-c", "import sys; sys.exit(sys.version_info < (3, 13))"])
                    .output()
                    .is_ok_and(|out| out.status.success())
            })
        })
        .clone()
}

/// Runs `program NAME` in `dir`.
fn run(program: &Path, name: &str, dir: &Path) -> Output {
    let mut cmd = Command::new(program);
    cmd.arg(name).current_dir(dir);
    run_with_limit(cmd, b"", LIMIT)
}

/// The exit status as the report shows it.
fn status(code: Option<i32>) -> String {
    code.map_or(format!("killed after {} s", LIMIT.as_secs()), |c| format!("exit {c}"))
}

/// A run's output streams for a report: those that are not empty.
fn streams(out: &Output) -> String {
    [("stdout", &out.stdout), ("stderr", &out.stderr)]
        .into_iter()
        .filter(|(_, text)| !text.is_empty())
        .map(|(name, text)| format!("\n{name}:\n{}", text.trim_end()))
        .collect()
}

/// Why `got` is not `want` (stdout and exit status), or None when they are the same.
fn difference(want: &Output, got: &Output) -> Option<String> {
    let mut why = Vec::new();
    if got.stdout != want.stdout {
        why.push(first_difference(&want.stdout, &got.stdout));
    }
    if got.code != want.code {
        let stderr = match got.stderr.trim_end() {
            "" => String::new(),
            text => format!("\nstderr:\n{text}"),
        };
        why.push(format!("{} instead of {}{stderr}", status(got.code), status(want.code)));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// The first differing line of two outputs.
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

/// An oracle's run, kept as the expected output when it exited 0; otherwise the script fails,
/// with the run's output shown (MicroPython's unix port prints an uncaught exception's
/// traceback on stdout). `column` is the oracle's cell of the table.
fn oracle(label: &str, run: Output, column: &mut &'static str, failures: &mut Vec<String>) -> Option<Output> {
    if run.code == Some(0) {
        *column = "ok";
        return Some(run);
    }
    *column = "FAIL";
    failures.push(format!("{label} {}{}", status(run.code), streams(&run)));
    None
}

/// One script's row of the table, and what the report says under it.
struct Outcome {
    name: String,
    /// Where the expected output came from: `micropython`, `python3` or `.exp`.
    expected: &'static str,
    micropython: &'static str,
    python3: &'static str,
    microloop: &'static str,
    failures: Vec<String>,
    notes: Vec<String>,
}

/// Runs one script under the interpreters its kind asks for and judges the outputs.
fn check(script: &Path, dir: &Path, lists: &Divergences, python3: &Path) -> Outcome {
    let name = script.file_name().expect("a file name").to_string_lossy().into_owned();
    let mut o = Outcome {
        name: name.clone(),
        expected: "micropython",
        micropython: "-",
        python3: "-",
        microloop: "-",
        failures: Vec::new(),
        notes: Vec::new(),
    };
    let mp_only = name.starts_with("mp_") || name.starts_with("mcu_");
    let exp = script.with_extension("exp");

    let want = if exp.exists() {
        o.expected = ".exp";
        let stdout = std::fs::read_to_string(&exp).unwrap_or_else(|e| panic!("cannot read {exp:?}: {e}"));
        let want = Output { code: Some(0), stdout, stderr: String::new() };
        // CPython API newer than the oracle: the file is CPython 3.13's output, checked again
        // whenever such a CPython is installed.
        if lists.beyond_micropython.contains_key(&name) {
            match newer_cpython() {
                Some(newer) => match difference(&want, &run(&newer, &name, dir)) {
                    None => o.python3 = "3.13 ok",
                    Some(why) => {
                        o.python3 = "3.13 FAIL";
                        o.failures.push(format!("{} differs from {name}'s .exp: {why}", newer.display()));
                    }
                },
                None => o.notes.push("no CPython 3.13 or later installed to check the .exp against".into()),
            }
        }
        Some(want)
    } else if lists.beyond_micropython.contains_key(&name) || lists.on_purpose.contains_key(&name) {
        o.expected = "python3";
        oracle("python3", run(python3, &name, dir), &mut o.python3, &mut o.failures)
    } else {
        oracle("micropython", run(&micropython(), &name, dir), &mut o.micropython, &mut o.failures)
    };
    let Some(want) = want else { return o };

    let listed = lists.cpython_differs.contains_key(&name);
    if o.expected == "micropython" && !mp_only {
        match difference(&want, &run(python3, &name, dir)) {
            None if listed => {
                o.python3 = "same";
                o.notes.push("listed in DIVERGENCES.md, yet CPython prints what MicroPython prints".into());
            }
            None => o.python3 = "same",
            Some(_) if listed => o.python3 = "listed",
            Some(why) => {
                o.python3 = "DIFF";
                o.failures.push(format!("python3 (not in DIVERGENCES.md): {why}"));
            }
        }
    } else if listed {
        o.notes.push("listed in DIVERGENCES.md but not compared with CPython".into());
    }

    let got = microloop(&[&name], dir);
    match difference(&want, &got) {
        None => o.microloop = "pass",
        Some(why) => {
            o.microloop = "FAIL";
            o.failures.push(format!("microloop: {why}"));
        }
    }
    o
}

#[test]
fn conformance_suite_matches_micropython() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let scripts = scripts(&dir);
    assert!(!scripts.is_empty(), "no conformance scripts found");
    let lists = divergences(&dir);
    micropython(); // installs it, if need be, before the workers start
    let python3 = cpython(&dir);

    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new(scripts.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(script) = scripts.get(i) else { break };
                    let outcome = check(script, &dir, &lists, &python3);
                    outcomes.lock().expect("no worker panicked")[i] = Some(outcome);
                }
            });
        }
    });
    let outcomes: Vec<Outcome> =
        outcomes.into_inner().expect("no worker panicked").into_iter().map(|o| o.expect("every script ran")).collect();

    println!("\n{:<44} {:<12} {:<12} {:<8} {}", "script", "expected", "micropython", "python3", "microloop");
    for o in &outcomes {
        println!("{:<44} {:<12} {:<12} {:<8} {}", o.name, o.expected, o.micropython, o.python3, o.microloop);
    }
    for o in &outcomes {
        for note in &o.notes {
            println!("note: {}: {note}", o.name);
        }
    }
    for name in lists.cpython_differs.keys().chain(lists.beyond_micropython.keys()) {
        if !dir.join(name).exists() {
            println!("note: DIVERGENCES.md lists {name}, which is not in conformance/");
        }
    }
    let failures: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.failures.iter().map(move |f| format!("{}: {f}", o.name)))
        .collect();
    let failed = outcomes.iter().filter(|o| !o.failures.is_empty()).count();
    println!("{} passed, {} failed", outcomes.len() - failed, failed);
    assert!(failures.is_empty(), "conformance failures:\n{}", failures.join("\n"));
}
