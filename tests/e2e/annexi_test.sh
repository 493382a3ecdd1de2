#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Test of `jpip-info --write-index` (15444-9 Annex I index boxes): encodes JP2 files with
# opj_compress (tiled RGB with tile-parts by resolution, one RPCL tile with precincts and
# SOP/EPH, 16-bit greyscale, one with PLT, and opj_compress -jpip output whose placeholder
# index boxes must be replaced), writes the index and checks it with annexi_check (which parses
# the boxes back with our box parser and compares them with our packet index). Each output must
# still decode exactly like its input. Also checks the refusals (J2K input, output = input).
# Usage: annexi_test.sh JPIP_INFO ANNEXI_CHECK MKIMAGE
# Exits 77 (skip) when opj_compress is missing.
set -u
info=${1:?usage}
check=${2:?usage}
mkimage=${3:?usage}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools opj_compress
e2e_init annexi_test

"$mkimage" -w 333 -h 250 -c 3 -b 8 "$tmp/rgb.ppm" || exit 1
"$mkimage" -w 200 -h 150 -c 1 -b 16 "$tmp/grey16.pgm" || exit 1
enc() { # NAME INPUT OPTIONS...
    local name=$1 in=$2
    shift 2
    opj_compress -i "$in" -o "$tmp/$name.jp2" "$@" >/dev/null 2>&1 || fail "opj_compress $name"
}
enc tiled "$tmp/rgb.ppm" -t 64,64 -TP R -r 20,10,5 -n 4
enc rpcl "$tmp/rgb.ppm" -p RPCL -c '[64,64],[32,32]' -b 16,16 -n 5 -SOP -EPH -r 30,10
enc grey16 "$tmp/grey16.pgm" -t 96,96 -p PCRL -c '[32,32]' -n 4
enc plt "$tmp/rgb.ppm" -t 128,96 -PLT -p CPRL
enc jpip "$tmp/rgb.ppm" -jpip -t 100,100

for name in tiled rpcl grey16 plt jpip; do
    out="$tmp/$name.idx.jp2"
    if ! "$info" --write-index "$out" "$tmp/$name.jp2"; then
        fail "$name: --write-index"
        continue
    fi
    "$check" "$tmp/$name.jp2" "$out" || fail "$name: index check"
    opj_decompress -i "$tmp/$name.jp2" -o "$tmp/a.pgx" >/dev/null 2>&1
    opj_decompress -i "$out" -o "$tmp/b.pgx" >/dev/null 2>&1
    for a in "$tmp"/a*.pgx; do
        cmp -s "$a" "$tmp/b${a#"$tmp"/a}" || fail "$name: ${a##*/} decodes differently"
    done
    rm -f "$tmp"/[ab]*.pgx
done

opj_compress -i "$tmp/rgb.ppm" -o "$tmp/raw.j2k" >/dev/null 2>&1
"$info" --write-index "$tmp/x.jp2" "$tmp/raw.j2k" 2>/dev/null
[ $? -eq 1 ] || fail "J2K input not refused with exit 1"
"$info" --write-index "$tmp/tiled.jp2" "$tmp/tiled.jp2" 2>/dev/null
[ $? -eq 2 ] || fail "output = input not refused with exit 2"

if [ "$failures" -ne 0 ]; then
    echo "annexi_test: $failures failure(s)"
    exit 1
fi
echo "annexi_test: ok"
