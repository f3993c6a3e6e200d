"""test_service.py - the technician's service screen (issue 5): the gesture
no citizen makes by chance (a 3 s press on the title, top left), a wrong
code, the right code, each figure shown, dead letters moved back, and the
screen leaving by itself. The code's salted hash is made by the real
kiosk-code-hash; codes are noted like PINs, so the harness's audit fails
if one ever reaches a log or a file.
"""

import json
import os
import re
import subprocess
import time
import unittest
import uuid

from harness import INITIAL_PIN, REPO, SLOW, TERMINAL_ID, Kiosk, assert_stacks_have_room, kiosk_bin, slow

CODE = "24681357"
WRONG = "13572468"
HOLD_MS = 3200
MAX_ITERATIONS = 250000     # TCODE_ITER_MAX (src/service/tcode.h)


def code_hash(code, iterations=1000):
    tool = os.path.join(os.path.dirname(kiosk_bin()), "src", "service", "kiosk-code-hash")
    p = subprocess.run([tool, "--iterations", str(iterations)], input=code + "\n", capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError("kiosk-code-hash failed: %s" % p.stderr)
    line = p.stdout.strip()
    assert line.startswith("code_hash = "), line
    return line[len("code_hash = "):]


def kiosk_version():
    out = subprocess.run([kiosk_bin(), "--version"], capture_output=True, text=True, timeout=10)
    return out.stdout.split()[-1]


class ServiceTest(unittest.TestCase):
    maxDiff = None

    def kiosk(self, code=CODE, idle_s=60, iterations=1000, **kw):
        service = {"idle_s": idle_s}
        if code:
            service["code_hash"] = code_hash(code, iterations)
        k = Kiosk(self, config={"service": service}, **kw)
        self.addCleanup(k.close)
        k.note_pin(CODE)
        k.note_pin(WRONG)
        return k

    def press_title(self, k, hold_ms):
        k.ok({"cmd": "tap", "x": 30, "y": 20, "hold_ms": hold_ms})

    def texts(self, k):
        return [t["text"] for t in k.layout()["texts"]]

    def figure(self, k, label):
        """The value shown after `label` on the service screen."""
        for t in self.texts(k):
            if t.startswith(label + "   "):
                return t[len(label) + 3:]
        self.fail("no %r line among %r" % (label, self.texts(k)))

    def open_service(self, k):
        self.press_title(k, HOLD_MS)
        k.wait("SERVICE_CODE", timeout_ms=int(slow(6) * 1000))
        k.type(CODE)
        k.tap("key.ok")
        return k.wait("SERVICE", timeout_ms=int(slow(5) * 1000))

    def dead_letter(self, k, seq):
        dead = k.outbox + ".dead"
        os.makedirs(dead, mode=0o700, exist_ok=True)
        rec = {"event_id": str(uuid.uuid4()), "terminal_id": TERMINAL_ID, "seq": seq,
               "card_number": "A12345678", "kind": "pin_changed",
               "occurred_at": "2026-11-27T08:30:12Z"}
        with open(os.path.join(dead, "evt-%012d.json" % seq), "w") as f:
            json.dump(rec, f)


class TestService(ServiceTest):

    def test_gesture_code_figures_dead_letters(self):
        k = self.kiosk()
        # A card read first: the screen shows its profile.
        k.insert("A12345678")
        k.wait("ENTER_OLD_PIN")
        k.remove()
        k.wait("IDLE")
        self.dead_letter(k, 900001)
        self.dead_letter(k, 900002)

        # A tap, and a press shorter than 3 s, on the title: nothing.
        self.press_title(k, 0)
        time.sleep(0.3)
        self.assertEqual(k.state()["state"], "IDLE")
        self.press_title(k, 1500)
        time.sleep(slow(2.0))
        self.assertEqual(k.state()["state"], "IDLE")
        # A long press elsewhere (mid-screen): nothing either.
        k.ok({"cmd": "tap", "x": 500, "y": 500, "hold_ms": HOLD_MS})
        time.sleep(slow(3.6))
        self.assertEqual(k.state()["state"], "IDLE")

        # The gesture; a wrong code; then the right one.
        self.press_title(k, HOLD_MS)
        st = k.wait("SERVICE_CODE", timeout_ms=int(slow(6) * 1000))
        self.assertIsNone(st.get("notice"))
        k.type(WRONG)
        k.tap("key.ok")
        st = k.wait("SERVICE_CODE")
        deadline = time.monotonic() + slow(3)
        while k.state().get("notice") != "wrong_code" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(k.state().get("notice"), "wrong_code")
        self.assertIn("wrong technician code", k.log_text())
        k.type(CODE)
        k.tap("key.ok")
        k.wait("SERVICE")
        self.assertIn("technician code accepted", k.log_text())
        # A card read, two codes checked: both secret threads' stacks have
        # room (the checker's is held to a few KiB of PBKDF2).
        assert_stacks_have_room(self, k)

        # Every figure, in English for the labels.
        k.tap("btn.lang")
        deadline = time.monotonic() + slow(3)
        while "Bureau   reachable" not in self.texts(k) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.figure(k, "Version"), kiosk_version())
        self.assertEqual(self.figure(k, "Terminal"), TERMINAL_ID)
        self.assertEqual(self.figure(k, "Reader in use"), "simulated card (development)")
        self.assertEqual(self.figure(k, "Readers"), "simulated card (development)")
        self.assertEqual(self.figure(k, "Last card profile"), "ssse")
        self.assertEqual(self.figure(k, "Bureau"), "reachable")
        self.assertEqual(self.figure(k, "Last error"), "none")
        self.assertEqual(self.figure(k, "Outbox"), str(len([n for n in k.outbox_names()
                                                             if n.startswith("evt-")])))
        self.assertEqual(self.figure(k, "Dead letters"), "2")
        self.assertRegex(self.figure(k, "Uptime"), r"^0d 00:00:[0-5][0-9]$")
        self.assertRegex(self.figure(k, "Free for the outbox"), r"^[0-9.]+ (MiB|GiB)$")
        self.assertEqual(self.figure(k, "Outbox disk"), "fine")
        labels = {w["id"]: w["label"] for w in k.layout()["widgets"]}
        self.assertEqual(labels["btn.requeue"], "Send dead letters again (2)")

        # Dead letters back into the outbox.
        k.tap("btn.requeue")
        deadline = time.monotonic() + slow(3)
        while self.figure(k, "Dead letters") != "0" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.figure(k, "Dead letters"), "0")
        self.assertEqual(os.listdir(k.outbox + ".dead"), [])
        self.assertIn("evt-000000900001.json", k.outbox_names())
        self.assertIn("evt-000000900002.json", k.outbox_names())
        self.assertIn("2 dead letter(s) moved back", k.log_text())

        # Exit: back to IDLE; a journey works as before.
        k.tap("btn.exit")
        k.wait("IDLE")

    def test_leaves_by_itself_when_untouched(self):
        k = self.kiosk(idle_s=5)
        self.open_service(k)
        time.sleep(3)
        self.assertEqual(k.state()["state"], "SERVICE")
        k.wait("IDLE", timeout_ms=int(slow(5) * 1000))
        # And from the code screen too.
        self.press_title(k, HOLD_MS)
        k.wait("SERVICE_CODE", timeout_ms=int(slow(6) * 1000))
        k.wait("IDLE", timeout_ms=int(slow(8) * 1000))

    def test_three_wrong_codes_lock_the_gesture(self):
        k = self.kiosk()
        self.press_title(k, HOLD_MS)
        k.wait("SERVICE_CODE", timeout_ms=int(slow(6) * 1000))
        for _ in range(3):
            k.type(WRONG)
            k.tap("key.ok")
            time.sleep(0.2)
        k.wait("IDLE")
        self.press_title(k, HOLD_MS)
        time.sleep(slow(3.8))
        self.assertEqual(k.state()["state"], "IDLE", "the gesture works during the lockout")
        self.assertEqual(k.log_text().count("wrong technician code"), 3)

    def test_no_code_no_service_screen(self):
        k = self.kiosk(code=None)
        self.press_title(k, HOLD_MS)
        time.sleep(slow(3.8))
        self.assertEqual(k.state()["state"], "IDLE")

    def test_bad_hash_in_the_config_stops_the_start(self):
        k = Kiosk(self, start=False, config={"service": {"code_hash": "pbkdf2-sha256$12$zz"}})
        self.addCleanup(k.close, audit=False)
        p = subprocess.run([kiosk_bin(), "--config", k.conf_path], capture_output=True, text=True,
                           timeout=20, env=dict(os.environ, SDL_VIDEODRIVER="dummy"))
        self.assertEqual(p.returncode, 2)
        self.assertRegex(p.stderr, r"kiosk\.conf:\d+: code_hash: ")


    def test_the_screen_answers_while_a_slow_code_is_checked(self):
        # The most iterations a code_hash may have: a check takes a while,
        # and the main loop must not wait for it (issue 10).
        k = self.kiosk(iterations=MAX_ITERATIONS)
        self.press_title(k, HOLD_MS)
        k.wait("SERVICE_CODE", timeout_ms=int(slow(6) * 1000))
        k.type(CODE)
        t0 = time.monotonic()
        k.tap("key.ok")
        tapped = time.monotonic() - t0
        replies = []
        while True:
            t1 = time.monotonic()
            st = k.state()
            replies.append(time.monotonic() - t1)
            if st["state"] != "SERVICE_CODE":
                break
            self.assertLess(time.monotonic() - t0, slow(10), "the check never ended")
            time.sleep(0.01)
        checked = time.monotonic() - t0
        self.assertEqual(st["state"], "SERVICE", st)
        # Nothing waited for the check, and it took long enough to be seen.
        self.assertLess(tapped, 0.1 * SLOW, "the OK tap took %.3f s (check %.3f s)" % (tapped, checked))
        self.assertGreater(len(replies), 3, "the check took %.3f s: too quick to tell" % checked)
        self.assertLess(max(replies), 0.1 * SLOW, "a state took %.3f s during a %.3f s check"
                        % (max(replies), checked))

    def test_typing_during_a_check_is_not_a_second_code(self):
        k = self.kiosk(iterations=MAX_ITERATIONS)
        self.press_title(k, HOLD_MS)
        k.wait("SERVICE_CODE", timeout_ms=int(slow(6) * 1000))
        k.type(WRONG)
        k.tap("key.ok")
        k.type(CODE)           # typed while the wrong one is checked
        k.tap("key.ok")
        deadline = time.monotonic() + slow(10)
        while time.monotonic() < deadline:
            st = k.state()
            if st.get("notice") == "wrong_code":
                break
            time.sleep(0.02)
        self.assertEqual((st["state"], st.get("notice"), st["pin_length"]),
                         ("SERVICE_CODE", "wrong_code", 0), st)



class TestServiceRealSync(ServiceTest):

    def test_bureau_reachable_then_not(self):
        k = self.kiosk(sync="real")
        self.open_service(k)
        k.tap("btn.lang")
        deadline = time.monotonic() + slow(5)
        while "Bureau   reachable" not in self.texts(k) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.figure(k, "Bureau"), "reachable")
        k.tap("btn.exit")
        k.wait("IDLE")
        # The bureau goes away; a change is made and kiosk-sync fails to
        # deliver it: the screen says so, with kiosk-sync's error.
        k.stop_bureau()
        k.note_pin("582039")
        k.change_pin("A12345678", INITIAL_PIN, "582039")
        deadline = time.monotonic() + slow(10)
        while "curl" not in k.sync_log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.open_service(k)
        deadline = time.monotonic() + slow(5)
        while "Bureau   unreachable" not in self.texts(k) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.figure(k, "Bureau"), "unreachable")
        self.assertRegex(self.figure(k, "Last error"), r"^curl \d+: ")
        self.assertEqual(self.figure(k, "Outbox"), "1")

    def test_a_record_kiosk_sync_cannot_set_aside_is_shown(self):
        # A body kiosk-sync refuses to send, and no folder to set it aside
        # in: it stays in the outbox, unsent, and the technician sees it.
        k = self.kiosk(sync="real")
        dead = k.outbox + ".dead"
        if os.path.isdir(dead):
            os.rmdir(dead)
        with open(dead, "w") as f:
            f.write("a file where the dead letters' folder should be\n")
        rec = {"event_id": str(uuid.uuid4()), "terminal_id": TERMINAL_ID, "seq": 77,
               "card_number": "A77000001", "kind": "pin_exploded",
               "occurred_at": "2026-11-27T08:30:12Z"}
        with open(os.path.join(k.outbox, "evt-%012d.json" % 77), "w") as f:
            json.dump(rec, f)
        deadline = time.monotonic() + slow(10)
        while "pin_exploded" not in k.sync_log_text() and "kind" not in k.sync_log_text() \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        self.open_service(k)
        k.tap("btn.lang")
        deadline = time.monotonic() + slow(5)
        while time.monotonic() < deadline:
            if "1 more stuck in the outbox" in self.figure(k, "Dead letters"):
                break
            time.sleep(0.1)
        self.assertRegex(self.figure(k, "Dead letters"), r"; 1 more stuck in the outbox$")
        self.assertEqual(k.recorded(), [])


if __name__ == "__main__":
    unittest.main()
