#!/usr/bin/python3
"""The Debian package (issue 11).  Standard library only.

    tests/deb/test_deb.py [--no-build] [OUT_DIR]     (default: tests/out/deb)

1. Builds the package with scripts/build-deb.sh into OUT_DIR (a copy of the
   checkout in a temporary directory, so the worktree stays clean), unless
   --no-build is given and OUT_DIR already holds a .deb.
2. lintian on the .changes: any E: line fails; the W: lines are printed and
   must be the ones README.md ("Debian package") explains, no others.
3. `dpkg-deb -c`: the programs, units, snippets, fonts, picture,
   docs and kiosk.conf are there, with their modes; nothing of tests/.
4. `dpkg-deb -I`: kiosk.conf is a conffile; Depends has the runtime needs
   shlibs cannot see; the maintainer scripts create the users before the
   directories (sysusers before tmpfiles), enable both units, start
   kiosk-sync but not kiosk, and the postrm keeps undelivered records.

Prints one line per check and last "N passed, N failed"; exit status 0 only
when nothing failed.
"""

import glob
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(SRC, "tests", "out", "deb")
BUILD_TIMEOUT_S = 1200

# Path in the package, mode (None: not checked).
FILES = [
    ("usr/bin/kiosk", 0o755),
    ("usr/bin/kiosk-sync", 0o755),
    ("usr/bin/kiosk-code-hash", 0o755),
    ("etc/kiosk/kiosk.conf", 0o640),
    ("lib/systemd/system/kiosk.service", 0o644),
    ("lib/systemd/system/kiosk-sync.service", 0o644),
    ("usr/lib/sysusers.d/kiosk.conf", 0o644),
    ("usr/lib/tmpfiles.d/kiosk.conf", 0o644),
    ("usr/share/kiosk/fonts/NotoSansSC-Kiosk-Regular.otf", 0o644),
    ("usr/share/kiosk/fonts/NotoSansSC-Kiosk-Bold.otf", 0o644),
    ("usr/share/kiosk/fonts/LICENSE", 0o644),
    ("usr/share/kiosk/assets/insert-card.svg", 0o644),
    ("usr/share/kiosk/assets/LICENSE", 0o644),
    ("usr/share/kiosk/assets/voice/manifest.tsv", 0o644),
    ("usr/share/kiosk/assets/voice/zh/heading.IDLE.wav", 0o644),
    ("usr/share/kiosk/assets/voice/en/heading.IDLE.wav", 0o644),
    # Not compressed: the units' Documentation= names it.
    ("usr/share/doc/kiosk/production.md", 0o644),
    ("usr/share/doc/kiosk/copyright", 0o644),
    ("usr/share/doc/kiosk/changelog.Debian.gz", 0o644),
    ("usr/share/doc/kiosk/README.md.gz", 0o644),
]

# Runtime needs that no shared library brings in.
DEPENDS = ["cage", "xwayland", "pcscd", "fonts-noto-cjk", "systemd", "seatd"]

# The lintian warnings README.md explains (tag, what it is about).
KNOWN_WARNINGS = {
    "initial-upload-closes-no-bugs",
    "no-manual-page",
    "non-standard-file-perm",
}

# The install stage's check(): same lines, same counters (install.passed,
# install.failed); importing it runs nothing.
sys.path.insert(0, os.path.join(SRC, "tests", "install"))
import test_install as install  # noqa: E402

check = install.check


def run(argv, timeout=300, **kw):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=timeout, **kw)
        return p.returncode, p.stdout
    except FileNotFoundError:
        return 127, "%s: not found" % argv[0]
    except subprocess.TimeoutExpired:
        return 124, "%s: timed out" % argv[0]


def one(pattern):
    found = sorted(glob.glob(pattern))
    return found[-1] if found else None


def main():
    args = sys.argv[1:]
    build = True
    if args and args[0] == "--no-build":
        build = False
        args = args[1:]
    out = os.path.abspath(args[0]) if args else OUT

    if build or not one(os.path.join(out, "kiosk_*.deb")):
        rc, log = run([os.path.join(SRC, "scripts", "build-deb.sh")], timeout=BUILD_TIMEOUT_S,
                      env=dict(os.environ, OUT=out))
        with open(os.path.join(os.path.dirname(out), "deb-build.log"), "w") as f:
            f.write(log)
        took = re.search(r"dpkg-buildpackage took (\d+) s", log)
        check("dpkg-buildpackage -b -us -uc on a copy of the checkout%s"
              % (" (%s s)" % took.group(1) if took else ""), rc == 0, log[-2000:])
        tests = re.search(r"^Ok:\s+(\d+)\s*$.*?^Fail:\s+(\d+)", log, re.M | re.S)
        check("dh_auto_test ran the unit suite, none failed",
              tests is not None and int(tests.group(2)) == 0,
              tests.group(0) if tests else "no meson test summary in the build log")
        st = subprocess.run(["git", "-C", SRC, "status", "--porcelain"],
                            stdout=subprocess.PIPE, universal_newlines=True).stdout
        check("the worktree is left as it was (no obj-*/, debian/kiosk/)",
              not re.search(r"(^|/)(obj-[^/]*|debian/(kiosk|\.debhelper|files|debhelper-build-stamp))", st), st)

    deb = one(os.path.join(out, "kiosk_*_*.deb"))
    changes = one(os.path.join(out, "kiosk_*.changes"))
    if not check("a kiosk .deb and its .changes in %s" % out, deb and changes):
        return
    print("     %s: %d bytes" % (os.path.basename(deb), os.path.getsize(deb)))

    # 2. lintian
    rc, log = run(["lintian", "--no-tag-display-limit", changes])
    lines = [l for l in log.splitlines() if re.match(r"^[EW]: ", l)]
    for l in lines:
        print("     " + l)
    errors = [l for l in lines if l.startswith("E: ")]
    check("lintian: no errors", rc != 127 and not errors, "\n".join(errors) or log[-500:])
    tags = {l.split()[2] for l in lines if l.startswith("W: ") and len(l.split()) > 2}
    check("lintian: only the warnings README.md explains", tags <= KNOWN_WARNINGS,
          ", ".join(sorted(tags - KNOWN_WARNINGS)))

    # 3. contents
    rc, listing = run(["dpkg-deb", "-c", deb])
    modes = {}
    for l in listing.splitlines():
        f = l.split()
        if len(f) >= 6:
            path = f[5][2:] if f[5].startswith("./") else f[5]
            modes[path.rstrip("/")] = f[0]
    def octal(s):
        """-rw-r----- -> 0o640 (the nine permission letters only)."""
        v = 0
        for i, c in enumerate(s[1:10]):
            v |= (c != "-") << (8 - i)
        return v

    for path, mode in FILES:
        if check("contains /%s" % path, path in modes) and mode is not None:
            check("/%s is %o" % (path, mode), octal(modes[path]) == mode, modes[path])
    check("no test, benchmark or fault-injection program in the package",
          not [p for p in modes if re.search(r"(^|/)(test_|fleet-jitter|libfaultfs|fuzz_)", p)])
    check("all owned by root/root", all(re.search(r" root/root ", l) for l in listing.splitlines()))

    # 4. control
    with tempfile.TemporaryDirectory() as ctl:
        rc, _ = run(["dpkg-deb", "-e", deb, ctl])
        conffiles = open(os.path.join(ctl, "conffiles")).read().split() \
            if os.path.exists(os.path.join(ctl, "conffiles")) else []
        check("/etc/kiosk/kiosk.conf is a conffile", conffiles == ["/etc/kiosk/kiosk.conf"], str(conffiles))
        rc, depends = run(["dpkg-deb", "-f", deb, "Depends"])
        names = {d.strip().split()[0] for d in depends.replace("|", ",").split(",") if d.strip()}
        for d in DEPENDS:
            check("Depends: %s" % d, d in names, depends.strip())
        check("Depends has shlibs' libraries (libsdl2, libcurl4)",
              "libsdl2-2.0-0" in names and "libcurl4" in names, depends.strip())

        def script(name):
            p = os.path.join(ctl, name)
            return open(p).read() if os.path.exists(p) else ""
        postinst, prerm, postrm = script("postinst"), script("prerm"), script("postrm")
        su = postinst.find("systemd-sysusers")
        tf = postinst.find("systemd-tmpfiles")
        check("postinst: systemd-sysusers, then systemd-tmpfiles (the directories' owners exist)",
              0 <= su < tf, "sysusers at %d, tmpfiles at %d" % (su, tf))
        for unit in ("kiosk.service", "kiosk-sync.service"):
            check("postinst enables %s" % unit,
                  re.search(r"deb-systemd-helper enable '%s'" % re.escape(unit), postinst) is not None)
        check("postinst starts (restarts on upgrade) kiosk-sync.service only",
              re.search(r"deb-systemd-invoke \$_dh_action 'kiosk-sync.service'", postinst) is not None
              and not re.search(r"deb-systemd-invoke \S+ 'kiosk.service'", postinst))
        check("no preinst stops the kiosk before an upgrade", not script("preinst").count("kiosk.service"))
        check("prerm stops both units on removal",
              "deb-systemd-invoke stop kiosk.service" in prerm
              and re.search(r"deb-systemd-invoke stop 'kiosk-sync.service'", prerm) is not None)
        check("postrm purge keeps undelivered records and says so",
              "evt-*.json" in postrm and ">&2" in postrm)

        # The purge logic itself, on a fake /var/lib/kiosk: the script's
        # paths rewritten into a temporary root, debhelper's part cut off.
        own = postrm.split("# Automatically added by")[0]
        with tempfile.TemporaryDirectory() as root:
            for case, files, kept in (
                ("an outbox with a record", ["outbox/evt-000000000001.json", "outbox/seq",
                                             "outbox/.tmp-evt-000000000002.json"], True),
                ("an empty outbox", ["outbox/seq"], False),
                ("a dead letter only", ["outbox.dead/evt-000000000003.1.json"], True),
            ):
                state = os.path.join(root, "var/lib/kiosk")
                subprocess.run(["rm", "-rf", os.path.join(root, "var"), os.path.join(root, "run")])
                for d in ("outbox", "outbox.dead"):
                    os.makedirs(os.path.join(state, d))
                os.makedirs(os.path.join(root, "run/kiosk"))
                for f in files:
                    open(os.path.join(state, f), "w").close()
                body = own.replace("/var/lib/kiosk", state).replace("/run/", root + "/run/")
                p = subprocess.run(["sh", "-c", body, "postrm", "purge"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, universal_newlines=True)
                left = sorted(os.path.relpath(os.path.join(d, f), state)
                              for d, _, fs in os.walk(state) for f in fs) if os.path.isdir(state) else []
                record = [f for f in files if not f.endswith("seq") and "/.tmp-" not in f]
                if kept:
                    ok = (p.returncode == 0 and all(f in left for f in record)
                          and "keeps" in p.stderr and not any("/.tmp-" in f for f in left))
                else:
                    ok = p.returncode == 0 and not os.path.exists(state) and p.stderr == ""
                ok = ok and not os.path.exists(os.path.join(root, "run/kiosk"))
                check("purge of %s: %s" % (case, "record kept, said on stderr" if kept else "all removed"),
                      ok, "rc %d, left %s, stderr %r" % (p.returncode, left, p.stderr))


if __name__ == "__main__":
    main()
    print("%d passed, %d failed" % (install.passed, install.failed))
    sys.exit(1 if install.failed else 0)
