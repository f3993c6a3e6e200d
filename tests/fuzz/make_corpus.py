#!/usr/bin/env python3
"""make_corpus.py - writes the hand-made seeds of tests/fuzz/corpus/card.

Each seed follows the input layout described at the top of fuzz_card.c:
a 6-byte header (operation/profile/padding/used, PINs, iso PIN reference,
today, a status word for sw_lookup) and then one chunk per transmit().
Run it again after changing the layout; it overwrites only its own files.
"""
import os
import sys

OP = {"read": 0, "verify": 1, "change": 2, "exchange": 3, "challenge": 3, "reset": 3}
# Operation 3 is split by byte 1's low nibble % 3 (the PINs mean nothing there).
OP3 = {"exchange": 0, "challenge": 1, "reset": 2}
PROF = {"auto": 0, "ssse": 1, "iso": 2}
PINS = {"123456": 0, "654321": 1, "1234": 2, "12345": 3, "1234567890123456": 9,
        "123": 12}
TODAY_20240615 = 1

SELECT_OK = "9000"
CARD_NO = "0709" + "A12345678".encode().hex() + "9000"
EXPIRY = "0608" + "20301231".encode().hex() + "9000"


def hdr(op, prof="auto", bcd=False, used="auto", old="123456", new="654321",
        ref=0x80, sw="9000", null_cfg=False):
    b0 = OP[op] | PROF[prof] << 2 | int(bcd) << 4 | PROF[used] << 5 | int(null_cfg) << 7
    b1 = OP3[op] if op in OP3 else PINS[old] | PINS[new] << 4
    return bytes([b0, b1, ref, TODAY_20240615]) + bytes.fromhex(sw)


def reply(hexstr):
    data = bytes.fromhex(hexstr)
    if len(data) <= 0xFC:
        return bytes([len(data)]) + data
    return bytes([0xFD, len(data) - 253]) + data


REMOVED = b"\xff"
IO_ERROR = b"\xfe"

SEEDS = {
    # SELECT AID, SELECT EF05, record 07, record 06: a good ssse card.
    "read-ssse-ok": hdr("read") + b"".join(map(reply, [SELECT_OK, SELECT_OK, CARD_NO, EXPIRY])),
    # Expiry as 4 BCD bytes, and in the past.
    "read-ssse-expired-bcd": hdr("read", "ssse") + b"".join(
        map(reply, [SELECT_OK, SELECT_OK, CARD_NO, "060420200101" + "9000"])),
    # No SSSE application: auto falls back to iso7816, no expiry record.
    "read-auto-iso-noexpiry": hdr("read") + b"".join(
        map(reply, ["6A82", SELECT_OK, CARD_NO, "6A83"])),
    # Record 07 arrives in two parts: 61xx, GET RESPONSE.
    "read-61xx-chain": hdr("read", "ssse") + b"".join(
        map(reply, [SELECT_OK, SELECT_OK, "0709" + "A1234".encode().hex() + "6104",
                    "5678".encode().hex() + "9000", EXPIRY])),
    # Record 07 answers 6C0B: resent with Le = 0B.
    "read-6cxx-resend": hdr("read", "ssse") + b"".join(
        map(reply, [SELECT_OK, SELECT_OK, "6C0B", CARD_NO, EXPIRY])),
    "read-locked-9303": hdr("read") + reply("9303"),
    "read-cut-reply": hdr("read", "iso") + reply(SELECT_OK) + reply("07" * 300 + "9000"),
    "read-removed": hdr("read") + reply(SELECT_OK) + REMOVED,
    "verify-ssse-63c2": hdr("verify", "ssse", sw="63C2") + reply(SELECT_OK) + reply("63C2"),
    "verify-ssse-63c0": hdr("verify", used="ssse", sw="63C0") + reply(SELECT_OK) + reply("63C0"),
    "verify-iso-bcd-ok": hdr("verify", "iso", bcd=True, old="1234567890123456") + reply("9000"),
    "verify-iso-ascii-6300": hdr("verify", "iso", old="1234", ref=0x81, sw="6300") + reply("6300"),
    "verify-6cxx-refused": hdr("verify", "ssse", old="12345", sw="6C08") + reply(SELECT_OK) + reply("6C08"),
    "verify-io-error": hdr("verify", "ssse") + reply(SELECT_OK) + IO_ERROR,
    "verify-bad-pin": hdr("verify", "ssse", old="123"),
    "change-ssse-9000": hdr("change", "ssse") + reply(SELECT_OK) + reply("9000"),
    "change-auto-iso-9000": hdr("change", null_cfg=True) + reply("6A82") + reply("9000"),
    "change-ssse-6983": hdr("change", used="ssse", sw="6983") + reply(SELECT_OK) + reply("6983"),
    # Raw exchange: flags, data_cap, command length, command, then replies.
    "exchange-61-6c": hdr("exchange", sw="6110") + bytes([0, 255, 5]) + bytes.fromhex("00B2070400")
    + reply("0102" + "6102") + reply("6C02") + reply("0304" + "9000"),
    # GET CHALLENGE: 8 bytes + 9000, after the SSSE SELECT; and through 61 08.
    "challenge-ssse-ok": hdr("challenge", "ssse") + reply(SELECT_OK) + reply("1122334455667788" + "9000"),
    "challenge-iso-61xx": hdr("challenge", "iso") + reply("6108") + reply("1122334455667788" + "9000"),
    "challenge-short": hdr("challenge", "iso") + reply("11223344556677" + "9000"),
    "challenge-locked": hdr("challenge", "ssse") + reply(SELECT_OK) + reply("9303"),
    # The bureau's command (length byte, bytes), then the card's answer.
    "reset-ok": hdr("reset", used="ssse") + bytes([21]) + bytes.fromhex("842C000010" + "AB" * 16)
    + reply("9000"),
    "reset-6988": hdr("reset", "iso") + bytes([21]) + bytes.fromhex("842C000010" + "CD" * 16)
    + reply("6988"),
    "reset-malformed": hdr("reset") + bytes([7]) + bytes.fromhex("842C000010" + "0011"),
    "reset-lost": hdr("reset") + bytes([21]) + bytes.fromhex("842C000010" + "EF" * 16) + REMOVED,
    "garbage": bytes.fromhex("5b17c3009a61") + bytes(range(7, 250, 9)) + b"\x02\x60\x00\xfd\x05",
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "card")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
