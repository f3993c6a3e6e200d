#!/usr/bin/python3
"""Tests of the bureau stand-in itself.  Standard library only.

    python3 tests/bureau/test_standin.py

Generates certificates in a temporary directory, starts standin.py on free
loopback ports, talks to it over mutual TLS and checks concrete answers.
Ends with "N passed, N failed"; exit status 0 only when nothing failed.
"""

import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TID = "GZ-TEST-0001"
EID = "0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10"
PIN_MARKER = "739164"   # a PIN the suite "uses"; must never reach the bureau

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Standin:
    def __init__(self, certs, statuses, state=None):
        self.certs = certs
        self.port = free_port()
        self.cport = free_port()
        cmd = [sys.executable, os.path.join(HERE, "standin.py"),
               "--port", str(self.port), "--certs", certs,
               "--terminal-id", TID, "--statuses", statuses,
               "--control", str(self.cport)]
        if state:
            cmd += ["--state", state]
        self.log = open(os.path.join(certs, "standin.out"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        for _ in range(100):  # bounded: 10 s
            try:
                self.control("GET", "/stats")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("stand-in did not start")

    def control(self, method, path, obj=None):
        c = http.client.HTTPConnection("127.0.0.1", self.cport, timeout=5)
        body = None if obj is None else json.dumps(obj)
        c.request(method, path, body=body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = json.loads(r.read())
        c.close()
        return r.status, data

    def faults(self, **kw):
        st, data = self.control("POST", "/faults", kw)
        assert st == 200, data
        return data

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def client_ctx(certs, cert=True, ca="ca.pem"):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, ca))
    if cert:
        ctx.load_cert_chain(os.path.join(certs, "client.pem"),
                            os.path.join(certs, "client.key"))
    return ctx


def call(s, method, path, obj=None, raw=None, headers=None, ctx=None,
         tid=TID, timeout=10):
    """Returns (status, headers dict, body bytes).  Never follows redirects."""
    ctx = ctx or client_ctx(s.certs)
    c = http.client.HTTPSConnection("localhost", s.port, context=ctx,
                                    timeout=timeout)
    h = {"Content-Type": "application/json"}
    if tid is not None:
        h["X-Terminal-Id"] = tid
    h.update(headers or {})
    if obj is not None:
        raw = json.dumps(obj).encode()
    c.request(method, path, body=raw, headers=h)
    r = c.getresponse()
    body = r.read()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, body)
    c.close()
    return out


def err_code(body):
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def event(**over):
    e = {"event_id": EID, "terminal_id": TID, "seq": 1834,
         "card_number": "A12345678", "kind": "pin_changed",
         "occurred_at": "2026-11-27T08:30:12Z"}
    e.update(over)
    return e


def post_event(s, e, key=None, headers=None, **kw):
    h = {"Idempotency-Key": key or e.get("event_id", "")}
    h.update(headers or {})
    return call(s, "POST", "/v1/pin-events", obj=e, headers=h, **kw)


def raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the kind is asserted by callers
        return e
    return None


# ------------------------------------------------------------------ cases

def t_card_status(s, statuses_path):
    st, _, b = call(s, "GET", "/v1/cards/A12345678/status")
    check(st == 200, "active card 200 (got %d)" % st)
    check(json.loads(b) == {"card_number": "A12345678", "status": "active",
                            "holder": "张*明"}, "active card body %r" % b)
    for card, want in (("B00000001", "lost"), ("C00000002", "frozen"),
                       ("D00000003", "cancelled")):
        st, _, b = call(s, "GET", "/v1/cards/%s/status" % card)
        check(st == 200 and json.loads(b)["status"] == want,
              "%s is %s (got %d %r)" % (card, want, st, b))
        check("holder" not in json.loads(b), "no holder when absent")
    st, _, b = call(s, "GET", "/v1/cards/Z99999999/status")
    check(st == 404 and err_code(b) == "CARD_NOT_FOUND",
          "unknown card 404 CARD_NOT_FOUND (got %d %r)" % (st, b))
    st, _, b = call(s, "GET", "/v1/cards/..%2F/status")
    check(st == 404, "garbage card number 404")
    # re-read per request
    with open(statuses_path) as f:
        table = json.load(f)
    table["Z99999999"] = "active"
    with open(statuses_path, "w") as f:
        json.dump(table, f)
    st, _, b = call(s, "GET", "/v1/cards/Z99999999/status")
    check(st == 200 and json.loads(b)["status"] == "active",
          "statuses file re-read per request (got %d)" % st)


def t_terminal_id(s):
    st, _, b = call(s, "GET", "/v1/cards/A12345678/status", tid="GZ-OTHER-9")
    check(st == 403 and err_code(b) == "TERMINAL_NOT_AUTHORIZED",
          "wrong X-Terminal-Id 403 (got %d %r)" % (st, b))
    st, _, b = call(s, "GET", "/v1/cards/A12345678/status", tid=None)
    check(st == 403, "missing X-Terminal-Id 403 (got %d)" % st)
    st, _, b = post_event(s, event(), tid="GZ-OTHER-9")
    check(st == 403, "pin-event with wrong id 403 (got %d)" % st)


def t_pin_events(s):
    before = len(s.control("GET", "/recorded")[1])
    st, _, b = post_event(s, event())
    check(st == 201, "first event 201 (got %d %r)" % (st, b))
    first = json.loads(b)
    check(first.get("event_id") == EID and
          len(first.get("recorded_at", "")) == 20, "201 body %r" % b)
    st, _, b = post_event(s, event())
    check(st == 200 and json.loads(b) == first,
          "replay 200 with the same answer (got %d %r)" % (st, b))
    st, _, b = post_event(s, event(seq=1835))
    check(st == 409 and err_code(b) == "IDEMPOTENCY_CONFLICT",
          "different body 409 (got %d %r)" % (st, b))
    rec = s.control("GET", "/recorded")[1]
    check(len(rec) == before + 1 and rec[-1] == event(),
          "recorded exactly once (%d)" % len(rec))

    other = "1b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a11"
    bad = [
        ("missing key", {k: v for k, v in event(event_id=other).items()
                         if k != "kind"}, other),
        ("extra key", dict(event(event_id=other), pin=PIN_MARKER), other),
        ("not uuid4", event(event_id="not-a-uuid"), "not-a-uuid"),
        ("uuid v1", event(event_id="1b9a4f52-8e8e-1d55-9f0b-3c2f6d1f7a11"),
         "1b9a4f52-8e8e-1d55-9f0b-3c2f6d1f7a11"),
        ("seq bool", event(event_id=other, seq=True), other),
        ("seq negative", event(event_id=other, seq=-1), other),
        ("seq string", event(event_id=other, seq="1"), other),
        ("bad kind", event(event_id=other, kind="pin_guessed"), other),
        ("bad card", event(event_id=other, card_number="A1234"), other),
        ("bad time", event(event_id=other, occurred_at="2026-13-01T00:00:00Z"),
         other),
        ("local time", event(event_id=other,
                             occurred_at="2026-11-27T08:30:12+08:00"), other),
        ("terminal mismatch", event(event_id=other, terminal_id="GZ-X-1"),
         other),
        ("key mismatch", event(event_id=other), EID),
    ]
    for name, body, key in bad:
        st, _, b = post_event(s, body, key=key)
        check(st == 422 and err_code(b) == "VALIDATION_FAILED",
              "422 for %s (got %d %r)" % (name, st, b))
    for name, raw in (("not json", b"{nope"), ("array", b"[]"),
                      ("dup key", b'{"seq":1,"seq":2}'),
                      ("bad utf8", b'{"a":"\xff"}')):
        st, _, b = call(s, "POST", "/v1/pin-events", raw=raw,
                        headers={"Idempotency-Key": other})
        check(st == 422, "422 for %s (got %d)" % (name, st))
    st, _, b = post_event(s, event(event_id=other),
                          headers={"Content-Type": "text/plain"})
    check(st == 422, "422 for wrong Content-Type (got %d)" % st)
    rec = s.control("GET", "/recorded")[1]
    check(len(rec) == before + 1, "no bad event recorded")
    # the extra-key body reached the stand-in, so the raw log proves the grep
    with open(os.path.join(s.certs, "raw-bodies.log"), "rb") as f:
        raw_log = f.read()
    check(PIN_MARKER.encode() in raw_log, "raw-bodies.log holds raw bodies")
    with open(os.path.join(s.certs, "recorded.jsonl")) as f:
        lines = [json.loads(x) for x in f if x.strip()]
    check(lines and lines[-1] == event(), "recorded.jsonl has the event")


def t_heartbeat(s):
    hb = {"version": "1.4.0", "uptime_s": 86400, "outbox_depth": 0,
          "dead_letters": 0, "reader": "present", "last_event_seq": 1834}
    path = "/v1/terminals/%s/heartbeat" % TID
    st, _, b = call(s, "POST", path, obj=hb)
    check(st == 204 and b == b"", "heartbeat 204 (got %d %r)" % (st, b))
    check(s.control("GET", "/heartbeats")[1][-1]["body"] == hb,
          "heartbeat visible on control port")
    st, _, b = call(s, "POST", path, obj=dict(hb, uptime_s="x"))
    check(st == 422, "bad heartbeat 422 (got %d)" % st)
    st, _, b = call(s, "POST", path, obj={k: v for k, v in hb.items()
                                          if k != "reader"})
    check(st == 422, "heartbeat missing key 422 (got %d)" % st)
    st, _, b = call(s, "POST", "/v1/terminals/GZ-OTHER-9/heartbeat", obj=hb)
    check(st == 403, "heartbeat for another terminal 403 (got %d)" % st)


def t_no_client_cert(s):
    before = s.control("GET", "/stats")[1]
    e = raises(lambda: call(s, "GET", "/v1/cards/A12345678/status",
                            ctx=client_ctx(s.certs, cert=False)))
    check(isinstance(e, (ssl.SSLError, ConnectionError, OSError,
                         http.client.HTTPException)),
          "no client cert: no HTTP response (got %r)" % e)
    after = s.control("GET", "/stats")[1]
    check(after["handshake_failures"] == before["handshake_failures"] + 1 and
          after["requests"] == before["requests"],
          "no client cert counted as handshake failure %r" % after)


def t_faults(s):
    ok = "/v1/cards/A12345678/status"
    # fail N with Retry-After
    s.faults(fail={"count": 2, "status": 503, "retry_after": 7})
    for i in range(2):
        st, h, b = call(s, "GET", ok)
        check(st == 503 and h.get("retry-after") == "7" and
              err_code(b) == "UNAVAILABLE", "fail #%d 503 (got %d %r)" % (i, st, h))
    st, _, _ = call(s, "GET", ok)
    check(st == 200, "after fail count, 200 (got %d)" % st)
    s.faults(fail={"count": 1, "status": 429, "retry_after": None})
    st, h, b = call(s, "GET", ok)
    check(st == 429 and "retry-after" not in h and
          err_code(b) == "RATE_LIMITED", "429 without Retry-After")

    # delay
    s.faults(delay_ms=400)
    t0 = time.monotonic()
    st, _, _ = call(s, "GET", ok)
    dt = time.monotonic() - t0
    check(st == 200 and dt >= 0.4, "delay 400 ms observed (%.3f s)" % dt)
    s.faults(delay_ms=0)

    # drop: no answer, nothing recorded
    e2 = event(event_id="2b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a12", seq=2000)
    s.faults(drop=1)
    err = raises(lambda: post_event(s, e2))
    check(isinstance(err, (http.client.HTTPException, ConnectionError, OSError)),
          "drop: connection closed without answer (%r)" % err)
    rec = s.control("GET", "/recorded")[1]
    check(e2 not in rec, "drop: not recorded")
    st, _, _ = post_event(s, e2)
    check(st == 201, "after drop, 201 (got %d)" % st)

    # drop after record: recorded, answer lost, retry gets 200
    e3 = event(event_id="3b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a13", seq=2001)
    s.faults(drop_after_record=1)
    err = raises(lambda: post_event(s, e3))
    check(err is not None, "drop_after_record: no answer")
    rec = s.control("GET", "/recorded")[1]
    check(rec.count(e3) == 1, "drop_after_record: recorded once")
    st, _, _ = post_event(s, e3)
    check(st == 200, "drop_after_record retry 200 (got %d)" % st)

    # redirect
    s.faults(redirect=1, redirect_location="https://127.0.0.1:1/elsewhere")
    st, h, b = call(s, "GET", ok)
    check(st == 302 and h.get("location") == "https://127.0.0.1:1/elsewhere",
          "redirect 302 with Location (got %d %r)" % (st, h.get("location")))

    # huge
    s.faults(huge=1)
    st, h, b = call(s, "GET", ok, timeout=30)
    check(st == 200 and len(b) == 10 * 1024 * 1024 and
          h.get("content-length") == str(10 * 1024 * 1024),
          "huge answer is 10 MB (got %d bytes)" % len(b))

    # malformed
    s.faults(malformed=1)
    st, _, b = call(s, "GET", ok)
    check(st == 200 and raises(lambda: json.loads(b)) is not None,
          "malformed JSON answer (%r)" % b)
    st, _, b = call(s, "GET", ok)
    check(st == 200 and json.loads(b)["status"] == "active",
          "after malformed, normal")

    # other CA: our client refuses it, the stand-in never sees a body
    before = s.control("GET", "/stats")[1]
    raw_size = os.path.getsize(os.path.join(s.certs, "raw-bodies.log"))
    s.faults(other_ca=True)
    e4 = event(event_id="4b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a14", seq=2002)
    err = raises(lambda: post_event(s, e4))
    check(isinstance(err, ssl.SSLCertVerificationError),
          "other CA: client verification fails (%r)" % err)
    after = s.control("GET", "/stats")[1]
    check(after["bodies"] == before["bodies"] and
          after["requests"] == before["requests"] and
          os.path.getsize(os.path.join(s.certs, "raw-bodies.log")) == raw_size,
          "other CA: no request body received")
    # a client trusting the other CA does get through: the switch is real
    st, _, _ = call(s, "GET", ok, ctx=client_ctx(s.certs, ca="other-ca.pem"))
    check(st == 200, "other CA presented (trusting it works, got %d)" % st)
    s.faults(other_ca=False)
    st, _, _ = call(s, "GET", ok)
    check(st == 200, "other CA off again")

    # control endpoint
    st, f = s.control("GET", "/faults")
    check(st == 200 and f["drop"] == 0 and f["other_ca"] is False and
          f["fail"]["count"] == 0, "GET /faults shows switches %r" % f)
    st, _ = s.control("POST", "/faults", {"drop": -1})
    check(st == 400, "bad fault value 400")
    st, _ = s.control("POST", "/faults", {"explode": 1})
    check(st == 400, "unknown fault switch 400")
    s.faults(drop=5, huge=2)
    f = s.faults(reset=True)
    check(f["drop"] == 0 and f["huge"] == 0, "reset clears switches")


# ------------------------------------------------------- section 3: resets

RE_SMS_LINE = re.compile(
    r"standin: SMS to (\d{3}\*{4}\d{4}) for card ([A-Z0-9]{3}\*{3}[A-Z0-9]{3}): "
    r"code (\d{6}) \(reset (r-[0-9a-f]+)\)$")


def expected_apdu(card, challenge):
    """The test reset command, computed here from bureau-api.md section 3
    without the stand-in's code."""
    key = hashlib.sha256(("ssse-test-reset-key:" + card).encode()).digest()
    mac = hmac.new(key[:16], challenge + card.encode(), "sha256").digest()
    return b"\x84\x2c\x00\x00\x10" + mac[:16]


def start_reset(s, card, tid_body=TID, obj=None, **kw):
    body = {"terminal_id": tid_body} if obj is None else obj
    return call(s, "POST", "/v1/cards/%s/pin-resets" % card, obj=body, **kw)


def authorize(s, rid, code, challenge="1122334455667788", obj=None, **kw):
    body = {"sms_code": code, "card_challenge": challenge} if obj is None \
        else obj
    return call(s, "POST", "/v1/pin-resets/%s/authorize" % rid, obj=body,
                **kw)


def sms_lines(s):
    with open(os.path.join(s.certs, "standin.out"), encoding="utf-8") as f:
        return [m.groups() for m in map(RE_SMS_LINE.search, f) if m]


def texted(s, card):
    st, d = s.control("GET", "/sms?card=" + card)
    return d if st == 200 else None


def reset_entry(s, rid):
    for r in s.control("GET", "/resets")[1]["resets"]:
        if r["reset_id"] == rid:
            return r
    return None


def wrong(code):
    return "%06d" % ((int(code) + 1) % 1000000)


def err_member(body, key):
    try:
        return json.loads(body)["error"].get(key)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def new_reset(s, card):
    """Starts a reset; returns (reset_id, code) or (None, None)."""
    st, _, b = start_reset(s, card)
    if st != 201:
        check(False, "reset for %s started (got %d %r)" % (card, st, b))
        return None, None
    rid = json.loads(b)["reset_id"]
    t = texted(s, card)
    return rid, (t or {}).get("code")


def t_reset_happy(s):
    s.control("POST", "/resets", {"clear_counters": True})
    n_sms = len(sms_lines(s))
    check(texted(s, "A12345678") is None, "/sms 404 before any code")
    st, h, b = start_reset(s, "A12345678")
    ans = json.loads(b) if st == 201 else {}
    check(st == 201 and h.get("content-type") == "application/json",
          "reset start 201 (got %d %r)" % (st, b))
    check(set(ans) == {"reset_id", "phone_masked", "expires_in_s"},
          "reset start members %r" % ans)
    rid = ans.get("reset_id", "")
    check(re.fullmatch(r"r-[0-9a-f]{32}", rid) is not None, "reset_id %r" % rid)
    check(ans.get("phone_masked") == "138****5678" and
          ans.get("expires_in_s") == 300,
          "default phone masked, 300 s (got %r)" % ans)
    lines = sms_lines(s)[n_sms:]
    check(len(lines) == 1 and lines[0][0] == "138****5678" and
          lines[0][1] == "A12***678" and lines[0][3] == rid,
          "one SMS line, phone and card masked: %r" % lines)
    t = texted(s, "A12345678")
    check(t is not None and lines and t == {"code": lines[0][2],
                                            "reset_id": rid},
          "/sms gives the texted code and reset_id: %r" % t)
    code = t["code"]
    st, _, _ = call(s, "GET", "/v1/cards/A12345678/status")
    check(reset_entry(s, rid)["state"] == "pending" and
          "code" not in reset_entry(s, rid) and
          code not in json.dumps(s.control("GET", "/resets")[1]),
          "/resets: pending, without the code")

    chal = secrets.token_bytes(8)
    st, h, b = authorize(s, rid, code, chal.hex())  # lower case
    ans = json.loads(b) if st == 200 else {}
    check(st == 200 and set(ans) == {"command_apdu"},
          "authorize 200 {command_apdu} (got %d %r)" % (st, b))
    apdu = ans.get("command_apdu", "")
    check(re.fullmatch(r"[0-9A-Fa-f]{42}", apdu) is not None,
          "command_apdu is 21 bytes of hex: %r" % apdu)
    check(bytes.fromhex(apdu or "00") == expected_apdu("A12345678", chal),
          "command_apdu = 84 2C 00 00 10 || HMAC (independent computation)")
    check(apdu[:10].upper() == "842C000010", "command header 84 2C 00 00 10")
    check(reset_entry(s, rid)["state"] == "used" and
          reset_entry(s, rid)["used_at"], "/resets: used")

    st, _, b = authorize(s, rid, code, secrets.token_hex(8))
    check(st == 409 and err_code(b) == "ALREADY_USED",
          "second authorize 409 ALREADY_USED (got %d %r)" % (st, b))

    # A card with its own phone; the challenge in upper case.
    st, _, b = start_reset(s, "E00000004")
    check(st == 201 and json.loads(b)["phone_masked"] == "139****1111",
          "phone from the statuses file, masked (got %d %r)" % (st, b))
    rid2 = json.loads(b)["reset_id"]
    chal = bytes.fromhex("A1B2C3D4E5F60718")
    st, _, b = authorize(s, rid2, texted(s, "E00000004")["code"],
                         "A1B2C3D4E5F60718")
    check(st == 200 and bytes.fromhex(json.loads(b)["command_apdu"]) ==
          expected_apdu("E00000004", chal),
          "upper-case challenge, this card's key (got %d %r)" % (st, b))
    # A bare "active" string: the default phone too.
    st, _, b = start_reset(s, "G00000006")
    check(st == 201 and json.loads(b)["phone_masked"] == "138****5678",
          "bare-string active card: default phone (got %d %r)" % (st, b))
    # /sms gives the last code texted for the card.
    rid3, code3 = new_reset(s, "G00000006")
    check(texted(s, "G00000006") == {"code": code3, "reset_id": rid3},
          "/sms: the last code for the card")
    return rid


def t_reset_start_errors(s):
    s.control("POST", "/resets", {"clear_counters": True})
    n_sms = len(sms_lines(s))
    for card, st_want, code_want, what in (
            ("Y99999999", 404, "CARD_NOT_FOUND", "unknown card"),
            ("A1234", 404, "CARD_NOT_FOUND", "malformed card number"),
            ("B00000001", 403, "CARD_NOT_ACTIVE", "lost card"),
            ("C00000002", 403, "CARD_NOT_ACTIVE", "frozen card"),
            ("D00000003", 403, "CARD_NOT_ACTIVE", "cancelled card"),
            ("B00000009", 403, "CARD_NOT_ACTIVE", "lost card, no phone"),
            ("F00000005", 409, "NO_PHONE_ON_FILE", '"phone": null'),
            ("H00000007", 500, "SERVER_ERROR", "bad phone in the file")):
        st, _, b = start_reset(s, card)
        check(st == st_want and err_code(b) == code_want and
              set(json.loads(b)["error"]) == {"code", "message"},
              "reset start, %s: %d %s (got %d %r)" % (
                  what, st_want, code_want, st, b))
    for what, kw in (
            ("terminal_id mismatch", {"tid_body": "GZ-OTHER-9"}),
            ("no terminal_id", {"obj": {}}),
            ("extra member", {"obj": {"terminal_id": TID, "pin": PIN_MARKER}}),
            ("not an object", {"obj": [TID]})):
        st, _, b = start_reset(s, "A12345678", **kw)
        check(st == 422 and err_code(b) == "VALIDATION_FAILED",
              "reset start, %s: 422 (got %d %r)" % (what, st, b))
    st, _, b = call(s, "POST", "/v1/cards/A12345678/pin-resets", raw=b"{no")
    check(st == 422, "reset start, not JSON: 422 (got %d)" % st)
    st, _, b = start_reset(s, "A12345678", tid="GZ-OTHER-9")
    check(st == 403 and err_code(b) == "TERMINAL_NOT_AUTHORIZED",
          "reset start, X-Terminal-Id mismatch: 403 (got %d %r)" % (st, b))
    check(len(sms_lines(s)) == n_sms, "no code texted on any error")
    check(s.control("GET", "/resets")[1]["counters"] == {},
          "refused starts are not counted")


def t_reset_authorize_errors(s):
    s.control("POST", "/resets", {"clear_counters": True})
    for rid in ("r-" + "0" * 32, "r-XYZ", "nope"):
        st, _, b = authorize(s, rid, "123456")
        check(st == 404 and err_code(b) == "RESET_NOT_FOUND",
              "authorize %s: 404 RESET_NOT_FOUND (got %d %r)" % (rid, st, b))

    rid, code = new_reset(s, "A12345678")
    good = {"sms_code": code, "card_challenge": "1122334455667788"}
    for what, obj in (
            ("5 digits", dict(good, sms_code=code[:5])),
            ("7 digits", dict(good, sms_code=code + "1")),
            ("letters", dict(good, sms_code="12a456")),
            ("a number", dict(good, sms_code=int(code))),
            ("full-width digits", dict(good, sms_code="".join(
                chr(0xFF10 + int(c)) for c in code))),
            ("challenge 15 hex", dict(good, card_challenge="112233445566778")),
            ("challenge 17 hex", dict(good, card_challenge="11223344556677889")),
            ("challenge not hex", dict(good, card_challenge="11223344556677GG")),
            ("no challenge", {"sms_code": code}),
            ("no code", {"card_challenge": "1122334455667788"}),
            ("extra member", dict(good, pin=PIN_MARKER)),
            ("array", [code])):
        st, _, b = authorize(s, rid, None, obj=obj)
        check(st == 422 and err_code(b) == "VALIDATION_FAILED",
              "authorize, %s: 422 (got %d %r)" % (what, st, b))
        check(code not in b.decode("utf-8", "replace"),
              "422 message does not echo the code")
    st, _, b = call(s, "POST", "/v1/pin-resets/%s/authorize" % rid,
                    obj=good, headers={"Content-Type": "text/plain"})
    check(st == 422, "authorize, wrong Content-Type: 422 (got %d)" % st)
    check(reset_entry(s, rid)["attempts_left"] == 3 and
          reset_entry(s, rid)["state"] == "pending",
          "malformed bodies cost no attempt")

    # Three wrong codes: 403 with attempts_left 2, then 1, then 410 void.
    for left in (2, 1):
        st, _, b = authorize(s, rid, wrong(code))
        check(st == 403 and err_code(b) == "CODE_INVALID" and
              err_member(b, "attempts_left") == left,
              "wrong code: 403 CODE_INVALID attempts_left %d (got %d %r)" % (
                  left, st, b))
    st, _, b = authorize(s, rid, wrong(code))
    check(st == 410 and err_code(b) == "RESET_VOID",
          "third wrong code: 410 RESET_VOID (got %d %r)" % (st, b))
    st, _, b = authorize(s, rid, code)
    check(st == 410 and err_code(b) == "RESET_VOID",
          "right code after three wrong: still 410 RESET_VOID (got %d)" % st)
    check(reset_entry(s, rid)["state"] == "void", "/resets: void")

    # One wrong code, then the right one: fine.
    rid, code = new_reset(s, "A12345678")
    st, _, b = authorize(s, rid, wrong(code))
    check(st == 403 and err_member(b, "attempts_left") == 2, "one wrong code")
    st, _, b = authorize(s, rid, code)
    check(st == 200, "then the right code: 200 (got %d %r)" % (st, b))

    # Expiry, set to 1 s for one card on the control port.
    st, d = s.control("POST", "/resets", {"card": "G00000006",
                                          "reset_expires_in_s": 1})
    check(st == 200 and d["per_card_expires_in_s"] == {"G00000006": 1},
          "per-card expiry set (got %d %r)" % (st, d))
    st, _, b = start_reset(s, "G00000006")
    check(st == 201 and json.loads(b)["expires_in_s"] == 1,
          "the answer says expires_in_s 1 (got %d %r)" % (st, b))
    rid = json.loads(b)["reset_id"]
    code = texted(s, "G00000006")["code"]
    rid_a, code_a = new_reset(s, "A12345678")  # other cards keep 300 s
    time.sleep(1.3)
    st, _, b = authorize(s, rid, code)
    check(st == 410 and err_code(b) == "EXPIRED",
          "code after expires_in_s: 410 EXPIRED (got %d %r)" % (st, b))
    check(reset_entry(s, rid)["state"] == "expired", "/resets: expired")
    st, _, b = authorize(s, rid_a, code_a)
    check(st == 200, "another card's code still valid (got %d)" % st)
    # The global setting, then both back.
    s.control("POST", "/resets", {"card": "G00000006",
                                  "reset_expires_in_s": None})
    st, d = s.control("POST", "/resets", {"reset_expires_in_s": 1})
    check(st == 200 and d["reset_expires_in_s"] == 1 and
          d["per_card_expires_in_s"] == {}, "global expiry set %r" % d)
    s.control("POST", "/resets", {"clear_counters": True})
    st, _, b = start_reset(s, "E00000004")
    check(st == 201 and json.loads(b)["expires_in_s"] == 1,
          "global expiry applies (got %r)" % b)
    st, d = s.control("POST", "/resets", {"reset_expires_in_s": 300})
    check(st == 200 and d["reset_expires_in_s"] == 300, "expiry back to 300")
    for bad in ({"reset_expires_in_s": 0}, {"reset_expires_in_s": 86401},
                {"reset_expires_in_s": "1"}, {"reset_expires_in_s": None},
                {"card": "A1", "reset_expires_in_s": 1},
                {"card": "A12345678"}, {"clear_counters": 1},
                {"expires": 1}, {}, []):
        st, _ = s.control("POST", "/resets", bad)
        check(st == 400, "POST /resets %r: 400 (got %d)" % (bad, st))


def t_reset_daily_limit(s):
    s.control("POST", "/resets", {"clear_counters": True})
    for i in range(3):
        st, _, b = start_reset(s, "A12345678")
        check(st == 201, "reset %d of the day: 201 (got %d %r)" % (
            i + 1, st, b))
    n_sms = len(sms_lines(s))
    st, h, b = start_reset(s, "A12345678")
    ra = h.get("retry-after", "")
    check(st == 429 and err_code(b) == "TOO_MANY_RESETS",
          "4th reset of the day: 429 TOO_MANY_RESETS (got %d %r)" % (st, b))
    check(ra.isdigit() and 1 <= int(ra) <= 86400,
          "429 with Retry-After in seconds to the next day (%r)" % ra)
    check(len(sms_lines(s)) == n_sms, "no code texted for the 4th")
    check(s.control("GET", "/resets")[1]["counters"]["A12345678"][
        "started"] == 3, "/resets shows the counter")
    st, _, _ = start_reset(s, "E00000004")
    check(st == 201, "the limit is per card (got %d)" % st)
    st, d = s.control("POST", "/resets", {"card": "A12345678",
                                          "clear_counters": True})
    check(st == 200 and "A12345678" not in d["counters"] and
          "E00000004" in d["counters"], "one card's counter cleared %r" % d)
    st, _, _ = start_reset(s, "A12345678")
    check(st == 201, "after clearing the counter: 201 (got %d)" % st)


def t_reset_records(s, used_rid):
    base = {"terminal_id": TID, "seq": 3000, "card_number": "A12345678",
            "occurred_at": "2026-12-02T08:30:12Z"}
    ids = iter("%08x-8e8e-4d55-9f0b-3c2f6d1f7a10" % (0x5b9a4f52 + i)
               for i in range(100))

    def ev(**over):
        e = dict(base, event_id=next(ids))
        e.update(over)
        return e

    known = ev(kind="pin_reset", reset_id=used_rid)
    st, _, b = post_event(s, known)
    check(st == 201, "pin_reset with reset_id: 201 (got %d %r)" % (st, b))
    first = json.loads(b)
    rec = s.control("GET", "/recorded")[1]
    check(rec[-1] == dict(known, reset_known=True),
          "/recorded: pin_reset flagged reset_known true %r" % rec[-1])
    st, _, b = post_event(s, known)
    check(st == 200 and json.loads(b) == first,
          "pin_reset replay: 200, same answer (got %d)" % st)
    st, _, b = post_event(s, dict(known, reset_id="r-" + "e" * 32))
    check(st == 409 and err_code(b) == "IDEMPOTENCY_CONFLICT",
          "same event_id, other reset_id: 409 (got %d)" % st)

    intent = ev(kind="pin_change_unknown", reset_id=used_rid)
    st, _, _ = post_event(s, intent)
    check(st == 201 and s.control("GET", "/recorded")[1][-1] ==
          dict(intent, reset_known=True),
          "pin_change_unknown with reset_id: 201, known (got %d)" % st)
    plain = ev(kind="pin_change_unknown")
    st, _, _ = post_event(s, plain)
    check(st == 201 and s.control("GET", "/recorded")[1][-1] == plain,
          "pin_change_unknown without reset_id: 201, unflagged (got %d)" % st)

    pending, _ = new_reset(s, "E00000004")
    for what, e in (
            ("a reset that made no command", ev(kind="pin_reset",
                                                card_number="E00000004",
                                                reset_id=pending)),
            ("a reset the bureau never started",
             ev(kind="pin_reset", reset_id="r-" + "0" * 32)),
            ("another card's reset", ev(kind="pin_reset",
                                        card_number="E00000004",
                                        reset_id=used_rid))):
        st, _, b = post_event(s, e)
        check(st == 201, "pin_reset for %s: still recorded, 201 (got %d %r)"
              % (what, st, b))
        check(s.control("GET", "/recorded")[1][-1] ==
              dict(e, reset_known=False),
              "pin_reset for %s: flagged reset_known false" % what)
    with open(os.path.join(s.certs, "recorded.jsonl")) as f:
        last = [json.loads(x) for x in f if x.strip()][-1]
    check(last.get("reset_known") is False, "recorded.jsonl carries the flag")
    with open(os.path.join(s.certs, "standin.out")) as f:
        out = f.read()
    check("reset_id=r-%s reset_known=NO" % ("0" * 32) in out,
          "the RECORDED line says reset_known=NO")

    before = len(s.control("GET", "/recorded")[1])
    for what, e in (
            ("pin_reset without reset_id", ev(kind="pin_reset")),
            ("pin_reset, reset_id not r-hex", ev(kind="pin_reset",
                                                 reset_id="7f3a")),
            ("pin_reset, reset_id upper case", ev(kind="pin_reset",
                                                  reset_id="r-7F3A")),
            ("pin_reset, reset_id a number", ev(kind="pin_reset", reset_id=7)),
            ("pin_changed with reset_id", ev(kind="pin_changed",
                                             reset_id=used_rid)),
            ("pin_blocked with reset_id", ev(kind="pin_blocked",
                                             reset_id=used_rid)),
            ("pin_change_unknown, bad reset_id",
             ev(kind="pin_change_unknown", reset_id="")),
            ("pin_reset, extra member", ev(kind="pin_reset",
                                           reset_id=used_rid, sms_code="1"))):
        st, _, b = post_event(s, e)
        check(st == 422 and err_code(b) == "VALIDATION_FAILED",
              "%s: 422 (got %d %r)" % (what, st, b))
    check(len(s.control("GET", "/recorded")[1]) == before,
          "no invalid reset record recorded")


def t_reset_faults(s):
    s.control("POST", "/resets", {"clear_counters": True})
    ok = "/v1/cards/A12345678/status"
    st, _ = s.control("POST", "/faults", {"only": "reset_everything"})
    check(st == 400, "only: unknown endpoint 400")
    st, _ = s.control("POST", "/faults", {"replace_body": {"count": -1}})
    check(st == 400, "replace_body: bad count 400")

    # fail, scoped: the status call is untouched, the authorize gets 503
    # and costs no attempt.
    rid, code = new_reset(s, "A12345678")
    s.faults(only="reset_authorize", fail={"count": 1, "status": 503,
                                           "retry_after": 3})
    st, _, _ = call(s, "GET", ok)
    check(st == 200 and s.control("GET", "/faults")[1]["fail"]["count"] == 1,
          "only: another endpoint neither hit nor consuming (got %d)" % st)
    st, h, b = authorize(s, rid, wrong(code))
    check(st == 503 and h.get("retry-after") == "3" and
          err_code(b) == "UNAVAILABLE", "authorize fail 503 (got %d)" % st)
    check(reset_entry(s, rid)["attempts_left"] == 3,
          "an injected failure costs no attempt")

    # drop on reset start: nothing texted, nothing counted.
    s.faults(reset=True, only="reset_start", drop=1)
    n_sms = len(sms_lines(s))
    err = raises(lambda: start_reset(s, "E00000004"))
    check(err is not None and len(sms_lines(s)) == n_sms and
          "E00000004" not in s.control("GET", "/resets")[1]["counters"],
          "reset start dropped: no answer, no code, not counted (%r)" % err)

    # drop_after_record on reset start: texted and counted, answer lost.
    s.faults(drop_after_record=1)
    err = raises(lambda: start_reset(s, "E00000004"))
    check(err is not None and len(sms_lines(s)) == n_sms + 1 and
          s.control("GET", "/resets")[1]["counters"]["E00000004"][
              "started"] == 1,
          "reset start, answer lost: code texted, counted (%r)" % err)

    # drop_after_record on authorize: the command was made; the retry
    # hears ALREADY_USED.
    s.faults(only="reset_authorize", drop_after_record=1)
    err = raises(lambda: authorize(s, rid, code))
    check(err is not None and reset_entry(s, rid)["state"] == "used",
          "authorize, answer lost: the reset is used (%r)" % err)
    st, _, b = authorize(s, rid, code)
    check(st == 409 and err_code(b) == "ALREADY_USED",
          "retry after the lost answer: 409 (got %d)" % st)

    # replace_body: a 200 whose command is nonsense; errors unaffected.
    s.faults(replace_body={"count": 1, "body": {"command_apdu": "ZZ"}})
    st, _, b = authorize(s, "r-" + "0" * 32, "123456")
    check(st == 404 and s.control("GET", "/faults")[1]["replace_body"][
        "count"] == 1, "replace_body is not spent on an error answer")
    rid, code = new_reset(s, "A12345678")
    st, _, b = authorize(s, rid, code)
    check(st == 200 and json.loads(b) == {"command_apdu": "ZZ"},
          "replace_body: 200 with the given body (got %d %r)" % (st, b))
    s.faults(replace_body={"count": 1, "body": {"command_apdu": "84" * 300}})
    rid, code = new_reset(s, "A12345678")
    st, _, b = authorize(s, rid, code)
    check(st == 200 and len(json.loads(b)["command_apdu"]) == 600,
          "replace_body: an over-long command (got %d)" % st)

    # malformed and huge answers, delay: scoped to reset start.
    s.control("POST", "/resets", {"clear_counters": True})
    s.faults(only="reset_start", malformed=1)
    st, _, b = start_reset(s, "E00000004")
    check(st == 200 and raises(lambda: json.loads(b)) is not None,
          "reset start: malformed answer (%r)" % b)
    s.faults(huge=1)
    st, _, b = start_reset(s, "E00000004", timeout=30)
    check(st == 200 and len(b) == 10 * 1024 * 1024, "reset start: huge answer")
    s.faults(delay_ms=400)
    t0 = time.monotonic()
    call(s, "GET", ok)
    fast = time.monotonic() - t0
    t0 = time.monotonic()
    st, _, _ = start_reset(s, "E00000004")
    slow = time.monotonic() - t0
    check(st == 201 and slow >= 0.4 and fast < 0.4,
          "delay only on the scoped endpoint (%.3f s, %.3f s)" % (slow, fast))
    f = s.faults(reset=True)
    check(f["only"] == "" and f["replace_body"]["count"] == 0,
          "reset clears only and replace_body")


def t_reset_secrecy(s):
    """Each code appears once, on its SMS line, and nowhere else on disk;
    card numbers only masked in the log."""
    codes = [c for _, _, c, _ in sms_lines(s)]
    check(len(codes) >= 10, "codes texted in this run: %d" % len(codes))
    names = ("standin.out", "raw-bodies.log", "recorded.jsonl", "state.json")
    text = {}
    for n in names:
        with open(os.path.join(s.certs, n), encoding="utf-8",
                  errors="replace") as f:
            text[n] = f.read()
    for code in set(codes):
        rx = re.compile(r"(?<![0-9])%s(?![0-9])" % code)
        hits = {n: len(rx.findall(text[n])) for n in names}
        want = codes.count(code)
        check(hits == {"standin.out": want, "raw-bodies.log": 0,
                       "recorded.jsonl": 0, "state.json": 0},
              "code %s only on its SMS line: %r" % (code, hits))
    check('"sms_code":"[redacted]"' in text["raw-bodies.log"].replace(" ", ""),
          "raw-bodies.log keeps authorize bodies, code redacted")
    check(not re.search(r"[A-Z][0-9]{8}", text["standin.out"]),
          "no unmasked card number in the stand-in's log")


def t_curl(s):
    if not shutil.which("curl"):
        print("SKIP: curl not installed")
        return
    c = s.certs
    r = subprocess.run(
        ["curl", "-sS", "-m", "10", "--cacert", os.path.join(c, "ca.pem"),
         "--cert", os.path.join(c, "client.pem"),
         "--key", os.path.join(c, "client.key"),
         "--pinnedpubkey", open(os.path.join(c, "server.pin")).read().strip(),
         "-H", "X-Terminal-Id: " + TID,
         "https://127.0.0.1:%d/v1/cards/A12345678/status" % s.port],
        capture_output=True, timeout=20)
    check(r.returncode == 0 and json.loads(r.stdout)["status"] == "active",
          "curl with pin: %r %r" % (r.stdout, r.stderr))
    r = subprocess.run(
        ["curl", "-sS", "-m", "10", "--cacert", os.path.join(c, "ca.pem"),
         "--cert", os.path.join(c, "client.pem"),
         "--key", os.path.join(c, "client.key"),
         "--pinnedpubkey",
         open(os.path.join(c, "other-server.pin")).read().strip(),
         "https://127.0.0.1:%d/v1/cards/A12345678/status" % s.port],
        capture_output=True, timeout=20)
    check(r.returncode != 0, "curl with the wrong pin fails")


def t_restart_keeps_dedup(certs, statuses, used_rid):
    s = Standin(certs, statuses)
    try:
        st, _, b = post_event(s, event())
        check(st == 200, "after restart, replay still 200 (got %d)" % st)
        st, _, b = post_event(s, event(seq=1))
        check(st == 409, "after restart, conflict still 409 (got %d)" % st)
        if used_rid:
            st, _, b = authorize(s, used_rid, "123456")
            check(st == 409 and err_code(b) == "ALREADY_USED",
                  "after restart, a used reset is still used (got %d)" % st)
            e = event(event_id="6b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a16",
                      kind="pin_reset", reset_id=used_rid, seq=4000)
            st, _, _ = post_event(s, e)
            check(st == 201 and s.control("GET", "/recorded")[1][-1] ==
                  dict(e, reset_known=True),
                  "after restart, its record is still known (got %d)" % st)
        check(texted(s, "A12345678") is None,
              "codes are not kept across a restart")
    finally:
        s.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="standin-test-")
    certs = os.path.join(tmp, "certs")
    try:
        subprocess.run([os.path.join(HERE, "make-certs.sh"), certs, TID],
                       check=True, timeout=60, stdout=subprocess.DEVNULL)
        modes = {f: os.stat(os.path.join(certs, f)).st_mode & 0o777
                 for f in os.listdir(certs)}
        check(all(m == 0o600 for m in modes.values()) and len(modes) == 12,
              "12 cert files, all 0600: %r" % modes)
        statuses = os.path.join(tmp, "statuses.json")
        with open(statuses, "w") as f:
            json.dump({"A12345678": {"status": "active", "holder": "张*明"},
                       "B00000001": "lost", "C00000002": {"status": "frozen"},
                       "D00000003": "cancelled",
                       "E00000004": {"status": "active",
                                     "phone": "13900001111"},
                       "F00000005": {"status": "active", "phone": None},
                       "G00000006": "active",
                       "H00000007": {"status": "active", "phone": "12ab"},
                       "B00000009": {"status": "lost", "phone": None}},
                      f, ensure_ascii=False)
        s = Standin(certs, statuses)
        used = {}
        try:
            for fn in (lambda: t_card_status(s, statuses),
                       lambda: t_terminal_id(s), lambda: t_pin_events(s),
                       lambda: t_heartbeat(s), lambda: t_no_client_cert(s),
                       lambda: t_faults(s),
                       lambda: used.update(rid=t_reset_happy(s)),
                       lambda: t_reset_start_errors(s),
                       lambda: t_reset_authorize_errors(s),
                       lambda: t_reset_daily_limit(s),
                       lambda: t_reset_records(s, used.get("rid")),
                       lambda: t_reset_faults(s),
                       lambda: t_reset_secrecy(s), lambda: t_curl(s)):
                try:
                    fn()
                except Exception as e:  # noqa: BLE001 - report, keep going
                    check(False, "unexpected exception %r" % e)
        finally:
            s.stop()
        t_restart_keeps_dedup(certs, statuses, used.get("rid"))
    finally:
        if failed:
            print("stand-in output kept in " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
