"""harness.py - runs the real kiosk headless and drives it through its control socket.

Everything here speaks only the contract in control-protocol.md (plus the
simulation extensions of `card insert` from src/control/ctl_proto.h). A test
makes one Kiosk, which lives in a fresh temp dir:

    k = Kiosk(self, scramble_keypad=True)       # starts fake_sync and the kiosk
    k.insert("A12345678", "123456", 3)
    k.wait("ENTER_OLD_PIN")
    k.type("123456"); k.tap("key.ok")
    ...
    k.close()                                    # usually via addCleanup

close() stops the kiosk with `quit` (it must exit 0 in time), stops fake_sync
and then audits what was written under the temp dir: no PIN the test used may
appear in any file, no unmasked card number in any log, no sanitizer or
valgrind error in the kiosk's log. A failed audit fails the test.

Environment:
    KIOSK_BIN        the kiosk binary (default: <repo>/build/kiosk)
    KIOSK_WRAPPER    a command put in front of it, split like a shell would,
                     e.g. "valgrind --error-exitcode=99 --leak-check=full"
    KIOSK_TEST_SLOW  multiplies every timeout (float, default 1; 10 for valgrind)
    KIOSK_TEST_KEEP  1: keep every temp dir (failed tests always keep theirs)
    KIOSK_SYNC_BIN   kiosk-sync for sync="real" (default build/kiosk-sync, else
                     build/src/syncd/kiosk-sync)
    KIOSK_SYNC_WRAPPER  a command put in front of kiosk-sync, like KIOSK_WRAPPER
    SDL_VIDEODRIVER  default "dummy" (headless)

PC/SC mode: Kiosk(self, pcsc_reader="Virtual PCD 00 00") runs the kiosk with
`[card] backend = pcsc` and that reader filter ("" = the first reader with a
card) against whatever pcscd runs (tests/integration/pcscd.py starts one).
There is no simulated card then: insert() and remove() refuse, and a test
inserts a vcard.py card instead, keeping its files in k.card_dir(name) so
that the audit also reads the card's log (its state file, the card's own
memory with the PIN in clear, is left out).

Real-sync mode: Kiosk(self, sync="real") runs, instead of fake_sync, the
bureau stand-in (tests/bureau/standin.py, over mutual TLS with certificates
from tests/bureau/make-certs.sh) and the real kiosk-sync against it, both
configured from the same kiosk.conf ([bureau] url, ca_file, client_cert,
client_key, timeouts; [sync] retry_base_ms/retry_cap_s short so recovery
after an outage takes seconds). The stand-in's files (certificates, its
statuses file, its dedup state, raw-bodies.log with unmasked card numbers
by design) live in a sibling temp dir, k.bureau_dir, which is NOT audited;
kiosk-sync's log is k.sync_log_path inside k.dir, which is. Statuses work as
with fake_sync: `statuses` maps cards to a status or {status, holder}, and
every other card the test inserts is written into the stand-in's file with
`sync_default` ("unknown" leaves it out: the stand-in then answers 404).
Helpers: stop_sync()/start_sync()/kill9_sync()/restart_sync() for
kiosk-sync, stop_bureau()/start_bureau()/restart_bureau() for the stand-in
(same ports, same --state file, so its dedup survives), bureau() for its
control port (/faults, /recorded, /stats), faults(), recorded(),
raw_bodies(), dead_letters(), sms_code(card). sync=True still means fake_sync.
Both modes together, Kiosk(self, sync="real", pcsc_reader=...), run the
kiosk on pcscd and vcard.py cards with the real kiosk-sync and the stand-in
(test_pcsc.py's resets): note_card() puts a vcard card into the stand-in's
statuses file, since there is no insert() to do it.

Audio: Kiosk(self, audio="disk") runs the kiosk on SDL's disk audio driver,
which writes what would be played (S16 mono at the kiosk's rate) to
k.audio_path, faster than real time (SDL_DISKAUDIODELAY); audio_pcm() reads
it, audio_stats() is `stats`'s "audio" (its state and the sounds queued:
prompts by their clips, tones by name), wait_audio_quiet() waits until
nothing plays, clip_pcm()/prompt_pcm() are the samples a clip's WAV decodes
to (mu-law as SDL_LoadWAV decodes it). Any other string is the driver's
name (audio="nonexistent": no device). Default: SDL's dummy driver.

Python 3 standard library only.
"""

import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
FAKE_SYNC = os.path.join(HERE, "fake_sync.py")
STANDIN = os.path.join(REPO, "tests", "bureau", "standin.py")
MAKE_CERTS = os.path.join(REPO, "tests", "bureau", "make-certs.sh")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

SLOW = float(os.environ.get("KIOSK_TEST_SLOW", "1") or "1")
TERMINAL_ID = "IT-TERM-0001"
INITIAL_PIN = "123456"

RECORD_KEYS = ["event_id", "terminal_id", "seq", "card_number", "kind", "occurred_at"]
# A reset's records (bureau-api.md section 3) carry reset_id before occurred_at.
RESET_KEYS = ["event_id", "terminal_id", "seq", "card_number", "kind", "reset_id", "occurred_at"]
RECORD_KINDS = ("pin_changed", "pin_blocked", "pin_change_unknown", "pin_reset")
RESET_ID_RE = re.compile(r"\A[A-Za-z0-9._-]{1,63}\Z")
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
EVT_NAME_RE = re.compile(r"^(evt|intent)-(\d{12})\.json$")

# Flat override names -> their kiosk.conf section. Anything else goes
# through Kiosk(config={"section": {"key": value}}).
KEY_SECTION = {
    "terminal_id": ("terminal", "id"),
    "fullscreen": ("display", "fullscreen"),
    "width": ("display", "width"),
    "height": ("display", "height"),
    "language": ("ui", "language"),
    "idle_timeout_s": ("ui", "idle_timeout_s"),
    "warning_s": ("ui", "warning_s"),
    "scramble_keypad": ("ui", "scramble_keypad"),
    "pin_length": ("pin", "length"),
    "initial": ("pin", "initial"),
    "profile": ("card", "profile"),
    "offline_policy": ("sync", "offline_policy"),
    "status_timeout_ms": ("sync", "status_timeout_ms"),
    "reset_timeout_ms": ("sync", "reset_timeout_ms"),
    "heartbeat_s": ("sync", "heartbeat_s"),
}

# Patterns in the kiosk's log that mean memory or UB errors.
BAD_LOG_RES = [
    (re.compile(r"AddressSanitizer"), "AddressSanitizer report"),
    (re.compile(r"LeakSanitizer"), "LeakSanitizer report"),
    (re.compile(r"runtime error:"), "UBSan runtime error"),
    (re.compile(r"ERROR SUMMARY: [1-9]"), "valgrind errors"),
]


def slow(seconds):
    """A timeout in seconds, scaled for slow runs (valgrind)."""
    return seconds * SLOW


def wait_for(pred, timeout, what):
    """pred()'s first truthy value within `timeout` (scaled) seconds, else fails."""
    deadline = time.monotonic() + slow(timeout)
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (slow(timeout), what))
        time.sleep(0.02)


def kiosk_bin():
    # A relative KIOSK_BIN is taken from the top of the tree, where make runs.
    return os.path.join(REPO, os.environ.get("KIOSK_BIN") or os.path.join("build", "kiosk"))


def kiosk_command(args):
    """The command line that runs the kiosk with `args`, wrapper included."""
    wrapper = shlex.split(os.environ.get("KIOSK_WRAPPER", ""))
    return wrapper + [kiosk_bin()] + list(args)


def sync_bin():
    """kiosk-sync for sync="real"; a relative KIOSK_SYNC_BIN is taken from the top of the tree."""
    env = os.environ.get("KIOSK_SYNC_BIN")
    if env:
        return os.path.join(REPO, env)
    for rel in ("build/kiosk-sync", "build/src/syncd/kiosk-sync"):
        if os.access(os.path.join(REPO, rel), os.X_OK):
            return os.path.join(REPO, rel)
    return os.path.join(REPO, "build", "kiosk-sync")


def sync_command(args):
    return shlex.split(os.environ.get("KIOSK_SYNC_WRAPPER", "")) + [sync_bin()] + list(args)


def silent_clients(path, n=40, partial_every=0):
    """`n` connections to the UNIX socket `path` that say nothing (every
    `partial_every`-th begins a request line and never ends it), for tests
    of a server's patience. Connections the backlog refuses are left out;
    the caller closes the ones returned."""
    held = []
    for i in range(n):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(0.2)
        try:
            c.connect(path)
            if partial_every and i % partial_every == partial_every - 1:
                c.sendall(b'{"cmd":"card_status","card')
        except OSError:
            c.close()
            continue
        held.append(c)
    return held


def stop_pid(proc, timeout, sig=signal.SIGTERM):
    """Stops `proc` by its pid with `sig`, then SIGKILL if it does not go
    within `timeout` s. Returns (exit status, True if it had to be killed)."""
    killed = False
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            killed = True
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        except ProcessLookupError:
            pass
    return proc.wait(), killed


def kiosk_env():
    env = dict(os.environ)
    env.setdefault("SDL_VIDEODRIVER", "dummy")
    env.setdefault("SDL_AUDIODRIVER", "dummy")
    return env


def conf_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


def png_size(path):
    """(width, height) from a PNG's IHDR, after checking the signature."""
    with open(path, "rb") as f:
        head = f.read(33)
    if len(head) < 33 or head[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("%s is not a PNG (signature %r)" % (path, head[:8]))
    length, kind = struct.unpack(">I4s", head[8:16])
    if kind != b"IHDR" or length != 13:
        raise AssertionError("%s: first chunk is %r (len %d), not IHDR" % (path, kind, length))
    return struct.unpack(">II", head[16:24])


def png_rgb(path):
    """(width, height, rows): a PNG decoded to 8-bit RGB rows, whatever
    encoder wrote it (SDL's and grim's pick different colour types and
    filters, so their bytes differ for one picture)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("%s is not a PNG" % path)
    i, idat, head = 8, [], None
    while i + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", data[i + 8:i + 21])
        elif kind == b"IDAT":
            idat.append(data[i + 8:i + 8 + n])
        i += 12 + n
    if head is None:
        raise AssertionError("%s has no IHDR" % path)
    w, h, depth, ctype, _, _, interlace = head
    bpp = {2: 3, 6: 4}.get(ctype)
    if depth != 8 or bpp is None or interlace:
        raise AssertionError("%s: depth %d, colour type %d, interlace %d: not decoded here"
                             % (path, depth, ctype, interlace))
    raw, stride, prev, rows, o = zlib.decompress(b"".join(idat)), w * bpp, bytearray(w * bpp), [], 0
    for _ in range(h):
        kind, line = raw[o], bytearray(raw[o + 1:o + 1 + stride])
        o += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        rows.append(bytes(line) if bpp == 3 else bytes(v for j, v in enumerate(line) if j % 4 != 3))
    return w, h, rows


def png_same_share(path_a, path_b):
    """The share of pixels two PNGs of one size have equal (0 if the sizes
    differ)."""
    wa, ha, ra = png_rgb(path_a)
    wb, hb, rb = png_rgb(path_b)
    if (wa, ha) != (wb, hb):
        return 0.0
    same = sum(sum(1 for x in range(0, wa * 3, 3) if la[x:x + 3] == lb[x:x + 3]) for la, lb in zip(ra, rb))
    return same / float(wa * ha)


def ulaw_decode(u):
    """G.711 mu-law to a 16-bit sample, as SDL_LoadWAV decodes it."""
    u = ~u & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return 0x84 - t if u & 0x80 else t - 0x84


ULAW_TABLE = [struct.pack("<h", ulaw_decode(u)) for u in range(256)]


def wav_pcm(path):
    """A prompt clip's samples as the kiosk plays them: S16LE mono (mu-law
    decoded; 16-bit PCM as it is). Other formats are not read here."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AssertionError("%s is not a WAV" % path)
    i, fmt, body = 12, None, None
    while i + 8 <= len(data):
        kind, n = data[i:i + 4], struct.unpack("<I", data[i + 4:i + 8])[0]
        if kind == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[i + 8:i + 24])
        elif kind == b"data":
            body = data[i + 8:i + 8 + n]
        i += 8 + n + (n & 1)
    if fmt is None or body is None or fmt[1] != 1:
        raise AssertionError("%s: no mono fmt and data" % path)
    if fmt[0] == 7 and fmt[5] == 8:
        return b"".join(ULAW_TABLE[b] for b in body)
    if fmt[0] == 1 and fmt[5] == 16:
        return body
    raise AssertionError("%s: format %d, %d bits: not read here" % (path, fmt[0], fmt[5]))


def assert_stacks_have_room(t, k, share=0.75):
    """The secret threads' stacks (secrets arena: the card worker's, then
    the code checker's) have been used, and by no more than `share` of
    their size: secmem.c paints them, stats.secrets.stacks reads how deep
    the frames went. Sizes are held to what is used (every byte of them is
    locked memory), so this is what says they are still big enough."""
    stacks = k.ok({"cmd": "stats"})["secrets"]["stacks"]
    t.assertTrue(stacks, "no stack in the secrets arena")
    for st in stacks:
        t.assertGreater(st["used"], 0, stacks)
        t.assertLessEqual(st["used"], share * st["bytes"], stacks)
    return stacks


class KioskError(AssertionError):
    """A failure of the kiosk under test (reported as a test failure)."""


class Conn:
    """One control-socket connection: JSON lines each way."""

    def __init__(self, path, timeout=None):
        self.path = path
        timeout = timeout if timeout is not None else slow(5)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except BlockingIOError:
                # A full listen backlog: a non-blocking UNIX connect says
                # EAGAIN where a blocking one would wait. Wait, boundedly.
                if time.monotonic() > deadline:
                    self.sock.close()
                    raise
                time.sleep(0.005)
            except BaseException:
                self.sock.close()
                raise
        self.buf = b""
        self.events = []     # {"event": ...} lines seen while waiting for a reply
        self.closed = False

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, obj):
        self.send_raw((json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8"))

    def read_line(self, timeout):
        """One line (bytes, without newline); None when the peer closed."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KioskError("no line from the kiosk within %.1f s" % timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise KioskError("no line from the kiosk within %.1f s" % timeout)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def read_json(self, timeout):
        line = self.read_line(timeout)
        if line is None:
            raise KioskError("the kiosk closed the control connection")
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise KioskError("reply is not JSON (%s): %r" % (e, line[:200]))
        if not isinstance(obj, dict):
            raise KioskError("reply is not an object: %r" % line[:200])
        return obj

    def reply(self, timeout):
        """The next reply, setting aside broadcast events."""
        while True:
            obj = self.read_json(timeout)
            if "event" in obj and "ok" not in obj:
                self.events.append(obj)
                continue
            return obj

    def cmd(self, obj, timeout=None):
        self.send(obj)
        return self.reply(timeout if timeout is not None else slow(10))

    def next_event(self, timeout):
        """The next broadcast event (waiting for it)."""
        if self.events:
            return self.events.pop(0)
        while True:
            obj = self.read_json(timeout)
            if "event" in obj:
                return obj


class Kiosk:
    """A kiosk process in its own temp dir, plus fake_sync (unless sync=False)."""

    def __init__(self, test=None, config=None, sync=True, statuses=None,
                 sync_default="active", sync_delay_ms=0, sync_unreachable=False,
                 start=True, pcsc_reader=None, audio=None, **overrides):
        self.test = test
        self.dir = tempfile.mkdtemp(prefix="kiosk-it-", dir="/tmp")
        self.outbox = os.path.join(self.dir, "outbox")
        self.ctl_path = os.path.join(self.dir, "ctl.sock")
        self.sync_path = os.path.join(self.dir, "sync.sock")
        self.conf_path = os.path.join(self.dir, "kiosk.conf")
        self.statuses_path = os.path.join(self.dir, "statuses.json")
        self.log_path = os.path.join(self.dir, "kiosk.log")
        self.sync_out_path = os.path.join(self.dir, "fake_sync.out")
        self.sync_err_path = os.path.join(self.dir, "fake_sync.err")
        # The sound: SDL's dummy driver unless a test listens (see the doc).
        self.audio_path = os.path.join(self.dir, "audio.raw")
        self.env_extra = {}
        if audio == "disk":
            # 4 ms per 512-sample buffer (46 ms of sound): ten times real time.
            self.env_extra = {"SDL_AUDIODRIVER": "disk", "SDL_DISKAUDIOFILE": self.audio_path,
                              "SDL_DISKAUDIODELAY": "4"}
        elif audio:
            self.env_extra = {"SDL_AUDIODRIVER": audio}
        # Files the harness wrote: not audited as kiosk output.
        self.own_files = {self.conf_path, self.statuses_path, self.statuses_path + ".tmp",
                          os.path.join(self.dir, "audio.raw")}
        self.pins = set()
        self.cards = set()
        self.proc = None
        self.sync_proc = None
        self.conn = None
        self.conns = []
        self.exit_statuses = []
        self.closed = False
        self.audit_skip_pins = set()
        # PC/SC mode: no sim card commands; cards are vcard.py processes.
        self.pcsc = pcsc_reader is not None
        self.card_dirs = set()
        # Real-sync mode (see the module doc): stand-in + kiosk-sync.
        if sync not in (True, False, None, "real"):
            raise ValueError("sync must be True (fake_sync), False or \"real\", not %r" % (sync,))
        self.real_sync = sync == "real"
        self.bureau_dir = None
        self.bureau_proc = None
        self.bureau_port = None
        self.bureau_ctl_port = None
        self.bureau_starts = 0
        self.sync_exits = []          # kiosk-sync exit statuses: (status, how it was stopped)
        self.statuses_given = {}
        self.sync_log_path = os.path.join(self.dir, "kiosk-sync.log")
        if self.real_sync:
            self.bureau_dir = tempfile.mkdtemp(prefix="kiosk-it-bureau-", dir="/tmp")
            self.certs_dir = os.path.join(self.bureau_dir, "certs")
            self.statuses_path = os.path.join(self.bureau_dir, "statuses.json")
            self.bureau_state_path = os.path.join(self.bureau_dir, "state.json")
            self.bureau_out_path = os.path.join(self.bureau_dir, "standin.out")
            self.raw_bodies_path = os.path.join(self.certs_dir, "raw-bodies.log")

        self.sections = {
            "terminal": {"id": TERMINAL_ID},
            "display": {"fullscreen": False, "width": 1024, "height": 768},
            "ui": {},
            "pin": {},
            "card": ({"backend": "pcsc", "reader": pcsc_reader} if self.pcsc
                     else {"backend": "sim"}),
            "outbox": {"dir": self.outbox},
            "sync": {"socket": self.sync_path},
            "control": {"socket": self.ctl_path},
        }
        if self.real_sync:
            # Short limits, so that a test of an outage takes seconds; the
            # url is filled in once the stand-in has its port.
            self.sections["sync"].update({"retry_base_ms": 200, "retry_cap_s": 2})
            self.sections["bureau"] = {
                "url": "", "ca_file": os.path.join(self.certs_dir, "ca.pem"),
                "client_cert": os.path.join(self.certs_dir, "client.pem"),
                "client_key": os.path.join(self.certs_dir, "client.key"),
                "connect_timeout_s": 2, "timeout_s": 5}
        for k, v in overrides.items():
            if k not in KEY_SECTION:
                raise TypeError("unknown Kiosk override %r (use config={section: {key: value}})" % k)
            sec, key = KEY_SECTION[k]
            self.sections[sec][key] = v
        for sec, kv in (config or {}).items():
            self.sections.setdefault(sec, {}).update(kv)
        initial = self.sections["pin"].get("initial", INITIAL_PIN)
        for p in str(conf_value(initial)).split(","):
            self.note_pin(p.strip())
        self.write_config()

        self.want_sync = sync
        self.sync_default = sync_default
        self.sync_delay_ms = sync_delay_ms
        self.sync_unreachable = sync_unreachable
        self.set_statuses(statuses or {})
        try:
            if self.real_sync:
                self.make_certs()
                self.start_bureau()
                self.start_sync()
            elif sync:
                self.start_sync()
            if start:
                self.start()
        except BaseException:
            self.close(audit=False)
            raise

    # ---- bookkeeping ------------------------------------------------------------

    def note_pin(self, pin):
        if pin and len(pin) >= 4:
            self.pins.add(str(pin))

    def note_card(self, card):
        """A card number the audit looks for. In real-sync mode a new one also
        goes into the stand-in's statuses file (with sync_default), as insert()
        does for the simulated card: in PC/SC mode a test notes its vcard.py
        card's number before inserting it, and the kiosk asks the bureau."""
        if not card:
            return
        new = str(card) not in self.cards
        self.cards.add(str(card))
        if new and self.real_sync and hasattr(self, "sync_default"):
            self._write_statuses()

    def card_dir(self, name):
        """A dir under the kiosk's temp dir for one test card's files
        (pcscd.VCard(workdir=...)): its log is audited like the kiosk's, its
        memory (card.json and vcard's .vcard-*.tmp while it writes) is not."""
        if not re.match(r"^[A-Za-z0-9_-]+$", name):
            raise ValueError("card dir name %r" % name)
        path = os.path.join(self.dir, "card-" + name)
        os.makedirs(path, mode=0o700, exist_ok=True)
        self.card_dirs.add(path)
        return path

    def _card_memory(self, path):
        name = os.path.basename(path)
        return (os.path.dirname(path) in self.card_dirs
                and (name == "card.json" or (name.startswith(".vcard-") and name.endswith(".tmp"))))

    def fail(self, msg):
        raise KioskError(msg + "\n--- kiosk log (tail) ---\n" + self.log_tail())

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    # ---- files ------------------------------------------------------------------

    def write_config(self, path=None):
        lines = ["; written by tests/integration/harness.py"]
        for sec, kv in self.sections.items():
            if not kv:
                continue
            lines.append("[%s]" % sec)
            for k, v in kv.items():
                lines.append("%s = %s" % (k, conf_value(v)))
        with open(path or self.conf_path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def set_statuses(self, statuses):
        """Rewrites the statuses file; fake_sync (or the stand-in) reads it for each request."""
        for card in statuses:
            self.note_card(card)
        self.statuses_given = dict(statuses)
        self._write_statuses()

    def _write_statuses(self):
        data = self.statuses_given
        if self.real_sync:
            # The stand-in has no default: every card the test has used
            # gets sync_default, unless the test named it (or "unknown": 404).
            data = {}
            if self.sync_default != "unknown":
                data = {c: self.sync_default for c in sorted(self.cards)}
            data.update(self.statuses_given)
        tmp = self.statuses_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        os.rename(tmp, self.statuses_path)

    # ---- processes --------------------------------------------------------------

    def start_sync(self):
        """Starts fake_sync, or in real-sync mode kiosk-sync."""
        if self.real_sync:
            return self._start_real_sync()
        args = [PYTHON, FAKE_SYNC, "--socket", self.sync_path, "--statuses", self.statuses_path,
                "--default", self.sync_default, "--delay-ms", str(self.sync_delay_ms)]
        if self.sync_unreachable:
            args.append("--unreachable")
        out = open(self.sync_out_path, "ab")
        err = open(self.sync_err_path, "ab")
        try:
            self.sync_proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        finally:
            out.close()
            err.close()
        deadline = time.monotonic() + slow(10)
        while time.monotonic() < deadline:
            with open(self.sync_out_path, "rb") as f:
                if b"listening on" in f.read():
                    return
            if self.sync_proc.poll() is not None:
                break
            time.sleep(0.01)
        raise KioskError("fake_sync did not start: %s" % open(self.sync_err_path).read())

    def start(self, extra_args=()):
        """Starts the kiosk; returns when it answers `state` with frames >= 1."""
        assert self.proc is None or self.proc.poll() is not None, "kiosk already running"
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(kiosk_command(["--config", self.conf_path] + list(extra_args)),
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=dict(kiosk_env(), **self.env_extra), cwd=self.dir)
        finally:
            log.close()
        deadline = time.monotonic() + slow(15)
        conn = None
        while conn is None:
            if self.proc.poll() is not None:
                status = self.proc.returncode
                self.exit_statuses.append(status)
                self.proc = None
                self.fail("the kiosk exited during start-up with status %s" % status)
            if time.monotonic() > deadline:
                self.fail("no control socket at %s after %.0f s" % (self.ctl_path, slow(15)))
            try:
                conn = Conn(self.ctl_path)
            except OSError:
                time.sleep(0.01)
        self.conn = conn
        while True:
            st = self.cmd({"cmd": "state"})
            if st.get("ok") and st.get("frames", 0) >= 1:
                break
            if time.monotonic() > deadline:
                self.fail("no first frame: %r" % st)
            time.sleep(0.01)
        return st

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _drop_conns(self):
        for c in [self.conn] + self.conns:
            if c is not None:
                c.close()
        self.conn = None
        self.conns = []

    def stop(self, timeout=10):
        """Sends quit; the kiosk must exit with status 0 within `timeout` (scaled)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                r = self.cmd({"cmd": "quit"}, timeout=slow(5))
                if not r.get("ok"):
                    raise KioskError("quit answered %r" % r)
            except (OSError, KioskError) as e:
                self._kill()
                self._drop_conns()
                self.fail("quit failed: %s" % e)
            try:
                self.proc.wait(slow(timeout))
            except subprocess.TimeoutExpired:
                self._kill()
                self._drop_conns()
                self.fail("the kiosk did not exit within %.0f s of quit" % slow(timeout))
        self._drop_conns()
        status = self.proc.returncode
        self.exit_statuses.append(status)
        self.proc = None
        if status != 0:
            self.fail("the kiosk exited with status %s after quit" % status)

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(slow(10))
            except subprocess.TimeoutExpired:
                pass

    def kill9(self):
        """SIGKILL, no questions asked (a power cut as far as the kiosk knows)."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(slow(10))
        self.exit_statuses.append(self.proc.returncode)
        self.proc = None
        self._drop_conns()

    def restart(self):
        """quit (if running) and start again on the same dir and outbox."""
        if self.running():
            self.stop()
        self.proc = None
        self._drop_conns()
        return self.start()

    def stop_sync(self):
        """Stops fake_sync, or in real-sync mode kiosk-sync (SIGTERM by pid;
        a kiosk-sync that does not exit 0 is reported by close())."""
        if self.real_sync:
            return self._stop_real_sync(signal.SIGTERM)
        if self.sync_proc is not None:
            if self.sync_proc.poll() is None:
                self.sync_proc.terminate()
                try:
                    self.sync_proc.wait(slow(5))
                except subprocess.TimeoutExpired:
                    self.sync_proc.kill()
                    self.sync_proc.wait()
            self.sync_proc = None

    # ---- real-sync mode: the bureau stand-in and kiosk-sync ---------------------

    def _need_real(self, what):
        if not self.real_sync:
            raise KioskError("%s needs Kiosk(sync=\"real\")" % what)

    def make_certs(self):
        """CA, server and client certificates for this kiosk's terminal id."""
        self._need_real("make_certs")
        r = subprocess.run(["sh", MAKE_CERTS, self.certs_dir, self.sections["terminal"]["id"]],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=slow(30))
        if r.returncode != 0:
            raise KioskError("make-certs.sh failed (%s): %s"
                             % (r.returncode, r.stderr.decode("utf-8", "replace")))

    def start_bureau(self, extra_args=()):
        """Starts the stand-in: free ports the first time, the same ports and
        --state file on every later start. `extra_args`: its fault flags to
        start with (e.g. ["--fail", "1000:503"]), in force before the first
        request. Returns when it listens."""
        self._need_real("start_bureau")
        assert self.bureau_proc is None, "the stand-in is already running"
        first = self.bureau_port is None
        try:
            start_at = os.path.getsize(self.bureau_out_path)
        except FileNotFoundError:
            start_at = 0
        args = [PYTHON, STANDIN, "--port", str(0 if first else self.bureau_port),
                "--control", str(0 if first else self.bureau_ctl_port),
                "--certs", self.certs_dir, "--terminal-id", self.sections["terminal"]["id"],
                "--statuses", self.statuses_path, "--state", self.bureau_state_path] + list(extra_args)
        out = open(self.bureau_out_path, "ab")
        try:
            self.bureau_proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                                stderr=subprocess.STDOUT)
        finally:
            out.close()
        self.bureau_starts += 1
        deadline = time.monotonic() + slow(15)
        https = ctl = None
        while https is None or ctl is None:
            with open(self.bureau_out_path, "rb") as f:
                f.seek(start_at)
                text = f.read().decode("utf-8", "replace")
            for m in re.finditer(r"listening on https://127\.0\.0\.1:(\d+)", text):
                https = int(m.group(1))
            for m in re.finditer(r"control on http://127\.0\.0\.1:(\d+)", text):
                ctl = int(m.group(1))
            if https is not None and ctl is not None:
                break
            if self.bureau_proc.poll() is not None or time.monotonic() > deadline:
                status = self.bureau_proc.poll()
                self.stop_bureau()
                raise KioskError("the bureau stand-in did not start (status %s):\n%s" % (status, text))
            time.sleep(0.01)
        if not first and (https, ctl) != (self.bureau_port, self.bureau_ctl_port):
            raise KioskError("the stand-in came back on %s/%s, not %s/%s"
                             % (https, ctl, self.bureau_port, self.bureau_ctl_port))
        self.bureau_port, self.bureau_ctl_port = https, ctl
        if first:
            self.sections["bureau"]["url"] = "https://127.0.0.1:%d" % https
            self.write_config()

    def stop_bureau(self):
        """Stops the stand-in by its pid (SIGTERM; SIGKILL if it lingers)."""
        if self.bureau_proc is not None:
            stop_pid(self.bureau_proc, slow(5))
            self.bureau_proc = None

    def restart_bureau(self, extra_args=()):
        self.stop_bureau()
        self.start_bureau(extra_args)

    def bureau_running(self):
        return self.bureau_proc is not None and self.bureau_proc.poll() is None

    def _sync_socket_id(self):
        try:
            st = os.lstat(self.sync_path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_ctime_ns)

    def _start_real_sync(self):
        assert self.sync_proc is None, "kiosk-sync is already running"
        before = self._sync_socket_id()
        log = open(self.sync_log_path, "ab")
        try:
            self.sync_proc = subprocess.Popen(sync_command(["--config", self.conf_path]),
                                              stdin=subprocess.DEVNULL, stdout=log,
                                              stderr=subprocess.STDOUT, cwd=self.dir)
        finally:
            log.close()
        # Ready once it has made its socket anew (one left by a kill -9 is
        # stale); connecting to check would tie up its one-at-a-time server.
        deadline = time.monotonic() + slow(10)
        while True:
            now = self._sync_socket_id()
            if now is not None and now != before:
                return
            if self.sync_proc.poll() is not None:
                status = self.sync_proc.returncode
                self.sync_exits.append((status, "died"))
                self.sync_proc = None
                raise KioskError("kiosk-sync exited during start-up with status %s:\n%s"
                                 % (status, self.sync_log_text()[-3000:]))
            if time.monotonic() > deadline:
                raise KioskError("kiosk-sync made no socket at %s within %.0f s:\n%s"
                                 % (self.sync_path, slow(10), self.sync_log_text()[-3000:]))
            time.sleep(0.005)

    def _stop_real_sync(self, sig):
        if self.sync_proc is None:
            return None
        p, self.sync_proc = self.sync_proc, None
        if p.poll() is not None:
            self.sync_exits.append((p.returncode, "died"))
            return p.returncode
        status, killed = stop_pid(p, slow(10), sig)
        how = "kill" if sig == signal.SIGKILL else ("term-timeout" if killed else "term")
        self.sync_exits.append((status, how))
        return status

    def kill9_sync(self):
        """SIGKILL to kiosk-sync (its socket file stays behind, stale)."""
        self._need_real("kill9_sync")
        return self._stop_real_sync(signal.SIGKILL)

    def restart_sync(self, kill=True):
        """kiosk-sync killed with SIGKILL (or stopped with SIGTERM) and started again."""
        self._need_real("restart_sync")
        self._stop_real_sync(signal.SIGKILL if kill else signal.SIGTERM)
        self._start_real_sync()

    def sync_running(self):
        return self.sync_proc is not None and self.sync_proc.poll() is None

    def sync_log_text(self):
        try:
            with open(self.sync_log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def bureau(self, path, body=None, timeout=5):
        """GET (or POST `body` as JSON) on the stand-in's control port; the parsed answer."""
        self._need_real("bureau")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.bureau_ctl_port, path),
                                     data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=slow(timeout)) as r:
            return json.loads(r.read().decode("utf-8"))

    def sms_code(self, card):
        """The last code the stand-in texted for `card` (its control port's
        /sms), noted as a secret for the audit; None if it texted none."""
        try:
            got = self.bureau("/sms?card=%s" % card)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise
        self.note_pin(got["code"])
        return got["code"]

    def faults(self, **switches):
        """POST /faults (merged into the stand-in's switches); the switches now."""
        return self.bureau("/faults", switches)

    def recorded(self):
        """The event bodies the stand-in recorded, in recording order."""
        return self.bureau("/recorded")

    def bureau_stats(self):
        return self.bureau("/stats")

    def raw_bodies(self):
        """raw-bodies.log: every request body the stand-in received (b"" if none)."""
        self._need_real("raw_bodies")
        try:
            with open(self.raw_bodies_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def dead_letters(self):
        d = self.outbox + ".dead"
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def close(self, audit=True, keep=False):
        """Stops everything, then audits the files. Raises on any failure.
        `keep`: leave the temp dir (the test failed and someone will look)."""
        if self.closed:
            return
        self.closed = True
        problems = []
        try:
            if self.running():
                self.stop()
            elif self.proc is not None:
                # It died on its own: that is a failure unless the test killed it.
                self.exit_statuses.append(self.proc.returncode)
                problems.append("the kiosk died on its own with status %s" % self.proc.returncode)
                self.proc = None
        except AssertionError as e:
            problems.append(str(e))
        finally:
            self._kill()
            self._drop_conns()
            self.stop_sync()
            if self.real_sync:
                self.stop_bureau()
        if self.real_sync:
            for status, how in self.sync_exits:
                if how == "term" and status != 0:
                    problems.append("kiosk-sync exited with status %s after SIGTERM" % status)
                elif how == "term-timeout":
                    problems.append("kiosk-sync did not exit within %.0f s of SIGTERM" % slow(10))
                elif how == "died":
                    problems.append("kiosk-sync died on its own with status %s" % status)
        if audit:
            problems.extend(self.audit())
        keep = keep or bool(problems) or os.environ.get("KIOSK_TEST_KEEP") == "1"
        where = self.dir + (" and %s" % self.bureau_dir if self.bureau_dir else "")
        if not keep:
            self._remove_dir()
        elif not problems:
            sys.stderr.write("(kiosk files kept in %s)\n" % where)
        if problems:
            raise KioskError("\n".join(problems) + "\n(files kept in %s)" % where)

    def _remove_dir(self):
        for top in (self.dir, self.bureau_dir):
            if top:
                self._remove_tree(top)

    def _remove_tree(self, top):
        for root, dirs, files in os.walk(top, topdown=False):
            for name in files:
                try:
                    os.unlink(os.path.join(root, name))
                except OSError:
                    pass
            for name in dirs:
                try:
                    os.rmdir(os.path.join(root, name))
                except OSError:
                    pass
        try:
            os.rmdir(top)
        except OSError:
            pass

    # ---- the audit ----------------------------------------------------------------

    def audit(self):
        """Problems found in what the kiosk (and fake_sync) wrote; [] if none."""
        problems = []
        logs = [("kiosk", self.log_text())]
        if self.real_sync:
            logs.append(("kiosk-sync", self.sync_log_text()))
        for who, log in logs:
            for rx, what in BAD_LOG_RES:
                m = rx.search(log)
                if m:
                    start = max(0, log.rfind("\n", 0, m.start()) - 2000)
                    problems.append("%s in the %s log:\n%s" % (what, who, log[start:m.end() + 2000]))
        pins = sorted(self.pins - self.audit_skip_pins, key=len, reverse=True)
        cards = sorted(self.cards, key=len, reverse=True)
        for root, dirs, files in os.walk(self.dir):
            for name in files:
                path = os.path.join(root, name)
                if path in self.own_files or name.endswith(".png") or self._card_memory(path):
                    # PNGs are compressed pixels: a byte search means nothing there.
                    continue
                if not os.path.isfile(path) or os.path.islink(path):
                    continue
                try:
                    with open(path, "rb") as f:
                        text = f.read().decode("utf-8", "replace")
                except OSError as e:
                    problems.append("cannot read %s: %s" % (path, e))
                    continue
                rel = os.path.relpath(path, self.dir)
                # Dead letters (kiosk-sync's "<outbox>.dead") are records too.
                in_outbox = (path.startswith(self.outbox + os.sep)
                             or path.startswith(self.outbox + ".dead" + os.sep))
                is_record = in_outbox and (name.startswith("evt-") or name.startswith("intent-"))
                if not is_record:
                    for card in cards:
                        if card in text:
                            problems.append("unmasked card number %s in %s" % (card, rel))
                # Blank what legitimately holds digits before looking for PINs:
                # the card numbers (bureau contract), and in records the
                # event_id and the time (checked by records()); in logs the
                # valgrind/ASan pid prefixes and hex addresses.
                scrub = text
                for card in cards:
                    scrub = scrub.replace(card, "<card>")
                if in_outbox:
                    scrub = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", scrub)
                    scrub = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "<time>", scrub)
                else:
                    scrub = re.sub(r"==\d+==", "==pid==", scrub)
                    scrub = re.sub(r"0x[0-9A-Fa-f]+", "0x?", scrub)
                for pin in pins:
                    if pin in scrub:
                        i = scrub.find(pin)
                        problems.append("a PIN the test used (%d digits) is in %s: ...%r..."
                                        % (len(pin), rel, scrub[max(0, i - 60):i + len(pin) + 20]
                                           .replace(pin, "<PIN>")))
        return problems

    # ---- commands -------------------------------------------------------------------

    def connect(self):
        """A new control connection (closed at teardown)."""
        c = Conn(self.ctl_path)
        self.conns.append(c)
        return c

    def cmd(self, obj, timeout=None, conn=None):
        """Sends one request and returns the reply (a dict)."""
        if obj.get("cmd") == "type" and isinstance(obj.get("digits"), str):
            self.note_pin(obj["digits"])
        if obj.get("cmd") == "card" and isinstance(obj.get("pin"), str):
            self.note_pin(obj["pin"])
        if obj.get("cmd") == "card" and isinstance(obj.get("card_number"), str):
            self.note_card(obj["card_number"])
        c = conn or self.conn
        if c is None:
            raise KioskError("no control connection (kiosk not running?)")
        try:
            return c.cmd(obj, timeout)
        except KioskError as e:
            self.fail("%s (request %s)" % (e, obj.get("cmd")))

    def ok(self, obj, **kw):
        """cmd() that must answer ok:true."""
        r = self.cmd(obj, **kw)
        if r.get("ok") is not True:
            self.fail("%s answered %r (state now %r)" % (obj.get("cmd"), r, self.state_or_none()))
        return r

    def state_or_none(self):
        try:
            return self.conn.cmd({"cmd": "state"}, slow(2)) if self.conn else None
        except (OSError, KioskError):
            return None

    def state(self):
        """The full `state` reply."""
        return self.ok({"cmd": "state"})

    def wait_raw(self, state, timeout_ms=5000, conn=None):
        t = int(timeout_ms * SLOW)
        return self.cmd({"cmd": "wait", "state": state, "timeout_ms": t},
                        timeout=t / 1000.0 + slow(5), conn=conn)

    def wait(self, state, timeout_ms=5000):
        """Waits until the kiosk is in `state`; returns the state reply."""
        r = self.wait_raw(state, timeout_ms)
        if r.get("ok") is not True:
            self.fail("waiting for %s: %r (state now %r)" % (state, r, self.state_or_none()))
        if r.get("state") != state:
            self.fail("wait for %s answered %r" % (state, r))
        return r

    def tap(self, widget):
        return self.ok({"cmd": "tap", "id": widget})

    def tap_xy(self, x, y):
        return self.ok({"cmd": "tap", "x": x, "y": y})

    def type(self, digits):
        return self.ok({"cmd": "type", "digits": digits})

    def key(self, name):
        return self.ok({"cmd": "key", "name": name})

    def _no_sim(self, what):
        if self.pcsc:
            raise KioskError("%s: this kiosk runs on PC/SC (pcsc_reader=%r), not on the "
                             "simulated card; insert a pcscd.VCard instead"
                             % (what, self.sections["card"]["reader"]))

    def insert(self, card_number, pin=INITIAL_PIN, tries=3, **extra):
        self._no_sim("card insert")
        if self.real_sync:
            self.note_card(card_number)
            self._write_statuses()
        req = {"cmd": "card", "action": "insert", "card_number": card_number, "pin": pin, "tries": tries}
        req.update(extra)
        return self.ok(req)

    def remove(self):
        self._no_sim("card remove")
        return self.ok({"cmd": "card", "action": "remove"})

    def screenshot(self, path=None):
        path = path or os.path.join(self.dir, "shot-%d.png" % time.monotonic_ns())
        r = self.ok({"cmd": "screenshot", "path": path})
        r["path"] = path
        return r

    def layout(self):
        return self.ok({"cmd": "layout"})

    def widgets(self):
        """{id: widget} of what can be tapped now."""
        return {w["id"]: w for w in self.layout()["widgets"]}

    def subscribe(self):
        """A second connection that receives state events; returns it."""
        c = self.connect()
        r = c.cmd({"cmd": "subscribe"}, slow(5))
        if r.get("ok") is not True:
            self.fail("subscribe answered %r" % r)
        return c

    def wait_event(self, sub, pred, timeout=5):
        """Reads events from `sub` until pred(event); returns it. Fails on timeout."""
        deadline = time.monotonic() + slow(timeout)
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail("no matching event within %.1f s; saw %r" % (slow(timeout), seen))
            try:
                ev = sub.next_event(left)
            except KioskError:
                self.fail("no matching event within %.1f s; saw %r" % (slow(timeout), seen))
            seen.append(ev)
            if pred(ev):
                return ev

    # ---- journeys ---------------------------------------------------------------------

    def enter_pin(self, pin):
        """Types a PIN and presses OK."""
        self.note_pin(pin)
        self.type(pin)
        self.tap("key.ok")

    def to_old_pin(self, card, pin=INITIAL_PIN, tries=3, **extra):
        """Inserts a card and waits for ENTER_OLD_PIN."""
        self.insert(card, pin, tries, **extra)
        return self.wait("ENTER_OLD_PIN")

    def to_new_pin(self, card, pin=INITIAL_PIN, tries=3, **extra):
        """Inserts a card, gives the right PIN, waits for ENTER_NEW_PIN."""
        self.to_old_pin(card, pin, tries, **extra)
        self.enter_pin(pin)
        return self.wait("ENTER_NEW_PIN")

    def to_confirm(self, card, new_pin, pin=INITIAL_PIN, tries=3, **extra):
        self.to_new_pin(card, pin, tries, **extra)
        self.enter_pin(new_pin)
        return self.wait("CONFIRM_NEW_PIN")

    def change_pin(self, card, old_pin, new_pin, tries=3, **extra):
        """A whole journey up to SUCCESS and back to IDLE."""
        self.to_confirm(card, new_pin, old_pin, tries, **extra)
        self.enter_pin(new_pin)
        self.wait("SUCCESS")
        self.remove()
        self.wait("IDLE")

    def pin_accepted(self, card, pin, tries=3):
        """True if `pin` passes VERIFY on `card` (the card is left out again, IDLE)."""
        self.to_old_pin(card, pin, tries)
        self.enter_pin(pin)
        r = self.wait_any(("ENTER_NEW_PIN", "ENTER_OLD_PIN", "CARD_BLOCKED", "ERROR"), after="VERIFYING")
        self.remove()
        self.wait("IDLE")
        return r["state"] == "ENTER_NEW_PIN"

    def settle(self, busy, timeout=5):
        """Polls until the kiosk has left the `busy` state; returns the state."""
        deadline = time.monotonic() + slow(timeout)
        while True:
            st = self.state()
            if st["state"] != busy:
                return st
            if time.monotonic() > deadline:
                self.fail("still %s after %.1f s" % (busy, slow(timeout)))
            time.sleep(0.005)

    def wait_any(self, states, after=None, timeout=5):
        """Polls `state` until it is one of `states` (and not `after`)."""
        deadline = time.monotonic() + slow(timeout)
        while True:
            st = self.state()
            if st["state"] in states:
                return st
            if time.monotonic() > deadline:
                self.fail("state stuck at %r, wanted one of %r" % (st, states))
            time.sleep(0.005)

    # ---- the outbox ------------------------------------------------------------------------

    # ---- audio (audio="disk") -------------------------------------------------------

    def audio_stats(self):
        return self.ok({"cmd": "stats"})["audio"]

    def audio_pcm(self):
        """What the disk driver has written so far (b"" before it opens)."""
        try:
            with open(self.audio_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def wait_audio_quiet(self, timeout=30):
        """Until nothing plays or waits to, the disk driver has written eight
        buffers more, and the file ends in more than 1100 samples of silence
        (test_voice's GAP between two sounds is 1000). SDL's disk driver
        writes through stdio: what it wrote shows in the file up to a 4 KB
        block (four buffers) late, so `playing` turning false, or a tail of
        silence, can be seen while a sound's end is still in the block; eight
        buffers on, that block is in the file. (Four were too few under ASan:
        two clicks ran together, 2026-12-03.)"""
        wait_for(lambda: not self.audio_stats()["playing"], timeout, "the sound to end")
        n = len(self.audio_pcm())
        wait_for(lambda: len(self.audio_pcm()) >= n + 8 * 512 * 2, timeout, "the disk driver to write on")
        wait_for(lambda: not any(self.audio_pcm()[-2 * 1100:]), timeout, "the file to end in silence")
        return self.audio_stats()

    def clip_pcm(self, lang, name):
        return wav_pcm(os.path.join(REPO, "assets", "voice", lang, name + ".wav"))

    def prompt_pcm(self, sound):
        """The samples of a queued prompt (a `sounds` record): its clips back to back."""
        return b"".join(self.clip_pcm(sound["lang"], c) for c in sound["clips"])

    def outbox_names(self):
        try:
            return sorted(os.listdir(self.outbox))
        except FileNotFoundError:
            return []

    def intents(self):
        return [n for n in self.outbox_names() if n.startswith("intent-")]

    def records(self):
        """Every evt-*.json, parsed and checked against the bureau contract, by seq."""
        out = []
        last_seq = 0
        for name in self.outbox_names():
            m = EVT_NAME_RE.match(name)
            if not name.startswith("evt-"):
                continue
            if not m:
                self.fail("odd file name in the outbox: %s" % name)
            with open(os.path.join(self.outbox, name), "rb") as f:
                raw = f.read()
            try:
                pairs = json.loads(raw.decode("utf-8"), object_pairs_hook=lambda p: p)
            except ValueError as e:
                self.fail("%s is not JSON: %s: %r" % (name, e, raw[:200]))
            keys = [k for k, _ in pairs]
            rec = dict(pairs)
            problems = []
            want_keys = RESET_KEYS if rec.get("kind") == "pin_reset" or "reset_id" in rec else RECORD_KEYS
            if keys != want_keys:
                problems.append("keys %r, want exactly %r" % (keys, want_keys))
            if "reset_id" in rec and (rec.get("kind") not in ("pin_reset", "pin_change_unknown") or
                                      not isinstance(rec["reset_id"], str) or
                                      not RESET_ID_RE.match(rec["reset_id"])):
                problems.append("reset_id %r on %r" % (rec.get("reset_id"), rec.get("kind")))
            if not isinstance(rec.get("event_id"), str) or not UUID4_RE.match(rec["event_id"]):
                problems.append("event_id %r is not a UUID v4" % rec.get("event_id"))
            if rec.get("terminal_id") != self.sections["terminal"]["id"]:
                problems.append("terminal_id %r" % rec.get("terminal_id"))
            seq = rec.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool):
                problems.append("seq %r is not an integer" % seq)
            else:
                if seq != int(m.group(2)):
                    problems.append("seq %d does not match the file name" % seq)
                if seq <= last_seq:
                    problems.append("seq %d does not increase (after %d)" % (seq, last_seq))
                last_seq = seq
            if not isinstance(rec.get("card_number"), str) or not rec["card_number"]:
                problems.append("card_number %r" % rec.get("card_number"))
            if rec.get("kind") not in RECORD_KINDS:
                problems.append("kind %r" % rec.get("kind"))
            if not isinstance(rec.get("occurred_at"), str) or not TIME_RE.match(rec["occurred_at"]):
                problems.append("occurred_at %r" % rec.get("occurred_at"))
            if raw.endswith(b"\n") or b"\n" in raw:
                problems.append("not one line without a newline")
            if problems:
                self.fail("%s: %s\n%r" % (name, "; ".join(problems), raw))
            out.append(rec)
        ids = [r["event_id"] for r in out]
        if len(set(ids)) != len(ids):
            self.fail("an event_id is used twice: %r" % ids)
        return out

    def kinds(self):
        """[(kind, card_number)] of the records, by seq."""
        return [(r["kind"], r["card_number"]) for r in self.records()]

    def reset_kinds(self):
        """[(kind, card_number, reset_id or None)] of the records, by seq."""
        return [(r["kind"], r["card_number"], r.get("reset_id")) for r in self.records()]


def run_cli(args, config_text=None, timeout=10, cwd=None):
    """Runs the kiosk binary with `args` (and a config file made of
    `config_text`, whose path replaces "{config}" in args); returns
    (status, stdout, stderr, config_path)."""
    d = tempfile.mkdtemp(prefix="kiosk-cli-", dir="/tmp")
    path = os.path.join(d, "bad.conf")
    if config_text is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(config_text)
    args = [a.replace("{config}", path) for a in args]
    try:
        p = subprocess.run(kiosk_command(args), stdin=subprocess.DEVNULL, capture_output=True,
                           env=kiosk_env(), timeout=slow(timeout), cwd=cwd or d)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), path
    finally:
        for n in os.listdir(d):
            os.unlink(os.path.join(d, n))
        os.rmdir(d)
