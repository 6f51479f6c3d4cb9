#!/usr/bin/env bash
# The figures of issues 21 and 23 in one sitting, three runs each, with the load before
# each run (BENCHMARKS.md, "Issue 23 and issue 21 on one quieter machine"). Run it on a
# machine with nothing else running: `bash scripts/quiet-figures.sh > figures.txt`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --features pkcs11,serve,feed --examples >&2
note() { echo "== $* | $(date -u +%H:%M:%S) | load $(cut -d' ' -f1-3 /proc/loadavg)"; }
for i in 1 2 3; do
    note "reissue_batch 47000 run $i"
    target/release/examples/reissue_batch --json 2>/dev/null | tail -1
done
for i in 1 2 3; do
    note "door_controller run $i"
    target/release/examples/door_controller --json 2>/dev/null | tail -1
done
for n in 1000 10000; do
    for i in 1 2 3; do
        note "fleet $n run $i"
        target/release/examples/fleet --doors "$n" --json 2>/dev/null | tail -1
    done
done
for i in 1 2 3; do
    note "reissue with the signing key in SoftHSM, beside the software key, run $i"
    bash scripts/with-softhsm bash -c '
        softhsm2-util --init-token --free --label office --pin 1234 --so-pin 5678 >/dev/null
        softhsm2-util --init-token --free --label vault --pin 1234 --so-pin 5678 >/dev/null
        REVOCARD_PIN=1234 target/release/examples/reissue_batch --count 47000 --json \
            --hsm "pkcs11:token=office;object=signing" --root-hsm "pkcs11:token=vault;object=root" \
            --compare-software 2>/dev/null | tail -2'
done
for i in 1 2 3; do
    note "door bench, paired ratios, run $i"
    cargo bench --bench door -- only-the-paired-ratios 2>&1 | grep "verify_strict"
done
note done
