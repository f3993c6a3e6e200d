"""test_harness.py - the harness's own checks must be able to fail.

The audit at teardown is what catches a PIN written to disk or a card
number logged in clear; a harness whose audit never fires proves nothing.
These tests plant exactly those mistakes in a kiosk's temp dir and check
that the audit reports each of them, and does not report what is allowed
(card numbers in outbox records, masked numbers in logs).
"""

import os
import unittest

from harness import Kiosk, KioskError, png_size


class TestAudit(unittest.TestCase):

    def setUp(self):
        # No processes: only the temp dir and the bookkeeping.
        self.k = Kiosk(self, sync=False, start=False)
        self.addCleanup(self.k.close, audit=False)
        os.makedirs(self.k.outbox, exist_ok=True)
        self.k.note_pin("482915")
        self.k.note_card("A12345678")

    def plant(self, rel, text):
        path = os.path.join(self.k.dir, rel)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_clean_dir_passes(self):
        self.plant("kiosk.log", "<6>card: read: ok, card A12***678\n")
        self.plant("outbox/evt-000000000001.json",
                   '{"event_id":"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10","terminal_id":"IT-TERM-0001",'
                   '"seq":1,"card_number":"A12345678","kind":"pin_changed","occurred_at":"2026-11-27T08:30:12Z"}')
        self.assertEqual(self.k.audit(), [])
        self.assertEqual(self.k.kinds(), [("pin_changed", "A12345678")])

    def test_pin_in_log(self):
        self.plant("kiosk.log", "<7>card: verify 482915\n")
        self.assertEqual(len(self.k.audit()), 1)

    def test_pin_in_an_event_file(self):
        self.plant("outbox/evt-000000000001.json", '{"card_number":"A12345678","x":"482915"}')
        problems = self.k.audit()
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("PIN", problems[0])

    def test_initial_pin_inside_the_card_number_is_not_a_leak(self):
        # "A12345678" holds "123456", the factory PIN every test notes.
        self.plant("outbox/evt-000000000001.json", '{"card_number":"A12345678"}')
        self.assertEqual(self.k.audit(), [])

    def test_pin_in_a_dead_or_temp_file(self):
        os.makedirs(os.path.join(self.k.outbox, "dead"))
        self.plant("outbox/dead/evt-000000000007.json", "482915")
        self.plant("outbox/.tmp-evt-000000000008.json", "xx482915")
        self.assertEqual(len(self.k.audit()), 2)

    def test_unmasked_card_in_log(self):
        self.plant("kiosk.log", "<6>card: read A12345678\n")
        problems = self.k.audit()
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("unmasked card number", problems[0])

    def test_unmasked_card_in_fake_sync_output(self):
        self.plant("fake_sync.out", "request card=A12345678 status=active\n")
        self.assertEqual(len(self.k.audit()), 1)

    def test_sanitizer_reports(self):
        for text in ("==123==ERROR: AddressSanitizer: heap-use-after-free",
                     "src/core/core.c:12:3: runtime error: signed integer overflow",
                     "==99== ERROR SUMMARY: 3 errors from 3 contexts"):
            with self.subTest(text=text):
                self.plant("kiosk.log", text + "\n")
                self.assertEqual(len(self.k.audit()), 1)
        self.plant("kiosk.log", "==99== ERROR SUMMARY: 0 errors from 0 contexts\n")
        self.assertEqual(self.k.audit(), [])

    def test_records_check_the_contract(self):
        bad = ['{"event_id":"not-a-uuid","terminal_id":"IT-TERM-0001","seq":1,"card_number":"A12345678",'
               '"kind":"pin_changed","occurred_at":"2026-11-27T08:30:12Z"}',
               '{"event_id":"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10","terminal_id":"IT-TERM-0001","seq":2,'
               '"card_number":"A12345678","kind":"pin_changed","occurred_at":"2026-11-27T08:30:12Z"}',
               '{"event_id":"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10","terminal_id":"IT-TERM-0001","seq":1,'
               '"card_number":"A12345678","kind":"pin_changed","occurred_at":"2026-11-27 08:30:12"}',
               '{"event_id":"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10","terminal_id":"IT-TERM-0001","seq":1,'
               '"card_number":"A12345678","kind":"pin_changed","occurred_at":"2026-11-27T08:30:12Z","pin":"1"}',
               '{"event_id":"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10","terminal_id":"IT-TERM-0001","seq":1,'
               '"card_number":"A12345678","kind":"pin_reset","occurred_at":"2026-11-27T08:30:12Z"}',
               '{"event_id":"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10","terminal_id":"IT-TERM-0001","seq":1,'
               '"card_number":"A12345678","kind":"pin_changed","reset_id":"r-1","occurred_at":"2026-11-27T08:30:12Z"}',
               '{"event_id":"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10","terminal_id":"IT-TERM-0001","seq":1,'
               '"card_number":"A12345678","kind":"pin_reset","reset_id":"r 1","occurred_at":"2026-11-27T08:30:12Z"}']
        for text in bad:
            with self.subTest(text=text):
                self.plant("outbox/evt-000000000001.json", text)
                with self.assertRaises(KioskError):
                    self.k.records()

    def test_reset_records_pass(self):
        self.plant("outbox/evt-000000000001.json",
                   '{"event_id":"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10","terminal_id":"IT-TERM-0001","seq":1,'
                   '"card_number":"A12345678","kind":"pin_reset","reset_id":"r-7f3a",'
                   '"occurred_at":"2026-11-27T08:30:12Z"}')
        self.assertEqual(self.k.reset_kinds(), [("pin_reset", "A12345678", "r-7f3a")])

    def test_png_size_checks_the_signature(self):
        path = self.plant("x.png", "not a png at all, not at all, no")
        with self.assertRaises(AssertionError):
            png_size(path)


if __name__ == "__main__":
    unittest.main()
