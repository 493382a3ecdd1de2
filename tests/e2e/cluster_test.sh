#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Several servers on 127.0.0.1: three jpipd back-ends (--cid-prefix, a shared --index-dir,
# --client-rate so views take a few seconds), a front jpipd delegating new channels to them
# (--delegate), and HAProxy with deploy/haproxy.cfg (its ports rewritten). Through each route
# 20 jpip-get clients fetch views (channels, and some --stateless); one back-end is killed
# (-9) in the middle. Every client must complete its view exactly (equal to opj_decompress of
# the original), with no data-bin byte received twice, and at least one client must have had
# its response cut by the kill. A back-end restarted on the index folder must load the saved
# index instead of walking the file again.
#
# Usage: cluster_test.sh JPIPD JPIP_GET MKIMAGE DEPLOY_DIR
# Exits 77 (skip) when haproxy or the OpenJPEG tools are missing. Prints "cluster: N checks passed,
# M failed".
set -u

jpipd=${1:?usage: cluster_test.sh JPIPD JPIP_GET MKIMAGE DEPLOY_DIR}
get=${2:?usage}
mkimage=${3:?usage}
deploy=${4:?usage}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools opj_decompress opj_compress haproxy curl
e2e_init jpip_cluster_test

# ---- the image and the reference decodes ----
root=$tmp/img
mkdir -p "$root" "$tmp/idx"
"$mkimage" -w 1024 -h 768 -c 3 -seed 5 "$tmp/in.ppm" || exit 1
opj_compress -i "$tmp/in.ppm" -o "$tmp/img/big.jp2" -t 256,256 -r 40,10,2 -p RPCL \
    -c '[64,64]' >/dev/null || exit 1
views=("fsiz=1024,768" "fsiz=512,384" "fsiz=1024,768&roff=300,200&rsiz=500,400")
opjargs=("" "-r 1" "-d 300,200,800,600")
for i in 0 1 2; do
    # shellcheck disable=SC2086
    opj_decompress -i "$tmp/img/big.jp2" -o "$tmp/ref$i.raw" ${opjargs[$i]} >/dev/null 2>&1 ||
        {
            echo "skip: opj_decompress cannot decode the test image"
            exit 77
        }
done

# ---- servers ----
backend_args=(--index-dir "$tmp/idx" --client-rate 400000)
for b in 1 2 3; do
    jpipd_start "b$b" --log-level info --cid-prefix "b$b-" "${backend_args[@]}"
    eval "port_b$b=$port pid_b$b=$pid"
done
jpipd_start front --log-level info --delegate "127.0.0.1:$port_b1" \
    --delegate "127.0.0.1:$port_b2" --delegate "127.0.0.1:$port_b3"
port_front=$port

# A free port for HAProxy: one nobody answers on.
port_hap=
for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        port_hap=$p
        break
    fi
done
[ -n "$port_hap" ] || exit 1
sed -e "s|bind 127.0.0.1:8080|bind 127.0.0.1:$port_hap|" \
    -e "s|127.0.0.1:8081|127.0.0.1:$port_b1|" -e "s|127.0.0.1:8082|127.0.0.1:$port_b2|" \
    -e "s|127.0.0.1:8083|127.0.0.1:$port_b3|" "$deploy/haproxy.cfg" >"$tmp/haproxy.cfg"
haproxy -c -f "$tmp/haproxy.cfg" >/dev/null 2>&1 || fail "deploy/haproxy.cfg does not load"
haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
pids+=("$!")
hap_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port_hap/healthz")" = 200 ]; }
wait_for 100 "" hap_up || {
    echo "haproxy did not start: $(cat "$tmp/haproxy.log")" >&2
    exit 1
}

# ---- 20 clients through one route, a back-end killed in the middle ----
# round NAME URL_BASE VICTIM
round() {
    local name=$1 base=$2 victim=$3
    local cpids=()
    for i in $(seq 0 19); do
        local v=$((i % 3)) extra=()
        [ $((i % 5)) -eq 4 ] && extra=(--stateless)
        timeout 120 "$get" -v -o "$tmp/$name$i.raw" --retries 8 "${extra[@]}" \
            "$base/big.jp2?${views[$v]}" >"$tmp/$name$i.out" 2>&1 &
        cpids+=("$!")
    done
    sleep 1
    local vp
    vp=$(eval echo "\$pid_$victim")
    kill -9 "$vp"
    local cut=0 dup=0
    for i in $(seq 0 19); do
        local rc=0
        wait "${cpids[$i]}" || rc=$?
        local v=$((i % 3))
        if [ "$rc" -ne 0 ]; then
            fail "$name client $i (${views[$v]}): exit $rc: $(tail -n 2 "$tmp/$name$i.out")"
            continue
        fi
        if cmp -s "$tmp/$name$i.raw" "$tmp/ref$v.raw"; then pass; else
            fail "$name client $i (${views[$v]}): the image differs from opj_decompress"
        fi
    done
    # jpip-get's summary: "... duplicate bytes N ..." and "... R retries, B broken responses".
    for i in $(seq 0 19); do
        grep -q "duplicate bytes 0" "$tmp/$name$i.out" || dup=$((dup + 1))
        grep -Eq "(^|[^0-9])[1-9][0-9]* (retries|broken responses)" "$tmp/$name$i.out" &&
            cut=$((cut + 1))
    done
    if [ "$dup" -eq 0 ]; then pass; else fail "$name: $dup clients received bytes twice"; fi
    if [ "$cut" -gt 0 ]; then pass; else fail "$name: the kill of $victim cut no client"; fi
    echo "$name: killed $victim; $cut of 20 clients had a response cut or a retry"
}

round front "http://127.0.0.1:$port_front" b1
# b1 comes back on its port with the same index folder: it must reuse the saved index.
jpipd_start -p "$port_b1" b1_again --log-level info --cid-prefix b1- "${backend_args[@]}"
curl -s -o /dev/null "http://127.0.0.1:$port_b1/big.jp2?fsiz=64,48"
if grep -q "index of big.jp2: loaded" "$tmp/b1_again.err"; then pass; else
    fail "the restarted back-end did not load the saved index: $(grep -i index "$tmp/b1_again.err")"
fi
sleep 2.5 # HAProxy's and the front's health checks see b1 again
round haproxy "http://127.0.0.1:$port_hap" b2

summary cluster
