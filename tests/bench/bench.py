#!/usr/bin/python3
"""bench.py - the kiosk's speed and memory figures, measured, not asserted.

Runs the real kiosk under Xvfb (a real X server) with SDL's software
renderer, as on a terminal without a GPU, drives it through the control
socket and reports:

  exec to first presented frame   (median and worst of --starts runs)
  peak RSS over a scripted journey set
  frame time p50 / p99            (build + draw + present, inside the kiosk)
  tap-to-present p99              (control request received -> the frame that
                                   shows the tap presented, inside the kiosk)

Taps come --pace-ms apart (150 by default: a quick person). The kiosk
prepares likely next screens in the idle time between taps, as it would
between a real person's taps; --pace-ms 0 shows robot speed.
  taps during a 2 s card reply    (request to reply, while VERIFY is slow)
  idle CPU over --idle-seconds    (utime+stime from /proc, in IDLE)

Each figure is printed beside its target. The exit status is 0 even when a
target is missed: this is a measurement, not a test (a timed test would
flake on a busy machine); the README keeps the figures.

Usage: bench.py --kiosk build/kiosk [--starts 10] [--journeys 10] [--idle-seconds 30]
       [--size 1920x1080] [--json out.json]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TARGETS = {
    "first_frame_ms": 50.0,
    "peak_rss_mb": 30.0,
    "frame_ms_p99": 8.0,
    "tap_ms_p99": 16.0,
    "idle_cpu_pct": 0.5,
}


def start_xvfb(size):
    """Starts Xvfb on a free display number; returns (proc, ':N')."""
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
    def __init__(self, path, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
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

    def close(self):
        self.f.close()
        self.s.close()


def write_config(d, size):
    w, h = size.split("x")
    conf = os.path.join(d, "kiosk.conf")
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


def start_kiosk(kiosk, conf, d, env):
    log = open(os.path.join(d, "kiosk.log"), "ab")
    t0 = time.monotonic_ns()
    proc = subprocess.Popen([kiosk, "--config", conf, "--windowed"], env=env,
                            stdout=log, stderr=log)
    return proc, t0


def stop(proc, ctl):
    try:
        ctl.cmd(cmd="quit")
    except Exception:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def journey(ctl, n, new_pin):
    """One PIN change on card n; returns the PIN the card now has."""
    card = f"A{n:08d}"
    ctl.cmd(cmd="card", action="insert", card_number=card, pin="123456", tries=6)
    ctl.wait("ENTER_OLD_PIN")
    ctl.cmd(cmd="type", digits="123456")
    ctl.cmd(cmd="tap", id="key.ok")
    ctl.wait("ENTER_NEW_PIN")
    ctl.cmd(cmd="tap", id="btn.lang")
    ctl.cmd(cmd="type", digits=new_pin)
    ctl.cmd(cmd="tap", id="key.back")
    ctl.cmd(cmd="type", digits=new_pin[-1])
    ctl.cmd(cmd="tap", id="key.ok")
    ctl.wait("CONFIRM_NEW_PIN")
    ctl.cmd(cmd="type", digits=new_pin)
    ctl.cmd(cmd="tap", id="key.ok")
    ctl.wait("SUCCESS")
    ctl.cmd(cmd="tap", id="btn.lang")
    ctl.cmd(cmd="card", action="remove")
    ctl.wait("IDLE")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiosk", default="build/kiosk")
    ap.add_argument("--starts", type=int, default=10)
    ap.add_argument("--journeys", type=int, default=10)
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--pace-ms", type=float, default=150.0,
                    help="pause before each tap or typed PIN, as a quick person would (0: robot speed)")
    ap.add_argument("--json")
    ap.add_argument("--log", help="keep the kiosk's log (run with KIOSK_DEBUG=1 for slow-frame lines)")
    a = ap.parse_args()

    if not shutil.which("Xvfb"):
        raise SystemExit("bench: needs Xvfb (apt-get install xvfb)")
    xvfb, display = start_xvfb(a.size)
    d = tempfile.mkdtemp(prefix="kiosk-bench-")
    env = dict(os.environ, DISPLAY=display, SDL_AUDIODRIVER="dummy")
    env.pop("SDL_VIDEODRIVER", None)
    env.pop("WAYLAND_DISPLAY", None)
    conf = write_config(d, a.size)
    res = {}
    try:
        # 1. exec to first presented frame, over several cold-ish starts.
        firsts = []
        for _ in range(a.starts):
            proc, t0 = start_kiosk(a.kiosk, conf, d, env)
            ctl = Control(os.path.join(d, "control.sock"))
            st = ctl.cmd(cmd="stats")
            while st["first_frame_mono_ns"] == 0:
                time.sleep(0.001)
                st = ctl.cmd(cmd="stats")
            firsts.append((st["first_frame_mono_ns"] - t0) / 1e6)
            stop(proc, ctl)
            ctl.close()
        res["first_frame_ms"] = statistics.median(firsts)
        res["first_frame_ms_worst"] = max(firsts)

        # 2-4. one process through a scripted set of journeys.
        proc, _ = start_kiosk(a.kiosk, conf, d, env)
        ctl = Control(os.path.join(d, "control.sock"))
        ctl.pace = a.pace_ms / 1000.0
        ctl.wait("IDLE")
        pins = ["582039", "691047", "730582", "804916", "915273"]
        for i in range(a.journeys):
            journey(ctl, i + 1, pins[i % len(pins)])
        st = ctl.cmd(cmd="stats")
        with open(f"/proc/{proc.pid}/status") as f:
            hwm = [l for l in f if l.startswith("VmHWM")][0].split()[1]
        res["peak_rss_mb"] = int(hwm) / 1024.0
        res["frame_ms_p50"] = st["frame_ms_p50"]
        res["frame_ms_p99"] = st["frame_ms_p99"]
        res["frames"] = st["frame_samples"]
        res["tap_ms_p99"] = st["tap_ms_p99"]
        res["taps"] = st["tap_samples"]

        # 5. a slow card: while a VERIFY takes 2 s, the UI must keep answering.
        # Taps on the language button are timed from request to reply (the
        # reply comes once the tap has been handled).
        ctl.pace = 0.0
        ctl.cmd(cmd="card", action="insert", card_number="S00000001", pin="123456", tries=6,
                delay_ms=2000, delay_on="verify")
        ctl.wait("ENTER_OLD_PIN")
        ctl.cmd(cmd="type", digits="123456")
        ctl.cmd(cmd="tap", id="key.ok")
        ctl.wait("VERIFYING")
        slow = []
        f0 = ctl.cmd(cmd="state")["frames"]
        while ctl.cmd(cmd="state")["state"] == "VERIFYING" and len(slow) < 40:
            t0 = time.monotonic()
            ctl.cmd(cmd="tap", id="btn.lang")
            slow.append((time.monotonic() - t0) * 1000.0)
            time.sleep(0.04)
        f1 = ctl.cmd(cmd="state")["frames"]
        recent = ctl.cmd(cmd="stats")["frame_ms_recent"]
        window = recent[-min(len(recent), max(f1 - f0, 1)):]
        res["slow_card_frame_ms_max"] = max(window) if window else 0.0
        res["slow_card_taps"] = len(slow)
        res["slow_card_tap_ms_max"] = max(slow) if slow else 0.0
        res["slow_card_frames"] = f1 - f0
        ctl.cmd(cmd="card", action="remove")
        ctl.wait("IDLE")
        ctl.pace = a.pace_ms / 1000.0

        # 6. idle CPU: nothing happens; the kiosk should sleep in the kernel.
        ctl.wait("IDLE")
        hz = os.sysconf("SC_CLK_TCK")
        c0, t0 = cpu_ticks(proc.pid), time.monotonic()
        time.sleep(a.idle_seconds)
        c1, t1 = cpu_ticks(proc.pid), time.monotonic()
        res["idle_cpu_pct"] = 100.0 * (c1 - c0) / hz / (t1 - t0)
        stop(proc, ctl)
        ctl.close()
    finally:
        xvfb.send_signal(signal.SIGTERM)
        xvfb.wait()
        if a.log:
            shutil.copy(os.path.join(d, "kiosk.log"), a.log)
        shutil.rmtree(d, ignore_errors=True)

    rows = [
        ("exec to first frame (median)", "first_frame_ms", "ms"),
        ("peak RSS over the journeys", "peak_rss_mb", "MB"),
        ("frame time p99", "frame_ms_p99", "ms"),
        ("tap-to-present p99", "tap_ms_p99", "ms"),
        ("idle CPU", "idle_cpu_pct", "% of a core"),
    ]
    print(f"kiosk benchmark, {a.size} under Xvfb, software renderer, {os.cpu_count()} cores, "
          f"{a.journeys} journeys, {a.pace_ms:g} ms between taps")
    for label, key, unit in rows:
        v, t = res[key], TARGETS[key]
        print(f"  {label:32s} {v:8.2f} {unit:12s} target <= {t:g}  {'ok' if v <= t else 'MISSED'}")
    print(f"  {'first frame, worst of ' + str(a.starts):32s} {res['first_frame_ms_worst']:8.2f} ms")
    print(f"  {'frame time p50':32s} {res['frame_ms_p50']:8.2f} ms   ({res['frames']} frames)")
    print(f"  {'taps measured':32s} {res['taps']:8d}")
    print(f"  {'during a 2 s card reply':32s} {res['slow_card_taps']:8d} taps answered, slowest "
          f"{res['slow_card_tap_ms_max']:.2f} ms, {res['slow_card_frames']} frames presented, "
          f"slowest frame {res['slow_card_frame_ms_max']:.2f} ms")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
