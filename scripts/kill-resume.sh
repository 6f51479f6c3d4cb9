#!/usr/bin/env bash
# Runs the reissue example on one registry file, killing it with SIGKILL at random
# moments, then lets it finish and checks that every count in its JSON line is N.
#   scripts/kill-resume.sh [N=47000] [KILLS=8]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-47000}
kills=${2:-8}
cargo build --release --example reissue_batch -q
bin=target/release/examples/reissue_batch
dir=$(mktemp -d)
db="$dir/registry.sqlite"
for i in $(seq 1 "$kills"); do
  "$bin" --count "$n" --db "$db" --json >"$dir/out.$i" 2>/dev/null &
  pid=$!
  delay=$(python3 -c "import random; print(round(random.uniform(0.05, 4.0), 2))")
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then
    echo "run $i: killed after ${delay}s"
  else
    echo "run $i: finished before the kill at ${delay}s"
  fi
  wait "$pid" 2>/dev/null || true
done
"$bin" --count "$n" --db "$db" --json | tail -n 1 | tee "$dir/final.json"
python3 - "$dir/final.json" "$n" <<'PY'
import json, sys
line = json.load(open(sys.argv[1])); n = int(sys.argv[2])
keys = ["issued", "revoked", "reissued", "old_rejected", "new_accepted", "active_cards"]
bad = {k: line[k] for k in keys if line[k] != n}
print("all equal to", n if not bad else f"MISMATCH {bad}")
sys.exit(1 if bad else 0)
PY
rm -rf "$dir"
