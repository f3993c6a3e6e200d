#!/usr/bin/env bash
# run.sh [SECONDS] - builds fuzz_card (clang + libFuzzer + ASan + UBSan) in
# its own build dir and fuzzes the card layer for SECONDS (default 60).
#
#   SECONDS = 0        replay the committed corpus (and the scratch corpus)
#                      once, no mutation: a quick regression run
#   FUZZ_BUILD_DIR     build dir (default <repo>/build-fuzz)
#   FUZZ_TIMEOUT       seconds one input may take before it counts as a hang (10)
#   FUZZ_FORK=N        run N fuzzing processes (libFuzzer -fork=N)
#   FUZZ_UPDATE_CORPUS=1  after a clean run, merge the inputs that add
#                      coverage into the committed tests/fuzz/corpus/card
#
# New inputs go to tests/out/fuzz-corpus-card (scratch, not committed);
# crash, timeout and leak inputs to tests/out/fuzz-card-*; the whole output
# to tests/out/fuzz-card.log. The last line is "N passed, N failed" for CI.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-60}
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
out=$root/tests/out
scratch=$out/fuzz-corpus-card
corpus=$here/corpus/card
log=$out/fuzz-card.log
bin=$build/tests/fuzz/fuzz_card

fail() {
    echo "run.sh: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}

case $secs in
'' | *[!0-9]*) fail "SECONDS must be a whole number, not '$secs'" ;;
esac
case ${FUZZ_TIMEOUT:-10} in
'' | *[!0-9]* | 0) fail "FUZZ_TIMEOUT must be a positive whole number" ;;
esac
command -v clang >/dev/null || fail "clang not found: apt-get install -y clang libclang-rt-14-dev"
command -v meson >/dev/null && command -v ninja >/dev/null || fail "meson and ninja are needed"
mkdir -p "$out" "$scratch" || fail "cannot create $out"

if [ -f "$build/build.ninja" ]; then
    meson configure "$build" -Dfuzz=true -Db_lundef=false >/dev/null ||
        fail "cannot reconfigure $build (made with another compiler? remove it)"
else
    CC=clang meson setup "$build" "$root" -Dfuzz=true -Db_lundef=false >"$out/fuzz-card-setup.log" 2>&1 ||
        fail "meson setup failed, see $out/fuzz-card-setup.log"
fi
ninja -C "$build" tests/fuzz/fuzz_card || fail "build failed (is libclang-rt-14-dev installed?)"

args=(
    -timeout="${FUZZ_TIMEOUT:-10}"
    -rss_limit_mb=2048
    -max_len=4096
    -dict="$here/card.dict"
    -print_final_stats=1
    -artifact_prefix="$out/fuzz-card-"
)
if [ "$secs" -eq 0 ]; then
    args+=(-runs=0)
else
    args+=(-max_total_time="$secs")
fi
if [ -n "${FUZZ_FORK:-}" ]; then
    args+=(-fork="$FUZZ_FORK")
fi

# The scratch dir comes first: libFuzzer writes new inputs to the first dir.
"$bin" "${args[@]}" "$scratch" "$corpus" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

if [ "$rc" -ne 0 ]; then
    echo "run.sh: fuzz_card failed (exit $rc); the input is kept:" >&2
    grep -E "Test unit written to|artifact_prefix" "$log" | sed 's/^/  /' >&2
    echo "  replay: $bin <that file>   (FUZZ_CARD_LOG=1 shows the card layer's log)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ]; then
    "$bin" -merge=1 -max_len=4096 "$corpus" "$scratch" >>"$log" 2>&1 ||
        fail "corpus merge failed, see $log"
    kb=$(( $(cat "$corpus"/* | wc -c) / 1024 ))
    echo "run.sh: committed corpus now $(ls "$corpus" | wc -l) files, ${kb} KB" >&2
    [ "$kb" -lt 200 ] || echo "run.sh: warning: corpus over 200 KB, prune it" >&2
fi
echo "1 passed, 0 failed"
