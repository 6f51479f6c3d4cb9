#!/usr/bin/env bash
# Conditional GETs per second of latest.json (If-None-Match, answered 304), from
# `revocard::net::serve` and from nginx serving the same directory, in one run, on
# loopback, with wrk (Debian's). Each server gets two workers; the runs alternate
# (ours, nginx, ours, nginx), each bounded to SECS seconds.
#   scripts/bench-get.sh [SECS=8] [CONNECTIONS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
conns=${2:-64}
need() {  # Debian package for a missing command, installed without starting services
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] && return 0
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    local policy=/usr/sbin/policy-rc.d added=0
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null; $sudo chmod 755 "$policy"; added=1; fi
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
    [ "$added" = 1 ] && $sudo rm -f "$policy"
    return 0
}
need wrk wrk
need nginx nginx-light
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
cargo build --release --example publisher --features serve -q
work=$(mktemp -d)
chmod 755 "$work"  # nginx workers run as another user
ours_port=$((20000 + RANDOM % 10000)); nginx_port=$((ours_port + 1))
target/release/examples/publisher --dir "$work/pub" --listen "127.0.0.1:$ours_port" --cards 47000 2>"$work/publisher.log" &
ours=$!
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/pub;
        location / { etag on; }
    }
}
CONF
cleanup() { kill "$ours" 2>/dev/null || true; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$ours_port/metro-police/latest.json" && break; sleep 0.2; done
chmod -R a+rX "$work/pub"
"$nginx_bin" -c "$work/nginx.conf"
sleep 0.5
path=/metro-police/latest.json
etag_of() { curl -sI "$1" | tr -d '\r' | awk 'tolower($1)=="etag:"{print $2}'; }
ours_etag=$(etag_of "http://127.0.0.1:$ours_port$path")
nginx_etag=$(etag_of "http://127.0.0.1:$nginx_port$path")
check() { curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $2" "$1"; }
[ "$(check "http://127.0.0.1:$ours_port$path" "$ours_etag")" = 304 ] || { echo "serve did not answer 304" >&2; exit 1; }
[ "$(check "http://127.0.0.1:$nginx_port$path" "$nginx_etag")" = 304 ] || { echo "nginx did not answer 304" >&2; exit 1; }
rate() { wrk -t2 -c"$conns" -d"${secs}s" -H "If-None-Match: $2" "$1" | awk '/Requests\/sec/{print $2}'; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "wrk -t2 -c$conns -d${secs}s, If-None-Match on $path (304), two rounds alternating"
declare -a o n
for round in 1 2; do
    o[$round]=$(rate "http://127.0.0.1:$ours_port$path" "$ours_etag")
    n[$round]=$(rate "http://127.0.0.1:$nginx_port$path" "$nginx_etag")
    echo "round $round: revocard serve ${o[$round]} GET/s, nginx ${n[$round]} GET/s"
done
python3 - "${o[1]}" "${o[2]}" "${n[1]}" "${n[2]}" <<'PY'
import sys
o1, o2, n1, n2 = map(float, sys.argv[1:])
ours, nginx = max(o1, o2), max(n1, n2)
print(f"best of two: revocard serve {ours:.0f} GET/s, nginx {nginx:.0f} GET/s, ratio {ours / nginx:.2f}x nginx")
PY
