#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Fault tests against a real jpipd on 127.0.0.1; in every case the server keeps serving the
# others and every jpip-get that completes has OpenJPEG's pixels (opj_decompress of the file):
#   reset     30 connections reset (SO_LINGER 0) in the middle of whole-image responses, twice,
#             and a session's first response reset, while jpip-get fetches another image
#   slow      a client reading at 2 kB/s holds a response open while jpip-get fetches two views
#   replaced  a file renamed over while jpip-get reads it slowly: the result is the old image or
#             the new one, never a mix; the old tid then gets the new JPIP-tid; jpip-get with a
#             cache filled from the old file ends with the NEW file's pixels; the same after an
#             in-place rewrite (same inode)
#   truncated a file truncated under a response in flight, a file truncated between requests,
#             and a file whose tail is zeroed with its size and mtime put back (the stamp does
#             not change; the data does): clean answers (a status, a body cut or ended by an
#             EOR), other files still served, the restored file served exactly again
#   killed    jpipd killed (-9) while four jpip-get clients (session, stateless, len=) read
#             through rate-limited relays, restarted on the same port: every client completes
#             with exact pixels and at least one of them retried
# The server's stderr must hold no sanitizer report, and it must exit 0 on SIGTERM.
# Usage: faults_test.sh JPIPD JPIP_GET FAULTS_CLIENT MKIMAGE RELAY (RELAY: jpip_get_cut_proxy,
# a rate-limited TCP relay). Exits 77 (skip) when curl or the
# OpenJPEG tools are missing.
set -u

usage='usage: faults_test.sh JPIPD JPIP_GET FAULTS_CLIENT MKIMAGE RELAY'
jpipd=${1:?$usage}
get=${2:?$usage}
fclient=${3:?$usage}
mkimage=${4:?$usage}
relay=${5:?$usage}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools curl opj_compress opj_decompress
e2e_init jpip_faults_test
jpid=

# ---- images and their references ----
echo "faults: $SECONDS s: images and their references"
root=$tmp/root
mkdir -p "$root" "$tmp/src" "$tmp/ref"
opj() { # opj OUT IN ARGS...
    local out=$1 in=$2
    shift 2
    opj_compress -i "$in" -o "$out" "$@" >"$tmp/opj.log" 2>&1 ||
        { echo "FAIL: opj_compress $out: $(tail -n 3 "$tmp/opj.log")" >&2; exit 1; }
}
ref() { # ref FILE OUT ARGS...: OpenJPEG's decode
    opj_decompress -i "$1" -o "$2" "${@:3}" >"$tmp/opjd.log" 2>&1 ||
        { echo "FAIL: opj_decompress $1: $(tail -n 3 "$tmp/opjd.log")" >&2; exit 1; }
}
"$mkimage" -w 1024 -h 1024 -c 3 -seed 1 "$tmp/src/big.ppm" || exit 1
"$mkimage" -w 512 -h 384 -c 3 -seed 2 "$tmp/src/small.ppm" || exit 1
"$mkimage" -w 640 -h 480 -c 3 -seed 3 "$tmp/src/v1.ppm" || exit 1
"$mkimage" -w 600 -h 400 -c 3 -seed 4 "$tmp/src/v2.ppm" || exit 1
opj "$root/big.j2k" "$tmp/src/big.ppm" -p RPCL -c '[256,256],[128,128]' -n 6
opj "$root/small.jp2" "$tmp/src/small.ppm" -n 4 -r 20,5,1
opj "$tmp/src/v1.jp2" "$tmp/src/v1.ppm" -n 4 -r 10,1
opj "$tmp/src/v2.jp2" "$tmp/src/v2.ppm" -n 5 -r 30,3,1 -t 200,200
opj "$tmp/src/tiles.j2k" "$tmp/src/big.ppm" -t 256,256 -n 4 -r 20,1
cp "$tmp/src/tiles.j2k" "$root/tiles.j2k"
ref "$root/small.jp2" "$tmp/ref/small.ppm"
ref "$tmp/src/v1.jp2" "$tmp/ref/v1.ppm"
ref "$tmp/src/v2.jp2" "$tmp/ref/v2.ppm"
ref "$root/tiles.j2k" "$tmp/ref/tiles_r2.ppm" -r 2
ref "$root/big.j2k" "$tmp/ref/big_r1.ppm" -r 1
ref "$root/big.j2k" "$tmp/ref/big_r2.ppm" -r 2
ref "$root/big.j2k" "$tmp/ref/big_mid.ppm" -d 300,300,800,800
ref "$root/big.j2k" "$tmp/ref/big_corner.ppm" -d 512,0,1024,512

# ---- jpipd ----
echo "faults: $SECONDS s: jpipd"
start_jpipd() { # start_jpipd PORT: sets jpid, port, base
    jpipd_start -p "$1" jpipd --log-level error
    jpid=$pid
}
fetch() { # fetch NAME URL [JPIP-GET ARGS...]: jpip-get to $tmp/NAME.ppm; returns its status
    local name=$1 url=$2
    shift 2
    timeout 120 "$get" -t 20 "$@" "$url" -o "$tmp/$name.ppm" 2>"$tmp/$name.err"
}
exact() { # exact NAME REF URL [JPIP-GET ARGS...]: fetch, then compare with REF
    local name=$1 want=$2 url=$3 rc
    shift 3
    fetch "$name" "$url" "$@"
    rc=$?
    if [ $rc = 0 ] && same_image "$tmp/$name.ppm" "$want"; then
        pass
    else
        fail "$name: $url: exit $rc, $(tail -n 1 "$tmp/$name.err"), pixels $(
            same_image "$tmp/$name.ppm" "$want" && echo equal || echo differ)"
    fi
}
alive() { # alive WHAT: the process is there and /healthz answers
    local st
    st=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$base/healthz")
    if kill -0 "$jpid" 2>/dev/null && [ "$st" = 200 ]; then
        pass
    else
        fail "after $1: jpipd is gone or /healthz says $st"
    fi
}
start_relay() { # start_relay RATE: a relay to jpipd at RATE bytes/s; sets rport
    relays=$((relays + 1))
    listener_start "$tmp/relay$relays.out" 50 "$relay" "$port" -1 "$1"
    rport=$lport
}
relays=0

start_jpipd 0

# ---- resets in the middle of responses ----
echo "faults: $SECONDS s: resets in the middle of responses"
exact small_before "$tmp/ref/small.ppm" "$base/small.jp2"
fetch reset_get "$base/small.jp2" &
getpid=$!
pids+=("$getpid")
"$fclient" "$port" "/big.j2k?fsiz=1024,1024" 30 400000 >"$tmp/reset1.out" 2>&1
rc1=$?
"$fclient" "$port" "/big.j2k?fsiz=1024,1024&len=200000" 30 100000 >"$tmp/reset2.out" 2>&1
rc2=$?
"$fclient" "$port" "/big.j2k?fsiz=512,512&cnew=http" 10 50000 >"$tmp/reset3.out" 2>&1
rc3=$?
wait "$getpid"
rc=$?
check "30 resets of whole-image responses ($(cat "$tmp/reset1.out"))" [ $rc1 = 0 ]
check "30 resets of len= responses ($(cat "$tmp/reset2.out"))" [ $rc2 = 0 ]
check "10 resets of sessions' first responses ($(cat "$tmp/reset3.out"))" [ $rc3 = 0 ]
check "jpip-get during the resets: exit 0 (got $rc)" [ $rc = 0 ]
check "jpip-get during the resets: exact pixels" same_image "$tmp/reset_get.ppm" "$tmp/ref/small.ppm"
alive "the resets"
exact big_after_reset "$tmp/ref/big_r2.ppm" "$base/big.j2k?fsiz=256,256"

# ---- a slow reader ----
echo "faults: $SECONDS s: a slow reader"
curl -s --max-time 60 --limit-rate 2000 -o "$tmp/slow.b" "$base/big.j2k?fsiz=1024,1024" &
slowpid=$!
pids+=("$slowpid")
sleep 1
exact slow_other1 "$tmp/ref/small.ppm" "$base/small.jp2"
exact slow_other2 "$tmp/ref/big_mid.ppm" "$base/big.j2k?fsiz=1024,1024&roff=300,300&rsiz=500,500"
check "the slow reader is still reading while the others were served" kill -0 "$slowpid"
check "... and has received part of its response ($(wc -c <"$tmp/slow.b") bytes)" \
    [ "$(wc -c <"$tmp/slow.b")" -gt 0 ]
kill "$slowpid" 2>/dev/null
wait "$slowpid" 2>/dev/null
alive "the slow reader"

# ---- a file replaced while it is served ----
echo "faults: $SECONDS s: a file replaced while it is served"
cp "$tmp/src/v1.jp2" "$root/swap.jp2"
curl -s --max-time 20 -D "$tmp/tid1.h" -o /dev/null "$base/swap.jp2?fsiz=64,64&tid=0"
tid1=$(header tid1 JPIP-tid)
check "the first version has a tid ('$tid1')" [ -n "$tid1" ]
exact swap_old "$tmp/ref/v1.ppm" "$base/swap.jp2" --cache "$tmp/cache"
# A slow whole-image fetch (about 3 s, through a relay) with the file renamed over in its
# middle.
size1=$(wc -c <"$tmp/src/v1.jp2")
start_relay $((size1 / 3 + 1))
fetch swap_inflight "http://127.0.0.1:$rport/swap.jp2" --len 20000 -v &
inpid=$!
pids+=("$inpid")
sleep 1
cp "$tmp/src/v2.jp2" "$root/.swap.tmp"
mv "$root/.swap.tmp" "$root/swap.jp2"
wait "$inpid"
rc=$?
which=mixed
same_image "$tmp/swap_inflight.ppm" "$tmp/ref/v1.ppm" && which=old
same_image "$tmp/swap_inflight.ppm" "$tmp/ref/v2.ppm" && which=new
echo "faults: the fetch across the replacement ended with the $which image"
check "a fetch across the replacement completes (exit $rc: $(tail -n 1 "$tmp/swap_inflight.err"))" \
    [ $rc = 0 ]
check "a fetch across the replacement has the old or the new image, not a mix (got $which)" \
    [ "$which" != mixed ]
curl -s --max-time 20 -D "$tmp/tid2.h" -o /dev/null "$base/swap.jp2?fsiz=64,64&tid=$tid1"
tid2=$(header tid2 JPIP-tid)
check "the old tid gets the new JPIP-tid ('$tid1' -> '$tid2')" \
    all [ -n "$tid2" ] -- [ "$tid2" != "$tid1" ]
exact swap_new "$tmp/ref/v2.ppm" "$base/swap.jp2" --cache "$tmp/cache"
exact swap_new_stateless "$tmp/ref/v2.ppm" "$base/swap.jp2" --cache "$tmp/cache2" --stateless
# Rewritten in place (same inode): the next fetch with the cache of v2 gets v1's pixels.
cat "$tmp/src/v1.jp2" >"$root/swap.jp2"
curl -s --max-time 20 -D "$tmp/tid3.h" -o /dev/null "$base/swap.jp2?fsiz=64,64&tid=$tid2"
tid3=$(header tid3 JPIP-tid)
check "an in-place rewrite also changes the tid ('$tid2' -> '$tid3')" \
    all [ -n "$tid3" ] -- [ "$tid3" != "$tid2" ]
exact swap_inplace "$tmp/ref/v1.ppm" "$base/swap.jp2" --cache "$tmp/cache"
alive "the replacements"

# ---- truncated files ----
echo "faults: $SECONDS s: truncated files"
body_clean() { # body_clean FILE: empty, a one-line reason, or a JPP-stream whose end is an EOR
    [ ! -s "$1" ] && return 0
    [ "$(tail -c 3 "$1" | od -An -tx1 | tr -d ' \n' | cut -c 1-2)" = 00 ] && return 0
    [ "$(wc -l <"$1")" -le 1 ] && grep -q '[a-z]' "$1"
}
# (1) Under a response in flight: a slow whole-image read, the file cut to 100 kB meanwhile.
cp "$root/big.j2k" "$root/cut.j2k"
curl -s --max-time 5 --limit-rate 200000 -o "$tmp/cut_inflight.b" -w '%{http_code}' \
    "$base/cut.j2k?fsiz=1024,1024" >"$tmp/cut_inflight.code" 2>/dev/null &
cutpid=$!
pids+=("$cutpid")
sleep 1
truncate -s 100000 "$root/cut.j2k"
exact cut_other "$tmp/ref/small.ppm" "$base/small.jp2"
wait "$cutpid"
check "a response whose file is cut under it ends (status $(cat "$tmp/cut_inflight.code"), $(wc -c <"$tmp/cut_inflight.b") bytes)" \
    grep -Eq '^[0-9]{3}$' "$tmp/cut_inflight.code"
st=$(curl -s --max-time 20 -o "$tmp/cut_after.b" -w '%{http_code}' "$base/cut.j2k?fsiz=1024,1024")
check "the cut file afterwards: a clean answer (status $st, $(wc -c <"$tmp/cut_after.b") bytes)" \
    body_clean "$tmp/cut_after.b"
check "... with a status (got $st)" grep -Eq '^(200|4..|5..)$' <<<"$st"
alive "the file cut under a response"
# (2) Between requests: tile 0 indexed first, then the file cut in half; views of the last
# tiles (not yet indexed), then the whole image.
st=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' \
    "$base/tiles.j2k?fsiz=1024,1024&roff=0,0&rsiz=200,200")
check "tiles.j2k: tile 0 served before the cut (got $st)" [ "$st" = 200 ]
truncate -s $(($(wc -c <"$root/tiles.j2k") / 2)) "$root/tiles.j2k"
for q in "fsiz=1024,1024&roff=800,800&rsiz=200,200" "fsiz=1024,1024" "fsiz=256,256&cnew=http"; do
    st=$(curl -s --max-time 20 -o "$tmp/trunc.b" -w '%{http_code}' "$base/tiles.j2k?$q")
    check "truncated tiles.j2k, $q: a clean answer (status $st, $(wc -c <"$tmp/trunc.b") bytes)" \
        body_clean "$tmp/trunc.b"
    check "... with a status (got $st)" grep -Eq '^(200|4..|5..)$' <<<"$st"
done
exact trunc_other "$tmp/ref/big_r2.ppm" "$base/big.j2k?fsiz=256,256"
cp "$tmp/src/tiles.j2k" "$root/.tiles.tmp"
mv "$root/.tiles.tmp" "$root/tiles.j2k"
exact trunc_restored "$tmp/ref/tiles_r2.ppm" "$base/tiles.j2k?fsiz=256,256"
# (3) The tail zeroed, size and mtime put back: the server cannot see the change.
st=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' \
    "$base/tiles.j2k?fsiz=1024,1024&roff=0,0&rsiz=100,100")
mtime=$(stat -c '%.9Y' "$root/tiles.j2k")
size=$(wc -c <"$root/tiles.j2k")
truncate -s $((size / 3)) "$root/tiles.j2k"
truncate -s "$size" "$root/tiles.j2k"
touch -d "@$mtime" "$root/tiles.j2k"
for q in "fsiz=1024,1024&roff=800,800&rsiz=200,200" "fsiz=1024,1024" "fsiz=512,512&len=5000"; do
    st=$(curl -s --max-time 20 -o "$tmp/zero.b" -w '%{http_code}' "$base/tiles.j2k?$q")
    check "zeroed tiles.j2k, $q: a clean answer (status $st, $(wc -c <"$tmp/zero.b") bytes)" \
        body_clean "$tmp/zero.b"
done
alive "the zeroed file"
cp "$tmp/src/tiles.j2k" "$root/.tiles.tmp"
mv "$root/.tiles.tmp" "$root/tiles.j2k"
exact zero_restored "$tmp/ref/tiles_r2.ppm" "$base/tiles.j2k?fsiz=256,256" --stateless

# ---- killed and restarted under load ----
echo "faults: $SECONDS s: killed and restarted under load"
# Each client goes through its own relay (jpip_get_cut_proxy) limited to 200 kB/s, so that the
# kill lands in the middle of transfers; the relays connect to the restarted server anew.
names=(k_r1 k_mid k_corner k_r2)
refs=(big_r1 big_mid big_corner big_r2)
queries=("fsiz=512,512" "fsiz=1024,1024&roff=300,300&rsiz=500,500"
    "fsiz=1024,1024&roff=512,0&rsiz=512,512" "fsiz=256,256")
extra=("" "--stateless" "--len 30000" "--stateless --len 20000")
kpids=()
for i in 0 1 2 3; do
    start_relay 200000
    # shellcheck disable=SC2086 # extra holds separate words
    fetch "${names[$i]}" "http://127.0.0.1:$rport/big.j2k?${queries[$i]}" --retries 10 -v \
        ${extra[$i]} &
    kpids+=($!)
    pids+=($!)
done
sleep 1
kill -9 "$jpid"
wait "$jpid" 2>/dev/null
forget "$jpid"
jpid=
sleep 0.5
start_jpipd "$port"
for i in 0 1 2 3; do
    wait "${kpids[$i]}"
    rc=$?
    check "killed: ${names[$i]} (${extra[$i]:-session}) completes (exit $rc: $(grep -v '^jpip-get: view' "$tmp/${names[$i]}.err" | tail -n 1))" \
        [ $rc = 0 ]
    check "killed: ${names[$i]} exact pixels" same_image "$tmp/${names[$i]}.ppm" "$tmp/ref/${refs[$i]}.ppm"
done
check "killed: at least one client retried" grep -qh 'retry' "$tmp"/k_*.err
alive "the restart"

stop "$jpid" 10
rc=$?
jpid=
check "jpipd exits 0 on SIGTERM (got $rc)" [ "$rc" = 0 ]
reports=$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/jpipd.err")
check "no sanitizer report in jpipd's stderr ($reports)" [ "$reports" = 0 ]

[ "$failures" = 0 ] || show_logs 40 "$tmp/jpipd.err"
summary faults
