"""cagerun.py - programs run as kiosk.service runs the kiosk: under cage, on
wlroots' headless backend, with the unit's environment. Shared by
tests/integration/test_wayland.py and tests/bench/startup.py.

cage refuses to start as root (it checks that it could not get root back;
on a terminal it runs as the kiosk user): as root, cage and its client run
as `nobody` from a directory of their own, and from copies there of what
they run and read when `nobody` cannot reach the checkout (under /root,
say).
"""
import os
import pwd
import shutil
import subprocess

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def available():
    """Debian's cage is built with XWayland and will not start without it
    (the package depends on both, debian/control): one without the other
    is a machine set up halfway, not a terminal."""
    return bool(shutil.which("cage") and shutil.which("Xwayland"))


def nobody_reads(path):
    """True if `nobody` can reach and read `path`."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           "test", "-r", path], check=False).returncode == 0


def setup(base_env, d, files):
    """(env, popen_kw, note, files) to run `cage -- PROGRAM`; None when cage
    or Xwayland is not installed. d becomes the runs' directory (made over
    to the user cage runs as); `files`, the programs and scripts cage will
    run, come back as they are or as their copies in d (with the fonts and
    pictures, KIOSK_DATADIR) when that user cannot reach them."""
    if not available():
        return None
    popen_kw, note = {}, ""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        popen_kw = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        os.chown(d, nobody.pw_uid, nobody.pw_gid)
        note = "run as nobody (cage refuses root)"
    xdg = os.path.join(d, "xdg")
    os.mkdir(xdg, 0o700)
    if popen_kw:
        os.chown(xdg, popen_kw["user"], popen_kw["group"])
    # systemd/kiosk.service.in's environment; its CAGE_ARGS is empty (the
    # boot test's "-r -r" only makes cage composite for grim's sake). No
    # SDL_FRAMEBUFFER_ACCELERATION nor KIOSK_FRAME_GL: each program chooses
    # the GL of its frame (the kiosk GLES 2, the floor SDL's default), and
    # a technician's setting would choose for both.
    env = dict(base_env, XDG_RUNTIME_DIR=xdg, WLR_BACKENDS="headless", WLR_LIBINPUT_NO_DEVICES="1",
               SDL_VIDEODRIVER="wayland", MESA_SHADER_CACHE_DISABLE="true")
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_FRAMEBUFFER_ACCELERATION", "KIOSK_FRAME_GL"):
        env.pop(k, None)
    if popen_kw and not all(nobody_reads(p) for p in list(files) + [os.path.join(TOP, "fonts")]):
        for sub in ("fonts", "assets"):
            shutil.copytree(os.path.join(TOP, sub), os.path.join(d, "data", sub))
        files = [shutil.copy(f, os.path.join(d, os.path.basename(f))) for f in files]
        env["KIOSK_DATADIR"] = os.path.join(d, "data")
        note += "; from copies in its directory (nobody cannot reach the checkout)"
    return env, popen_kw, note, list(files)
