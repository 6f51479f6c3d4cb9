#!/usr/bin/env bash
# The C ABI figure (BENCHMARKS.md): revocard_verifier_verify timed from C against
# Verifier::verify timed in Rust, on the same credential, the same machine, in one
# run. ROUNDS rounds (default 5), each running the Rust timing, the C timing, and the
# Rust timing again, so that a noisy neighbour hits both sides alike. Each program
# reports its fastest batch (BATCHES batches of PER_BATCH verifications: noise only
# ever adds time). A round's ratio is C over the faster Rust run; its noise line is
# the slower Rust run over the faster. Prints every round and the median ratio.
#
#   bash ffi/bench/abi_ratio.sh [ROUNDS] [BATCHES] [PER_BATCH]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-5}"
batches="${2:-30}"
per_batch="${3:-500}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cargo build --release -q -p revocard-ffi --lib --example abi_timing
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -std=c11 -O2 -I ffi/include ffi/bench/verify_timing.c -o "$work/verify_timing" \
    target/release/librevocard_ffi.a -lpthread -ldl -lm -lrt -lutil -lgcc_s
target/release/examples/abi_timing fixtures "$work/fixtures"
rust_time() {
    target/release/examples/abi_timing time "$work/fixtures" "$batches" "$per_batch" |
        awk '/rust_ns_per_verify/ {print $2}'
}
ratios=()
for round in $(seq 1 "$rounds"); do
    rust1=$(rust_time)
    c_out=$("$work/verify_timing" "$work/fixtures" "$batches" "$per_batch")
    rust2=$(rust_time)
    c=$(awk '/^c_ns_per_verify / {print $2}' <<<"$c_out")
    bare=$(awk '/^c_ns_per_verify_no_verdict / {print $2}' <<<"$c_out")
    line=$(awk -v c="$c" -v b="$bare" -v r1="$rust1" -v r2="$rust2" 'BEGIN {
        r = r1 < r2 ? r1 : r2; s = r1 < r2 ? r2 : r1;
        printf "%.3f Rust %d/%d ns, C %d ns with verdict, %d ns without: C/Rust %.3fx (without verdict %.3fx), Rust noise %.3fx",
            c / r, r1, r2, c, b, c / r, b / r, s / r }')
    ratios+=("${line%% *}")
    echo "round $round: ${line#* }"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median C/Rust (C with verdict): ${median}x over ${rounds} rounds"
