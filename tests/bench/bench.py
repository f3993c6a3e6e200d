#!/usr/bin/python3
"""bench.py - the kiosk's speed and memory figures, measured, not asserted.

Runs the real kiosk with SDL's software renderer, as on a terminal without
a GPU, beside bench-minimal (tests/bench/minimal.c: SDL2 + SDL2_ttf doing
what the kiosk's first frame needs and nothing else, the floor), and
reports (tests/bench/README.md says how each is measured):

  start-up, at each --sizes, under Xvfb (a real X server) and, where cage
  is installed, under cage's headless backend (the terminal's compositor):
    exec to first presented frame, kiosk and minimal turn about, --starts
    each; median [min..max], the ratio, and the kiosk no slower than the
    floor as the target
  at --size (1920x1080), under Xvfb, one kiosk driven through the control
  socket:
    peak RSS over --journeys scripted journeys (VmHWM), beside the floor's
    frame time p50 / p99        (build + draw + present, inside the kiosk)
    tap-to-present p99          (control request received -> the frame that
                                 shows the tap presented, inside the kiosk)
    taps during a 2 s card reply (request to reply, while VERIFY is slow)
    idle CPU over --idle-seconds (utime+stime from /proc, in IDLE)
  memory by category from /proc/PID/smaps (memtable.py): the kiosk after
  the journeys and at its first screen, the minimal program at its first.

Taps come --pace-ms apart (150 by default: a quick person). The kiosk
prepares likely next screens in the idle time between taps, as it would
between a real person's taps; --pace-ms 0 shows robot speed.

Each figure is printed beside its target. The exit status is 0 even when a
target is missed: this is a measurement, not a test (a timed test would
flake on a busy machine); it is 1 when a program crashed or did not start.

Usage: bench.py --kiosk build/kiosk [--starts 15] [--journeys 10] [--idle-seconds 30]
       [--sizes 1920x1080,1024x768] [--size 1920x1080] [--no-cage] [--json out.json]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import memtable  # noqa: E402
import startup  # noqa: E402
from harness import Control, cpu_ticks, start_xvfb, write_config  # noqa: E402

TARGETS = {
    "peak_rss_mb": 22.0,
    "frame_ms_p99": 8.0,
    "tap_ms_p99": 16.0,
    "idle_cpu_pct": 0.5,
}

HOLD_S = 0.5  # how long a program shows its first screen before its memory is read


def hold_memory(pid):
    """The memory of a program that has shown its first screen HOLD_S ago
    (the kiosk prepares screens in that time; the floor does nothing)."""
    time.sleep(HOLD_S)
    return memtable.memory(pid)


def start_kiosk(kiosk, conf, d, env):
    log = open(os.path.join(d, "kiosk.log"), "ab")
    proc = subprocess.Popen([kiosk, "--config", conf, "--windowed"], env=env, stdout=log, stderr=log)
    log.close()
    return proc


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
    if proc.returncode != 0:
        raise RuntimeError(f"the kiosk exited with status {proc.returncode}")


def journey(ctl, n, new_pin):
    """One PIN change on card n; returns the PIN the card now has."""
    card = f"A{n:08d}"
    # A person sees the idle screen before putting a card in: a tap's
    # interval, as between taps. (Put in the instant IDLE was reported, the
    # kiosk had not a millisecond to prepare the next screens, and the first
    # PIN screen's frame made five texts in every journey: a robot's pace.)
    time.sleep(ctl.pace)
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


def journeys_section(a, conf, d, env, res):
    """One kiosk through the journeys, a slow card, then idle."""
    proc = start_kiosk(a.kiosk, conf, d, env)
    try:
        ctl = Control(os.path.join(d, "control.sock"), alive=proc)
        drive(a, proc, ctl, res)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def drive(a, proc, ctl, res):
    ctl.pace = a.pace_ms / 1000.0
    ctl.wait("IDLE")
    pins = ["582039", "691047", "730582", "804916", "915273"]
    for i in range(a.journeys):
        journey(ctl, i + 1, pins[i % len(pins)])
    st = ctl.cmd(cmd="stats")
    res["mem_kiosk_journeys"] = memtable.memory(proc.pid)
    res["peak_rss_mb"] = res["mem_kiosk_journeys"]["vmhwm"] / 1024.0
    res["frame_ms_p50"] = st["frame_ms_p50"]
    res["frame_ms_p99"] = st["frame_ms_p99"]
    res["frames"] = st["frame_samples"]
    res["tap_ms_p99"] = st["tap_ms_p99"]
    res["taps"] = st["tap_samples"]

    # A slow card: while a VERIFY takes 2 s, the UI must keep answering.
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

    # Idle CPU: nothing happens; the kiosk should sleep in the kernel.
    hz = os.sysconf("SC_CLK_TCK")
    c0, t0 = cpu_ticks(proc.pid), time.monotonic()
    time.sleep(a.idle_seconds)
    c1, t1 = cpu_ticks(proc.pid), time.monotonic()
    res["idle_cpu_pct"] = 100.0 * (c1 - c0) / hz / (t1 - t0)
    stop(proc, ctl)
    ctl.close()


def verdict(v, target):
    return "ok" if v <= target else "MISSED"


def print_startup(rows, starts):
    """rows: [(setting, summary)] of one size."""
    print(f"  start-up: exec to first presented frame, ms, median [min..max] of {starts} starts each, "
          f"turn about")
    print(f"    {'':26s}{'kiosk':>21s}{'minimal':>21s}   kiosk/minimal, pairs the kiosk was no slower")
    for setting, s in rows:
        k, m = s["kiosk"], s["minimal"]
        cells = [f"{x['median']:6.1f} [{x['min']:5.1f}..{x['max']:5.1f}]" for x in (k, m)]
        print(f"    {setting:26s}{cells[0]:>21s}{cells[1]:>21s}   {s['ratio']:4.2f}, {s['pairs_kiosk_no_slower']:2d}/"
              f"{k['n']:<2d}  target <= 1  {'ok' if s['ok'] else 'MISSED'}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiosk", default="build/kiosk")
    ap.add_argument("--minimal", help="bench-minimal (default: tests/bench/bench-minimal beside the kiosk's build)")
    ap.add_argument("--starts", type=int, default=15, help="starts of each program, at each size and setting")
    ap.add_argument("--sizes", default="1920x1080,1024x768", help="window sizes of the start-up figures")
    ap.add_argument("--size", default="1920x1080", help="window size of the journeys and the memory table")
    ap.add_argument("--journeys", type=int, default=10)
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    ap.add_argument("--pace-ms", type=float, default=150.0,
                    help="pause before each tap or typed PIN, as a quick person would (0: robot speed)")
    ap.add_argument("--no-cage", action="store_true", help="skip the figures under cage")
    ap.add_argument("--json")
    ap.add_argument("--log", help="keep the kiosk's log (run with KIOSK_DEBUG=1 for slow-frame lines)")
    a = ap.parse_args()
    a.kiosk = os.path.abspath(a.kiosk)
    a.minimal = os.path.abspath(a.minimal or os.path.join(os.path.dirname(a.kiosk), "tests", "bench", "bench-minimal"))
    sizes = [s for s in a.sizes.split(",") if s]

    if not shutil.which("Xvfb"):
        raise SystemExit("bench: needs Xvfb (apt-get install xvfb)")
    if not os.access(a.minimal, os.X_OK):
        raise SystemExit(f"bench: no {a.minimal} (ninja -C build builds it)")
    d = tempfile.mkdtemp(prefix="kiosk-bench-")
    # The runs under cage get a directory of their own, made over to the
    # user cage runs as (startup.cage_setup).
    cage_dir = tempfile.mkdtemp(prefix="kiosk-bench-cage-")
    os.chmod(cage_dir, 0o755)
    res = {"startup": {}, "sizes": sizes}
    try:
        run(a, sizes, d, cage_dir, res)
    except Exception as e:
        # The logs stay for a look: start.log (the start-up runs), kiosk.log
        # (the journeys); under cage, start.log and runner.log.
        print(f"bench: {e}; logs kept in {d} and {cage_dir}", file=sys.stderr)
        sys.exit(1)
    if a.log and os.path.exists(os.path.join(d, "kiosk.log")):
        shutil.copy(os.path.join(d, "kiosk.log"), a.log)
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(cage_dir, ignore_errors=True)
    report(a, sizes, res)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


def run(a, sizes, d, cage_dir, res):
    # Under Xvfb: each size its own server; at --size also the memory of
    # both first screens and the journeys.
    for size in dict.fromkeys(sizes + [a.size]):
        xvfb, display = start_xvfb(size)
        env = dict(os.environ, DISPLAY=display, SDL_AUDIODRIVER="dummy")
        env.pop("SDL_VIDEODRIVER", None)
        env.pop("WAYLAND_DISPLAY", None)
        try:
            conf = write_config(d, size, f"kiosk-{size}.conf")
            t = startup.Target(a.kiosk, a.minimal, conf, d, env, size)
            if size in sizes:
                res["startup"][f"xvfb {size}"] = startup.interleaved(t, a.starts)
            if size == a.size:
                res["mem_kiosk_first"] = startup.start_kiosk(t, hold_memory)[1]
                res["mem_minimal_first"] = startup.start_minimal(t, hold_memory)[1]
                journeys_section(a, conf, d, env, res)
        finally:
            xvfb.send_signal(signal.SIGTERM)
            xvfb.wait()

    # Under cage, headless, as kiosk.service runs it.
    setup = None if a.no_cage else startup.cage_setup(dict(os.environ, SDL_AUDIODRIVER="dummy"), cage_dir,
                                                       a.kiosk, a.minimal)
    res["cage"] = "skipped (--no-cage)" if a.no_cage else "skipped, cage or Xwayland is not installed" if setup is None \
        else setup[2]
    if setup is None:
        return
    env, popen_kw, _, kiosk, minimal = setup
    for size in sizes:
        conf = write_config(cage_dir, size, f"kiosk-{size}.conf")
        os.chmod(conf, 0o644)
        t = startup.Target(kiosk, minimal, conf, cage_dir, env, size, ["cage", "--"], popen_kw)
        res["startup"][f"cage-cold {size}"] = startup.interleaved(t, a.starts)
        res["startup"][f"cage-warm {size}"] = startup.warm_in_cage(t, a.starts)
        if size == a.size:
            res["mem_kiosk_first_cage"] = startup.start_kiosk(t, hold_memory)[1]
            res["mem_minimal_first_cage"] = startup.start_minimal(t, hold_memory)[1]


def report(a, sizes, res):
    print(f"kiosk benchmark: {os.cpu_count()} cores, SDL's software renderer, windowed; "
          f"minimal: bench-minimal, the floor (tests/bench/minimal.c)")
    print("start-ups: one of each, not counted, first; 'exec of cage': cage -- PROGRAM, cage's own start "
          "included; 'cage running': PROGRAM started inside one cage")
    settings = [("xvfb", "Xvfb"),
                ("cage-cold", "cage, exec of cage"),
                ("cage-warm", "cage, cage running")]
    for size in sizes:
        print(f"\n{size}")
        summ = {key: startup.summary(res["startup"][f"{key} {size}"])
                for key, _ in settings if f"{key} {size}" in res["startup"]}
        res.setdefault("startup_summary", {})[size] = summ
        rows = [(label, summ[key]) for key, label in settings if key in summ]
        print_startup(rows, a.starts)
        if f"cage-cold {size}" in res["startup"]:
            got = res["startup"][f"cage-cold {size}"]["size"]
            print(f"    cage: headless output {startup.CAGE_OUTPUT} (wlroots 0.15 fixes it), window {got}"
                  + (f"; {res['cage']}" if res["cage"] else ""))
        if size == a.size:
            print_journeys(a, res)
    if a.size not in sizes:
        print(f"\n{a.size}")
        print_journeys(a, res)
    if not any(k.startswith("cage") for k in res["startup"]):
        print(f"\ncage figures: {res['cage']}")
    print_memory(a, res)


def print_journeys(a, res):
    print(f"  {a.journeys} journeys under Xvfb, {a.pace_ms:g} ms between taps")
    floor = res["mem_minimal_first"]["vmhwm"] / 1024.0
    rows = [
        ("peak RSS over the journeys", "peak_rss_mb", "MB", f"   (minimal: {floor:.2f} MB)"),
        ("frame time p99", "frame_ms_p99", "ms", ""),
        ("tap-to-present p99", "tap_ms_p99", "ms", ""),
        ("idle CPU", "idle_cpu_pct", "% of a core", f"   (over {a.idle_seconds:g} s)"),
    ]
    for label, key, unit, note in rows:
        v, t = res[key], TARGETS[key]
        print(f"    {label:32s} {v:8.2f} {unit:12s} target <= {t:<4g} {verdict(v, t):6s}{note}".rstrip())
    print(f"    {'frame time p50':32s} {res['frame_ms_p50']:8.2f} ms   ({res['frames']} frames)")
    print(f"    {'taps measured':32s} {res['taps']:8d}")
    print(f"    {'during a 2 s card reply':32s} {res['slow_card_taps']:8d} taps answered, slowest "
          f"{res['slow_card_tap_ms_max']:.2f} ms, {res['slow_card_frames']} frames presented, "
          f"slowest frame {res['slow_card_frame_ms_max']:.2f} ms")


def print_memory(a, res):
    cols = [(("kiosk after", f"{a.journeys} journeys", "Xvfb"), res.get("mem_kiosk_journeys")),
            (("kiosk", "1st screen", "Xvfb"), res.get("mem_kiosk_first")),
            (("minimal", "1st screen", "Xvfb"), res.get("mem_minimal_first"))]
    if "mem_kiosk_first_cage" in res:
        cols += [(("kiosk", "1st screen", "cage"), res["mem_kiosk_first_cage"]),
                 (("minimal", "1st screen", "cage"), res["mem_minimal_first_cage"])]
    print(f"\nmemory at {a.size}, MB of Rss by category from /proc/PID/smaps (rules: tests/bench/memtable.py); "
          f"1st screen: {HOLD_S:g} s after the first frame")
    for line in memtable.format_table(cols):
        print(line)
    # Where the kiosk's libraries differ from the floor's, the largest first.
    first, floor = res.get("mem_kiosk_first"), res.get("mem_minimal_first")
    if first and floor:
        diff = memtable.library_difference(first, floor)
        print("  libraries, kiosk 1st screen minus minimal (Xvfb), MB: "
              + ", ".join(f"{name} {kb / 1024.0:+.2f}" for name, kb in diff))


if __name__ == "__main__":
    main()
