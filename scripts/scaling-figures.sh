#!/usr/bin/env bash
# The reissue's scaling from 47,000 to 1,000,000 cards (issue 23: the ratio at 1M within
# 1.1x of the ratio at 47k), three runs each, with the load before each run
# (BENCHMARKS.md, "Scaling to 1,000,000 cards"). Each run prints one JSON line whose
# reissue and floor (N key generations + N signatures on one core) come from the same
# process. The 1,000,000-card registry is kept on disk (`--db`, about 1.3 GB; removed
# after each run), as a force's would be. Run it on a machine with nothing else running:
# `bash scripts/scaling-figures.sh > scaling.txt` (about 20 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example reissue_batch >&2
note() { echo "== $* | $(date -u +%H:%M:%S) | load $(cut -d' ' -f1-3 /proc/loadavg)"; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for n in 47000 1000000; do
    for i in 1 2 3; do
        note "reissue_batch --count $n run $i"
        target/release/examples/reissue_batch --json --count "$n" --db "$dir/registry.db" 2>/dev/null | tail -1
        rm -f "$dir"/registry.db*
    done
done
note done
