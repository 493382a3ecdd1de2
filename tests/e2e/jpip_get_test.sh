#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# End-to-end test of jpip-get against jpipd on 127.0.0.1: for every J2K and JP2 file of the
# generated corpus and five views (a thumbnail, a full-resolution region, a mid-resolution
# region, one component, fewer layers), jpip-get's PGM/PPM/raw output must equal
# opj_decompress's decode of the original file with the matching -r/-d/-l/-c, byte for byte.
# Then: a view fetched again through --cache moves no data-bin byte; a corrupt or foreign cache
# file is ignored with a warning; jpipd killed (-9) in the middle of a transfer and restarted
# on the same port does not stop jpip-get from completing the view exactly and without a byte
# received twice, nor does a body cut by a relay; stateless requests (POST when the cache
# declaration is long), --len, --max-bytes, --progressive, .j2k and .raw/.rawl output, HTTPS
# (verification, --cacert, --insecure), and the exit codes.
#
# Usage: jpip_get_test.sh JPIP_GET JPIPD JPIP_INFO CORPUS_DIR [CUT_PROXY]
# Exits 77 (skip) when jpipd or the OpenJPEG tools are missing. Prints "jpip_get: N checks passed,
# M failed".
set -u

get=${1:?usage: jpip_get_test.sh JPIP_GET JPIPD JPIP_INFO CORPUS_DIR}
jpipd=${2:?usage: jpip_get_test.sh JPIP_GET JPIPD JPIP_INFO CORPUS_DIR}
info=${3:?usage: jpip_get_test.sh JPIP_GET JPIPD JPIP_INFO CORPUS_DIR}
corpus=${4:?usage: jpip_get_test.sh JPIP_GET JPIPD JPIP_INFO CORPUS_DIR}
cut_proxy=${5:-}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools opj_decompress opj_compress
for exe in "$get" "$jpipd" "$info"; do
    if [ ! -x "$exe" ]; then
        echo "skip: $exe not built"
        exit 77
    fi
done

e2e_init jpip_get_test
jpid=

# Without the generated corpus (run by hand), make two small files of our own.
if [ ! -f "$corpus/MANIFEST" ]; then
    corpus=$tmp/corpus
    mkdir -p "$corpus"
    yes 'jpip-get test 0123456789 abcdefghijklmnopqrstuvwxyz' | head -c $((211 * 149 * 3)) \
        >"$tmp/in.raw"
    opj_compress -i "$tmp/in.raw" -F 211,149,3,8,u -o "$corpus/a.j2k" -p RPCL -n 4 \
        -c '[32,32],[32,32],[16,16]' -r 20,5,1 >/dev/null 2>&1 || exit 1
    opj_compress -i "$tmp/in.raw" -F 211,149,3,8,u -o "$corpus/b.jp2" -t 64,64 -n 3 \
        -r 10,1 >/dev/null 2>&1 || exit 1
    printf 'a.j2k\nb.jp2\n' >"$corpus/MANIFEST"
fi

# ---- jpipd ----
root=$corpus
# start_jpipd PORT: run jpipd over the corpus in the background; sets jpid, port and base.
start_jpipd() {
    jpipd_start -p "$1" jpipd --log-level error
    jpid=$pid
}

start_jpipd 0

# ---- image facts from jpip-info --json ----
# facts FILE: W H X0 Y0 (image area), NC, LAYERS, LEVELS, ALIKE (1 when every component has
# the same subsampling, depth and sign).
facts() {
    local json img comps
    json=$("$info" --json --no-index "$1" 2>/dev/null) || return 1
    img=$(grep -o '"image": {[^}]*}' <<<"$json" | head -n 1)
    W=$(sed -n 's/.*"width": \([0-9]*\).*/\1/p' <<<"$img")
    H=$(sed -n 's/.*"height": \([0-9]*\).*/\1/p' <<<"$img")
    X0=$(sed -n 's/.*"x0": \([0-9]*\).*/\1/p' <<<"$img")
    Y0=$(sed -n 's/.*"y0": \([0-9]*\).*/\1/p' <<<"$img")
    comps=$(grep -o '{"index": [0-9]*, "depth": [^}]*}' <<<"$json")
    NC=$(grep -c . <<<"$comps")
    ALIKE=0
    if [ "$(sed 's/"index": [0-9]*, //; s/, "width".*//' <<<"$comps" | sort -u | wc -l)" = 1 ]; then
        ALIKE=1
    fi
    LAYERS=$(grep -o '"layers": [0-9]*' <<<"$json" | head -n 1 | grep -o '[0-9]*$')
    LEVELS=$(grep -o '"levels": [0-9]*' <<<"$json" | head -n 1 | grep -o '[0-9]*$')
    [ -n "$W" ] && [ -n "$H" ] && [ -n "$X0" ] && [ "$NC" -gt 0 ] && [ -n "$LAYERS" ] &&
        [ -n "$LEVELS" ]
}

# The view -> decode mapping (what jpipd and the client compute, lib/databin/window.c):
# with D discarded levels the frame is FW x FH, FW = ceil(X1/2^D) - ceil(X0/2^D) where
# X1 = X0 + W (the same for y). Asking fsiz=FW,FH exactly selects D. Frame sample u covers
# the reference-grid columns [(ceil(X0/2^D) + u) * 2^D, (... + u + 1) * 2^D), so the region
# roff=ox,oy rsiz=sx,sy is the grid area
#   x0 = max(X0, (ceil(X0/2^D) + ox) * 2^D),  x1 = min(X1, (ceil(X0/2^D) + ox + sx) * 2^D)
# (rows alike), which is what opj_decompress -r D -d x0,y0,x1,y1 decodes from the original.
cdiv() { echo $((($1 + (1 << $2) - 1) >> $2)); }
frame() { # frame D -> sets FW FH
    FW=$(($(cdiv $((X0 + W)) "$1") - $(cdiv "$X0" "$1")))
    FH=$(($(cdiv $((Y0 + H)) "$1") - $(cdiv "$Y0" "$1")))
}
area() { # area D OX OY SX SY -> sets AREA "x0,y0,x1,y1"
    local d=$1 rx0 ry0 x0 y0 x1 y1
    rx0=$(cdiv "$X0" "$d")
    ry0=$(cdiv "$Y0" "$d")
    x0=$(((rx0 + $2) << d))
    y0=$(((ry0 + $3) << d))
    x1=$(((rx0 + $2 + $4) << d))
    y1=$(((ry0 + $3 + $5) << d))
    [ "$x0" -lt "$X0" ] && x0=$X0
    [ "$y0" -lt "$Y0" ] && y0=$Y0
    [ "$x1" -gt $((X0 + W)) ] && x1=$((X0 + W))
    [ "$y1" -gt $((Y0 + H)) ] && y1=$((Y0 + H))
    AREA="$x0,$y0,$x1,$y1"
}

# view FILE NAME EXT FIELDS -- OPJ_ARGS...: fetch FIELDS with jpip-get, decode the original
# with opj_decompress, compare.
view() {
    local file=$1 name=$2 ext=$3 fields=$4
    shift 5
    local out=$tmp/g.$ext ref=$tmp/r.$ext rc
    rm -f "$out" "$ref"
    "$get" -q --timeout 20 "$base/$file?$fields" -o "$out" 2>"$tmp/get.err"
    rc=$?
    if [ $rc != 0 ]; then
        fail "$file $name ($fields): jpip-get exit $rc: $(tail -n 2 "$tmp/get.err")"
        return
    fi
    if ! opj_decompress -i "$corpus/$file" -o "$ref" "$@" >"$tmp/opj.log" 2>&1 ||
        [ ! -f "$ref" ]; then
        echo "skip: $file $name: opj_decompress $* failed: $(grep ERROR "$tmp/opj.log" | head -n 1)"
        skipped=$((skipped + 1))
        return
    fi
    if same_image "$out" "$ref"; then
        pass
    else
        fail "$file $name ($fields vs opj_decompress $*): outputs differ"
    fi
}

files=0
while IFS= read -r file; do
    case $file in
    *.j2k | *.jp2) ;;
    *) continue ;;
    esac
    f=$corpus/$file
    if ! opj_decompress -i "$f" -o "$tmp/whole.raw" >/dev/null 2>&1 &&
        ! opj_decompress -i "$f" -o "$tmp/whole.pgm" >/dev/null 2>&1; then
        echo "skip: $file: opj_decompress cannot decode the original"
        skipped=$((skipped + 1))
        continue
    fi
    if ! facts "$f"; then
        fail "$file: jpip-info --json gave no geometry"
        continue
    fi
    files=$((files + 1))
    # Output format and component selection. Components that differ (subsampled chroma) are
    # fetched one at a time: opj_decompress turns three such components into RGB and writes
    # no raw file for them. Raw output is compared as .rawl: opj_decompress 2.5 writes .raw
    # and .rawl alike, in the machine's byte order (OpenJPEG issue #1587), where the
    # convention (and jpip-get's .raw) is big-endian; .raw is checked against .rawl below.
    if [ "$ALIKE" = 1 ]; then
        sel=""
        opjc=()
        case $NC in
        1) ext=pgm ;;
        3) ext=ppm ;;
        *) ext=rawl ;;
        esac
    else
        sel="&comps=0"
        opjc=(-c 0)
        ext=pgm
    fi
    dt=$((LEVELS < 2 ? LEVELS : 2))
    dm=$((LEVELS < 1 ? LEVELS : 1))
    # 1. thumbnail: the whole image at reduce dt
    frame $dt
    area $dt 0 0 "$FW" "$FH"
    view "$file" thumbnail "$ext" "fsiz=$FW,$FH$sel" -- -r $dt -d "$AREA" "${opjc[@]}"
    # 2. a full-resolution region
    frame 0
    sx=$((W / 3 > 0 ? W / 3 : 1))
    sy=$((H / 3 > 0 ? H / 3 : 1))
    area 0 $((W / 4)) $((H / 4)) $sx $sy
    view "$file" region "$ext" "fsiz=$FW,$FH&roff=$((W / 4)),$((H / 4))&rsiz=$sx,$sy$sel" \
        -- -r 0 -d "$AREA" "${opjc[@]}"
    # 3. a region at the middle resolution
    frame $dm
    ox=$((FW / 3))
    oy=$((FH / 5))
    sx=$((FW / 2 > 0 ? FW / 2 : 1))
    sy=$((FH / 2 > 0 ? FH / 2 : 1))
    area $dm $ox $oy $sx $sy
    view "$file" mid-region "$ext" "fsiz=$FW,$FH&roff=$ox,$oy&rsiz=$sx,$sy$sel" \
        -- -r $dm -d "$AREA" "${opjc[@]}"
    # 4. one component (the last) of the thumbnail
    k=$((NC - 1))
    frame $dt
    area $dt 0 0 "$FW" "$FH"
    view "$file" component "pgm" "fsiz=$FW,$FH&comps=$k" -- -r $dt -d "$AREA" -c $k
    # 5. fewer layers, full resolution
    l=$((LAYERS > 1 ? LAYERS - 1 : 1))
    frame 0
    area 0 0 0 "$FW" "$FH"
    view "$file" layers "$ext" "fsiz=$FW,$FH&layers=$l$sel" -- -r 0 -d "$AREA" -l $l "${opjc[@]}"
done <"$corpus/MANIFEST"
check "at least one file was compared" [ "$files" -gt 0 ]
echo "compared $files files"

# ---- the special cases use one tiled, layered file and the largest one ----
pick() { # pick NAME...: the first that exists in the corpus
    local n
    for n in "$@"; do
        if [ -f "$corpus/$n" ]; then
            echo "$n"
            return
        fi
    done
    head -n 1 "$corpus/MANIFEST"
}
small=$(pick rgb8_prec16_pcrl_3l.j2k a.j2k)
big=$(pick big_rgb8_1024x768_prec64_rpcl_plt_3l.j2k a.j2k)
many=$(pick big_rgb8_1024x768_t32_lrcp.j2k gray8_t16x16_many.j2k a.j2k)
summary_field() { # summary_field FILE NAME -> the number after NAME in jpip-get's summary
    sed -n "s/.*$2 \([0-9]*\).*/\1/p" "$1" | tail -n 1
}

facts "$corpus/$small"
frame 1
area 1 $((FW / 4)) $((FH / 4)) $((FW / 2)) $((FH / 2))
sv="fsiz=$FW,$FH&roff=$((FW / 4)),$((FH / 4))&rsiz=$((FW / 2)),$((FH / 2))"
opj_decompress -i "$corpus/$small" -o "$tmp/small_ref.ppm" -r 1 -d "$AREA" >/dev/null 2>&1

# Cache: the second fetch of the same view moves no data-bin byte.
"$get" "$base/$small?$sv" --cache "$tmp/cache" -o "$tmp/c1.ppm" 2>"$tmp/c1.err"
check "cache: first fetch exits 0" [ $? = 0 ]
check "cache: first fetch brings data-bin bytes" [ "$(summary_field "$tmp/c1.err" 'data-bin bytes')" -gt 0 ]
check "cache: a .jpipcache file is written" [ "$(ls "$tmp/cache"/*.jpipcache 2>/dev/null | wc -l)" = 1 ]
"$get" "$base/$small?$sv" --cache "$tmp/cache" -o "$tmp/c2.ppm" 2>"$tmp/c2.err"
check "cache: second fetch exits 0" [ $? = 0 ]
check "cache: second fetch moves 0 data-bin bytes (got $(summary_field "$tmp/c2.err" 'data-bin bytes'))" \
    [ "$(summary_field "$tmp/c2.err" 'data-bin bytes')" = 0 ]
check "cache: second fetch reports cache hits" [ "$(summary_field "$tmp/c2.err" 'cache hits')" -gt 0 ]
check "cache: second fetch gives the same pixels as opj_decompress" same_image "$tmp/c2.ppm" "$tmp/small_ref.ppm"
check "cache: no leftover temporary files" [ "$(ls -A "$tmp/cache" | wc -l)" = 1 ]

# A corrupt cache file is ignored with a warning.
cfile=$(ls "$tmp/cache"/*.jpipcache | head -n 1)
csize=$(wc -c <"$cfile")
printf 'garbage!garbage!' | dd of="$cfile" bs=1 seek=$((csize / 2)) conv=notrunc 2>/dev/null
"$get" "$base/$small?$sv" --cache "$tmp/cache" -o "$tmp/c3.ppm" 2>"$tmp/c3.err"
check "corrupt cache: exit 0" [ $? = 0 ]
check "corrupt cache: a warning" grep -q 'warning: ignoring the cache' "$tmp/c3.err"
check "corrupt cache: the view is fetched again" [ "$(summary_field "$tmp/c3.err" 'data-bin bytes')" -gt 0 ]
check "corrupt cache: right pixels" same_image "$tmp/c3.ppm" "$tmp/small_ref.ppm"
# ... and so is a file of another URL under this URL's name, or a file that is no cache.
"$get" -q "$base/$big?fsiz=64,48" --cache "$tmp/cache2" -o "$tmp/other.ppm" 2>/dev/null
cp "$tmp/cache2"/*.jpipcache "$cfile"
"$get" "$base/$small?$sv" --cache "$tmp/cache" -o "$tmp/c4.ppm" 2>"$tmp/c4.err"
check "foreign cache: exit 0 and a warning" grep -q 'belongs to another URL' "$tmp/c4.err"
check "foreign cache: right pixels" same_image "$tmp/c4.ppm" "$tmp/small_ref.ppm"
head -c 3 /dev/zero >"$cfile"
"$get" "$base/$small?$sv" --cache "$tmp/cache" -o "$tmp/c5.ppm" 2>"$tmp/c5.err"
check "truncated cache: exit 0 and a warning" grep -q 'not a jpip cache file' "$tmp/c5.err"

# Stateless requests declaring a cache; sent as POST forms (--post-over 100: the client's
# model= declarations are compact, a real one passes 2000 bytes only for large scattered caches).
facts "$corpus/$many"
frame 0
"$get" -q "$base/$many?fsiz=$FW,$FH" --cache "$tmp/cache3" -o "$tmp/m1.ppm" 2>/dev/null
area 0 $((W / 2)) $((H / 2)) $((W / 3)) $((H / 3))
"$get" -v --stateless "$base/$many?fsiz=$FW,$FH&roff=$((W / 2)),$((H / 2))&rsiz=$((W / 3)),$((H / 3))&layers=1" \
    --post-over 100 --cache "$tmp/cache3" -o "$tmp/m2.ppm" 2>"$tmp/m2.err"
check "stateless: exit 0" [ $? = 0 ]
check "stateless: the declaration went as POST" grep -q ': [1-9][0-9]* POST requests' "$tmp/m2.err"
check "stateless: no duplicate byte" [ "$(summary_field "$tmp/m2.err" 'duplicate bytes')" = 0 ]
opj_decompress -i "$corpus/$many" -o "$tmp/m2_ref.ppm" -d "$AREA" -l 1 >/dev/null 2>&1
check "stateless: right pixels" same_image "$tmp/m2.ppm" "$tmp/m2_ref.ppm"
"$get" --stateless --len 3000 "$base/$small?$sv" -o "$tmp/s1.ppm" 2>"$tmp/s1.err"
check "stateless --len 3000: exit 0" [ $? = 0 ]
check "stateless --len 3000: several requests" [ "$(summary_field "$tmp/s1.err" requests)" -gt 3 ]
check "stateless --len 3000: no duplicate byte" [ "$(summary_field "$tmp/s1.err" 'duplicate bytes')" = 0 ]
check "stateless --len 3000: right pixels" same_image "$tmp/s1.ppm" "$tmp/small_ref.ppm"
# JPT-streams (tile data-bins), with a channel and stateless.
for mode in "" --stateless; do
    "$get" $mode "$base/$small?$sv&type=jpt-stream" -o "$tmp/t1.ppm" 2>"$tmp/t1.err"
    check "jpt-stream $mode: exit 0" [ $? = 0 ]
    check "jpt-stream $mode: no duplicate byte" [ "$(summary_field "$tmp/t1.err" 'duplicate bytes')" = 0 ]
    check "jpt-stream $mode: right pixels" same_image "$tmp/t1.ppm" "$tmp/small_ref.ppm"
done

# start_proxy CUT RATE: the relay (jpip_get_cut_proxy) in front of jpipd; sets ppid_, pport.
start_proxy() {
    listener_start "$tmp/proxy.out" 50 "$cut_proxy" "${base##*:}" "$1" "$2"
    ppid_=$lpid
    pport=$lport
}

facts "$corpus/$big"
opj_decompress -i "$corpus/$big" -o "$tmp/big_ref.ppm" >/dev/null 2>&1
if [ -n "$cut_proxy" ] && [ -x "$cut_proxy" ]; then
    # The server dies in the middle of a view (kill -9) and comes back on the same port. The
    # relay is a slow pipe (the view takes about 4 s), so the kill lands inside the transfer.
    bigsize=$(wc -c <"$corpus/$big")
    rate=$((bigsize / 4 > 20000 ? bigsize / 4 : 20000))
    kill_test() { # kill_test NAME EXTRA-ARGS...
        local name=$1
        shift
        start_proxy -1 "$rate"
        "$get" -v --retries 8 "$@" "http://127.0.0.1:$pport/$big" -o "$tmp/k_$name.ppm" \
            2>"$tmp/k_$name.err" &
        bgpid=$!
        pids+=("$bgpid")
        sleep 1.2
        kill -9 "$jpid"
        wait "$jpid" 2>/dev/null
        forget "$jpid"
        jpid=
        sleep 0.4
        start_jpipd "${base##*:}"
        local rc=0
        wait "$bgpid" || rc=$?
        forget "$bgpid"
        stop "$ppid_"
        check "kill $name: jpip-get completes (exit $rc: $(grep -v '^jpip-get: view' "$tmp/k_$name.err" | tail -n 1))" [ $rc = 0 ]
        if [ "$name" != body ]; then
            # With len= the view takes many requests, and the kill falls among them. (A
            # whole-view response may already sit in the socket buffers when jpipd dies.)
            check "kill $name: a retry was seen" grep -q 'retry' "$tmp/k_$name.err"
        fi
        check "kill $name: no byte received twice" [ "$(summary_field "$tmp/k_$name.err" 'duplicate bytes')" = 0 ]
        check "kill $name: right pixels" same_image "$tmp/k_$name.ppm" "$tmp/big_ref.ppm"
    }
    kill_test body
    kill_test len --len 30000

    # SIGINT in the middle of a view: exit 4, the cache is saved, and the next run fetches
    # only the rest.
    start_proxy -1 "$rate"
    "$get" --cache "$tmp/icache" "http://127.0.0.1:$pport/$big" -o "$tmp/int.ppm" \
        2>"$tmp/int.err" &
    bgpid=$!
    pids+=("$bgpid")
    sleep 1.5
    kill -INT "$bgpid"
    rc=0
    wait "$bgpid" || rc=$?
    forget "$bgpid"
    check "SIGINT: exit 4 (got $rc)" [ $rc = 4 ]
    check "SIGINT: says the cache is saved" grep -q 'interrupted; the cache is saved' "$tmp/int.err"
    got=$(summary_field "$tmp/int.err" 'data-bin bytes')
    # The same URL (the cache file is keyed by host and port): through the relay again.
    "$get" --cache "$tmp/icache" "http://127.0.0.1:$pport/$big" -o "$tmp/int2.ppm" 2>"$tmp/int2.err"
    check "after SIGINT: the next run completes" [ $? = 0 ]
    stop "$ppid_"
    rest=$(summary_field "$tmp/int2.err" 'data-bin bytes')
    check "after SIGINT: only the rest is fetched ($got + $rest)" all [ "$got" -gt 0 ] -- \
        [ "$(summary_field "$tmp/int2.err" 'cache hits')" -gt 0 ] -- \
        [ "$(summary_field "$tmp/k_body.err" 'data-bin bytes')" -gt "$rest" ]
    check "after SIGINT: no duplicate byte" [ "$(summary_field "$tmp/int2.err" 'duplicate bytes')" = 0 ]
    check "after SIGINT: right pixels" same_image "$tmp/int2.ppm" "$tmp/big_ref.ppm"

    # A body cut in the middle (the relay closes the first connection after 100000 bytes):
    # the client reconnects, opens a new channel, declares its cache and receives no byte
    # twice.
    start_proxy 100000 0
    "$get" -v "http://127.0.0.1:$pport/$big" -o "$tmp/cut.ppm" 2>"$tmp/cut.err"
    rc=$?
    stop "$ppid_"
    check "cut body: exit 0 (got $rc: $(tail -n 1 "$tmp/cut.err"))" [ $rc = 0 ]
    check "cut body: one broken response" grep -q ', 1 broken responses' "$tmp/cut.err"
    check "cut body: no byte received twice" [ "$(summary_field "$tmp/cut.err" 'duplicate bytes')" = 0 ]
    check "cut body: right pixels" same_image "$tmp/cut.ppm" "$tmp/big_ref.ppm"
else
    echo "skip: no relay (jpip_get_cut_proxy): the kill and cut cases are not run"
    skipped=$((skipped + 1))
fi

# .raw is big-endian, .rawl little-endian (16-bit samples swap pairwise).
deep=$(pick gray16_lossless_n7.j2k rgb16_rev_plt_tlm.j2k "$small")
"$get" -q "$base/$deep?layers=1" -o "$tmp/be.raw" && "$get" -q "$base/$deep?layers=1" -o "$tmp/le.rawl"
check ".raw vs .rawl: both written" all [ -s "$tmp/be.raw" ] -- [ -s "$tmp/le.rawl" ]
if facts "$corpus/$deep" && [ "$(grep -o '"depth": [0-9]*' <<<"$("$info" --json --no-index "$corpus/$deep")" | head -n 1 | grep -o '[0-9]*$')" -gt 8 ]; then
    dd if="$tmp/le.rawl" of="$tmp/swapped.raw" conv=swab 2>/dev/null
    check ".raw is .rawl byte-swapped" cmp -s "$tmp/be.raw" "$tmp/swapped.raw"
fi

# Byte limit: the view is incomplete, exit 4, and what arrived is still written.
"$get" --max-bytes 2000 "$base/$big" -o "$tmp/lim.png" 2>"$tmp/lim.err"
rc=$?
check "max-bytes: exit 4 (got $rc)" [ $rc = 4 ]
check "max-bytes: summary says incomplete" grep -q 'view incomplete' "$tmp/lim.err"

# Progressive output: one PNG per response (the view's data, about 25 KB, in 4000-byte
# responses).
"$get" -q --len 4000 --progressive "$tmp/prog" "$base/$small?$sv" -o "$tmp/prog.png"
check "progressive: exit 0" [ $? = 0 ]
check "progressive: several steps written" all [ -f "$tmp/prog_001.png" ] -- [ -f "$tmp/prog_003.png" ]
check "progressive: PNG signature" [ "$(head -c 4 "$tmp/prog_001.png" | od -An -c | tr -d ' ')" = '211PNG' ]

# .j2k output is a codestream.
"$get" -q "$base/$small?$sv" -o "$tmp/view.j2k"
check ".j2k: exit 0" [ $? = 0 ]
check ".j2k: starts with SOC SIZ" [ "$(head -c 4 "$tmp/view.j2k" | od -An -tx1 | tr -d ' \n')" = ff4fff51 ]

# HTTPS: verified by default (a self-signed certificate fails, exit 2), accepted with
# --cacert naming it or with --insecure.
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" \
        -out "$tmp/cert.pem" >"$tmp/openssl.log" 2>&1; then
    main_base=$base main_port=$port
    jpipd_try_start tls --log-level error --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
    tlspid=$pid tport=$port
    base=$main_base port=$main_port
    if [ -n "$tport" ]; then
        "$get" -q --retries 0 "https://127.0.0.1:$tport/$small?$sv" -o "$tmp/tls0.ppm" 2>"$tmp/tls0.err"
        rc=$?
        check "https, self-signed, no option: exit 2 (got $rc)" [ $rc = 2 ]
        "$get" -q --cacert "$tmp/cert.pem" "https://127.0.0.1:$tport/$small?$sv" -o "$tmp/tls1.ppm"
        check "https --cacert: exit 0" [ $? = 0 ]
        check "https --cacert: right pixels" same_image "$tmp/tls1.ppm" "$tmp/small_ref.ppm"
        "$get" -q --insecure "https://127.0.0.1:$tport/$small?$sv" -o "$tmp/tls2.ppm"
        check "https --insecure: exit 0" [ $? = 0 ]
        check "https --insecure: right pixels" same_image "$tmp/tls2.ppm" "$tmp/small_ref.ppm"
    else
        echo "skip: jpipd did not start with TLS: $(head -n 2 "$tmp/tls.err")"
        skipped=$((skipped + 1))
    fi
    stop "$tlspid" >/dev/null
else
    echo "skip: openssl missing or failed; HTTPS not tested"
    skipped=$((skipped + 1))
fi

# Exit codes and usage.
"$get" >/dev/null 2>&1
check "no URL: exit 1" [ $? = 1 ]
"$get" "$base/$small?tid=0" -o "$tmp/x.png" 2>"$tmp/u.err"
check "URL with tid=: exit 1" [ $? = 1 ]
check "URL with tid=: says why" grep -q "tid" "$tmp/u.err"
"$get" "$base/$small?fsiz=1,2,sideways" -o "$tmp/x.png" 2>/dev/null
check "bad fsiz: exit 1" [ $? = 1 ]
"$get" "$base/$small" -o "$tmp/x.gif" 2>/dev/null
check "unknown output type: exit 1" [ $? = 1 ]
"$get" --help >"$tmp/help.out"
check "--help: exit 0 and mentions --cache" grep -q -- '--cache' "$tmp/help.out"
"$get" --version >/dev/null
check "--version: exit 0" [ $? = 0 ]
"$get" -q "$base/no_such_file.j2k" -o "$tmp/x.png" 2>/dev/null
check "missing target: exit 2" [ $? = 2 ]
stop "$jpid" >/dev/null
"$get" -q --retries 1 "$base/$small" -o "$tmp/x.png" 2>/dev/null
check "server down: exit 2" [ $? = 2 ]

summary jpip_get
