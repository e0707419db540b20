#!/usr/bin/env python3
"""Differential fuzzer: random asyncio programs under MicroPython (the oracle) and microloop.

    run.py --seeds A:B [--microloop PATH] [--micropython PATH] [--jobs N] [--keep DIR]
    run.py --minimise SEED|FILE [--microloop PATH] [--micropython PATH] [--keep DIR]

For each seed in A..B-1, gen.py writes a program; it runs under both interpreters (each with a
time limit) and their stdout and exit status are compared. A program whose outputs differ
runs under MicroPython twice more: if MicroPython's three outputs are not all the same the
program is reported as nondeterministic and not counted. Every counted difference is listed
with its seed, the saved program and the first differing line. The exit status is 1 if any
difference was counted, else 0.

--minimise drops statements from one program (a seed's, or a file) for as long as microloop
still prints something else than MicroPython, and writes the smallest program it reached.
"""

import argparse
import ast
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import gen  # noqa: E402


class Result:
    """What one run of one interpreter left: stdout and exit status (None: killed at the
    time limit)."""

    def __init__(self, stdout, status, stderr=""):
        self.stdout = stdout
        self.status = status
        self.stderr = stderr

    def key(self):
        return (self.stdout, self.status)

    def describe_status(self):
        if self.status is None:
            return "timeout"
        if self.status < 0:
            return "killed by signal %d" % -self.status
        return "exit %d" % self.status


def run_one(interp, path, limit):
    try:
        p = subprocess.run([interp, path], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=limit, cwd=os.path.dirname(path))
        return Result(p.stdout.decode("utf-8", "replace"), p.returncode,
                      p.stderr.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        return Result(out, None, err)


def first_difference(want, got, context=2):
    """Lines describing where `got` first departs from `want`."""
    w, g = want.stdout.splitlines(), got.stdout.splitlines()
    n = 0
    while n < len(w) and n < len(g) and w[n] == g[n]:
        n += 1
    lines = []
    if n == len(w) and n == len(g):
        lines.append("  same stdout; status %s (MicroPython) vs %s (microloop)"
                     % (want.describe_status(), got.describe_status()))
        return lines
    for k in range(max(0, n - context), n):
        lines.append("    %4d   %s" % (k + 1, w[k]))
    lines.append("  line %d:" % (n + 1))
    lines.append("    expected %s" % (repr(w[n]) if n < len(w) else "<end of output>"))
    lines.append("    got      %s" % (repr(g[n]) if n < len(g) else "<end of output>"))
    if want.status != got.status:
        lines.append("  status: %s (MicroPython) vs %s (microloop)"
                     % (want.describe_status(), got.describe_status()))
    return lines


class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.keep = args.keep
        if self.keep:
            os.makedirs(self.keep, exist_ok=True)
            self.dir = os.path.abspath(self.keep)
        else:
            self.dir = tempfile.mkdtemp(prefix="microloop-fuzz-")
        self.saved_any = False

    def mp(self, path):
        return run_one(self.args.micropython, path, self.args.timeout)

    def ml(self, path):
        return run_one(self.args.microloop, path, self.args.timeout)

    def check(self, seed):
        """Runs one seed; returns (verdict, lines of report)."""
        path = os.path.join(self.dir, "seed%d.py" % seed)
        with open(path, "w") as fh:
            fh.write(gen.generate(seed, self.args.slot))
        want = self.mp(path)
        got = self.ml(path)
        if want.key() == got.key():
            if not self.keep:
                os.unlink(path)
            if want.status is None:
                return "same-timeout", ["TIMEOUT seed %d: both hit the time limit with the same output" % seed]
            return "same", []
        if want.status is not None and want.status < 0:
            self.saved_any = True
            self.save(path, "mp", want)
            self.save(path, "ml", got)
            return "oracle-crash", ["MICROPYTHON CRASHED seed %d: %s (signal %d; not counted)"
                                    % (seed, path, -want.status)]
        again = [self.mp(path), self.mp(path)]
        self.saved_any = True
        self.save(path, "mp", want)
        self.save(path, "ml", got)
        if any(r.key() != want.key() for r in again):
            for n, r in enumerate(again, 2):
                self.save(path, "mp%d" % n, r)
            return "nondeterministic", ["NONDETERMINISTIC seed %d: %s (MicroPython's outputs differ: %s)"
                                        % (seed, path, ", ".join(
                                            "%s.mp%s.out" % (path[:-3], n or "")
                                            for n in ["", 2, 3]))]
        reruns = [self.ml(path) for _ in range(2)]
        for n, r in enumerate(reruns, 2):
            self.save(path, "ml%d" % n, r)
        if any(r.key() == want.key() for r in reruns):
            return "flaky", ["FLAKY seed %d: %s (microloop matched MicroPython on a rerun)" % (seed, path)]
        stable = all(r.key() == got.key() for r in reruns)
        lines = ["DIFF seed %d: %s%s" % (seed, path, "" if stable else "  (microloop's output varies)")]
        lines += first_difference(want, got)
        return "differing", lines

    def save(self, path, tag, result):
        with open("%s.%s.out" % (path[:-3], tag), "w") as fh:
            fh.write(result.stdout)
            fh.write("\n--- %s\n" % result.describe_status())
            if result.stderr:
                fh.write("--- stderr\n" + result.stderr)

    def run(self, seeds):
        counts = {"same": 0, "differing": 0, "nondeterministic": 0, "flaky": 0, "same-timeout": 0,
                  "oracle-crash": 0}
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(self.args.jobs) as pool:
            for verdict, lines in pool.map(self.check, seeds):  # in seed order
                counts[verdict] += 1
                for line in lines:
                    print(line, flush=True)
        elapsed = time.monotonic() - started
        same = counts["same"] + counts["same-timeout"]
        print("programs %d, same %d, differing %d, nondeterministic %d, flaky %d"
              % (len(seeds), same, counts["differing"], counts["nondeterministic"], counts["flaky"]))
        extra = ""
        if counts["same-timeout"]:
            extra += "; %d hit the time limit under both (counted as same)" % counts["same-timeout"]
        if counts["oracle-crash"]:
            extra += "; MicroPython crashed on %d (not counted)" % counts["oracle-crash"]
        print("%.1f s, %.1f programs/s, %d jobs%s" % (elapsed, len(seeds) / elapsed, self.args.jobs, extra))
        if self.saved_any or self.keep:
            print("programs and outputs in %s" % self.dir)
        else:
            os.rmdir(self.dir)
        return 1 if counts["differing"] else 0


# -- minimiser -----------------------------------------------------------------------------


def statement_lists(tree):
    """Every list of statements in the tree, outermost first."""
    out = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                out.append(value)
        if isinstance(node, ast.Try):
            out.append(node.handlers)
    return out


def candidates(tree):
    """Yields smaller variants of `tree` (each a fresh tree), largest cuts first."""
    source = ast.unparse(tree)
    count = len(statement_lists(tree))
    for li in range(count):
        n = len(statement_lists(tree)[li])
        size = n
        while size >= 1:
            for start in range(0, n, size):
                t = ast.parse(source)
                lst = statement_lists(t)[li]
                if start >= len(lst):
                    continue
                del lst[start:start + size]
                if not lst:
                    if lst is getattr(t, "body", None):
                        continue
                    lst.append(ast.Pass())
                yield t
            size //= 2
    # replace a compound statement by its body
    for li in range(count):
        n = len(statement_lists(tree)[li])
        for i in range(n):
            t = ast.parse(source)
            lst = statement_lists(t)[li]
            node = lst[i] if i < len(lst) else None
            if isinstance(node, (ast.Try, ast.AsyncWith, ast.With, ast.If, ast.While, ast.For)):
                lst[i:i + 1] = node.body
                yield t
    # drop an argument of a call that has several (a gather's awaitables)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and len(n.args) > 1]
    for ci, call in enumerate(calls):
        for i in range(len(call.args)):
            t = ast.parse(source)
            c = [n for n in ast.walk(t) if isinstance(n, ast.Call) and len(n.args) > 1][ci]
            del c.args[i]
            yield t


def fix_handlers(tree):
    """A `try` left without handlers or finally gets `finally: pass`; handler lists that the
    cut emptied were given a `pass`, which is not a handler: drop it."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            node.handlers = [h for h in node.handlers if isinstance(h, ast.ExceptHandler)]
            if not node.handlers and not node.finalbody:
                node.finalbody = [ast.Pass()]
    return tree


def split_at_difference(want, got):
    """The first pair of lines that differ (None for a missing line)."""
    w, g = want.stdout.splitlines(), got.stdout.splitlines()
    n = 0
    while n < len(w) and n < len(g) and w[n] == g[n]:
        n += 1
    return (w[n] if n < len(w) else None, g[n] if n < len(g) else None)


def minimise(fz, source, name, loose=False):
    """Deletes statements while the difference persists: MicroPython's output stays the
    same over two runs, both exit statuses stay what they were, and (unless `loose`) the
    first differing line is still the same line under each interpreter."""
    path = os.path.join(fz.dir, name + ".min.py")
    target = {}

    def differs(text):
        with open(path, "w") as fh:
            fh.write(text)
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            a, b, c = pool.submit(fz.mp, path), pool.submit(fz.mp, path), pool.submit(fz.ml, path)
            a, b, c = a.result(), b.result(), c.result()
        if a.status is None or a.key() != b.key() or a.key() == c.key():
            return None
        if target:
            if (a.status, c.status) != target["status"]:
                return None
            if not loose and split_at_difference(a, c) != target["split"]:
                return None
        return a, c

    best = ast.unparse(ast.parse(source))
    found = differs(best)
    if not found:
        print("%s: no stable difference to minimise" % name)
        return 1
    target["status"] = (found[0].status, found[1].status)
    target["split"] = split_at_difference(*found)
    tries = 0
    progress = True
    while progress:
        # one pass over the candidates; after a success, go on from the same place in the
        # smaller program, and start a new pass at the end if anything was removed
        progress = False
        position = 0
        restart = True
        while restart:
            restart = False
            for n, t in enumerate(candidates(ast.parse(best))):
                if n < position:
                    continue
                position = n + 1
                try:
                    text = ast.unparse(fix_handlers(t))
                    compile(text, name, "exec")
                except (SyntaxError, ValueError):
                    continue
                if len(text) >= len(best):
                    continue
                tries += 1
                res = differs(text)
                if res:
                    best, found = text, res
                    progress = restart = True
                    position = n
                    print("  %d lines (%d tries)" % (best.count("\n") + 1, tries), flush=True)
                    break
    with open(path, "w") as fh:
        fh.write(best + "\n")
    want, got = found
    print("minimised %s to %s (%d lines, %d tries)\n" % (name, path, best.count("\n") + 1, tries))
    print(best)
    print("\n--- MicroPython (%s)\n%s--- microloop (%s)\n%s" % (
        want.describe_status(), want.stdout, got.describe_status(), got.stdout))
    print("\n".join(first_difference(want, got)))
    return 0


# -- command line ----------------------------------------------------------------------


def default_micropython():
    env = os.environ.get("MICROPYTHON")
    if env:
        return env
    venv = os.path.join(ROOT, "conformance", ".venv", "bin", "micropython")
    return venv if os.path.exists(venv) else "micropython"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", metavar="A:B", help="run seeds A..B-1")
    ap.add_argument("--minimise", "--minimize", metavar="SEED|FILE",
                    help="minimise the program of SEED (or the program FILE)")
    ap.add_argument("--loose", action="store_true",
                    help="with --minimise: keep any difference, not only the first one found")
    ap.add_argument("--microloop", default=os.path.join(ROOT, "target", "quick-release", "microloop"))
    ap.add_argument("--micropython", default=default_micropython(),
                    help="default: $MICROPYTHON, else conformance/.venv/bin/micropython")
    ap.add_argument("--jobs", type=int, default=3)
    ap.add_argument("--keep", metavar="DIR", help="save every program and differing outputs here")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per run (default 5)")
    ap.add_argument("--slot", type=int, default=20, help="milliseconds between deadlines (default 20; doubled in programs with a ThreadSafeFlag)")
    args = ap.parse_args()
    for name in ("microloop", "micropython"):
        exe = getattr(args, name)
        if os.sep in exe:
            if not os.path.exists(exe):
                ap.error("%s does not exist" % exe)
            setattr(args, name, os.path.abspath(exe))
    fz = Fuzzer(args)
    if args.minimise:
        if args.minimise.isdigit():
            name = "seed%s" % args.minimise
            source = gen.generate(int(args.minimise), args.slot)
        else:
            name = os.path.splitext(os.path.basename(args.minimise))[0]
            with open(args.minimise) as fh:
                source = fh.read()
        return minimise(fz, source, name, args.loose)
    if not args.seeds:
        ap.error("--seeds A:B or --minimise SEED is needed")
    a, b = (int(x) for x in args.seeds.split(":"))
    return fz.run(list(range(a, b)))


if __name__ == "__main__":
    sys.exit(main())
