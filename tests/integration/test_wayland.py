"""test_wayland.py - the kiosk under cage, as kiosk.service runs it: SDL's
Wayland driver on wlroots' headless backend, full screen.

Under Wayland SDL 2.26 has no window framebuffer: the frame goes through a
GL texture, GLES 2 as the kiosk chooses it (display.c), or SDL's default GL
when that cannot start, video started again (KIOSK_FRAME_GL names another
first choice; here one SDL lacks, to take the fallback). stats.display says
which took and whether the pointer shows.

cage refuses to run as root: as root, cage and the kiosk run as `nobody`
from a directory of their own. Skipped where cage or Xwayland is missing
(make test installs both; Debian's cage will not start without Xwayland).

Environment: KIOSK_BIN (as harness.py).
"""
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import REPO, TERMINAL_ID, kiosk_bin, slow


def have_cage():
    return shutil.which("cage") and shutil.which("Xwayland")


def nobody_reads(path):
    """True if `nobody` can reach and read `path` (a checkout under /root,
    say, it cannot)."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           "test", "-r", path], check=False).returncode == 0


class Cage:
    """cage -- kiosk, full screen, as nobody when we are root."""

    def __init__(self, test, env_extra=None):
        self.dir = tempfile.mkdtemp(prefix="kiosk-it-wl-", dir="/tmp")
        test.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o755)
        xdg = os.path.join(self.dir, "xdg")
        os.mkdir(xdg, 0o700)
        kw = {}
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            kw = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
            os.chown(xdg, nobody.pw_uid, nobody.pw_gid)
        kiosk, data = kiosk_bin(), {}
        if kw and not (nobody_reads(kiosk) and nobody_reads(os.path.join(REPO, "fonts"))):
            # The kiosk and what it reads, where nobody can reach them.
            kiosk = shutil.copy(kiosk, os.path.join(self.dir, "kiosk"))
            for sub in ("fonts", "assets"):
                shutil.copytree(os.path.join(REPO, sub), os.path.join(self.dir, "data", sub))
            data = {"KIOSK_DATADIR": os.path.join(self.dir, "data")}
        self.ctl_path = os.path.join(self.dir, "ctl.sock")
        conf = os.path.join(self.dir, "kiosk.conf")
        with open(conf, "w") as f:
            f.write("[terminal]\nid = %s\n[display]\nfullscreen = true\n[card]\nbackend = sim\n"
                    "[outbox]\ndir = %s/outbox\n[sync]\nsocket = %s/sync.sock\nstatus_timeout_ms = 200\n"
                    "[control]\nsocket = %s\n" % (TERMINAL_ID, self.dir, self.dir, self.ctl_path))
        os.chmod(conf, 0o644)
        # kiosk.service's environment (systemd/kiosk.service.in).
        env = dict(os.environ, XDG_RUNTIME_DIR=xdg, WLR_BACKENDS="headless", WLR_LIBINPUT_NO_DEVICES="1",
                   SDL_VIDEODRIVER="wayland", SDL_AUDIODRIVER="dummy", MESA_SHADER_CACHE_DISABLE="true",
                   KIOSK_DEBUG="1")
        for k in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_FRAMEBUFFER_ACCELERATION", "KIOSK_FRAME_GL"):
            env.pop(k, None)
        env.update(data)
        env.update(env_extra or {})
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


@unittest.skipUnless(have_cage(), "cage or Xwayland is not installed")
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
