#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# jpipd over HTTP on loopback: requests/s and server CPU per request for small stateless views
# (random 512x512 windows at full resolution, len=4096, wrk with 64 connections), with the
# access log off and on and with the old 128 KiB connection memory; then server CPU per GB
# for whole-image bodies (curl, one at a time). Server CPU is read from /proc/PID/stat, so
# the figures hold on a busy machine better than the request rates do.
#   bench/jpipd_http_bench.sh JPIPD IMAGE [SECONDS]
# IMAGE: an 8192x8192 (or larger) JPEG 2000 file, e.g. build/samples/large_rgb.jp2 (make serve).
set -euo pipefail
jpipd=${1:?usage: jpipd_http_bench.sh JPIPD IMAGE [SECONDS]}
image=${2:?usage: jpipd_http_bench.sh JPIPD IMAGE [SECONDS]}
secs=${3:-10}
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)"; exit 77; }
command -v curl >/dev/null || { echo "curl not found"; exit 77; }

tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
pid=0
mkdir "$tmp/root"
cp "$image" "$tmp/root/img.jp2" # a copy: links leading out of the root are refused
tick=$(getconf CLK_TCK)
cat >"$tmp/views.lua" <<'EOF'
math.randomseed(42)
request = function()
  local x, y = math.random(0, 7680), math.random(0, 7680)
  return wrk.format("GET", "/img.jp2?fsiz=8192,8192&roff=" .. x .. "," .. y .. "&rsiz=512,512&len=4096")
end
EOF

start() {
    "$jpipd" --root "$tmp/root" --listen 127.0.0.1:0 --log-level error "$@" >"$tmp/out" 2>&1 &
    pid=$!
    for _ in $(seq 50); do grep -q serving "$tmp/out" && break; sleep 0.1; done
    port=$(sed -n 's|.*:\([0-9]*\)/$|\1|p' "$tmp/out")
    # Warm the packet index over the whole image.
    for x in 0 2048 4096 6144; do
        curl -s -o /dev/null "http://127.0.0.1:$port/img.jp2?fsiz=8192,8192&roff=$x,$x&rsiz=2048,2048&len=1000"
    done
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=0; }

views() { # views LABEL JPIPD-ARGS...
    local label=$1
    shift
    start "$@"
    local t0 t1 out rps
    t0=$(cpu_ticks)
    out=$(wrk -t1 -c64 -d"${secs}s" -s "$tmp/views.lua" "http://127.0.0.1:$port/")
    t1=$(cpu_ticks)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    awk -v l="$label" -v r="$rps" -v c="$((t1 - t0))" -v s="$secs" -v k="$tick" 'BEGIN {
        printf "%-34s %9.0f req/s   server CPU %5.1f us/request\n", l, r, c / k * 1e6 / (r * s) }'
    stop
}

bulk() { # bulk LABEL JPIPD-ARGS...
    local label=$1
    shift
    start "$@"
    local t0 t1 bytes=0 n=0 b end
    t0=$(cpu_ticks)
    end=$((SECONDS + secs))
    while [ $SECONDS -lt $end ]; do
        b=$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$port/img.jp2?fsiz=8192,8192")
        bytes=$((bytes + b))
        n=$((n + 1))
    done
    t1=$(cpu_ticks)
    awk -v l="$label" -v b="$bytes" -v n="$n" -v c="$((t1 - t0))" -v k="$tick" 'BEGIN {
        printf "%-34s %4d bodies, %7.1f MB   server CPU %5.2f s per GB\n", l, n, b / 1e6, c / k / (b / 1e9) }'
    stop
}

echo "jpipd over loopback, $secs s per line; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
views "views, no access log"
views "views, access log to a file" --access-log "$tmp/access.log"
views "views, 128 KiB connection memory" --connection-memory 131072
bulk "whole image, no access log"
bulk "whole image, access log" --access-log "$tmp/access.log"
echo "command: bench/jpipd_http_bench.sh $jpipd $image $secs"
