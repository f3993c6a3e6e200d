"""test_e2e_sync.py - the real kiosk, the real kiosk-sync and the bureau
stand-in together (issue 4, acceptance 2, 3, 4 and 7).

Every test runs harness.Kiosk(sync="real"): the stand-in (tests/bureau/
standin.py) over mutual TLS with certificates made for the test, kiosk-sync
and the kiosk from one kiosk.conf. Nothing here talks to fake_sync.

  a) card status: active goes on; lost, frozen, cancelled and unknown (404)
     end on CARD_REJECTED with their notice, the holder reaching the screen;
     the bureau unreachable (stopped, or 503 for everything) follows the
     offline policy, allow and deny.
  b) the bureau down while 50 journeys complete; back on the same port, all
     50 arrive once each in seq order, the outbox empties, no dead letters.
  c) kiosk-sync killed with SIGKILL mid-delivery and restarted 20 times while
     journeys go on: every event the kiosk wrote is recorded exactly once.
  d) no request body the stand-in received holds a PIN the suite used.

    /usr/bin/python3 tests/integration/run.py -k test_e2e

Environment as harness.py (KIOSK_BIN, KIOSK_SYNC_BIN, KIOSK_TEST_SLOW, ...).
Python standard library only.
"""

import json
import os
import re
import socket
import threading
import time
import unittest
import zlib

from harness import INITIAL_PIN, Kiosk, silent_clients, slow, wait_for

WRONG_PIN = "918273"


def _pins(n, seed):
    """`n` distinct six-digit PINs the kiosk accepts as new PINs (not the
    initial one, no run like 111111 or 123456), fixed for reproducibility."""
    out = []
    x = seed
    while len(out) < n:
        x = (x * 1103515245 + 12345) % (1 << 31)
        pin = "%06d" % (x % 1000000)
        steps = {ord(b) - ord(a) for a, b in zip(pin, pin[1:])}
        if pin != INITIAL_PIN and pin != WRONG_PIN and steps not in ({0}, {1}, {-1}) \
                and pin not in out:
            out.append(pin)
    return out


PINS_B = _pins(50, 20261127)
PINS_C = _pins(100, 4242)
PINS_D = _pins(4, 777)


def suite_pins():
    """Every PIN this suite types anywhere: this file's, and those of
    test_journeys.py and test_sync.py (their module constants)."""
    pins = {INITIAL_PIN, WRONG_PIN} | set(PINS_B) | set(PINS_C) | set(PINS_D)
    for mod in ("test_journeys", "test_sync"):
        try:
            m = __import__(mod)
        except ImportError:
            continue
        for name in ("NEW_PIN", "OTHER_PIN", "WRONG_PIN"):
            if isinstance(getattr(m, name, None), str):
                pins.add(getattr(m, name))
        for cls in vars(m).values():
            v = getattr(cls, "PINS_USED", None) if isinstance(cls, type) else None
            if isinstance(v, (tuple, list)):
                pins.update(p for p in v if isinstance(p, str))
    return {p for p in pins if len(p) >= 4}


UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
UTC_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def pin_hits(raw, pins):
    """[(pin, context)] for every PIN found in `raw` (bytes of raw-bodies.log),
    after blanking what holds digits by design (event ids, times)."""
    text = raw.decode("utf-8", "replace")
    scrub = UTC_RE.sub("<time>", UUID_RE.sub("<uuid>", text))
    hits = []
    for pin in sorted(pins, key=len, reverse=True):
        i = scrub.find(pin)
        if i >= 0:
            hits.append((pin, scrub[max(0, i - 60):i + len(pin) + 20]))
    return hits


def mask(card):
    return card[:3] + "***" + card[-3:]


class OutboxWatcher:
    """Reads every evt-*.json as it appears in the outbox (kiosk-sync deletes
    it once delivered), so a test knows every event the kiosk wrote."""

    def __init__(self, outbox):
        self.outbox = outbox
        self.seen = {}              # file name -> parsed record
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _scan(self):
        try:
            names = os.listdir(self.outbox)
        except FileNotFoundError:
            return
        for name in names:
            if not name.startswith("evt-") or name in self.seen:
                continue
            try:
                with open(os.path.join(self.outbox, name), "rb") as f:
                    rec = json.loads(f.read().decode("utf-8"))
            except (FileNotFoundError, ValueError, UnicodeDecodeError):
                continue   # gone, or not there yet: the file is renamed into place whole
            with self.lock:
                self.seen[name] = rec

    def _run(self):
        while not self.stop.is_set():
            self._scan()
            self.stop.wait(0.002)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self._scan()

    def records(self):
        with self.lock:
            return [self.seen[n] for n in sorted(self.seen)]


class E2ETest(unittest.TestCase):
    maxDiff = None

    def kiosk(self, **kw):
        kw.setdefault("status_timeout_ms", 2000)
        k = Kiosk(self, sync="real", **kw)
        self.addCleanup(lambda: k.close(keep=self.failed_so_far()))
        return k

    def failed_so_far(self):
        result = getattr(getattr(self, "_outcome", None), "result", None)
        for t, _ in getattr(result, "failures", []) + getattr(result, "errors", []):
            if t is self or getattr(t, "test_case", None) is self:
                return True
        return False

    # ---- assertions -----------------------------------------------------------

    def assertState(self, st, state, notice=None):
        self.assertTrue(st.get("ok"), st)
        self.assertEqual((st.get("state"), st.get("notice")), (state, notice), st)

    def bureau_log(self, k):
        with open(k.bureau_out_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def status_answers(self, k, card):
        """The stand-in's HTTP statuses for GET /v1/cards/<card>/status, in order."""
        rx = re.compile(r" GET /v1/cards/%s/status -> (\d+) " % re.escape(mask(card)))
        return [int(m.group(1)) for m in rx.finditer(self.bureau_log(k))]

    def wait_delivered(self, k, n, timeout=30):
        """Waits for an empty outbox and `n` events at the stand-in; returns them."""
        try:
            wait_for(lambda: not [x for x in k.outbox_names() if x.startswith(("evt-", "intent-"))]
                     and len(k.recorded()) >= n, timeout, "%d events delivered" % n)
        except AssertionError as e:
            self.fail("%s (now %d recorded, outbox %r, dead letters %r)\n--- kiosk-sync log (tail)\n%s"
                      % (e, len(k.recorded()), k.outbox_names(), k.dead_letters(),
                         "\n".join(k.sync_log_text().splitlines()[-30:])))
        got = k.recorded()
        self.assertEqual(len(got), n, got)
        return got

    def assertRecordedOnce(self, k, want):
        """`want` (outbox records) arrived at the stand-in once each, in seq order."""
        got = k.recorded()
        ids = [r["event_id"] for r in got]
        self.assertEqual(len(ids), len(set(ids)), "an event recorded twice: %r" % ids)
        seqs = [r["seq"] for r in got]
        self.assertEqual(seqs, sorted(set(seqs)), "seq not strictly increasing at the bureau")
        self.assertEqual(got, sorted(want, key=lambda r: r["seq"]))
        st = k.bureau_stats()
        self.assertEqual((st["recorded"], st["conflicts"]), (len(want), 0), st)
        self.assertEqual(k.dead_letters(), [])
        self.assertEqual([n for n in k.outbox_names() if n.startswith(("evt-", "intent-"))], [])

    def assertNoPinAtBureau(self, k, cards):
        """Acceptance 7: the stand-in's raw bodies hold none of the suite's
        PINs (nor any PIN this kiosk saw), and the search does find what is
        there (each card number of `cards`, a PIN planted in a copy)."""
        pins = suite_pins() | k.pins
        for card in cards:
            # A card number holding a PIN would hide a leak behind a marker.
            self.assertEqual([p for p in pins if p in card], [], card)
        raw = k.raw_bodies()
        self.assertTrue(raw, "the stand-in logged no request body at all")
        for card in cards:
            self.assertIn(('"card_number":"%s"' % card).encode(), raw.replace(b" ", b""),
                          "marker: the card number must be findable in raw-bodies.log")
        planted = raw + b'\n--- planted\n{"x":"%s"}\n' % sorted(pins)[0].encode()
        self.assertEqual([h[0] for h in pin_hits(planted, pins)], [sorted(pins)[0]])
        self.assertEqual(pin_hits(raw, pins), [])
        # Bodies are JSON objects without any member called like a PIN.
        for line in raw.decode("utf-8").split("\n"):
            if not line or line.startswith("--- "):
                continue
            body = json.loads(line)
            self.assertIsInstance(body, dict, line)
            self.assertEqual([key for key in body if "pin" in key.lower()], [], line)

    # ---- the kiosk --------------------------------------------------------------

    def settle(self, k, busy, timeout=5):
        """Polls until the kiosk has left the `busy` state; returns the state."""
        return k.settle(busy, timeout)

    def journey(self, k, card, new_pin, old_pin=INITIAL_PIN):
        k.change_pin(card, old_pin, new_pin)

    def ask_sync(self, k, card):
        """One card-status question straight to kiosk-sync's socket."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(slow(5))
        data = b""
        try:
            s.connect(k.sync_path)
            s.sendall((json.dumps({"cmd": "card_status", "card_number": card}) + "\n").encode())
            while not data.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        self.assertEqual(data.count(b"\n"), 1, data)
        return json.loads(data.decode("utf-8"))


# =============================================================================
class TestE2ECardStatus(E2ETest):
    """Acceptance 2, through kiosk-sync and the bureau's GET /v1/cards/{n}/status."""

    ACTIVE, LOST, FROZEN, CANCELLED, UNKNOWN = ("E20000001", "E20000002", "E20000003",
                                                "E20000004", "E20000005")

    def test_a1_statuses(self):
        # deny: an answer that did not come from the bureau would be
        # OUT_OF_SERVICE here, never ENTER_OLD_PIN or CARD_REJECTED.
        k = self.kiosk(offline_policy="deny", sync_default="unknown",
                       statuses={self.ACTIVE: {"status": "active", "holder": "张*明"},
                                 self.LOST: {"status": "lost", "holder": "张*明"},
                                 self.FROZEN: "frozen",
                                 self.CANCELLED: {"status": "cancelled", "holder": "王*"}})
        k.insert(self.ACTIVE)
        self.assertState(k.wait("ENTER_OLD_PIN"), "ENTER_OLD_PIN")
        k.enter_pin(INITIAL_PIN)
        k.wait("ENTER_NEW_PIN")
        k.enter_pin(PINS_D[0])
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(PINS_D[0])
        k.wait("SUCCESS")
        k.remove()
        k.wait("IDLE")
        for card, notice in ((self.LOST, "card_lost"), (self.FROZEN, "card_frozen"),
                             (self.CANCELLED, "card_cancelled"), (self.UNKNOWN, "card_unknown")):
            with self.subTest(card=card):
                k.insert(card)
                self.assertState(k.wait("CARD_REJECTED"), "CARD_REJECTED", notice)
                k.remove()
                self.assertState(k.wait("IDLE"), "IDLE")
        # Each answer came from the bureau: 200 for the known cards, 404 for the other.
        self.assertEqual({c: self.status_answers(k, c) for c in
                          (self.ACTIVE, self.LOST, self.FROZEN, self.CANCELLED, self.UNKNOWN)},
                         {self.ACTIVE: [200], self.LOST: [200], self.FROZEN: [200],
                          self.CANCELLED: [200], self.UNKNOWN: [404]})
        self.assertEqual([(r["kind"], r["card_number"]) for r in self.wait_delivered(k, 1)],
                         [("pin_changed", self.ACTIVE)])
        self.assertEqual(k.dead_letters(), [])
        self.assertNoPinAtBureau(k, [self.ACTIVE])

    def test_a2_holder_passes_through(self):
        card = "E20000011"
        k = self.kiosk(sync_default="unknown", offline_policy="deny",
                       statuses={card: {"status": "lost", "holder": "张*明"}})
        # kiosk-sync passes the bureau's holder on exactly, and adds none.
        self.assertEqual(self.ask_sync(k, card), {"ok": True, "status": "lost", "holder": "张*明"})
        k.set_statuses({card: "frozen"})
        self.assertEqual(self.ask_sync(k, card), {"ok": True, "status": "frozen"})
        self.assertEqual(self.ask_sync(k, "E20000012"), {"ok": True, "status": "unknown"})
        # And it reaches the screen: the same card and status look the same
        # with the same holder and differ with another or none.
        shots = {}
        for name, entry in (("zhang", {"status": "lost", "holder": "张*明"}),
                            ("none", "lost"),
                            ("zhang2", {"status": "lost", "holder": "张*明"}),
                            ("li", {"status": "lost", "holder": "李*"})):
            k.set_statuses({card: entry})
            k.insert(card)
            self.assertState(k.wait("CARD_REJECTED"), "CARD_REJECTED", "card_lost")
            shots[name] = png_pixels(k.screenshot()["path"])
            k.remove()
            k.wait("IDLE")
        self.assertEqual(shots["zhang"], shots["zhang2"], "the same screen drawn twice differs")
        self.assertNotEqual(shots["zhang"], shots["none"], "the holder is not on the screen")
        self.assertNotEqual(shots["zhang"], shots["li"], "another holder looks the same")
        self.assertNotEqual(shots["none"], shots["li"])

    def test_a3_silent_local_clients(self):
        # Issue 10: other local clients that connect to the sync socket and
        # say nothing (more than the server keeps) must not make the kiosk
        # fall back to its offline policy: deny would show OUT_OF_SERVICE.
        card = "E20000013"
        k = self.kiosk(offline_policy="deny", sync_default="unknown",
                       statuses={card: {"status": "active", "holder": "张*明"}})
        silent = silent_clients(k.sync_path, 40)
        self.addCleanup(lambda: [c.close() for c in silent])
        self.assertGreaterEqual(len(silent), 8)
        for _ in range(2):
            t0 = time.monotonic()
            k.insert(card)
            st = k.wait_any(("ENTER_OLD_PIN", "OUT_OF_SERVICE", "CARD_REJECTED"), timeout=5)
            self.assertState(st, "ENTER_OLD_PIN")
            self.assertLess(time.monotonic() - t0, slow(2.0), "answered after the kiosk's timeout")
            k.remove()
            k.wait("IDLE")
        self.assertEqual(self.status_answers(k, card), [200, 200])

    def unreachable(self, policy):
        """The bureau stopped, then answering 503 to everything: `policy` decides."""
        cards = ["E2100000%d" % i for i in range(1, 4)]
        k = self.kiosk(offline_policy=policy, status_timeout_ms=1500)
        want = ("ENTER_OLD_PIN", None) if policy == "allow" else ("OUT_OF_SERVICE", "bureau_unreachable")
        changed = []

        def attempt(card, pin):
            t0 = time.monotonic()
            k.insert(card)
            st = k.wait_any(("ENTER_OLD_PIN", "OUT_OF_SERVICE", "CARD_REJECTED"), timeout=5)
            took = time.monotonic() - t0
            self.assertEqual((st["state"], st.get("notice")), want, st)
            self.assertLess(took, slow(3), "the policy decided after %.1f s" % took)
            if policy == "allow":
                # The change goes ahead and is recorded for later.
                k.enter_pin(INITIAL_PIN)
                k.wait("ENTER_NEW_PIN")
                k.enter_pin(pin)
                k.wait("CONFIRM_NEW_PIN")
                k.enter_pin(pin)
                k.wait("SUCCESS")
                changed.append(card)
            k.remove()
            self.assertState(k.wait("IDLE"), "IDLE")

        k.stop_bureau()
        attempt(cards[0], PINS_D[1])
        # Decided without the bureau: kiosk-sync was asked (it logs the card
        # masked) but no request reached the stand-in.
        self.assertIn(mask(cards[0]), k.sync_log_text())
        self.assertEqual(self.status_answers(k, cards[0]), [])
        # Back, but every request answered 503 from the first one on.
        k.start_bureau(["--fail", "1000000:503"])
        attempt(cards[1], PINS_D[2])
        self.assertEqual(self.status_answers(k, cards[1]), [503])
        self.assertEqual(k.recorded(), [], "recorded while every request gets 503")
        self.assertLess(k.bureau("/faults")["fail"]["count"], 1000000)
        # Well again: the next card is asked about for real and goes on.
        k.faults(reset=True)
        k.insert(cards[2])
        self.assertState(k.wait("ENTER_OLD_PIN"), "ENTER_OLD_PIN")
        self.assertEqual(self.status_answers(k, cards[2]), [200])
        k.remove()
        k.wait("IDLE")
        # What was changed offline arrives, once, in order.
        got = self.wait_delivered(k, len(changed))
        self.assertEqual([(r["kind"], r["card_number"]) for r in got],
                         [("pin_changed", c) for c in changed])
        self.assertEqual(k.dead_letters(), [])
        return k, changed

    def test_a3_unreachable_deny(self):
        k, changed = self.unreachable("deny")
        self.assertEqual(changed, [])
        self.assertEqual(k.records(), [])

    def test_a4_unreachable_allow(self):
        k, changed = self.unreachable("allow")
        self.assertEqual(len(changed), 2)
        self.assertNoPinAtBureau(k, changed)


def png_pixels(path):
    """The inflated image data of a PNG: equal pictures, equal bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("%s is not a PNG" % path)
    i, idat = 8, b""
    while i + 8 <= len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        if data[i + 4:i + 8] == b"IDAT":
            idat += data[i + 8:i + 8 + n]
        i += 12 + n
    return zlib.decompress(idat)


# =============================================================================
class TestE2EDelivery(E2ETest):

    def test_b_bureau_down_50_journeys(self):
        """Acceptance 3."""
        n = 50
        cards = ["E3%07d" % (i + 1) for i in range(n)]
        k = self.kiosk()
        self.assertEqual(k.recorded(), [])
        port = k.bureau_port
        k.stop_bureau()
        for card, pin in zip(cards, PINS_B):
            self.journey(k, card, pin)
        written = k.records()
        self.assertEqual([(r["kind"], r["card_number"]) for r in written],
                         [("pin_changed", c) for c in cards])
        self.assertEqual(len({r["event_id"] for r in written}), n)
        # kiosk-sync tries while the bureau is away, and keeps everything. It
        # looks at the outbox once a second (DPASS_IDLE_MS): fifty journeys
        # on a quick machine can be over (1.4 s) before its first try.
        wait_for(lambda: "retry" in k.sync_log_text(), 10, "kiosk-sync trying while the bureau is away")
        self.assertEqual(k.dead_letters(), [])
        k.start_bureau()       # same port, same dedup state
        self.assertEqual(k.bureau_port, port)
        self.wait_delivered(k, n, timeout=40)
        self.assertRecordedOnce(k, written)
        time.sleep(1.5)        # a rescan later: still nothing twice
        self.assertRecordedOnce(k, written)
        self.assertNoPinAtBureau(k, cards)

    def test_c_kill9_during_delivery_20_times(self):
        """Acceptance 4."""
        k = self.kiosk(status_timeout_ms=3000)
        watcher = OutboxWatcher(k.outbox)
        self.addCleanup(watcher.close)
        # Slow answers: each request is in flight for 150 ms, where the kills land.
        k.faults(delay_ms=150)
        pins = iter(PINS_C)
        cards = []

        def journey():
            card = "E4%07d" % (len(cards) + 1)
            cards.append(card)
            self.journey(k, card, next(pins))

        def pending():
            return len([n for n in k.outbox_names() if n.startswith("evt-")])

        def post_bodies():
            """The event_id of every POST /v1/pin-events the stand-in received, in order."""
            parts = k.raw_bodies().split(b" POST /v1/pin-events\n")[1:]
            return [json.loads(p.split(b"\n", 1)[0].decode("utf-8"))["event_id"] for p in parts]

        hit = []        # the event in flight at each kill
        for rnd in range(20):
            if rnd % 2 == 0:
                journey()           # events flow while kiosk-sync delivers
            # Some deliveries complete between kills (a file goes only after
            # its answer), so the kills land on different events; one stays
            # pending so that a request is coming.
            start = pending()
            done = min(rnd % 3, max(0, start - 1))
            wait_for(lambda: pending() <= start - done, 10, "%d deliveries (round %d)" % (done, rnd))
            # A request that starts from now on is surely in flight at the kill.
            seen = len(post_bodies())
            deadline = time.monotonic() + slow(10)
            while len(post_bodies()) <= seen:
                if pending() == 0:
                    journey()       # all delivered already: make more to deliver
                self.assertLess(time.monotonic(), deadline, "no delivery starts (round %d)" % rnd)
                time.sleep(0.003)
            time.sleep((rnd % 5) * 0.025)   # 0..100 ms into the 150 ms answer
            hit.append(post_bodies()[-1])
            k.kill9_sync()
            journey()               # kiosk-sync is down: the kiosk goes on
            k.start_sync()
        k.faults(delay_ms=0)
        got = self.wait_delivered(k, len(cards), timeout=40)
        watcher.close()
        written = watcher.records()
        self.assertEqual(len(written), len(cards), "the watcher missed an event file")
        self.assertEqual(sorted(r["card_number"] for r in written), sorted(cards))
        self.assertEqual(len(got), len(written))
        self.assertRecordedOnce(k, written)
        time.sleep(1.5)             # a rescan later: still nothing twice
        self.assertRecordedOnce(k, written)
        self.assertEqual([how for _, how in k.sync_exits].count("kill"), 20)
        # The kills landed on many events, each of which was sent again
        # after its kill and answered by the bureau's dedup, not recorded twice.
        sent = post_bodies()
        self.assertGreaterEqual(len(set(hit)), 5, "kills hit only %r" % sorted(set(hit)))
        for eid in set(hit):
            self.assertGreaterEqual(sent.count(eid), 2, "%s was not sent again after its kill" % eid)
        self.assertGreaterEqual(k.bureau_stats()["replayed"], 1)
        self.assertNoPinAtBureau(k, cards)


# =============================================================================
class TestE2ENoPin(E2ETest):

    def test_d_no_pin_reaches_the_bureau(self):
        """Acceptance 7, over every kind of journey that makes an event."""
        k = self.kiosk()
        changed, blocked = "E50000001", "E50000002"
        # A wrong PIN first, then the right one; then the PIN changed again.
        k.to_old_pin(changed)
        k.enter_pin(WRONG_PIN)
        self.assertState(self.settle(k, "VERIFYING"), "ENTER_OLD_PIN", "wrong_pin")
        k.enter_pin(INITIAL_PIN)
        k.wait("ENTER_NEW_PIN")
        k.enter_pin(PINS_D[3])
        k.wait("CONFIRM_NEW_PIN")
        k.enter_pin(PINS_D[3])
        k.wait("SUCCESS")
        k.remove()
        k.wait("IDLE")
        self.journey(k, changed, PINS_D[0], old_pin=PINS_D[3])
        # A card blocked by a wrong PIN on its last try.
        k.to_old_pin(blocked, INITIAL_PIN, 1)
        k.enter_pin(WRONG_PIN)
        k.wait("CARD_BLOCKED")
        k.remove()
        k.wait("IDLE")
        written = k.records()
        self.assertEqual([(r["kind"], r["card_number"]) for r in written],
                         [("pin_changed", changed), ("pin_changed", changed),
                          ("pin_blocked", blocked)])
        self.wait_delivered(k, 3)
        self.assertRecordedOnce(k, written)
        for pin in (INITIAL_PIN, WRONG_PIN, PINS_D[0], PINS_D[3]):
            self.assertIn(pin, k.pins)
        self.assertNoPinAtBureau(k, [changed, blocked])


if __name__ == "__main__":
    unittest.main()
