#!/bin/bash
# `make test`: every suite, on the plain build and again under ASan+UBSan,
# and one full journey under valgrind. Each stage prints its own results;
# the last line sums them up in the form CI reads: "N passed, N failed".
set -u
BUILD=${1:-build}
ASAN=${2:-build-asan}
PY=/usr/bin/python3
OUT=tests/out
mkdir -p "$OUT"

passed=0
failed=0

# Adds a stage's "N passed, N failed" (its last such line) to the totals; a
# stage that died before printing one counts as one failure.
count() {
    local log=$1 rc=$2 line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        failed=$((failed + 1))
        echo "== $log: no result line (exit $rc)"
        return
    fi
    p=${line%% passed*}
    f=${line#*, }
    f=${f%% failed*}
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        failed=$((failed + 1))
        echo "== $log: exit $rc with no failed test"
    fi
}

# meson test prints Ok:/Fail: counts; turn them into the common line.
unit() {
    local dir=$1 log=$2 rc ok fail
    meson test -C "$dir" --print-errorlogs --num-processes 2 >"$log" 2>&1
    rc=$?
    ok=$(awk '/^Ok:/ {print $2}' "$log")
    fail=$(awk '/^Fail:/ {print $2}' "$log")
    tail -n 25 "$log"
    echo "${ok:-0} passed, ${fail:-1} failed" >>"$log"
    count "$log" "$rc"
}

integration() {
    local log=$1 rc
    shift
    "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    count "$log" "$rc"
}

# Only the PC/SC stage below runs test_pcsc (in namespaces of its own).
unset KIOSK_TEST_PCSC
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

echo "== unit tests ($BUILD)"
unit "$BUILD" "$OUT/unit.log"
echo "== integration tests ($BUILD)"
integration "$OUT/integration.log" env KIOSK_BIN="$BUILD/kiosk" $PY tests/integration/run.py
echo "== unit tests under ASan+UBSan ($ASAN)"
unit "$ASAN" "$OUT/unit-asan.log"
echo "== integration tests under ASan+UBSan ($ASAN)"
integration "$OUT/integration-asan.log" env KIOSK_BIN="$ASAN/kiosk" KIOSK_SYNC_BIN="$ASAN/src/syncd/kiosk-sync" \
    $PY tests/integration/run.py
echo "== a full journey and a PIN reset under valgrind ($BUILD)"
integration "$OUT/valgrind.log" env KIOSK_BIN="$BUILD/kiosk" KIOSK_TEST_SLOW=10 \
    KIOSK_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite" \
    $PY tests/integration/run.py -k happy_path -k test_forgotten_pin_reset_then_new_pin

# pcscd owns /run/pcscd and vpcd's ports: the PC/SC suite runs in namespaces
# of its own (root), each test starting and stopping its own pcscd by pid.
echo "== the kiosk on a real pcscd with vpcd test cards ($BUILD, isolated namespaces)"
integration "$OUT/pcsc.log" env KIOSK_BIN="$BUILD/kiosk" KIOSK_TEST_PCSC=1 \
    tests/card/isolated.sh $PY tests/integration/run.py -k test_pcsc

# The test cards themselves: vcard.py's card logic held against sim_card.c
# (random command sequences, the reset MAC against Python's hmac), then
# vcard.py on a real pcscd through opensc-tool (about 75 s).
echo "== the test cards: vcard.py against the simulated card, then on a real pcscd (tests/card)"
integration "$OUT/cards.log" sh -c "$PY tests/card/check_sim.py --rounds 400 && \
    tests/card/isolated.sh $PY tests/card/test_vcard.py"

echo "== the bureau stand-in's own tests (mutual TLS, contract, fault switches)"
integration "$OUT/bureau-standin.log" $PY tests/bureau/test_standin.py

echo "== the card layer fuzzed with arbitrary replies (libFuzzer, ASan+UBSan, 60 s)"
integration "$OUT/fuzz.log" tests/fuzz/run.sh 60

# Needs no display, reader or network; root only to apply the sysusers.d and
# tmpfiles.d snippets to the temporary tree (skipped otherwise).
echo "== the production install: meson install --destdir, systemd-analyze verify and security ($BUILD)"
integration "$OUT/install.log" $PY tests/install/test_install.py "$BUILD"

# Builds its own package from a copy of the checkout (dh builds in obj-*/ and
# reuses nothing of $BUILD: a minute or two on 2 cores), then lintian and
# the package's contents and maintainer scripts.
echo "== the Debian package: dpkg-buildpackage on a copy, lintian, dpkg-deb -c/-I (tests/out/deb)"
integration "$OUT/deb.log" $PY tests/deb/test_deb.py

# That package in a bookworm root file system (cached under tests/out/boot/,
# remade when its package list changes: ~45 s), booted with systemd as
# PID 1 under systemd-nspawn: the units live, the watchdog, the sandbox,
# enforcement with negative controls, a journey (about 3 minutes).
echo "== the package on a booted terminal: mmdebstrap + systemd-nspawn -b (tests/boot)"
integration "$OUT/boot.log" $PY tests/boot/boot_test.py

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
