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
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init jpip_get_hostile

for mode in badsize shortchunk hugechunk shortclen longheader badstatus wrongtype silence; do
    if ! listener_start "$tmp/$mode.port" 200 "$hostile" "$mode"; then
        fail "$mode: hostile_httpd did not start: $(cat "$tmp/$mode.port")"
        continue
    fi
    hpid=$lpid port=$lport
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
    stop "$hpid" >/dev/null
done

summary jpip_get_hostile
