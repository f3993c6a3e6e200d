#!/bin/sh
# isolated.sh - runs a command in a pcscd world of its own (root only).
#
# pcscd owns /run/pcscd/pcscd.comm and vpcd's TCP ports 35963/35964, so two
# test runs on one machine (or a developer's pcscd and a test run) collide.
# This gives the command private namespaces: mount (a tmpfs on /run/pcscd),
# network (its own loopback, so its own ports), and pid (its own /proc, so
# "is another pcscd running?" only sees its own). When the command ends,
# everything it started inside ends with it (it is the namespace's init).
#
#   tests/card/isolated.sh /usr/bin/python3 tests/card/test_vcard.py
#   tests/card/isolated.sh /usr/bin/python3 tests/integration/pcscd.py --self-test
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "isolated.sh: needs root (unshare of mount, net and pid namespaces)" >&2
    exit 2
fi
# The mount point must exist outside to be covered inside; pcscd makes it anyway.
mkdir -p /run/pcscd
exec unshare --mount --net --pid --fork --mount-proc --kill-child sh -c '
    set -eu
    ip link set lo up
    mount -t tmpfs -o mode=0755 none /run/pcscd
    exec "$@"' isolated.sh "$@"
