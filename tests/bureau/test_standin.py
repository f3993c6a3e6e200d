#!/usr/bin/python3
"""Tests of the bureau stand-in itself.  Standard library only.

    python3 tests/bureau/test_standin.py

Generates certificates in a temporary directory, starts standin.py on free
loopback ports, talks to it over mutual TLS and checks concrete answers.
Ends with "N passed, N failed"; exit status 0 only when nothing failed.
"""

import http.client
import json
import os
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


def t_restart_keeps_dedup(certs, statuses):
    s = Standin(certs, statuses)
    try:
        st, _, b = post_event(s, event())
        check(st == 200, "after restart, replay still 200 (got %d)" % st)
        st, _, b = post_event(s, event(seq=1))
        check(st == 409, "after restart, conflict still 409 (got %d)" % st)
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
                       "D00000003": "cancelled"}, f, ensure_ascii=False)
        s = Standin(certs, statuses)
        try:
            for fn in (lambda: t_card_status(s, statuses),
                       lambda: t_terminal_id(s), lambda: t_pin_events(s),
                       lambda: t_heartbeat(s), lambda: t_no_client_cert(s),
                       lambda: t_faults(s), lambda: t_curl(s)):
                try:
                    fn()
                except Exception as e:  # noqa: BLE001 - report, keep going
                    check(False, "unexpected exception %r" % e)
        finally:
            s.stop()
        t_restart_keeps_dedup(certs, statuses)
    finally:
        if failed:
            print("stand-in output kept in " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
