"""test_reset.py - the reset of a forgotten or blocked PIN (issue 12,
bureau-api.md section 3), end to end on the simulated card: the kiosk, the
real kiosk-sync over mutual TLS, and the bureau stand-in, which "texts" the
code by printing it and gives it to tests on its control port.

Each journey checks what the card says afterwards (a PIN that verifies, or
not) and what the stand-in recorded. The audit (harness.Kiosk.close) looks
for every code the stand-in texted, as for every PIN, in every file the
kiosk and kiosk-sync wrote.
"""

import os
import signal
import time
import unittest

from harness import INITIAL_PIN, Kiosk, KioskError, slow, wait_for

CARD = "A12345678"
NEW_PIN = "582039"


class ResetTest(unittest.TestCase):
    maxDiff = None

    def kiosk(self, statuses=None, **kw):
        kw.setdefault("status_timeout_ms", 2000)
        kw.setdefault("reset_timeout_ms", 4000)
        k = Kiosk(self, sync="real", statuses=statuses or {CARD: "active"}, **kw)
        self.addCleanup(lambda: k.close(keep=self.failed_so_far()))
        return k

    def failed_so_far(self):
        result = getattr(getattr(self, "_outcome", None), "result", None)
        for t, _ in getattr(result, "failures", []) + getattr(result, "errors", []):
            if t is self or getattr(t, "test_case", None) is self:
                return True
        return False

    # ---- steps ------------------------------------------------------------------

    def to_offer(self, k, card=CARD, pin="246802", tries=3, blocked=False):
        """Inserts the card and taps "forgot PIN" (on the PIN screen, or on the
        blocked screen); returns the offer's state."""
        k.insert(card, pin, tries, **({"blocked": True} if blocked else {}))
        k.wait("CARD_BLOCKED" if blocked else "ENTER_OLD_PIN")
        k.tap("btn.forgot")
        return k.wait("RESET_OFFER")

    def request_code(self, k, card=CARD):
        """btn.reset; the code the stand-in texted (noted as a secret)."""
        k.tap("btn.reset")
        st = k.wait("ENTER_RESET_CODE", 8000)
        return st, k.sms_code(card)

    def enter_code(self, k, code):
        k.type(code)
        k.tap("key.ok")

    def resets(self, k):
        return k.bureau("/resets")

    def assertState(self, st, state, notice=None):
        self.assertTrue(st.get("ok"), st)
        self.assertEqual((st.get("state"), st.get("notice")), (state, notice), st)

    def reset_records(self, k, n, timeout=20):
        """The stand-in's records once `n` have arrived and the outbox is empty."""
        wait_for(lambda: len(k.recorded()) >= n and
                 not [x for x in k.outbox_names() if x.startswith(("evt-", "intent-"))],
                 timeout, "%d records delivered" % n)
        got = k.recorded()
        self.assertEqual(len(got), n, got)
        return got

    def assertPinIs(self, k, card, pin):
        """The card takes `pin` (a journey verifies it and is cancelled)."""
        k.insert(card, pin)
        k.wait("ENTER_OLD_PIN")
        k.type(pin)
        k.tap("key.ok")
        st = k.wait_any(["ENTER_NEW_PIN", "ENTER_OLD_PIN", "CARD_BLOCKED"], timeout=8)
        self.assertEqual(st.get("state"), "ENTER_NEW_PIN", "the card did not take %s" % ("the PIN",))
        k.tap("btn.cancel")
        k.wait("TAKE_CARD")
        k.remove()
        k.wait("IDLE")

    # ---- the journeys ------------------------------------------------------------

    def test_forgotten_pin_reset_then_new_pin(self):
        k = self.kiosk()
        self.to_offer(k)
        st, code = self.request_code(k)
        # The phone the code went to, masked; the code's digits only as dots.
        texts = " ".join(t["text"] for t in k.layout()["texts"])
        self.assertIn("138****5678", texts)
        k.type(code[:3])
        self.assertEqual(k.state()["pin_length"], 3)
        self.assertNotIn(code[:3], " ".join(t["text"] for t in k.layout()["texts"]))
        k.tap("key.back")
        k.tap("key.back")
        k.tap("key.back")
        self.enter_code(k, code)
        st = k.wait("ENTER_NEW_PIN", 10000)
        self.assertState(st, "ENTER_NEW_PIN", "pin_was_reset")
        k.type(NEW_PIN)
        k.tap("key.ok")
        k.wait("CONFIRM_NEW_PIN")
        k.type(NEW_PIN)
        k.tap("key.ok")
        k.wait("SUCCESS", 10000)
        k.remove()
        k.wait("IDLE")
        got = self.reset_records(k, 2)
        self.assertEqual([(r["kind"], r.get("reset_id")) for r in got],
                         [("pin_reset", got[0]["reset_id"]), ("pin_changed", None)])
        self.assertTrue(got[0]["reset_id"].startswith("r-"))
        self.assertTrue(got[0].get("reset_known"), got[0])
        self.assertEqual(k.reset_kinds(), [])  # delivered: nothing left behind
        self.assertPinIs(k, CARD, NEW_PIN)


if __name__ == "__main__":
    unittest.main()
