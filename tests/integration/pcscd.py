#!/usr/bin/python3
"""pcscd.py - a real pcscd with the vpcd virtual readers, and test cards in them.

For integration tests that run the kiosk against PC/SC instead of the
in-process sim. Python 3 standard library only; needs the Debian packages
pcscd and vsmartcard-vpcd (and opensc for the self-test).

    with Pcscd() as d:                                   # refuses if another pcscd runs
        card = VCard(port=35963, pin="582039", t0=True)  # tests/card/vcard.py
        card.start()                                     # waits until the reader sees it
        ...                                              # drive the kiosk
        card.read_state()   # {"card_number": ..., "pin": ..., "tries": 3, ...}
        card.remove()                                    # SIGTERM: card pulled
        d.kill9(); d.start()                             # pcscd dies under the kiosk
    # leaving the block stops pcscd (SIGTERM, then SIGKILL), always

    raw = Pcsc().transmit("Virtual PCD 00 00", [bytes.fromhex("00A4...")])
    # raw PC/SC through libpcsclite (ctypes): replies exactly as the card gave
    # them, without opensc-tool's own GET RESPONSE / 6Cxx handling

Every wait is bounded (KIOSK_TEST_SLOW multiplies them, as in harness.py);
every process is started in its own process group and stopped by its pid.
A failed start cleans up what it started and raises FixtureError with the
tail of the process's log.

Self-test (starts pcscd, so no other may be running):
    /usr/bin/python3 tests/integration/pcscd.py --self-test
"""

import ctypes
import ctypes.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
VCARD = os.path.join(REPO, "tests", "card", "vcard.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
PCSCD = shutil.which("pcscd") or "/usr/sbin/pcscd"
COMM = "/run/pcscd/pcscd.comm"

SLOW = float(os.environ.get("KIOSK_TEST_SLOW", "1") or "1")
KEEP = os.environ.get("KIOSK_TEST_KEEP") == "1"

# vpcd's two slots (/etc/reader.conf.d/vpcd: CHANNELID 0x8C7B and the next).
PORTS = (35963, 35964)
READERS = {35963: "Virtual PCD 00 00", 35964: "Virtual PCD 00 01"}

POLL_S = 0.05
NO_SERVICE = (0x8010001D, 0x8010001E)  # SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED


class FixtureError(Exception):
    """The fixture could not do what it was asked; the message says why."""


def _deadline(seconds):
    return time.monotonic() + seconds * SLOW


def _tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def _ns(pid, kind):
    try:
        return os.readlink("/proc/%s/ns/%s" % (pid, kind))
    except OSError:
        return None


def pcscd_pids(exclude=()):
    """Pids of the running pcscds (from /proc) that would collide with ours:
    those sharing our mount namespace (/run/pcscd) or our network namespace
    (the vpcd ports). One isolated in both (tests/card/isolated.sh) is no
    obstacle. A pcscd whose namespaces cannot be read counts."""
    pids = []
    mine = (_ns("self", "mnt"), _ns("self", "net"))
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in exclude:
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ...": a zombie is not running.
        m = re.match(r"\d+ \((.*)\) (\S)", stat)
        if not m or m.group(1) != "pcscd" or m.group(2) == "Z":
            continue
        theirs = (_ns(name, "mnt"), _ns(name, "net"))
        if None in theirs or None in mine or theirs[0] == mine[0] or theirs[1] == mine[1]:
            pids.append(int(name))
    return pids


def port_listening(port):
    """True when something listens on TCP `port`, read from /proc/net so that
    no connection is made: connecting to vpcd would insert a card."""
    want = ":%04X" % port
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[1].endswith(want) and fields[3] == "0A":  # 0A = LISTEN
                        return True
        except (OSError, StopIteration):
            continue
    return False


def comm_accepts(path=COMM):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def _stop_pid(proc, timeout):
    """SIGTERM to proc's pid, then SIGKILL after `timeout` s; always reaps.
    Returns the exit code (negative: the signal)."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10 * SLOW)
    return proc.returncode


# ---- raw PC/SC through libpcsclite -------------------------------------------

class PcscError(FixtureError):
    def __init__(self, call, code):
        self.call = call
        self.code = code
        super().__init__("%s: %s (0x%08X)" % (call, Pcsc.NAMES.get(code, "?"), code))


class _IoRequest(ctypes.Structure):
    _fields_ = [("dwProtocol", ctypes.c_ulong), ("cbPciLength", ctypes.c_ulong)]


class _ReaderState(ctypes.Structure):
    # pcsc-lite's SCARD_READERSTATE on Linux (DWORD = unsigned long, 33-byte ATR).
    _fields_ = [("szReader", ctypes.c_char_p), ("pvUserData", ctypes.c_void_p),
                ("dwCurrentState", ctypes.c_ulong), ("dwEventState", ctypes.c_ulong),
                ("cbAtr", ctypes.c_ulong), ("rgbAtr", ctypes.c_ubyte * 33)]


class Pcsc:
    """A few PC/SC calls, each in a context of its own (so a pcscd restart
    between two calls is harmless). Raises PcscError with the code's name."""

    SCOPE_SYSTEM = 2
    SHARE_EXCLUSIVE, SHARE_SHARED = 1, 2
    PROTOCOL_T0, PROTOCOL_T1 = 1, 2
    LEAVE_CARD, RESET_CARD, UNPOWER_CARD = 0, 1, 2
    STATE_UNAWARE, STATE_CHANGED, STATE_EMPTY, STATE_PRESENT = 0x0, 0x2, 0x10, 0x20

    NAMES = {
        0x00000000: "SCARD_S_SUCCESS",
        0x80100002: "SCARD_E_CANCELLED",
        0x80100003: "SCARD_E_INVALID_HANDLE",
        0x80100004: "SCARD_E_INVALID_PARAMETER",
        0x80100008: "SCARD_E_INSUFFICIENT_BUFFER",
        0x80100009: "SCARD_E_UNKNOWN_READER",
        0x8010000A: "SCARD_E_TIMEOUT",
        0x8010000B: "SCARD_E_SHARING_VIOLATION",
        0x8010000C: "SCARD_E_NO_SMARTCARD",
        0x8010000F: "SCARD_E_PROTO_MISMATCH",
        0x80100013: "SCARD_F_COMM_ERROR",
        0x80100016: "SCARD_E_NOT_TRANSACTED",
        0x80100017: "SCARD_E_READER_UNAVAILABLE",
        0x8010001D: "SCARD_E_NO_SERVICE",
        0x8010001E: "SCARD_E_SERVICE_STOPPED",
        0x8010002E: "SCARD_E_NO_READERS_AVAILABLE",
        0x80100066: "SCARD_W_UNRESPONSIVE_CARD",
        0x80100067: "SCARD_W_UNPOWERED_CARD",
        0x80100068: "SCARD_W_RESET_CARD",
        0x80100069: "SCARD_W_REMOVED_CARD",
    }

    def __init__(self):
        path = ctypes.util.find_library("pcsclite") or "libpcsclite.so.1"
        try:
            self.lib = ctypes.CDLL(path)
        except OSError as e:
            raise FixtureError("cannot load libpcsclite (apt-get install libpcsclite1): %s" % e)
        L, D, P = ctypes.c_long, ctypes.c_ulong, ctypes.POINTER
        sig = {
            "SCardEstablishContext": [D, ctypes.c_void_p, ctypes.c_void_p, P(L)],
            "SCardReleaseContext": [L],
            "SCardListReaders": [L, ctypes.c_char_p, ctypes.c_char_p, P(D)],
            "SCardConnect": [L, ctypes.c_char_p, D, D, P(L), P(D)],
            "SCardReconnect": [L, D, D, D, P(D)],
            "SCardDisconnect": [L, D],
            "SCardTransmit": [L, P(_IoRequest), ctypes.c_char_p, D, P(_IoRequest),
                              ctypes.c_char_p, P(D)],
            "SCardGetStatusChange": [L, D, P(_ReaderState), D],
            "SCardBeginTransaction": [L],
            "SCardEndTransaction": [L, D],
        }
        for name, argtypes in sig.items():
            fn = getattr(self.lib, name)
            fn.argtypes = argtypes
            fn.restype = L

    def _check(self, call, rv):
        rv &= 0xFFFFFFFF
        if rv != 0:
            raise PcscError(call, rv)

    def _context(self):
        ctx = ctypes.c_long(0)
        self._check("SCardEstablishContext",
                    self.lib.SCardEstablishContext(self.SCOPE_SYSTEM, None, None,
                                                   ctypes.byref(ctx)))
        return ctx

    def readers(self):
        """The reader names pcscd offers ([] when none)."""
        ctx = self._context()
        try:
            n = ctypes.c_ulong(0)
            rv = self.lib.SCardListReaders(ctx, None, None, ctypes.byref(n)) & 0xFFFFFFFF
            if rv == 0x8010002E:
                return []
            self._check("SCardListReaders", rv)
            buf = ctypes.create_string_buffer(n.value)
            self._check("SCardListReaders",
                        self.lib.SCardListReaders(ctx, None, buf, ctypes.byref(n)))
            return [r.decode() for r in buf.raw[:n.value].split(b"\0") if r]
        finally:
            self.lib.SCardReleaseContext(ctx)

    def state(self, reader):
        """(event state bits, ATR bytes) of `reader` right now."""
        ctx = self._context()
        try:
            rs = _ReaderState(reader.encode(), None, self.STATE_UNAWARE, 0, 0)
            self._check("SCardGetStatusChange",
                        self.lib.SCardGetStatusChange(ctx, 0, ctypes.byref(rs), 1))
            return rs.dwEventState & 0xFFFF, bytes(rs.rgbAtr[:rs.cbAtr])
        finally:
            self.lib.SCardReleaseContext(ctx)

    def wait_present(self, reader, present=True, timeout=10.0):
        """Waits until pcscd reports a card in (or no card in) `reader`."""
        end = _deadline(timeout)
        want = self.STATE_PRESENT if present else self.STATE_EMPTY
        last = None
        while time.monotonic() < end:
            try:
                bits, _ = self.state(reader)
                if bits & want:
                    return
                last = "state 0x%X" % bits
            except PcscError as e:
                if e.code in NO_SERVICE:
                    raise
                last = str(e)
            time.sleep(POLL_S)
        raise FixtureError("%s: card %s not seen within %g s (%s)"
                           % (reader, "in" if present else "out", timeout * SLOW, last))

    def transmit(self, reader, apdus, share=SHARE_SHARED, protocols=PROTOCOL_T0 | PROTOCOL_T1,
                 disposition=LEAVE_CARD, stop_on_error=True):
        """Connects to `reader`, sends each APDU (bytes) as is and returns
        the replies (bytes, data + SW). An APDU may be a callable instead:
        it gets the replies so far and returns the bytes to send (a command
        made from an earlier answer on the same connection, like a reset
        made for a challenge). With stop_on_error=False a failing
        SCardTransmit leaves a PcscError in the list in place of its reply
        and the rest are still tried; else it raises. The active protocol is
        in self.protocol afterwards."""
        ctx = self._context()
        card = ctypes.c_long(0)
        proto = ctypes.c_ulong(0)
        out = []
        try:
            self._check("SCardConnect",
                        self.lib.SCardConnect(ctx, reader.encode(), share, protocols,
                                              ctypes.byref(card), ctypes.byref(proto)))
            self.protocol = proto.value
            pci = _IoRequest(proto.value, ctypes.sizeof(_IoRequest))
            try:
                for apdu in apdus:
                    if callable(apdu):
                        apdu = apdu(out)
                    buf = ctypes.create_string_buffer(258 + 16)
                    n = ctypes.c_ulong(len(buf))
                    rv = self.lib.SCardTransmit(card, ctypes.byref(pci), bytes(apdu), len(apdu),
                                                None, buf, ctypes.byref(n)) & 0xFFFFFFFF
                    if rv != 0:
                        err = PcscError("SCardTransmit", rv)
                        if stop_on_error:
                            raise err
                        out.append(err)
                        continue
                    out.append(buf.raw[:n.value])
            finally:
                self.lib.SCardDisconnect(card, disposition)
        finally:
            self.lib.SCardReleaseContext(ctx)
        return out


# ---- pcscd -------------------------------------------------------------------

class Pcscd:
    """One pcscd in the foreground (`pcscd -f`), for one test or suite.

    start() refuses when another pcscd runs (it would own the vpcd ports and
    /run/pcscd): this fixture never touches a pcscd it did not start.
    `debug` adds -d; never -a, which logs every APDU, PIN bytes included."""

    def __init__(self, debug=False, log_path=None, start_timeout=10.0, stop_timeout=5.0):
        self.debug = debug
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.proc = None
        self._own_log = log_path is None
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix="pcscd-", suffix=".log")
            os.close(fd)
        self.log_path = log_path

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        if self.running():
            raise FixtureError("pcscd already started by this fixture (pid %d)" % self.proc.pid)
        if not os.path.exists(PCSCD):
            raise FixtureError("pcscd not found: apt-get install -y pcscd vsmartcard-vpcd")
        others = pcscd_pids()
        if others:
            raise FixtureError("another pcscd is running here (pid %s); stop it, or run the "
                               "tests in namespaces of their own (tests/card/isolated.sh): "
                               "this fixture never touches a pcscd it did not start"
                               % ", ".join(map(str, others)))
        if os.path.exists(COMM) and comm_accepts():
            raise FixtureError("%s accepts connections but no pcscd runs (systemd "
                               "pcscd.socket?); stop that first" % COMM)
        busy = [p for p in PORTS if port_listening(p)]
        if busy:
            raise FixtureError("TCP port %s already listening: another vpcd user?"
                               % ", ".join(map(str, busy)))
        cmd = [PCSCD, "-f"] + (["-d"] if self.debug else [])
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        end = _deadline(self.start_timeout)
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise FixtureError("pcscd exited with %s at start; log:\n%s"
                                   % (code, _tail(self.log_path)))
            if comm_accepts() and all(port_listening(p) for p in PORTS):
                return self
            if time.monotonic() >= end:
                self.stop()
                raise FixtureError("pcscd not ready within %g s (%s, ports %s); log:\n%s" % (
                    self.start_timeout * SLOW,
                    "socket up" if comm_accepts() else "no " + COMM,
                    ", ".join("%d %s" % (p, "up" if port_listening(p) else "down")
                              for p in PORTS),
                    _tail(self.log_path)))
            time.sleep(POLL_S)

    def _wait_ports_free(self):
        """After pcscd is gone its ports close with it; wait so a restart can bind."""
        end = _deadline(self.stop_timeout)
        while any(port_listening(p) for p in PORTS) and time.monotonic() < end:
            time.sleep(POLL_S)

    def stop(self):
        """SIGTERM by pid, SIGKILL after stop_timeout; always reaps. Returns
        pcscd's exit code (None if it was not started)."""
        if self.proc is None:
            return None
        code = _stop_pid(self.proc, self.stop_timeout)
        self.proc = None
        self._wait_ports_free()
        return code

    def kill9(self):
        """pcscd dies at once, as in a crash: clients see SCARD_E_NO_SERVICE,
        cards see their connection closed (vcard.py waits for the reader)."""
        if self.proc is None:
            raise FixtureError("pcscd not started by this fixture")
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10 * SLOW)
        code = self.proc.returncode
        self.proc = None
        self._wait_ports_free()
        return code

    def restart(self, hard=False):
        """stop() (or kill9() when `hard`), then start()."""
        if hard and self.running():
            self.kill9()
        else:
            self.stop()
        return self.start()

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        self.stop()
        if self._own_log and not KEEP:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False


# ---- a card in a reader ------------------------------------------------------

class VCard:
    """tests/card/vcard.py in one reader.

    Options map to vcard.py switches: VCard(35963, pin="582039", tries=3,
    t0=True, slow_ms=800, slow_on="verify") runs `--pin 582039 --tries 3
    --t0 --slow-ms 800 --slow-on verify`; True adds a bare switch, None or
    False leaves it out. Without `state` the card gets a fresh state file in
    a temp dir of its own (removed by close(), kept when KIOSK_TEST_KEEP=1);
    pass the same `state` to a second VCard to insert "the same card" again.
    """

    def __init__(self, port=PORTS[0], state=None, workdir=None, start_timeout=10.0,
                 stop_timeout=5.0, **options):
        if port not in READERS:
            raise FixtureError("vpcd ports are %s, not %r" % (PORTS, port))
        self.port = port
        self.reader = READERS[port]
        self.options = options
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._own_dir = None
        if workdir is None and state is None:
            workdir = self._own_dir = tempfile.mkdtemp(prefix="vcard-%d-" % port)
        elif workdir is None:
            workdir = os.path.dirname(os.path.abspath(state))
        self.workdir = workdir
        self.state_path = state or os.path.join(workdir, "card.json")
        self.log_path = os.path.join(workdir, "vcard-%d-%d.log" % (port, id(self)))
        self.proc = None

    def argv(self):
        argv = [PYTHON, VCARD, "--port", str(self.port), "--state", self.state_path]
        for key, value in self.options.items():
            if value is None or value is False:
                continue
            argv.append("--" + key.replace("_", "-"))
            if value is not True:
                argv.append(str(value))
        return argv

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def inserted_count(self):
        return self.log_text().count("vcard: inserted on %d\n" % self.port)

    def wait_log(self, pattern, count=1, timeout=10.0):
        """Waits until `pattern` (regex) matches `count` times in the card's
        log; returns the matches. Raises on timeout or if the card exits first
        without them."""
        rx = re.compile(pattern)
        end = _deadline(timeout)
        while True:
            found = rx.findall(self.log_text())
            if len(found) >= count:
                return found
            if self.proc is not None and self.proc.poll() is not None:
                found = rx.findall(self.log_text())
                if len(found) >= count:
                    return found
                raise FixtureError("vcard on %d exited with %s before %r; log:\n%s" % (
                    self.port, self.proc.returncode, pattern, _tail(self.log_path)))
            if time.monotonic() >= end:
                raise FixtureError("vcard on %d: %r not seen %d times within %g s; log:\n%s" % (
                    self.port, pattern, count, timeout * SLOW, _tail(self.log_path)))
            time.sleep(POLL_S)

    def wait_inserted(self, count=1, reader_check=True):
        """Waits for the card's `count`-th "inserted" line and, when
        `reader_check`, for pcscd to show the card present."""
        self.wait_log(r"(?m)^vcard: inserted on %d$" % self.port, count, self.start_timeout)
        if reader_check:
            Pcsc().wait_present(self.reader, True, self.start_timeout)

    def start(self, reader_check=True):
        """Inserts the card; returns when pcscd has it (bounded)."""
        if self.alive():
            raise FixtureError("vcard on %d already running (pid %d)" % (self.port, self.pid))
        if not os.path.exists(VCARD):
            raise FixtureError("%s is missing" % VCARD)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.wait_inserted(1, reader_check)
        except BaseException:
            self.remove()
            raise
        return self

    def read_state(self):
        """The card's memory as the state file has it now."""
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            raise FixtureError("cannot read %s: %s" % (self.state_path, e))

    def remove(self, reader_check=True):
        """Pulls the card: SIGTERM by pid (SIGKILL after stop_timeout).
        Returns vcard.py's exit code (0 when it left cleanly); None when it
        was never started. Harmless when the card already left (--drop-*).
        With `reader_check`, also waits until pcscd shows the reader empty
        (skipped when pcscd is not running), so the next card inserted in
        that reader is not mistaken for this one."""
        if self.proc is None:
            return None
        code = _stop_pid(self.proc, self.stop_timeout)
        if reader_check:
            try:
                Pcsc().wait_present(self.reader, False, self.stop_timeout)
            except PcscError as e:
                if e.code not in NO_SERVICE:  # no pcscd: no reader to look at
                    raise
        return code

    def wait_exit(self, timeout=10.0):
        """Waits for the card to leave by itself (--drop-after, --drop-on)."""
        if self.proc is None:
            raise FixtureError("vcard not started")
        try:
            return self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            raise FixtureError("vcard on %d still running after %g s; log:\n%s"
                               % (self.port, timeout * SLOW, _tail(self.log_path))) from None

    def close(self):
        try:
            self.remove()
        except FixtureError:
            pass  # cleanup: the process is gone either way
        if self._own_dir and not KEEP:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False


# ---- self-test -----------------------------------------------------------------

def opensc_tool(reader_index, *apdus, timeout=20.0):
    """Runs opensc-tool on reader `reader_index` with `-c default` (no card
    driver probing: without it opensc sends ~65 probe APDUs first) and
    returns (exit code, output)."""
    exe = shutil.which("opensc-tool")
    if exe is None:
        raise FixtureError("opensc-tool not found: apt-get install -y opensc")
    cmd = [exe, "-c", "default", "-r", str(reader_index)]
    for a in apdus:
        cmd += ["-s", a]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout * SLOW)
    return r.returncode, r.stdout + r.stderr


def self_test():
    aid = "7378312E73682EC9E7BBE1B1A3D5CF"
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail and not ok
                           else ""), flush=True)

    with Pcscd() as d:
        check("pcscd up", d.running() and all(port_listening(p) for p in PORTS))
        pcsc = Pcsc()
        check("both vpcd readers listed", set(READERS.values()) <= set(pcsc.readers()),
              repr(pcsc.readers()))
        with VCard(35963, card_number="A12345678", pin="582039") as card:
            rc, out = opensc_tool(0, "00 A4 04 00 0F " + aid + " 00")
            check("opensc-tool SELECT AID: 90 00 and the FCI",
                  rc == 0 and "SW1=0x90, SW2=0x00" in out and "6F 11 84 0F 73 78 31" in out, out)
            raw = pcsc.transmit(card.reader, [bytes.fromhex("00A404000F" + aid),
                                              bytes.fromhex("00C0000013")])
            check("raw SELECT AID without Le: 61 13, GET RESPONSE: FCI 90 00",
                  raw[0] == b"\x61\x13" and raw[1][:2] == b"\x6F\x11" and raw[1][-2:] == b"\x90\x00",
                  repr(raw))
            check("state file", card.read_state() == {
                "card_number": "A12345678", "pin": "582039", "tries": 3, "max_tries": 3,
                "blocked": False, "locked": False}, repr(card.read_state()))
            check("card log has no PIN", "582039" not in card.log_text())
            code = card.remove()
            check("vcard exits 0 on SIGTERM", code == 0, str(code))
            try:
                pcsc.wait_present(card.reader, False, 5.0)
                check("reader empty after removal", True)
            except FixtureError as e:
                check("reader empty after removal", False, str(e))
        code = d.stop()
        check("pcscd stopped", not d.running() and not any(port_listening(p) for p in PORTS)
              and not pcscd_pids(), "exit %s" % code)
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        try:
            sys.exit(self_test())
        except FixtureError as e:
            print("FAIL %s\n0 passed, 1 failed" % e)
            sys.exit(1)
    print("usage: %s --self-test" % sys.argv[0], file=sys.stderr)
    sys.exit(2)
