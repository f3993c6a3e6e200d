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
"""

import argparse
import json
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
