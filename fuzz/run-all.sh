#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 60), one after another, and prints
# libFuzzer's closing line ("Done <execs> runs in <seconds> second(s)") for each.
#
#   fuzz/run-all.sh [SECONDS]
#
# Needs a nightly toolchain and cargo-fuzz (see FUZZING.md). Each target grows its corpus
# under fuzz/corpus/<target>/ (set FUZZ_CORPUS_ROOT to use another directory, e.g. a scratch
# copy); a crash stops that target, leaves its input under fuzz/artifacts/<target>/ and
# makes the script exit non-zero after the remaining targets have run. SANITIZER picks
# cargo-fuzz's sanitizer (default address; `none` runs about 5x faster on the targets that
# check signatures).
set -uo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
corpus_root="${FUZZ_CORPUS_ROOT:-corpus}"
sanitizer="${SANITIZER:-address}"
logs="$(mktemp -d)"
targets=$(cargo +nightly fuzz list)
cargo +nightly fuzz build -s "$sanitizer" || exit 1
failed=0
for target in $targets; do
    mkdir -p "$corpus_root/$target"
    echo "== $target: ${seconds}s"
    if ! cargo +nightly fuzz run -s "$sanitizer" "$target" "$corpus_root/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$logs/$target.log" 2>&1; then
        echo "!! $target failed: see $logs/$target.log and fuzz/artifacts/$target/"
        tail -n 40 "$logs/$target.log"
        failed=1
    fi
done
echo "== summary (logs in $logs)"
for target in $targets; do
    printf '%-16s %s\n' "$target" "$(grep -E '^Done [0-9]+ runs' "$logs/$target.log" | tail -n 1)"
done
exit "$failed"
