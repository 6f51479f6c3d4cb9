#!/usr/bin/env bash
# The C ABI figure without the noise of a shared machine: instructions per
# verification counted by valgrind's callgrind (repeatable whatever else runs), for
# revocard_verifier_verify called from C (with the verdict handed out and freed) and
# Verifier::verify called from Rust, on the same credential. Each program runs its
# warm-up loop only (BATCHES = 0) with K1 and then K2 verifications; the difference of
# the totals over K2 - K1 is the cost of one, set-up excluded.
#
#   bash ffi/bench/abi_instructions.sh [K1] [K2]
set -euo pipefail
cd "$(dirname "$0")/../.."
k1="${1:-100}"
k2="${2:-300}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cargo build --release -q -p revocard-ffi --lib --example abi_timing
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -std=c11 -O2 -I ffi/include ffi/bench/verify_timing.c -o "$work/verify_timing" \
    target/release/librevocard_ffi.a -lpthread -ldl -lm -lrt -lutil -lgcc_s
target/release/examples/abi_timing fixtures "$work/fixtures"
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
        awk '/Collected :/ {print $4}'
}
c1=$(count "$work/verify_timing" "$work/fixtures" 0 "$k1")
c2=$(count "$work/verify_timing" "$work/fixtures" 0 "$k2")
r1=$(count target/release/examples/abi_timing time "$work/fixtures" 0 "$k1")
r2=$(count target/release/examples/abi_timing time "$work/fixtures" 0 "$k2")
awk -v c1="$c1" -v c2="$c2" -v r1="$r1" -v r2="$r2" -v k1="$k1" -v k2="$k2" 'BEGIN {
    c = (c2 - c1) / (k2 - k1); r = (r2 - r1) / (k2 - k1);
    printf "instructions per verification: C ABI %.0f, Rust %.0f: C/Rust %.4fx\n", c, r, c / r }'
