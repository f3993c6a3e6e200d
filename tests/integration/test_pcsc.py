"""test_pcsc.py - the kiosk on a real pcscd with vcard.py test cards (issue 3).

The journeys of test_journeys.py again, but with `[card] backend = pcsc`:
the kiosk talks to a real pcscd, whose vpcd virtual readers hold
tests/card/vcard.py cards. Each test starts its own pcscd
(tests/integration/pcscd.py, stopped by pid at cleanup, also on failure),
its own kiosk and fake_sync (harness.Kiosk in PC/SC mode) and its cards;
after each journey it reads the card's own memory (its state file) as well
as the kiosk's state and outbox records. The harness audit at cleanup also
reads the cards' logs (no PIN, no unmasked card number).

TestPcscReset (issue 12, bureau-api.md section 3) runs the whole reset
chain instead of fake_sync: Kiosk(sync="real", pcsc_reader=...), i.e. the
real kiosk-sync and the bureau stand-in, which texts the code (read from
its control port with k.sms_code, an audited secret) and records the
pin_reset / pin_change_unknown with their reset_id. Those tests read the
records at the stand-in, since kiosk-sync empties the outbox.

pcscd owns /run/pcscd and vpcd's TCP ports, so the suite only runs when
asked to, in namespaces of its own (root):

    KIOSK_TEST_PCSC=1 tests/card/isolated.sh /usr/bin/python3 tests/integration/run.py -k test_pcsc

Without KIOSK_TEST_PCSC=1 the whole module is one skip (run.py prints one
SKIP line for it); with it, a missing pcscd or vpcd, or another pcscd in
the same namespaces, is a failure, not a skip.
"""

import os
import re
import shutil
import signal
import sys
import time
import unittest

from harness import INITIAL_PIN, SLOW, KioskError, assert_stacks_have_room, slow, wait_for
from pcscd import READERS, FixtureError, Pcscd, VCard
from test_journeys import KioskTest

NEW_PIN = "582039"
OTHER_PIN = "730164"
WRONG_PIN = "918273"
WRONG_PIN2 = "000111"

P0, P1 = 35963, 35964
R0, R1 = READERS[P0], READERS[P1]
VPCD_CONF = "/etc/reader.conf.d/vpcd"
HOW = "KIOSK_TEST_PCSC=1 tests/card/isolated.sh /usr/bin/python3 tests/integration/run.py -k test_pcsc"

# Commands as vcard.py logs them: "vcard: 35963 #4 00 20 00 00 -> 63C2 (2 bytes)".
CMD_RE = re.compile(r"(?m)^vcard: \d+ #(\d+) ([0-9A-F]{2} [0-9A-F]{2} [0-9A-F]{2} [0-9A-F]{2}) -> (\S+)")


def suite_skip_reason():
    """Why this module cannot run here (run.py shows it as one SKIP line), or None."""
    if os.environ.get("KIOSK_TEST_PCSC") != "1":
        return "needs a pcscd of its own; run as root: " + HOW
    return None


class TimeLimit(Exception):
    """run.py's time limit ran out (it sent SIGTERM): fail, but run the cleanups."""


def _on_sigterm(signum, frame):
    # unittest records an ordinary exception as an error and still runs the
    # cleanups, so pcscd and the cards are stopped by pid; SIGTERM's default
    # would leave them running (they live in sessions of their own).
    raise TimeLimit("SIGTERM (time limit): stopping pcscd, cards and kiosk")


class PcscTest(KioskTest):
    """A pcscd per test (each test runs in a process of its own anyway)."""

    @classmethod
    def setUpClass(cls):
        reason = suite_skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        missing = [what for what, ok in (
            ("pcscd (apt-get install pcscd)", shutil.which("pcscd") or os.path.exists("/usr/sbin/pcscd")),
            ("vpcd (apt-get install vsmartcard-vpcd)", os.path.exists(VPCD_CONF)),
        ) if not ok]
        if missing:
            raise FixtureError("KIOSK_TEST_PCSC=1 but missing: " + ", ".join(missing))
        signal.signal(signal.SIGTERM, _on_sigterm)

    def setUp(self):
        self.pcscd = Pcscd()
        # Registered first, so it runs last: after the cards and the kiosk.
        self.addCleanup(self.pcscd.close)
        self.pcscd.start()
        self.ncards = 0

    # ---- kiosk and cards -----------------------------------------------------

    def kiosk(self, reader=R0, **kw):
        k = super().kiosk(pcsc_reader=reader, **kw)
        st = k.wait("IDLE")
        self.assertState(st, "IDLE", None, 0)
        self.assertEqual(st["card"], "absent", st)
        return k

    def card(self, k, number="A12345678", port=P0, pin=INITIAL_PIN, tries=3, same_as=None,
             start=True, **options):
        """Inserts a vcard.py card (returns once pcscd has it). `same_as`: a
        VCard whose state file this card takes over ("the same card" again);
        its number and PIN are the file's then. Its files live under the
        kiosk's dir (audited); it is pulled at cleanup."""
        k.note_card(number)
        k.note_pin(pin)
        self.ncards += 1
        if same_as is not None:
            card = VCard(port, state=same_as.state_path, card_number=number, **options)
        else:
            card = VCard(port, workdir=k.card_dir("%d" % self.ncards), card_number=number,
                         pin=pin, tries=tries, **options)
        self.addCleanup(card.close)
        if start:
            card.start()
        return card

    # ---- assertions ------------------------------------------------------------

    def assertCard(self, card, pin=None, tries=None, blocked=False, max_tries=3, number=None):
        """The card's memory (its state file) now."""
        st = card.read_state()
        want = {"pin": pin if pin is not None else st["pin"],
                "tries": tries if tries is not None else max_tries,
                "max_tries": max_tries, "blocked": blocked}
        got = {key: st[key] for key in want}
        if got != want:
            # Never print the PINs themselves: say which one it is.
            names = {INITIAL_PIN: "INITIAL_PIN", NEW_PIN: "NEW_PIN", OTHER_PIN: "OTHER_PIN"}
            for d in (got, want):
                d["pin"] = names.get(d["pin"], "another PIN")
            self.fail("card %s: memory %r, want %r" % (card.state_path, got, want))
        if number is not None:
            self.assertEqual(st["card_number"], number)

    def commands(self, card):
        """[(n, "CLA INS P1 P2", sw)] the card answered, from its log."""
        return [(int(n), hdr, sw) for n, hdr, sw in CMD_RE.findall(card.log_text())]

    def ins_seen(self, card, prefix):
        return [c for c in self.commands(card) if c[1].startswith(prefix)]

    def quiet_card(self, card, seconds, timeout=3):
        """Waits until the card's log has not grown for `seconds`."""
        deadline = time.monotonic() + slow(timeout)
        last, since = card.log_text(), time.monotonic()
        while time.monotonic() - since < seconds:
            if time.monotonic() > deadline:
                self.fail("the card kept answering for %.1f s" % slow(timeout))
            time.sleep(0.05)
            now = card.log_text()
            if now != last:
                last, since = now, time.monotonic()

    def assertNoEvent(self, k, sub, seconds):
        """No state event arrives on `sub` within `seconds`."""
        try:
            ev = sub.next_event(seconds)
        except KioskError:
            return
        self.fail("unexpected event %r (state now %r)" % (ev, k.state()))

    def same_kiosk(self, k, pid):
        self.assertTrue(k.running(), "the kiosk died")
        self.assertEqual(k.proc.pid, pid, "the kiosk was restarted")

    # ---- journeys ----------------------------------------------------------------

    def old_pin_screen(self, k, number="A12345678"):
        st = k.wait("ENTER_OLD_PIN")
        self.assertState(st, "ENTER_OLD_PIN", None, 0)
        self.assertEqual(st["card"], "present", st)
        self.assertEqual(st.get("card_masked"), number[:3] + "***" + number[-3:], st)
        return st

    def change(self, k, card, old, new, number="A12345678", records_before=()):
        """From a card in the reader to SUCCESS and back to IDLE; checks the
        record and the card's memory."""
        self.old_pin_screen(k, number)
        st = self.verify(k, old)
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin" if old == INITIAL_PIN else None, 0)
        k.enter_pin(new)
        self.assertState(k.wait("CONFIRM_NEW_PIN"), "CONFIRM_NEW_PIN", None, 0)
        k.enter_pin(new)
        st = k.wait("SUCCESS")
        self.assertState(st, "SUCCESS", None, 0)
        self.assertEqual(k.kinds(), list(records_before) + [("pin_changed", number)])
        self.assertEqual(k.intents(), [])
        self.assertCard(card, pin=new, tries=card.read_state()["max_tries"],
                        max_tries=card.read_state()["max_tries"])
        self.pull(k, card, None)

    def pull(self, k, card, notice="any"):
        """Pulls `card` (its vcard exits) and checks the kiosk is back at IDLE."""
        card.remove()
        st = k.wait("IDLE")
        self.assertEqual((st["pin_length"], st["card"]), (0, "absent"), st)
        self.assertIsNone(st.get("tries_left"), st)
        if notice != "any":
            self.assertEqual(st.get("notice"), notice, st)
        return st


# =============================================================================
class TestPcscJourneys(PcscTest):

    def test_happy_path_then_the_card_holds_the_new_pin(self):
        k = self.kiosk()
        card = self.card(k, "A12345678")
        self.old_pin_screen(k)
        k.type(INITIAL_PIN)
        self.assertEqual(k.state()["pin_length"], 6)
        k.tap("key.ok")
        self.assertState(k.wait("ENTER_NEW_PIN"), "ENTER_NEW_PIN", "on_initial_pin", 0)
        # One new-PIN rule on this backend too (the sim suite has them all).
        k.enter_pin("777777")
        self.assertState(k.state(), "ENTER_NEW_PIN", "pin_too_simple", 0)
        k.enter_pin(NEW_PIN)
        self.assertState(k.wait("CONFIRM_NEW_PIN"), "CONFIRM_NEW_PIN", None, 0)
        self.assertNoRecords(k)
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        k.enter_pin(NEW_PIN)
        st = k.wait("SUCCESS")
        self.assertState(st, "SUCCESS", None, 0)
        self.assertEqual(st["card"], "present")
        self.assertEqual(k.kinds(), [("pin_changed", "A12345678")])
        self.assertEqual(k.intents(), [])
        self.assertCard(card, pin=NEW_PIN, tries=3)
        # One transaction, the profile's commands: SSSE change, no empty VERIFY.
        self.assertTrue(self.ins_seen(card, "80 5E 01 00"), self.commands(card))
        self.assertEqual(self.ins_seen(card, "00 24"), [])
        self.pull(k, card, None)
        # The same card again: the old PIN is wrong now, the new one passes.
        again = self.card(k, "A12345678", same_as=card)
        self.old_pin_screen(k)
        self.assertState(self.verify(k, INITIAL_PIN), "ENTER_OLD_PIN", "wrong_pin", 0, 2)
        self.assertCard(again, pin=NEW_PIN, tries=2)
        self.assertState(self.verify(k, NEW_PIN), "ENTER_NEW_PIN", None, 0)
        self.assertCard(again, pin=NEW_PIN, tries=3)
        self.assertEqual(k.kinds(), [("pin_changed", "A12345678")])
        # Through a real pcscd, the worker's frames stay well inside its stack.
        assert_stacks_have_room(self, k)

    def test_wrong_then_right(self):
        k = self.kiosk()
        card = self.card(k, "A20000001")
        self.old_pin_screen(k, "A20000001")
        st = self.verify(k, WRONG_PIN)
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, 2)
        self.assertCard(card, pin=INITIAL_PIN, tries=2)
        st = self.verify(k, WRONG_PIN2)
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, 1)
        self.assertCard(card, pin=INITIAL_PIN, tries=1)
        self.assertNoRecords(k)
        st = self.verify(k, INITIAL_PIN)
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        self.assertNoRecords(k)
        # Each VERIFY was sent once, and none was empty (no probing the counter).
        verifies = self.ins_seen(card, "00 20 00 00")
        self.assertEqual([sw for _, _, sw in verifies], ["63C2", "63C1", "9000"], self.commands(card))

    def test_blocked_after_the_tries_run_out(self):
        k = self.kiosk()
        card = self.card(k, "A30000001", tries=2)
        self.old_pin_screen(k, "A30000001")
        st = self.verify(k, WRONG_PIN)
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, 1)
        self.assertCard(card, pin=INITIAL_PIN, tries=1, max_tries=2)
        st = self.verify(k, WRONG_PIN2)
        self.assertState(st, "CARD_BLOCKED", None, 0, 0)
        self.assertCard(card, pin=INITIAL_PIN, tries=0, blocked=True, max_tries=2)
        self.assertEqual(k.kinds(), [("pin_blocked", "A30000001")])
        self.assertEqual(k.intents(), [])
        self.pull(k, card, None)
        # Back in: still blocked, and that is not news for the bureau.
        again = self.card(k, "A30000001", same_as=card)
        self.old_pin_screen(k, "A30000001")
        st = self.verify(k, INITIAL_PIN)
        self.assertEqual(st["state"], "CARD_BLOCKED", st)
        self.assertCard(again, pin=INITIAL_PIN, tries=0, blocked=True, max_tries=2)
        self.assertEqual(k.kinds(), [("pin_blocked", "A30000001")])
        self.pull(k, again, None)

    def test_cancel_on_new_pin(self):
        k = self.kiosk()
        card = self.card(k, "A60000001")
        self.old_pin_screen(k, "A60000001")
        self.assertEqual(self.verify(k, INITIAL_PIN)["state"], "ENTER_NEW_PIN")
        k.type("5820")
        k.tap("btn.cancel")
        self.assertState(k.wait("TAKE_CARD"), "TAKE_CARD", "cancelled", 0)
        self.assertNoRecords(k)
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        self.assertEqual(self.ins_seen(card, "80 5E"), [])
        self.pull(k, card, None)
        self.assertNoRecords(k)

    def test_pull_on_old_pin_with_digits(self):
        k = self.kiosk()
        card = self.card(k, "A70000001")
        self.old_pin_screen(k, "A70000001")
        k.type("1234")
        self.assertEqual(k.state()["pin_length"], 4)
        self.pull(k, card, "card_removed")
        time.sleep(0.3)  # the reader's event and the kiosk's own must not undo each other
        self.assertState(k.state(), "IDLE", "card_removed", 0)
        self.assertNoRecords(k)
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        self.assertEqual(self.ins_seen(card, "00 20"), [])

    def test_pull_while_changing(self):
        k = self.kiosk()
        card = self.card(k, "A70000002", slow_ms=3000, slow_on="change")
        self.old_pin_screen(k, "A70000002")
        self.assertEqual(self.verify(k, INITIAL_PIN)["state"], "ENTER_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("CHANGING")
        self.assertEqual(len(k.intents()), 1, "an intent is on disk before the change")
        # vcard logs a command when it answers: the log standing still for
        # 0.5 s means the CHANGE is at the card, in its delay.
        self.quiet_card(card, 0.5)
        self.assertEqual(k.state()["state"], "CHANGING")
        self.pull(k, card, "change_unknown")
        self.assertIn("80 5E 01 00 removed during the 3000 ms delay (not carried out)",
                      card.log_text())
        time.sleep(0.3)
        self.assertState(k.state(), "IDLE", "change_unknown", 0)
        self.assertEqual(k.kinds(), [("pin_change_unknown", "A70000002")])
        self.assertEqual(k.intents(), [])
        # Pulled during the card's delay: it never carried the change out.
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        # The kiosk goes on: the next journey on the same card works.
        again = self.card(k, "A70000002", same_as=card)
        self.change(k, again, INITIAL_PIN, NEW_PIN, "A70000002",
                    records_before=[("pin_change_unknown", "A70000002")])

    def test_quick_swap_to_another_card_is_noticed(self):
        k = self.kiosk()
        first = self.card(k, "A71000001")
        self.old_pin_screen(k, "A71000001")
        k.type("1234")
        # Out and the next card in at once, without waiting for pcscd to
        # show the reader empty: the event counter must tell.
        first.remove(reader_check=False)
        second = self.card(k, "B71000002", start=False)
        second.start(reader_check=False)
        deadline = time.monotonic() + slow(5)
        while True:
            st = k.state()
            if st["state"] == "ENTER_OLD_PIN" and st.get("card_masked") == "B71***002":
                break
            if time.monotonic() > deadline:
                self.fail("the second card was not read: %r" % st)
            time.sleep(0.02)
        self.assertState(st, "ENTER_OLD_PIN", None, 0)
        self.change(k, second, INITIAL_PIN, NEW_PIN, "B71000002")
        self.assertCard(first, pin=INITIAL_PIN, tries=3)


# =============================================================================
class TestPcscCardSwitches(PcscTest):

    def test_t0_card_61xx(self):
        k = self.kiosk()
        # A T=0 card (ATR 3B 00): data comes as 61 xx, then GET RESPONSE.
        card = self.card(k, "A81000001", t0=True, atr="3B00")
        self.change(k, card, INITIAL_PIN, NEW_PIN, "A81000001")
        sws = [sw for _, _, sw in self.commands(card)]
        self.assertTrue(any(sw.startswith("61") for sw in sws), sws)
        self.assertTrue(self.ins_seen(card, "00 C0 00 00"), "no GET RESPONSE: %r" % self.commands(card))

    def test_wrong_le_card_6cxx(self):
        k = self.kiosk()
        card = self.card(k, "A81000002", wrong_le=True)
        self.change(k, card, INITIAL_PIN, NEW_PIN, "A81000002")
        reads = self.ins_seen(card, "00 B2")
        # Each 6C xx was followed by the same READ RECORD with the right Le.
        for i, (n, hdr, sw) in enumerate(reads):
            if sw.startswith("6C"):
                self.assertLess(i + 1, len(reads), "6C xx was the last answer")
                self.assertEqual(reads[i + 1][1], hdr)
                self.assertEqual(reads[i + 1][2], "9000")
        self.assertTrue(any(sw.startswith("6C") for _, _, sw in reads),
                        "no 6C xx answered (every READ RECORD had the exact Le?): %r" % reads)

    def test_slow_verify_leaves_the_ui_responsive(self):
        k = self.kiosk()
        card = self.card(k, "A90000001", slow_ms=2000, slow_on="verify")
        self.old_pin_screen(k, "A90000001")
        t_ok = time.monotonic()
        k.enter_pin(INITIAL_PIN)
        k.wait("VERIFYING")
        frames0 = k.state()["frames"]
        worst = 0.0
        for _ in range(5):
            t0 = time.monotonic()
            st = k.state()
            worst = max(worst, time.monotonic() - t0)
            self.assertEqual(st["state"], "VERIFYING", st)
            time.sleep(0.05)
        self.assertLess(worst, 0.2 * SLOW, "state took %.3f s while the card was busy" % worst)
        t0 = time.monotonic()
        k.tap("btn.lang")
        took = time.monotonic() - t0
        self.assertLess(took, 0.2 * SLOW, "the tap took %.3f s while the card was busy" % took)
        st = k.state()
        self.assertEqual((st["state"], st["lang"]), ("VERIFYING", "en"), st)
        self.assertGreater(st["frames"], frames0, "no frame drawn while the card was busy")
        st = k.wait("ENTER_NEW_PIN", 6000)
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0, lang="en")
        self.assertGreater(time.monotonic() - t_ok, 1.8, "the card was not slow after all")
        self.assertCard(card, pin=INITIAL_PIN, tries=3)

    def test_drop_after_n_pulls_the_card_during_verify(self):
        k = self.kiosk()
        # First find which command of this card's life is the VERIFY...
        probe = self.card(k, "A82000001")
        self.old_pin_screen(k, "A82000001")
        self.assertState(self.verify(k, INITIAL_PIN), "ENTER_NEW_PIN", "on_initial_pin", 0)
        verifies = self.ins_seen(probe, "00 20")
        self.assertEqual(len(verifies), 1, self.commands(probe))
        n = verifies[0][0]
        k.tap("btn.cancel")
        k.wait("TAKE_CARD")
        self.pull(k, probe, None)
        # ...then the same card again, pulled right after carrying it out.
        card = self.card(k, "A82000001", same_as=probe, drop_after=n)
        self.old_pin_screen(k, "A82000001")
        k.enter_pin(WRONG_PIN)
        st = k.wait("IDLE")
        self.assertEqual((st["card"], st["pin_length"]), ("absent", 0), st)
        self.assertEqual(st.get("notice"), "card_removed", st)
        self.assertIsNone(st.get("tries_left"), st)
        self.assertEqual(card.wait_exit(5), 0)
        self.assertIn("card pulled before answering", card.log_text())
        self.assertNoRecords(k)
        # The card counted the wrong PIN although the kiosk never heard back.
        self.assertCard(card, pin=INITIAL_PIN, tries=2)
        # The kiosk is fine: the same card goes all the way now.
        again = self.card(k, "A82000001", same_as=card)
        self.old_pin_screen(k, "A82000001")
        self.assertState(self.verify(k, WRONG_PIN2), "ENTER_OLD_PIN", "wrong_pin", 0, 1)
        self.assertCard(again, pin=INITIAL_PIN, tries=1)
        k.enter_pin(INITIAL_PIN)
        k.wait("ENTER_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("SUCCESS")
        self.assertEqual(k.kinds(), [("pin_changed", "A82000001")])
        self.assertCard(again, pin=NEW_PIN, tries=3)

    def test_drop_on_change_the_card_took_it(self):
        k = self.kiosk()
        card = self.card(k, "A82000002", drop_on="change")
        self.old_pin_screen(k, "A82000002")
        self.assertEqual(self.verify(k, INITIAL_PIN)["state"], "ENTER_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        st = k.wait("IDLE")
        self.assertState(st, "IDLE", "change_unknown", 0)
        self.assertEqual(st["card"], "absent", st)
        self.assertEqual(card.wait_exit(5), 0)
        self.assertEqual(k.kinds(), [("pin_change_unknown", "A82000002")])
        self.assertEqual(k.intents(), [])
        # Carried out before the pull: the card has the new PIN.
        self.assertCard(card, pin=NEW_PIN, tries=3)
        again = self.card(k, "A82000002", same_as=card)
        self.change(k, again, NEW_PIN, OTHER_PIN, "A82000002",
                    [("pin_change_unknown", "A82000002")])

    def fault_then_journey(self, k, card, number, old, new, records_before):
        """After a fault: the card out, the kiosk alive, and the same card
        (without the fault) goes through a whole change."""
        pid = k.proc.pid
        self.pull(k, card, None)
        again = self.card(k, number, same_as=card)
        self.change(k, again, old, new, number, records_before)
        self.same_kiosk(k, pid)

    def test_garbage_on_verify(self):
        k = self.kiosk()
        card = self.card(k, "A83000001", garbage_on="verify")
        self.old_pin_screen(k, "A83000001")
        k.enter_pin(INITIAL_PIN)
        st = k.wait("ERROR")
        self.assertState(st, "ERROR", "card_error", 0)
        self.assertIsNone(st.get("tries_left"), st)
        self.assertNoRecords(k)
        self.assertIn("garbage", card.log_text())
        # The right PIN was verified (the answer was lost): nothing counted.
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        self.assertEqual(len(self.ins_seen(card, "00 20")), 1, "the verify was resent")
        self.fault_then_journey(k, card, "A83000001", INITIAL_PIN, NEW_PIN, [])

    def test_garbage_on_read(self):
        k = self.kiosk()
        card = self.card(k, "A83000002", garbage_on="read")
        st = k.wait("CARD_REJECTED")
        self.assertState(st, "CARD_REJECTED", "card_unreadable", 0)
        self.assertNoRecords(k)
        self.assertEqual(self.ins_seen(card, "00 20"), [])
        self.fault_then_journey(k, card, "A83000002", INITIAL_PIN, NEW_PIN, [])

    def test_truncated_on_read(self):
        k = self.kiosk()
        card = self.card(k, "A83000003", truncate_on="read")
        st = k.wait("CARD_REJECTED")
        self.assertState(st, "CARD_REJECTED", "card_unreadable", 0)
        self.assertNoRecords(k)
        self.assertIn("truncated", card.log_text())
        self.fault_then_journey(k, card, "A83000003", INITIAL_PIN, NEW_PIN, [])

    def lost_change_answer(self, number, **fault):
        """A change whose answer is spoilt on the way back (the card carried
        it out): ERROR change_unknown, one pin_change_unknown record, the card
        holds the new PIN, the change was sent once, and the kiosk goes on."""
        k = self.kiosk()
        card = self.card(k, number, **fault)
        self.old_pin_screen(k, number)
        self.assertEqual(self.verify(k, INITIAL_PIN)["state"], "ENTER_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        st = k.wait("ERROR")
        self.assertState(st, "ERROR", "change_unknown", 0)
        self.assertEqual(k.kinds(), [("pin_change_unknown", number)])
        self.assertEqual(k.intents(), [])
        self.assertCard(card, pin=NEW_PIN, tries=3)
        self.assertEqual(len(self.ins_seen(card, "80 5E")), 1, "the change was resent")
        self.fault_then_journey(k, card, number, NEW_PIN, OTHER_PIN, [("pin_change_unknown", number)])

    def test_truncated_on_change(self):
        self.lost_change_answer("A83000004", truncate_on="change")

    def test_garbage_on_change(self):
        self.lost_change_answer("A83000005", garbage_on="change")

    def test_63_00_is_a_wrong_pin_without_a_count(self):
        k = self.kiosk()
        card = self.card(k, "A84000001", no_count=True)
        self.old_pin_screen(k, "A84000001")
        st = self.verify(k, WRONG_PIN)
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, None)
        self.assertEqual([sw for _, _, sw in self.ins_seen(card, "00 20")], ["6300"])
        self.assertCard(card, pin=INITIAL_PIN, tries=2)
        st = self.verify(k, INITIAL_PIN)
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        self.assertNoRecords(k)

    def test_expired_card_is_refused_before_any_pin(self):
        k = self.kiosk()
        card = self.card(k, "A85000001", expired=True)
        st = k.wait("CARD_REJECTED")
        self.assertState(st, "CARD_REJECTED", "card_expired", 0)
        self.assertNotIn("key.ok", k.widgets())
        time.sleep(0.3)
        self.assertState(k.state(), "CARD_REJECTED", "card_expired", 0)
        self.assertEqual(self.ins_seen(card, "00 20"), [], "a PIN command went to an expired card")
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        self.assertNoRecords(k)
        self.pull(k, card, None)

    def test_locked_card_is_refused(self):
        k = self.kiosk()
        card = self.card(k, "A86000001", locked=True)
        st = k.wait("CARD_BLOCKED")
        self.assertState(st, "CARD_BLOCKED", "card_locked", 0)
        self.assertNoRecords(k)
        self.assertEqual(self.ins_seen(card, "00 20"), [])
        self.assertEqual(card.read_state()["locked"], True)
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        self.pull(k, card, None)
        self.assertNoRecords(k)

    def test_iso7816_card_whole_journey(self):
        k = self.kiosk()
        card = self.card(k, "A87000001", profile="iso7816")
        self.old_pin_screen(k, "A87000001")
        st = self.verify(k, WRONG_PIN)
        self.assertState(st, "ENTER_OLD_PIN", "wrong_pin", 0, 2)
        self.assertCard(card, pin=INITIAL_PIN, tries=2)
        st = self.verify(k, INITIAL_PIN)
        self.assertState(st, "ENTER_NEW_PIN", "on_initial_pin", 0)
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("SUCCESS")
        self.assertEqual(k.kinds(), [("pin_changed", "A87000001")])
        self.assertCard(card, pin=NEW_PIN, tries=3)
        self.assertEqual(len(self.ins_seen(card, "00 24 00 80")), 1, self.commands(card))
        self.assertEqual(self.ins_seen(card, "80 5E"), [])
        self.pull(k, card, None)

    def test_iso7816_bcd_padding_and_pin_reference_from_the_config(self):
        k = self.kiosk(config={"card": {"iso_pin_ref": "0x81", "iso_pin_padding": "bcd"}})
        card = self.card(k, "A87000002", profile="iso7816", iso_pin_ref="81", iso_padding="bcd")
        self.change(k, card, INITIAL_PIN, NEW_PIN, "A87000002")
        self.assertEqual([sw for _, _, sw in self.ins_seen(card, "00 20 00 81")], ["9000"])
        self.assertEqual([sw for _, _, sw in self.ins_seen(card, "00 24 00 81")], ["9000"])


# =============================================================================
class TestPcscdRestart(PcscTest):
    """pcscd dies under the kiosk and comes back; the kiosk comes back by itself."""

    def outage(self, k, sub, pid):
        """kill -9 pcscd: OUT_OF_SERVICE reader_unavailable; start it again:
        IDLE within 5 s, same kiosk process."""
        self.pcscd.kill9()
        k.wait_event(sub, lambda e: e.get("state") == "OUT_OF_SERVICE", timeout=5)
        st = k.state()
        self.assertState(st, "OUT_OF_SERVICE", "reader_unavailable", 0)
        self.assertEqual(st["card"], "absent", st)
        self.assertNotIn("key.ok", k.widgets())
        time.sleep(0.5)  # it stays out of service while pcscd is away
        self.assertState(k.state(), "OUT_OF_SERVICE", "reader_unavailable", 0)
        self.pcscd.start()
        t0 = time.monotonic()
        k.wait_event(sub, lambda e: e.get("state") == "IDLE", timeout=5)
        took = time.monotonic() - t0
        self.assertLess(took, 5.0, "back to IDLE %.2f s after pcscd returned" % took)
        sys.stderr.write("back to IDLE %.2f s after pcscd returned\n" % took)
        self.same_kiosk(k, pid)
        return took

    def test_pcscd_killed_and_restarted_in_idle(self):
        k = self.kiosk()
        pid = k.proc.pid
        sub = k.subscribe()
        self.outage(k, sub, pid)
        self.assertState(k.state(), "IDLE", None, 0)
        # A second outage is handled the same way (a fresh context each time).
        self.outage(k, sub, pid)
        card = self.card(k, "A98000001")
        self.change(k, card, INITIAL_PIN, NEW_PIN, "A98000001")
        self.same_kiosk(k, pid)

    def test_pcscd_killed_and_restarted_on_old_pin(self):
        k = self.kiosk()
        pid = k.proc.pid
        card = self.card(k, "A98000002")
        self.old_pin_screen(k, "A98000002")
        k.type("12")
        sub = k.subscribe()
        self.outage(k, sub, pid)
        # The card stayed in: vcard.py comes back into the new pcscd as a new
        # insertion, and the kiosk reads it afresh, typed digits gone.
        card.wait_inserted(2)
        st = self.old_pin_screen(k, "A98000002")
        self.assertEqual(st["pin_length"], 0)
        self.assertNoRecords(k)
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        self.change(k, card, INITIAL_PIN, NEW_PIN, "A98000002")
        self.same_kiosk(k, pid)

    def test_pcscd_killed_while_changing(self):
        k = self.kiosk()
        pid = k.proc.pid
        card = self.card(k, "A98000003", slow_ms=2000, slow_on="change")
        self.old_pin_screen(k, "A98000003")
        self.assertEqual(self.verify(k, INITIAL_PIN)["state"], "ENTER_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("CHANGING")
        self.quiet_card(card, 0.3)
        sub = k.subscribe()
        self.pcscd.kill9()
        k.wait_event(sub, lambda e: e.get("state") == "OUT_OF_SERVICE", timeout=5)
        self.assertState(k.state(), "OUT_OF_SERVICE", "reader_unavailable", 0)
        # The change may or may not have reached the card: one unknown record.
        self.assertEqual(k.kinds(), [("pin_change_unknown", "A98000003")])
        self.assertEqual(k.intents(), [])
        # The card finishes the command after its delay (it is a card: it
        # does not know the reader went away), then waits for the reader.
        card.wait_log(r"reader gone", timeout=5)
        self.assertCard(card, pin=NEW_PIN, tries=3)
        self.pcscd.start()
        t0 = time.monotonic()
        k.wait_event(sub, lambda e: e.get("state") == "IDLE", timeout=5)
        self.assertLess(time.monotonic() - t0, 5.0)
        card.wait_inserted(2)
        self.change(k, card, NEW_PIN, OTHER_PIN, "A98000003",
                    [("pin_change_unknown", "A98000003")])
        self.same_kiosk(k, pid)


# =============================================================================
class TestTwoReaders(PcscTest):

    def test_reader_filter_picks_slot_1_and_ignores_slot_0(self):
        k = self.kiosk(reader=R1)
        sub = k.subscribe()
        other = self.card(k, "A11111111", port=P0)
        # A card in the other reader is none of the kiosk's business.
        self.assertNoEvent(k, sub, 1.0)
        st = k.state()
        self.assertState(st, "IDLE", None, 0)
        self.assertEqual(st["card"], "absent", st)
        self.assertNotIn("card_masked", st)
        mine = self.card(k, "B22222222", port=P1)
        self.old_pin_screen(k, "B22222222")
        self.assertEqual(self.verify(k, INITIAL_PIN)["state"], "ENTER_NEW_PIN")
        k.type("58")
        before = k.state()
        sub = k.subscribe()  # from here on: no event at all
        # Pulling the card in slot 0 does nothing.
        other.remove()
        self.assertNoEvent(k, sub, 1.0)
        st = k.state()
        for key in ("state", "notice", "pin_length", "card", "card_masked", "tries_left"):
            self.assertEqual(st.get(key), before.get(key), key)
        k.type("2039")
        k.tap("key.ok")
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        k.wait("SUCCESS")
        self.assertEqual(k.kinds(), [("pin_changed", "B22222222")])
        self.assertCard(mine, pin=NEW_PIN, tries=3, number="B22222222")
        self.assertCard(other, pin=INITIAL_PIN, tries=3, number="A11111111")
        self.assertEqual(self.ins_seen(other, "00 20"), [])
        self.pull(k, mine, None)

    def test_empty_filter_takes_the_reader_that_has_a_card(self):
        k = self.kiosk(reader="")
        card = self.card(k, "B33333333", port=P1)
        self.change(k, card, INITIAL_PIN, NEW_PIN, "B33333333")


# =============================================================================
class TestPcscReset(PcscTest):
    """The reset of a forgotten or blocked PIN (issue 12, bureau-api.md
    section 3) on pcscd and a vcard.py card, with the whole chain: the kiosk,
    the real kiosk-sync over mutual TLS and the bureau stand-in, which texts
    the code (k.sms_code reads it from its control port and notes it as a
    secret for the audit). Each test checks the card's memory (its state
    file) and what the stand-in recorded."""

    def kiosk(self, reader=R0, **kw):
        kw.setdefault("status_timeout_ms", 2000)
        kw.setdefault("reset_timeout_ms", 4000)
        return super().kiosk(reader=reader, sync="real", **kw)

    # ---- steps ---------------------------------------------------------------

    def to_offer(self, k, on):
        """btn.forgot on `on` (ENTER_OLD_PIN or CARD_BLOCKED): the offer."""
        self.assertEqual(k.state()["state"], on)
        self.assertIn("btn.forgot", k.widgets())
        k.tap("btn.forgot")
        self.assertState(k.wait("RESET_OFFER"), "RESET_OFFER", None)
        self.assertIn("btn.reset", k.widgets())

    def request_code(self, k, number):
        """btn.reset; the code the stand-in texted and its reset_id."""
        k.tap("btn.reset")
        self.assertState(k.wait("ENTER_RESET_CODE", 8000), "ENTER_RESET_CODE", None, 0)
        code = k.sms_code(number)
        self.assertIsNotNone(code, "the stand-in texted no code")
        rid = k.bureau("/sms?card=%s" % number)["reset_id"]
        self.assertRegex(rid, r"^r-[0-9a-f]+$")
        return code, rid

    def enter_code(self, k, code):
        k.type(code)
        self.assertEqual(k.state()["pin_length"], 6)
        k.tap("key.ok")

    def delivered(self, k, n, timeout=10):
        """The stand-in's records once `n` have arrived and the kiosk's outbox
        holds no record or intent any more."""
        wait_for(lambda: len(k.recorded()) >= n and
                 not [x for x in k.outbox_names() if x.startswith(("evt-", "intent-"))],
                 timeout, "%d records delivered" % n)
        got = k.recorded()
        self.assertEqual(len(got), n, got)
        return [(r["kind"], r["card_number"], r.get("reset_id"), r.get("reset_known")) for r in got]

    def assertNothingRecorded(self, k):
        """No record or intent in the outbox and none at the stand-in: with
        the outbox empty nothing can still be on its way."""
        self.assertNoRecords(k)
        self.assertEqual(k.recorded(), [])
        self.assertEqual(k.bureau_stats()["recorded"], 0)

    def reset_commands(self, card):
        """[sw] of GET CHALLENGE and of the bureau's command, from the card's log."""
        return ([sw for _, _, sw in self.ins_seen(card, "00 84 00 00")],
                [sw for _, _, sw in self.ins_seen(card, "84 2C 00 00")])

    def reset_to_new_pin(self, k, card, number):
        """From the offer to SUCCESS with NEW_PIN; checks the card's memory
        on the way and the stand-in's two records at the end."""
        code, rid = self.request_code(k, number)
        self.enter_code(k, code)
        st = k.wait("ENTER_NEW_PIN", 10000)
        self.assertState(st, "ENTER_NEW_PIN", "pin_was_reset", 0)
        # The bureau's command put the card back on the initial PIN, counter
        # full, not blocked; the kiosk verified that PIN itself.
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        self.assertEqual(self.reset_commands(card), (["9000"], ["9000"]), self.commands(card))
        k.enter_pin(NEW_PIN)
        self.assertState(k.wait("CONFIRM_NEW_PIN"), "CONFIRM_NEW_PIN", None, 0)
        k.enter_pin(NEW_PIN)
        self.assertState(k.wait("SUCCESS", 10000), "SUCCESS", None, 0)
        self.assertCard(card, pin=NEW_PIN, tries=3)
        # Verified with the initial PIN after the reset, then changed: no
        # VERIFY of the forgotten PIN was needed.
        self.assertEqual([sw for _, _, sw in self.ins_seen(card, "80 5E 01 00")], ["9000"])
        self.assertEqual(self.delivered(k, 2),
                         [("pin_reset", number, rid, True), ("pin_changed", number, None, None)])
        resets = k.bureau("/resets")["resets"]
        self.assertEqual([(r["reset_id"], r["state"]) for r in resets], [(rid, "used")], resets)
        self.pull(k, card, None)

    # ---- the journeys ----------------------------------------------------------

    def test_forgotten_pin_reset_then_new_pin(self):
        k = self.kiosk()
        card = self.card(k, "A12345678", pin=OTHER_PIN)  # the PIN the citizen forgot
        self.old_pin_screen(k, "A12345678")
        self.to_offer(k, "ENTER_OLD_PIN")
        self.assertCard(card, pin=OTHER_PIN, tries=3)
        self.reset_to_new_pin(k, card, "A12345678")

    def test_blocked_card_reset_then_new_pin(self):
        k = self.kiosk()
        card = self.card(k, "A12340002", pin=OTHER_PIN, blocked=True)
        self.assertCard(card, pin=OTHER_PIN, tries=0, blocked=True)
        self.old_pin_screen(k, "A12340002")
        # The kiosk learns the card is blocked from its answer (69 83).
        st = self.verify(k, WRONG_PIN)
        self.assertState(st, "CARD_BLOCKED", None, 0)
        self.assertCard(card, pin=OTHER_PIN, tries=0, blocked=True)
        self.to_offer(k, "CARD_BLOCKED")
        self.reset_to_new_pin(k, card, "A12340002")

    def test_card_refuses_the_command(self):
        k = self.kiosk()
        card = self.card(k, "A12340003", pin=OTHER_PIN)
        self.old_pin_screen(k, "A12340003")
        self.assertState(self.verify(k, WRONG_PIN), "ENTER_OLD_PIN", "wrong_pin", 0, 2)
        before = card.read_state()
        self.assertCard(card, pin=OTHER_PIN, tries=2)
        # A well-formed command whose MAC is wrong: the card answers 69 88.
        k.faults(replace_body={"count": 1, "body": {"command_apdu": "842C000010" + "00" * 16}},
                 only="reset_authorize")
        self.to_offer(k, "ENTER_OLD_PIN")
        code, rid = self.request_code(k, "A12340003")
        self.enter_code(k, code)
        st = k.wait("ERROR", 10000)
        self.assertState(st, "ERROR", "reset_refused", 0)
        self.assertEqual(self.reset_commands(card), (["9000"], ["6988"]), self.commands(card))
        self.assertEqual(card.read_state(), before, "the card's memory changed")
        self.assertEqual(k.faults()["replace_body"]["count"], 0, "the fault was not used")
        self.assertNothingRecorded(k)
        self.pull(k, card, None)
        self.assertNothingRecorded(k)
        self.assertEqual(card.read_state(), before)

    def lost_reset_answer(self, number, state, **fault):
        """The card carries the bureau's command out and its answer is lost:
        `state` change_unknown, one pin_change_unknown with the reset_id at
        the stand-in, the card on the initial PIN; the same card then goes
        through a change from the initial PIN."""
        k = self.kiosk()
        card = self.card(k, number, pin=OTHER_PIN, **fault)
        self.old_pin_screen(k, number)
        self.to_offer(k, "ENTER_OLD_PIN")
        code, rid = self.request_code(k, number)
        self.enter_code(k, code)
        st = k.wait(state, 10000)
        self.assertState(st, state, "change_unknown", 0)
        self.assertCard(card, pin=INITIAL_PIN, tries=3)
        self.assertEqual(self.delivered(k, 1), [("pin_change_unknown", number, rid, True)])
        # The command went to the card once; nothing else after it.
        self.assertEqual(len(self.ins_seen(card, "84 2C")), 1, self.commands(card))
        self.assertEqual(self.commands(card)[-1][1], "84 2C 00 00", self.commands(card))
        return k, card, rid

    def change_after_lost_answer(self, k, card, number, rid):
        """The same card again, without the fault: on the initial PIN, so a
        normal change; then the stand-in has both records. (The outbox is
        kiosk-sync's to empty, so the records are read at the stand-in.)"""
        again = self.card(k, number, same_as=card)
        self.old_pin_screen(k, number)
        self.assertState(self.verify(k, INITIAL_PIN), "ENTER_NEW_PIN", "on_initial_pin", 0)
        k.enter_pin(NEW_PIN)
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(NEW_PIN)
        self.assertState(k.wait("SUCCESS"), "SUCCESS", None, 0)
        self.assertCard(again, pin=NEW_PIN, tries=3)
        self.assertEqual(self.delivered(k, 2), [("pin_change_unknown", number, rid, True),
                                                ("pin_changed", number, None, None)])
        self.pull(k, again, None)

    def test_reset_answer_garbled(self):
        k, card, rid = self.lost_reset_answer("A12340004", "ERROR", garbage_on="reset")
        self.assertIn("garbage", card.log_text())
        self.assertEqual(k.state()["card"], "present")
        self.pull(k, card, None)
        self.change_after_lost_answer(k, card, "A12340004", rid)

    def test_reset_answer_lost_card_pulled(self):
        k, card, rid = self.lost_reset_answer("A12340005", "IDLE", drop_on="reset")
        self.assertIn("card pulled before answering", card.log_text())
        self.assertEqual(card.wait_exit(5), 0)
        self.assertEqual(k.state()["card"], "absent")
        self.change_after_lost_answer(k, card, "A12340005", rid)


# =============================================================================
class TestPcscMode(PcscTest):
    """The harness's PC/SC mode itself."""

    def test_no_simulated_card(self):
        k = self.kiosk()
        with self.assertRaises(KioskError):
            k.insert("A99000001")
        with self.assertRaises(KioskError):
            k.remove()
        r = k.cmd({"cmd": "card", "action": "insert", "card_number": "A99000001",
                   "pin": INITIAL_PIN, "tries": 3})
        self.assertEqual((r.get("ok"), r.get("error")), (False, "not_simulated"), r)
        self.assertState(k.state(), "IDLE", None, 0)

    def test_the_audit_reads_the_card_log_but_not_its_memory(self):
        k = self.kiosk()
        card = self.card(k, "A99000002")
        self.old_pin_screen(k, "A99000002")
        self.assertEqual(self.verify(k, INITIAL_PIN)["state"], "ENTER_NEW_PIN")
        self.assertEqual(k.audit(), [])  # card.json holds the PIN: it is the card's memory
        with open(card.log_path, "a") as f:
            f.write("vcard: oops A99000002 %s\n" % INITIAL_PIN)
        problems = k.audit()
        self.assertEqual(len(problems), 2, problems)
        with open(card.log_path, "r+") as f:
            text = f.read().replace("vcard: oops A99000002 %s\n" % INITIAL_PIN, "")
            f.seek(0)
            f.truncate()
            f.write(text)
        self.assertEqual(k.audit(), [])


if __name__ == "__main__":
    unittest.main()
