#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# End-to-end test of jpipd's operations features on 127.0.0.1:
#   rates    --client-rate: one session within +-10% of the cap over 3 s; --total-rate: the sum
#            of 8 sessions within +-10% of the cap and none below 80% of its fair share; a
#            session held below its share by its own client is not slowed by 7 greedy ones
#   limits   the (N+1)th session gets 503 with Retry-After; an idle session is reaped and its
#            cid then gets 404; a client that stops reading is dropped after --send-timeout
#            while another client is served; beyond --max-connections requests get 503
#   metrics  /metrics parses as Prometheus text, its byte counter equals what the clients
#            received, and it counts the reaped session, the 503s and the cut response
#   logs     access-log fields (view, bins, binbytes, eor)
#   stop     SIGTERM lets a rate-limited response finish and refuses new connections; with a
#            short --shutdown-timeout a long response ends early with EOR 6 (session limit)
#            and jpipd still exits 0
# Rates are measured by jpipd_ops_client over a fixed window after a warm-up, on a 2048x2048
# random (incompressible) image so every response outlasts the window.
# Usage: jpipd_ops_test.sh JPIPD OPS_CLIENT. Exits 77 (skip) when curl or opj_compress is
# missing.
set -u

jpipd=${1:?usage: jpipd_ops_test.sh JPIPD OPS_CLIENT}
client=${2:?usage: jpipd_ops_test.sh JPIPD OPS_CLIENT}
only=${3:-all} # rates | limits | metrics | stop | all

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools curl opj_compress
e2e_init jpipd_ops_test
curl_max_time=30 # get's bound: the rate-limited responses take longer

# ---- fixture: 2048x2048 RGB noise, lossless (about 12.6 MB) ----
root=$tmp/root
mkdir -p "$root"
head -c $((2048 * 2048 * 3)) /dev/urandom >"$tmp/in.raw"
if ! opj_compress -i "$tmp/in.raw" -F 2048,2048,3,8,u -o "$root/big.jp2" -p RPCL -b 64,64 \
    -c '[64,64]' >"$tmp/opj.log" 2>&1; then
    echo "FAIL: opj_compress failed: $(tail -3 "$tmp/opj.log")" >&2
    exit 1
fi
rm -f "$tmp/in.raw"
full='fsiz=2048,2048'

cid_of() { # cid_of NAME -> the cid from JPIP-cnew
    header "$1" JPIP-cnew | sed -n 's/.*cid=\([^,]*\).*/\1/p'
}
metric() { # metric FILE NAME{LABELS} -> value (from the client's parsed output)
    awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# ---- rates ----
if [ "$only" = all ] || [ "$only" = rates ]; then
    jpipd_start rate1 --client-rate 800000
    "$client" rate "$port" 1 0.5 3 "/big.jp2?$full&cnew=http" --each 800000 >"$tmp/rate1.txt"
    check "one session under --client-rate 800000 within 10%: $(tail -1 "$tmp/rate1.txt")" \
        [ $? -eq 0 ]
    cat "$tmp/rate1.txt"
    stop "$pid"

    jpipd_start rate8 --total-rate 1600000
    "$client" rate "$port" 8 0.5 3 "/big.jp2?$full&cnew=http" --total 1600000 \
        --min-each 160000 >"$tmp/rate8.txt"
    check "8 sessions under --total-rate 1600000: sum within 10%, each >= 80% of 200000: \
$(tail -1 "$tmp/rate8.txt")" [ $? -eq 0 ]
    cat "$tmp/rate8.txt"
    stop "$pid"

    # A light client (small stateless views, one after the other) beside 7 greedy sessions
    # that fill the total: its requests must not wait behind the greedy ones' bytes.
    jpipd_start rate_mix --total-rate 1600000 --access-log "$tmp/mix.log"
    "$client" rate "$port" 7 0.5 4 "/big.jp2?$full&cnew=http" --total 1600000 \
        >"$tmp/mix7.txt" &
    greedy=$!
    sleep 1
    t0=$(date +%s%N)
    light_ok=1
    for i in 1 2 3 4 5; do
        code=$(get light "http://127.0.0.1:$port/big.jp2?fsiz=128,128&roff=$((i * 16)),0&rsiz=16,16")
        [ "$code" = 200 ] || light_ok=0
    done
    t1=$(date +%s%N)
    kill -0 "$greedy" 2>/dev/null && greedy_running=1 || greedy_running=0
    wait "$greedy"
    check "7 greedy sessions still fill the total: $(tail -1 "$tmp/mix7.txt")" [ $? -eq 0 ]
    light_ms=$(((t1 - t0) / 1000000))
    # Five small views (a few KB each) at a fair share of 200 KB/s take well under 1 s, and
    # start-time fair queuing serves them ahead of the greedy ones' 16 KiB grants: they are all
    # done while the greedy sessions still stream (starved, they would wait for them to end).
    check "a light client among 7 greedy sessions is served first (5 views in ${light_ms} ms)" \
        all [ "$light_ok" = 1 ] -- [ "$greedy_running" = 1 ]
    echo "light client: 5 small views in ${light_ms} ms beside 7 greedy sessions"
    stop "$pid"
fi

# ---- limits ----
if [ "$only" = all ] || [ "$only" = limits ]; then
    jpipd_start limits --max-sessions 2 --idle-timeout 2 --send-timeout 2 --max-connections 3 \
        --access-log "$tmp/limits.log"
    base="http://127.0.0.1:$port"
    check "session 1 opens" [ "$(get s1 "$base/big.jp2?fsiz=64,64&cnew=http")" = 200 ]
    check "session 2 opens" [ "$(get s2 "$base/big.jp2?fsiz=64,64&cnew=http")" = 200 ]
    check "session 3 of --max-sessions 2 gets 503" \
        [ "$(get s3 "$base/big.jp2?fsiz=64,64&cnew=http")" = 503 ]
    check "the 503 says Retry-After ($(header s3 Retry-After))" [ -n "$(header s3 Retry-After)" ]
    cid1=$(cid_of s1)
    check "session 1 has a cid" [ -n "$cid1" ]
    check "session 1's cid works while fresh" \
        [ "$(get s1b "$base/jpip?cid=$cid1&fsiz=128,128")" = 200 ]
    sleep 3.2
    check "after --idle-timeout 2 the idle session's cid gets 404" \
        [ "$(get s1c "$base/jpip?cid=$cid1&fsiz=128,128")" = 404 ]
    check "reaping made room: a new session opens" \
        [ "$(get s4 "$base/big.jp2?fsiz=64,64&cnew=http")" = 200 ]

    # A client that stops reading is dropped after --send-timeout 2 while another is served.
    "$client" stall "$port" "/big.jp2?$full" 5 >"$tmp/stall.txt" &
    staller=$!
    sleep 1
    t0=$(date +%s%N)
    code=$(get other "$base/big.jp2?fsiz=512,512")
    t1=$(date +%s%N)
    kill -0 "$staller" 2>/dev/null && stalling=1 || stalling=0
    check "another client is served while one stalls ($code, $(((t1 - t0) / 1000000)) ms)" \
        all [ "$code" = 200 ] -- [ "$stalling" = 1 ]
    wait "$staller"
    check "the stalled client was dropped: $(cat "$tmp/stall.txt")" [ $? -eq 0 ]
    check "the access log marks the stalled response incomplete" \
        grep -q "GET \"/big.jp2?$full\" 200 .* incomplete$" "$tmp/limits.log"

    # --max-connections 3: hold three idle connections; the fourth gets 503.
    exec 7<>"/dev/tcp/127.0.0.1/$port" 8<>"/dev/tcp/127.0.0.1/$port" 9<>"/dev/tcp/127.0.0.1/$port"
    sleep 0.3
    check "beyond --max-connections 3 a request gets 503" [ "$(get c4 "$base/healthz")" = 503 ]
    check "... with Retry-After and Connection: close" \
        all [ -n "$(header c4 Retry-After)" ] -- [ "$(header c4 Connection)" = close ]
    exec 7>&- 8>&- 9>&-
    sleep 0.3
    check "after they close, requests are served again" [ "$(get c5 "$base/healthz")" = 200 ]

    get metrics "$base/metrics" >/dev/null
    "$client" metrics "$tmp/metrics.b" >"$tmp/metrics.txt"
    check "/metrics parses as Prometheus text" [ $? -eq 0 ]
    check "/metrics counts the reaped session" \
        [ "$(metric "$tmp/metrics.txt" jpipd_sessions_reaped_total)" -ge 1 ]
    check "/metrics counts the 503s" \
        [ "$(metric "$tmp/metrics.txt" 'jpipd_requests_total{code="503"}')" -ge 2 ]
    check "/metrics counts the cut response" \
        [ "$(metric "$tmp/metrics.txt" jpipd_responses_cut_total)" -ge 1 ]
    check "/metrics counts the refused connection" \
        [ "$(metric "$tmp/metrics.txt" jpipd_connections_refused_total)" -ge 1 ]
    check "access log: view, bins, binbytes and eor fields" grep -Eq \
        '"/big\.jp2\?fsiz=64,64&cnew=http" 200 [0-9]+ [0-9]+us [0-9a-f]{32} view="fsiz=64,64" bins=[1-9][0-9]* binbytes=[1-9][0-9]* eor=2$' \
        "$tmp/limits.log"
    stop "$pid"
    check "jpipd stops cleanly after the limits" [ $? -eq 0 ]
fi

# ---- metrics: byte counters agree with what clients received ----
if [ "$only" = all ] || [ "$only" = metrics ]; then
    jpipd_start metrics
    base="http://127.0.0.1:$port"
    sum=0
    get m1 "$base/big.jp2?fsiz=256,256&cnew=http" >/dev/null
    sum=$((sum + $(size_of m1)))
    cid=$(cid_of m1)
    get m2 "$base/jpip?cid=$cid&fsiz=512,512" >/dev/null
    sum=$((sum + $(size_of m2)))
    get m3 "$base/big.jp2?fsiz=512,512&roff=0,0&rsiz=128,128" >/dev/null
    sum=$((sum + $(size_of m3)))
    get m4 "$base/jpip?cid=$cid&fsiz=256,256" -X POST -H 'Content-Type: application/x-www-form-urlencoded' >/dev/null
    sum=$((sum + $(size_of m4)))
    get metrics2 "$base/metrics" >/dev/null
    "$client" metrics "$tmp/metrics2.b" >"$tmp/metrics2.txt"
    check "/metrics parses as Prometheus text (2)" [ $? -eq 0 ]
    got=$(metric "$tmp/metrics2.txt" jpipd_body_bytes_total)
    check "jpipd_body_bytes_total ($got) equals the bytes the clients received ($sum)" \
        [ "$got" = "$sum" ]
    check "requests_total{code=200} counts the four views" \
        [ "$(metric "$tmp/metrics2.txt" 'jpipd_requests_total{code="200"}')" -ge 4 ]
    # Only the requests without a channel look their file up (m1 misses, m3 hits); m2 and m4
    # use their session's file.
    check "one index miss, then a hit" \
        all [ "$(metric "$tmp/metrics2.txt" jpipd_index_cache_misses_total)" = 1 ] -- \
        [ "$(metric "$tmp/metrics2.txt" jpipd_index_cache_hits_total)" = 1 ]
    check "the session's model saved bytes (the 256x256 data the 512x512 view did not resend)" \
        [ "$(metric "$tmp/metrics2.txt" jpipd_model_saved_bytes_total)" -gt 0 ]
    check "one session open" [ "$(metric "$tmp/metrics2.txt" jpipd_sessions)" = 1 ]
    stop "$pid"
fi

# ---- SIGTERM: finish in-flight responses within the bound ----
if [ "$only" = all ] || [ "$only" = stop ]; then
    jpipd_start whole
    get whole "http://127.0.0.1:$port/big.jp2?fsiz=1024,1024" >/dev/null
    whole_size=$(size_of whole)
    stop "$pid"

    jpipd_start drain --client-rate 2000000 --shutdown-timeout 20
    base="http://127.0.0.1:$port"
    get drained "$base/big.jp2?fsiz=1024,1024" >"$tmp/drained.code" &
    getter=$!
    sleep 0.5
    t0=$(date +%s%N)
    kill -TERM "$pid"
    sleep 0.3
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$base/healthz")
    check "after SIGTERM new connections are refused (got '$code')" [ "$code" = 000 ]
    wait "$getter"
    check "the response in flight finished ($(cat "$tmp/drained.code"), $(size_of drained) of \
$whole_size bytes)" all [ "$(cat "$tmp/drained.code")" = 200 ] -- [ "$(size_of drained)" = "$whole_size" ]
    check "... ending with EOR 'window done' ($(tail_hex drained 3))" [ "$(tail_hex drained 3)" = 000200 ]
    stop "$pid" 10
    rc=$?
    t1=$(date +%s%N)
    check "jpipd exits 0 after draining (rc $rc, $(((t1 - t0) / 1000000)) ms)" [ "$rc" -eq 0 ]

    jpipd_start cut --client-rate 200000 --shutdown-timeout 1
    get cut "http://127.0.0.1:$port/big.jp2?fsiz=1024,1024" >/dev/null &
    getter=$!
    sleep 0.5
    t0=$(date +%s%N)
    stop "$pid" 10
    rc=$?
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    check "with --shutdown-timeout 1 jpipd exits 0 within 3 s (rc $rc, $ms ms)" \
        all [ "$rc" -eq 0 ] -- [ "$ms" -lt 3000 ]
    wait "$getter"
    check "... and the long response ended early ($(size_of cut) of $whole_size bytes)" \
        [ "$(size_of cut)" -lt "$whole_size" ]
    check "... with EOR 'session limit reached' ($(tail_hex cut 3))" [ "$(tail_hex cut 3)" = 000600 ]
fi

summary jpipd_ops
