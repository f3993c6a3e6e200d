#!/bin/sh
# `make deb`: builds the Debian package (debian/) out of tree and puts
# kiosk_*.deb, its .changes and .buildinfo in OUT (default tests/out/deb).
# dpkg-buildpackage writes into the parent of the source tree and leaves
# obj-*/ and debian/kiosk/ behind, so it runs on a copy in a temporary
# directory: the checkout stays clean. The copy is what git would commit
# (tracked and untracked files, less ignored ones), so it is also the
# "clean checkout" build. Extra arguments go to dpkg-buildpackage; set
# DEB_BUILD_OPTIONS=nocheck to skip the unit tests.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$SRC/tests/out/deb}
VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
UPSTREAM=${VERSION%-*}

TMP=$(mktemp -d /tmp/kiosk-deb.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
TREE=$TMP/kiosk-$UPSTREAM
mkdir "$TREE"
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf -) | tar -xf - -C "$TREE"

start=$(date +%s)
(cd "$TREE" && dpkg-buildpackage -b -us -uc "$@")
echo "build-deb: dpkg-buildpackage took $(( $(date +%s) - start )) s"

mkdir -p "$OUT"
rm -f "$OUT"/kiosk*_*.deb "$OUT"/kiosk_*.changes "$OUT"/kiosk_*.buildinfo
mv "$TMP"/*.deb "$TMP"/*.changes "$TMP"/*.buildinfo "$OUT"/
ls -l "$OUT"
