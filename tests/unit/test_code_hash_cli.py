#!/usr/bin/python3
"""kiosk-code-hash end to end: the value it prints is checked with Python's
hashlib (not our SHA-256), and each refusal is checked for its message, its
exit status, and for never echoing the code.

Usage: test_code_hash_cli.py <path to kiosk-code-hash>
"""
import hashlib
import hmac
import os
import pty
import re
import subprocess
import sys
import time

TOOL = sys.argv[1]
VALUE = re.compile(r"^code_hash = pbkdf2-sha256\$(\d+)\$([0-9a-f]{32})\$([0-9a-f]{64})\n\Z")
failures = []


def run(args, stdin):
    return subprocess.run([TOOL] + args, input=stdin, capture_output=True, timeout=30)


def check(cond, what):
    if not cond:
        failures.append(what)
        print("  FAILED: " + what, file=sys.stderr)


HELP = subprocess.run([TOOL, "--help"], capture_output=True, timeout=30).stdout.decode()
m = re.search(r"\(default (\d+)\)", HELP)
if m is None:
    sys.exit(f"{TOOL} --help names no default iterations: {HELP!r}")
DEFAULT = int(m.group(1))


def good(code, args=(), iterations=DEFAULT):
    p = run(list(args), code.encode() + b"\n")
    out = p.stdout.decode()
    m = VALUE.match(out)
    check(p.returncode == 0, f"{code!r}: exit {p.returncode}, stderr {p.stderr!r}")
    check(m is not None, f"{code!r}: output {out!r}")
    if m is None:
        return
    check(int(m.group(1)) == iterations, f"{code!r}: iterations {m.group(1)}")
    dk = hashlib.pbkdf2_hmac("sha256", code.encode(), bytes.fromhex(m.group(2)), int(m.group(1)))
    check(hmac.compare_digest(dk.hex(), m.group(3)), f"{code!r}: hash does not match hashlib")
    check(code.encode() not in p.stderr, f"{code!r}: code echoed on stderr")
    check(b"ms here for one check" in p.stderr, f"{code!r}: no timing on stderr")


def bad(stdin, want, args=(), status=1):
    p = run(list(args), stdin)
    err = p.stderr.decode(errors="replace")
    check(p.returncode == status, f"{stdin!r} {args}: exit {p.returncode}, want {status}")
    check(p.stdout == b"", f"{stdin!r} {args}: stdout {p.stdout!r}")
    check(want in err, f"{stdin!r} {args}: stderr {err!r} lacks {want!r}")
    digits = re.sub(rb"[^0-9]", b"", stdin)
    if len(digits) >= 4:
        check(digits[:4] not in p.stderr, f"{stdin!r}: input echoed: {err!r}")


good("0815")
good("0123456789012345")
good("20240517", ["--iterations", "1000"], 1000)
good("20240517", ["--iterations=2500"], 2500)
p = run([], b"97531")
check(p.returncode == 0 and VALUE.match(p.stdout.decode()) is not None, "code without newline")

bad(b"", "no code given")
bad(b"\n", "no code given")
bad(b"123\n", "too short")
bad(b"12345678901234567\n", "too long")
bad(b"9" * 100000, "too long")
bad(b"12a4\n", "only the digits")
bad(b"1234 \n", "only the digits")
bad(b" 1234\n", "only the digits")
bad(b"1234\r\n", "only the digits")
bad("１２３４\n".encode(), "only the digits")
bad(b"1234\n5678\n", "more than one line")
bad(b"1234\n\n", "more than one line")
bad(b"1234\n", "--iterations wants", ["--iterations", "999"], 2)
bad(b"1234\n", "--iterations wants", ["--iterations", "10000001"], 2)
# The kiosk refuses a code_hash dearer than 250000 iterations (a check holds
# its screen): the tool makes nothing the kiosk would refuse, and says so.
good("20240517", ["--iterations", "250000"], 250000)
bad(b"1234\n", "--iterations wants a whole number from 1000 to 250000", ["--iterations", "250001"], 2)
bad(b"1234\n", "--iterations wants", ["--iterations", "10000000"], 2)
check(DEFAULT == 150000, f"default iterations {DEFAULT}")
check("1000..250000 (default 150000)" in HELP, f"--help range: {HELP!r}")
bad(b"1234\n", "--iterations wants", ["--iterations", "-5"], 2)
bad(b"1234\n", "--iterations wants", ["--iterations", "12x"], 2)
bad(b"1234\n", "--iterations wants", ["--iterations", ""], 2)
bad(b"1234\n", "Try", ["--frobnicate"], 2)
bad(b"1234\n", "takes no arguments", ["1234"], 2)

p = run(["--help"], b"")
check(p.returncode == 0 and b"--iterations N" in p.stdout and b"[service]" in p.stdout, "--help")

# Endless input that is not a code is refused at once, not read forever.
t0 = time.monotonic()
with open("/dev/zero", "rb") as z:
    p = subprocess.run([TOOL], stdin=z, capture_output=True, timeout=10)
check(p.returncode == 1 and b"only the digits" in p.stderr, f"/dev/zero: {p.returncode} {p.stderr!r}")
check(time.monotonic() - t0 < 5, "/dev/zero took too long")


def on_tty(typed):
    """Runs the tool on a pseudo-terminal; returns (status, everything the
    terminal showed, stdout is the terminal too)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(TOOL, [TOOL, "--iterations", "1000"])
    shown = b""
    for line in typed:
        # Wait for the prompt so echo is already off when we type.
        while not shown.rstrip().endswith(b":"):
            shown += os.read(fd, 1024)
        os.write(fd, line)
        time.sleep(0.1)
        shown += os.read(fd, 4096)
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st), shown


status, shown = on_tty([b"86420\n", b"86420\n"])
check(status == 0, f"tty: exit {status}: {shown!r}")
check(b"86420" not in shown, f"tty: code echoed: {shown!r}")
m = re.search(rb"code_hash = pbkdf2-sha256\$1000\$([0-9a-f]{32})\$([0-9a-f]{64})", shown)
check(m is not None, f"tty: no value in {shown!r}")
if m:
    dk = hashlib.pbkdf2_hmac("sha256", b"86420", bytes.fromhex(m.group(1).decode()), 1000)
    check(dk.hex() == m.group(2).decode(), "tty: hash does not match hashlib")

status, shown = on_tty([b"86420\n", b"86421\n"])
check(status == 1 and b"differ" in shown and b"8642" not in shown, f"tty mismatch: {status} {shown!r}")

if failures:
    print(f"{len(failures)} failed", file=sys.stderr)
    sys.exit(1)
print("kiosk-code-hash: all checks passed")
