#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# jpip-get against servers that break HTTP framing after a valid start (tests/e2e/hostile_httpd.c):
# a chunk-size line that is no number, a chunk cut short, a chunk size beyond 64 bits, a
# Content-Length longer than the body, a 256 KiB header line, a status line without a number,
# an HTML answer, and a server that never answers. Each run must end within its bound with exit 2
# (transport) or 3 (protocol) and a one-line reason; the cache it saved must load cleanly in
# the next run (no "ignored" warning), i.e. the cache stays consistent.
# Usage: jpip_get_hostile_test.sh JPIP_GET HOSTILE_HTTPD
set -u

get=${1:?usage: jpip_get_hostile_test.sh JPIP_GET HOSTILE_HTTPD}
hostile=${2:?usage: jpip_get_hostile_test.sh JPIP_GET HOSTILE_HTTPD}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jpip_get_hostile.XXXXXX") || exit 1
hpid=
cleanup() {
    [ -n "$hpid" ] && kill "$hpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then passed=$((passed + 1)); else
        echo "FAIL: $what" >&2
        failed=$((failed + 1))
    fi
}

for mode in badsize shortchunk hugechunk shortclen longheader badstatus wrongtype silence; do
    "$hostile" "$mode" >"$tmp/$mode.port" 2>&1 &
    hpid=$!
    port=
    for _ in $(seq 200); do
        port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$tmp/$mode.port")
        [ -n "$port" ] && break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "FAIL: $mode: hostile_httpd did not start: $(cat "$tmp/$mode.port")" >&2
        failed=$((failed + 1))
        continue
    fi
    url="http://127.0.0.1:$port/a.jp2?fsiz=64,64"
    for run in 1 2; do
        timeout 60 "$get" --cache "$tmp/cache" --retries 1 --timeout 3 "$url" \
            -o "$tmp/out.ppm" 2>"$tmp/$mode.$run.err"
        rc=$?
        reason=$(grep -v '^jpip-get: view' "$tmp/$mode.$run.err" | tail -n 1)
        check "$mode run $run: exit 2 or 3 (got $rc: $reason)" [ $rc = 2 -o $rc = 3 ]
        check "$mode run $run: a one-line reason" grep -q '^jpip-get: ' "$tmp/$mode.$run.err"
        check "$mode run $run: no cache warning" \
            bash -c "! grep -qi 'cache.*ignored\|ignor.*cache' '$tmp/$mode.$run.err'"
    done
    case $mode in
    badsize | shortchunk | hugechunk | shortclen)
        # The message before the break was kept, saved, and found again by the second run.
        check "$mode: the cache file was written" ls "$tmp/cache"/*.jpipcache
        check "$mode: the second run restored it" \
            grep -Eq 'cache hits:? *[1-9]|[1-9][0-9]* cache hits' "$tmp/$mode.2.err"
        ;;
    esac
    echo "$mode: $reason"
    kill "$hpid" 2>/dev/null
    wait "$hpid" 2>/dev/null
    hpid=
done

echo "jpip_get_hostile: $passed passed, $failed failed"
[ "$failed" = 0 ]
