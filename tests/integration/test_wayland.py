"""test_wayland.py - the kiosk under cage, as kiosk.service runs it: SDL's
Wayland driver on wlroots' headless backend, full screen.

Under Wayland SDL 2.26 has no window framebuffer: the frame goes through a
GL texture, GLES 2 as the kiosk chooses it (display.c), or SDL's default GL
when that cannot start, video started again (KIOSK_FRAME_GL names another
first choice; here one SDL lacks, to take the fallback). stats.display says
which took and whether the pointer shows.

cage and its environment as kiosk.service's: tests/cagerun.py (as root,
cage runs as `nobody`). Skipped where cage or Xwayland is missing (make
test installs both).

Environment: KIOSK_BIN (as harness.py).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from harness import TERMINAL_ID, kiosk_bin, slow

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import cagerun  # noqa: E402


class Cage:
    """cage -- kiosk, full screen, as nobody when we are root."""

    def __init__(self, test, env_extra=None):
        self.dir = tempfile.mkdtemp(prefix="kiosk-it-wl-", dir="/tmp")
        test.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o755)
        env, kw, _, (kiosk,) = cagerun.setup(dict(os.environ, SDL_AUDIODRIVER="dummy", KIOSK_DEBUG="1"),
                                             self.dir, [kiosk_bin()])
        env.update(env_extra or {})
        self.ctl_path = os.path.join(self.dir, "ctl.sock")
        conf = os.path.join(self.dir, "kiosk.conf")
        with open(conf, "w") as f:
            f.write("[terminal]\nid = %s\n[display]\nfullscreen = true\n[card]\nbackend = sim\n"
                    "[outbox]\ndir = %s/outbox\n[sync]\nsocket = %s/sync.sock\nstatus_timeout_ms = 200\n"
                    "[control]\nsocket = %s\n" % (TERMINAL_ID, self.dir, self.dir, self.ctl_path))
        os.chmod(conf, 0o644)
        self.log_path = os.path.join(self.dir, "cage.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(["cage", "--", kiosk, "--config", conf], env=env,
                                         stdout=log, stderr=log, start_new_session=True, **kw)
        test.addCleanup(self.stop)
        self.sock = None

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def cmd(self, **kw):
        if self.sock is None:
            deadline = time.monotonic() + slow(15)
            while True:
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(self.ctl_path)
                    break
                except OSError:
                    s.close()
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError("no control socket; cage's log:\n" + self.log())
                    time.sleep(0.02)
            s.settimeout(slow(15))
            self.sock, self.f = s, s.makefile("rw", encoding="utf-8")
        self.f.write(json.dumps(kw) + "\n")
        self.f.flush()
        line = self.f.readline()
        if not line:
            raise AssertionError("the kiosk closed its control socket; cage's log:\n" + self.log())
        return json.loads(line)

    def stop(self):
        if self.sock is not None:
            try:
                self.cmd(cmd="quit")
            except (OSError, AssertionError, ValueError):
                pass
            self.sock.close()
            self.sock = None
        try:
            self.proc.wait(timeout=slow(10))
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # cage and the kiosk, by the group cage leads
            self.proc.wait()


@unittest.skipUnless(cagerun.available(), "cage or Xwayland is not installed")
class TestWayland(unittest.TestCase):

    def started(self, c):
        self.assertTrue(c.cmd(cmd="wait", state="IDLE", timeout_ms=int(slow(15) * 1000)).get("ok"), c.log())
        deadline = time.monotonic() + slow(10)
        st = c.cmd(cmd="stats")
        while st["first_frame_mono_ns"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
            st = c.cmd(cmd="stats")
        self.assertGreater(st["first_frame_mono_ns"], 0, "no frame presented")
        return st

    def test_the_frame_goes_through_gles2_and_the_pointer_is_hidden(self):
        c = Cage(self)
        d = self.started(c)["display"]
        self.assertEqual(d, {"driver": "wayland", "frame": "opengles2", "cursor": False}, c.log())
        self.assertNotIn("SDL's default instead", c.log())

    def test_a_gl_that_cannot_start_falls_back_to_sdl_s_default(self):
        c = Cage(self, {"KIOSK_FRAME_GL": "nosuchgl"})
        d = self.started(c)["display"]
        # Video was started again: the window, the pointer hidden, keys as
        # keys (a tap goes through), all as on the first try.
        self.assertEqual(d, {"driver": "wayland", "frame": "1", "cursor": False}, c.log())
        self.assertIn("with nosuchgl for the window's frame; SDL's default instead", c.log())
        c.cmd(cmd="tap", id="btn.lang")
        self.assertEqual(c.cmd(cmd="state")["lang"], "en")


if __name__ == "__main__":
    unittest.main()
