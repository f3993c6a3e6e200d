#!/bin/sh
# `make run`: the kiosk in a window on the simulated card, kiosk-sync, and
# the local bureau stand-in. F1 inserts the test card A12345678 (PIN
# 123456), F2 pulls it; the control socket is tests/out/dev/control.sock.
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

mkdir -p tests/out/dev && mkdir -p -m 0700 tests/out/dev/outbox
# The whole chain on one machine: the bureau stand-in (mutual TLS), kiosk-sync
# delivering the outbox to it and answering the kiosk's card-status
# questions, and the kiosk. The stand-in prints every event it records.
[ -f tests/out/dev/certs/client.pem ] || tests/bureau/make-certs.sh tests/out/dev/certs DEV-0001 >/dev/null
$PY tests/bureau/standin.py --port 18443 --control 18444 --certs tests/out/dev/certs \
    --terminal-id DEV-0001 --statuses tests/dev/statuses.json &
BUREAU_PID=$!
# kiosk-sync's first heartbeat goes at once: let the stand-in listen first
# (its control port opens after its TLS port).
for _ in $(seq 50); do
    $PY -c 'import socket; socket.create_connection(("127.0.0.1", 18444), 0.2).close()' \
        2>/dev/null && break
    sleep 0.1
done
"$BUILD/src/syncd/kiosk-sync" --config tests/dev/kiosk-dev.conf &
SYNC_PID=$!
trap 'kill "$SYNC_PID" "$BUREAU_PID" 2>/dev/null; wait "$SYNC_PID" "$BUREAU_PID" 2>/dev/null || true' EXIT INT TERM

echo "kiosk: F1 insert card A12345678 (PIN 123456), F2 pull it, Esc cancel, F3 language, F12 overlay"
shift || true
"$BUILD/kiosk" --windowed --config tests/dev/kiosk-dev.conf "$@"
