"""test_config_cli.py - the kiosk and kiosk-sync read one kiosk.conf (issue
10): what each refuses at start, and how it says so.

- `--config` naming a FIFO (or anything but a regular file) makes both exit
  at once with "FILE: not a regular file", instead of waiting for a writer
  for ever.
- A `[terminal] id` that the bureau's header and URLs cannot carry is
  refused by both, with the same "FILE:LINE: ..." message.
- A value found wrong after the load (an outbox directory that cannot be
  made, a control socket path taken, a bureau URL that is not https, a sync
  socket path taken by a file) names the line that set it.
- Every such refusal is one line in one format, with its journald priority:
  "<3>PROGRAM: FILE[:LINE]: what is wrong".

Both programs are run by their process id with a time limit, and killed by
it if they outlive the limit (which is then the failure).
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import BAD_LOG_RES, kiosk_command, kiosk_env, slow, sync_command

# Long enough for a start-up refusal on a loaded machine; a program still
# running after it did not refuse.
EXIT_LIMIT_S = 2.0
# The kiosk accepting a config runs until stopped: give it this long to
# show it is not refusing.
RUN_LIMIT_S = 5.0

ID_RULE = ("an id is printable ASCII without spaces, e.g. GZ-YX-0042 "
           "(it is sent as X-Terminal-Id and in URLs)")
PROGRAMS = (("kiosk", kiosk_command), ("kiosk-sync", sync_command))


def run_limited(cmd, limit_s):
    """Runs `cmd`; returns (exit status or None if it had to be killed,
    seconds taken, stderr)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=kiosk_env())
    try:
        _, err = p.communicate(timeout=slow(limit_s))
        status = p.returncode
    except subprocess.TimeoutExpired:
        os.kill(p.pid, 9)
        _, err = p.communicate()
        status = None
    return status, time.monotonic() - t0, err.decode("utf-8", "replace")


class ConfigCliTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="kiosk-config-cli-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, lines):
        """Writes `lines` (str or bytes) as a file; returns its path."""
        p = self.path(name)
        data = b"".join((l if isinstance(l, bytes) else l.encode()) + b"\n" for l in lines)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def base_lines(self):
        """A config both programs would start with: the simulated card, a
        window, files under the test's dir, a bureau that is never reached."""
        return [
            "[display]", "fullscreen = false", "width = 1024", "height = 768",
            "[card]", "backend = sim",
            "[outbox]", "dir = " + self.path("outbox"),
            "[sync]", "socket = " + self.path("sync.sock"),
            "[bureau]", "url = https://127.0.0.1:1", "ca_file = " + self.path("ca.pem"),
            "client_cert = " + self.path("c.pem"), "client_key = " + self.path("k.pem"),
        ]

    def refusal(self, program, err, conf):
        """The one line that refuses `conf`, without its priority and name."""
        lines = [l for l in err.splitlines() if conf in l]
        self.assertEqual(len(lines), 1, "%s: one line naming %s, got:\n%s" % (program, conf, err))
        m = re.match(r"^<3>%s: (%s(:\d+)?: .*)$" % (re.escape(program), re.escape(conf)), lines[0])
        self.assertIsNotNone(m, "%s: not '<3>%s: FILE[:LINE]: ...': %r" % (program, program, lines[0]))
        return m.group(1)

    def assert_refused(self, program, cmd, conf, limit_s=EXIT_LIMIT_S):
        status, took, err = run_limited(cmd + ["--config", conf], limit_s)
        self.assertIsNotNone(status, "%s still running after %.1f s with --config %s:\n%s"
                             % (program, slow(limit_s), conf, err))
        self.assertNotEqual(status, 0, "%s accepted %s:\n%s" % (program, conf, err))
        for pattern, what in BAD_LOG_RES:  # a refusal is no excuse for a leak
            self.assertIsNone(pattern.search(err), "%s: %s:\n%s" % (program, what, err))
        return self.refusal(program, err, conf), took

    def test_fifo_as_config(self):
        fifo = self.path("kiosk.conf")
        os.mkfifo(fifo)
        for program, command in PROGRAMS:
            msg, took = self.assert_refused(program, command([]), fifo)
            self.assertEqual(msg, "%s: not a regular file (a FIFO)" % fifo, program)
            self.assertLess(took, slow(EXIT_LIMIT_S), program)

    def test_directory_and_device_as_config(self):
        for conf, kind in ((self.dir, "a directory"), ("/dev/null", "a character device")):
            for program, command in PROGRAMS:
                msg, _ = self.assert_refused(program, command([]), conf)
                self.assertEqual(msg, "%s: not a regular file (%s)" % (conf, kind), program)

    def test_bad_terminal_id_refused_alike(self):
        # The id on line 2 after a comment, so the line is not the first.
        for bad, why in ((b"GZ YX-0042", "byte 3 is a space"),
                         ("GZ-\u7ec8\u7aef".encode(), "byte 4 is not ASCII (0xe7)"),
                         (b"GZ\x01YX", "byte 3 is a control character (0x01)"),
                         (b"GZ-YX\x1b[2J", "byte 6 is a control character (0x1b)")):
            conf = self.write("bad-id.conf", ["; terminal", "[terminal]", b"id = " + bad]
                              + self.base_lines())
            want = "%s:3: id: %s: %s" % (conf, why, ID_RULE)
            got = {}
            for program, command in PROGRAMS:
                got[program], _ = self.assert_refused(program, command([]), conf, RUN_LIMIT_S)
                self.assertEqual(got[program], want, program)
            self.assertEqual(got["kiosk"], got["kiosk-sync"])
            self.assertFalse(os.path.exists(self.path("outbox")), "no record was started")

    def test_outbox_dir_that_cannot_be_made_names_its_line(self):
        blocker = self.write("not-a-dir", ["a file where a directory should be"])
        lines = self.base_lines()
        lines[lines.index("dir = " + self.path("outbox"))] = "dir = " + blocker + "/outbox"
        conf = self.write("kiosk.conf", lines)
        line = lines.index("dir = " + blocker + "/outbox") + 1
        msg, _ = self.assert_refused("kiosk", kiosk_command([]), conf, RUN_LIMIT_S)
        self.assertEqual(msg, "%s:%d: [outbox] dir: cannot create %s/outbox: Not a directory"
                         % (conf, line, blocker))

    def test_control_socket_taken_names_its_line(self):
        taken = self.write("ctl", ["a file where the socket should be"])
        lines = self.base_lines() + ["[control]", "socket = " + taken]
        conf = self.write("kiosk.conf", lines)
        msg, _ = self.assert_refused("kiosk", kiosk_command([]), conf, RUN_LIMIT_S)
        self.assertEqual(msg, "%s:%d: [control] socket: %s exists and is not a socket"
                         % (conf, len(lines), taken))
        # Given with --control, the path is not the file's: no line to name.
        status, _, err = run_limited(kiosk_command(["--config", conf, "--control", taken]), RUN_LIMIT_S)
        self.assertEqual(status, 1, err)
        self.assertIn("<3>kiosk: %s exists and is not a socket" % taken, err)
        self.assertNotIn(conf, err)

    def test_sync_refusals_name_their_line(self):
        lines = self.base_lines()
        # A URL kiosk-sync will not use: refused on its line.
        i = lines.index("url = https://127.0.0.1:1")
        lines[i] = "url = http://127.0.0.1:1"
        conf = self.write("http.conf", lines)
        msg, _ = self.assert_refused("kiosk-sync", sync_command([]), conf)
        self.assertTrue(msg.startswith("%s:%d: [bureau] url: must start with https://" % (conf, i + 1)), msg)
        # A required key left out has no line: the file alone is named.
        lines = [l for l in self.base_lines() if not l.startswith("client_key")]
        conf = self.write("nokey.conf", lines)
        msg, _ = self.assert_refused("kiosk-sync", sync_command([]), conf)
        self.assertTrue(msg.startswith("%s: [bureau] client_key: " % conf), msg)
        # The sync socket path taken by a regular file.
        lines = self.base_lines()
        i = lines.index("socket = " + self.path("sync.sock"))
        self.write("sync.sock", ["not a socket"])
        conf = self.write("sock.conf", lines)
        msg, _ = self.assert_refused("kiosk-sync", sync_command([]), conf)
        self.assertEqual(msg, "%s:%d: [sync] socket: %s: something that is not a socket is at "
                         "the socket path" % (conf, i + 1, self.path("sync.sock")))

    def test_load_errors_share_one_format(self):
        conf = self.write("bad.conf", ["[ui]", "", "idle_timeout_s = 2"])
        got = {}
        for program, command in PROGRAMS:
            got[program], _ = self.assert_refused(program, command([]), conf)
        self.assertEqual(got["kiosk"], got["kiosk-sync"])
        self.assertEqual(got["kiosk"], "%s:3: idle_timeout_s: 2 is out of range 5..600" % conf)
        missing = self.path("missing.conf")
        for program, command in PROGRAMS:
            msg, _ = self.assert_refused(program, command([]), missing)
            self.assertEqual(msg, "%s: cannot open: No such file or directory" % missing)


if __name__ == "__main__":
    unittest.main()
