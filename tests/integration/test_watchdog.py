"""test_watchdog.py - the kiosk's systemd notifications (issue 5): READY=1
once the first frame is up, WATCHDOG=1 only while the main loop turns,
STOPPING=1 at the end. A stand-in notify socket (an AF_UNIX datagram
socket, what systemd gives a Type=notify service) records what arrives.
"""

import ctypes
import errno
import os
import signal
import socket
import tempfile
import time
import unittest
from unittest import mock

from harness import Kiosk, slow

PERIOD_US = 400000  # systemd's WatchdogSec; the kiosk pings every half of it


class NotifySocket:
    def __init__(self, test):
        self.dir = tempfile.mkdtemp(prefix="notify-", dir="/tmp")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        test.addCleanup(self.close)
        self.log = []  # (monotonic time, message)

    def close(self):
        self.sock.close()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def collect(self, seconds):
        """Everything that arrives in the next `seconds`; also kept in log."""
        got = []
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return got
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return got
            item = (time.monotonic(), data.decode("ascii", "replace"))
            got.append(item)
            self.log.append(item)

    def pings(self, items):
        return [t for t, m in items if m == "WATCHDOG=1"]


PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000  # __WALL: wait for a thread (clone child) too

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_libc.ptrace.restype = ctypes.c_long


def ptrace(req, tid):
    if _libc.ptrace(req, tid, None, None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "ptrace(%#x, %d): %s" % (req, tid, os.strerror(e)))


class MainThreadHalted:
    """Stops the kiosk's main thread alone (ptrace stops are per thread),
    its worker threads running on: a hung main loop, not a stopped process."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        ptrace(PTRACE_SEIZE, self.pid)
        ptrace(PTRACE_INTERRUPT, self.pid)
        os.waitpid(self.pid, WALL)
        return self

    def __exit__(self, *exc):
        ptrace(PTRACE_DETACH, self.pid)
        return False


class TestWatchdog(unittest.TestCase):

    def kiosk(self, env, **kw):
        with mock.patch.dict(os.environ, env):
            k = Kiosk(self, **kw)
        self.addCleanup(k.close)
        return k

    def test_ready_then_pings_stop_when_the_loop_stops(self):
        ns = NotifySocket(self)
        k = self.kiosk({"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": str(PERIOD_US)})
        first = ns.collect(slow(1.5))
        self.assertTrue(first, "nothing reached the notify socket")
        self.assertEqual(first[0][1], "READY=1", "READY=1 must come first")
        self.assertEqual(sum(1 for _, m in first if m == "READY=1"), 1)
        pings = ns.pings(first)
        self.assertGreaterEqual(len(pings), 4, first)
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), PERIOD_US / 1e6 * slow(1), "a ping came later than the period")

        # The main loop stopped (SIGSTOP): no ping at all, so systemd's
        # watchdog would fire and restart the kiosk.
        os.kill(k.proc.pid, signal.SIGSTOP)
        try:
            ns.collect(0.1)  # one may have been in flight
            stopped = ns.collect(1.5)
        finally:
            os.kill(k.proc.pid, signal.SIGCONT)
        self.assertEqual(ns.pings(stopped), [], "pings while the main loop was stopped")
        again = ns.collect(slow(1.0))
        self.assertTrue(ns.pings(again), "no ping after SIGCONT")
        k.state()  # and it still answers

        k.stop()
        tail = ns.collect(slow(1.0))
        self.assertIn("STOPPING=1", [m for _, m in tail])

    def test_no_ping_from_a_hung_main_loop_while_threads_run(self):
        # A watchdog thread would ping through this; the kiosk pings only
        # from its main loop, so a hang there stops them.
        ns = NotifySocket(self)
        k = self.kiosk({"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": str(PERIOD_US)})
        ns.collect(0.3)
        threads = os.listdir("/proc/%d/task" % k.proc.pid)
        self.assertGreater(len(threads), 1, "the kiosk should have worker threads")
        try:
            halt = MainThreadHalted(k.proc.pid)
            halt.__enter__()
        except OSError as e:
            if e.errno == errno.EPERM:
                self.skipTest("ptrace not permitted here (needs root or ptrace_scope 0/1): %s" % e)
            raise
        try:
            # The other threads still run: the sync client's thread, say.
            states = {}
            for tid in threads:
                if int(tid) != k.proc.pid:
                    with open("/proc/%d/task/%s/stat" % (k.proc.pid, tid)) as f:
                        states[tid] = f.read().rsplit(")", 1)[1].split()[0]
            self.assertTrue(states and all(st in "SR" for st in states.values()), states)
            ns.collect(0.1)
            hung = ns.collect(1.5)
        finally:
            halt.__exit__(None, None, None)
        self.assertEqual(ns.pings(hung), [], "pings while the main loop was hung")
        self.assertTrue(ns.pings(ns.collect(slow(1.0))), "no ping once the loop turned again")
        k.state()

    def test_pings_go_on_while_the_card_is_slow(self):
        # A 2 s card command runs on the worker thread: the loop keeps turning.
        ns = NotifySocket(self)
        k = self.kiosk({"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": str(PERIOD_US)})
        ns.collect(0.3)
        k.insert("A12345678", delay_ms=2000, delay_on="read")
        during = ns.collect(1.5)
        self.assertGreaterEqual(len(ns.pings(during)), 4, during)

    def test_no_pings_for_another_pid(self):
        # WATCHDOG_PID names another process: the period is not ours.
        ns = NotifySocket(self)
        self.kiosk({"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": str(PERIOD_US),
                    "WATCHDOG_PID": "1"})
        got = [m for _, m in ns.collect(slow(1.5))]
        self.assertIn("READY=1", got)
        self.assertNotIn("WATCHDOG=1", got)

    def test_abstract_socket_and_no_watchdog(self):
        # "@name": the abstract namespace; no WATCHDOG_USEC: READY only.
        name = "kiosk-test-%d" % os.getpid()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(s.close)
        s.bind("\0" + name)
        s.settimeout(slow(5))
        env = {"NOTIFY_SOCKET": "@" + name}
        with mock.patch.dict(os.environ, env):
            os.environ.pop("WATCHDOG_USEC", None)
            k = Kiosk(self)
        self.addCleanup(k.close)
        self.assertEqual(s.recv(100), b"READY=1")
        s.settimeout(0.8)
        with self.assertRaises(socket.timeout):
            s.recv(100)


if __name__ == "__main__":
    unittest.main()
