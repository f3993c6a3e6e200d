"""test_reset.py - the reset of a forgotten or blocked PIN (issue 12,
bureau-api.md section 3), end to end on the simulated card: the kiosk, the
real kiosk-sync over mutual TLS, and the bureau stand-in, which "texts" the
code by printing it and gives it to tests on its control port.

Each journey checks what the card says afterwards (a PIN that verifies, or
not) and what the stand-in recorded. The audit (harness.Kiosk.close) looks
for every code the stand-in texted, as for every PIN, in every file the
kiosk and kiosk-sync wrote.
"""

import json
import re
import time
import unittest

from harness import INITIAL_PIN, slow, wait_for
from test_e2e_sync import E2ETest

CARD = "A12345678"
NEW_PIN = "582039"


class ResetTest(E2ETest):
    """The real chain, as test_e2e_sync's; its kiosk() with the reset's
    shorter patience and an active test card by default."""

    def kiosk(self, statuses=None, **kw):
        kw.setdefault("reset_timeout_ms", 4000)
        return super().kiosk(statuses=statuses or {CARD: "active"}, **kw)

    # ---- steps ------------------------------------------------------------------

    def to_offer(self, k, card=CARD, pin="246802", tries=3, blocked=False):
        """Inserts the card and taps "forgot PIN" (on the PIN screen, or, for a
        card blocked before it came, on the blocked screen its VERIFY leads
        to); returns the offer's state."""
        k.insert(card, pin, tries, **({"blocked": True} if blocked else {}))
        k.wait("ENTER_OLD_PIN")
        if blocked:
            k.type(pin)
            k.tap("key.ok")
            k.wait("CARD_BLOCKED", 8000)
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

    def to_offer_with(self, k, card=CARD, pin="246802", tries=3, **extra):
        """to_offer for an insertion with the sim card's switches (fault,
        delay_ms, ...); the card must not be blocked."""
        k.insert(card, pin, tries, **extra)
        k.wait("ENTER_OLD_PIN")
        k.tap("btn.forgot")
        return k.wait("RESET_OFFER")

    def wrong(self, code):
        """A six-digit code that is not `code`."""
        return "%06d" % ((int(code) + 1) % 1000000)

    def finish_change(self, k, new_pin=NEW_PIN):
        """From ENTER_NEW_PIN (after a reset) to SUCCESS and back to IDLE."""
        k.type(new_pin)
        k.tap("key.ok")
        k.wait("CONFIRM_NEW_PIN")
        k.type(new_pin)
        k.tap("key.ok")
        k.wait("SUCCESS", 10000)
        k.remove()
        k.wait("IDLE")

    def code_wrong(self, k, left):
        """Polls until the kiosk is back on the code's keypad saying the code
        was wrong with `left` attempts left (its authorize call is over)."""
        def ready():
            st = k.state()
            if st.get("state") not in ("RESET_AUTHORIZING", "ENTER_RESET_CODE"):
                return st  # fails below
            return st if st.get("notice") == "code_wrong" and st.get("attempts_left") == left else None
        st = wait_for(ready, 8, "code_wrong with %d left" % left)
        self.assertState(st, "ENTER_RESET_CODE", "code_wrong")
        self.assertEqual(st.get("attempts_left"), left, st)
        return st

    def assertNothingRecorded(self, k):
        """No record in the outbox (no intent, no evt) and none at the stand-in."""
        self.assertEqual([n for n in k.outbox_names() if n.startswith(("evt-", "intent-"))], [])
        self.assertEqual(k.recorded(), [])

    def assertOnlyChangeRecorded(self, k, old_pin, new_pin=NEW_PIN):
        """A normal change old_pin -> new_pin succeeds (so old_pin verified),
        and it is the only record the stand-in ever gets: had the failed
        reset left a record behind, it would be delivered too (by seq)."""
        k.change_pin(CARD, old_pin, new_pin)
        got = self.reset_records(k, 1)
        self.assertEqual([(r["kind"], r["card_number"], r.get("reset_id")) for r in got],
                         [("pin_changed", CARD, None)])

    def reset_states(self, k):
        return [(r["card_number"], r["state"]) for r in self.resets(k)["resets"]]

    def pin_reset_posts(self, k):
        """How many requests to start a reset reached the stand-in (its raw log)."""
        return len(re.findall(rb"(?m)^--- \S+ POST /v1/cards/[^/ ]+/pin-resets$", k.raw_bodies()))

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

    # 1. blocked by wrong PINs -> reset -> a PIN of one's own; locked for good -> no offer
    def test_blocked_card_reset_then_new_pin(self):
        k = self.kiosk()
        # A card blocked before it came: the kiosk learns it at the VERIFY.
        k.insert(CARD, "246802", 3, blocked=True)
        k.wait("ENTER_OLD_PIN")
        k.type("246802")
        k.tap("key.ok")
        st = k.wait("CARD_BLOCKED", 8000)
        self.assertState(st, "CARD_BLOCKED", None)
        self.assertIn("btn.forgot", k.widgets())
        k.tap("btn.forgot")
        k.wait("RESET_OFFER")
        st, code = self.request_code(k)
        self.enter_code(k, code)
        st = k.wait("ENTER_NEW_PIN", 10000)
        self.assertState(st, "ENTER_NEW_PIN", "pin_was_reset")
        self.finish_change(k)
        got = self.reset_records(k, 2)
        rid = k.bureau("/sms?card=%s" % CARD)["reset_id"]
        self.assertEqual([(r["kind"], r["card_number"], r.get("reset_id")) for r in got],
                         [("pin_reset", CARD, rid), ("pin_changed", CARD, None)])
        self.assertIs(got[0].get("reset_known"), True, got[0])
        self.assertEqual(self.reset_states(k), [(CARD, "used")])
        # Blocked no more, and on the citizen's own PIN (not 123456).
        self.assertPinIs(k, CARD, NEW_PIN)

    def test_locked_card_has_no_reset_offer(self):
        k = self.kiosk(statuses={"L00000007": "active"})
        k.insert("L00000007", "246802", 3, locked=True)
        st = k.wait("CARD_BLOCKED")
        self.assertState(st, "CARD_BLOCKED", "card_locked")
        self.assertNotIn("btn.forgot", k.widgets())
        # Nothing a tap on where it would be can start either.
        r = k.cmd({"cmd": "tap", "id": "btn.forgot"})
        self.assertIsNot(r.get("ok"), True, r)
        self.assertState(k.state(), "CARD_BLOCKED", "card_locked")
        self.assertEqual(self.resets(k)["resets"], [])
        self.assertEqual(k.bureau_stats()["resets_started"], 0)

    # 2. one wrong code, then the right one
    def test_one_wrong_code_then_right(self):
        k = self.kiosk()
        self.to_offer(k)
        st, code = self.request_code(k)
        self.enter_code(k, self.wrong(code))
        st = self.code_wrong(k, 2)
        self.assertState(st, "ENTER_RESET_CODE", "code_wrong")
        self.assertEqual(st.get("attempts_left"), 2, st)
        self.assertEqual(st.get("pin_length"), 0, st)
        self.enter_code(k, code)
        st = k.wait("ENTER_NEW_PIN", 10000)
        self.assertState(st, "ENTER_NEW_PIN", "pin_was_reset")
        self.assertIsNone(st.get("attempts_left"), st)
        self.finish_change(k)
        got = self.reset_records(k, 2)
        self.assertEqual([(r["kind"], r.get("reset_id")) for r in got],
                         [("pin_reset", got[0]["reset_id"]), ("pin_changed", None)])
        self.assertIs(got[0].get("reset_known"), True, got[0])
        self.assertEqual(k.bureau_stats()["codes_invalid"], 1)
        self.assertPinIs(k, CARD, NEW_PIN)

    # 3. three wrong codes: the reset is void
    def test_three_wrong_codes_void_the_reset(self):
        k = self.kiosk()
        self.to_offer(k)
        st, code = self.request_code(k)
        for left in (2, 1):
            self.enter_code(k, self.wrong(code))
            st = self.code_wrong(k, left)
            self.assertState(st, "ENTER_RESET_CODE", "code_wrong")
        self.enter_code(k, self.wrong(code))
        st = k.wait("ERROR", 8000)
        self.assertState(st, "ERROR", "reset_void")
        self.assertEqual(self.reset_states(k), [(CARD, "void")])
        k.remove()
        k.wait("IDLE")
        self.assertNothingRecorded(k)
        self.assertOnlyChangeRecorded(k, "246802")

    # 4. the code expired
    def test_expired_code(self):
        k = self.kiosk()
        k.bureau("/resets", {"reset_expires_in_s": 1})
        self.to_offer(k)
        st, code = self.request_code(k)
        wait_for(lambda: self.reset_states(k) == [(CARD, "expired")], 5, "the code to expire")
        self.enter_code(k, code)
        st = k.wait("ERROR", 8000)
        self.assertState(st, "ERROR", "code_expired")
        k.remove()
        k.wait("IDLE")
        self.assertNothingRecorded(k)
        self.assertEqual(k.bureau_stats()["resets_authorized"], 0)
        self.assertOnlyChangeRecorded(k, "246802")

    # 5. no phone on file
    def test_no_phone_on_file(self):
        k = self.kiosk(statuses={CARD: {"status": "active", "phone": None}})
        self.to_offer(k)
        k.tap("btn.reset")
        st = k.wait("ERROR", 8000)
        self.assertState(st, "ERROR", "no_phone_on_file")
        self.assertEqual(self.resets(k)["resets"], [])
        self.assertEqual(self.pin_reset_posts(k), 1)
        k.remove()
        k.wait("IDLE")
        self.assertNothingRecorded(k)
        self.assertPinIs(k, CARD, "246802")

    # 6. a fourth reset in a day
    def test_too_many_resets(self):
        k = self.kiosk()
        for i in range(3):
            self.to_offer(k)
            self.request_code(k)
            k.remove()
            st = k.wait("IDLE")
            self.assertState(st, "IDLE", "card_removed")
        self.assertEqual(self.resets(k)["counters"][CARD]["started"], 3)
        self.to_offer(k)
        k.tap("btn.reset")
        st = k.wait("ERROR", 8000)
        self.assertState(st, "ERROR", "too_many_resets")
        self.assertEqual(self.pin_reset_posts(k), 4)
        self.assertEqual(len(self.resets(k)["resets"]), 3)
        k.remove()
        k.wait("IDLE")
        self.assertNothingRecorded(k)
        self.assertPinIs(k, CARD, "246802")

    # 7. the card went lost between the read and the reset
    def test_card_not_active_at_reset(self):
        k = self.kiosk()
        self.to_offer(k)
        self.assertEqual(k.state().get("state"), "RESET_OFFER")
        k.set_statuses({CARD: "lost"})
        k.tap("btn.reset")
        st = k.wait("CARD_REJECTED", 8000)
        self.assertState(st, "CARD_REJECTED", "card_not_active")
        self.assertEqual(self.resets(k)["resets"], [])
        k.remove()
        k.wait("IDLE")
        self.assertNothingRecorded(k)
        k.set_statuses({CARD: "active"})
        self.assertPinIs(k, CARD, "246802")

    # 8. the bureau cannot be reached; never asked twice
    def test_bureau_down(self):
        k = self.kiosk(reset_timeout_ms=1500)
        self.to_offer(k)
        k.stop_bureau()
        t0 = time.monotonic()
        k.tap("btn.reset")
        st = k.wait("ERROR", 8000)
        took = time.monotonic() - t0
        self.assertState(st, "ERROR", "reset_unavailable")
        self.assertLess(took, 1.5 + slow(1.0), "reset_unavailable after %.2f s" % took)
        k.remove()
        k.wait("IDLE")
        k.start_bureau()
        # Give a retry (there must be none) time to happen: past the backoff.
        time.sleep(slow(1.0))
        self.assertEqual(self.resets(k)["resets"], [])
        self.assertEqual(k.bureau_stats()["resets_started"], 0)
        self.assertEqual(self.pin_reset_posts(k), 0)
        self.assertNothingRecorded(k)

    def test_reset_request_answer_lost_not_retried(self):
        """The bureau texts the code and the answer is lost: one request
        only (a retry would text a second code)."""
        k = self.kiosk(reset_timeout_ms=2000)
        self.to_offer(k)
        k.faults(only="reset_start", drop_after_record=1)
        t0 = time.monotonic()
        k.tap("btn.reset")
        st = k.wait_any(["ERROR", "ENTER_RESET_CODE", "CARD_REJECTED"], timeout=8)
        took = time.monotonic() - t0
        self.assertState(st, "ERROR", "reset_unavailable")
        self.assertLess(took, 2.0 + slow(1.0))
        k.remove()
        k.wait("IDLE")
        k.sms_code(CARD)  # texted: a secret for the audit
        time.sleep(slow(1.0))
        self.assertEqual(self.pin_reset_posts(k), 1)
        self.assertEqual(self.reset_states(k), [(CARD, "pending")])
        self.assertEqual(k.bureau_stats()["resets_started"], 1)
        self.assertNothingRecorded(k)

    def test_authorize_answer_lost_not_retried(self):
        """A wrong code whose answer is lost: asked once, so it costs the
        citizen one attempt, not two."""
        k = self.kiosk(reset_timeout_ms=2000)
        self.to_offer(k)
        st, code = self.request_code(k)
        k.faults(only="reset_authorize", drop_after_record=1)
        self.enter_code(k, self.wrong(code))
        # The end of the authorize call: an error, or the keypad again with
        # code_wrong (had the call been made twice, the second answer).
        st = wait_for(lambda: (lambda x: x if x.get("state") not in ("ENTER_RESET_CODE", "RESET_AUTHORIZING")
                               or x.get("notice") == "code_wrong" else None)(k.state()),
                      8, "the authorize call to end")
        self.assertState(st, "ERROR", "reset_unavailable")
        k.remove()
        k.wait("IDLE")
        time.sleep(slow(1.0))
        self.assertEqual(k.bureau_stats()["codes_invalid"], 1)
        self.assertEqual([(r["state"], r["attempts_left"]) for r in self.resets(k)["resets"]],
                         [("pending", 2)])
        self.assertNothingRecorded(k)

    # 9. the card refuses the bureau's command
    def test_card_refuses_command(self):
        k = self.kiosk()
        self.to_offer(k)
        st, code = self.request_code(k)
        k.faults(only="reset_authorize",
                 replace_body={"count": 1, "body": {"command_apdu": "842C000010" + "00" * 16}})
        self.enter_code(k, code)
        st = k.wait("ERROR", 8000)
        self.assertState(st, "ERROR", "reset_refused")
        k.remove()
        k.wait("IDLE")
        self.assertNothingRecorded(k)
        self.assertEqual(k.reset_kinds(), [])
        self.assertOnlyChangeRecorded(k, "246802")

    # 10. the card's answer to the command lost
    def test_reset_answer_lost(self):
        k = self.kiosk()
        self.to_offer_with(k, fault="garbage", fault_on="reset")
        st, code = self.request_code(k)
        self.enter_code(k, code)
        st = k.wait("ERROR", 8000)
        self.assertState(st, "ERROR", "change_unknown")
        k.remove()
        k.wait("IDLE")
        got = self.reset_records(k, 1)
        rid = k.bureau("/sms?card=%s" % CARD)["reset_id"]
        self.assertEqual([(r["kind"], r["card_number"], r.get("reset_id")) for r in got],
                         [("pin_change_unknown", CARD, rid)])
        self.assertIs(got[0].get("reset_known"), True, got[0])
        self.assertPinIs(k, CARD, INITIAL_PIN)

    # 11. the card pulled at every reset state
    def test_card_pulled_at_every_reset_state(self):
        k = self.kiosk()
        ended = []

        def pull(expect_notice="card_removed"):
            k.remove()
            st = k.wait("IDLE")
            ended.append((st.get("state"), st.get("notice")))
            self.assertState(st, "IDLE", expect_notice)

        # RESET_OFFER
        self.to_offer(k)
        pull()
        # RESET_REQUESTING, held there by the stand-in
        self.to_offer(k)
        k.faults(only="reset_start", delay_ms=1500)
        k.tap("btn.reset")
        self.assertEqual(k.state()["state"], "RESET_REQUESTING")
        pull()
        wait_for(lambda: len(self.resets(k)["resets"]) == 1, 5, "the delayed request to end")
        k.sms_code(CARD)
        k.faults(reset=True)
        # ENTER_RESET_CODE
        self.to_offer(k)
        self.request_code(k)
        pull()
        k.bureau("/resets", {"clear_counters": True})
        # RESET_AUTHORIZING, held there by the card
        self.to_offer_with(k, delay_ms=3000, delay_on="challenge")
        st, code = self.request_code(k)
        self.enter_code(k, code)
        k.wait("RESET_AUTHORIZING", 2000)
        pull()
        self.assertEqual(k.bureau_stats()["resets_authorized"], 0)
        # RESETTING: the command is at the card (held there by its delay)
        self.to_offer_with(k, delay_ms=3000, delay_on="reset")
        st, code = self.request_code(k)
        self.enter_code(k, code)
        k.wait("RESETTING", 5000)
        pull("change_unknown")
        got = self.reset_records(k, 1)
        rid = k.bureau("/sms?card=%s" % CARD)["reset_id"]
        self.assertEqual([(r["kind"], r["card_number"], r.get("reset_id")) for r in got],
                         [("pin_change_unknown", CARD, rid)])
        self.assertIs(got[0].get("reset_known"), True, got[0])
        self.assertEqual(ended, [("IDLE", "card_removed")] * 4 + [("IDLE", "change_unknown")])
        # The card was out before the command reached it: nothing changed,
        # and the kiosk goes on working.
        k.change_pin(CARD, "246802", NEW_PIN)
        got = self.reset_records(k, 2)
        self.assertEqual([r["kind"] for r in got], ["pin_change_unknown", "pin_changed"])
        self.assertPinIs(k, CARD, NEW_PIN)

    # 12. kill -9 with the command at the card
    def test_kill9_while_resetting(self):
        k = self.kiosk()
        self.to_offer_with(k, delay_ms=5000, delay_on="reset")
        st, code = self.request_code(k)
        self.enter_code(k, code)
        k.wait("RESETTING", 5000)
        self.assertEqual(len(k.intents()), 1, k.outbox_names())
        k.kill9()
        st = k.restart()
        self.assertEqual(st.get("state"), "IDLE", st)
        got = self.reset_records(k, 1)
        rid = k.bureau("/sms?card=%s" % CARD)["reset_id"]
        self.assertEqual([(r["kind"], r["card_number"], r.get("reset_id")) for r in got],
                         [("pin_change_unknown", CARD, rid)])
        self.assertIs(got[0].get("reset_known"), True, got[0])
        self.assertEqual(k.intents(), [])

    # 13. the texted code never written, never shown
    def test_code_never_logged_or_shown(self):
        k = self.kiosk()
        self.to_offer(k)
        st, code = self.request_code(k)
        before = k.layout()
        digits_before = sorted(re.findall(r"\d+", " ".join(t["text"] for t in before["texts"])))
        k.type(code)
        st = k.state()
        self.assertEqual(st.get("pin_length"), 6, st)
        after = k.layout()
        self.assertNotIn(code, json.dumps(after))
        self.assertNotIn(code, json.dumps(st))
        self.assertEqual(sorted(re.findall(r"\d+", " ".join(t["text"] for t in after["texts"]))),
                         digits_before, "typed digits shown as text")
        k.tap("key.ok")
        k.wait("ENTER_NEW_PIN", 10000)
        self.finish_change(k)
        self.reset_records(k, 2)
        for who, text in (("kiosk", k.log_text()), ("kiosk-sync", k.sync_log_text())):
            self.assertTrue(text, "%s wrote no log" % who)
            self.assertNotIn(code, text, "the code in the %s log" % who)
            self.assertNotIn(CARD, text, "the unmasked card number in the %s log" % who)
        # The stand-in's raw log holds the authorize body, with the code redacted.
        self.assertIn(b"[redacted]", k.raw_bodies())
        self.assertNotIn(code.encode(), k.raw_bodies())


if __name__ == "__main__":
    unittest.main()
