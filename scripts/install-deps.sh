#!/bin/sh
# Installs the Debian 12 packages the kiosk needs to build, run and test,
# and only those that are missing (so a second `make` costs nothing).
set -eu

PKGS="gcc make meson ninja-build pkg-config python3 python3-fonttools espeak-ng
libsdl2-dev libsdl2-ttf-dev libpng-dev libinih-dev libcjson-dev libpcsclite-dev libcurl4-openssl-dev
pcscd vsmartcard-vpcd opensc clang libclang-rt-14-dev
fonts-noto-cjk xvfb xauth valgrind procps util-linux iproute2 openssl curl systemd
git dpkg-dev debhelper lintian systemd-container mmdebstrap grim cage xwayland"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
