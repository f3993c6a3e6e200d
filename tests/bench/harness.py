"""harness.py - what bench.py and startup.py share: an X server, the kiosk's
configuration and control socket, and looking at processes in /proc."""

import json
import os
import signal
import socket
import subprocess
import time


def start_xvfb(size):
    """Starts Xvfb on a free display number; returns (proc, ':N'). -noreset:
    the server keeps its state when the last client goes, so every start
    meets the same warm server."""
    r, w = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{size}x24", "-nolisten", "tcp", "-noreset"],
        pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        num = f.readline().strip()
    if not num:
        proc.kill()
        raise SystemExit("bench: Xvfb did not start (is the xvfb package installed?)")
    return proc, ":" + num


class Control:
    """The kiosk's control socket (docs/control.md): one JSON line each way.
    `alive` (a Popen) makes the connect give up as soon as it has exited."""

    def __init__(self, path, timeout=10.0, alive=None):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if alive is not None and alive.poll() is not None:
                    raise RuntimeError(f"exited with status {alive.returncode} before its control socket opened")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
        self.f = self.s.makefile("rw", encoding="utf-8")

    pace = 0.0  # seconds between taps, like a person's

    def cmd(self, **kw):
        if kw.get("cmd") in ("tap", "type") and self.pace:
            time.sleep(self.pace)
        self.f.write(json.dumps(kw) + "\n")
        self.f.flush()
        line = self.f.readline()
        if not line:
            raise RuntimeError("kiosk closed the control socket")
        return json.loads(line)

    def wait(self, state, ms=10000):
        r = self.cmd(cmd="wait", state=state, timeout_ms=ms)
        if not r.get("ok"):
            raise RuntimeError(f"waiting for {state}: {r}")
        return r

    def first_frame_ns(self, timeout=10.0):
        """CLOCK_MONOTONIC of the kiosk's first present (its stats reply)."""
        deadline = time.monotonic() + timeout
        st = self.cmd(cmd="stats")
        while st["first_frame_mono_ns"] == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("no first frame")
            time.sleep(0.001)
            st = self.cmd(cmd="stats")
        return int(st["first_frame_mono_ns"])

    def close(self):
        self.f.close()
        self.s.close()


def write_config(d, size, name="kiosk.conf"):
    w, h = size.split("x")
    conf = os.path.join(d, name)
    with open(conf, "w") as f:
        f.write(f"""[terminal]
id = BENCH-0001
[display]
fullscreen = false
width = {w}
height = {h}
[card]
backend = sim
[outbox]
dir = {d}/outbox
[sync]
socket = {d}/sync.sock
status_timeout_ms = 200
[control]
socket = {d}/control.sock
""")
    return conf


def children(pid):
    """Every descendant of pid, depth first."""
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for c in f.read().split():
                    out.append(int(c))
                    out.extend(children(int(c)))
    except OSError:
        pass
    return out


def descendant(pid, program):
    """The pid of `program` (a path or name) among pid's descendants, or pid
    itself; None if it is not (or no longer) there."""
    want = os.path.basename(program)[:15]  # comm is cut at 15 characters
    for p in [pid] + children(pid):
        try:
            with open(f"/proc/{p}/comm") as f:
                if f.read().strip() == want:
                    return p
        except OSError:
            pass
    return None


def kill_tree(proc):
    """SIGKILL to a Popen and everything it started (under cage: cage and
    its client), the deepest first; all ours, by pid."""
    for pid in reversed([proc.pid] + children(proc.pid)):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    proc.wait()


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime
