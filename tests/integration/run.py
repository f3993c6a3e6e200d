#!/usr/bin/python3
"""run.py - runs the integration suite, one test per process, each with a time limit.

    tests/integration/run.py [-k PATTERN]... [-j N] [--timeout S] [--list] [-q]

Finds every test with unittest discovery (test_*.py in this directory),
keeps those whose id (module.Class.test) matches one of the -k patterns (a
substring, or a shell pattern when it holds * ? or [), and runs each in its
own `python3 -m unittest <id>` process group, killed as a whole (kiosk and
fake_sync included) if it runs past the limit. Prints one line per test as
it ends, the output of those that failed, and last the line

    N passed, N failed

which CI reads. Exit status 0 only if every selected test passed (skips
count as passes; no selected test is a failure).

A module that cannot run here at all says so with a module-level
`suite_skip_reason()` returning a reason (else None): its selected tests
are not started, and one SKIP line stands for all of them (counted as one
pass). test_pcsc.py does this unless KIOSK_TEST_PCSC=1.

At the time limit the test's process gets SIGTERM first (a test may clean up
what it started in sessions of its own: test_pcsc.py stops its pcscd and
cards by pid), then after a grace period its whole process group SIGKILL.

Environment: KIOSK_BIN, KIOSK_WRAPPER, KIOSK_TEST_SLOW, KIOSK_TEST_KEEP (see
harness.py). KIOSK_TEST_SLOW also stretches the per-test limit.
"""

import argparse
import concurrent.futures
import fnmatch
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402  (after the path is set)


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def discover():
    loader = unittest.TestLoader()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    ids, broken = [], []
    for t in flatten(suite):
        tid = t.id()
        # A module that does not import shows up as a _FailedTest: run it
        # anyway, so its error is reported as a failure.
        (broken if tid.startswith("unittest.loader.") else ids).append(tid)
    return ids, broken, loader.errors


def matches(tid, patterns):
    if not patterns:
        return True
    for p in patterns:
        if any(ch in p for ch in "*?["):
            if fnmatch.fnmatchcase(tid, p) or fnmatch.fnmatchcase(tid, "*" + p + "*"):
                return True
        elif p in tid:
            return True
    return False


def module_skips(selected):
    """{module: reason} for the modules of `selected` whose
    suite_skip_reason() says they cannot run here. Discovery imported them."""
    out = {}
    for mod in sorted({t.split(".")[0] for t in selected}):
        fn = getattr(sys.modules.get(mod), "suite_skip_reason", None)
        reason = fn() if callable(fn) else None
        if reason:
            out[mod] = reason
    return out


GRACE_S = 10.0


def run_one(tid, limit):
    """(verdict, seconds, output) for one test in its own process group."""
    t0 = time.monotonic()
    proc = subprocess.Popen([harness.PYTHON, "-m", "unittest", "-v", tid], cwd=HERE,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=limit)
        verdict = "PASS" if proc.returncode == 0 else "FAIL"
        text = out.decode("utf-8", "replace")
        lines = text.strip().splitlines()
        if verdict == "PASS" and lines and "skipped" in lines[-1]:
            verdict = "SKIP"
    except subprocess.TimeoutExpired:
        # The test alone first, so that its cleanups can stop what it
        # started outside its process group; then everything.
        try:
            os.kill(proc.pid, signal.SIGTERM)
            out, _ = proc.communicate(timeout=GRACE_S * harness.SLOW)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, _ = proc.communicate()
        verdict = "TIMEOUT"
        text = out.decode("utf-8", "replace") + "\n(stopped after %.0f s)" % limit
    # The test's own process group: anything it left behind (a kiosk that
    # outlived a crashed harness) goes with it.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return verdict, time.monotonic() - t0, text


def main():
    ap = argparse.ArgumentParser(description="run the kiosk integration tests")
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    help="only tests whose id contains PATTERN (or matches it as a shell pattern); repeatable")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="tests run at once (default 1)")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="wall-clock limit per test in seconds, times KIOSK_TEST_SLOW (default 60)")
    ap.add_argument("--list", action="store_true", help="list the selected tests and exit")
    ap.add_argument("-q", "--quiet", action="store_true", help="no output from failed tests")
    opts = ap.parse_args()

    ids, broken, errors = discover()
    selected = [t for t in ids if matches(t, opts.patterns)] + broken
    skips = module_skips(selected)
    if opts.list:
        for t in selected:
            print(t + ("  (skipped: %s)" % skips[t.split(".")[0]] if t.split(".")[0] in skips else ""))
        return 0
    if not selected:
        print("no test matches %r" % opts.patterns, file=sys.stderr)
        print("0 passed, 0 failed")
        return 1
    binary = harness.kiosk_bin()
    if not os.access(binary, os.X_OK):
        print("kiosk binary %s is missing (set KIOSK_BIN)" % binary, file=sys.stderr)
        print("0 passed, %d failed" % len(selected))
        return 1

    skipped = {mod: [t for t in selected if t.split(".")[0] == mod] for mod in skips}
    selected = [t for t in selected if t.split(".")[0] not in skips]
    limit = opts.timeout * harness.SLOW
    print("kiosk: %s%s; %d tests, limit %.0f s each, %d at once"
          % (os.environ.get("KIOSK_WRAPPER", "") + " " if os.environ.get("KIOSK_WRAPPER") else "",
             binary, len(selected), limit, opts.jobs), flush=True)
    passed, failed = 0, []
    for mod, tids in sorted(skipped.items()):
        print("%-7s %s (%d tests): %s" % ("SKIP", mod, len(tids), skips[mod]), flush=True)
        passed += 1
    lock = threading.Lock()
    t_all = time.monotonic()

    def report(tid, verdict, secs, text):
        nonlocal passed
        with lock:
            print("%-7s %s (%.2f s)" % (verdict, tid, secs), flush=True)
            if verdict in ("PASS", "SKIP"):
                passed += 1
            else:
                failed.append(tid)
                if not opts.quiet:
                    for line in text.rstrip().splitlines():
                        print("    | " + line)
                    sys.stdout.flush()

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        futs = {pool.submit(run_one, t, limit): t for t in selected}
        for f in concurrent.futures.as_completed(futs):
            report(futs[f], *f.result())

    if failed:
        print("\nfailed:")
        for t in sorted(failed):
            print("  " + t)
    print("(%.1f s)" % (time.monotonic() - t_all))
    print("%d passed, %d failed" % (passed, len(failed)))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
