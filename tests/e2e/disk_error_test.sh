#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# A disk read error under jpipd (issue 7's fault list): jpipd runs with eio_preload (an
# LD_PRELOAD library whose pread fails with EIO on the bytes [FROM, end) of one file while a
# trigger file exists), so a bad sector comes and goes while the server runs:
#   open      the first request for the file while the sector fails: 500 with a one-line reason
#             naming the offset; jpip-get exits 2 showing that line; another file is served
#             exactly
#   recover   the sector reads again: the same server serves the file exactly (nothing bad was
#             kept: no index, no data)
#   body      the sector fails under a response whose index is already built: the body stops
#             (never wrong data), jpip-get with a disk cache gives up with a one-line error; once
#             the sector reads again, jpip-get with that cache completes with exact pixels; a
#             client whose session lives through a moment of failure completes exactly too
# jpipd keeps running throughout, logs no sanitizer report, and exits 0 on SIGTERM.
# Usage: disk_error_test.sh JPIPD JPIP_GET MKIMAGE EIO_PRELOAD. Exits 77 (skip) when the
# OpenJPEG tools are missing.
set -u

usage='usage: disk_error_test.sh JPIPD JPIP_GET MKIMAGE EIO_PRELOAD'
jpipd=${1:?$usage}
get=${2:?$usage}
mkimage=${3:?$usage}
preload=${4:?$usage}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools curl opj_compress opj_decompress
e2e_init jpip_disk_error_test

root=$tmp/root
mkdir -p "$root" "$tmp/src"
"$mkimage" -w 2048 -h 1536 -c 3 -seed 7 "$tmp/src/bad.ppm" || exit 1
"$mkimage" -w 320 -h 240 -c 3 -seed 8 "$tmp/src/good.ppm" || exit 1
# Tiles, so a view's index is built tile by tile; larger than jpipd's 2 MiB block cache per
# file, so a whole-image response reads the bad sector again.
opj_compress -i "$tmp/src/bad.ppm" -o "$root/bad.j2k" -t 256,256 -n 4 -r 20,5,1 >/dev/null 2>&1 &&
    opj_compress -i "$tmp/src/good.ppm" -o "$root/good.jp2" -n 3 >/dev/null 2>&1 &&
    opj_decompress -i "$root/bad.j2k" -o "$tmp/bad_ref.ppm" >/dev/null 2>&1 &&
    opj_decompress -i "$root/good.jp2" -o "$tmp/good_ref.ppm" >/dev/null 2>&1 ||
    { echo "FAIL: making the test files" >&2; exit 1; }
size=$(stat -c %s "$root/bad.j2k")
trigger=$tmp/sector-fails

# The sector: the second half of bad.j2k (tile data; the main header reads fine).
serve_start jpipd env JPIP_EIO_FILE="$(realpath "$root/bad.j2k")" JPIP_EIO_TRIGGER="$trigger" \
    JPIP_EIO_FROM=$((size / 2)) LD_PRELOAD="$preload" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$jpipd" --root "$root" --listen 127.0.0.1:0 --log-level warn ||
    { echo "FAIL: jpipd did not start: $(cat "$tmp/jpipd.err")" >&2; exit 1; }
jpid=$pid

fetch() { # fetch NAME ARGS...: jpip-get into $tmp/NAME.ppm, stderr in $tmp/NAME.err; its status
    local name=$1
    shift
    timeout 60 "$get" -q -t 10 "$@" -o "$tmp/$name.ppm" >"$tmp/$name.out" 2>"$tmp/$name.err"
}
one_line_naming_offset() { # the file holds one line that names the byte offset and the error
    [ "$(grep -c . "$1")" = 1 ] && grep -q 'offset [0-9]' "$1" && grep -q 'I/O error' "$1"
}

# ---- open: the sector fails from the first request on ----
touch "$trigger"
code=$(get open "$base/bad.j2k?fsiz=2048,1536&type=jpp-stream")
check "a view of the file behind the bad sector: 500 (got $code)" [ "$code" = 500 ]
check "... with one line naming the offset ($(head -c 200 "$tmp/open.b"))" \
    one_line_naming_offset "$tmp/open.b"
fetch open_get --retries 0 "$base/bad.j2k?fsiz=2048,1536"
rc=$?
check "jpip-get of that view: exit 2 (HTTP error; got $rc)" [ $rc = 2 ]
check "... with one line naming the offset ($(head -c 200 "$tmp/open_get.err"))" \
    one_line_naming_offset "$tmp/open_get.err"
check "... and no picture written" [ ! -s "$tmp/open_get.ppm" ]
fetch good1 "$base/good.jp2"
rc=$?
check "another file meanwhile: exit 0 (got $rc)" [ $rc = 0 ]
check "... exact pixels" same_image "$tmp/good1.ppm" "$tmp/good_ref.ppm"

# ---- recover: the sector reads again ----
rm -f "$trigger"
fetch recover "$base/bad.j2k"
rc=$?
check "the sector reads again: jpip-get of the whole image exits 0 (got $rc)" [ $rc = 0 ]
check "... exact pixels (no index or data kept from the failure)" \
    same_image "$tmp/recover.ppm" "$tmp/bad_ref.ppm"

# ---- body: the index is built, the sector fails under the responses ----
# A session holds a thumbnail; then the sector fails and a fetch of the whole image with a disk
# cache stops part-way.
mkdir -p "$tmp/cache"
fetch thumb -c "$tmp/cache" "$base/bad.j2k?fsiz=256,192"
rc=$?
check "a thumbnail into a disk cache: exit 0 (got $rc)" [ $rc = 0 ]
touch "$trigger"
fetch body --retries 1 -c "$tmp/cache" "$base/bad.j2k"
rc=$?
check "the whole image while the sector fails: jpip-get gives up, exit 2 or 3 (got $rc)" \
    any [ $rc = 2 ] -- [ $rc = 3 ]
check "... ending with a one-line error ($(tail -n 1 "$tmp/body.err" | head -c 200))" \
    grep -q '^jpip-get: .*(after 1 retries)$' "$tmp/body.err"
check "... and no picture written" [ ! -s "$tmp/body.ppm" ]
code=$(get good_thumb "$base/good.jp2?fsiz=64,48&type=jpp-stream")
check "the server still serves another file (got $code)" [ "$code" = 200 ]
rm -f "$trigger"
fetch body2 -c "$tmp/cache" "$base/bad.j2k"
rc=$?
check "the sector reads again: jpip-get with the same cache exits 0 (got $rc)" [ $rc = 0 ]
check "... exact pixels (the cache kept nothing wrong)" same_image "$tmp/body2.ppm" "$tmp/bad_ref.ppm"

# The sector fails for a moment under a running client (one session, read at 2 MB/s): it
# retries and completes with exact pixels.
rm -rf "$tmp/cache"
fetch live --retries 10 --limit-rate 2000000 "$base/bad.j2k" &
live=$!
sleep 1
touch "$trigger"
sleep 1
rm -f "$trigger"
wait "$live"
rc=$?
check "a client across a moment of failure: exit 0 (got $rc; $(head -c 200 "$tmp/live.err"))" \
    [ $rc = 0 ]
check "... exact pixels" same_image "$tmp/live.ppm" "$tmp/bad_ref.ppm"
check "... the failure was met: the server logged it" grep -q 'I/O error' "$tmp/jpipd.err"

kill -0 "$jpid" 2>/dev/null
check "jpipd is still running" [ $? = 0 ]
stop "$jpid"
rc=$?
check "jpipd exits 0 on SIGTERM (got $rc)" [ $rc = 0 ]
reports=$(grep -c -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'LeakSanitizer' "$tmp/jpipd.err")
check "no sanitizer report in jpipd's stderr ($reports)" [ "$reports" = 0 ]

summary "disk errors"
