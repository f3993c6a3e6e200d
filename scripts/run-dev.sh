#!/bin/sh
# `make run`: the kiosk in a window on the simulated card, with the card
# status stand-in on the sync socket (kiosk-sync and the bureau stand-in
# take its place once they exist). F1 inserts the test card A12345678
# (PIN 123456), F2 pulls it; the control socket is tests/out/dev/control.sock.
set -eu
BUILD=${1:-build}
PY=/usr/bin/python3

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${SDL_VIDEODRIVER:-}" ]; then
    cat >&2 <<'MSG'
make run: no display here (DISPLAY and WAYLAND_DISPLAY are unset).
  On a desktop, run it from a terminal in the desktop session.
  Over ssh: ssh -X, or a virtual screen you can look at with screenshots:
      xvfb-run -s "-screen 0 1920x1080x24" make run
  Headless, driven only through the control socket:
      SDL_VIDEODRIVER=dummy make run
MSG
    exit 1
fi

mkdir -p tests/out/dev
$PY tests/integration/fake_sync.py --socket tests/out/dev/sync.sock \
    --statuses tests/dev/statuses.json --default unknown &
SYNC_PID=$!
trap 'kill "$SYNC_PID" 2>/dev/null; wait "$SYNC_PID" 2>/dev/null || true' EXIT INT TERM

echo "kiosk: F1 insert card A12345678 (PIN 123456), F2 pull it, Esc cancel, F3 language, F12 overlay"
shift || true
"$BUILD/kiosk" --windowed --config tests/dev/kiosk-dev.conf "$@"
