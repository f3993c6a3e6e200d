#!/usr/bin/python3
"""Bureau stand-in: speaks ../shared/bureau-api.md sections 1 to 4 over
mutual TLS, for tests only.  Python 3 standard library only.

Section 3 (PIN reset): the "SMS" with the one-time code is one stdout line,
the only place the code is ever logged; tests read it from the control port.

See README.md for usage, fault switches and the control endpoint.
Listens on 127.0.0.1 only.  Every loop is bounded (timeouts, counts, caps).
"""

import argparse
import copy
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOPBACK = "127.0.0.1"
MAX_REQUEST_BODY = 64 * 1024      # we never need more; larger is a client bug
MAX_RESPONSE = 64 * 1024          # contract: responses are at most 64 KiB
HUGE_RESPONSE = 10 * 1024 * 1024  # the "answer with 10 MB" fault
HANDSHAKE_TIMEOUT_S = 10
CONN_TIMEOUT_S = 30               # idle keep-alive connections end here
MAX_DELAY_MS = 120000
MAX_FAULT_COUNT = 1000000
MAX_HEARTBEATS_KEPT = 1000
MAX_RESETS_KEPT = 10000           # oldest resets are forgotten beyond this
RESETS_PER_DAY = 3                # contract: per card per (UTC) day
RESET_ATTEMPTS = 3                # wrong codes before a reset is void
DEFAULT_RESET_EXPIRES_S = 300
MAX_RESET_EXPIRES_S = 86400
DEFAULT_PHONE = "13812345678"     # an active card's phone unless the file says

# Contract error codes per status; unknown statuses get a code that says
# the answer was injected, so a test log shows where it came from.
ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "TERMINAL_NOT_AUTHORIZED",
    403: "TERMINAL_NOT_AUTHORIZED",
    404: "CARD_NOT_FOUND",
    409: "IDEMPOTENCY_CONFLICT",
    422: "VALIDATION_FAILED",
    429: "RATE_LIMITED",
    500: "SERVER_ERROR",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "UNAVAILABLE",
}

CARD_STATUSES = ("active", "lost", "frozen", "cancelled")
EVENT_KINDS = ("pin_changed", "pin_blocked", "pin_change_unknown", "pin_reset")

RE_CARD = re.compile(r"\A[A-Z0-9]{9}\Z")
RE_UUID4 = re.compile(
    r"\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z",
    re.I)
RE_UTC = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
RE_TERMINAL = re.compile(r"\A[A-Za-z0-9-]{1,64}\Z")
RE_VERSION = re.compile(r"\A[0-9A-Za-z.+-]{1,32}\Z")
RE_READER = re.compile(r"\A[a-z_]{1,32}\Z")
RE_HEADER_VALUE = re.compile(r"\A[\x20-\x7e]{0,200}\Z")
RE_RESET_ID = re.compile(r"\Ar-[0-9a-f]{1,64}\Z")
RE_SMS_CODE = re.compile(r"\A[0-9]{6}\Z")
RE_CHALLENGE = re.compile(r"\A[0-9A-Fa-f]{16}\Z")
RE_PHONE = re.compile(r"\A[0-9]{7,15}\Z")

INT_MAX = 2 ** 63 - 1

# Validation tables: key -> checker returning an error string or None.
def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _nonneg_int(v):
    return None if _is_int(v) and 0 <= v <= INT_MAX else \
        "must be an integer 0..2^63-1"


def _regex(rx, what):
    def check(v):
        return None if isinstance(v, str) and rx.match(v) else "must be " + what
    return check


def _one_of(values):
    def check(v):
        return None if isinstance(v, str) and v in values else \
            "must be one of " + ", ".join(values)
    return check


def _utc(v):
    if not isinstance(v, str) or not RE_UTC.match(v):
        return "must be YYYY-MM-DDTHH:MM:SSZ"
    try:
        datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return "is not a real date and time"
    return None


EVENT_FIELDS = {
    "event_id": _regex(RE_UUID4, "a UUID version 4"),
    "terminal_id": _regex(RE_TERMINAL, "a terminal id"),
    "seq": _nonneg_int,
    "card_number": _regex(RE_CARD, "9 characters A-Z 0-9"),
    "kind": _one_of(EVENT_KINDS),
    "occurred_at": _utc,
}

# The records of a reset carry "reset_id": required in pin_reset, allowed in
# pin_change_unknown, refused in the other kinds (see validate_event).
RESET_ID_FIELD = {"reset_id": _regex(RE_RESET_ID, "r- and 1..64 hex digits")}

RESET_START_FIELDS = {
    "terminal_id": _regex(RE_TERMINAL, "a terminal id"),
}

AUTHORIZE_FIELDS = {
    # Messages name the member, never echo its value: the code is a secret.
    "sms_code": _regex(RE_SMS_CODE, "six digits 0-9"),
    "card_challenge": _regex(RE_CHALLENGE, "16 hex digits"),
}

HEARTBEAT_FIELDS = {
    "version": _regex(RE_VERSION, "a version string"),
    "uptime_s": _nonneg_int,
    "outbox_depth": _nonneg_int,
    "dead_letters": _nonneg_int,
    "reader": _regex(RE_READER, "a short lower-case word"),
    "last_event_seq": _nonneg_int,
}

DEFAULT_STATUSES = {"A12345678": {"status": "active", "holder": "张*明"}}


def mask_phone(phone):
    return phone[:3] + "****" + phone[-4:]


def reset_command(card, challenge):
    """The test reset command (bureau-api.md section 3): 84 2C 00 00 10 ||
    first 16 bytes of HMAC-SHA256(key, challenge || card), where key is the
    first 16 bytes of SHA-256("ssse-test-reset-key:" || card)."""
    key = hashlib.sha256(b"ssse-test-reset-key:" + card.encode("ascii")
                         ).digest()[:16]
    mac = hmac.new(key, challenge + card.encode("ascii"),
                   hashlib.sha256).digest()[:16]
    return bytes.fromhex("842C000010") + mac


def seconds_to_utc_midnight():
    now = datetime.datetime.now(datetime.timezone.utc)
    tomorrow = (now + datetime.timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds() + 0.999))


def utc_day():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def mask_card(card):
    if len(card) < 7:
        return "***"
    return card[:3] + "***" + card[-3:]


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def log(msg):
    sys.stdout.write("%s standin: %s\n" % (utc_now(), msg))
    sys.stdout.flush()


class BadJson(ValueError):
    pass


def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise BadJson("duplicate key " + k)
        seen[k] = v
    return seen


def parse_json(raw):
    """Strict JSON: UTF-8, no duplicate keys, no NaN.  Raises BadJson."""
    try:
        text = raw.decode("utf-8")
        return json.loads(text, object_pairs_hook=_no_duplicates,
                          parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise BadJson(str(e)) from None


def _reject_constant(name):
    raise BadJson("non-standard constant " + name)


def validate(obj, fields):
    """Returns an error message or None.  Exactly `fields`, nothing else."""
    if not isinstance(obj, dict):
        return "body must be a JSON object"
    missing = sorted(set(fields) - set(obj))
    extra = sorted(set(obj) - set(fields))
    if missing:
        return "missing keys: " + ", ".join(missing)
    if extra:
        return "unexpected keys: " + ", ".join(extra)
    for key, check in fields.items():
        err = check(obj[key])
        if err:
            return "%s %s" % (key, err)
    return None


def validate_event(obj):
    """A pin-events body: EVENT_FIELDS, plus reset_id where section 3 puts
    it (required in pin_reset, optional in pin_change_unknown)."""
    fields = EVENT_FIELDS
    if isinstance(obj, dict) and (obj.get("kind") == "pin_reset" or (
            obj.get("kind") == "pin_change_unknown" and "reset_id" in obj)):
        fields = dict(EVENT_FIELDS, **RESET_ID_FIELD)
    err = validate(obj, fields)
    if err and isinstance(obj, dict) and "reset_id" in obj and \
            "reset_id" not in fields:
        err += " (reset_id belongs to pin_reset and pin_change_unknown only)"
    return err


# The endpoints, for fault scoping (`only`) and routing.
ENDPOINTS = ("status", "pin_events", "heartbeat", "reset_start",
             "reset_authorize")


def endpoint_of(method, path):
    """(endpoint name, path argument) or (None, None)."""
    parts = path.split("?", 1)[0].split("/")
    if len(parts) == 5 and parts[0] == "" and parts[1] == "v1":
        if method == "GET" and parts[2] == "cards" and parts[4] == "status":
            return "status", parts[3]
        if method == "POST" and parts[2] == "cards" and \
                parts[4] == "pin-resets":
            return "reset_start", parts[3]
        if method == "POST" and parts[2] == "pin-resets" and \
                parts[4] == "authorize":
            return "reset_authorize", parts[3]
        if method == "POST" and parts[2] == "terminals" and \
                parts[4] == "heartbeat":
            return "heartbeat", parts[3]
    if method == "POST" and parts == ["", "v1", "pin-events"]:
        return "pin_events", None
    return None, None


RE_SMS_MEMBER = re.compile(rb'("sms_code"\s*:\s*)"[^"]*"')


def redact_authorize(body, codes):
    """An authorize body as raw-bodies.log keeps it: the sms_code member's
    value, and any of this reset's real codes anywhere else, replaced."""
    body = RE_SMS_MEMBER.sub(rb'\1"[redacted]"', body)
    for code in codes:
        body = body.replace(code.encode(), b"[redacted]")
    return body


# ---------------------------------------------------------------- faults

FAULT_DEFAULTS = {
    "fail": {"count": 0, "status": 503, "retry_after": None},
    "delay_ms": 0,
    "drop": 0,
    "drop_after_record": 0,
    "other_ca": False,
    "redirect": 0,
    "redirect_location": "",
    "huge": 0,
    "malformed": 0,
    "replace_body": {"count": 0, "body": None},
    "only": "",
}


def _count(v):
    if not _is_int(v) or not 0 <= v <= MAX_FAULT_COUNT:
        raise ValueError("count must be an integer 0..%d" % MAX_FAULT_COUNT)
    return v


def apply_faults(faults, update):
    """Merges `update` (parsed JSON) into a copy of `faults`.
    Returns the new dict; raises ValueError with a clear message."""
    if not isinstance(update, dict):
        raise ValueError("body must be a JSON object")
    new = copy.deepcopy(FAULT_DEFAULTS if update.get("reset") else faults)
    for key, val in update.items():
        if key == "reset":
            if not isinstance(val, bool):
                raise ValueError("reset must be true or false")
        elif key == "fail":
            if not isinstance(val, dict) or not set(val) <= {
                    "count", "status", "retry_after"}:
                raise ValueError("fail must be {count, status, retry_after}")
            f = dict(new["fail"])
            if "count" in val:
                f["count"] = _count(val["count"])
            if "status" in val:
                s = val["status"]
                if not _is_int(s) or not 100 <= s <= 599:
                    raise ValueError("fail.status must be 100..599")
                f["status"] = s
            if "retry_after" in val:
                ra = val["retry_after"]
                if ra is not None and not _is_int(ra) and not (
                        isinstance(ra, str) and RE_HEADER_VALUE.match(ra)):
                    raise ValueError("fail.retry_after must be null, an "
                                     "integer or a printable string")
                f["retry_after"] = ra
            new["fail"] = f
        elif key == "delay_ms":
            if not _is_int(val) or not 0 <= val <= MAX_DELAY_MS:
                raise ValueError("delay_ms must be 0..%d" % MAX_DELAY_MS)
            new[key] = val
        elif key in ("drop", "drop_after_record", "redirect", "huge",
                     "malformed"):
            new[key] = _count(val)
        elif key == "other_ca":
            if not isinstance(val, bool):
                raise ValueError("other_ca must be true or false")
            new[key] = val
        elif key == "redirect_location":
            if not isinstance(val, str) or not RE_HEADER_VALUE.match(val):
                raise ValueError("redirect_location must be a printable URL")
            new[key] = val
        elif key == "replace_body":
            if not isinstance(val, dict) or not set(val) <= {"count", "body"}:
                raise ValueError("replace_body must be {count, body}")
            f = dict(new["replace_body"])
            if "count" in val:
                f["count"] = _count(val["count"])
            if "body" in val:
                if len(json.dumps(val["body"])) > MAX_RESPONSE:
                    raise ValueError("replace_body.body is over 64 KiB")
                f["body"] = copy.deepcopy(val["body"])
            new[key] = f
        elif key == "only":
            if val != "" and val not in ENDPOINTS:
                raise ValueError("only must be \"\" (every request) or one "
                                 "of " + ", ".join(ENDPOINTS))
            new[key] = val
        else:
            raise ValueError("unknown fault switch " + key)
    return new


# ---------------------------------------------------------------- state

class Bureau:
    """Everything shared between connections, under one lock."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.dir = args.certs
        self.state_path = args.state or os.path.join(self.dir, "state.json")
        self.raw_path = os.path.join(self.dir, "raw-bodies.log")
        self.recorded_path = os.path.join(self.dir, "recorded.jsonl")
        self.faults = copy.deepcopy(FAULT_DEFAULTS)
        self.heartbeats = []
        self.stats = {"connections": 0, "handshake_failures": 0,
                      "requests": 0, "bodies": 0, "recorded": 0,
                      "replayed": 0, "conflicts": 0, "resets_started": 0,
                      "resets_authorized": 0, "codes_invalid": 0}
        self.events = {}   # event_id -> {"body", "answer"[, "reset_known"]}
        self.order = []    # event_ids in the order first recorded
        # Section 3.  reset_id -> {"card", "code", "created_at", "deadline"
        # (monotonic), "expires_in_s", "attempts_left", "state" (pending,
        # void, used; "expired" is computed), "used_at"}.  In memory only,
        # and codes never leave memory.  Which resets produced a command
        # (reset_id -> card) is kept in the state file too, so a record
        # delivered after a restart is still known.
        self.resets = {}
        self.used_resets = {}
        self.last_sms = {}       # card -> reset_id of the last code texted
        self.reset_counts = {}   # card -> [UTC day, resets started that day]
        self.reset_expires_s = args.reset_expires_in_s
        self.reset_expires_card = {}  # card -> expires_in_s override
        self._load_state()

    def _load_state(self):
        try:
            with open(self.state_path, "rb") as f:
                data = parse_json(f.read())
        except FileNotFoundError:
            return
        except (OSError, BadJson) as e:
            sys.exit("standin: cannot read state %s: %s" % (self.state_path, e))
        if not isinstance(data, dict) or not isinstance(
                data.get("events"), list):
            sys.exit("standin: state %s is not ours" % self.state_path)
        for ent in data["events"]:
            eid = ent["body"]["event_id"]
            self.events[eid] = ent
            self.order.append(eid)
        self.used_resets = dict(data.get("used_resets") or {})

    def _save_state(self):
        # Atomic replace so a killed stand-in never forgets an event it
        # answered 201 for: dedup must be permanent.
        tmp = self.state_path + ".tmp"
        data = {"events": [self.events[e] for e in self.order],
                "used_resets": self.used_resets}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, json.dumps(data, ensure_ascii=False).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.state_path)

    def _append(self, path, data):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def note_body(self, method, path, body):
        with self.lock:
            self.stats["bodies"] += 1 if body else 0
            self._append(self.raw_path,
                         ("--- %s %s %s\n" % (utc_now(), method, path)).encode()
                         + body + b"\n")

    def in_scope(self, endpoint):
        only = self.faults["only"]
        return not only or only == endpoint

    def take_fault(self, endpoint):
        """Consumes one counted fault for this request, if the request is
        in the switches' scope (`only`).  Returns
        (kind, fault-dict-copy, delay_ms)."""
        with self.lock:
            f = self.faults
            if not self.in_scope(endpoint):
                return None, None, 0
            delay = f["delay_ms"]
            for kind in ("drop", "fail", "redirect", "huge", "malformed",
                         "drop_after_record"):
                if kind == "fail":
                    if f["fail"]["count"] > 0:
                        f["fail"]["count"] -= 1
                        return kind, dict(f["fail"]), delay
                elif f[kind] > 0:
                    f[kind] -= 1
                    return kind, dict(f), delay
            return None, None, delay

    def take_replace_body(self, endpoint):
        """The replace_body fault, consumed by a 2xx answer with a JSON body
        in scope.  Returns (True, body) or (False, None)."""
        with self.lock:
            f = self.faults["replace_body"]
            if f["count"] > 0 and self.in_scope(endpoint):
                f["count"] -= 1
                return True, copy.deepcopy(f["body"])
            return False, None

    def record(self, body):
        """Returns (status, answer)."""
        with self.lock:
            eid = body["event_id"]
            old = self.events.get(eid)
            if old is not None:
                if old["body"] == body:
                    self.stats["replayed"] += 1
                    return 200, old["answer"]
                self.stats["conflicts"] += 1
                return 409, None
            answer = {"event_id": eid, "recorded_at": utc_now()}
            ent = {"body": body, "answer": answer}
            if "reset_id" in body:
                # Recorded either way (the card is the truth), but a test
                # must see a reset record the bureau never authorized.
                ent["reset_known"] = self.used_resets.get(
                    body["reset_id"]) == body["card_number"]
            self.events[eid] = ent
            self.order.append(eid)
            self._save_state()
            self._append(self.recorded_path, (json.dumps(
                self._listed(ent), ensure_ascii=False) + "\n").encode())
            self.stats["recorded"] += 1
            return 201, answer

    def reset_known(self, eid):
        with self.lock:
            return self.events[eid].get("reset_known")

    @staticmethod
    def _listed(ent):
        """An event as /recorded and recorded.jsonl show it: the body, plus
        "reset_known" for a record that carries a reset_id."""
        if "reset_known" not in ent:
            return ent["body"]
        return dict(ent["body"], reset_known=ent["reset_known"])

    def recorded(self):
        with self.lock:
            return [self._listed(self.events[e]) for e in self.order]

    # --- section 3: resets

    def _reset_state(self, r):
        if r["state"] == "pending" and time.monotonic() >= r["deadline"]:
            return "expired"
        return r["state"]

    def start_reset(self, card, phone):
        """Returns (201, answer, code) or (429, retry_after, None)."""
        with self.lock:
            day = utc_day()
            cnt = self.reset_counts.get(card)
            if cnt is None or cnt[0] != day:
                cnt = self.reset_counts[card] = [day, 0]
            if cnt[1] >= RESETS_PER_DAY:
                return 429, seconds_to_utc_midnight(), None
            cnt[1] += 1
            rid = "r-" + secrets.token_hex(16)
            code = "%06d" % secrets.randbelow(1000000)
            exp = self.reset_expires_card.get(card, self.reset_expires_s)
            self.resets[rid] = {
                "card": card, "code": code, "created_at": utc_now(),
                "deadline": time.monotonic() + exp, "expires_in_s": exp,
                "attempts_left": RESET_ATTEMPTS, "state": "pending",
                "used_at": None}
            self.last_sms[card] = rid
            if len(self.resets) > MAX_RESETS_KEPT:  # used ones stay known
                del self.resets[next(iter(self.resets))]
            self.stats["resets_started"] += 1
            return 201, {"reset_id": rid, "phone_masked": mask_phone(phone),
                         "expires_in_s": exp}, code

    def reset_codes(self, rid):
        """The real code of a reset, for redaction only."""
        with self.lock:
            r = self.resets.get(rid)
            return [r["code"]] if r and r["code"] else []

    def authorize(self, rid, code, challenge):
        """Returns (status, answer or None, error code, extra error
        members).  A wrong code costs an attempt; the third voids it."""
        with self.lock:
            r = self.resets.get(rid)
            if r is None and rid in self.used_resets:  # from before a restart
                return 409, None, "ALREADY_USED", {}
            if r is None:
                return 404, None, "RESET_NOT_FOUND", {}
            state = self._reset_state(r)
            if state == "used":
                return 409, None, "ALREADY_USED", {}
            if state == "void":
                return 410, None, "RESET_VOID", {}
            if state == "expired":
                return 410, None, "EXPIRED", {}
            if not hmac.compare_digest(code.encode(), r["code"].encode()):
                self.stats["codes_invalid"] += 1
                r["attempts_left"] -= 1
                if r["attempts_left"] <= 0:
                    r["state"] = "void"
                    return 410, None, "RESET_VOID", {}
                return 403, None, "CODE_INVALID", {
                    "attempts_left": r["attempts_left"]}
            cmd = reset_command(r["card"], bytes.fromhex(challenge))
            r["state"] = "used"
            r["used_at"] = utc_now()
            self.used_resets[rid] = r["card"]
            self.stats["resets_authorized"] += 1
            self._save_state()
            return 200, {"command_apdu": cmd.hex().upper()}, None, {}

    def sms(self, card):
        with self.lock:
            rid = self.last_sms.get(card)
            r = self.resets.get(rid) if rid else None
            if r is None or r["code"] is None:
                return None
            return {"code": r["code"], "reset_id": rid}

    def resets_listing(self):
        with self.lock:
            return {
                "resets": [{
                    "reset_id": rid, "card_number": r["card"],
                    "state": self._reset_state(r),
                    "attempts_left": r["attempts_left"],
                    "created_at": r["created_at"],
                    "expires_in_s": r["expires_in_s"],
                    "used_at": r["used_at"]} for rid, r in self.resets.items()],
                "reset_expires_in_s": self.reset_expires_s,
                "per_card_expires_in_s": dict(self.reset_expires_card),
                "counters": {c: {"day": v[0], "started": v[1]}
                             for c, v in self.reset_counts.items()},
                "resets_per_day": RESETS_PER_DAY,
            }

    def reset_settings(self, update):
        """POST /resets on the control port.  Raises ValueError."""
        if not isinstance(update, dict) or not update or not set(update) <= {
                "reset_expires_in_s", "card", "clear_counters"}:
            raise ValueError("body must be an object of reset_expires_in_s, "
                             "card, clear_counters")
        card = update.get("card")
        if "card" in update and (not isinstance(card, str) or
                                 not RE_CARD.match(card)):
            raise ValueError("card must be 9 characters A-Z 0-9")
        if "card" in update and "reset_expires_in_s" not in update and \
                "clear_counters" not in update:
            raise ValueError("card goes with reset_expires_in_s or "
                             "clear_counters")
        cc = update.get("clear_counters", False)
        if not isinstance(cc, bool):
            raise ValueError("clear_counters must be true or false")
        with self.lock:
            if "reset_expires_in_s" in update:
                v = update["reset_expires_in_s"]
                if v is None and card:
                    self.reset_expires_card.pop(card, None)
                elif not _is_int(v) or not 1 <= v <= MAX_RESET_EXPIRES_S:
                    raise ValueError("reset_expires_in_s must be 1..%d (or "
                                     "null with card)" % MAX_RESET_EXPIRES_S)
                elif card:
                    self.reset_expires_card[card] = v
                else:
                    self.reset_expires_s = v
            if cc and card:
                self.reset_counts.pop(card, None)
            elif cc:
                self.reset_counts.clear()

    def statuses(self):
        """Re-read per request so a test can change a card between calls."""
        if not self.args.statuses:
            return DEFAULT_STATUSES
        with open(self.args.statuses, "rb") as f:
            data = parse_json(f.read(MAX_REQUEST_BODY * 16))
        if not isinstance(data, dict):
            raise BadJson("statuses file must be a JSON object")
        return data


# ---------------------------------------------------------------- HTTPS

class TlsServer(ThreadingHTTPServer):
    """Accepts plain TCP and does the TLS handshake in the connection's
    thread, choosing the certificate at that moment: this is how the
    other_ca switch works without a restart."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, bureau, ctx, other_ctx):
        self.bureau = bureau
        self.ctx = ctx
        self.other_ctx = other_ctx
        super().__init__(addr, handler)

    def process_request_thread(self, request, client_address):
        b = self.bureau
        with b.lock:
            b.stats["connections"] += 1
            other = b.faults["other_ca"]
        ctx = self.other_ctx if other else self.ctx
        try:
            request.settimeout(HANDSHAKE_TIMEOUT_S)
            tls = ctx.wrap_socket(request, server_side=True,
                                  do_handshake_on_connect=False)
            tls.do_handshake()
            tls.settimeout(CONN_TIMEOUT_S)
        except (ssl.SSLError, OSError) as e:
            with b.lock:
                b.stats["handshake_failures"] += 1
            log("%s:%d TLS handshake failed%s: %s" % (
                client_address[0], client_address[1],
                " (presenting OTHER CA)" if other else "", e))
            try:
                request.close()
            except OSError:
                pass
            return
        super().process_request_thread(tls, client_address)


def peer_cn(sock):
    cert = sock.getpeercert() or {}
    for rdn in cert.get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                return v
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bureau-standin/1"
    sys_version = ""

    # --- plumbing

    def log_message(self, fmt, *args):
        log("%s %s" % (self.client_address[0], fmt % args))

    def log_request(self, code="-", size="-"):
        pass  # we log one line ourselves in _finish

    def _mask_path(self):
        return re.sub(r"/cards/([^/]+)/",
                      lambda m: "/cards/%s/" % mask_card(m.group(1)),
                      getattr(self, "path", "") or "")

    def send_error(self, code, message=None, explain=None):
        # http.server's own errors (bad request line, oversized headers,
        # unknown method) get the contract's JSON body, not HTML.
        self.close_connection = True
        self.command = self.command or "-"
        self._error(code, message or "bad request",
                    code=ERROR_CODES.get(code, "BAD_REQUEST"))

    def _finish(self, status, nbytes, note=""):
        with self.server.bureau.lock:
            self.server.bureau.stats["requests"] += 1
        log("%s %s %s -> %s %dB%s" % (
            self.client_address[0], self.command, self._mask_path(), status,
            nbytes, (" [" + note + "]") if note else ""))

    def _send(self, status, obj=None, raw=None, headers=(), note=""):
        if getattr(self, "_drop_after", False):
            # The reset endpoints under drop_after_record: processed (code
            # texted, attempt counted or command made), the answer lost.
            self._drop_after = False
            self.close_connection = True
            self._finish("DROPPED-AFTER-%d" % status, 0,
                         "fault drop_after_record")
            return
        if raw is None and obj is not None and 200 <= status < 300:
            hit, new = self.server.bureau.take_replace_body(
                getattr(self, "_endpoint", None))
            if hit:
                obj = new
                note = (note + " " if note else "") + "fault replace_body"
        if raw is None:
            raw = b"" if obj is None else json.dumps(
                obj, ensure_ascii=False).encode()
        assert len(raw) <= MAX_RESPONSE
        self.send_response(status)
        if raw:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if raw:
            self.wfile.write(raw)
        self._finish(status, len(raw), note)

    def _error(self, status, message, code=None, headers=(), note="",
               extra=None):
        code = code or ERROR_CODES.get(status, "FAULT_INJECTED")
        err = {"code": code, "message": message}
        err.update(extra or {})
        self._send(status, {"error": err}, headers=headers, note=note)

    def _read_body(self):
        """Returns bytes, or None after answering 400 itself."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            self._error(400, "chunked bodies are not accepted")
            return None
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        if not cl.isdigit() or int(cl) > MAX_REQUEST_BODY:
            self.close_connection = True
            self._error(400, "Content-Length missing, bad or over 64 KiB")
            return None
        n = int(cl)
        body = self.rfile.read(n) if n else b""
        if len(body) != n:
            self.close_connection = True
            self._error(400, "body shorter than Content-Length")
            return None
        return body

    # --- dispatch

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _dispatch(self):
        b = self.server.bureau
        self._drop_after = False
        self._endpoint, self._arg = endpoint_of(self.command, self.path)
        body = self._read_body()
        if body is None:
            return
        logged = body
        if self._endpoint == "reset_authorize":
            logged = redact_authorize(body, b.reset_codes(self._arg))
        b.note_body(self.command, self._mask_path(), logged)
        kind, fault, delay = b.take_fault(self._endpoint)
        if delay:
            time.sleep(delay / 1000.0)
        if kind == "drop":
            self.close_connection = True
            self._finish("DROPPED", 0, "fault drop")
            return
        if kind == "fail":
            hdrs = []
            if fault["retry_after"] is not None:
                hdrs.append(("Retry-After", str(fault["retry_after"])))
            self._error(fault["status"], "injected failure", headers=hdrs,
                        note="fault fail")
            return
        if kind == "redirect":
            loc = fault["redirect_location"] or "https://%s:%d/v1/redirected" % (
                LOOPBACK, self.server.server_address[1])
            self._error(302, "moved", code="REDIRECT",
                        headers=[("Location", loc)], note="fault redirect")
            return
        if kind == "huge":
            self._send_huge()
            return
        if kind == "malformed":
            self._send(200, raw=b'{"event_id": "0b9a4f52-8e8e-4d55-9f0b-3c2f',
                       note="fault malformed")
            return
        self._route(body, drop_after=(kind == "drop_after_record"))

    def _send_huge(self):
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(HUGE_RESPONSE))
        self.end_headers()
        head, tail = b'{"pad":"', b'"}'
        chunk = b"x" * 65536
        left = HUGE_RESPONSE - len(head) - len(tail)
        sent = 0
        try:
            self.wfile.write(head)
            while left > 0:  # bounded: HUGE_RESPONSE / 64 KiB iterations
                n = min(left, len(chunk))
                self.wfile.write(chunk[:n])
                left -= n
                sent += n
            self.wfile.write(tail)
            sent += len(head) + len(tail)
        except (OSError, ssl.SSLError):
            pass  # the client is right to hang up on us
        self._finish(200, sent, "fault huge")

    def _route(self, body, drop_after):
        tid = self.server.bureau.args.terminal_id
        if self.headers.get("X-Terminal-Id") != tid:
            self._error(403, "X-Terminal-Id does not match this terminal")
            return
        if peer_cn(self.connection) != tid:
            self._error(403, "client certificate is not this terminal's")
            return
        ep, arg = self._endpoint, self._arg
        # drop_after_record: pin-events drop after the record step (below);
        # the reset endpoints lose whatever answer they make; status and
        # heartbeat consume it and answer normally (as they always did).
        if ep == "status":
            self._card_status(arg)
        elif ep == "pin_events":
            self._pin_event(body, drop_after)
        elif ep == "heartbeat":
            self._heartbeat(arg, body)
        elif ep == "reset_start":
            self._drop_after = drop_after
            self._reset_start(arg, body)
        elif ep == "reset_authorize":
            self._drop_after = drop_after
            self._reset_authorize(arg, body)
        else:
            self._error(404, "no such endpoint", code="NOT_FOUND")

    def _card_entry(self, card):
        """The statuses file's entry for `card` as a dict with a valid
        "status", or None after answering 404/500 itself."""
        try:
            table = self.server.bureau.statuses()
        except (OSError, BadJson) as e:
            self._error(500, "statuses file unreadable: %s" % e)
            return None
        ent = table.get(card) if RE_CARD.match(card) else None
        if isinstance(ent, str):
            ent = {"status": ent}
        if not isinstance(ent, dict) or ent.get("status") not in CARD_STATUSES:
            self._error(404, "card is not known to the bureau")
            return None
        return ent

    def _card_status(self, card):
        ent = self._card_entry(card)
        if ent is None:
            return
        ans = {"card_number": card, "status": ent["status"]}
        if isinstance(ent.get("holder"), str):
            ans["holder"] = ent["holder"]
        self._send(200, ans)

    def _json_body(self, body):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype.lower() != "application/json":
            self._error(422, "Content-Type must be application/json")
            return None
        try:
            return parse_json(body)
        except BadJson as e:
            self._error(422, "body is not valid JSON: %s" % e)
            return None

    def _pin_event(self, body, drop_after):
        b = self.server.bureau
        obj = self._json_body(body)
        if obj is None:
            return
        err = validate_event(obj)
        if err:
            self._error(422, err)
            return
        if obj["terminal_id"] != b.args.terminal_id:
            self._error(422, "terminal_id does not match X-Terminal-Id")
            return
        if self.headers.get("Idempotency-Key") != obj["event_id"]:
            self._error(422, "Idempotency-Key must equal event_id")
            return
        status, answer = b.record(obj)
        if status == 201:
            extra = ""
            if "reset_id" in obj:
                extra = " reset_id=%s reset_known=%s" % (
                    obj["reset_id"], "yes" if b.reset_known(obj["event_id"]) else "NO")
            log("RECORDED seq=%d kind=%s card=%s event_id=%s%s" % (
                obj["seq"], obj["kind"], mask_card(obj["card_number"]),
                obj["event_id"], extra))
        if drop_after:
            self.close_connection = True
            self._finish("DROPPED-AFTER-%d" % status, 0,
                         "fault drop_after_record")
            return
        if status == 409:
            self._error(409, "event_id already recorded with another body")
            return
        self._send(status, answer)

    def _reset_start(self, card, body):
        b = self.server.bureau
        obj = self._json_body(body)
        if obj is None:
            return
        err = validate(obj, RESET_START_FIELDS)
        if err:
            self._error(422, err)
            return
        if obj["terminal_id"] != b.args.terminal_id:
            self._error(422, "terminal_id does not match X-Terminal-Id")
            return
        ent = self._card_entry(card)
        if ent is None:
            return
        if ent["status"] != "active":
            self._error(403, "card is %s: a counter, with an ID card" %
                        ent["status"], code="CARD_NOT_ACTIVE")
            return
        phone = ent.get("phone", DEFAULT_PHONE)
        if phone is None:
            self._error(409, "no phone on file: a counter, with an ID card",
                        code="NO_PHONE_ON_FILE")
            return
        if not isinstance(phone, str) or not RE_PHONE.match(phone):
            self._error(500, "statuses file: phone of %s must be 7..15 "
                        "digits or null" % mask_card(card))
            return
        status, ans, code = b.start_reset(card, phone)
        if status == 429:
            self._error(429, "at most %d resets per card per day" %
                        RESETS_PER_DAY, code="TOO_MANY_RESETS",
                        headers=[("Retry-After", str(ans))])
            return
        # The stand-in's SMS channel: the one place the code is logged.
        log("SMS to %s for card %s: code %s (reset %s)" % (
            ans["phone_masked"], mask_card(card), code, ans["reset_id"]))
        self._send(201, ans)

    def _reset_authorize(self, rid, body):
        b = self.server.bureau
        if not RE_RESET_ID.match(rid):
            self._error(404, "no such reset", code="RESET_NOT_FOUND")
            return
        obj = self._json_body(body)
        if obj is None:
            return
        err = validate(obj, AUTHORIZE_FIELDS)
        if err:
            self._error(422, err)
            return
        status, ans, code, extra = b.authorize(
            rid, obj["sms_code"], obj["card_challenge"])
        if status == 200:
            self._send(200, ans)
            return
        msg = {"RESET_NOT_FOUND": "no such reset",
               "ALREADY_USED": "this reset already produced its command",
               "RESET_VOID": "three wrong codes: the reset is void",
               "EXPIRED": "the code has expired",
               "CODE_INVALID": "wrong code"}[code]
        self._error(status, msg, code=code, extra=extra)

    def _heartbeat(self, terminal, body):
        b = self.server.bureau
        if terminal != b.args.terminal_id:
            self._error(403, "terminal id in path does not match")
            return
        obj = self._json_body(body)
        if obj is None:
            return
        err = validate(obj, HEARTBEAT_FIELDS)
        if err:
            self._error(422, err)
            return
        with b.lock:
            b.heartbeats.append({"at": utc_now(), "body": obj})
            del b.heartbeats[:-MAX_HEARTBEATS_KEPT]
        self._send(204)


# ---------------------------------------------------------------- control

class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, obj):
        raw = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        b = self.server.bureau
        path, _, query = self.path.partition("?")
        if path == "/recorded":
            self._send(200, b.recorded())
            return
        if path == "/resets":
            self._send(200, b.resets_listing())
            return
        if path == "/sms":
            q = urllib.parse.parse_qs(query)
            card = (q.get("card") or [""])[0]
            sms = b.sms(card)
            if sms is None:
                self._send(404, {"error": "no code texted for that card"})
            else:
                self._send(200, sms)
            return
        with b.lock:
            table = {"/faults": b.faults, "/stats": b.stats,
                     "/heartbeats": b.heartbeats}
            obj = copy.deepcopy(table.get(path))
        if obj is None:
            self._send(404, {"error": "GET /faults /recorded /stats "
                             "/heartbeats /resets /sms?card=N"})
        else:
            self._send(200, obj)

    def do_POST(self):
        b = self.server.bureau
        cl = self.headers.get("Content-Length") or "0"
        if self.path not in ("/faults", "/resets"):
            self.close_connection = True
            self._send(404, {"error": "POST /faults or /resets only"})
            return
        if not cl.isdigit() or int(cl) > MAX_REQUEST_BODY:
            self.close_connection = True
            self._send(400, {"error": "bad Content-Length"})
            return
        try:
            update = parse_json(self.rfile.read(int(cl)))
            if self.path == "/resets":
                b.reset_settings(update)
                now = b.resets_listing()
                del now["resets"]
            else:
                with b.lock:
                    b.faults = apply_faults(b.faults, update)
                    now = copy.deepcopy(b.faults)
        except ValueError as e:  # BadJson is a ValueError too
            self._send(400, {"error": str(e)})
            return
        if self.path == "/resets":
            log("control: resets: expires_in_s %d, %d card override(s), "
                "%d card counter(s)" % (now["reset_expires_in_s"],
                                        len(now["per_card_expires_in_s"]),
                                        len(now["counters"])))
        else:
            log("control: faults now %s" % json.dumps(now))
        self._send(200, now)


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, bureau):
        self.bureau = bureau
        super().__init__(addr, ControlHandler)


# ---------------------------------------------------------------- main

def make_ctx(certs, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(certs, cert), os.path.join(certs, key))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(os.path.join(certs, "ca.pem"))
    return ctx


def parse_args(argv):
    p = argparse.ArgumentParser(description="Bureau stand-in (tests only)")
    p.add_argument("--port", type=int, required=True,
                   help="HTTPS port on 127.0.0.1 (0 = any; printed)")
    p.add_argument("--certs", required=True,
                   help="directory from make-certs.sh; logs are written here")
    p.add_argument("--terminal-id", default="GZ-TEST-0001")
    p.add_argument("--statuses", help="JSON {card: status | {status, holder, "
                   "phone}}")
    p.add_argument("--state", help="dedup state file (default CERTS/state.json)")
    p.add_argument("--control", type=int,
                   help="plain-HTTP control port on 127.0.0.1")
    p.add_argument("--reset-expires-in-s", type=int,
                   default=DEFAULT_RESET_EXPIRES_S,
                   help="life of a PIN reset's SMS code (default 300)")
    g = p.add_argument_group("fault switches at start")
    g.add_argument("--fail", metavar="N:STATUS[:RETRY_AFTER]")
    g.add_argument("--delay-ms", type=int, default=0)
    g.add_argument("--drop", type=int, default=0)
    g.add_argument("--drop-after-record", type=int, default=0)
    g.add_argument("--other-ca", action="store_true")
    g.add_argument("--redirect", type=int, default=0)
    g.add_argument("--redirect-location", default="")
    g.add_argument("--huge", type=int, default=0)
    g.add_argument("--malformed", type=int, default=0)
    g.add_argument("--replace-body", metavar="N:JSON")
    g.add_argument("--only", default="", metavar="ENDPOINT",
                   help="faults hit only this endpoint: " + ", ".join(ENDPOINTS))
    a = p.parse_args(argv)
    if not 1 <= a.reset_expires_in_s <= MAX_RESET_EXPIRES_S:
        p.error("--reset-expires-in-s is 1..%d" % MAX_RESET_EXPIRES_S)
    if not RE_TERMINAL.match(a.terminal_id):
        p.error("bad --terminal-id")
    for port in (a.port, a.control):
        if port is not None and not 0 <= port <= 65535:
            p.error("ports are 0..65535")
    upd = {"delay_ms": a.delay_ms, "drop": a.drop,
           "drop_after_record": a.drop_after_record, "other_ca": a.other_ca,
           "redirect": a.redirect, "redirect_location": a.redirect_location,
           "huge": a.huge, "malformed": a.malformed, "only": a.only}
    if a.replace_body:
        n, _, js = a.replace_body.partition(":")
        try:
            upd["replace_body"] = {"count": int(n), "body": json.loads(js)}
        except ValueError:
            p.error("--replace-body is N:JSON")
    if a.fail:
        bits = a.fail.split(":")
        if len(bits) not in (2, 3) or not all(x.isdigit() for x in bits[:2]):
            p.error("--fail is N:STATUS[:RETRY_AFTER]")
        upd["fail"] = {"count": int(bits[0]), "status": int(bits[1]),
                       "retry_after": bits[2] if len(bits) == 3 else None}
    try:
        a.initial_faults = apply_faults(FAULT_DEFAULTS, upd)
    except ValueError as e:
        p.error(str(e))
    return a


def main(argv):
    args = parse_args(argv)
    bureau = Bureau(args)
    bureau.faults = args.initial_faults
    try:
        ctx = make_ctx(args.certs, "server.pem", "server.key")
        other = make_ctx(args.certs, "other-server.pem", "other-server.key")
    except (OSError, ssl.SSLError) as e:
        sys.exit("standin: certificates in %s: %s (run make-certs.sh)" % (
            args.certs, e))
    srv = TlsServer((LOOPBACK, args.port), Handler, bureau, ctx, other)
    log("listening on https://%s:%d terminal=%s" % (
        LOOPBACK, srv.server_address[1], args.terminal_id))
    ctl = None
    if args.control is not None:
        ctl = ControlServer((LOOPBACK, args.control), bureau)
        log("control on http://%s:%d" % (LOOPBACK, ctl.server_address[1]))
        threading.Thread(target=ctl.serve_forever, daemon=True).start()

    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    # A second SIGTERM or ^C (a shell's trap and a terminal both sending
    # one) must not interrupt the shutdown below with a traceback.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    srv.server_close()
    if ctl:
        ctl.shutdown()
        ctl.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
