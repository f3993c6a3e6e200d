#!/usr/bin/python3
"""vcard.py - a social security card played into the vpcd virtual reader.

Connecting to vpcd (pcscd's vsmartcard-vpcd driver) is inserting the card;
closing the connection is pulling it. The card answers exactly the command
bytes that src/card/sim.c answers, in both profiles (ssse, iso7816), so the
kiosk's profile code meets the same card on PC/SC as in process. Its memory
(PIN, tries, blocked, locked) lives in a JSON state file, so a test can look
at it after a journey and a second insertion of "the same card" keeps it.

    vcard.py --port 35963 --state /tmp/card.json [--pin 123456] [--t0] ...

Python 3 standard library only. See tests/card/README.md for every switch.
The card logs one line per command (CLA INS P1 P2 and the SW it answered),
never data bytes: the PIN is never printed, though the state file holds it
(it is the card's own memory; a TEST card only).

Exit codes: 0 removed (SIGTERM/SIGINT) or pulled (--drop-*); 2 bad options or
state file; 3 the reader could not be reached (or did not come back).
"""

import argparse
import hashlib
import hmac
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import tempfile
import time

# ---- the card's fixed data (same values as src/card/sim_card.c, sim.c) -----

SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")
DEFAULT_ATR = bytes.fromhex("3B80800101")
DEFAULT_EXPIRY = "20991231"
EXPIRED_EXPIRY = "20201231"  # after the issue date, long before any test runs
ISSUE_DATE = "20200101"
ID_CODE = b"310100D156000005"  # region 310100, then 10 more bytes
PIN_BLOCK = 8
MAX_TRIES = 15
APDU_MAX = 261  # CLA INS P1 P2 Lc + 255 data + Le: short APDUs only

PROFILES = ("ssse", "iso7816")
OPS = ("read", "verify", "change", "challenge", "reset")
PAD_ASCII, PAD_BCD = "ascii", "bcd"

# Which kiosk operation a command belongs to (sim.c op_of): for faults and
# delays. GET RESPONSE belongs to the command whose data it fetches.
OP_OF_INS = {0xB2: "read", 0x20: "verify", 0x5E: "change", 0x24: "change",
             0x84: "challenge", 0x2C: "reset"}

# The bureau-made reset's test keys (bureau-api.md section 3; sim.h).
INITIAL_PIN = "123456"  # what a reset puts back (SIM_INITIAL_PIN)
CHALLENGE_LEN = 8
RESET_KEY_PREFIX = b"ssse-test-reset-key:"
RESET_HEAD = bytes.fromhex("842C000010")
RESET_MAC_LEN = 16

# vpcd control messages (one byte from the reader).
CTRL_NAMES = {0x00: "power off", 0x01: "power on", 0x02: "reset", 0x04: "atr"}
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0x00, 0x01, 0x02, 0x04

STATE_KEYS = ("card_number", "pin", "tries", "max_tries", "blocked", "locked")

CONNECT_RETRY_S = 0.1
MSG_BODY_TIMEOUT_S = 5.0  # vpcd sends a message whole; a stalled one is a broken reader
NO_POLL_WARN_S = 3.0  # pcscd polls every 0.4 s; silence means someone else holds the port

EXIT_OK, EXIT_USAGE, EXIT_READER = 0, 2, 3


class UsageError(Exception):
    """Bad options or a bad state file: exit 2 with the message."""


# ---- validation ------------------------------------------------------------

def valid_number(s):
    return isinstance(s, str) and 1 <= len(s) <= 15 and s.isascii() and s.isalnum()


def valid_pin(s):
    return isinstance(s, str) and 4 <= len(s) <= 16 and s.isascii() and s.isdigit()


def valid_date(s):
    if not (isinstance(s, str) and len(s) == 8 and s.isascii() and s.isdigit()):
        return False
    return 1 <= int(s[4:6]) <= 12 and 1 <= int(s[6:8]) <= 31


def mask_card(s):
    """util/mask.c: never more than half in view. "A12345678" -> "A12***678",
    seven or eight characters keep two each side, six or fewer -> "***"."""
    if len(s) <= 6:
        return "***"
    k = 2 if len(s) <= 8 else 3
    return s[:k] + "***" + s[-k:]


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_state(st, where):
    """Raises UsageError unless `st` is a state the sim could have reached.
    Messages never quote the PIN."""
    if not isinstance(st, dict):
        raise UsageError("%s: not a JSON object" % where)
    extra = sorted(set(st) - set(STATE_KEYS))
    missing = [k for k in STATE_KEYS if k not in st]
    if extra:
        raise UsageError("%s: unknown keys %s" % (where, ", ".join(extra)))
    if missing:
        raise UsageError("%s: missing keys %s" % (where, ", ".join(missing)))
    if not valid_number(st["card_number"]):
        raise UsageError("%s: card_number must be 1..15 ASCII letters/digits" % where)
    if not valid_pin(st["pin"]):
        raise UsageError("%s: pin must be 4..16 ASCII digits" % where)
    if not is_int(st["max_tries"]) or not 1 <= st["max_tries"] <= MAX_TRIES:
        raise UsageError("%s: max_tries must be an integer 1..%d" % (where, MAX_TRIES))
    if not is_int(st["tries"]) or not 0 <= st["tries"] <= st["max_tries"]:
        raise UsageError("%s: tries must be an integer 0..max_tries" % where)
    for k in ("blocked", "locked"):
        if not isinstance(st[k], bool):
            raise UsageError("%s: %s must be true or false" % (where, k))
    # The sim blocks exactly when the counter reaches 0.
    if st["blocked"] != (st["tries"] == 0):
        raise UsageError("%s: blocked must be true exactly when tries is 0" % where)


# ---- the card --------------------------------------------------------------

def reset_command(card_number, challenge):
    """The command the bureau's stand-in makes for a test card and its
    challenge (sim_reset_command): 84 2C 00 00 10 || the first 16 bytes of
    HMAC-SHA256(key, challenge || number), key = the first 16 bytes of
    SHA-256("ssse-test-reset-key:" || number)."""
    number = card_number.encode("ascii")
    key = hashlib.sha256(RESET_KEY_PREFIX + number).digest()[:16]
    mac = hmac.new(key, bytes(challenge) + number, hashlib.sha256).digest()[:RESET_MAC_LEN]
    return RESET_HEAD + mac


def sw_bytes(sw):
    return bytes((sw >> 8, sw & 0xFF))


class Apdu:
    """A parsed short command APDU (sim_card.c parse_apdu)."""

    __slots__ = ("cla", "ins", "p1", "p2", "data", "lc", "has_le", "le")

    @classmethod
    def parse(cls, cmd):
        """None when `cmd` is not a well-formed short APDU."""
        if len(cmd) < 4 or len(cmd) > APDU_MAX:
            return None
        a = cls()
        a.cla, a.ins, a.p1, a.p2 = cmd[0], cmd[1], cmd[2], cmd[3]
        a.data, a.lc, a.has_le, a.le = b"", 0, False, 0
        if len(cmd) == 4:
            return a
        if len(cmd) == 5:
            a.has_le, a.le = True, cmd[4] or 256
            return a
        a.lc = cmd[4]
        a.data = bytes(cmd[5:5 + a.lc])
        if a.lc == 0:
            return None  # extended APDUs are not spoken here
        if len(cmd) == 5 + a.lc:
            return a
        if len(cmd) == 6 + a.lc:
            a.has_le, a.le = True, cmd[-1] or 256
            return a
        return None


def bcd_decode(b, pad_to_end):
    """BCD digits with at most one trailing F nibble (ssse), or F nibbles to
    the end (iso BCD block when `pad_to_end`). 4..16 digits, else None."""
    digits = []
    in_pad = False
    nibbles = [n for byte in b for n in (byte >> 4, byte & 0x0F)]
    for i, nib in enumerate(nibbles):
        if in_pad:
            if nib != 0x0F:
                return None
            continue
        if nib == 0x0F:
            if not pad_to_end and i != len(nibbles) - 1:
                return None
            in_pad = True
            continue
        if nib > 9 or len(digits) >= 16:
            return None
        digits.append(chr(0x30 + nib))
    return "".join(digits) if len(digits) >= 4 else None


def block_decode(b, pad):
    """An iso7816 8-byte PIN block in the card's padding; None if malformed."""
    if pad == PAD_BCD:
        return bcd_decode(b, True)
    k = 0
    while k < PIN_BLOCK and 0x30 <= b[k] <= 0x39:
        k += 1
    if any(x != 0xFF for x in b[k:PIN_BLOCK]):
        return None
    return b[:k].decode("ascii") if k >= 4 else None


class Card:
    """The card's logic: sim_card.c's command handlers, plus the --t0, --wrong-le
    and --no-count variants (all off: the sim's card exactly). `state` is the
    persistent memory (a dict in the state file's format, kept by reference);
    `changed` is set when a command touched it."""

    def __init__(self, state, profile="ssse", expiry=DEFAULT_EXPIRY, iso_ref=0x80,
                 iso_pad=PAD_ASCII, t0=False, wrong_le=False, no_count=False):
        self.state = state
        self.profile = profile
        self.expiry = expiry
        self.iso_ref = iso_ref
        self.iso_pad = iso_pad
        self.t0 = t0
        self.wrong_le = wrong_le
        self.no_count = no_count
        self.changed = False
        # check_sim.py: every GET CHALLENGE answers these bytes (None: random).
        self.fixed_challenge = None
        self.chal = b""
        self.chal_live = False  # the last command was a GET CHALLENGE that answered
        self.chal_prev = False  # ... as seen by the command being executed
        self.power_cycle()

    def power_cycle(self):
        """Selections and pending data are lost on power off/on and reset,
        as on a real card (the sim keeps them per insertion, which the
        profile tolerates because it selects again before every PIN command)."""
        self.app_selected = False
        self.ef_selected = False
        self.pending = b""
        self.chal_live = False  # a challenge lives in RAM only

    # -- PIN state --

    def check_pin(self, pin):
        """The check shared by VERIFY and CHANGE; returns (sw, ok)."""
        st = self.state
        if st["blocked"]:
            return 0x6983, False
        if pin is not None and pin == st["pin"]:
            if st["tries"] != st["max_tries"]:
                st["tries"] = st["max_tries"]
                self.changed = True
            return 0x9000, True
        if st["tries"] > 0:
            st["tries"] -= 1
            self.changed = True
        if st["tries"] == 0:
            st["blocked"] = True
            self.changed = True
        # A card that does not tell the count says 6300 even on the try that
        # blocks it; the next attempt learns 6983.
        if self.no_count:
            return 0x6300, False
        return 0x63C0 | st["tries"], False

    def change_pin(self, old, new):
        sw, ok = self.check_pin(old)
        if ok and new != self.state["pin"]:
            self.state["pin"] = new
            self.changed = True
        return sw

    def with_data(self, data):
        """Data + 9000, or 61xx now and the data to GET RESPONSE under --t0."""
        if self.t0:
            self.pending = data
            return sw_bytes(0x6100 | (len(data) & 0xFF))
        return data + sw_bytes(0x9000)

    # -- handlers (one per row of CMDS) --

    def h_select(self, a):
        if a.p1 == 0x04 and a.p2 == 0x00:
            if self.profile != "ssse" or a.data != SSSE_AID:
                return sw_bytes(0x6A82)
            self.app_selected = True
            self.ef_selected = False
            fci = bytes((0x6F, 2 + len(SSSE_AID), 0x84, len(SSSE_AID))) + SSSE_AID
            if a.has_le:
                return self.with_data(fci)
            self.pending = fci
            return sw_bytes(0x6100 | len(fci))
        if a.p1 == 0x02 and a.p2 == 0x00:
            if a.lc != 2:
                return sw_bytes(0x6700)
            if a.data != b"\xEF\x05":
                return sw_bytes(0x6A82)
            # On an ssse card EF05 lives in the application.
            if self.profile == "ssse" and not self.app_selected:
                return sw_bytes(0x6A82)
            self.ef_selected = True
            return sw_bytes(0x9000)
        return sw_bytes(0x6A86)

    def h_get_response(self, a):
        if a.p1 != 0 or a.p2 != 0:
            return sw_bytes(0x6A86)
        if a.lc != 0 or not a.has_le:
            return sw_bytes(0x6700)
        if not self.pending:
            return sw_bytes(0x6985)
        want = a.le
        if want > len(self.pending):
            if a.le != 256:  # Le 00 means "up to 256": give all
                return sw_bytes(0x6C00 | (len(self.pending) & 0xFF))
            want = len(self.pending)
        give, self.pending = self.pending[:want], self.pending[want:]
        if self.pending:
            return give + sw_bytes(0x6100 | (len(self.pending) & 0xFF))
        return give + sw_bytes(0x9000)

    def record_value(self, rec):
        """EF05 record `rec`'s value, or None when the card has no such record."""
        def bcd_date(d):
            return bytes(int(d[i]) << 4 | int(d[i + 1]) for i in range(0, 8, 2))

        table = {
            0x07: lambda: self.state["card_number"].encode("ascii"),
            0x06: lambda: bcd_date(self.expiry),
            0x05: lambda: bcd_date(ISSUE_DATE),
            0x03: lambda: b"3.00",
            0x01: lambda: ID_CODE,
        }
        fn = table.get(rec)
        return fn() if fn else None

    def h_read_record(self, a):
        if a.p2 != 0x04:
            return sw_bytes(0x6A86)
        if a.lc != 0 or not a.has_le:
            return sw_bytes(0x6700)
        if not self.ef_selected:
            return sw_bytes(0x6986)
        val = self.record_value(a.p1)
        if val is None:
            return sw_bytes(0x6A83)
        n = len(val) + 2
        if (a.le == 256 and self.wrong_le) or (a.le != 256 and a.le != n):
            return sw_bytes(0x6C00 | n)
        return self.with_data(bytes((a.p1, len(val))) + val)

    def h_verify(self, a):
        if a.p1 != 0x00:
            return sw_bytes(0x6A86)
        if self.profile == "ssse":
            if a.p2 != 0x00:
                return sw_bytes(0x6A88)
            if not self.app_selected:
                return sw_bytes(0x6985)
        elif a.p2 != self.iso_ref:
            return sw_bytes(0x6A88)
        if a.lc == 0:
            # The hostile behaviour of some cards: an empty VERIFY costs a try.
            return sw_bytes(self.check_pin(None)[0])
        if self.profile == "ssse":
            if not 2 <= a.lc <= 8:
                return sw_bytes(0x6700)
            pin = bcd_decode(a.data, False)
        else:
            if a.lc != PIN_BLOCK:
                return sw_bytes(0x6700)
            pin = block_decode(a.data, self.iso_pad)
        if pin is None:
            return sw_bytes(0x6A80)  # a malformed encoding is not counted
        return sw_bytes(self.check_pin(pin)[0])

    def h_change_ssse(self, a):
        if a.p1 != 0x01 or a.p2 != 0x00:
            return sw_bytes(0x6A86)
        if not self.app_selected:
            return sw_bytes(0x6985)
        if not 5 <= a.lc <= 17:
            return sw_bytes(0x6700)
        # A BCD PIN never holds a whole FF byte, so the first FF separates.
        sep = a.data.find(b"\xFF")
        if sep < 0 or sep > 8 or a.lc - sep - 1 > 8:
            return sw_bytes(0x6A80)
        old = bcd_decode(a.data[:sep], False)
        new = bcd_decode(a.data[sep + 1:], False)
        if old is None or new is None:
            return sw_bytes(0x6A80)
        return sw_bytes(self.change_pin(old, new))

    def h_change_iso(self, a):
        if a.p1 != 0x00:
            return sw_bytes(0x6A86)
        if a.p2 != self.iso_ref:
            return sw_bytes(0x6A88)
        if a.lc != 2 * PIN_BLOCK:
            return sw_bytes(0x6700)
        old = block_decode(a.data[:PIN_BLOCK], self.iso_pad)
        new = block_decode(a.data[PIN_BLOCK:], self.iso_pad)
        if old is None or new is None:
            return sw_bytes(0x6A80)
        return sw_bytes(self.change_pin(old, new))

    def h_get_challenge(self, a):
        if a.p1 != 0x00 or a.p2 != 0x00:
            return sw_bytes(0x6A86)
        if a.lc != 0 or not a.has_le:
            return sw_bytes(0x6700)
        if self.profile == "ssse" and not self.app_selected:
            return sw_bytes(0x6985)
        if a.le not in (256, CHALLENGE_LEN):
            return sw_bytes(0x6C00 | CHALLENGE_LEN)
        self.chal = self.fixed_challenge or os.urandom(CHALLENGE_LEN)
        self.chal_live = True
        # At once even under --t0: a case-2 command with its Le needs no
        # GET RESPONSE, which would void the challenge here.
        return self.chal + sw_bytes(0x9000)

    def h_reset(self, a):
        if a.p1 != 0x00 or a.p2 != 0x00:
            return sw_bytes(0x6A86)
        if a.lc != RESET_MAC_LEN:
            return sw_bytes(0x6700)
        if not self.chal_prev:
            return sw_bytes(0x6988)
        want = reset_command(self.state["card_number"], self.chal)[len(RESET_HEAD):]
        if not hmac.compare_digest(a.data, want):
            return sw_bytes(0x6988)
        st = self.state
        st["pin"], st["tries"], st["blocked"] = INITIAL_PIN, st["max_tries"], False
        self.changed = True
        return sw_bytes(0x9000)

    # (cla, ins, profile or None for both, handler) - sim_card.c sim_cmds
    CMDS = (
        (0x00, 0xA4, None, h_select),
        (0x00, 0xC0, None, h_get_response),
        (0x00, 0xB2, None, h_read_record),
        (0x00, 0x20, None, h_verify),
        (0x80, 0x5E, "ssse", h_change_ssse),
        (0x00, 0x24, "iso7816", h_change_iso),
        (0x00, 0x84, None, h_get_challenge),
        (0x84, 0x2C, None, h_reset),
    )

    def execute(self, cmd):
        """One command APDU in, the full reply (data + SW) out (sim_exec)."""
        # Any command uses up the challenge: only the very next one may be
        # the reset made for it.
        self.chal_prev, self.chal_live = self.chal_live, False
        a = Apdu.parse(cmd)
        if a is None:
            self.pending = b""
            return sw_bytes(0x6700)
        if a.ins != 0xC0:
            self.pending = b""  # GET RESPONSE must follow at once
        if self.state["locked"] and a.ins not in (0xA4, 0xC0):
            return sw_bytes(0x9303)
        ins_known = False
        for cla, ins, profile, fn in self.CMDS:
            if ins != a.ins or (profile is not None and profile != self.profile):
                continue
            ins_known = True
            if cla == a.cla:
                return fn(self, a)
        return sw_bytes(0x6E00 if ins_known else 0x6D00)


# ---- the state file --------------------------------------------------------

def write_state(path, state):
    """Atomically: a temp file in the same directory (mode 0600: it holds
    the PIN), fsync, rename over the old one."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".vcard-", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({k: state[k] for k in STATE_KEYS}, f)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def load_state(args):
    """The card's memory: the state file if it exists (the options' PIN,
    tries and blocked are ignored then), else made from the options and
    written. Returns (state, created)."""
    try:
        with open(args.state) as f:
            text = f.read()
    except FileNotFoundError:
        text = None
    except OSError as e:
        raise UsageError("cannot read state file %s: %s" % (args.state, e.strerror))
    if text is None:
        number = args.card_number or "A12345678"
        if not valid_number(number):
            raise UsageError("--card-number must be 1..15 ASCII letters/digits")
        st = {
            "card_number": number,
            "pin": args.pin,
            "tries": 0 if args.blocked else args.tries,
            "max_tries": args.tries,
            "blocked": bool(args.blocked),
            "locked": bool(args.locked),
        }
        check_state(st, "options")
        try:
            write_state(args.state, st)
        except OSError as e:
            raise UsageError("cannot write state file %s: %s" % (args.state, e.strerror))
        return st, True
    try:
        st = json.loads(text)
    except ValueError:
        raise UsageError("state file %s: not valid JSON" % args.state) from None
    check_state(st, "state file %s" % args.state)
    if args.card_number is not None and args.card_number != st["card_number"]:
        raise UsageError("--card-number differs from the card in %s: use another state "
                         "file for another card" % args.state)
    # A card once locked stays locked; --locked may lock it now.
    if args.locked and not st["locked"]:
        st["locked"] = True
        write_state(args.state, st)
    return st, False


# ---- the reader connection -------------------------------------------------

class ReaderGone(Exception):
    """vpcd closed the connection or stopped answering (pcscd stopped)."""


class Stopper:
    """SIGTERM/SIGINT as a flag, plus a socket that select() can watch (the
    signal wakeup fd) so no wait outlives a removal. Installed first thing in
    main(), so a card pulled while it starts still leaves with exit 0."""

    def __init__(self):
        self.requested = False
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        signal.set_wakeup_fd(self.wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum, frame):
        self.requested = True

    def drain(self):
        try:
            while self.wake_r.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass


class Player:
    """Plays `card` into vpcd on `port`: framing, faults, delays, the log."""

    def __init__(self, args, card, stopper):
        self.args = args
        self.card = card
        self.port = args.port
        self.sock = None
        self.stopper = stopper
        self.wake_r = stopper.wake_r
        self.ncmd = 0
        self.fault_done = False
        self.chain_op = None  # the op whose data a 61xx left pending
        self.seen_reader = False

    @property
    def stop(self):
        return self.stopper.requested

    def log(self, msg):
        # "vcard: inserted on PORT" is what tests wait for; other lines
        # carry the port first, so two cards' logs can be told apart.
        if not msg.startswith(("inserted on", "removed from")):
            msg = "%d %s" % (self.port, msg)
        print("vcard: " + msg, flush=True)

    def sleep(self, seconds):
        """Waits up to `seconds`; False if a signal asked us to stop."""
        end = time.monotonic() + seconds
        while not self.stop:
            left = end - time.monotonic()
            if left <= 0:
                return True
            select.select([self.wake_r], [], [], left)
            self.drain_wake()
        return False

    def drain_wake(self):
        self.stopper.drain()

    def connect(self, timeout):
        """Connects to vpcd, retrying while it does not listen yet. False on
        timeout or stop."""
        end = time.monotonic() + timeout
        while not self.stop:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.settimeout(1.0)
                s.connect(("127.0.0.1", self.port))
                s.settimeout(None)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.sock = s
                return True
            except OSError:
                s.close()
            if time.monotonic() >= end or not self.sleep(CONNECT_RETRY_S):
                return False
        return False

    def close(self):
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            try:
                part = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise ReaderGone("reader stalled mid-message") from None
            except OSError as e:
                raise ReaderGone(e.strerror or str(e)) from None
            if not part:
                raise ReaderGone("reader closed the connection")
            buf += part
        return buf

    def recv_msg(self):
        """Waits for one message; None when a signal asked us to stop."""
        while not self.stop:
            r, _, _ = select.select([self.sock, self.wake_r], [], [], None)
            self.drain_wake()
            if self.stop:
                return None
            if self.sock in r:
                break
        if self.stop:
            return None
        self.sock.settimeout(MSG_BODY_TIMEOUT_S)
        try:
            (n,) = struct.unpack(">H", self.recv_exact(2))
            return self.recv_exact(n)
        finally:
            if self.sock is not None:
                self.sock.settimeout(None)

    def send_msg(self, payload):
        try:
            self.sock.sendall(struct.pack(">H", len(payload)) + payload)
        except OSError as e:
            raise ReaderGone(e.strerror or str(e)) from None

    # -- one message --

    def on_control(self, byte):
        name = CTRL_NAMES.get(byte)
        if byte == CTRL_ATR:
            self.send_msg(self.args.atr)
            if not self.seen_reader:
                self.seen_reader = True
                self.log("inserted on %d" % self.port)
            return
        if name is None:
            self.log("unknown control byte %02X (ignored)" % byte)
            return
        # pcscd powers the card up at insertion and again after its idle
        # power-off; selections do not survive either.
        self.card.power_cycle()
        self.chain_op = None
        self.log(name)

    def op_of(self, cmd):
        if len(cmd) < 4:
            return None
        if cmd[1] == 0xC0:
            return self.chain_op
        return OP_OF_INS.get(cmd[1])

    def describe(self, cmd):
        head = " ".join("%02X" % b for b in cmd[:4]) if len(cmd) >= 4 else "(%d bytes)" % len(cmd)
        return "#%d %s" % (self.ncmd, head)

    def junk(self):
        """Junk no reader of ours may take for an answer (sim_junk): 1..5
        random bytes, SW1 outside 6x/9x. Never 0 bytes: vpcd takes an empty
        reply for the card leaving."""
        n = 1 + os.urandom(1)[0] % 5
        b = bytearray(os.urandom(n))
        if n >= 2:
            b[n - 2] &= 0x3F
        return bytes(b)

    def on_command(self, cmd):
        """Returns False when the card must leave now (pulled or stopped)."""
        args = self.args
        self.ncmd += 1
        op = self.op_of(cmd)
        what = self.describe(cmd)

        # Like the sim's delay_on: an op's own commands, not the GET RESPONSE
        # that fetches their data; without --slow-on, every command APDU.
        if args.slow_ms and (args.slow_on is None or
                             (op == args.slow_on and cmd[1] != 0xC0)):
            if not self.sleep(args.slow_ms / 1000.0):
                self.log("%s removed during the %d ms delay (not carried out)"
                         % (what, args.slow_ms))
                return False

        reply = self.card.execute(cmd)
        sw = reply[-2] << 8 | reply[-1]
        self.chain_op = op if reply[-2] == 0x61 else None
        if self.card.changed:
            # Persist before answering: a lost answer must not lose the change.
            write_state(args.state, self.card.state)
            self.card.changed = False

        # Faults fire once, on the op's first reply that is not a 61xx/6Cxx
        # step, so --t0 and --wrong-le do not swallow them.
        fault = None
        if (args.fault and op == args.fault_on and not self.fault_done
                and reply[-2] not in (0x61, 0x6C)):
            self.fault_done = True
            fault = args.fault
        if fault == "drop" or (args.drop_after and self.ncmd >= args.drop_after):
            self.log("%s -> %04X carried out; card pulled before answering" % (what, sw))
            return False
        if fault == "garbage":
            reply = self.junk()
            self.log("%s -> %04X replaced by garbage (%d bytes)" % (what, sw, len(reply)))
        elif fault == "truncate":
            reply = reply[:-2] if len(reply) > 2 else reply[:1]
            self.log("%s -> %04X truncated to %d bytes" % (what, sw, len(reply)))
        else:
            self.log("%s -> %04X (%d bytes)" % (what, sw, len(reply)))
        self.send_msg(reply)
        return True

    def session(self):
        """Serves one connection. True when the card leaves on purpose
        (stop or pull); raises ReaderGone when the reader went away."""
        warned = False
        connected_at = time.monotonic()
        while True:
            if not self.seen_reader and not warned:
                # vpcd accepts only while its slot is free (backlog 0): a
                # second card on the same port connects but is never asked.
                r, _, _ = select.select([self.sock, self.wake_r], [], [], NO_POLL_WARN_S)
                if not r and time.monotonic() - connected_at >= NO_POLL_WARN_S:
                    warned = True
                    print("vcard: %d connected, but the reader has not polled the card in "
                          "%.0f s (another card in that reader? pcscd not running?)"
                          % (self.port, NO_POLL_WARN_S), file=sys.stderr, flush=True)
                    continue
            msg = self.recv_msg()
            if msg is None:
                return True
            if len(msg) == 1:
                self.on_control(msg[0])
            elif len(msg) == 0:
                self.log("empty message from the reader (ignored)")
            elif not self.on_command(msg):
                return True

    def run(self):
        timeout = self.args.connect_timeout
        first = True
        try:
            while not self.stop:
                if not self.connect(timeout):
                    if self.stop:
                        break
                    print("vcard: %d %s" % (self.port,
                          "cannot connect to vpcd on 127.0.0.1:%d within %g s (is pcscd with "
                          "vsmartcard-vpcd running?)" % (self.port, timeout) if first else
                          "the reader did not come back within %g s" % timeout),
                          file=sys.stderr, flush=True)
                    return EXIT_READER
                first = False
                self.seen_reader = False
                self.card.power_cycle()
                try:
                    if self.session():
                        break
                except ReaderGone as e:
                    self.close()
                    if self.args.reconnect_s <= 0:
                        self.log("reader gone (%s); leaving" % e)
                        return EXIT_READER
                    # pcscd stopped or restarted: the card stays in the
                    # reader and comes back with it, as a physical one would.
                    self.log("reader gone (%s); waiting up to %g s for it"
                             % (e, self.args.reconnect_s))
                    timeout = self.args.reconnect_s
        finally:
            self.close()
        self.log("removed from %d" % self.port)
        return EXIT_OK


# ---- options ---------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse quotes offending values; a mistyped option may carry a PIN.
        message = re.sub(r"\d{4,16}", "<digits>", message)
        self.print_usage(sys.stderr)
        print("vcard: %s" % message, file=sys.stderr)
        sys.exit(EXIT_USAGE)


def arg_pin(s):
    if not valid_pin(s):
        raise argparse.ArgumentTypeError("must be 4..16 ASCII digits")
    return s


def arg_tries(s):
    try:
        v = int(s, 10)
    except ValueError:
        v = 0
    if not 1 <= v <= MAX_TRIES:
        raise argparse.ArgumentTypeError("must be an integer 1..%d" % MAX_TRIES)
    return v


def arg_port(s):
    try:
        v = int(s, 10)
    except ValueError:
        v = 0
    if not 1 <= v <= 65535:
        raise argparse.ArgumentTypeError("must be a TCP port 1..65535")
    return v


def arg_positive(s):
    try:
        v = int(s, 10)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return v


def arg_seconds(s):
    try:
        v = float(s)
    except ValueError:
        v = -1.0
    if not 0 <= v <= 3600:
        raise argparse.ArgumentTypeError("must be seconds, 0..3600")
    return v


def arg_number(s):
    if not valid_number(s):
        raise argparse.ArgumentTypeError("must be 1..15 ASCII letters/digits")
    return s


def arg_date(s):
    if not valid_date(s):
        raise argparse.ArgumentTypeError("must be YYYYMMDD")
    return s


def arg_pin_ref(s):
    try:
        v = int(s, 16)
    except ValueError:
        v = -1
    if not 0 <= v <= 0xFF or len(s) > 2:
        raise argparse.ArgumentTypeError("must be one hex byte, e.g. 80")
    return v or 0x80  # like the sim: 0 means the default 80


def arg_atr(s):
    try:
        b = bytes.fromhex(s)
    except ValueError:
        b = b""
    if not 2 <= len(b) <= 33 or b[0] not in (0x3B, 0x3F):
        raise argparse.ArgumentTypeError("must be 2..33 hex bytes starting 3B or 3F")
    return b


def parse_args(argv):
    p = Parser(prog="vcard.py", description="A social security card for the vpcd reader.")
    p.add_argument("--port", type=arg_port, required=True,
                   help="vpcd port: 35963 = 'Virtual PCD 00 00', 35964 = 'Virtual PCD 00 01'")
    p.add_argument("--state", required=True, help="the card's memory (JSON); made if missing")
    p.add_argument("--card-number", type=arg_number, default=None,
                   help="record 07 (default A12345678 for a new card)")
    p.add_argument("--pin", type=arg_pin, default="123456", help="new card's PIN")
    p.add_argument("--tries", type=arg_tries, default=3, help="new card's tries (and maximum)")
    p.add_argument("--blocked", action="store_true", help="new card starts blocked")
    p.add_argument("--locked", action="store_true", help="9303 to all but SELECT/GET RESPONSE")
    p.add_argument("--profile", choices=PROFILES, default="ssse")
    p.add_argument("--expiry", type=arg_date, default=None, help="record 06 (default 20991231)")
    p.add_argument("--expired", action="store_true", help="record 06 = %s" % EXPIRED_EXPIRY)
    p.add_argument("--iso-pin-ref", type=arg_pin_ref, default=0x80,
                   help="iso7816: P2 of VERIFY/CHANGE (hex, default 80)")
    p.add_argument("--iso-padding", choices=(PAD_ASCII, PAD_BCD), default=PAD_ASCII,
                   help="iso7816: PIN block encoding (default ascii: digits then FF)")
    p.add_argument("--atr", type=arg_atr, default=DEFAULT_ATR, help="hex (default 3B80800101)")
    p.add_argument("--t0", action="store_true", help="data answers as 61xx + GET RESPONSE")
    p.add_argument("--no-count", action="store_true",
                   help="a wrong PIN answers 6300 instead of 63Cx (still counted)")
    p.add_argument("--wrong-le", action="store_true",
                   help="READ RECORD with Le 00 answers 6Cxx; the right Le gets the data")
    p.add_argument("--slow-ms", type=arg_positive, default=0, help="answer that late")
    p.add_argument("--slow-on", choices=OPS, default=None,
                   help="only commands of this op are slow (default: every command)")
    p.add_argument("--drop-after", type=arg_positive, default=0,
                   help="pull the card after carrying out the Nth command APDU")
    faults = p.add_mutually_exclusive_group()
    faults.add_argument("--garbage-on", choices=OPS, default=None)
    faults.add_argument("--truncate-on", choices=OPS, default=None)
    faults.add_argument("--drop-on", choices=OPS, default=None,
                        help="pull the card after carrying out the op's first command")
    p.add_argument("--connect-timeout", type=arg_seconds, default=5.0,
                   help="seconds to wait for vpcd at start (default 5)")
    p.add_argument("--reconnect-s", type=arg_seconds, default=30.0,
                   help="seconds to wait for the reader to come back after pcscd "
                        "stops (default 30; 0 = leave at once, exit 3)")
    args = p.parse_args(argv)

    if args.slow_on and not args.slow_ms:
        p.error("--slow-on needs --slow-ms")
    if args.expired and args.expiry:
        p.error("--expired and --expiry exclude each other")
    args.expiry = EXPIRED_EXPIRY if args.expired else (args.expiry or DEFAULT_EXPIRY)
    args.fault, args.fault_on = None, None
    for name in ("garbage", "truncate", "drop"):
        on = getattr(args, name + "_on")
        if on:
            args.fault, args.fault_on = name, on
    return args


def main(argv):
    stopper = Stopper()
    args = parse_args(argv)
    try:
        state, created = load_state(args)
    except UsageError as e:
        print("vcard: %s" % e, file=sys.stderr)
        return EXIT_USAGE
    card = Card(state, profile=args.profile, expiry=args.expiry, iso_ref=args.iso_pin_ref,
                iso_pad=args.iso_padding, t0=args.t0, wrong_le=args.wrong_le,
                no_count=args.no_count)
    player = Player(args, card, stopper)
    player.log("card %s %s, %s state file, tries %d/%d%s%s" % (
        mask_card(state["card_number"]), args.profile, "new" if created else "existing",
        state["tries"], state["max_tries"],
        ", blocked" if state["blocked"] else "", ", locked" if state["locked"] else ""))
    try:
        return player.run()
    except OSError as e:
        # The state file could not be written: the card cannot keep its word.
        print("vcard: %d %s" % (args.port, e), file=sys.stderr, flush=True)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
