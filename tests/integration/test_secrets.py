"""test_secrets.py - where the running kiosk keeps PINs (issue 5, "Secrets
in memory"): the process is not dumpable; the arena that holds the core's
state and the card worker is locked in RAM and left out of core dumps; the
card worker's stack (where APDUs with PINs are built) lies in it; the main
thread's stack is locked where the main loop runs. Read from the kernel's
own account: /proc/PID/smaps and /proc/PID/task/TID/syscall.
"""

import os
import re
import time
import unittest

from harness import Kiosk
from test_service import code_hash

NEW_PIN = "582039"


def vmas(pid):
    """[(start, end, flags set, name)] from /proc/PID/smaps."""
    out = []
    head = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$")
    with open("/proc/%d/smaps" % pid) as f:
        cur = None
        for line in f:
            m = head.match(line)
            if m:
                cur = [int(m.group(1), 16), int(m.group(2), 16), set(), m.group(3)]
                out.append(cur)
            elif line.startswith("VmFlags:") and cur is not None:
                cur[2] = set(line.split()[1:])
    return out


def arena_span(vs, size):
    """(start, end, mappings) of a run of adjacent mappings among vs that
    spans exactly `size` bytes, or None."""
    vs = sorted(vs)
    for i, v in enumerate(vs):
        j, end = i, v[1]
        while end - v[0] < size and j + 1 < len(vs) and vs[j + 1][0] == end:
            j += 1
            end = vs[j][1]
        if end - v[0] == size:
            return (v[0], end, vs[i:j + 1])
    return None


def stack_pointer(pid, tid):
    """The stack pointer of a thread blocked in a system call."""
    with open("/proc/%d/task/%d/syscall" % (pid, tid)) as f:
        fields = f.read().split()
    if len(fields) < 3 or fields[0] in ("running", "-1"):
        return None
    return int(fields[-2], 16)


def vma_of(maps, addr):
    for v in maps:
        if v[0] <= addr < v[1]:
            return v
    return None


class TestSecrets(unittest.TestCase):

    def setUp(self):
        # With a technician code, so that its checker's thread is there too.
        self.k = Kiosk(self, config={"service": {"code_hash": code_hash("24681357")}})
        self.addCleanup(self.k.close)
        self.pid = self.k.proc.pid

    def thread(self, name):
        for tid in os.listdir("/proc/%d/task" % self.pid):
            with open("/proc/%d/task/%s/comm" % (self.pid, tid)) as f:
                if f.read().strip() == name:
                    return int(tid)
        self.fail("no thread named %s" % name)

    def test_stats_say_how_pins_are_kept(self):
        sec = self.k.ok({"cmd": "stats"})["secrets"]
        self.assertEqual(sec["dumpable"], 0)
        self.assertTrue(sec["locked"], sec)
        self.assertTrue(sec["dontdump"], sec)
        self.assertTrue(sec["stack_locked"], sec)
        # The worker's and the code checker's stacks, each with its guard
        # page, and the core beside them.
        self.assertEqual(len(sec["stacks"]), 2, sec)
        pg = os.sysconf("SC_PAGESIZE")
        self.assertGreater(sec["arena_used"], sum(st["bytes"] + pg for st in sec["stacks"]), sec)
        self.assertLessEqual(sec["arena_used"], sec["arena_bytes"])

    def test_the_kernel_agrees(self):
        sec = self.k.ok({"cmd": "stats"})["secrets"]
        maps = vmas(self.pid)
        # ASan intercepts mlock() and makes it a no-op (sanitizer_common's
        # interceptor returns 0 and locks nothing): under ASan only the
        # don't-dump marks can be seen; the plain build checks the locks.
        asan = any("libasan" in v[3] for v in maps)
        want = {"dd"} if asan else {"lo", "dd"}
        locked_dd = [v for v in maps if want <= v[2]]
        self.assertTrue(locked_dd, "no mapping with %s" % sorted(want))
        # The arena is mappings side by side of exactly its size (under
        # ASan, the shadow memory is don't-dump too, and far larger): the
        # guard page below each secret thread's stack splits it, a page
        # neither readable nor writable.
        arena = arena_span(locked_dd, sec["arena_bytes"])
        self.assertIsNotNone(arena, "no %s mappings of the arena's %d bytes" % (sorted(want), sec["arena_bytes"]))
        guards = [v for v in arena[2] if not {"rd", "wr"} & v[2]]
        self.assertEqual(len(guards), 2, "guard pages of card-worker and code-check: %s" % guards)
        self.assertTrue(all(v[1] - v[0] == os.sysconf("SC_PAGESIZE") for v in guards), guards)
        with open("/proc/%d/status" % self.pid) as f:
            vmlck = int(re.search(r"^VmLck:\s+(\d+) kB", f.read(), re.M).group(1))
        if not asan:
            self.assertGreaterEqual(vmlck * 1024, sec["arena_bytes"] + 64 * 1024)

        # The card worker waits for a job, the code checker for a code:
        # their stack pointers are in the arena.
        for name in ("card-worker", "code-check"):
            sp = stack_pointer(self.pid, self.thread(name))
            self.assertIsNotNone(sp, "%s is not blocked in a system call" % name)
            v = vma_of(maps, sp)
            self.assertIsNotNone(v)
            self.assertTrue(want <= v[2], "%s stack flags %s" % (name, sorted(v[2])))
            self.assertTrue(arena[0] <= sp < arena[1], "%s's stack is not in the arena" % name)

        # The main thread waits in the main loop (once its idle-time
        # prefetch of the next screens is done): its frames are locked.
        deadline = time.monotonic() + 5
        sp = stack_pointer(self.pid, self.pid)
        while sp is None and time.monotonic() < deadline:
            time.sleep(0.05)
            sp = stack_pointer(self.pid, self.pid)
        self.assertIsNotNone(sp, "the main thread is not blocked in a system call")
        v = vma_of(maps, sp)
        self.assertIsNotNone(v)
        if not asan:
            self.assertIn("lo", v[2], "main stack flags %s (%s)" % (sorted(v[2]), v[3]))

    def test_a_journey_still_works_and_the_arena_did_not_grow(self):
        before = self.k.ok({"cmd": "stats"})["secrets"]["arena_used"]
        self.k.note_pin(NEW_PIN)
        self.k.change_pin("A12345678", "123456", NEW_PIN)
        after = self.k.ok({"cmd": "stats"})["secrets"]["arena_used"]
        self.assertEqual(before, after, "the arena is carved at start only")


if __name__ == "__main__":
    unittest.main()
