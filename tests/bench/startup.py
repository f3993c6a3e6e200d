#!/usr/bin/python3
"""startup.py - exec to first presented frame, the kiosk beside the floor
(bench-minimal, tests/bench/minimal.c), turn about (issue 14).

A start is timed from time.monotonic_ns() just before Popen (CLOCK_MONOTONIC,
the clock both programs stamp their first present with) to the moment
SDL_RenderPresent of the first frame returned: the kiosk's stats reply
(first_frame_mono_ns), the minimal program's one stdout line. Each program
is stopped before the next starts: the kiosk through its control socket,
the minimal program with SIGTERM.

Starts go kiosk, minimal, kiosk, minimal, ... so that whatever else the
machine does at the time falls on both alike; one start of each, not
counted, comes first (the first start of a run pays for reading the
libraries from disk, and it would fall on the kiosk every time).

bench.py calls interleaved() for each size under Xvfb and, where cage is
installed, under cage's headless backend, in two ways:

  cold  each start is `cage -- PROGRAM`: from the exec of cage to the
        program's first frame, cage's own start included; what a
        terminal's boot waits for.
  warm  one cage, whose client is this file run as a program (--runner):
        it makes the same interleaved starts inside the running
        compositor and prints them as one JSON line; from the program's
        exec, like the Xvfb figures (whose server is up already).
"""

import json
import os
import select
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# tests/cagerun.py, or its copy beside this file's (cage_setup).
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import cagerun  # noqa: E402
from harness import Control, descendant, kill_tree  # noqa: E402

KIOSK, MINIMAL = "kiosk", "minimal"


class Target:
    """How to start both programs in one setting. prefix: words before the
    program (["cage", "--"]); popen_kw: user/group to run them as (cage
    refuses to run as root); reaped_by_cage: the exit status we see is
    cage's, which is 0 whatever its client did."""

    def __init__(self, kiosk, minimal, conf, d, env, size, prefix=(), popen_kw=None, log="start.log"):
        self.kiosk, self.minimal, self.conf, self.d, self.log = kiosk, minimal, conf, d, log
        self.env, self.size, self.prefix = env, size, list(prefix)
        self.popen_kw = popen_kw or {}
        self.reaped_by_cage = bool(prefix)


def _log(t):
    return open(os.path.join(t.d, t.log), "ab")


def _finish(t, proc, name, started):
    """Waits for proc; a program that does not go within 10 s is killed and
    counts as a crash, as does a nonzero status we can see."""
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        raise RuntimeError(f"{name} did not exit within 10 s of being told to")
    if started and rc != 0 and not t.reaped_by_cage:
        raise RuntimeError(f"{name} exited with status {rc} (log: {os.path.join(t.d, t.log)})")


def start_kiosk(t, hold=None):
    """One start of the kiosk: (ms to first frame, hold(pid) or None)."""
    with _log(t) as log:
        t0 = time.monotonic_ns()
        proc = subprocess.Popen(t.prefix + [t.kiosk, "--config", t.conf, "--windowed"], env=t.env,
                                stdout=log, stderr=log, **t.popen_kw)
    ctl, started = None, False
    try:
        ctl = Control(os.path.join(t.d, "control.sock"), alive=proc)
        ms = (ctl.first_frame_ns() - t0) / 1e6
        held = hold(descendant(proc.pid, t.kiosk)) if hold else None
        started = True
        return ms, held
    except Exception as e:
        raise RuntimeError(f"kiosk: {e} (log: {os.path.join(t.d, t.log)})") from e
    finally:
        if ctl is not None:
            try:
                ctl.cmd(cmd="quit")
            except Exception:
                pass
            ctl.close()
        else:
            kill_tree(proc)
        _finish(t, proc, "kiosk", started)


def start_minimal(t, hold=None):
    """One start of bench-minimal: (ms to first frame, hold(pid) or None,
    'WxH' its renderer got)."""
    with _log(t) as log:
        t0 = time.monotonic_ns()
        proc = subprocess.Popen(t.prefix + [t.minimal, "--size", t.size], env=t.env,
                                stdout=subprocess.PIPE, stderr=log, text=True, **t.popen_kw)
    started = False
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 20.0)
        line = proc.stdout.readline() if ready else ""
        words = line.split()
        if len(words) != 4 or words[0] != "first_frame_mono_ns":
            raise RuntimeError(f"bench-minimal: no first frame (said {line!r}; log: "
                               f"{os.path.join(t.d, t.log)})")
        ms = (int(words[1]) - t0) / 1e6
        held = hold(descendant(proc.pid, t.minimal)) if hold else None
        started = True
        return ms, held, words[3]
    finally:
        pid = descendant(proc.pid, t.minimal)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)  # SDL makes it SDL_QUIT; under cage, cage then ends too
        elif proc.poll() is None:
            kill_tree(proc)
        proc.stdout.close()
        _finish(t, proc, "bench-minimal", started)


def interleaved(t, starts):
    """starts of each, turn about, after one of each not counted:
    {'kiosk': [ms...], 'minimal': [ms...], 'size': 'WxH' the minimal got}."""
    start_kiosk(t)
    start_minimal(t)
    res = {KIOSK: [], MINIMAL: [], "size": None}
    for _ in range(starts):
        res[KIOSK].append(start_kiosk(t)[0])
        ms, _, size = start_minimal(t)
        res[MINIMAL].append(ms)
        res["size"] = size
    return res


def summary(res):
    """Median, min, max of each; the ratio of the medians; and in how many
    of the (kiosk, minimal) pairs, made one after the other, the kiosk was
    no slower: a count the noise of a busy machine moves less."""
    k, m = res[KIOSK], res[MINIMAL]
    out = {}
    for name, v in ((KIOSK, k), (MINIMAL, m)):
        out[name] = {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}
    out["ratio"] = out[KIOSK]["median"] / out[MINIMAL]["median"]
    out["pairs_kiosk_no_slower"] = sum(1 for a, b in zip(k, m) if a <= b)
    out["ok"] = out[KIOSK]["median"] <= out[MINIMAL]["median"]
    return out


# The interpreter of the runner inside cage: the project's own (bench.py's
# may live in a home the user cage runs as cannot read).
RUNNER_PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

# wlroots 0.15 makes each headless output 1280x720 (backend.c,
# attempt_headless_backend); WLR_HEADLESS_OUTPUTS only sets how many, and
# cage 0.1.4 has no option for a mode.
CAGE_OUTPUT = "1280x720"


# The runner inside cage: this file, or its copy where the user cage runs
# as can read it (cage_setup).
RUNNER_SCRIPT = os.path.abspath(__file__)


def cage_setup(base_env, d, kiosk, minimal):
    """(env, popen_kw, note, kiosk, minimal) to run both programs as
    kiosk.service runs the kiosk (cagerun.setup, which copies them, and
    this runner, where the user cage runs as cannot reach them); None when
    cage or Xwayland is not installed."""
    global RUNNER_SCRIPT
    here = os.path.dirname(os.path.abspath(__file__))
    runner_files = [RUNNER_SCRIPT, os.path.join(here, "harness.py"), cagerun.__file__]
    s = cagerun.setup(base_env, d, [kiosk, minimal] + runner_files)
    if s is None:
        return None
    env, popen_kw, note, (kiosk, minimal, RUNNER_SCRIPT, _, _) = s
    return env, popen_kw, note, kiosk, minimal


def warm_in_cage(t, starts):
    """The interleaved starts made inside one running cage by the runner
    below; t is the cold Target (its prefix is cage's)."""
    spec = os.path.join(t.d, f"runner-{t.size}.json")
    with open(spec, "w") as f:
        json.dump({"kiosk": t.kiosk, "minimal": t.minimal, "conf": t.conf, "d": t.d,
                   "size": t.size, "starts": starts}, f)
    with _log(t) as log:
        proc = subprocess.Popen(t.prefix + [RUNNER_PYTHON, RUNNER_SCRIPT, "--runner", spec],
                                env=t.env, stdout=subprocess.PIPE, stderr=log, text=True, **t.popen_kw)
    try:
        out, _ = proc.communicate(timeout=60 + 20 * starts)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        raise RuntimeError("the runner inside cage did not finish")
    lines = [l for l in out.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"the runner inside cage said nothing (log: {os.path.join(t.d, t.log)})")
    res = json.loads(lines[-1])
    if "error" in res:
        raise RuntimeError("inside cage: " + res["error"])
    return res


def runner(spec_path):
    """Inside cage: the warm figures, as one JSON line on stdout."""
    with open(spec_path) as f:
        s = json.load(f)
    # A log of its own: the cold runs' log is bench.py's (root's) file.
    t = Target(s["kiosk"], s["minimal"], s["conf"], s["d"], dict(os.environ), s["size"], log="runner.log")
    try:
        res = interleaved(t, s["starts"])
    except Exception as e:  # reported by bench.py, which cannot see our status through cage
        res = {"error": str(e)}
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--runner":
        raise SystemExit("usage: startup.py --runner SPEC.json (bench.py starts it inside cage)")
    runner(sys.argv[2])
