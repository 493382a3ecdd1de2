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
# Exits 77 (skip) when haproxy or the OpenJPEG tools are missing. Prints "N passed, M failed".
set -u

jpipd=${1:?usage: cluster_test.sh JPIPD JPIP_GET MKIMAGE DEPLOY_DIR}
get=${2:?usage}
mkimage=${3:?usage}
deploy=${4:?usage}

for tool in opj_decompress opj_compress haproxy curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skip: $tool not found"
        exit 77
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jpip_cluster_test.XXXXXX") || exit 1
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
}

# ---- the image and the reference decodes ----
mkdir -p "$tmp/img" "$tmp/idx"
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
# start_jpipd NAME ARGS...: a jpipd on a free port; sets PORT and remembers its pid.
start_jpipd() {
    local name=$1
    shift
    "$jpipd" --root "$tmp/img" --log-level info "$@" >"$tmp/$name.out" 2>"$tmp/$name.log" &
    local pid=$!
    pids+=("$pid")
    eval "pid_$name=$pid"
    for _ in $(seq 100); do
        PORT=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/$name.out")
        [ -n "$PORT" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "jpipd $name did not start: $(cat "$tmp/$name.log")" >&2
    exit 1
}

backend_args=(--index-dir "$tmp/idx" --client-rate 400000)
for b in 1 2 3; do
    start_jpipd "b$b" --listen 127.0.0.1:0 --cid-prefix "b$b-" "${backend_args[@]}"
    eval "port_b$b=$PORT"
done
start_jpipd front --listen 127.0.0.1:0 --delegate "127.0.0.1:$port_b1" \
    --delegate "127.0.0.1:$port_b2" --delegate "127.0.0.1:$port_b3"
port_front=$PORT

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
ok=
for _ in $(seq 100); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port_hap/healthz")" = 200 ]; then
        ok=1
        break
    fi
    sleep 0.1
done
[ -n "$ok" ] || {
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
start_jpipd b1 --listen "127.0.0.1:$port_b1" --cid-prefix b1- "${backend_args[@]}"
curl -s -o /dev/null "http://127.0.0.1:$port_b1/big.jp2?fsiz=64,48"
if grep -q "index of big.jp2: loaded" "$tmp/b1.log"; then pass; else
    fail "the restarted back-end did not load the saved index: $(grep -i index "$tmp/b1.log")"
fi
sleep 2.5 # HAProxy's and the front's health checks see b1 again
round haproxy "http://127.0.0.1:$port_hap" b2

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
