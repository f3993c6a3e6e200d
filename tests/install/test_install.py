#!/usr/bin/python3
"""The production install (issue 5, acceptance 1).  Standard library only.

    tests/install/test_install.py [BUILD_DIR]        (default: build)

1. `meson install --destdir ROOT` into a temporary ROOT. A terminal's install
   is a `--prefix=/usr` build (bindir /usr/bin, sysconfdir /etc, data
   /usr/share/kiosk: where the units and the binaries look). BUILD_DIR is
   used as it is when it has that prefix; otherwise a private build dir,
   tests/out/install-build, is configured with it (BUILD_DIR is never
   reconfigured) and only the two installed programs are built there.
2. Checks the tree: binaries (they run: --version), /etc/kiosk/kiosk.conf
   (the shipped file, mode 0640, production values that agree with the
   units), fonts and picture where the binary's KIOSK_DATADIR points, the
   two units (no template placeholder left, our paths in them installed,
   the settings the product relies on), sysusers.d, tmpfiles.d.
3. Applies the sysusers.d and tmpfiles.d snippets to ROOT (systemd-sysusers
   and systemd-tmpfiles --root, as root only: they chown) and checks the
   users, group, directories, owners and modes they make.
4. `systemd-analyze verify` on each installed unit. `verify --root=ROOT`
   does not fit a destdir: it looks for everything inside ROOT, which holds
   no sysinit.target, no /usr/bin/env and no cage, so it fails on the host's
   part. Instead each unit is verified by path from a temporary copy in
   which every ExecStart= word naming a file installed in ROOT (e.g.
   /usr/bin/kiosk-sync) is rewritten to ROOT/...: verify then checks that
   the installed program is there and executable, and resolves the rest
   (targets, getty@.service, dbus.socket) on the host. verify returns 0 on
   warnings (an unknown key, a bad value), so any output at all fails.
5. `systemd-analyze security --offline=yes` on each installed unit; the
   overall exposure is parsed and must be at most the target (kiosk 3.0,
   kiosk-sync 2.0).
6. Negative controls, so that a green run means something: a copy of
   kiosk-sync.service stripped of its hardening must exceed its target, and
   a copy of kiosk.service with a misspelt key must make verify speak.

Prints one line per check and last "N passed, N failed"; exit status 0 only
when nothing failed.
"""

import configparser
import filecmp
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
PRIVATE_BUILD = os.path.join(SRC, "tests", "out", "install-build")
PREFIX = "/usr"
BUILD_TIMEOUT_S = 900
TOOL_TIMEOUT_S = 120

# Overall exposure of `systemd-analyze security --offline=yes`, at most.
EXPOSURE_TARGETS = {"kiosk.service": 3.0, "kiosk-sync.service": 2.0}

# Files of the installed tree: path in ROOT, source file it must equal
# (None: generated), mode bits it must have (None: not checked).
TREE = [
    ("usr/bin/kiosk", None, None),
    ("usr/bin/kiosk-sync", None, None),
    ("etc/kiosk/kiosk.conf", "kiosk.conf", 0o640),
    ("usr/share/kiosk/fonts/NotoSansSC-Kiosk-Regular.otf", "fonts/NotoSansSC-Kiosk-Regular.otf", None),
    ("usr/share/kiosk/fonts/NotoSansSC-Kiosk-Bold.otf", "fonts/NotoSansSC-Kiosk-Bold.otf", None),
    ("usr/share/kiosk/fonts/LICENSE", "fonts/LICENSE", None),
    ("usr/share/kiosk/assets/insert-card.svg", "assets/insert-card.svg", None),
    ("usr/share/kiosk/assets/LICENSE", "assets/LICENSE", None),
    ("usr/share/kiosk/assets/voice/manifest.tsv", "assets/voice/manifest.tsv", None),
    ("usr/share/kiosk/assets/voice/zh/heading.IDLE.wav", "assets/voice/zh/heading.IDLE.wav", None),
    ("usr/share/kiosk/assets/voice/en/heading.IDLE.wav", "assets/voice/en/heading.IDLE.wav", None),
    ("usr/share/doc/kiosk/production.md", "docs/production.md", None),
    ("lib/systemd/system/kiosk.service", None, 0o644),
    ("lib/systemd/system/kiosk-sync.service", None, 0o644),
    ("usr/lib/sysusers.d/kiosk.conf", "systemd/kiosk.sysusers", 0o644),
    ("usr/lib/tmpfiles.d/kiosk.conf", None, 0o644),
]
UNIT_DIR = "lib/systemd/system"

# What the product relies on in each unit, beyond what the exposure scores:
# (unit, key, test, what the test means). A key given several times is
# joined with spaces.
UNIT_SETTINGS = [
    ("kiosk.service", "User", "kiosk", "the kiosk is not root"),
    ("kiosk.service", "Group", "kiosk-ipc", "its files and the socket are shared through this group"),
    ("kiosk.service", "Type", "notify", "READY=1 after the first frame"),
    ("kiosk.service", "NotifyAccess", "all", "the kiosk is cage's child, not the main process"),
    ("kiosk.service", "WatchdogSec", "10", "a hung main loop is killed"),
    ("kiosk.service", "UnsetEnvironment", "WATCHDOG_PID", "$WATCHDOG_PID names cage, not the kiosk"),
    ("kiosk.service", "Restart", "always", "restarted whatever the exit"),
    ("kiosk.service", "PrivateNetwork", "yes", "the process that sees PINs has no network"),
    ("kiosk.service", "RestrictAddressFamilies", "AF_UNIX AF_NETLINK", "no AF_INET, AF_INET6, AF_PACKET"),
    ("kiosk.service", "Environment", re.compile(r"(^| )LIBSEAT_BACKEND=seatd( |$)"),
     "the seat comes from seatd, not a logind session"),
    ("kiosk.service", "PAMName", "", "no session: it would move cage and the kiosk out of the unit's cgroup"),
    ("kiosk.service", "SystemCallFilter", re.compile(r"(^| )mincore( |$)"), "Mesa's EGL set-up needs it"),
    ("kiosk.service", "SupplementaryGroups", "video audio",
     "seatd -g video serves that group; audio: the voice's sound card"),
    ("kiosk.service", "TTYPath", "/dev/tty1", "the console it takes"),
    ("kiosk.service", "Conflicts", "getty@tty1.service", "no getty on that console"),
    ("kiosk.service", "UMask", "0027", "outbox files keep the group's read bit"),
    ("kiosk.service", "StateDirectory", "kiosk/outbox kiosk/outbox.dead", "the outbox"),
    ("kiosk.service", "StateDirectoryMode", "0770", "the same mode as tmpfiles.d"),
    ("kiosk.service", "LimitCORE", "0", "no core dump holds a PIN"),
    ("kiosk.service", "LimitMEMLOCK", "1M", "room to lock the PIN arena and the main stack's top (96 + 64 KiB; 192 + 64 under ASan)"),
    ("kiosk.service", "Environment", re.compile(r"(^| )SDL_VIDEODRIVER=wayland( |$)"), "SDL speaks to cage"),
    ("kiosk-sync.service", "User", "kiosk-sync", "kiosk-sync is not root and not the kiosk"),
    ("kiosk-sync.service", "Group", "kiosk-ipc", "the outbox and socket group"),
    ("kiosk-sync.service", "Type", "notify", "READY=1 once its socket listens"),
    ("kiosk-sync.service", "Restart", "always", "restarted whatever the exit"),
    ("kiosk-sync.service", "RuntimeDirectory", "kiosk", "/run/kiosk holds the sync socket"),
    ("kiosk-sync.service", "PrivateDevices", "yes", "no display, input or reader device"),
    ("kiosk-sync.service", "InaccessiblePaths", re.compile(r"(^| )-?/run/pcscd( |$)"), "no reader socket"),
    ("kiosk-sync.service", "BindPaths", "/var/lib/kiosk/outbox /var/lib/kiosk/outbox.dead", "the outbox only"),
    ("kiosk-sync.service", "UMask", "0077", "nothing it makes is for others"),
    ("kiosk-sync.service", "LimitCORE", "0", "no core dump holds the TLS key"),
]

# The shipped kiosk.conf must be the production one: (section, key, value).
PRODUCTION_CONF = [
    ("display", "fullscreen", "true"),
    ("card", "backend", "pcsc"),
    ("control", "socket", ""),
    ("outbox", "dir", "/var/lib/kiosk/outbox"),
    ("sync", "socket", "/run/kiosk/sync.sock"),
]

# Hardening keys removed by the exposure negative control.
LOOSEN_KEEP = {"Type", "NotifyAccess", "WatchdogSec", "Restart", "RestartSec", "ExecStart",
               "User", "Group"}

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   - %s" % name)
    else:
        failed += 1
        print("FAIL - %s%s" % (name, (": " + detail) if detail else ""))
    sys.stdout.flush()
    return ok


def skip(name, why):
    print("skip - %s: %s" % (name, why))


def run(argv, timeout=TOOL_TIMEOUT_S, **kw):
    """Runs argv; returns (exit status, stdout, stderr); 127 if missing."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout, **kw)
        return p.returncode, p.stdout, p.stderr
    except FileNotFoundError as e:
        return 127, "", str(e)
    except subprocess.TimeoutExpired:
        return 124, "", "%s: no answer within %d s" % (argv[0], timeout)


def meson_option(build, name):
    rc, out, err = run(["meson", "introspect", build, "--buildoptions"])
    if rc != 0:
        raise RuntimeError("meson introspect %s: %s" % (build, err.strip()))
    for opt in json.loads(out):
        if opt["name"] == name:
            return opt["value"]
    raise RuntimeError("meson introspect %s: no option %s" % (build, name))


def install_build(build):
    """The build dir to install from: BUILD_DIR if its prefix is /usr, else
    the private one (configured and built here). Returns (dir, installed
    by `meson install` with a rebuild?)."""
    if meson_option(build, "prefix") == PREFIX:
        return build, True
    print("# %s has prefix %s; a terminal's install is --prefix=%s: building %s"
          % (build, meson_option(build, "prefix"), PREFIX, os.path.relpath(PRIVATE_BUILD, SRC)))
    if not os.path.exists(os.path.join(PRIVATE_BUILD, "build.ninja")):
        rc, out, err = run(["meson", "setup", PRIVATE_BUILD, SRC, "--prefix=" + PREFIX],
                           timeout=BUILD_TIMEOUT_S)
        if rc != 0:
            raise RuntimeError("meson setup %s failed:\n%s%s" % (PRIVATE_BUILD, out[-3000:], err[-3000:]))
    elif meson_option(PRIVATE_BUILD, "prefix") != PREFIX:
        rc, out, err = run(["meson", "configure", PRIVATE_BUILD, "-Dprefix=" + PREFIX])
        if rc != 0:
            raise RuntimeError("meson configure %s failed: %s" % (PRIVATE_BUILD, err.strip()))
    # Only what is installed: the unit tests and tools are BUILD_DIR's business.
    # (ninja first regenerates build.ninja if a meson.build or template changed.)
    files = [os.path.relpath(f, PRIVATE_BUILD) for t in installed_targets(PRIVATE_BUILD)
             for f in t["filename"]]
    rc, out, err = run(["ninja", "-C", PRIVATE_BUILD] + files, timeout=BUILD_TIMEOUT_S)
    if rc != 0:
        raise RuntimeError("building %s in %s failed:\n%s%s"
                           % (" ".join(files), PRIVATE_BUILD, out[-3000:], err[-3000:]))
    return PRIVATE_BUILD, False


def installed_targets(build):
    rc, out, err = run(["meson", "introspect", build, "--targets"])
    if rc != 0:
        raise RuntimeError("meson introspect %s --targets: %s" % (build, err.strip()))
    return [t for t in json.loads(out) if t.get("installed")]


def parse_unit(path):
    """{key: [values]} of the [Service] and [Unit] sections, in order."""
    keys = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[" or "=" not in line:
                continue
            k, v = line.split("=", 1)
            keys.setdefault(k.strip(), []).append(v.strip())
    return keys


def unit_value(keys, key):
    return " ".join(keys.get(key, []))


def read_conf(path):
    cp = configparser.ConfigParser(comment_prefixes=(";", "#"), inline_comment_prefixes=None,
                                   interpolation=None)
    cp.read(path, encoding="utf-8")
    return cp


def conf_value(cp, section, key):
    v = cp.get(section, key, fallback=None)
    if v is not None and len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
    return v


def exposure(unit_path):
    """(overall exposure or None, the tool's complaint)."""
    rc, out, err = run(["systemd-analyze", "security", "--offline=yes", "--no-pager", unit_path])
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", out + err)
    if rc != 0 or m is None:
        return None, "exit %d: %s" % (rc, (err or out).strip()[-800:])
    return float(m.group(1)), ""


def verify(unit_path):
    """systemd-analyze verify's whole output ('' when it has nothing to say)."""
    rc, out, err = run(["systemd-analyze", "verify", "--no-pager", unit_path])
    text = (out + err).strip()
    if rc != 0 and not text:
        text = "exit %d" % rc
    return text


def rewrite_for_verify(root, src, dst):
    """Copies unit `src` to `dst` with each Exec*= word naming a file
    installed under `root` pointing there."""
    with open(src, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    for line in lines:
        m = re.match(r"^(Exec[A-Za-z]*=)(.*)$", line)
        if m:
            words = []
            for w in m.group(2).split(" "):
                bare = w.lstrip("-@:+!")
                if bare.startswith("/") and os.path.lexists(root + bare):
                    w = w[: len(w) - len(bare)] + root + bare
                words.append(w)
            line = m.group(1) + " ".join(words)
        out.append(line)
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def check_tree(root, build):
    for rel, src, mode in TREE:
        path = os.path.join(root, rel)
        st = os.lstat(path) if os.path.lexists(path) else None
        if not check("installed: /%s" % rel, st is not None and stat.S_ISREG(st.st_mode), "missing"):
            continue
        if src is not None:
            check("/%s is %s" % (rel, src), filecmp.cmp(path, os.path.join(SRC, src), shallow=False),
                  "differs from the source")
        if mode is not None:
            check("/%s has mode %04o" % (rel, mode), stat.S_IMODE(st.st_mode) == mode,
                  "mode %04o" % stat.S_IMODE(st.st_mode))
    # Whatever else the build installs (a program added later, say) is there.
    for t in installed_targets(build):
        for f in t.get("install_filename") or []:
            check("target %s installed as %s" % (t["name"], f), os.path.isfile(root + f), "missing")
    for prog in ("kiosk", "kiosk-sync"):
        path = os.path.join(root, "usr/bin", prog)
        rc, out, err = run([path, "--version"])
        check("/usr/bin/%s runs (--version)" % prog, rc == 0 and re.match(r"^%s \d" % re.escape(prog), out),
              "exit %d: %s" % (rc, (out + err).strip()[:200]))
    # The fonts and picture are where the binary looks for them.
    with open(os.path.join(build, "kiosk_build.h"), encoding="utf-8") as f:
        m = re.search(r'#define KIOSK_DATADIR "([^"]*)"', f.read())
    datadir = m.group(1) if m else ""
    check("KIOSK_DATADIR is /usr/share/kiosk", datadir == "/usr/share/kiosk", repr(datadir))
    check("fonts where KIOSK_DATADIR points",
          os.path.isfile(root + datadir + "/fonts/NotoSansSC-Kiosk-Regular.otf")
          and os.path.isfile(root + datadir + "/assets/insert-card.svg"), root + datadir)


def check_units(root):
    units = {}
    for name in EXPOSURE_TARGETS:
        path = os.path.join(root, UNIT_DIR, name)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        left = re.findall(r"@[A-Za-z_]+@", text)
        check("%s: no template placeholder left" % name, not left, " ".join(left))
        units[name] = keys = parse_unit(path)
        # Every path of ours in ExecStart= is installed.
        for w in unit_value(keys, "ExecStart").split():
            if w.startswith(("/usr/bin/kiosk", "/etc/kiosk/")):
                check("%s: ExecStart's %s is installed" % (name, w), os.path.isfile(root + w), "missing")
    for name, key, want, why in UNIT_SETTINGS:
        if name not in units:
            check("%s %s" % (name, key), False, "unit not installed")
            continue
        got = unit_value(units[name], key)
        ok = want.search(got) is not None if isinstance(want, re.Pattern) else got == want
        check("%s: %s=%s (%s)" % (name, key, getattr(want, "pattern", want), why), ok, "got %r" % got)
    if "kiosk.service" in units:
        fams = unit_value(units["kiosk.service"], "RestrictAddressFamilies").split()
        check("kiosk.service: no Internet address family", not {"AF_INET", "AF_INET6"} & set(fams),
              " ".join(fams))
        # The kiosk picks the GL that carries its frame under Wayland
        # (display.c: GLES 2, 10 % sooner to the first frame than SDL's
        # default); an Environment= would outrank its choice.
        env = unit_value(units["kiosk.service"], "Environment")
        check("kiosk.service: no SDL_FRAMEBUFFER_ACCELERATION (the kiosk chooses)",
              "SDL_FRAMEBUFFER_ACCELERATION" not in env, env)
    return units


def check_conf(root, units):
    path = os.path.join(root, "etc/kiosk/kiosk.conf")
    if not os.path.isfile(path):
        return
    cp = read_conf(path)
    for section, key, want in PRODUCTION_CONF:
        got = conf_value(cp, section, key)
        check("kiosk.conf [%s] %s = %r (production)" % (section, key, want), got == want, "got %r" % got)
    if "kiosk.service" not in units or "kiosk-sync.service" not in units:
        return
    outbox = conf_value(cp, "outbox", "dir") or ""
    state = ["/var/lib/" + d for d in unit_value(units["kiosk.service"], "StateDirectory").split()]
    check("kiosk.conf's outbox is kiosk.service's StateDirectory", outbox in state, "%s not in %s" % (outbox, state))
    check("kiosk.conf's outbox is bound into kiosk-sync.service",
          outbox in unit_value(units["kiosk-sync.service"], "BindPaths").split(), outbox)
    sock = conf_value(cp, "sync", "socket") or ""
    rundir = "/run/" + unit_value(units["kiosk-sync.service"], "RuntimeDirectory")
    check("kiosk.conf's sync socket is in kiosk-sync's RuntimeDirectory", os.path.dirname(sock) == rundir,
          "%s vs %s" % (sock, rundir))


def check_users_and_dirs(root, units):
    """Runs the snippets against ROOT and checks what they made."""
    if os.geteuid() != 0:
        skip("sysusers.d and tmpfiles.d applied to the tree", "needs root (they chown)")
        return
    rc, out, err = run(["systemd-sysusers", "--root=" + root])
    if not check("systemd-sysusers --root applies sysusers.d/kiosk.conf", rc == 0, err.strip()):
        return
    # A kiosk.conf and a key as a provisioned terminal has them, so that the
    # z lines have something to adjust.
    os.makedirs(os.path.join(root, "etc/kiosk/tls"), exist_ok=True)
    with open(os.path.join(root, "etc/kiosk/tls/client.key"), "w", encoding="ascii") as f:
        f.write("not a key\n")
    rc, out, err = run(["systemd-tmpfiles", "--root=" + root, "--create"])
    check("systemd-tmpfiles --root --create applies tmpfiles.d/kiosk.conf", rc == 0 and not err.strip(),
          "exit %d: %s" % (rc, err.strip()))
    users, groups = {}, {}
    with open(os.path.join(root, "etc/passwd"), encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split(":")
            users[p[0]] = (int(p[2]), int(p[3]), p[6])
    with open(os.path.join(root, "etc/group"), encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split(":")
            groups[p[0]] = (int(p[2]), [m for m in p[3].split(",") if m])
    for u in ("kiosk", "kiosk-sync"):
        check("user %s exists, with no login shell" % u,
              u in users and users[u][0] != 0 and users[u][2].endswith("nologin"), repr(users.get(u)))
    check("group kiosk-ipc has kiosk and kiosk-sync",
          "kiosk-ipc" in groups and {"kiosk", "kiosk-sync"} <= set(groups["kiosk-ipc"][1]),
          repr(groups.get("kiosk-ipc")))
    for name, keys in units.items():
        for key, table in (("User", users), ("Group", groups)):
            v = unit_value(keys, key)
            check("%s's %s=%s is made by sysusers.d" % (name, key, v), v in table, "unknown")
    uid = lambda n: users.get(n, (-1,))[0]
    gid = lambda n: groups.get(n, (-1,))[0]
    want = [  # path, mode, owner uid, group gid
        ("var/lib/kiosk/outbox", 0o770, uid("kiosk"), gid("kiosk-ipc")),
        ("var/lib/kiosk/outbox.dead", 0o770, uid("kiosk"), gid("kiosk-ipc")),
        ("etc/kiosk", 0o750, 0, gid("kiosk-ipc")),
        ("etc/kiosk/kiosk.conf", 0o640, 0, gid("kiosk-ipc")),
        ("etc/kiosk/tls/client.key", 0o400, uid("kiosk-sync"), 0),
    ]
    for rel, mode, owner, group in want:
        path = os.path.join(root, rel)
        st = os.lstat(path) if os.path.lexists(path) else None
        got = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) if st else None
        check("/%s is %04o %d:%d" % (rel, mode, owner, group), got == (mode, owner, group),
              "got %s" % ("%04o %d:%d" % got if got else "nothing"))


def check_systemd_analyze(root, tmp):
    rc, out, err = run(["systemd-analyze", "--version"])
    if not check("systemd-analyze is there", rc == 0, "install the systemd package (scripts/install-deps.sh)"):
        return
    vdir = os.path.join(tmp, "verify")
    os.mkdir(vdir)
    for name, target in EXPOSURE_TARGETS.items():
        installed = os.path.join(root, UNIT_DIR, name)
        if not os.path.isfile(installed):
            check("%s verifies" % name, False, "not installed")
            continue
        copy = os.path.join(vdir, name)
        rewrite_for_verify(root, installed, copy)
        said = verify(copy)
        check("systemd-analyze verify %s: nothing to say" % name, said == "", said)
        level, why = exposure(installed)
        check("systemd-analyze security --offline=yes %s: exposure %s <= %.1f" % (name, level, target),
              level is not None and level <= target, why or "above the target")
        print("# exposure %s: %s" % (name, level))
    negative_controls(root, tmp)


def negative_controls(root, tmp):
    """The checks above must be able to fail."""
    src = os.path.join(root, UNIT_DIR, "kiosk-sync.service")
    if os.path.isfile(src):
        loose = os.path.join(tmp, "loose")
        os.mkdir(loose)
        with open(src, encoding="utf-8") as f:
            kept = [l for l in f if "=" not in l or l.lstrip().startswith("#")
                    or l.split("=", 1)[0].strip() in LOOSEN_KEEP or l.startswith(("Description", "Wants", "After"))]
        with open(os.path.join(loose, "kiosk-sync.service"), "w", encoding="utf-8") as f:
            f.writelines(kept)
        level, why = exposure(os.path.join(loose, "kiosk-sync.service"))
        target = EXPOSURE_TARGETS["kiosk-sync.service"]
        check("negative control: kiosk-sync.service without its hardening exceeds %.1f (%s)" % (target, level),
              level is not None and level > target, why or "not above the target")
    src = os.path.join(root, UNIT_DIR, "kiosk.service")
    if os.path.isfile(src):
        bad = os.path.join(tmp, "bad")
        os.mkdir(bad)
        with open(src, encoding="utf-8") as f:
            text = f.read().replace("ProtectSystem=strict", "ProtectSytem=strict")
        rewrite_dst = os.path.join(bad, "kiosk.service")
        with open(rewrite_dst, "w", encoding="utf-8") as f:
            f.write(text)
        said = verify(rewrite_dst)
        check("negative control: verify speaks of a misspelt key", "ProtectSytem" in said, repr(said[:200]))


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build"))
    keep = os.environ.get("KIOSK_TEST_KEEP")
    tmp = tempfile.mkdtemp(prefix="kiosk-install-")
    root = os.path.join(tmp, "root")
    try:
        try:
            inst, rebuild = install_build(build)
        except (RuntimeError, ValueError) as e:
            check("a --prefix=%s build to install" % PREFIX, False, str(e))
            return
        argv = ["meson", "install", "-C", inst, "--destdir", root, "--quiet"]
        if not rebuild:
            argv.append("--no-rebuild")
        rc, out, err = run(argv, timeout=BUILD_TIMEOUT_S)
        if not check("meson install -C %s --destdir ROOT" % os.path.relpath(inst, SRC), rc == 0,
                     (out + err)[-3000:]):
            return
        check_tree(root, inst)
        units = check_units(root)
        check_conf(root, units)
        check_users_and_dirs(root, units)
        check_systemd_analyze(root, tmp)
    finally:
        if keep:
            print("# kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        print("%d passed, %d failed" % (passed, failed))


if __name__ == "__main__":
    main()
    sys.exit(1 if failed else 0)
