"""test_logs.py - a terminal's day in its logs (issue 5, "Logs", acceptance
3): the journeys of the integration suite run against the real kiosk-sync
and the bureau stand-in; every line the kiosk and kiosk-sync write is
collected and must carry a journald priority (<N>), and neither log may
hold any PIN the journeys used or any card number unmasked. The harness's
audit (harness.Kiosk.audit) does the PIN and card search over both logs and
every file; this test adds what a technician reads: one line per state
change, and a line for each card or bureau error.
"""

import re
import time
import unittest

from harness import INITIAL_PIN, Kiosk, slow

PRIORITY = re.compile(r"^<[0-7]>[a-z_-]+: ")
NEW, OTHER, WRONG = "582039", "730164", "918273"


class TestLogs(unittest.TestCase):

    def test_a_day_of_journeys(self):
        k = Kiosk(self, sync="real", statuses={"L00000009": "lost"})
        closed = False
        try:
            sub = k.subscribe()
            for p in (NEW, OTHER, WRONG):
                k.note_pin(p)
            for card in ("L00000001", "L00000002", "L00000003", "L00000004", "L00000005",
                         "L00000006", "L00000009"):
                k.note_card(card)

            # A change; a wrong PIN then the right one; a block; a cancel; a
            # card pulled while typing; a card that answers garbage; a card
            # the bureau says is lost; the bureau going away.
            k.change_pin("L00000001", INITIAL_PIN, NEW)
            k.to_old_pin("L00000002")
            k.enter_pin(WRONG)
            k.wait("ENTER_OLD_PIN", timeout_ms=5000)
            k.enter_pin(INITIAL_PIN)
            k.wait("ENTER_NEW_PIN")
            k.enter_pin(OTHER)
            k.wait("CONFIRM_NEW_PIN")
            k.enter_pin(OTHER)
            k.wait("SUCCESS")
            k.remove()
            k.wait("IDLE")
            k.to_old_pin("L00000003", tries=1)
            k.enter_pin(WRONG)
            k.wait("CARD_BLOCKED")
            k.remove()
            k.wait("IDLE")
            k.to_old_pin("L00000004")
            k.tap("btn.cancel")
            k.wait("TAKE_CARD")
            k.remove()
            k.wait("IDLE")
            k.to_old_pin("L00000005")
            k.type("12")
            k.remove()
            k.wait("IDLE")
            k.insert("L00000006", fault="garbage", fault_on="verify")
            k.wait("ENTER_OLD_PIN")
            k.enter_pin(INITIAL_PIN)
            k.wait("ERROR")
            k.remove()
            k.wait("IDLE")
            k.insert("L00000009")
            k.wait("CARD_REJECTED")
            k.remove()
            k.wait("IDLE")
            k.stop_bureau()
            k.change_pin("L00000001", NEW, OTHER)
            deadline = time.monotonic() + slow(10)
            while (not re.search(r"delivery: event .*: retry", k.sync_log_text())
                   and time.monotonic() < deadline):
                time.sleep(0.1)

            # Every state the kiosk went through, as the subscribe channel
            # saw it, has its own line, in the same order.
            states = []
            while True:
                try:
                    ev = sub.next_event(0.3)
                except Exception:
                    break
                if ev.get("event") == "state":
                    states.append(ev["state"])
            kiosk_log, sync_log = k.log_text(), k.sync_log_text()
            logged = re.findall(r"^<6>core: -> \[([A-Z_]+)\]", kiosk_log, re.M)
            self.assertGreater(len(states), 30, states)
            self.assertEqual(logged[-len(states):], states)

            # journald's priorities: every line of both programs has one.
            for who, log in (("kiosk", kiosk_log), ("kiosk-sync", sync_log)):
                lines = [ln for ln in log.splitlines() if ln]
                self.assertGreater(len(lines), 10, who)
                bad = [ln for ln in lines if not PRIORITY.match(ln)]
                self.assertEqual(bad, [], "%s lines without a priority" % who)

            # Card and bureau errors each leave a line a technician can find,
            # at warning or above; card numbers in them are masked.
            self.assertRegex(kiosk_log, r"(?m)^<[0-4]>card: card L00\*\*\*006: verify ended garbage")
            self.assertRegex(kiosk_log, r"(?m)^<[0-6]>sync: card L00\*\*\*009: lost")
            self.assertRegex(sync_log, r"(?m)^<[0-4]>delivery: event [0-9a-f-]{36}: retry .*curl")
            self.assertRegex(kiosk_log, r"(?m)^<[0-6]>outbox: .*")
            k.close()
            closed = True  # the audit: no PIN, no unmasked card, in either log or any file
        finally:
            if not closed:
                k.close(audit=False, keep=True)


if __name__ == "__main__":
    unittest.main()
