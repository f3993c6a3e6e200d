"""test_journeys.py - the kiosk end to end, driven only through its control socket.

One kiosk per test (start-up is ~50 ms), each in its own temp dir with its own
fake_sync; harness.Kiosk.close() audits what was written (no PIN anywhere,
no unmasked card number in logs, no sanitizer/valgrind report) and is run as
a cleanup, so every test also fails on a leaked PIN.

Run them with tests/integration/run.py (or python3 -m unittest in this dir).
"""

import json
import os
import time
import unittest

from harness import INITIAL_PIN, SLOW, TERMINAL_ID, Conn, Kiosk, KioskError, png_size, run_cli, slow

NEW_PIN = "582039"
OTHER_PIN = "730164"
WRONG_PIN = "918273"
DIGIT_IDS = ["key.%d" % d for d in range(10)]


class KioskTest(unittest.TestCase):
    """Gives each test kiosks that are closed and audited at cleanup."""

    maxDiff = None

    def kiosk(self, **kw):
        k = Kiosk(self, **kw)
        self.addCleanup(lambda: k.close(keep=self.failed_so_far()))
        return k

    def failed_so_far(self):
        # unittest has no public "has this test failed yet"; the result object
        # it runs with lists failures by test (or by subtest of this test).
        result = getattr(getattr(self, "_outcome", None), "result", None)
        for t, _ in getattr(result, "failures", []) + getattr(result, "errors", []):
            if t is self or getattr(t, "test_case", None) is self:
                return True
        return False

    # ---- assertions on a state reply ----------------------------------------

    def assertState(self, st, state, notice=None, pin_length=None, tries_left="any", lang=None):
        """`notice=None` means "no notice"; tries_left None means absent."""
        self.assertTrue(st.get("ok"), st)
        self.assertEqual(st.get("state"), state, st)
        self.assertEqual(st.get("notice"), notice, st)
        if pin_length is not None:
            self.assertEqual(st.get("pin_length"), pin_length, st)
        if tries_left != "any":
            self.assertEqual(st.get("tries_left"), tries_left, st)
        if lang is not None:
            self.assertEqual(st.get("lang"), lang, st)

    def settle(self, k, busy, timeout=5):
        """Polls until the kiosk has left the `busy` state; returns the state."""
        return k.settle(busy, timeout)

    def verify(self, k, pin):
        """Types `pin` on ENTER_OLD_PIN, presses OK; returns the state after VERIFYING."""
        k.enter_pin(pin)
        return self.settle(k, "VERIFYING")

    def assertNoRecords(self, k):
        self.assertEqual(k.records(), [])
        self.assertEqual(k.intents(), [])


# =============================================================================
class TestHappyPath(KioskTest):

    def test_happy_path_then_the_card_has_the_new_pin(self):
        k = self.kiosk()
        st = k.state()
        self.assertState(st, "IDLE", None, 0, None, "zh")
        self.assertEqual(st["card"], "absent")
        self.assertGreaterEqual(st["frames"], 1)
        self.assertIsInstance(st["version"], str)
        self.assertTrue(st["version"])

        k.insert("A12345678", INITIAL_PIN, 3)
        st = k.wait("ENTER_OLD_PIN")
        self.assertState(st, "ENTER_OLD_PIN", None, 0)
        self.assertEqual(st["card"], "present")
        if "card_masked" in st:
            self.assertEqual(st["card_masked"], "A12***678")

        k.type(INITIAL_PIN)
        self.assertEqual(k.state()["pin_length"], 6)
        k.tap("key.ok")
        st = k.wait("ENTER_NEW_PIN")
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)

        k.type(NEW_PIN)
        self.assertEqual(k.state()["pin_length"], 6)
        k.tap("key.ok")
        st = k.wait("CONFIRM_NEW_PIN")
        self.assertState(st, "CONFIRM_NEW_PIN", None, 0)
        self.assertNoRecords(k)

        k.type(NEW_PIN)
        k.tap("key.ok")
        st = k.wait("SUCCESS")
        self.assertState(st, "SUCCESS", None, 0)
        self.assertEqual(st["card"], "present")

        recs = k.records()
        self.assertEqual([(r["kind"], r["card_number"]) for r in recs], [("pin_changed", "A12345678")])
        self.assertEqual(recs[0]["terminal_id"], TERMINAL_ID)
        self.assertEqual(k.intents(), [])

        k.remove()
        st = k.wait("IDLE")
        self.assertState(st, "IDLE", None, 0, None)
        self.assertEqual(st["card"], "absent")

        # The card took it: the old PIN is wrong now, the new one passes.
        k.to_old_pin("A12345678", INITIAL_PIN, 3)
        st = self.verify(k, INITIAL_PIN)
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, 2)
        st = self.verify(k, NEW_PIN)
        self.assertState(st, "ENTER_NEW_PIN", None, 0)
        k.tap("btn.cancel")
        k.wait("TAKE_CARD")
        k.remove()
        k.wait("IDLE")
        self.assertEqual(k.kinds(), [("pin_changed", "A12345678")])

    def test_two_changes_get_increasing_seq_and_distinct_ids(self):
        k = self.kiosk()
        k.change_pin("A10000001", INITIAL_PIN, NEW_PIN)
        k.change_pin("A10000001", NEW_PIN, OTHER_PIN)
        k.change_pin("B20000002", INITIAL_PIN, NEW_PIN)
        recs = k.records()  # checks seq increases and ids are distinct
        self.assertEqual([(r["kind"], r["card_number"]) for r in recs],
                         [("pin_changed", "A10000001"), ("pin_changed", "A10000001"),
                          ("pin_changed", "B20000002")])
        with open(os.path.join(k.outbox, "seq"), encoding="ascii") as f:
            self.assertEqual(f.read(), "%d\n" % recs[-1]["seq"])
        self.assertEqual(os.stat(k.outbox).st_mode & 0o777, 0o700)
        for name in k.outbox_names():
            # 0640: kiosk-sync (another user, same group) reads them; the
            # harness runs with umask 022, the unit with 027.
            self.assertEqual(os.stat(os.path.join(k.outbox, name)).st_mode & 0o777, 0o640, name)

    def test_several_initial_pins(self):
        k = self.kiosk(initial="123456,888888")
        k.to_old_pin("A10000005", "888888")
        st = self.verify(k, "888888")
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)
        for pin in ("888888", INITIAL_PIN):
            k.type(pin)
            k.tap("key.ok")
            self.assertState(k.state(), "ENTER_NEW_PIN", "pin_is_initial", 0)
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("SUCCESS")
        self.assertEqual(k.kinds(), [("pin_changed", "A10000005")])

    def test_four_digit_pins(self):
        k = self.kiosk(pin_length=4, initial="1357")
        k.to_old_pin("A10000006", "1357")
        k.type("13")
        k.tap("key.ok")
        self.assertState(k.state(), "ENTER_OLD_PIN", "pin_wrong_length", 2)
        k.type("57")
        k.tap("key.ok")
        st = k.wait("ENTER_NEW_PIN")
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)
        k.type("1234")
        k.tap("key.ok")
        self.assertState(k.state(), "ENTER_NEW_PIN", "pin_too_simple", 0)
        k.enter_pin("8264")
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin("8264")
        k.wait("SUCCESS")
        self.assertEqual(k.kinds(), [("pin_changed", "A10000006")])
        k.remove()
        k.wait("IDLE")
        self.assertTrue(k.pin_accepted("A10000006", "8264"))

    def test_records_survive_a_restart_and_seq_continues(self):
        k = self.kiosk()
        k.change_pin("A10000003", INITIAL_PIN, NEW_PIN)
        first = k.records()
        k.restart()
        self.assertState(k.state(), "IDLE", None, 0)
        k.change_pin("A10000004", INITIAL_PIN, NEW_PIN)
        recs = k.records()
        self.assertEqual(len(recs), 2)
        self.assertEqual(recs[0], first[0])
        self.assertGreater(recs[1]["seq"], recs[0]["seq"])


# =============================================================================
class TestWrongPin(KioskTest):

    def test_wrong_then_right(self):
        k = self.kiosk()
        k.to_old_pin("A20000001", INITIAL_PIN, 3)
        st = self.verify(k, WRONG_PIN)
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, 2)
        self.assertNoRecords(k)
        st = self.verify(k, INITIAL_PIN)
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)
        self.assertNoRecords(k)

    def test_one_try_left_is_still_wrong_pin(self):
        k = self.kiosk()
        k.to_old_pin("A20000002", INITIAL_PIN, 3)
        st = self.verify(k, WRONG_PIN)
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, 2)
        st = self.verify(k, "000111")
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, 1)
        # The last try still works with the right PIN.
        st = self.verify(k, INITIAL_PIN)
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)
        self.assertNoRecords(k)

    def test_wrong_pin_notice_survives_typing(self):
        k = self.kiosk()
        k.to_old_pin("A20000003", INITIAL_PIN, 3)
        self.verify(k, WRONG_PIN)
        k.type("12")
        st = k.state()
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 2, 2)

    def test_short_old_pin_is_wrong_length_not_a_try(self):
        k = self.kiosk()
        k.to_old_pin("A20000004", INITIAL_PIN, 3)
        k.type("1234")
        k.tap("key.ok")
        st = k.state()
        self.assertState(st, "ENTER_OLD_PIN", "pin_wrong_length", 4)
        self.assertIsNone(st.get("tries_left"), st)
        k.tap("key.back")
        k.tap("key.back")
        k.tap("key.back")
        k.tap("key.back")
        st = self.verify(k, INITIAL_PIN)
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)


# =============================================================================
class TestBlocked(KioskTest):

    def test_blocked_after_the_tries_run_out(self):
        k = self.kiosk()
        k.to_old_pin("A30000001", INITIAL_PIN, 2)
        st = self.verify(k, WRONG_PIN)
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, 1)
        st = self.verify(k, "000111")
        self.assertEqual(st["state"], "CARD_BLOCKED", st)
        self.assertEqual(st["pin_length"], 0)
        self.assertEqual(st.get("tries_left"), 0, st)
        self.assertEqual(k.kinds(), [("pin_blocked", "A30000001")])
        self.assertEqual(k.intents(), [])
        k.remove()
        self.assertState(k.wait("IDLE"), "IDLE", None, 0)

        # Back in: still blocked, and that is not news for the bureau.
        k.to_old_pin("A30000001", INITIAL_PIN, 2)
        st = self.verify(k, INITIAL_PIN)
        self.assertEqual(st["state"], "CARD_BLOCKED", st)
        self.assertEqual(k.kinds(), [("pin_blocked", "A30000001")])

    def test_card_inserted_blocked_makes_no_record(self):
        k = self.kiosk()
        k.to_old_pin("A30000002", INITIAL_PIN, 3, blocked=True)
        st = self.verify(k, INITIAL_PIN)
        self.assertEqual(st["state"], "CARD_BLOCKED", st)
        self.assertEqual(st["pin_length"], 0)
        self.assertNoRecords(k)
        k.remove()
        self.assertState(k.wait("IDLE"), "IDLE", None, 0)
        self.assertNoRecords(k)


# =============================================================================
class TestNewPinRules(KioskTest):

    def rule(self, new_pin, notice, old=INITIAL_PIN, card="A40000001"):
        k = self.kiosk()
        k.to_new_pin(card, old, 3)
        k.type(new_pin)
        k.tap("key.ok")
        st = k.state()
        self.assertState(st, "ENTER_NEW_PIN", notice, 0)
        self.assertNoRecords(k)
        return k

    def test_initial_pin_refused(self):
        self.rule(INITIAL_PIN, "pin_is_initial")

    def test_same_as_old_refused(self):
        self.rule("482915", "pin_same_as_old", old="482915", card="A40000002")

    def test_same_as_old_after_a_change(self):
        k = self.kiosk()
        k.change_pin("A40000003", INITIAL_PIN, NEW_PIN)
        k.to_new_pin("A40000003", NEW_PIN)
        self.assertState(k.state(), "ENTER_NEW_PIN", None, 0)
        k.type(NEW_PIN)
        k.tap("key.ok")
        self.assertState(k.state(), "ENTER_NEW_PIN", "pin_same_as_old", 0)

    def test_too_simple_refused(self):
        k = self.kiosk()
        k.to_new_pin("A40000004", INITIAL_PIN, 3)
        for pin in ("777777", "345678", "654321", "000000", "987654"):
            with self.subTest(pin=pin):
                k.type(pin)
                k.tap("key.ok")
                self.assertState(k.state(), "ENTER_NEW_PIN", "pin_too_simple", 0)
        # A good one still goes through afterwards.
        k.enter_pin(NEW_PIN)
        self.assertState(k.wait("CONFIRM_NEW_PIN"), "CONFIRM_NEW_PIN", None, 0)
        self.assertNoRecords(k)

    def test_wrong_length_keeps_the_digits(self):
        k = self.kiosk()
        k.to_new_pin("A40000005", INITIAL_PIN, 3)
        k.type("58203")
        k.tap("key.ok")
        self.assertState(k.state(), "ENTER_NEW_PIN", "pin_wrong_length", 5)
        # One more digit completes it; the notice goes with the typing.
        k.type("9")
        self.assertEqual(k.state()["pin_length"], 6)
        k.tap("key.ok")
        self.assertState(k.wait("CONFIRM_NEW_PIN"), "CONFIRM_NEW_PIN", None, 0)

    def test_keypad_stops_at_pin_length(self):
        k = self.kiosk()
        k.to_new_pin("A40000006", INITIAL_PIN, 3)
        k.type("58203911")
        self.assertEqual(k.state()["pin_length"], 6)
        k.tap("key.ok")
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("SUCCESS")
        self.assertEqual(k.kinds(), [("pin_changed", "A40000006")])


# =============================================================================
class TestMismatch(KioskTest):

    def test_confirm_differs(self):
        k = self.kiosk()
        k.to_confirm("A50000001", NEW_PIN)
        k.enter_pin(OTHER_PIN)
        st = k.wait("ENTER_NEW_PIN")
        self.assertState(st, "ENTER_NEW_PIN", "pins_differ", 0)
        self.assertNoRecords(k)
        # Start again: both entries agree this time.
        k.enter_pin(OTHER_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(OTHER_PIN)
        k.wait("SUCCESS")
        self.assertEqual(k.kinds(), [("pin_changed", "A50000001")])
        k.remove()
        k.wait("IDLE")
        self.assertTrue(k.pin_accepted("A50000001", OTHER_PIN))


# =============================================================================
class TestCancel(KioskTest):

    def cancel_and_check(self, k, card):
        k.tap("btn.cancel")
        st = k.wait("TAKE_CARD")
        self.assertState(st, "TAKE_CARD", "cancelled", 0)
        self.assertNoRecords(k)
        k.remove()
        self.assertState(k.wait("IDLE"), "IDLE", None, 0)
        self.assertNoRecords(k)
        # The card's PIN is what it was.
        self.assertTrue(k.pin_accepted(card, INITIAL_PIN))
        self.assertNoRecords(k)

    def test_cancel_on_old_pin(self):
        k = self.kiosk()
        k.to_old_pin("A60000001")
        k.type("123")
        self.cancel_and_check(k, "A60000001")

    def test_cancel_on_new_pin(self):
        k = self.kiosk()
        k.to_new_pin("A60000002")
        k.type("5820")
        self.cancel_and_check(k, "A60000002")

    def test_cancel_on_confirm(self):
        k = self.kiosk()
        k.to_confirm("A60000003", NEW_PIN)
        k.type("58203")
        self.cancel_and_check(k, "A60000003")

    def test_escape_key_cancels(self):
        k = self.kiosk()
        k.to_new_pin("A60000004")
        k.key("Escape")
        self.assertState(k.wait("TAKE_CARD"), "TAKE_CARD", "cancelled", 0)

    def test_no_cancel_while_the_card_works(self):
        k = self.kiosk()
        k.to_old_pin("A60000005", delay_ms=1500, delay_on="verify")
        k.enter_pin(INITIAL_PIN)
        k.wait("VERIFYING")
        ids = k.widgets()
        self.assertNotIn("btn.cancel", ids)
        r = k.cmd({"cmd": "tap", "id": "btn.cancel"})
        self.assertEqual((r.get("ok"), r.get("error")), (False, "no_such_widget"), r)
        k.key("Escape")
        self.assertEqual(k.state()["state"], "VERIFYING")
        self.assertState(k.wait("ENTER_NEW_PIN"), "ENTER_NEW_PIN", "on_initial_pin", 0)


# =============================================================================
class TestCardPulled(KioskTest):
    """Pulling the card in any state returns to IDLE with nothing typed."""

    def pulled(self, k, notice="any"):
        k.remove()
        st = k.wait("IDLE")
        self.assertEqual(st["pin_length"], 0, st)
        self.assertEqual(st["card"], "absent", st)
        self.assertIsNone(st.get("tries_left"), st)
        if notice != "any":
            self.assertEqual(st.get("notice"), notice, st)
            # The card's own "removed" answer and the reader's presence
            # change both arrive; whichever comes second must not undo the
            # first. The notice stays up for seconds: it must still be there.
            time.sleep(0.3)
            st = k.state()
            self.assertEqual((st["state"], st.get("notice")), ("IDLE", notice),
                             "the notice went away on its own: %r" % st)
        return st

    def test_pull_while_reading(self):
        k = self.kiosk()
        k.insert("A70000001", delay_ms=3000, delay_on="read")
        k.wait("READING_CARD")
        self.pulled(k, "card_removed")
        self.assertNoRecords(k)

    def test_pull_on_old_pin_with_digits(self):
        k = self.kiosk()
        k.to_old_pin("A70000002")
        k.type("1234")
        self.assertEqual(k.state()["pin_length"], 4)
        self.pulled(k, "card_removed")
        self.assertNoRecords(k)

    def test_pull_while_verifying(self):
        k = self.kiosk()
        k.to_old_pin("A70000003", delay_ms=3000, delay_on="verify")
        k.enter_pin(INITIAL_PIN)
        k.wait("VERIFYING")
        self.pulled(k, "card_removed")
        self.assertNoRecords(k)
        # The verify never reached the card: the tries are untouched.
        self.assertTrue(k.pin_accepted("A70000003", INITIAL_PIN))

    def test_pull_on_new_pin(self):
        k = self.kiosk()
        k.to_new_pin("A70000004")
        k.type("58")
        self.pulled(k, "card_removed")
        self.assertNoRecords(k)

    def test_pull_on_confirm(self):
        k = self.kiosk()
        k.to_confirm("A70000005", NEW_PIN)
        k.type("58203")
        self.pulled(k, "card_removed")
        self.assertNoRecords(k)
        self.assertTrue(k.pin_accepted("A70000005", INITIAL_PIN))

    def test_pull_while_changing(self):
        k = self.kiosk()
        k.to_confirm("A70000006", NEW_PIN, delay_ms=3000, delay_on="change")
        k.enter_pin(NEW_PIN)
        k.wait("CHANGING")
        self.assertEqual(k.intents() and len(k.intents()), 1, "an intent is on disk before the change")
        self.pulled(k, "change_unknown")
        self.assertEqual(k.kinds(), [("pin_change_unknown", "A70000006")])
        self.assertEqual(k.intents(), [])

    def test_pull_on_success(self):
        k = self.kiosk()
        k.to_confirm("A70000007", NEW_PIN)
        k.enter_pin(NEW_PIN)
        k.wait("SUCCESS")
        self.pulled(k, None)
        self.assertEqual(k.kinds(), [("pin_changed", "A70000007")])

    def test_pull_on_rejected(self):
        k = self.kiosk(statuses={"A70000008": {"status": "lost", "holder": "张*明"}})
        k.insert("A70000008")
        k.wait("CARD_REJECTED")
        self.pulled(k, None)
        self.assertNoRecords(k)

    def test_pull_on_blocked(self):
        k = self.kiosk()
        # Blocked here (the one try used up), so exactly one record is right.
        k.to_old_pin("A70000009", INITIAL_PIN, 1)
        k.enter_pin(WRONG_PIN)
        k.wait("CARD_BLOCKED")
        self.pulled(k, None)
        self.assertEqual(k.kinds(), [("pin_blocked", "A70000009")])

    def test_pull_on_error(self):
        k = self.kiosk()
        k.to_old_pin("A70000010", fault="garbage", fault_on="verify")
        k.enter_pin(INITIAL_PIN)
        k.wait("ERROR")
        self.pulled(k, None)
        self.assertNoRecords(k)

    def test_pull_on_take_card(self):
        k = self.kiosk()
        k.to_old_pin("A70000011")
        k.tap("btn.cancel")
        k.wait("TAKE_CARD")
        self.pulled(k, None)

    def test_pull_on_out_of_service(self):
        k = self.kiosk(sync=False, offline_policy="deny")
        k.insert("A70000012")
        k.wait("OUT_OF_SERVICE")
        self.pulled(k, None)
        self.assertNoRecords(k)


# =============================================================================
class TestFaults(KioskTest):

    def test_pull_during_change_the_card_took_it(self):
        k = self.kiosk()
        k.to_confirm("A80000001", NEW_PIN, fault="pull", fault_on="change")
        k.enter_pin(NEW_PIN)
        st = k.wait("IDLE")
        self.assertState(st, "IDLE", "change_unknown", 0)
        self.assertEqual(st["card"], "absent")
        self.assertEqual(k.kinds(), [("pin_change_unknown", "A80000001")])
        self.assertEqual(k.intents(), [])
        # The sim carried the command out before the pull: the new PIN is on the card.
        self.assertTrue(k.pin_accepted("A80000001", NEW_PIN))
        self.assertEqual(k.kinds(), [("pin_change_unknown", "A80000001")])

    def test_garbage_on_verify(self):
        k = self.kiosk()
        k.to_old_pin("A80000002", fault="garbage", fault_on="verify")
        k.enter_pin(INITIAL_PIN)
        st = k.wait("ERROR")
        self.assertState(st, "ERROR", "card_error", 0)
        self.assertNoRecords(k)

    def test_truncated_on_read(self):
        k = self.kiosk()
        k.insert("A80000003", fault="truncated", fault_on="read")
        st = k.wait("CARD_REJECTED")
        self.assertState(st, "CARD_REJECTED", "card_unreadable", 0)
        self.assertNoRecords(k)

    def test_garbage_on_read(self):
        k = self.kiosk()
        k.insert("A80000004", fault="garbage", fault_on="read")
        st = k.wait("CARD_REJECTED")
        self.assertState(st, "CARD_REJECTED", "card_unreadable", 0)

    def test_garbage_on_change(self):
        k = self.kiosk()
        k.to_confirm("A80000005", NEW_PIN, fault="garbage", fault_on="change")
        k.enter_pin(NEW_PIN)
        st = k.wait("ERROR")
        self.assertState(st, "ERROR", "change_unknown", 0)
        self.assertEqual(k.kinds(), [("pin_change_unknown", "A80000005")])
        self.assertEqual(k.intents(), [])

    def test_truncated_on_change(self):
        k = self.kiosk()
        k.to_confirm("A80000006", NEW_PIN, fault="truncated", fault_on="change")
        k.enter_pin(NEW_PIN)
        st = k.wait("ERROR")
        self.assertState(st, "ERROR", "change_unknown", 0)
        self.assertEqual(k.kinds(), [("pin_change_unknown", "A80000006")])

    def test_pull_on_verify(self):
        k = self.kiosk()
        k.to_old_pin("A80000007", fault="pull", fault_on="verify")
        k.enter_pin(INITIAL_PIN)
        st = k.wait("IDLE")
        self.assertEqual(st["pin_length"], 0)
        self.assertEqual(st["card"], "absent")
        self.assertNoRecords(k)

    def test_pull_on_read(self):
        k = self.kiosk()
        k.insert("A80000008", fault="pull", fault_on="read")
        st = k.wait("IDLE")
        self.assertEqual(st["card"], "absent")
        self.assertNoRecords(k)

    def test_expired_card(self):
        k = self.kiosk()
        k.insert("A80000009", expiry="20200101")
        st = k.wait("CARD_REJECTED")
        self.assertState(st, "CARD_REJECTED", "card_expired", 0)
        self.assertNoRecords(k)

    def test_card_valid_until_far_future_is_fine(self):
        k = self.kiosk()
        k.insert("A80000010", expiry="20991231")
        self.assertState(k.wait("ENTER_OLD_PIN"), "ENTER_OLD_PIN", None, 0)

    def test_locked_card(self):
        k = self.kiosk()
        k.insert("A80000011", locked=True)
        st = k.wait("CARD_BLOCKED")
        self.assertState(st, "CARD_BLOCKED", "card_locked", 0)
        self.assertNoRecords(k)
        k.remove()
        k.wait("IDLE")

    def test_iso7816_card_whole_journey(self):
        k = self.kiosk()
        k.insert("A80000012", INITIAL_PIN, 3, profile="iso7816")
        k.wait("ENTER_OLD_PIN")
        st = self.verify(k, WRONG_PIN)
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, 2)
        st = self.verify(k, INITIAL_PIN)
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("SUCCESS")
        self.assertEqual(k.kinds(), [("pin_changed", "A80000012")])
        k.remove()
        k.wait("IDLE")
        self.assertFalse(k.pin_accepted("A80000012", INITIAL_PIN))
        self.assertTrue(k.pin_accepted("A80000012", NEW_PIN))


# =============================================================================
class TestSlowCard(KioskTest):

    def test_ui_answers_while_the_card_is_slow(self):
        k = self.kiosk()
        k.to_old_pin("A90000001", delay_ms=2000, delay_on="verify")
        k.enter_pin(INITIAL_PIN)
        k.wait("VERIFYING")
        frames0 = k.state()["frames"]
        worst = 0.0
        for _ in range(5):
            t0 = time.monotonic()
            st = k.state()
            worst = max(worst, time.monotonic() - t0)
            self.assertEqual(st["state"], "VERIFYING")
        self.assertLess(worst, 0.2 * SLOW, "state took %.3f s while the card was busy" % worst)
        t0 = time.monotonic()
        k.tap("btn.lang")
        self.assertLess(time.monotonic() - t0, 0.2 * SLOW)
        st = k.state()
        self.assertEqual((st["state"], st["lang"]), ("VERIFYING", "en"), st)
        self.assertGreater(st["frames"], frames0, "no frame drawn while the card was busy")
        st = k.wait("ENTER_NEW_PIN", 5000)
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0, lang="en")


# =============================================================================
class TestTimeout(KioskTest):

    def test_warning_continue_then_timed_out(self):
        k = self.kiosk(idle_timeout_s=5, warning_s=3)
        sub = k.subscribe()
        k.to_old_pin("A91000001")
        k.type("12")
        t_touch = time.monotonic()
        k.wait_event(sub, lambda e: e.get("notice") == "timeout_warning", timeout=9)
        waited = time.monotonic() - t_touch
        self.assertGreater(waited, 4.5, "warned after %.2f s, want 5" % waited)
        self.assertLess(waited, 5.0 + slow(1.5))
        st = k.state()
        self.assertState(st, "ENTER_OLD_PIN", "timeout_warning", 2)
        self.assertIn("seconds_left", st)
        self.assertIn(st["seconds_left"], (1, 2, 3), st)
        self.assertIn("btn.continue", k.widgets())

        k.tap("btn.continue")
        st = k.state()
        self.assertState(st, "ENTER_OLD_PIN", None, 2)
        self.assertNotIn("seconds_left", st)
        self.assertNotIn("btn.continue", k.widgets())

        t_touch = time.monotonic()
        st = k.wait("TAKE_CARD", 12000)
        waited = time.monotonic() - t_touch
        self.assertState(st, "TAKE_CARD", "timed_out", 0)
        self.assertGreater(waited, 7.5, "timed out after %.2f s, want 5 + 3" % waited)
        self.assertNoRecords(k)
        k.remove()
        self.assertState(k.wait("IDLE"), "IDLE", None, 0)


# =============================================================================
class TestLanguage(KioskTest):

    def shot(self, k):
        r = k.screenshot()
        self.assertTrue(os.path.isfile(r["path"]))
        self.assertGreater(r["width"], 0)
        self.assertGreater(r["height"], 0)
        self.assertEqual(png_size(r["path"]), (r["width"], r["height"]))
        return r

    def test_switch_language(self):
        k = self.kiosk()
        self.assertEqual(k.state()["lang"], "zh")
        k.to_old_pin("A92000001")
        k.type("12")
        self.assertEqual(k.widgets()["key.ok"]["label"], "确认")
        zh = self.shot(k)
        self.assertEqual((zh["width"], zh["height"]), (1024, 768))
        k.tap("btn.lang")
        st = k.state()
        self.assertState(st, "ENTER_OLD_PIN", None, 2, lang="en")
        self.assertEqual(k.widgets()["key.ok"]["label"], "OK")
        en = self.shot(k)
        with open(zh["path"], "rb") as a, open(en["path"], "rb") as b:
            self.assertNotEqual(a.read(), b.read(), "the two languages look the same")
        k.tap("btn.lang")
        self.assertEqual(k.state()["lang"], "zh")
        self.assertEqual(k.widgets()["key.ok"]["label"], "确认")

    def test_language_switch_on_idle(self):
        k = self.kiosk()
        k.tap("btn.lang")
        self.assertEqual(k.state()["lang"], "en")
        self.shot(k)

    def test_config_language_en(self):
        k = self.kiosk(language="en")
        self.assertEqual(k.state()["lang"], "en")
        k.to_old_pin("A92000002")
        self.assertEqual(k.widgets()["key.ok"]["label"], "OK")

    def test_screenshot_to_a_bad_path_is_an_error(self):
        k = self.kiosk()
        r = k.cmd({"cmd": "screenshot", "path": "/nonexistent-dir/x.png"})
        self.assertIs(r.get("ok"), False, r)
        self.assertIn("error", r)
        r = k.cmd({"cmd": "screenshot", "path": "relative.png"})
        self.assertIs(r.get("ok"), False, r)
        self.assertEqual(k.state()["state"], "IDLE")


# =============================================================================
class TestKeypad(KioskTest):

    def digit_cells(self, k):
        w = k.widgets()
        for d in DIGIT_IDS:
            self.assertIn(d, w)
        return {d: (w[d]["x"], w[d]["y"], w[d]["w"], w[d]["h"]) for d in DIGIT_IDS}

    def test_scrambled_keypad(self):
        k = self.kiosk(scramble_keypad=True)
        k.to_old_pin("A93000001", INITIAL_PIN, 5)
        layouts = [self.digit_cells(k)]
        cells = sorted(layouts[0].values())
        self.assertEqual(len(set(cells)), 10)
        # Entries 2 and 3: wrong PINs bring a fresh ENTER_OLD_PIN.
        for wrong in (WRONG_PIN, "000111"):
            st = self.verify(k, wrong)
            self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0)
            layouts.append(self.digit_cells(k))
        st = self.verify(k, INITIAL_PIN)
        self.assertEqual(st["state"], "ENTER_NEW_PIN")
        layouts.append(self.digit_cells(k))
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        layouts.append(self.digit_cells(k))
        for lay in layouts:
            self.assertEqual(sorted(lay.values()), cells, "not a permutation of the same 10 cells")
        changed = sum(1 for a, b in zip(layouts, layouts[1:]) if a != b)
        self.assertGreaterEqual(changed, 1, "the keypad never moved in 5 entries")
        k.enter_pin(NEW_PIN)
        k.wait("SUCCESS")
        self.assertEqual(k.kinds(), [("pin_changed", "A93000001")])
        k.remove()
        k.wait("IDLE")
        self.assertTrue(k.pin_accepted("A93000001", NEW_PIN))

    def test_plain_keypad_is_phone_order_and_stays(self):
        k = self.kiosk()
        k.to_old_pin("A93000002")
        first = self.digit_cells(k)
        # Reading order (top to bottom, left to right): 1..9 then 0.
        order = sorted(DIGIT_IDS, key=lambda d: (first[d][1], first[d][0]))
        self.assertEqual(order, ["key.%d" % d for d in (1, 2, 3, 4, 5, 6, 7, 8, 9, 0)])
        self.verify(k, INITIAL_PIN)
        self.assertEqual(self.digit_cells(k), first)

    def test_a_tap_counts_once(self):
        k = self.kiosk()
        k.to_old_pin("A93000003")
        k.note_pin(INITIAL_PIN)
        for i, d in enumerate(INITIAL_PIN[:3]):
            k.tap("key." + d)
            self.assertEqual(k.state()["pin_length"], i + 1)
        # A tap at a point, and a key press, count once too.
        w = k.widgets()["key.4"]
        k.tap_xy(w["x"] + w["w"] // 2, w["y"] + w["h"] // 2)
        self.assertEqual(k.state()["pin_length"], 4)
        k.key("5")
        self.assertEqual(k.state()["pin_length"], 5)
        k.tap("key.back")
        self.assertEqual(k.state()["pin_length"], 4)
        k.tap("key.5")
        k.tap("key.6")
        self.assertEqual(k.state()["pin_length"], 6)
        k.tap("key.7")
        self.assertEqual(k.state()["pin_length"], 6)
        k.key("Return")
        st = k.wait("ENTER_NEW_PIN")
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)

    def test_tap_outside_any_widget_does_nothing(self):
        k = self.kiosk()
        k.to_old_pin("A93000004")
        k.type("1")
        k.tap_xy(2, 760)
        self.assertState(k.state(), "ENTER_OLD_PIN", None, 1)

    def test_backspace_on_empty_entry(self):
        k = self.kiosk()
        k.to_old_pin("A93000005")
        k.tap("key.back")
        k.key("Backspace")
        self.assertState(k.state(), "ENTER_OLD_PIN", None, 0)
        st = self.verify(k, INITIAL_PIN)
        self.assertEqual(st["state"], "ENTER_NEW_PIN")


# =============================================================================
class TestBureau(KioskTest):

    def rejected(self, status, notice, **kw):
        card = "A94000001"
        statuses = {card: {"status": status, "holder": "张*明"}} if status else {}
        k = self.kiosk(statuses=statuses, **kw)
        k.insert(card)
        st = k.wait("CARD_REJECTED")
        self.assertState(st, "CARD_REJECTED", notice, 0)
        self.assertNoRecords(k)
        k.remove()
        self.assertState(k.wait("IDLE"), "IDLE", None, 0)
        with open(k.sync_out_path, encoding="utf-8") as f:
            self.assertIn("card=A94***001", f.read())

    def test_reader_state_reported_for_the_heartbeat(self):
        # The simulated reader is always there: the kiosk tells the sync
        # peer so, unasked, for the heartbeat kiosk-sync sends the bureau.
        k = self.kiosk()

        def said():
            with open(k.sync_out_path, encoding="utf-8") as f:
                return "reader state=present" in f.read()
        deadline = time.monotonic() + slow(5)
        while not said() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(said(), "no reader report reached the sync peer")

    def test_lost(self):
        self.rejected("lost", "card_lost")

    def test_frozen(self):
        self.rejected("frozen", "card_frozen")

    def test_cancelled(self):
        self.rejected("cancelled", "card_cancelled")

    def test_unknown_by_default(self):
        self.rejected(None, "card_unknown", sync_default="unknown")

    def test_status_can_change_between_insertions(self):
        k = self.kiosk(statuses={"A94000002": "active"})
        k.insert("A94000002")
        k.wait("ENTER_OLD_PIN")
        k.remove()
        k.wait("IDLE")
        k.set_statuses({"A94000002": "frozen"})
        k.insert("A94000002")
        self.assertState(k.wait("CARD_REJECTED"), "CARD_REJECTED", "card_frozen", 0)

    def test_no_sync_server_allow(self):
        k = self.kiosk(sync=False, offline_policy="allow", status_timeout_ms=500)
        k.insert("A94000003")
        st = k.wait("ENTER_OLD_PIN", 3000)
        self.assertState(st, "ENTER_OLD_PIN", None, 0)
        # The whole change still works offline and is recorded for later.
        k.enter_pin(INITIAL_PIN)
        k.wait("ENTER_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("SUCCESS")
        self.assertEqual(k.kinds(), [("pin_changed", "A94000003")])

    def test_no_sync_server_deny(self):
        k = self.kiosk(sync=False, offline_policy="deny", status_timeout_ms=500)
        k.insert("A94000004")
        st = k.wait("OUT_OF_SERVICE", 3000)
        self.assertState(st, "OUT_OF_SERVICE", "bureau_unreachable", 0)
        self.assertNoRecords(k)

    def test_bureau_unreachable_answer_deny(self):
        k = self.kiosk(sync_unreachable=True, offline_policy="deny")
        k.insert("A94000005")
        self.assertState(k.wait("OUT_OF_SERVICE"), "OUT_OF_SERVICE", "bureau_unreachable", 0)

    def test_bureau_unreachable_answer_allow(self):
        k = self.kiosk(sync_unreachable=True, offline_policy="allow")
        k.insert("A94000006")
        self.assertState(k.wait("ENTER_OLD_PIN"), "ENTER_OLD_PIN", None, 0)

    def test_status_outside_the_protocol_is_unreachable(self):
        k = self.kiosk(statuses={"A94000007": "Active"}, offline_policy="deny")
        k.insert("A94000007")
        self.assertState(k.wait("OUT_OF_SERVICE"), "OUT_OF_SERVICE", "bureau_unreachable", 0)

    def test_bad_holder_is_dropped_but_the_status_stands(self):
        k = self.kiosk(statuses={"A94000009": {"status": "lost", "holder": "\u202e张*明\u2066"},
                                 "A94000010": {"status": "active", "holder": "张*明" * 60},
                                 "A94000011": {"status": "active", "holder": "\x1b[31m张\x7f"}})
        k.insert("A94000009")
        self.assertState(k.wait("CARD_REJECTED"), "CARD_REJECTED", "card_lost", 0)
        k.screenshot()
        k.remove()
        k.wait("IDLE")
        for card in ("A94000010", "A94000011"):
            k.insert(card)
            self.assertState(k.wait("ENTER_OLD_PIN"), "ENTER_OLD_PIN", None, 0)
            k.screenshot()
            k.remove()
            k.wait("IDLE")

    def test_nul_in_the_reply_is_unreachable(self):
        k = self.kiosk(statuses={"A94000012": {"status": "active", "holder": "张\u0000明"}},
                       offline_policy="deny")
        k.insert("A94000012")
        self.assertState(k.wait("OUT_OF_SERVICE"), "OUT_OF_SERVICE", "bureau_unreachable", 0)

    def slow_bureau(self, policy, state, notice):
        k = self.kiosk(sync_delay_ms=3000, status_timeout_ms=500, offline_policy=policy)
        t0 = time.monotonic()
        k.insert("A94000008")
        st = k.wait(state, 5000)
        took = time.monotonic() - t0
        self.assertState(st, state, notice, 0)
        self.assertLess(took, 1.5 * SLOW, "the policy decided after %.2f s" % took)
        self.assertGreater(took, 0.4, "decided after %.2f s: before the status timeout?" % took)

    def test_slow_bureau_allow(self):
        self.slow_bureau("allow", "ENTER_OLD_PIN", None)

    def test_slow_bureau_deny(self):
        self.slow_bureau("deny", "OUT_OF_SERVICE", "bureau_unreachable")


# =============================================================================
class TestCardSwap(KioskTest):
    """Answers that belong to a card that has gone must not decide for the next."""

    def test_late_lost_answer_does_not_reject_the_next_card(self):
        k = self.kiosk(statuses={"A97000001": {"status": "lost", "delay_ms": 800},
                                 "A97000002": "active"})
        k.insert("A97000001")
        k.wait("READING_CARD")
        time.sleep(0.1)  # the question for the first card is out
        k.remove()
        k.wait("IDLE")
        k.insert("A97000002")
        st = k.wait("ENTER_OLD_PIN", 4000)
        self.assertState(st, "ENTER_OLD_PIN", None, 0)
        time.sleep(0.3)
        self.assertEqual(k.state()["state"], "ENTER_OLD_PIN")

    def test_late_active_answer_does_not_let_a_lost_card_in(self):
        k = self.kiosk(statuses={"A97000003": {"status": "active", "delay_ms": 800},
                                 "A97000004": "lost"})
        k.insert("A97000003")
        k.wait("READING_CARD")
        time.sleep(0.1)
        k.remove()
        k.wait("IDLE")
        k.insert("A97000004")
        st = k.wait("CARD_REJECTED", 4000)
        self.assertState(st, "CARD_REJECTED", "card_lost", 0)
        time.sleep(0.3)
        self.assertEqual(k.state()["state"], "CARD_REJECTED")

    def test_late_verify_answer_of_a_pulled_card(self):
        k = self.kiosk()
        k.to_old_pin("A97000005", delay_ms=600, delay_on="verify")
        k.enter_pin(INITIAL_PIN)
        k.wait("VERIFYING")
        k.remove()
        k.wait("IDLE")
        k.to_old_pin("A97000006", INITIAL_PIN, 3, blocked=True)
        time.sleep(0.8)
        self.assertState(k.state(), "ENTER_OLD_PIN", None, 0)

    def test_cancel_while_reading(self):
        k = self.kiosk(statuses={"A97000007": {"status": "active", "delay_ms": 600}})
        k.insert("A97000007")
        k.wait("READING_CARD")
        k.tap("btn.cancel")
        self.assertState(k.wait("TAKE_CARD"), "TAKE_CARD", "cancelled", 0)
        time.sleep(0.9)  # the bureau's late "active" must not reopen the journey
        self.assertState(k.state(), "TAKE_CARD", "cancelled", 0)
        k.remove()
        k.wait("IDLE")

    def test_quick_bounces(self):
        k = self.kiosk()
        for i in range(10):
            k.insert("A970001%02d" % i)
            k.remove()
        k.wait("IDLE")
        st = k.to_old_pin("A97000200")
        self.assertState(st, "ENTER_OLD_PIN", None, 0)
        self.assertTrue(self.verify(k, INITIAL_PIN)["state"] == "ENTER_NEW_PIN")
        self.assertNoRecords(k)


# =============================================================================
class TestCrash(KioskTest):

    def test_kill9_during_change(self):
        k = self.kiosk()
        k.to_confirm("A95000001", NEW_PIN, delay_ms=5000, delay_on="change")
        k.enter_pin(NEW_PIN)
        k.wait("CHANGING")
        self.assertEqual(len(k.intents()), 1, k.outbox_names())
        self.assertEqual(k.records(), [])
        k.kill9()
        st = k.restart()
        self.assertState(st, "IDLE", None, 0)
        self.assertEqual(k.kinds(), [("pin_change_unknown", "A95000001")])
        self.assertEqual(k.intents(), [])
        # It goes on numbering after the recovered event.
        seq = k.records()[0]["seq"]
        k.change_pin("A95000002", INITIAL_PIN, NEW_PIN)
        recs = k.records()
        self.assertEqual([r["kind"] for r in recs], ["pin_change_unknown", "pin_changed"])
        self.assertGreater(recs[1]["seq"], seq)

    def test_kill9_on_success_keeps_pin_changed(self):
        k = self.kiosk()
        k.to_confirm("A95000003", NEW_PIN)
        k.enter_pin(NEW_PIN)
        k.wait("SUCCESS")
        before = k.records()
        k.kill9()
        k.restart()
        self.assertEqual(k.records(), before)
        self.assertEqual(k.kinds(), [("pin_changed", "A95000003")])

    def test_stale_temp_files_are_removed_at_start(self):
        k = self.kiosk()
        k.stop()
        tmp = os.path.join(k.outbox, ".tmp-evt-000000000009.json")
        with open(tmp, "w") as f:
            f.write('{"half":')
        k.start()
        self.assertFalse(os.path.exists(tmp))
        self.assertEqual(k.records(), [])

    def test_a_second_kiosk_on_the_same_outbox_is_refused(self):
        k = self.kiosk()
        other = Kiosk(self, sync=False, start=False, config={"outbox": {"dir": k.outbox}})
        self.addCleanup(other.close)
        with self.assertRaises(KioskError) as cm:
            other.start()
        self.assertIn("exited during start-up", str(cm.exception))
        self.assertNotEqual(other.exit_statuses[-1], 0)
        self.assertIn("cannot lock", other.log_text())
        # The first one is unharmed.
        k.change_pin("A95000004", INITIAL_PIN, NEW_PIN)
        self.assertEqual(k.kinds(), [("pin_changed", "A95000004")])


# =============================================================================
class TestControlSocket(KioskTest):

    def assertError(self, r, code=None):
        self.assertIs(r.get("ok"), False, r)
        self.assertIsInstance(r.get("error"), str, r)
        if code:
            self.assertEqual(r["error"], code, r)

    def test_hostile_lines(self):
        k = self.kiosk()
        c = k.connect()
        for line, code in ((b"this is not json\n", "malformed"),
                           (b"[1,2,3]\n", "malformed"),
                           (b"{\"cmd\": 7}\n", None),
                           (b"\"state\"\n", "malformed"),
                           (b"{}\n", None),
                           (b"{\"cmd\":\"fly\"}\n", "unknown_command"),
                           (b"{\"cmd\":\"tap\"}\n", "missing_field"),
                           (b"{\"cmd\":\"wait\"}\n", "missing_field"),
                           (b"{\"cmd\":\"card\",\"action\":\"insert\"}\n", "missing_field"),
                           (b"{\"cmd\":\"type\",\"digits\":\"12a4\"}\n", "bad_field"),
                           (b"{\"cmd\":\"state\"\x00}\n", "malformed"),
                           (b"\xff\xfe\n", "malformed")):
            with self.subTest(line=line):
                c.send_raw(line)
                self.assertError(c.reply(slow(5)), code)
        for req, code in (({"cmd": "key", "name": "Frobnicate"}, "bad_field"),
                          ({"cmd": "tap", "x": 40000, "y": 10}, "bad_field"),
                          ({"cmd": "tap", "x": -1, "y": 10}, "bad_field"),
                          ({"cmd": "wait", "state": "IDLE", "timeout_ms": -5}, "bad_field"),
                          ({"cmd": "screenshot"}, "missing_field"),
                          ({"cmd": "card", "action": "shake"}, "bad_field"),
                          ({"cmd": "type", "digits": "1" * 65}, "bad_field")):
            with self.subTest(req=req):
                self.assertError(c.cmd(req), code)
        # The connection is still usable, with ids echoed.
        r = c.cmd({"cmd": "state", "id": 42})
        self.assertEqual((r.get("ok"), r.get("id")), (True, 42), r)
        r = c.cmd({"cmd": "fly", "id": {"a": [1]}})
        self.assertError(r, "unknown_command")
        self.assertEqual(r.get("id"), {"a": [1]}, r)
        self.assertEqual(k.state()["state"], "IDLE")

    def test_long_line_closes_that_connection_only(self):
        k = self.kiosk()
        c = k.connect()
        try:
            c.send_raw(b"{\"cmd\":\"state\",\"pad\":\"" + b"x" * (70 * 1024) + b"\"}\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = c.read_line(slow(5))
        self.assertIsNotNone(r, "closed without a reply")
        r = json.loads(r)
        self.assertEqual((r.get("ok"), r.get("error")), (False, "line_too_long"), r)
        self.assertIsNone(c.read_line(slow(5)), "the connection stays open after a too-long line")
        other = k.connect()
        self.assertEqual(other.cmd({"cmd": "state"}).get("state"), "IDLE")
        self.assertEqual(k.state()["state"], "IDLE")

    def test_a_line_just_under_the_limit_is_fine(self):
        k = self.kiosk()
        c = k.connect()
        pad = 64 * 1024 - len(b"{\"cmd\":\"state\",\"pad\":\"\"}") - 10
        c.send_raw(b"{\"cmd\":\"state\",\"pad\":\"" + b"x" * pad + b"\"}\n")
        self.assertEqual(c.reply(slow(5)).get("state"), "IDLE")

    def test_four_clients_at_once(self):
        k = self.kiosk()
        conns = [k.connect() for _ in range(4)]
        # One of them blocks in a wait; the others must still be answered.
        conns[0].send({"cmd": "wait", "state": "ENTER_OLD_PIN", "timeout_ms": int(5000 * SLOW), "id": "w"})
        for i, c in enumerate(conns[1:], 1):
            c.send({"cmd": "state", "id": i})
        for i, c in enumerate(conns[1:], 1):
            r = c.reply(slow(5))
            self.assertEqual((r.get("ok"), r.get("id"), r.get("state")), (True, i, "IDLE"), r)
        conns[1].cmd({"cmd": "card", "action": "insert", "card_number": "A96000001", "pin": INITIAL_PIN, "tries": 3})
        k.note_card("A96000001")
        r = conns[0].reply(slow(6))
        self.assertEqual((r.get("ok"), r.get("id"), r.get("state")), (True, "w", "ENTER_OLD_PIN"), r)
        for c in conns:
            self.assertEqual(c.cmd({"cmd": "state"}).get("state"), "ENTER_OLD_PIN")

    def test_clients_that_vanish(self):
        k = self.kiosk()
        for _ in range(40):
            c = Conn(k.ctl_path)
            c.send({"cmd": "wait", "state": "SUCCESS", "timeout_ms": 1000})
            c.close()
        c = Conn(k.ctl_path)
        c.send_raw(b"{\"cmd\":\"sta")
        c.close()
        self.assertEqual(k.state()["state"], "IDLE")

    def test_widget_not_on_screen(self):
        k = self.kiosk()
        r = k.cmd({"cmd": "tap", "id": "key.5"})
        self.assertError(r, "no_such_widget")
        r = k.cmd({"cmd": "tap", "id": "btn.nothing"})
        self.assertError(r, "no_such_widget")
        r = k.cmd({"cmd": "type", "digits": "12"})
        self.assertError(r, "no_such_widget")
        self.assertState(k.state(), "IDLE", None, 0)

    def test_card_insert_twice_and_remove_with_none(self):
        k = self.kiosk()
        r = k.cmd({"cmd": "card", "action": "remove"})
        self.assertError(r)
        k.insert("A96000002")
        r = k.cmd({"cmd": "card", "action": "insert", "card_number": "A96000003", "pin": INITIAL_PIN, "tries": 3})
        self.assertError(r)
        st = k.wait("ENTER_OLD_PIN")
        self.assertEqual(st.get("card_masked", "A96***002"), "A96***002")
        k.remove()
        k.wait("IDLE")
        r = k.cmd({"cmd": "card", "action": "remove"})
        self.assertError(r)

    def test_bad_card_fields(self):
        k = self.kiosk()
        for extra in ({"pin": "12"}, {"pin": "12345678901234567"}, {"tries": 0}, {"tries": 16},
                      {"card_number": "A-1"}, {"card_number": "A" * 16}, {"expiry": "20201301"},
                      {"fault": "melt", "fault_on": "read"}, {"fault": "pull"},
                      {"delay_ms": 100}, {"delay_ms": 60001, "delay_on": "read"},
                      {"profile": "emv"}):
            with self.subTest(extra=extra):
                req = {"cmd": "card", "action": "insert", "card_number": "A96000004", "pin": "482915", "tries": 3}
                req.update(extra)
                r = k.cmd(req)
                if r.get("ok"):
                    # Accepted after all: take the card out again for the next one.
                    k.cmd({"cmd": "card", "action": "remove"})
                    k.wait("IDLE")
                # A missing companion field may be missing_field or bad_field.
                self.assertError(r, None if len(extra) == 1 and ("fault" in extra or "delay_ms" in extra)
                                 else "bad_field")
                st = k.state()
                self.assertEqual((st["state"], st["card"]), ("IDLE", "absent"), st)

    def test_wait_timeout(self):
        k = self.kiosk()
        t0 = time.monotonic()
        r = k.cmd({"cmd": "wait", "state": "SUCCESS", "timeout_ms": 300, "id": 7})
        took = time.monotonic() - t0
        self.assertEqual((r.get("ok"), r.get("error"), r.get("state"), r.get("id")), (False, "timeout", "IDLE", 7), r)
        self.assertGreater(took, 0.25)
        self.assertLess(took, 0.3 + slow(1))
        r = k.cmd({"cmd": "wait", "state": "NO_SUCH_STATE", "timeout_ms": 100})
        self.assertError(r)
        r = k.cmd({"cmd": "wait", "state": "IDLE", "timeout_ms": 100})
        self.assertEqual((r.get("ok"), r.get("state")), (True, "IDLE"), r)

    def test_subscribe_sees_the_journey(self):
        k = self.kiosk()
        sub = k.subscribe()
        k.change_pin("A96000005", INITIAL_PIN, NEW_PIN, delay_ms=300, delay_on="verify")
        want = ["READING_CARD", "ENTER_OLD_PIN", "VERIFYING", "ENTER_NEW_PIN", "CONFIRM_NEW_PIN",
                "CHANGING", "SUCCESS", "IDLE"]
        events = []
        while not events or events[-1]["state"] != "IDLE":
            events.append(k.wait_event(sub, lambda e: True, timeout=3))
        for e in events:
            self.assertEqual(e.get("event"), "state", e)
            self.assertIsInstance(e.get("at_ms"), (int, float), e)
        ats = [e["at_ms"] for e in events]
        self.assertEqual(ats, sorted(ats))
        states = [e["state"] for e in events]
        self.assertEqual(states, want, events)
        self.assertEqual(events[3].get("notice"), "on_initial_pin", events)
        # A plain `state` on the subscribed connection still gets its reply.
        self.assertEqual(sub.cmd({"cmd": "state"}).get("state"), "IDLE")

    def test_stats(self):
        k = self.kiosk()
        r = k.ok({"cmd": "stats"})
        self.assertGreaterEqual(r.get("frames", 0), 1, r)
        # Some taps, so that there are frames after the first and taps to time.
        k.tap("btn.lang")
        k.tap("btn.lang")
        r = k.ok({"cmd": "stats"})
        self.assertGreater(r["first_frame_mono_ns"], r["start_mono_ns"], r)
        self.assertGreater(r["startup_ms"], 0, r)
        self.assertGreaterEqual(r["frame_samples"], 2, r)
        self.assertGreater(r["frame_ms_p99"], 0, r)
        self.assertLessEqual(r["frame_ms_p50"], r["frame_ms_p99"], r)
        self.assertGreaterEqual(r["tap_samples"], 2, r)
        self.assertGreater(r["peak_rss_kb"], 1000, r)
        recent = r["frame_ms_recent"]
        self.assertEqual(len(recent), min(r["frame_samples"], 64), r)
        self.assertTrue(all(isinstance(x, (int, float)) and x >= 0 for x in recent), r)
        self.assertLessEqual(max(recent), r["frame_ms_max"], r)

    def test_socket_mode_0600(self):
        k = self.kiosk()
        self.assertEqual(os.stat(k.ctl_path).st_mode & 0o777, 0o600)

    def test_quit_removes_the_socket(self):
        k = self.kiosk()
        k.stop()
        self.assertFalse(os.path.exists(k.ctl_path))


# =============================================================================
class TestCommandLine(unittest.TestCase):

    def test_the_kiosk_links_no_network_library(self):
        # The process that sees PINs has no network: not even the code for it.
        import subprocess
        from harness import kiosk_bin
        out = subprocess.run(["ldd", kiosk_bin()], capture_output=True, text=True,
                             timeout=30).stdout
        self.assertIn("libSDL2", out)  # the check reads a real ldd listing
        for lib in ("libcurl", "libssl", "libgnutls", "libnss3", "libnghttp2", "libssh"):
            self.assertNotIn(lib, out)

    def test_unknown_flag(self):
        status, out, err, _ = run_cli(["--frobnicate"])
        self.assertEqual(status, 2, err)
        self.assertIn("Usage", err)
        self.assertNotIn("Usage", out)

    def test_stray_argument(self):
        status, out, err, _ = run_cli(["stray"])
        self.assertEqual(status, 2, err)
        self.assertIn("stray", err)

    def test_version(self):
        status, out, err, _ = run_cli(["--version"])
        self.assertEqual(status, 0, err)
        self.assertRegex(out, r"^kiosk \d+\.\d+\.\d+\n$")

    def test_version_matches_state(self):
        status, out, err, _ = run_cli(["--version"])
        k = Kiosk(self)
        self.addCleanup(k.close)
        self.assertEqual(out.split()[1], k.state()["version"])

    def test_help(self):
        status, out, err, _ = run_cli(["--help"])
        self.assertEqual(status, 0, err)
        self.assertIn("Usage", out)
        self.assertIn("--config", out)

    def test_config_bad_line(self):
        text = "[ui]\nlanguage = zh\nidle_timeout_s = 2\n"
        status, out, err, path = run_cli(["--config", "{config}"], text)
        self.assertEqual(status, 2, err)
        self.assertIn("%s:3:" % path, err)

    def test_config_unknown_key(self):
        text = "[ui]\n\nfavourite_colour = blue\n"
        status, out, err, path = run_cli(["--config", "{config}"], text)
        self.assertEqual(status, 2, err)
        self.assertIn("%s:3:" % path, err)

    def test_config_not_ini(self):
        text = "[ui\nlanguage = zh\n"
        status, out, err, path = run_cli(["--config", "{config}"], text)
        self.assertEqual(status, 2, err)
        self.assertIn("%s:1:" % path, err)

    def test_config_missing_file(self):
        status, out, err, _ = run_cli(["--config", "/nonexistent/kiosk.conf"])
        self.assertEqual(status, 2, err)
        self.assertIn("/nonexistent/kiosk.conf", err)

    def test_bad_size(self):
        status, out, err, _ = run_cli(["--size", "huge"])
        self.assertEqual(status, 2, err)


if __name__ == "__main__":
    unittest.main()
