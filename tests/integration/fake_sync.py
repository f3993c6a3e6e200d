#!/usr/bin/python3
"""fake_sync.py - a stand-in for kiosk-sync's card-status socket.

Integration tests run it as the other end of the kiosk's sync socket until
kiosk-sync exists. It speaks docs/sync-protocol.md: one JSON object per line,

    -> {"cmd":"card_status","card_number":"A12345678"}
    <- {"ok":true,"status":"lost","holder":"张*明"}
    <- {"ok":false,"error":"bureau_unreachable"}

Usage:
    fake_sync.py --socket PATH --statuses FILE.json [--delay-ms N]
                 [--unreachable] [--default STATUS]

FILE.json maps card numbers to {"status": ..., "holder": ...} (holder
optional; a bare string is taken as the status). An entry may also carry
"delay_ms" (overrides --delay-ms for that card) or "error" (answered as
{"ok":false,"error":...}). Cards not listed are "unknown" unless --default
names another status. The file is read again for every request, so a test
can change it between steps; a file that cannot be read is answered as
bureau_unreachable.

Prints "fake_sync: listening on PATH" once ready, then one line per request
with the card number masked (A12***678). SIGTERM or SIGINT: removes the
socket and exits 0. Python 3 standard library only.

A forgotten PIN's reset (issue 12, bureau-api.md section 3):

    -> {"cmd":"reset_request","card_number":"A12345678"}
    <- {"ok":true,"reset_id":"r-0001","phone_masked":"138****5678","expires_in_s":300}
    -> {"cmd":"reset_authorize","reset_id":"r-0001","sms_code":"246810",
        "card_challenge":"1122334455667788"}
    <- {"ok":true,"command_apdu":"842C000010..."}

driven by the card's entry in FILE.json: "phone" (the masked phone,
default "138****5678"), "code" (the SMS code it expects, default "246810"),
"expires_in_s" (default 300), "reset_error" (a wire error answered to
reset_request, e.g. "no_phone_on_file") and "authorize_error" (one answered
to every reset_authorize of the card, e.g. "already_used"). A right code
gives the command of the TEST KEY of bureau-api.md section 3 (key =
SHA-256("ssse-test-reset-key:" + card)[:16], command = 842C000010 +
HMAC-SHA256(key, challenge || card)[:16]), once: again is already_used. A
wrong one gives code_invalid with attempts_left 2, then 1, then reset_void
(and the reset is void from then on); past expires_in_s, code_expired; an
unknown reset_id, reset_not_found. Each reset request prints a line naming
the masked card and the reset_id, and then, since it is a test code and the
"SMS" has to reach the test somehow,
    fake_sync: sms code for A12***678: 246810
Nothing else it prints holds a code: authorize lines name the reset_id,
the masked card and the outcome.
"""

import argparse
import hashlib
import hmac
import itertools
import json
import re
import os
import signal
import socketserver
import stat
import sys
import threading
import time

MAX_LINE = 4096
STATUSES = ("active", "lost", "frozen", "cancelled", "unknown")

_print_lock = threading.Lock()


def say(text):
    with _print_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def warn(text):
    with _print_lock:
        sys.stderr.write("fake_sync: " + text + "\n")
        sys.stderr.flush()


def mask_card(card):
    """The kiosk's rule (util/mask.c): three characters each side."""
    if not isinstance(card, str) or len(card) <= 6:
        return "***"
    return card[:3] + "***" + card[-3:]


def load_statuses(path):
    """The statuses file as a dict, or None when it cannot be used."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        warn("cannot read %s: %s" % (path, e))
        return None
    if not isinstance(data, dict):
        warn("%s is not a JSON object" % path)
        return None
    return data


def answer(opts, card):
    """Returns (reply dict, delay in ms, what to print)."""
    if opts.unreachable:
        return {"ok": False, "error": "bureau_unreachable"}, opts.delay_ms, "error=bureau_unreachable"
    table = load_statuses(opts.statuses)
    if table is None:
        return {"ok": False, "error": "bureau_unreachable"}, opts.delay_ms, "error=bureau_unreachable"
    entry = table.get(card)
    if entry is None:
        entry = {"status": opts.default}
    elif isinstance(entry, str):
        entry = {"status": entry}
    elif not isinstance(entry, dict):
        warn("entry for %s is neither an object nor a string" % mask_card(card))
        entry = {"error": "bureau_unreachable"}
    delay = entry.get("delay_ms", opts.delay_ms)
    if not isinstance(delay, int) or delay < 0:
        delay = opts.delay_ms
    if "error" in entry:
        return {"ok": False, "error": str(entry["error"])}, delay, "error=%s" % entry["error"]
    reply = {"ok": True, "status": entry.get("status", "unknown")}
    # Statuses outside the protocol are sent as they are, so a test can check
    # that the kiosk refuses them.
    if entry.get("holder") is not None:
        reply["holder"] = entry["holder"]
    return reply, delay, "status=%s" % reply["status"]


# ---- PIN resets (issue 12) ---------------------------------------------------

RESET_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,63}")
CARD_RE = re.compile(r"[A-Za-z0-9]{1,15}")
RESET_TRIES = 3  # wrong codes before the reset is void (bureau-api.md section 3)

_resets = {}  # reset_id -> {"card", "wrong", "used", "void", "until"}
_resets_lock = threading.Lock()
_reset_ids = itertools.count(1)


def test_command(card, challenge):
    """The reset command of the test key (bureau-api.md section 3), upper-case hex."""
    key = hashlib.sha256(b"ssse-test-reset-key:" + card.encode("ascii")).digest()[:16]
    mac = hmac.new(key, challenge + card.encode("ascii"), hashlib.sha256).digest()[:16]
    return ("842C000010" + mac.hex()).upper()


def card_entry(opts, card):
    """The card's entry as a dict (a bare status string has no reset keys),
    or None when the statuses file cannot be read."""
    table = load_statuses(opts.statuses)
    if table is None:
        return None
    entry = table.get(card)
    return entry if isinstance(entry, dict) else {}


def reset_request(opts, req):
    """Returns (reply, what to print)."""
    card = req.get("card_number")
    if not isinstance(card, str) or not CARD_RE.fullmatch(card):
        return {"ok": False, "error": "bad_request"}, "reset request error=bad_request"
    entry = None if opts.unreachable else card_entry(opts, card)
    if entry is None:
        return ({"ok": False, "error": "bureau_unreachable"},
                "reset request card=%s error=bureau_unreachable" % mask_card(card))
    if entry.get("reset_error"):
        return ({"ok": False, "error": str(entry["reset_error"])},
                "reset request card=%s error=%s" % (mask_card(card), entry["reset_error"]))
    expires = entry.get("expires_in_s", 300)
    reset_id = "r-%04x" % next(_reset_ids)
    with _resets_lock:
        _resets[reset_id] = {"card": card, "wrong": 0, "used": False, "void": False,
                             "until": time.monotonic() + (expires if isinstance(expires, (int, float)) else 300)}
    code = str(entry.get("code", "246810"))
    note = "reset request card=%s reset_id=%s" % (mask_card(card), reset_id)
    # The test's SMS: allowed in the output because it is a test code (documented).
    note += "\nfake_sync: sms code for %s: %s" % (mask_card(card), code)
    return ({"ok": True, "reset_id": reset_id, "phone_masked": entry.get("phone", "138****5678"),
             "expires_in_s": expires}, note)


def reset_authorize(opts, req):
    """Returns (reply, what to print); never prints the code."""
    rid, code, chal = req.get("reset_id"), req.get("sms_code"), req.get("card_challenge")
    if (not isinstance(rid, str) or not RESET_ID_RE.fullmatch(rid)
            or not isinstance(code, str) or not re.fullmatch(r"[0-9]{6}", code)
            or not isinstance(chal, str) or not re.fullmatch(r"[0-9A-Fa-f]{16}", chal)):
        return {"ok": False, "error": "bad_request"}, "reset authorize error=bad_request"
    if opts.unreachable:
        return {"ok": False, "error": "bureau_unreachable"}, "reset authorize reset_id=%s error=bureau_unreachable" % rid
    with _resets_lock:
        r = _resets.get(rid)
        if r is None:
            return {"ok": False, "error": "reset_not_found"}, "reset authorize reset_id=%s error=reset_not_found" % rid
        card = r["card"]
        entry = card_entry(opts, card)
        what = "reset authorize reset_id=%s card=%s " % (rid, mask_card(card))
        reply = None
        if entry is None:
            reply = {"ok": False, "error": "bureau_unreachable"}
        elif entry.get("authorize_error"):
            reply = {"ok": False, "error": str(entry["authorize_error"])}
        elif r["used"]:
            reply = {"ok": False, "error": "already_used"}
        elif r["void"]:
            reply = {"ok": False, "error": "reset_void"}
        elif time.monotonic() > r["until"]:
            reply = {"ok": False, "error": "code_expired"}
        elif not hmac.compare_digest(code, str(entry.get("code", "246810"))):
            r["wrong"] += 1
            left = RESET_TRIES - r["wrong"]
            if left <= 0:
                r["void"] = True
                reply = {"ok": False, "error": "reset_void"}
            else:
                reply = {"ok": False, "error": "code_invalid", "attempts_left": left}
        else:
            r["used"] = True
            return ({"ok": True, "command_apdu": test_command(card, bytes.fromhex(chal))},
                    what + "result=ok")
    return reply, what + "error=%s" % reply["error"]


RESET_COMMANDS = {"reset_request": reset_request, "reset_authorize": reset_authorize}


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        opts = self.server.opts
        while True:
            try:
                line = self.rfile.readline(MAX_LINE + 2)
            except OSError:
                return
            if not line:
                return
            if len(line) > MAX_LINE + 1 or not line.endswith(b"\n"):
                if len(line) > MAX_LINE:
                    self.send({"ok": False, "error": "line_too_long"})
                return
            card, reply, delay, note = None, None, opts.delay_ms, None
            try:
                req = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                req = None
            if (isinstance(req, dict) and req.get("cmd") == "reader"
                    and req.get("state") in ("present", "absent")):
                # The kiosk's report for kiosk-sync's heartbeat.
                say("reader state=%s" % req["state"])
                if not self.send({"ok": True}):
                    return
                continue
            if isinstance(req, dict) and req.get("cmd") == "status":
                # The service screen's question: what the bureau said last.
                say("status")
                if opts.unreachable:
                    reply = {"ok": True, "bureau": "unreachable", "last_error": "fake_sync: unreachable"}
                else:
                    reply = {"ok": True, "bureau": "reachable", "last_error": ""}
                if not self.send(reply):
                    return
                continue
            if isinstance(req, dict) and req.get("cmd") in RESET_COMMANDS:
                reply, note = RESET_COMMANDS[req["cmd"]](opts, req)
                req = None  # the code goes no further than this
                say(note)
                if delay > 0:
                    time.sleep(delay / 1000.0)
                if not self.send(reply):
                    return
                continue
            if (not isinstance(req, dict) or req.get("cmd") != "card_status"
                    or not isinstance(req.get("card_number"), str)):
                reply, note = {"ok": False, "error": "bad_request"}, "error=bad_request"
            else:
                card = req["card_number"]
                reply, delay, note = answer(opts, card)
            say("request card=%s %s" % (mask_card(card), note))
            if delay > 0:
                time.sleep(delay / 1000.0)
            if not self.send(reply):
                return

    def send(self, obj):
        data = (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:
            return False


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = False


def clear_stale(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        sys.exit("fake_sync: %s exists and is not a socket" % path)
    os.unlink(path)


def main():
    ap = argparse.ArgumentParser(description="a stand-in for kiosk-sync's card-status socket")
    ap.add_argument("--socket", required=True, help="UNIX socket path to listen on")
    ap.add_argument("--statuses", required=True, help="JSON file: card number -> {status, holder}")
    ap.add_argument("--delay-ms", type=int, default=0, help="wait this long before each reply")
    ap.add_argument("--unreachable", action="store_true", help="answer every request bureau_unreachable")
    ap.add_argument("--default", default="unknown", help="status of cards not in the file (default: unknown)")
    opts = ap.parse_args()
    if opts.delay_ms < 0:
        ap.error("--delay-ms must not be negative")
    if opts.default not in STATUSES:
        ap.error("--default must be one of " + ", ".join(STATUSES))

    clear_stale(opts.socket)
    old_umask = os.umask(0o177)  # single-threaded here: the socket is born 0600
    try:
        server = Server(opts.socket, Handler)
    finally:
        os.umask(old_umask)
    server.opts = opts
    st = os.stat(opts.socket)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    say("fake_sync: listening on %s" % opts.socket)
    while not done.wait(0.2):
        pass
    server.shutdown()
    server.server_close()
    try:
        now = os.stat(opts.socket)
        if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
            os.unlink(opts.socket)
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
