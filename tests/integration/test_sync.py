"""test_sync.py - kiosk-sync against the bureau stand-in (tests/bureau/standin.py)
over mutual TLS: delivery exactly once through faults, dead letters, the
card-status socket (docs/sync-protocol.md), start-up refusals, kill -9.

    /usr/bin/python3 tests/integration/run.py -k test_sync

Environment: KIOSK_SYNC_BIN (default build/kiosk-sync, else
build/src/syncd/kiosk-sync). Every process a test starts is stopped by pid
in its cleanups, also when the test fails. Python standard library only.
"""

import hashlib
import hmac
import json
import re
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

from harness import silent_clients, sync_bin

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
SLOW = float(os.environ.get("KIOSK_TEST_SLOW", "1") or "1")
TERMINAL_ID = "GZ-TEST-0001"
STATUSES = {"A12345678": {"status": "lost", "holder": "张*明"},
            "B00000001": "active"}


def wait_for(pred, timeout, what):
    """pred()'s first truthy value within `timeout` seconds, else fails."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def stop_pid(proc, sig=signal.SIGTERM, timeout=5.0):
    """Stops `proc` by its pid; SIGKILL if it does not go. Its exit status."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
            return proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return proc.wait()


# As root, mode bits do not stop a read: kiosk-sync runs without the two
# capabilities that bypass them, so a file of another user with mode 0600 is
# refused by the kernel exactly as on a terminal (kiosk-sync is not root there).
NO_DAC = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


def event_body(seq, kind="pin_changed", card="A12345678"):
    """One outbox record exactly as docs/outbox.md shows it."""
    rec = {"event_id": str(uuid.uuid4()), "terminal_id": TERMINAL_ID, "seq": seq,
           "card_number": card, "kind": kind, "occurred_at": "2026-11-27T08:30:12Z"}
    return rec, json.dumps(rec, separators=(",", ":"))


class TestSync(unittest.TestCase):
    def setUp(self):
        if not os.access(sync_bin(), os.X_OK):
            self.fail("kiosk-sync binary %s is missing (set KIOSK_SYNC_BIN)" % sync_bin())
        self.dir = tempfile.mkdtemp(prefix="test_sync-")
        self.addCleanup(self._cleanup_dir)
        self.procs = []
        self.addCleanup(self._stop_all)
        self.certs = os.path.join(self.dir, "certs")
        subprocess.run(["sh", os.path.join(REPO, "tests/bureau/make-certs.sh"), self.certs,
                        TERMINAL_ID], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30 * SLOW)
        self.statuses = os.path.join(self.dir, "statuses.json")
        with open(self.statuses, "w", encoding="utf-8") as f:
            json.dump(STATUSES, f, ensure_ascii=False)
        self.outbox = os.path.join(self.dir, "outbox")
        os.mkdir(self.outbox, 0o700)
        self.socket = os.path.join(self.dir, "sync.sock")
        self._start_standin()
        self.conf = self.write_conf("https://127.0.0.1:%d" % self.port)
        self.sync = None
        self.sync_log = os.path.join(self.dir, "kiosk-sync.log")

    # ---- fixtures -----------------------------------------------------

    def _cleanup_dir(self):
        if os.environ.get("KIOSK_TEST_KEEP") == "1":
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _stop_all(self):
        for p in reversed(self.procs):
            stop_pid(p)
            for fh in (p.stdout, p.stderr):
                if fh:
                    fh.close()

    def _start_standin(self):
        self.standin_log = os.path.join(self.dir, "standin.log")
        out = open(self.standin_log, "w")
        p = subprocess.Popen([PYTHON, os.path.join(REPO, "tests/bureau/standin.py"),
                              "--port", "0", "--control", "0", "--certs", self.certs,
                              "--terminal-id", TERMINAL_ID, "--statuses", self.statuses],
                             stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.procs.append(p)

        def ports():
            with open(self.standin_log, encoding="utf-8") as f:
                text = f.read()
            if p.poll() is not None:
                raise AssertionError("standin exited: " + text)
            https = ctl = None
            for line in text.splitlines():
                if "listening on https://127.0.0.1:" in line:
                    https = int(line.split("127.0.0.1:")[1].split()[0])
                if "control on http://127.0.0.1:" in line:
                    ctl = int(line.split("127.0.0.1:")[1].split()[0])
            return (https, ctl) if https and ctl else None
        self.port, self.ctl = wait_for(ports, 15, "the stand-in's ports")

    def write_conf(self, url, name="kiosk.conf", timeout_s=5, extra="", sync_extra=""):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write("[terminal]\nid = %s\n[outbox]\ndir = %s\n[sync]\nsocket = %s\n"
                    "status_timeout_ms = 3000\n%s[bureau]\nurl = %s\nca_file = %s\n"
                    "client_cert = %s\nclient_key = %s\nconnect_timeout_s = 3\ntimeout_s = %d\n%s"
                    % (TERMINAL_ID, self.outbox, self.socket, sync_extra, url,
                       os.path.join(self.certs, "ca.pem"), os.path.join(self.certs, "client.pem"),
                       os.path.join(self.certs, "client.key"), timeout_s, extra))
        return path

    def start_sync(self, heartbeat=True, prefix=()):
        """Starts kiosk-sync (after the command `prefix`, e.g. NO_DAC). It
        sends a heartbeat at once; with `heartbeat` this waits until the
        stand-in has it, so that a fault switched on afterwards meets the
        events, not the heartbeat."""
        before = len(self.control("/heartbeats")) if heartbeat else 0
        log = open(self.sync_log, "a")
        p = subprocess.Popen(list(prefix) + [sync_bin(), "--config", self.conf],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(p)
        self.sync = p
        wait_for(lambda: os.path.exists(self.socket) or p.poll() is not None, 10,
                 "kiosk-sync's socket")
        self.assertIsNone(p.poll(), "kiosk-sync exited:\n" + self.read_log())
        if heartbeat:
            wait_for(lambda: len(self.control("/heartbeats")) > before, 10,
                     "kiosk-sync's first heartbeat")
        return p

    def read_log(self):
        with open(self.sync_log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def control(self, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.ctl, path), data=data)
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def recorded(self):
        return self.control("/recorded")

    def write_event(self, seq, text):
        """Atomically, as the kiosk does: a temp file renamed into place."""
        tmp = os.path.join(self.outbox, ".tmp-%d" % seq)
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.outbox, "evt-%012d.json" % seq))

    def events_left(self):
        return [n for n in os.listdir(self.outbox) if n.startswith("evt-")]

    def dead_letters(self):
        d = self.outbox + ".dead"
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def assert_recorded_once(self, recs):
        got = self.recorded()
        ids = [r["event_id"] for r in got]
        self.assertEqual(len(ids), len(set(ids)), "an event recorded twice")
        self.assertEqual(ids, [r["event_id"] for r in recs])
        self.assertEqual([r["seq"] for r in got], [r["seq"] for r in recs])
        self.assertEqual(got, recs)

    def ask(self, card, timeout=5):
        return self.ask_obj({"cmd": "card_status", "card_number": card}, timeout)

    def ask_obj(self, obj, timeout=5):
        """One card-status question as the kiosk asks it (src/sync/sync_wire.c):
        connect, retried every 10 ms while the backlog is full, send, read one
        line, all within `timeout`."""
        deadline = time.monotonic() + timeout * SLOW
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout * SLOW)
        try:
            while True:
                try:
                    s.connect(self.socket)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
            s.settimeout(max(0.01, deadline - time.monotonic()))
            s.sendall((json.dumps(obj) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        self.assertTrue(data.endswith(b"\n"), data)
        self.assertEqual(data.count(b"\n"), 1)
        return json.loads(data.decode("utf-8"))

    # ---- tests ----------------------------------------------------------

    def test_a_delivers_in_seq_order_once(self):
        recs = []
        # Written out of order, all before kiosk-sync looks (a pass between
        # two writes would rightly send what it found): delivery goes by seq.
        for seq in (3, 1, 2):
            rec, text = event_body(seq)
            recs.append(rec)
            self.write_event(seq, text)
        recs.sort(key=lambda r: r["seq"])
        self.start_sync()
        wait_for(lambda: not self.events_left() and len(self.recorded()) == 3, 15,
                 "three events delivered")
        self.assert_recorded_once(recs)
        self.assertEqual(self.dead_letters(), [])
        time.sleep(1.5)  # a rescan later, still nothing twice
        self.assert_recorded_once(recs)
        self.assertEqual(stop_pid(self.sync), 0, "SIGTERM must end kiosk-sync with 0")
        self.assertFalse(os.path.exists(self.socket), "the socket is removed at exit")

    def test_b_retries_through_503(self):
        self.start_sync()
        self.control("/faults", {"fail": {"count": 3, "status": 503}})
        recs = []
        for seq in (1, 2, 3):
            rec, text = event_body(seq)
            recs.append(rec)
            self.write_event(seq, text)
        wait_for(lambda: not self.events_left() and len(self.recorded()) == 3, 30,
                 "three events delivered after three 503s")
        self.assert_recorded_once(recs)
        self.assertEqual(self.control("/faults")["fail"]["count"], 0)
        self.assertIn("retry", self.read_log())
        self.assertEqual(self.dead_letters(), [])

    def test_c_422_goes_to_dead_letters(self):
        self.start_sync()
        good1, t1 = event_body(1)
        bad, t2 = event_body(2, kind="not_a_kind")
        good3, t3 = event_body(3)
        for seq, text in ((1, t1), (2, t2), (3, t3)):
            self.write_event(seq, text)
        wait_for(lambda: not self.events_left() and len(self.recorded()) == 2, 15,
                 "good events delivered, bad one dead")
        self.assertEqual(self.dead_letters(), ["evt-000000000002.json"])
        with open(os.path.join(self.outbox + ".dead", "evt-000000000002.json")) as f:
            self.assertEqual(f.read(), t2)
        self.assert_recorded_once([good1, good3])
        self.assertNotIn(bad["event_id"], json.dumps(self.recorded()))
        self.assertIn("dead letters", self.read_log())

    def test_d_card_status(self):
        self.start_sync()
        self.assertEqual(self.ask("A12345678"), {"ok": True, "status": "lost", "holder": "张*明"})
        self.assertEqual(self.ask("B00000001"), {"ok": True, "status": "active"})
        self.assertEqual(self.ask("C99999999"), {"ok": True, "status": "unknown"})
        # A status changed at the bureau is seen on the next question.
        with open(self.statuses, "w", encoding="utf-8") as f:
            json.dump({"B00000001": "frozen"}, f)
        self.assertEqual(self.ask("B00000001"), {"ok": True, "status": "frozen"})
        # Never into a URL: not 1..15 letters and digits.
        for bad in ("../../x", "", "A" * 16, "A1 2"):
            self.assertEqual(self.ask(bad), {"ok": False, "error": "bad_request"}, bad)
        # The bureau down: unreachable, not a hang.
        self.control("/faults", {"fail": {"count": 1, "status": 503}})
        self.assertEqual(self.ask("A12345678"), {"ok": False, "error": "bureau_unreachable"})
        self.assertEqual(os.stat(self.socket).st_mode & 0o777, 0o660)  # the kiosk's group connects
        self.assertNotIn("A12345678", self.read_log(), "card numbers are logged masked")

    def test_e_http_url_refused(self):
        conf = self.write_conf("http://127.0.0.1:%d" % self.port, "http.conf")
        r = subprocess.run([sync_bin(), "--config", conf], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=10 * SLOW)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("https://", r.stderr)
        self.assertFalse(os.path.exists(self.socket))
        r = subprocess.run([sync_bin(), "--bogus"], capture_output=True, text=True,
                           timeout=10 * SLOW)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([sync_bin(), "--config", os.path.join(self.dir, "missing.conf")],
                           capture_output=True, text=True, timeout=10 * SLOW)
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.conf", r.stderr)
        r = subprocess.run([sync_bin(), "--version"], capture_output=True, text=True,
                           timeout=10 * SLOW)
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("kiosk-sync "))

    def test_f_kill9_during_delivery(self):
        n = 20
        recs = []
        for seq in range(1, n + 1):
            rec, text = event_body(seq)
            recs.append(rec)
            self.write_event(seq, text)
        # Slow answers, so that the kills land mid-delivery; one lost
        # acknowledgement makes a resend the bureau must dedup.
        self.control("/faults", {"delay_ms": 80, "drop_after_record": 1})
        for round_ in range(3):
            p = self.start_sync()
            target = 4 * (round_ + 1)
            wait_for(lambda: len(self.recorded()) >= target, 20, "%d recorded" % target)
            stop_pid(p, signal.SIGKILL)
        self.control("/faults", {"delay_ms": 0})
        self.start_sync()
        wait_for(lambda: not self.events_left() and len(self.recorded()) == n, 30,
                 "all events after the kills")
        self.assert_recorded_once(recs)
        # The dropped acknowledgement was resent and deduped, not recorded twice.
        self.assertGreaterEqual(self.control("/stats")["replayed"], 1)
        self.assertEqual(self.dead_letters(), [])

    # ---- one test per fault switch (issue 4, acceptance 1, 5 and 7) -------

    PINS_USED = ("123456", "582039", "654321")

    def stats(self):
        return self.control("/stats")

    def event_bodies(self):
        """Bodies the stand-in received, less the heartbeats it took (one at
        kiosk-sync's start; heartbeat_s is 300 here, so no second one)."""
        return self.stats()["bodies"] - len(self.control("/heartbeats"))

    def write_events(self, seqs):
        recs = []
        for seq in seqs:
            rec, text = event_body(seq)
            recs.append(rec)
            self.write_event(seq, text)
        return recs

    def wait_delivered(self, recs, timeout, what):
        wait_for(lambda: not self.events_left() and len(self.recorded()) == len(recs), timeout,
                 what)
        self.assert_recorded_once(recs)
        self.assertEqual(self.dead_letters(), [])
        self.assert_no_pin_sent()

    def assert_no_pin_sent(self):
        """Acceptance 7: no PIN the suite uses ever reached the bureau. The
        card number (A12345678) holds "123456", so each body is parsed and
        only the fields that may hold digits by design are set aside; the
        rest must have no PIN and no run of 6 digits."""
        raw = os.path.join(self.certs, "raw-bodies.log")
        if not os.path.exists(raw):
            return
        with open(raw, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        for line in lines:
            if line.startswith("--- ") or not line:
                continue
            body = json.loads(line)
            rest = {k: v for k, v in body.items()
                    if k not in ("event_id", "occurred_at", "seq", "card_number", "uptime_s",
                                 "outbox_depth", "dead_letters", "last_event_seq")}
            text = json.dumps(rest)
            for pin in self.PINS_USED:
                self.assertNotIn(pin, text, "a PIN reached the bureau")
            self.assertIsNone(re.search(r"[0-9]{6}", text), "six digits reached the bureau")
            self.assertFalse(any("pin" == k.lower() for k in body), body)
        for pin in self.PINS_USED:
            self.assertNotIn('"%s"' % pin, "\n".join(lines))

    def test_g_delay_longer_than_timeout(self):
        # timeout_s = 1, answers 2.5 s late: the first attempts time out
        # (the stand-in may still record after its sleep: the retry then gets
        # the dedup 200).
        self.conf = self.write_conf("https://127.0.0.1:%d" % self.port, timeout_s=1)
        self.start_sync()
        self.control("/faults", {"delay_ms": 2500})
        recs = self.write_events((1, 2))
        wait_for(lambda: self.event_bodies() >= 2, 15, "two slow attempts")
        self.control("/faults", {"delay_ms": 0})
        self.wait_delivered(recs, 20, "events delivered after the slow answers")
        self.assertIn("retry", self.read_log())

    def test_h_drop(self):
        self.start_sync()
        self.control("/faults", {"drop": 2})
        recs = self.write_events((1, 2))
        self.wait_delivered(recs, 20, "events delivered after two dropped connections")
        self.assertEqual(self.control("/faults")["drop"], 0)
        self.assertEqual(self.stats()["replayed"], 0)

    def test_i_drop_after_record(self):
        self.start_sync()
        self.control("/faults", {"drop_after_record": 1})
        recs = self.write_events((1,))
        self.wait_delivered(recs, 15, "the event after a lost acknowledgement")
        st = self.stats()
        self.assertEqual(st["recorded"], 1)
        self.assertGreaterEqual(st["replayed"], 1, "the resend was answered by the dedup 200")

    def test_j_redirect_never_followed(self):
        # The Location target: a listening socket that must see no connection.
        trap = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(trap.close)
        trap.bind(("127.0.0.1", 0))
        trap.listen(8)
        trap.setblocking(False)
        loc = "https://127.0.0.1:%d/v1/pin-events" % trap.getsockname()[1]
        self.start_sync()
        self.control("/faults", {"redirect": 2, "redirect_location": loc})
        recs = self.write_events((1,))
        self.wait_delivered(recs, 15, "the event after two 302s")
        self.assertEqual(self.control("/faults")["redirect"], 0)
        with self.assertRaises(BlockingIOError, msg="the redirect was followed"):
            trap.accept()[0].close()

    def test_k_huge_answer(self):
        self.start_sync()
        self.control("/faults", {"huge": 1})
        recs = self.write_events((1,))
        self.wait_delivered(recs, 15, "the event after a 10 MiB answer")
        self.assertEqual(self.control("/faults")["huge"], 0)
        self.assertGreaterEqual(self.event_bodies(), 2, "the huge answer was retried")
        self.assertIn("retry", self.read_log())

    def test_l_malformed_200_is_delivered(self):
        # The status is the truth: a 200 with truncated JSON is a delivery.
        # The stand-in does not process a request it answers with a fault, so
        # nothing is recorded there; what is checked is that kiosk-sync
        # deletes the file and never sends it again.
        self.start_sync()
        self.control("/faults", {"malformed": 1})
        self.write_events((1,))
        wait_for(lambda: not self.events_left(), 15, "the file deleted after the 200")
        time.sleep(1.5)  # a rescan later: not sent again
        st = self.stats()
        self.assertEqual(st["bodies"] - len(self.control("/heartbeats")), 1, "sent exactly once")
        self.assertEqual(self.recorded(), [])
        self.assertEqual(self.dead_letters(), [])
        self.assert_no_pin_sent()

    def test_m_other_ca_receives_no_body(self):
        # retry_cap_s = 2: the slow schedule after a certificate failure is
        # cap/2..cap, so recovery shows here in seconds (minutes by default).
        self.conf = self.write_conf("https://127.0.0.1:%d" % self.port,
                                    sync_extra="retry_cap_s = 2\n")
        self.control("/faults", {"other_ca": True})
        self.start_sync(heartbeat=False)
        recs = self.write_events((1,))
        wait_for(lambda: "does not verify" in self.read_log(), 15,
                 "kiosk-sync refusing the other CA")
        time.sleep(0.5)
        st = self.stats()
        self.assertGreaterEqual(st["connections"], 1)
        self.assertEqual(st["bodies"], 0, "a body reached a server of another CA")
        self.assertEqual(st["requests"], 0)
        self.assertEqual(self.events_left(), ["evt-000000000001.json"])
        self.assertIn("heartbeat not taken", self.read_log())
        self.control("/faults", {"other_ca": False})
        # No restart: the slow schedule comes round and finds the right CA.
        self.wait_delivered(recs, 15, "the event after the right CA is back")

    def test_n_wrong_pin_receives_no_body(self):
        with open(os.path.join(self.certs, "other-server.pin")) as f:
            wrong = f.read().strip()
        with open(os.path.join(self.certs, "server.pin")) as f:
            right = f.read().strip()
        self.assertNotEqual(wrong, right)
        url = "https://127.0.0.1:%d" % self.port
        self.conf = self.write_conf(url, "wrongpin.conf", extra="pinned_pubkey = %s\n" % wrong)
        self.start_sync(heartbeat=False)
        recs = self.write_events((1,))
        wait_for(lambda: "does not verify" in self.read_log(), 15,
                 "kiosk-sync refusing the wrong pin")
        time.sleep(0.5)
        st = self.stats()
        self.assertGreaterEqual(st["connections"], 1)
        self.assertEqual(st["bodies"], 0, "a body reached a server with the wrong pin")
        self.assertEqual(self.events_left(), ["evt-000000000001.json"])
        self.assertEqual(stop_pid(self.sync), 0)
        self.conf = self.write_conf(url, "rightpin.conf", extra="pinned_pubkey = %s\n" % right)
        self.start_sync()
        self.wait_delivered(recs, 15, "the event with the right pin")

    def test_o_retry_after_honoured(self):
        self.start_sync()
        self.control("/faults", {"fail": {"count": 1, "status": 503, "retry_after": 2}})
        recs = self.write_events((1,))
        wait_for(lambda: self.event_bodies() >= 1, 10, "the first attempt")
        t0 = time.monotonic()
        wait_for(lambda: self.event_bodies() >= 2, 10, "the second attempt")
        gap = time.monotonic() - t0
        # Without Retry-After the first backoff window is 1 s (full jitter).
        self.assertGreaterEqual(gap, 1.8, "Retry-After: 2 not honoured (%.2f s)" % gap)
        self.assertLess(gap, 6 * SLOW)
        self.wait_delivered(recs, 10, "the event after the 503")

    def test_p_409_goes_to_dead_letters(self):
        self.start_sync()
        first, t1 = event_body(1)
        self.write_event(1, t1)
        wait_for(lambda: not self.events_left() and len(self.recorded()) == 1, 15,
                 "the first event")
        clash = dict(first, seq=2, kind="pin_blocked")  # same event_id, another body
        self.write_event(2, json.dumps(clash, separators=(",", ":")))
        wait_for(lambda: self.dead_letters() == ["evt-000000000002.json"], 15,
                 "the 409 in dead letters")
        self.assertEqual(self.events_left(), [])
        self.assertEqual(self.stats()["conflicts"], 1)
        time.sleep(1.5)
        self.assert_recorded_once([first])
        self.assertEqual(self.stats()["conflicts"], 1, "a dead letter was sent again")
        self.assert_no_pin_sent()

    def test_q_heartbeat(self):
        # Section 4: one at start (showing the backlog as it was), then every
        # heartbeat_s (10 here, +-10 %), with the reader the kiosk reported.
        self.conf = self.write_conf("https://127.0.0.1:%d" % self.port, sync_extra="heartbeat_s = 10\n")
        dead = self.outbox + ".dead"
        os.mkdir(dead, 0o700)
        _, text = event_body(3)
        with open(os.path.join(dead, "evt-000000000003.json"), "w") as f:
            f.write(text)
        recs = self.write_events((6, 7))
        with open(os.path.join(self.outbox, "seq"), "w") as f:
            f.write("8\n")
        self.start_sync()
        first = self.control("/heartbeats")[0]["body"]
        version = subprocess.run([sync_bin(), "--version"], capture_output=True, text=True,
                                 timeout=10).stdout.split()[-1]
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        self.assertEqual(first["version"], version)
        self.assertEqual((first["outbox_depth"], first["dead_letters"], first["last_event_seq"],
                          first["reader"]), (2, 1, 8, "unknown"))
        self.assertLessEqual(abs(first["uptime_s"] - uptime), 5)
        wait_for(lambda: not self.events_left() and len(self.recorded()) == 2, 15, "the two events")
        self.assert_recorded_once(recs)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5 * SLOW)
        try:
            s.connect(self.socket)
            s.sendall(b'{"cmd":"reader","state":"absent"}\n')
            self.assertEqual(s.recv(100), b'{"ok":true}\n')
        finally:
            s.close()
        t0 = time.monotonic()
        beats = wait_for(lambda: self.control("/heartbeats")[1:], 14, "the second heartbeat")
        gap = time.monotonic() - t0
        second = beats[0]["body"]
        self.assertEqual((second["outbox_depth"], second["dead_letters"], second["reader"]),
                         (0, 1, "absent"))
        self.assertLessEqual(gap, 11.5 * SLOW)
        self.assertIn("the kiosk reports its reader absent", self.read_log())
        self.assertEqual(self.stats()["recorded"], 2, "a heartbeat was taken for an event")
        self.assert_no_pin_sent()

    def test_r_systemd_notify(self):
        # Type=notify: READY=1 once the socket listens; WATCHDOG=1 from the
        # delivery loop (here every 150 ms: half of WATCHDOG_USEC), even in a
        # long backoff; STOPPING=1 at SIGTERM.
        from unittest import mock
        path = os.path.join(self.dir, "notify.sock")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(ns.close)
        ns.bind(path)
        ns.settimeout(5 * SLOW)
        self.control("/faults", {"fail": {"count": 1000, "status": 503, "retry_after": 3600}})
        with mock.patch.dict(os.environ, {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "300000"}):
            self.start_sync(heartbeat=False)
        self.assertEqual(ns.recv(100), b"READY=1")
        self.write_events((1,))
        wait_for(lambda: "retry 1 in 3600000 ms" in self.read_log(), 10, "the long Retry-After")
        got, end = [], time.monotonic() + 1.0
        while time.monotonic() < end:
            got.append(ns.recv(100))
        self.assertGreaterEqual(got.count(b"WATCHDOG=1"), 4, got)
        self.assertEqual(stop_pid(self.sync), 0)
        msgs = []
        ns.settimeout(1.0)
        try:
            while True:
                msgs.append(ns.recv(100))
        except socket.timeout:
            pass
        self.assertIn(b"STOPPING=1", msgs)

    def test_s_watchdog_through_a_backlog(self):
        # A pass that delivers a long backlog one answer at a time still
        # pings between events: systemd must not kill kiosk-sync while it
        # catches up after an outage.
        from unittest import mock
        path = os.path.join(self.dir, "notify.sock")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(ns.close)
        ns.bind(path)
        recs = self.write_events(range(1, 13))
        self.control("/faults", {"delay_ms": 300})
        with mock.patch.dict(os.environ, {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}):
            self.start_sync(heartbeat=False)
        pings, end = [], time.monotonic() + 15 * SLOW
        ns.settimeout(0.2)
        while time.monotonic() < end and (self.events_left() or len(pings) < 3):
            try:
                if ns.recv(100) == b"WATCHDOG=1":
                    pings.append(time.monotonic())
            except socket.timeout:
                pass
        self.control("/faults", {"delay_ms": 0})
        self.wait_delivered(recs, 10, "the backlog")
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertGreaterEqual(len(pings), 4, pings)
        self.assertLess(max(gaps), 1.0 * SLOW, "a ping came later than the watchdog period: %r" % gaps)

    # ---- poison records (issue 10): one bad file never holds the queue ------

    # A short bound and backoff, and a heartbeat every 10 s (the shortest) so
    # that the dead-letter figure shows within the test.
    POISON_CONF = ("dead_after_s = 2\nretry_base_ms = 200\nretry_cap_s = 1\n"
                   "heartbeat_s = 10\n")
    BOUND_S = 2.0

    def poison_conf(self):
        self.conf = self.write_conf("https://127.0.0.1:%d" % self.port,
                                    sync_extra=self.POISON_CONF)

    def make_unreadable(self, path):
        """Makes `path` unreadable for kiosk-sync; the command prefix to start
        it with. Checked: `cat` under the same prefix gets EACCES."""
        if os.geteuid() == 0:
            if not shutil.which(NO_DAC[0]):
                self.skipTest("setpriv is needed to drop CAP_DAC_OVERRIDE as root")
            os.chown(path, 65534, 65534)
            os.chmod(path, 0o600)
            prefix = NO_DAC
        else:
            os.chmod(path, 0)
            prefix = ()
        probe = subprocess.run(list(prefix) + ["cat", path], capture_output=True, timeout=10)
        self.assertNotEqual(probe.returncode, 0, "the fixture left the file readable")
        self.assertIn(b"Permission denied", probe.stderr)
        return prefix

    def watch_aside(self, recs, bad, t0, timeout=20):
        """Polls until `recs` are all recorded and every name in `bad` has left
        the outbox; returns (time all were recorded, time the bad ones left),
        both from t0."""
        t_good = t_aside = None
        deadline = time.monotonic() + timeout * SLOW
        while (t_good is None or t_aside is None) and time.monotonic() < deadline:
            now = time.monotonic()
            if t_good is None and len(self.recorded()) >= len(recs):
                t_good = now - t0
            if t_aside is None and not set(bad) & set(self.events_left()):
                t_aside = now - t0
            time.sleep(0.05)
        tail = "\n".join(self.read_log().splitlines()[-25:])
        self.assertIsNotNone(t_good, "the events after the bad one were never delivered "
                             "(recorded %r)\n%s" % ([r["seq"] for r in self.recorded()], tail))
        self.assertIsNotNone(t_aside, "%r never set aside (outbox %r)\n%s"
                             % (bad, self.events_left(), tail))
        self.assert_recorded_once(recs)
        return t_good, t_aside

    def assert_reason_logged(self, name, *words):
        """A line at priority err (<3>) names `name`, says dead letter, and
        holds each of `words` (the reason)."""
        lines = [ln for ln in self.read_log().splitlines() if name in ln and "dead letter" in ln]
        self.assertTrue([ln for ln in lines if ln.startswith("<3>") and all(w in ln for w in words)],
                        "no <3> line for %s with %r:\n%s" % (name, words, "\n".join(lines)))

    def next_heartbeat(self, after):
        """The body of the first heartbeat the stand-in got after the first
        `after` ones (heartbeat_s is 10 in these tests)."""
        beats = wait_for(lambda: self.control("/heartbeats")[after:], 14, "the next heartbeat")
        return beats[0]["body"]

    def test_t_unreadable_event_set_aside(self):
        self.poison_conf()
        recs = self.write_events((1,))
        _, text = event_body(2)
        self.write_event(2, text)
        recs += self.write_events((3, 4))
        prefix = self.make_unreadable(os.path.join(self.outbox, "evt-000000000002.json"))
        t0 = time.monotonic()
        self.start_sync(prefix=prefix)
        t_good, t_aside = self.watch_aside(recs, ["evt-000000000002.json"], t0)
        # Skipped, not waited for: the later events went first, and the bad
        # one was retried on its own backoff until its bound.
        self.assertLess(t_good, t_aside, "the later events waited for the bad one")
        self.assertGreaterEqual(t_aside, self.BOUND_S, "set aside before its bound")
        self.assertEqual(self.dead_letters(), ["evt-000000000002.json"])
        self.assert_reason_logged("evt-000000000002.json", "Permission denied")
        tries = [ln for ln in self.read_log().splitlines()
                 if "evt-000000000002.json" in ln and "Permission denied" in ln]
        self.assertGreaterEqual(len(tries), 2, "not retried before it was set aside")
        # Counted where the heartbeat takes its dead-letter figure.
        beat = self.next_heartbeat(len(self.control("/heartbeats")))
        self.assertEqual((beat["dead_letters"], beat["outbox_depth"]), (1, 0), beat)
        # And the queue keeps moving.
        recs += self.write_events((5,))
        wait_for(lambda: len(self.recorded()) == 4 and not self.events_left(), 10, "event 5")
        self.assert_recorded_once(recs)

    def test_u_special_files_named_like_events(self):
        self.poison_conf()
        recs = self.write_events((1,))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(sock.close)
        sock.bind(os.path.join(self.outbox, "evt-000000000002.json"))
        os.mkfifo(os.path.join(self.outbox, "evt-000000000003.json"), 0o600)
        os.mkdir(os.path.join(self.outbox, "evt-000000000004.json"), 0o700)
        recs += self.write_events((5, 6))
        bad = ["evt-%012d.json" % n for n in (2, 3, 4)]
        t0 = time.monotonic()
        self.start_sync()
        t_good, t_aside = self.watch_aside(recs, bad, t0)
        self.assertLess(t_good, t_aside, "the later events waited for the bad ones")
        self.assertGreaterEqual(t_aside, self.BOUND_S, "set aside before the bound")
        self.assertEqual(self.dead_letters(), bad)
        import stat
        self.assertTrue(stat.S_ISSOCK(os.lstat(os.path.join(self.outbox + ".dead", bad[0])).st_mode))
        for name, what in zip(bad, ("socket", "FIFO", "directory")):
            self.assert_reason_logged(name, what)
        beat = self.next_heartbeat(len(self.control("/heartbeats")))
        self.assertEqual((beat["dead_letters"], beat["outbox_depth"]), (3, 0), beat)
        self.assertIsNone(self.sync.poll(), "kiosk-sync hung up or died on a FIFO")

    def test_v_dead_letter_name_taken(self):
        # An older dead letter of the same name is evidence too: both stay.
        self.poison_conf()
        dead = self.outbox + ".dead"
        os.mkdir(dead, 0o700)
        with open(os.path.join(dead, "evt-000000000002.json"), "w") as f:
            f.write("the older one")
        recs = self.write_events((1,))
        self.write_event(2, '{"event_id": "truncated')
        recs += self.write_events((3,))
        t0 = time.monotonic()
        self.start_sync()
        self.watch_aside(recs, ["evt-000000000002.json"], t0)
        self.assertEqual(self.dead_letters(), ["evt-000000000002.1.json", "evt-000000000002.json"])
        with open(os.path.join(dead, "evt-000000000002.json")) as f:
            self.assertEqual(f.read(), "the older one")
        with open(os.path.join(dead, "evt-000000000002.1.json")) as f:
            self.assertEqual(f.read(), '{"event_id": "truncated')
        self.assert_reason_logged("evt-000000000002.json", "evt-000000000002.1.json")
        beat = self.next_heartbeat(len(self.control("/heartbeats")))
        self.assertEqual((beat["dead_letters"], beat["outbox_depth"]), (2, 0), beat)

    def test_w_unmovable_still_counted(self):
        # No dead-letter folder can be made (a file holds its name): the bad
        # event cannot be moved, yet the queue goes on and the figures show it.
        self.poison_conf()
        with open(self.outbox + ".dead", "w") as f:
            f.write("not a folder")
        recs = self.write_events((1,))
        self.write_event(2, "not json")
        recs += self.write_events((3,))
        self.start_sync()
        wait_for(lambda: len(self.recorded()) == 2
                 and self.events_left() == ["evt-000000000002.json"], 15,
                 "the events around the bad one")
        self.assert_recorded_once(recs)
        wait_for(lambda: [ln for ln in self.read_log().splitlines()
                          if ln.startswith("<3>") and "evt-000000000002.json" in ln
                          and "cannot be moved" in ln], 10, "the unmovable dead letter logged")
        beat = self.next_heartbeat(len(self.control("/heartbeats")))
        self.assertEqual((beat["dead_letters"], beat["outbox_depth"]), (1, 0), beat)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5 * SLOW)
        try:
            s.connect(self.socket)
            s.sendall(b'{"cmd":"status"}\n')
            status = json.loads(s.recv(4096))
        finally:
            s.close()
        self.assertIn("evt-000000000002.json", status["last_error"], status)
        self.assertEqual(status.get("unmovable"), 1, status)

    def test_x_silent_clients_do_not_delay_the_kiosk(self):
        # Local clients that connect and say nothing (or begin a line and
        # never end it), more than the server keeps: the kiosk's question is
        # still answered within its timeout (status_timeout_ms = 3000 here).
        self.start_sync()
        silent = silent_clients(self.socket, 40, partial_every=4)
        self.addCleanup(lambda: [c.close() for c in silent])
        self.assertGreaterEqual(len(silent), 8, "fewer than 8 silent clients connected")
        for card, want in (("A12345678", {"ok": True, "status": "lost", "holder": "张*明"}),
                           ("B00000001", {"ok": True, "status": "active"})):
            t = time.monotonic()
            self.assertEqual(self.ask(card, timeout=3.0), want)
            self.assertLess(time.monotonic() - t, 3.0 * SLOW)
        # The silent ones are dropped at their own deadline, not kept for ever.
        def dropped(c):
            c.settimeout(5 * SLOW)
            try:
                c.recv(100)
            except OSError:
                return False
            return True
        self.assertTrue(all(dropped(c) for c in silent[:8]), "a silent client was kept")

    def test_y_invalid_bodies_never_leave(self):
        # bureau-api.md section 2, checked before a body leaves: each of these
        # is a dead letter with its reason, and none reaches the stand-in.
        self.poison_conf()
        good = self.write_events((1,))
        bad = {}
        for seq, change, reason in (
                (2, {"pin": "582039"}, "pin"),
                (3, {"terminal_id": "GZ-TEST-0002"}, "terminal_id"),
                (4, {"kind": "pin_guessed"}, "kind"),
                (5, {"event_id": "not-a-uuid"}, "event_id"),
                (6, {"event_id": str(uuid.uuid1())}, "event_id"),
                (7, {"seq": 70}, "seq"),
                (8, {"occurred_at": "2026-11-27T16:30:12+08:00"}, "occurred_at"),
                (9, {"card_number": "A1234567"}, "card_number")):
            rec, _ = event_body(seq)
            rec.update(change)
            self.write_event(seq, json.dumps(rec, separators=(",", ":")))
            bad["evt-%012d.json" % seq] = (rec, reason)
        good += self.write_events((10,))
        self.start_sync()
        wait_for(lambda: not self.events_left(), 15, "an empty outbox")
        with open(os.path.join(self.certs, "raw-bodies.log"), encoding="utf-8") as f:
            raw = f.read()
        for name, (rec, reason) in sorted(bad.items()):
            self.assertNotIn('"event_id":"%s"' % rec["event_id"], raw.replace(" ", ""),
                             "%s reached the bureau" % name)
            self.assert_reason_logged(name, reason)
        self.assert_recorded_once(good)
        self.assertEqual(self.dead_letters(), sorted(bad))
        self.assertNotIn('"pin"', raw)
        self.assertNotIn("582039", self.read_log(), "a PIN in kiosk-sync's log")
        self.assertNotIn("A12345678", self.read_log(), "an unmasked card number in the log")
        self.assertEqual(self.control("/stats")["recorded"], 2)
        self.assert_no_pin_sent()

    # ---- issue 12: PIN resets (bureau-api.md section 3) ---------------------
    # The code the stand-in "texted" comes from its control port (GET /sms),
    # never from its output's wording. The parsing and mapping of every
    # answer are also covered by tests/unit/test_sync_server_reset.c.

    def sms(self, card):
        """The stand-in's last texted code for `card`: {"code", "reset_id"}, or None."""
        try:
            return self.control("/sms?card=%s" % card)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise

    def test_z1_reset_request_and_authorize(self):
        self.start_sync()
        self.assertIsNone(self.sms("B00000001"))
        r = self.ask_obj({"cmd": "reset_request", "card_number": "B00000001"})
        self.assertTrue(r.get("ok"), r)
        self.assertRegex(r["reset_id"], r"^[A-Za-z0-9._-]{1,63}$")
        # The stand-in's default phone for an active card, masked by the bureau.
        self.assertEqual(r["phone_masked"], "138****5678", r)
        self.assertEqual(r["expires_in_s"], 300, r)
        rid = r["reset_id"]
        sms = self.sms("B00000001")
        self.assertIsNotNone(sms, "the stand-in texted no code")
        self.assertEqual(sms["reset_id"], rid, sms)
        code = sms["code"]
        self.assertRegex(code, r"^[0-9]{6}$")
        chal = "1122334455667788"
        wrong_code = "000000" if code != "000000" else "111111"
        wrong = self.ask_obj({"cmd": "reset_authorize", "reset_id": rid, "sms_code": wrong_code,
                              "card_challenge": chal})
        self.assertEqual(wrong, {"ok": False, "error": "code_invalid", "attempts_left": 2})
        ok = self.ask_obj({"cmd": "reset_authorize", "reset_id": rid, "sms_code": code,
                           "card_challenge": chal})
        key = hashlib.sha256(b"ssse-test-reset-key:B00000001").digest()[:16]
        mac = hmac.new(key, bytes.fromhex(chal) + b"B00000001", hashlib.sha256).digest()[:16]
        self.assertEqual(ok, {"ok": True, "command_apdu": ("842C000010" + mac.hex()).upper()})
        again = self.ask_obj({"cmd": "reset_authorize", "reset_id": rid, "sms_code": code,
                              "card_challenge": chal})
        self.assertEqual(again, {"ok": False, "error": "already_used"})
        self.assertEqual(self.ask_obj({"cmd": "reset_authorize", "reset_id": "r-nosuch",
                                       "sms_code": "123456", "card_challenge": chal}),
                         {"ok": False, "error": "reset_not_found"})
        resets = self.control("/resets")["resets"]
        self.assertEqual([(x["reset_id"], x["state"]) for x in resets], [(rid, "used")], resets)
        stats = self.control("/stats")
        self.assertEqual((stats["resets_started"], stats["resets_authorized"], stats["codes_invalid"]),
                         (1, 1, 1), stats)
        log = self.read_log()
        self.assertNotIn(wrong_code, log, "an SMS code in kiosk-sync's log")
        self.assertNotIn(code, log, "an SMS code in kiosk-sync's log")
        self.assertNotIn("B00000001", log)

    def test_z2_reset_refusals_and_no_retry(self):
        self.start_sync()
        for bad in ({"cmd": "reset_request", "card_number": "../x"},
                    {"cmd": "reset_authorize", "reset_id": "..", "sms_code": "123456",
                     "card_challenge": "1122334455667788"},
                    {"cmd": "reset_authorize", "reset_id": "r-1", "sms_code": "12345",
                     "card_challenge": "1122334455667788"},
                    {"cmd": "reset_authorize", "reset_id": "r-1", "sms_code": "123456",
                     "card_challenge": "11223344"}):
            self.assertEqual(self.ask_obj(bad), {"ok": False, "error": "bad_request"}, bad)
        self.assertEqual(self.ask_obj({"cmd": "reset_request", "card_number": "C99999999"}),
                         {"ok": False, "error": "card_unknown"})
        # A12345678 is lost at this bureau: no reset, no code.
        self.assertEqual(self.ask_obj({"cmd": "reset_request", "card_number": "A12345678"}),
                         {"ok": False, "error": "card_not_active"})
        self.assertIsNone(self.sms("A12345678"))
        # The bureau down: one POST, unreachable, never a second (another SMS).
        before = self.control("/stats")
        self.control("/faults", {"fail": {"count": 5, "status": 503}, "only": "reset_start"})
        self.assertEqual(self.ask_obj({"cmd": "reset_request", "card_number": "B00000001"}),
                         {"ok": False, "error": "bureau_unreachable"})
        time.sleep(0.5)
        after = self.control("/stats")
        self.assertEqual(after.get("requests", 0) - before.get("requests", 0), 1, (before, after))
        self.assertEqual(after["resets_started"], 0, after)
        self.assertIsNone(self.sms("B00000001"))
        # The same for the authorize call: one POST, and the code still good.
        self.control("/faults", {"reset": True})
        r = self.ask_obj({"cmd": "reset_request", "card_number": "B00000001"})
        self.assertTrue(r.get("ok"), r)
        code = self.sms("B00000001")["code"]
        chal = "8877665544332211"
        self.control("/faults", {"fail": {"count": 5, "status": 503}, "only": "reset_authorize"})
        before = self.control("/stats")
        self.assertEqual(self.ask_obj({"cmd": "reset_authorize", "reset_id": r["reset_id"],
                                       "sms_code": code, "card_challenge": chal}),
                         {"ok": False, "error": "bureau_unreachable"})
        time.sleep(0.5)
        after = self.control("/stats")
        self.assertEqual(after.get("requests", 0) - before.get("requests", 0), 1, (before, after))
        self.control("/faults", {"reset": True})
        ok = self.ask_obj({"cmd": "reset_authorize", "reset_id": r["reset_id"],
                           "sms_code": code, "card_challenge": chal})
        self.assertTrue(ok.get("ok"), ok)
        self.assertRegex(ok["command_apdu"], r"^842C000010[0-9A-F]{32}$")
        self.assertNotIn(code, self.read_log(), "an SMS code in kiosk-sync's log")
