#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Soak: SOAK_CLIENTS concurrent clients (soak_client) doing random pans and zooms for
# SOAK_SECONDS against one jpipd on 127.0.0.1 (meant to be an ASan+UBSan build) serving five
# images made here with opj_compress and mkjpx: tiled J2K with PLT, untiled RPCL JP2 with
# precincts, 12-bit greyscale JP2 with SOP/EPH, LRCP J2K with TLM, and a three-codestream JPX.
# Reports requests, bytes, errors (status, malformed streams, EOR, bytes sent twice on a
# channel, pixels differing from OpenJPEG's decode of the original), sanitizer reports in the
# server's stderr, and the server's VmRSS after the warm-up and at the end.
#
#   bench/soak/run.sh JPIPD SOAK_CLIENT MKIMAGE MKJPX
#
# Environment: SOAK_SECONDS (600), SOAK_CLIENTS (100), SOAK_WARMUP (60: the memory baseline is
# taken then), SOAK_SMALL=1 (smaller images, for ctest), SOAK_MAX_GROWTH (percent; when set,
# a larger VmRSS growth after the warm-up fails the run), SOAK_KEEP=DIR (keep the images,
# logs and summary there). jpipd runs with --idle-timeout 20 so that abandoned sessions are
# reaped during the run, and with ASAN_OPTIONS quarantine_size_mb=64 so that ASan's quarantine
# fills during the warm-up rather than showing as growth.
# Exit: 0 when there was no error and no sanitizer report (and the growth is within
# SOAK_MAX_GROWTH), 1 otherwise, 77 when opj_compress is missing.
set -u

jpipd=${1:?usage: run.sh JPIPD SOAK_CLIENT MKIMAGE MKJPX}
client=${2:?usage: run.sh JPIPD SOAK_CLIENT MKIMAGE MKJPX}
mkimage=${3:?usage: run.sh JPIPD SOAK_CLIENT MKIMAGE MKJPX}
mkjpx=${4:?usage: run.sh JPIPD SOAK_CLIENT MKIMAGE MKJPX}
seconds=${SOAK_SECONDS:-600}
clients=${SOAK_CLIENTS:-100}
warmup=${SOAK_WARMUP:-60}
small=${SOAK_SMALL:-0}

if ! command -v opj_compress >/dev/null 2>&1; then
    echo "skip: opj_compress not found"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jpip_soak.XXXXXX") || exit 1
jpid=
cleanup() {
    [ -n "$jpid" ] && kill -KILL "$jpid" 2>/dev/null
    if [ -n "${SOAK_KEEP:-}" ]; then
        mkdir -p "$SOAK_KEEP" && cp -R "$tmp/." "$SOAK_KEEP/"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# ---- images ----
root=$tmp/root
mkdir -p "$root" "$tmp/src"
if [ "$small" = 1 ]; then s=1; else s=2; fi
opj() { # opj OUT IN ARGS...: opj_compress, failing the run on error
    local out=$1 in=$2
    shift 2
    if ! opj_compress -i "$in" -o "$out" "$@" >"$tmp/opj.log" 2>&1; then
        echo "FAIL: opj_compress $out: $(tail -n 3 "$tmp/opj.log")" >&2
        exit 1
    fi
}
"$mkimage" -w $((1024 * s)) -h $((1024 * s)) -c 3 -seed 1 "$tmp/src/a.ppm" || exit 1
"$mkimage" -w $((768 * s)) -h $((640 * s)) -c 3 -seed 2 "$tmp/src/b.ppm" || exit 1
"$mkimage" -w $((512 * s)) -h $((512 * s)) -c 1 -b 12 -seed 3 "$tmp/src/c.pgm" || exit 1
"$mkimage" -w $((640 * s)) -h $((480 * s)) -c 3 -seed 4 "$tmp/src/d.ppm" || exit 1
opj "$root/tiled.j2k" "$tmp/src/a.ppm" -t $((128 * s)),$((128 * s)) -n 5 -r 40,10,1 -PLT
opj "$root/rpcl.jp2" "$tmp/src/b.ppm" -p RPCL -c '[128,128],[64,64]' -n 6 -r 30,8,1
opj "$root/gray12.jp2" "$tmp/src/c.pgm" -n 4 -r 20,5,1 -SOP -EPH -b 32,32
opj "$root/lrcp.j2k" "$tmp/src/d.ppm" -p LRCP -n 5 -r 50,20,5,1 -TLM -t $((320 * s)),$((240 * s))
for i in 1 2 3; do
    "$mkimage" -w $((256 * s)) -h $((256 * s)) -c 3 -seed $((10 + i)) "$tmp/src/f$i.ppm" || exit 1
    opj "$tmp/src/f$i.j2k" "$tmp/src/f$i.ppm" -n 4 -r 20,4,1 -p RPCL -c '[64,64]'
done
"$mkjpx" "$root/frames.jpx" "$tmp/src/f1.j2k" "$tmp/src/f2.j2k" "$tmp/src/f3.j2k" \
    >"$tmp/mkjpx.log" 2>&1 || { echo "FAIL: mkjpx: $(cat "$tmp/mkjpx.log")" >&2; exit 1; }
{
    for f in tiled.j2k rpcl.jp2 gray12.jp2 lrcp.j2k; do
        echo "$f $root/$f"
    done
    echo "frames.jpx $root/frames.jpx $tmp/src/f1.j2k $tmp/src/f2.j2k $tmp/src/f3.j2k"
} >"$tmp/manifest"

# ---- jpipd ----
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=64:malloc_context_size=20}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$jpipd" --root "$root" --listen 127.0.0.1:0 --log-level warn --idle-timeout 20 \
    --max-sessions 4096 --max-connections 4096 >"$tmp/jpipd.out" 2>"$tmp/jpipd.err" &
jpid=$!
port=
for _ in $(seq 200); do
    port=$(sed -n 's|^jpipd: serving .* on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' \
        "$tmp/jpipd.out" 2>/dev/null)
    [ -n "$port" ] && break
    kill -0 "$jpid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "FAIL: jpipd did not start: $(cat "$tmp/jpipd.err")" >&2
    exit 1
fi

echo "soak: $clients clients for $seconds s (warm-up $warmup s) against jpipd pid $jpid on" \
    "port $port; images: $(cd "$root" && ls | tr '\n' ' ')"
# The client is bounded by its own clock; the outer timeout only catches a hang.
timeout $((seconds + 300)) "$client" --url "http://127.0.0.1:$port" --manifest "$tmp/manifest" \
    --clients "$clients" --seconds "$seconds" --warmup "$warmup" --pid "$jpid" \
    >"$tmp/summary.txt" 2>"$tmp/client.err"
crc=$?
tail -n 40 "$tmp/client.err"

# Stop the server (SIGTERM: LeakSanitizer then checks at exit) and read its stderr.
kill -TERM "$jpid" 2>/dev/null
src=124
for _ in $(seq 300); do
    if ! kill -0 "$jpid" 2>/dev/null; then
        wait "$jpid"
        src=$?
        break
    fi
    sleep 0.1
done
[ "$src" = 124 ] && kill -KILL "$jpid" 2>/dev/null
jpid=
reports=$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/jpipd.err")
if [ "$reports" != 0 ]; then
    echo "--- jpipd stderr (sanitizer reports):"
    grep -m 5 -A 30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/jpipd.err"
fi

summary=$(cat "$tmp/summary.txt")
echo "soak: $summary sanitizer_reports=$reports jpipd_exit=$src"
ok=1
[ "$crc" = 0 ] || { echo "FAIL: the clients saw errors (soak_client exit $crc)"; ok=0; }
[ "$reports" = 0 ] || { echo "FAIL: $reports sanitizer reports"; ok=0; }
[ "$src" = 0 ] || { echo "FAIL: jpipd exited with $src"; ok=0; }
if [ -n "${SOAK_MAX_GROWTH:-}" ]; then
    growth=$(sed -n 's/.*growth_pct=\([-0-9.]*\).*/\1/p' <<<"$summary")
    if [ -z "$growth" ] || awk -v g="$growth" -v m="$SOAK_MAX_GROWTH" 'BEGIN{exit !(g >= m)}'; then
        echo "FAIL: server VmRSS grew by ${growth:-?}% after the warm-up (limit $SOAK_MAX_GROWTH%)"
        ok=0
    fi
fi
[ "$ok" = 1 ] && echo "soak: ok"
[ "$ok" = 1 ]
