#!/usr/bin/python3
"""test_vcard.py - vcard.py against a real pcscd + vpcd, through opensc-tool
and raw PC/SC (libpcsclite via ctypes, so 61xx/6Cxx arrive as the card sent
them). Needs pcscd, vsmartcard-vpcd and opensc; starts its own pcscd, so
none may run beside it in the same namespaces: run it through isolated.sh
to be safe on a shared machine.

    tests/card/isolated.sh /usr/bin/python3 tests/card/test_vcard.py [-v] [-k name]

Last line: "N passed, N failed, N skipped"; exit 1 on any failure.

Python 3 standard library only. Every card's log is checked for the PINs
the test used: a card must never print one.
"""

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from pcscd import (FixtureError, Pcsc, PcscError, Pcscd, VCard, READERS,  # noqa: E402
                   opensc_tool, port_listening)

VCARD = os.path.join(HERE, "vcard.py")
PYTHON = "/usr/bin/python3"
AID = "7378312E73682EC9E7BBE1B1A3D5CF"
SEL_AID = "00A404000F" + AID
SEL_EF05 = "00A4020002EF05"
FCI = bytes.fromhex("6F11840F" + AID)
R0, R1 = READERS[35963], READERS[35964]
SCARD_E_NOT_TRANSACTED = 0x80100016

PIN = "582039"
OTHER_PINS = ("123456", "111111", "654321", "13579", "2468", "12345678", "000000")


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


def bcd(pin):
    return h(pin + ("F" if len(pin) % 2 else ""))


def verify_ssse(pin):
    d = bcd(pin)
    return (bytes((0x00, 0x20, 0x00, 0x00, len(d))) + d).hex()


def change_ssse(old, new):
    d = bcd(old) + b"\xFF" + bcd(new)
    return (bytes((0x80, 0x5E, 0x01, 0x00, len(d))) + d).hex()


GET_CHAL = "0084000008"


def reset_cmd(number, chal):
    """bureau-api.md section 3, written here from the text (not vcard's)."""
    key = hashlib.sha256(b"ssse-test-reset-key:" + number.encode()).digest()[:16]
    return h("842C000010") + hmac.new(key, chal + number.encode(), hashlib.sha256).digest()[:16]


def reset_for_last(number, mac_ok=True):
    """A transmit step: the reset made for the challenge in the last reply."""
    def make(replies):
        cmd = reset_cmd(number, replies[-1][:8])
        return cmd if mac_ok else cmd[:-1] + bytes((cmd[-1] ^ 1,))
    return make


def block_ascii(pin):
    return (pin.encode() + b"\xFF" * 8)[:8]


def block_bcd(pin):
    return h((pin + "F" * 16)[:16])


class CardTest(unittest.TestCase):
    """One pcscd for the whole class; cards per test."""

    pcscd = None

    @classmethod
    def setUpClass(cls):
        cls.pcscd = Pcscd(debug=True)
        cls.pcscd.start()

    @classmethod
    def tearDownClass(cls):
        if cls.pcscd:
            cls.pcscd.close()

    def setUp(self):
        self.pcsc = Pcsc()
        self.cards = []
        self.tmp = tempfile.mkdtemp(prefix="test-vcard-")
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for c in self.cards:
            c.close()
        for c in self.cards:
            log = c.log_text()
            for pin in (PIN,) + OTHER_PINS:
                self.assertNotIn(pin, log, "a card printed a PIN")
            self.assertNotIn(c.options.get("card_number") or "A12345678", log,
                             "a card printed its number unmasked")
        subprocess.run(["rm", "-rf", self.tmp])

    def card(self, port=35963, start=True, **opts):
        opts.setdefault("pin", PIN)
        c = VCard(port, **opts)
        self.cards.append(c)
        if start:
            c.start()
        return c

    def tx(self, reader, *apdus, **kw):
        return self.pcsc.transmit(reader, [a if callable(a) else h(a) for a in apdus], **kw)

    def card_log_since(self, card, mark):
        return card.log_text()[mark:]


class TestSsse(CardTest):
    def test_read_with_opensc_tool(self):
        c = self.card()
        rc, out = opensc_tool(0, SEL_AID, SEL_EF05, "00B2070400", "00B2060400", "00B2050400",
                              "00B2030400", "00B2010400")
        self.assertEqual(rc, 0, out)
        for want in ("07 09 41 31 32 33 34 35 36 37 38",          # card number
                     "06 04 20 99 12 31",                          # expiry, BCD
                     "05 04 20 20 01 01",                          # issue date
                     "03 04 33 2E 30 30",                          # "3.00"
                     "01 10 33 31 30 31 30 30 44 31 35 36"):       # 310100D156...
            self.assertIn(want, out)
        self.assertEqual(out.count("SW1=0x90, SW2=0x00"), 7, out)
        # opensc-tool turned the card's 61 13 (SELECT without Le) into 90 00
        # without fetching anything: the card log shows it.
        self.assertIn("00 A4 04 00 -> 6113", c.log_text())
        self.assertNotIn("00 C0 00 00", c.log_text())

    def test_raw_select_and_records(self):
        self.card(card_number="B98765432")
        r = self.tx(R0, SEL_AID, "00C0000000", SEL_AID + "00", SEL_EF05, "00B2070400",
                    "00B2070405", "00B207040B", "00B2090400", "00B20704")
        self.assertEqual(r, [
            h("6113"), FCI + h("9000"), FCI + h("9000"), h("9000"),
            h("0709") + b"B98765432" + h("9000"),
            h("6C0B"),                              # wrong Le: the sim's 6Cxx
            h("0709") + b"B98765432" + h("9000"),
            h("6A83"),                              # no record 09
            h("6700"),                              # no Le
        ])
        self.assertEqual(self.pcsc.protocol, Pcsc.PROTOCOL_T1)

    def test_select_ef_needs_the_application(self):
        self.card()
        self.assertEqual(self.tx(R0, SEL_EF05, "00B2070400", verify_ssse(PIN)),
                         [h("6A82"), h("6986"), h("6985")])

    def test_verify_counts_and_state_file(self):
        c = self.card()
        self.assertEqual(c.read_state(), {"card_number": "A12345678", "pin": PIN, "tries": 3,
                                          "max_tries": 3, "blocked": False, "locked": False})
        r = self.tx(R0, SEL_AID, verify_ssse("111111"))
        self.assertEqual(r[1], h("63C2"))
        self.assertEqual(c.read_state()["tries"], 2)
        r = self.tx(R0, SEL_AID, verify_ssse(PIN))
        self.assertEqual(r[1], h("9000"))
        self.assertEqual(c.read_state()["tries"], 3)
        # Odd digit counts pad with F; a malformed encoding is not counted.
        self.assertEqual(self.tx(R0, SEL_AID, "00200000031234F6")[1], h("6A80"))
        self.assertEqual(c.read_state()["tries"], 3)
        # The empty VERIFY costs a try, as on the hostile cards.
        self.assertEqual(self.tx(R0, SEL_AID, "00200000")[1], h("63C2"))
        self.assertEqual(c.read_state()["tries"], 2)
        self.assertEqual(oct(os.stat(c.state_path).st_mode & 0o777), "0o600")

    def test_verify_with_opensc_tool(self):
        c = self.card()
        rc, out = opensc_tool(0, SEL_AID, verify_ssse("111111"))
        self.assertIn("SW1=0x63, SW2=0xC2", out)
        self.assertEqual(c.read_state()["tries"], 2)
        rc, out = opensc_tool(0, SEL_AID, verify_ssse(PIN))
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.count("SW1=0x90, SW2=0x00"), 2, out)
        self.assertEqual(c.read_state()["tries"], 3)

    def test_block_then_6983(self):
        c = self.card(tries=3)
        r = self.tx(R0, SEL_AID, verify_ssse("111111"), verify_ssse("111111"),
                    verify_ssse("111111"), verify_ssse(PIN), change_ssse(PIN, "654321"))
        self.assertEqual(r[1:], [h("63C2"), h("63C1"), h("63C0"), h("6983"), h("6983")])
        st = c.read_state()
        self.assertEqual((st["tries"], st["blocked"], st["pin"]), (0, True, PIN))

    def test_change_pin(self):
        c = self.card()
        r = self.tx(R0, SEL_AID, change_ssse("111111", "654321"))
        self.assertEqual(r[1], h("63C2"))
        self.assertEqual(c.read_state()["pin"], PIN)
        rc, out = opensc_tool(0, SEL_AID, change_ssse(PIN, "654321"))
        self.assertEqual(rc, 0, out)
        self.assertIn("80 5E 01 00 07 58 20 39 FF 65 43 21", out)
        self.assertEqual(out.count("SW1=0x90, SW2=0x00"), 2)
        self.assertEqual(c.read_state(), {"card_number": "A12345678", "pin": "654321",
                                          "tries": 3, "max_tries": 3, "blocked": False,
                                          "locked": False})
        r = self.tx(R0, SEL_AID, verify_ssse("654321"), verify_ssse(PIN))
        self.assertEqual(r[1:], [h("9000"), h("63C2")])
        # Odd lengths, and a wrong CLA / Lc.
        r = self.tx(R0, SEL_AID, change_ssse("654321", "13579"), verify_ssse("13579"),
                    "005E010007654321FF654321", "805E0100")
        self.assertEqual(r[1:], [h("9000"), h("9000"), h("6E00"), h("6700")])
        self.assertEqual(c.read_state()["pin"], "13579")

    def test_change_needs_the_application(self):
        c = self.card()
        self.assertEqual(self.tx(R0, change_ssse(PIN, "654321")), [h("6985")])
        self.assertEqual(c.read_state()["pin"], PIN)

    def test_unknown_and_iso_commands_on_ssse(self):
        self.card()
        r = self.tx(R0, "00840000 08", "0024008010" + "31" * 16, "00A40000023F00", "00CA010000")
        # GET CHALLENGE needs the application, like every ssse command.
        self.assertEqual(r, [h("6985"), h("6D00"), h("6A86"), h("6D00")])


class TestReset(CardTest):
    """GET CHALLENGE and the bureau's reset command (bureau-api.md section 3)."""

    def test_blocked_card_reset_ssse(self):
        c = self.card(tries=3)
        r = self.tx(R0, SEL_AID, verify_ssse("111111"), verify_ssse("111111"),
                    verify_ssse("111111"), GET_CHAL, reset_for_last("A12345678"),
                    verify_ssse("123456"))
        self.assertEqual(r[1:4], [h("63C2"), h("63C1"), h("63C0")])
        self.assertEqual((len(r[4]), r[4][-2:]), (10, h("9000")))
        self.assertEqual(r[5:], [h("9000"), h("9000")])
        self.assertEqual(c.read_state(), {"card_number": "A12345678", "pin": "123456",
                                          "tries": 3, "max_tries": 3, "blocked": False,
                                          "locked": False})
        self.assertIn("84 2C 00 00 -> 9000", c.log_text())

    def test_challenge_used_once_and_voided(self):
        c = self.card(profile="iso7816", card_number="T42", tries=5)
        last = {}

        def same_again(replies):
            return last["cmd"]

        def keep(replies):
            last["cmd"] = reset_cmd("T42", replies[-1][:8])
            return last["cmd"]

        r = self.tx(R0, GET_CHAL, GET_CHAL, keep, same_again,     # used once
                    GET_CHAL, SEL_EF05, reset_for_last("T42"),    # a SELECT between
                    GET_CHAL, reset_for_last("T42", mac_ok=False),
                    "00B2070400")
        self.assertNotEqual(r[0][:8], r[1][:8])  # random
        self.assertEqual(r[2:4], [h("9000"), h("6988")])
        self.assertEqual(r[5:7], [h("9000"), h("6988")])
        self.assertEqual(r[8], h("6988"))
        # A failed reset voids the challenge too: the right command is late.
        r = self.tx(R0, GET_CHAL, "842C000010" + "00" * 16,
                    lambda replies: reset_cmd("T42", replies[0][:8]))
        self.assertEqual(r[1:], [h("6988"), h("6988")])
        self.assertEqual(c.read_state()["pin"], "123456")  # from the one that worked
        self.assertEqual(c.read_state()["tries"], 5)

    def test_power_cycle_voids_the_challenge(self):
        c = self.card(pin="654321")
        r = self.tx(R0, SEL_AID, GET_CHAL, disposition=Pcsc.RESET_CARD)
        chal = r[1][:8]
        self.assertEqual(self.tx(R0, reset_cmd("A12345678", chal).hex()), [h("6988")])
        self.assertEqual(c.read_state()["pin"], "654321")

    def test_challenge_answers(self):
        self.card(t0=True)
        r = self.tx(R0, GET_CHAL, SEL_AID + "00", "00C0000013", GET_CHAL, "0084000000",
                    "0084000010", "0084010008", "00840000")
        self.assertEqual(r[0], h("6985"))
        self.assertEqual(r[2], FCI + h("9000"))
        # 8 bytes at once even under --t0: Le was given.
        self.assertEqual([(len(x), x[-2:]) for x in r[3:5]], [(10, h("9000"))] * 2)
        self.assertEqual(r[5:], [h("6C08"), h("6A86"), h("6700")])

    def test_locked_stays_locked(self):
        c = self.card(locked=True)
        r = self.tx(R0, SEL_AID, GET_CHAL, "842C000010" + "00" * 16)
        self.assertEqual(r[1:], [h("9303"), h("9303")])
        self.assertTrue(c.read_state()["locked"])

    def test_garbage_on_reset_is_carried_out(self):
        c = self.card(pin="654321", garbage_on="reset")
        r = self.tx(R0, SEL_AID, GET_CHAL, reset_for_last("A12345678"))
        g = r[2]
        self.assertTrue(1 <= len(g) <= 5, g.hex())
        self.assertEqual(c.read_state()["pin"], "123456")
        self.assertIn("84 2C 00 00 -> 9000 replaced by garbage", c.log_text())

    def test_drop_on_reset(self):
        c = self.card(pin="654321", drop_on="reset")
        r = self.tx(R0, SEL_AID, GET_CHAL, reset_for_last("A12345678"), stop_on_error=False)
        self.assertEqual(r[2], b"")
        self.assertEqual(c.wait_exit(), 0)
        self.assertEqual(c.read_state()["pin"], "123456")

    def test_truncate_and_slow_on_challenge(self):
        self.card(truncate_on="challenge")
        r = self.tx(R0, SEL_AID, GET_CHAL, GET_CHAL)
        self.assertEqual(len(r[1]), 8)  # the SW cut off
        self.assertEqual(len(r[2]), 10)
        self.card(port=35964, slow_ms=1200, slow_on="challenge")
        t = time.monotonic()
        self.tx(R1, SEL_AID)
        self.assertLess(time.monotonic() - t, 1.0)
        t = time.monotonic()
        r = self.tx(R1, SEL_AID, GET_CHAL)
        self.assertGreaterEqual(time.monotonic() - t, 1.2)
        self.assertEqual(r[1][-2:], h("9000"))

    def test_with_opensc_tool(self):
        c = self.card()
        rc, out = opensc_tool(0, SEL_AID, GET_CHAL)
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.count("SW1=0x90, SW2=0x00"), 2, out)
        self.assertIn("00 84 00 00 -> 9000 (10 bytes)", c.log_text())


class TestIso7816(CardTest):
    def test_read_at_mf_level(self):
        self.card(profile="iso7816", card_number="Z1")
        r = self.tx(R0, SEL_AID, SEL_EF05, "00B2070400")
        self.assertEqual(r, [h("6A82"), h("9000"), h("0702") + b"Z1" + h("9000")])

    def test_verify_change_ascii_ff(self):
        c = self.card(profile="iso7816", pin="1234")
        vb = lambda pin: "0020008008" + block_ascii(pin).hex()  # noqa: E731
        r = self.tx(R0, vb("1111"), vb("1234"), "0020008108" + block_ascii("1234").hex(),
                    "0024008010" + block_ascii("1234").hex() + block_ascii("12345678").hex(),
                    vb("12345678"), "805E0100061234FF567890")
        self.assertEqual(r, [h("63C2"), h("9000"), h("6A88"), h("9000"), h("9000"), h("6D00")])
        self.assertEqual(c.read_state()["pin"], "12345678")
        rc, out = opensc_tool(0, vb("12345678"))
        self.assertIn("SW1=0x90, SW2=0x00", out)

    def test_bcd_padding_and_reference(self):
        c = self.card(profile="iso7816", pin="2468", iso_pin_ref="81", iso_padding="bcd")
        r = self.tx(R0, "0020008108" + block_bcd("2468").hex(),
                    "0020008008" + block_bcd("2468").hex(),
                    "0020008108" + block_ascii("2468").hex(),   # reads as BCD 32343638
                    "00200081082468FF12FFFFFFFF",               # digits after the pad
                    "0024008110" + block_bcd("2468").hex() + block_bcd("13579").hex())
        self.assertEqual(r, [h("9000"), h("6A88"), h("63C2"), h("6A80"), h("9000")])
        self.assertEqual(c.read_state()["pin"], "13579")


class TestSwitches(CardTest):
    def test_t0_raw(self):
        c = self.card(t0=True)
        r = self.tx(R0, SEL_AID + "00", "00C0000013", SEL_EF05, "00B2070400", "00C0000005",
                    "00C0000000", "00C0000000")
        self.assertEqual(r, [h("6113"), FCI + h("9000"), h("9000"), h("610B"),
                             h("0709413132") + h("6106"),   # part, and 6106 for the rest
                             b"345678" + h("9000"),
                             h("6985")])                    # nothing pending any more
        self.assertIn("00 B2 07 04 -> 610B", c.log_text())

    def test_t0_with_opensc_tool(self):
        c = self.card(t0=True)
        mark = len(c.log_text())
        rc, out = opensc_tool(0, SEL_AID, SEL_EF05, "00B2070400")
        self.assertEqual(rc, 0, out)
        self.assertIn("07 09 41 31 32 33 34 35 36 37 38", out)
        # opensc fetched the record with its own GET RESPONSE.
        log = c.log_text()[mark:]
        self.assertIn("00 B2 07 04 -> 610B", log)
        self.assertIn("00 C0 00 00 -> 9000 (13 bytes)", log)

    def test_wrong_le_raw_and_opensc(self):
        c = self.card(wrong_le=True, card_number="A1234567890")
        r = self.tx(R0, SEL_AID, SEL_EF05, "00B2070400", "00B207040D", "00B2060400",
                    "00B2060406")
        self.assertEqual(r[2:], [h("6C0D"), h("070B") + b"A1234567890" + h("9000"), h("6C06"),
                                 h("0604") + h("20991231") + h("9000")])
        mark = len(c.log_text())
        rc, out = opensc_tool(0, SEL_AID, SEL_EF05, "00B2070400")
        self.assertEqual(rc, 0, out)
        self.assertIn("07 0B 41 31 32 33 34 35 36 37 38 39 30", out)
        log = c.log_text()[mark:]
        self.assertIn("00 B2 07 04 -> 6C0D", log)  # opensc resent it with Le 0D
        self.assertIn("00 B2 07 04 -> 9000 (15 bytes)", log)

    def test_wrong_le_and_t0(self):
        self.card(wrong_le=True, t0=True)
        r = self.tx(R0, SEL_AID, SEL_EF05, "00B2070400", "00B207040B", "00C000000B")
        self.assertEqual(r[2:], [h("6C0B"), h("610B"), h("0709") + b"A12345678" + h("9000")])

    def test_no_count(self):
        c = self.card(no_count=True, tries=2)
        r = self.tx(R0, SEL_AID, verify_ssse("111111"), verify_ssse(PIN),
                    verify_ssse("111111"), verify_ssse("111111"), verify_ssse(PIN))
        self.assertEqual(r[1:], [h("6300"), h("9000"), h("6300"), h("6300"), h("6983")])
        self.assertEqual((c.read_state()["tries"], c.read_state()["blocked"]), (0, True))

    def test_expired_and_expiry(self):
        self.card(expired=True)
        r = self.tx(R0, SEL_AID, SEL_EF05, "00B2060400")
        self.assertEqual(r[2], h("0604 20201231 9000"))
        self.card(port=35964, expiry="20260315")
        r = self.tx(R1, SEL_AID, SEL_EF05, "00B2060400")
        self.assertEqual(r[2], h("0604 20260315 9000"))

    def test_locked(self):
        c = self.card(locked=True)
        r = self.tx(R0, SEL_AID, "00C0000013", SEL_EF05, "00B2070400", verify_ssse(PIN),
                    change_ssse(PIN, "654321"), "00840000 08")
        self.assertEqual(r, [h("6113"), FCI + h("9000"), h("9000"), h("9303"), h("9303"),
                             h("9303"), h("9303")])
        self.assertTrue(c.read_state()["locked"])
        rc, out = opensc_tool(0, SEL_AID, SEL_EF05, "00B2070400")
        self.assertIn("SW1=0x93, SW2=0x03", out)

    def test_blocked(self):
        c = self.card(blocked=True, tries=5)
        self.assertEqual(c.read_state()["tries"], 0)
        self.assertEqual(c.read_state()["max_tries"], 5)
        self.assertEqual(self.tx(R0, SEL_AID, verify_ssse(PIN))[1], h("6983"))

    def test_slow(self):
        c = self.card(slow_ms=1200, slow_on="verify")
        t = time.monotonic()
        self.tx(R0, SEL_AID, SEL_EF05, "00B2070400")
        self.assertLess(time.monotonic() - t, 1.0)
        t = time.monotonic()
        r = self.tx(R0, SEL_AID, verify_ssse(PIN))
        self.assertGreaterEqual(time.monotonic() - t, 1.2)
        self.assertEqual(r[1], h("9000"))
        self.assertTrue(c.alive())

    def test_slow_everything(self):
        self.card(slow_ms=300)
        t = time.monotonic()
        self.tx(R0, SEL_AID, SEL_EF05, "00B2070400")
        self.assertGreaterEqual(time.monotonic() - t, 0.9)

    def test_removed_during_delay(self):
        c = self.card(slow_ms=3000, slow_on="verify")
        out = {}

        def run():
            try:
                out["r"] = self.tx(R0, SEL_AID, verify_ssse("111111"), stop_on_error=False)
            except PcscError as e:
                out["r"] = e

        th = threading.Thread(target=run)
        th.start()
        c.wait_log(r"00 A4 04 00 -> 6113")
        time.sleep(0.5)
        self.assertEqual(c.remove(), 0)
        th.join(10)
        self.assertFalse(th.is_alive())
        # Not carried out: a pull before the card took the command.
        self.assertEqual(c.read_state()["tries"], 3)
        self.assertIn("removed during the 3000 ms delay (not carried out)", c.log_text())
        r = out["r"]
        # What PC/SC makes of it: an empty reply with success.
        self.assertEqual(r[1], b"", r)

    def test_drop_after(self):
        c = self.card(drop_after=2)
        r = self.tx(R0, SEL_AID, verify_ssse("111111"), SEL_EF05, stop_on_error=False)
        self.assertEqual(r[0], h("6113"))
        # vpcd reports the pulled card as an EMPTY reply with SCARD_S_SUCCESS;
        # only the next command fails.
        self.assertEqual(r[1], b"")
        self.assertIsInstance(r[2], PcscError)
        self.assertEqual(r[2].code, SCARD_E_NOT_TRANSACTED)
        self.assertEqual(c.wait_exit(), 0)
        self.assertEqual(c.read_state()["tries"], 2)  # carried out before the pull
        self.pcsc.wait_present(R0, False, 5)
        self.assertIn("#2 00 20 00 00 -> 63C2 carried out; card pulled before answering",
                      c.log_text())

    def test_drop_on_change(self):
        c = self.card(drop_on="change")
        r = self.tx(R0, SEL_AID, SEL_EF05, "00B2070400", change_ssse(PIN, "654321"),
                    stop_on_error=False)
        self.assertEqual(r[3], b"")
        self.assertEqual(c.wait_exit(), 0)
        self.assertEqual(c.read_state()["pin"], "654321")

    def test_garbage_on_verify(self):
        c = self.card(garbage_on="verify")
        r = self.tx(R0, SEL_AID, verify_ssse("111111"), verify_ssse("111111"))
        g = r[1]
        self.assertTrue(1 <= len(g) <= 5, g.hex())
        if len(g) >= 2:
            self.assertNotIn(g[-2] >> 4, (6, 9))
        self.assertEqual(r[2], h("63C1"))  # once only; the first was carried out
        self.assertEqual(c.read_state()["tries"], 1)

    def test_truncate_on_read_and_verify(self):
        self.card(truncate_on="read")
        r = self.tx(R0, SEL_AID, SEL_EF05, "00B2070400", "00B2070400")
        self.assertEqual(r[2:], [h("0709") + b"A12345678", h("0709") + b"A12345678" + h("9000")])
        self.card(port=35964, truncate_on="verify")
        r = self.tx(R1, SEL_AID, verify_ssse(PIN))
        self.assertEqual(r[1], h("90"))
        rc, out = opensc_tool(1, SEL_AID, verify_ssse(PIN))
        self.assertEqual(rc, 0, out)  # the fault fired once: this one is whole

    def test_truncate_with_t0_hits_the_data(self):
        self.card(truncate_on="read", t0=True)
        r = self.tx(R0, SEL_AID, SEL_EF05, "00B2070400", "00C000000B")
        self.assertEqual(r[2:], [h("610B"), h("0709") + b"A12345678"])

    def test_reset_loses_selection(self):
        c = self.card()
        self.tx(R0, SEL_AID, SEL_EF05, disposition=Pcsc.RESET_CARD)
        self.assertEqual(self.tx(R0, "00B2070400"), [h("6986")])
        self.assertIn("reset", c.log_text())

    def test_atr_t0_only(self):
        c = self.card(atr="3B00")
        bits, atr = self.pcsc.state(R0)
        self.assertEqual(atr, h("3B00"))
        r = self.tx(R0, SEL_AID)
        self.assertEqual(self.pcsc.protocol, Pcsc.PROTOCOL_T0)
        self.assertEqual(r, [h("6113")])  # no GET RESPONSE below PC/SC, even on T=0
        self.assertNotIn("00 C0", c.log_text())


class TestCards(CardTest):
    def test_two_cards_at_once(self):
        a = self.card(35963, card_number="A11111111", pin="111111")
        b = self.card(35964, card_number="B22222222", pin="123456", profile="iso7816")
        ra = self.tx(R0, SEL_AID, SEL_EF05, "00B2070400", verify_ssse("000000"))
        rb = self.tx(R1, SEL_EF05, "00B2070400", "0020008008" + block_ascii("000000").hex())
        self.assertEqual(ra[2][2:11], b"A11111111")
        self.assertEqual(rb[1][2:11], b"B22222222")
        self.assertEqual((a.read_state()["tries"], b.read_state()["tries"]), (2, 2))
        rc0, out0 = opensc_tool(0, SEL_AID, SEL_EF05, "00B2070400")
        rc1, out1 = opensc_tool(1, SEL_EF05, "00B2070400")
        self.assertIn("41 31 31 31 31 31 31 31 31", out0)
        self.assertIn("42 32 32 32 32 32 32 32 32", out1)

    def test_reinsertion_keeps_state(self):
        state = os.path.join(self.tmp, "card.json")
        a = self.card(state=state)
        self.tx(R0, SEL_AID, verify_ssse("111111"))
        self.assertEqual(a.remove(), 0)
        b = self.card(state=state, pin="123456", tries=9, locked=True)
        st = b.read_state()
        self.assertEqual((st["pin"], st["tries"], st["max_tries"], st["locked"]),
                         (PIN, 2, 3, True))  # --locked may lock; the rest is the card's
        self.assertIn("existing state file", b.log_text())

    def test_other_card_number_refused(self):
        state = os.path.join(self.tmp, "card.json")
        a = self.card(state=state)
        a.remove()
        r = subprocess.run([PYTHON, VCARD, "--port", "35963", "--state", state,
                            "--card-number", "Z9"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--card-number differs", r.stderr)

    def test_second_card_in_the_same_reader_waits(self):
        a = self.card(35963, card_number="A11111111")
        b = self.card(35963, card_number="B22222222", start=False)
        b.proc = subprocess.Popen(b.argv(), stdout=open(b.log_path, "ab"),
                                  stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(4)
        self.assertEqual(b.inserted_count(), 0)
        self.assertIn("reader has not polled the card", b.log_text())
        a.remove()
        b.wait_inserted()
        r = self.tx(R0, SEL_AID, SEL_EF05, "00B2070400")
        self.assertEqual(r[2][2:11], b"B22222222")

    def test_sigint_and_exit_codes(self):
        c = self.card()
        os.kill(c.pid, signal.SIGINT)
        self.assertEqual(c.wait_exit(), 0)
        self.pcsc.wait_present(R0, False, 5)


class TestNoPcscd(unittest.TestCase):
    """vcard.py alone: options, state file, no reader."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test-vcard-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.tmp])

    def run_vcard(self, *args, timeout=20):
        return subprocess.run([PYTHON, VCARD] + list(args), capture_output=True, text=True,
                              timeout=timeout)

    def state(self, name="c.json"):
        return os.path.join(self.tmp, name)

    def test_bad_options_exit_2_without_echoing_pins(self):
        for args in (["--pin", "12ab"], ["--pin", "12345678901234567"], ["--tries", "0"],
                     ["--tries", "16"], ["--profile", "auto"], ["--expiry", "20261301"],
                     ["--expired", "--expiry", "20260101"], ["--slow-on", "verify"],
                     ["--garbage-on", "read", "--truncate-on", "read"], ["--card-number", "A-1"],
                     ["--iso-pin-ref", "800"], ["--atr", "00"], ["--pni", "582039"]):
            with self.subTest(args=args):
                r = self.run_vcard("--port", "35963", "--state", self.state(), *args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("vcard:", r.stderr)
                for s in ("12ab", "12345678901234567", "582039"):
                    self.assertNotIn(s, r.stderr + r.stdout)
                self.assertFalse(os.path.exists(self.state()))

    def test_bad_state_files(self):
        good = {"card_number": "A12345678", "pin": PIN, "tries": 3, "max_tries": 3,
                "blocked": False, "locked": False}
        cases = {
            "not json": "{",
            "not an object": "[]",
            "unknown key": dict(good, extra=1),
            "missing key": {k: v for k, v in good.items() if k != "tries"},
            "pin": dict(good, pin="12a4"),
            "tries > max": dict(good, tries=4),
            "bool tries": dict(good, tries=True),
            "blocked with tries": dict(good, blocked=True),
            "tries 0 unblocked": dict(good, tries=0),
            "max 16": dict(good, max_tries=16, tries=16),
            "number": dict(good, card_number=""),
        }
        for name, content in cases.items():
            with self.subTest(name):
                p = self.state()
                with open(p, "w") as f:
                    f.write(content if isinstance(content, str) else json.dumps(content))
                r = self.run_vcard("--port", "35963", "--state", p)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("state file", r.stderr)
                self.assertNotIn(PIN, r.stderr + r.stdout)

    def test_no_reader_exit_3(self):
        if port_listening(35963):
            self.skipTest("a vpcd listens here")
        t = time.monotonic()
        r = self.run_vcard("--port", "35963", "--state", self.state(), "--connect-timeout", "1")
        self.assertEqual(r.returncode, 3)
        self.assertIn("cannot connect to vpcd", r.stderr)
        self.assertLess(time.monotonic() - t, 5)
        # The state file was made: the card exists even if no reader took it.
        with open(self.state()) as f:
            self.assertEqual(json.load(f)["pin"], "123456")

    def test_sigterm_while_waiting_for_the_reader(self):
        if port_listening(35963):
            self.skipTest("a vpcd listens here")
        p = subprocess.Popen([PYTHON, VCARD, "--port", "35963", "--state", self.state(),
                              "--connect-timeout", "30"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        time.sleep(1)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(5), 0)
        p.stdout.close()


class TestPcscdLifecycle(unittest.TestCase):
    """pcscd started, killed, restarted under a card (own pcscd per test)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test-vcard-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.tmp])

    def test_card_waits_for_pcscd(self):
        card = VCard(35964, connect_timeout=20)
        self.addCleanup(card.close)
        card.proc = subprocess.Popen(card.argv(), stdout=open(card.log_path, "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(1)
        with Pcscd() as d:
            card.wait_inserted()
            self.assertEqual(Pcsc().transmit(R1, [h(SEL_AID)]), [h("6113")])
            self.assertEqual(card.remove(), 0)
            d.stop()

    def test_kill9_and_restart_under_a_card(self):
        d = Pcscd()
        self.addCleanup(d.close)
        d.start()
        card = VCard(35963, pin=PIN)
        self.addCleanup(card.close)
        card.start()
        Pcsc().transmit(R0, [h(SEL_AID), h(verify_ssse("111111"))])
        code = d.kill9()
        self.assertEqual(code, -signal.SIGKILL)
        self.assertFalse(port_listening(35963))
        card.wait_log(r"reader gone \(reader closed the connection\)")
        with self.assertRaises(PcscError) as e:
            Pcsc().readers()
        self.assertEqual(e.exception.code, 0x8010001D)  # SCARD_E_NO_SERVICE
        d.start()  # the dead one left /run/pcscd behind: the new one copes
        card.wait_inserted(count=2)
        r = Pcsc().transmit(R0, [h(SEL_AID), h(verify_ssse(PIN))])
        self.assertEqual(r, [h("6113"), h("9000")])
        self.assertEqual(card.read_state()["tries"], 3)
        d.restart()  # a clean stop and start: the same again
        card.wait_inserted(count=3)
        self.assertEqual(card.remove(), 0)
        self.assertEqual(d.stop(), 0)
        self.assertNotIn(PIN, card.log_text())

    def test_reconnect_zero_leaves(self):
        d = Pcscd()
        self.addCleanup(d.close)
        d.start()
        card = VCard(35963, reconnect_s=0)
        self.addCleanup(card.close)
        card.start()
        d.stop()
        self.assertEqual(card.wait_exit(), 3)

    def test_refuses_beside_another_pcscd(self):
        d = Pcscd()
        self.addCleanup(d.close)
        d.start()
        e = Pcscd()
        self.addCleanup(e.close)
        with self.assertRaises(FixtureError) as cm:
            e.start()
        self.assertIn("another pcscd is running", str(cm.exception))
        self.assertIn(str(d.pid), str(cm.exception))
        self.assertTrue(d.running())


if __name__ == "__main__":
    prog = unittest.main(exit=False)
    res = prog.result
    bad = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    # The closing line the project's CI reads (as tests/integration/run.py).
    print("%d passed, %d failed, %d skipped" % (res.testsRun - bad - len(res.skipped), bad,
                                                len(res.skipped)))
    sys.exit(1 if bad or res.testsRun == 0 else 0)
