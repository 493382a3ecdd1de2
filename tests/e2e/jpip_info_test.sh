#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# CLI test of jpip-info: encodes two small images with opj_compress (a 3-component J2K with one
# tile, and a tiled 1-component JP2 with PLT, SOP and EPH), checks the text and JSON reports
# against the parameters used to encode them (size, progression, layers, packet counts), the
# exit codes (1 malformed, 2 usage, 3 cannot open), and runs the tool over every file of the
# ISO conformance folder, requiring exit 0 and (with python3) valid JSON for each.
# Usage: jpip_info_test.sh JPIP_INFO [CONFORMANCE_DIR]
# Exits 77 (skip) when opj_compress is missing.
set -u

tool=${1:?usage: jpip_info_test.sh JPIP_INFO [CONFORMANCE_DIR]}
conf=${2:-}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools opj_compress
have_python=0
if command -v python3 >/dev/null 2>&1; then
    have_python=1
fi

e2e_init jpip_info_test

# expect_rc WANT DESCRIPTION -- CMD...: runs CMD with stdout in $tmp/out, stderr in $tmp/err.
expect_rc() {
    local want=$1 what=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "$what: exit $rc, expected $want (stderr: $(head -c 300 "$tmp/err"))"
        return 1
    fi
    pass
    return 0
}

# expect_grep FILE REGEX DESCRIPTION
expect_grep() {
    if grep -Eq -- "$2" "$1"; then
        pass
    else
        fail "$3: no line matching /$2/ in $(basename "$1")"
    fi
}

# json_get FILE EXPR: prints the Python expression EXPR evaluated on the parsed document d.
json_get() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

# expect_json_valid FILE DESCRIPTION
expect_json_valid() {
    [ $have_python -eq 1 ] || return 0
    if python3 -m json.tool "$1" >/dev/null 2>"$tmp/json_err"; then
        pass
    else
        fail "$2: invalid JSON: $(head -c 300 "$tmp/json_err")"
    fi
}

# expect_eq GOT WANT DESCRIPTION
expect_eq() {
    if [ "$1" = "$2" ]; then
        pass
    else
        fail "$3: got '$1', expected '$2'"
    fi
}

# Lines of the packet table in a text report.
count_packet_lines() {
    awk '/^  packets \(offsets/ { on = 1; getline; next } on && NF == 0 { on = 0 } on { n++ }
         END { print n + 0 }' "$1"
}

# write_pnm FILE MAGIC WIDTH HEIGHT CHANNELS: a deterministic gradient (bytes 1..255, no NUL,
# so that any awk writes them).
write_pnm() {
    LC_ALL=C awk -v m="$2" -v w="$3" -v h="$4" -v c="$5" 'BEGIN {
        printf "%s\n%d %d\n255\n", m, w, h
        for (y = 0; y < h; y++)
            for (x = 0; x < w; x++)
                for (k = 0; k < c; k++)
                    printf "%c", 1 + (x * 7 + y * 3 + k * 50 + (x * y) % 13) % 255
    }' >"$1"
}

write_pnm "$tmp/rgb.ppm" P6 128 96 3
write_pnm "$tmp/gray.pgm" P5 128 128 1

# a.j2k: one tile, 3 components, 6 resolutions (-n 6), 4 layers, RPCL, default precincts:
# 3 * 6 * 4 = 72 packets.
if ! opj_compress -i "$tmp/rgb.ppm" -o "$tmp/a.j2k" -n 6 -r 40,20,10,5 -p RPCL \
    >"$tmp/opj.log" 2>&1; then
    fail "opj_compress a.j2k: $(tail -n 3 "$tmp/opj.log")"
    exit 1
fi
# b.jp2: 2x2 tiles of 64x64, 1 component, 3 resolutions, 2 layers, CPRL, SOP, EPH, PLT:
# 4 * 3 * 2 = 24 packets.
if ! opj_compress -i "$tmp/gray.pgm" -o "$tmp/b.jp2" -t 64,64 -n 3 -r 20,5 -p CPRL \
    -SOP -EPH -PLT >"$tmp/opj.log" 2>&1; then
    fail "opj_compress b.jp2: $(tail -n 3 "$tmp/opj.log")"
    exit 1
fi
a_size=$(wc -c <"$tmp/a.j2k" | tr -d ' ')

# --- a.j2k, text ---
if expect_rc 0 "a.j2k text" -- "$tool" "$tmp/a.j2k"; then
    cp "$tmp/out" "$tmp/a.txt"
    expect_grep "$tmp/a.txt" "^size +$a_size bytes" "a.j2k file size"
    expect_grep "$tmp/a.txt" "^kind +J2K" "a.j2k kind"
    expect_grep "$tmp/a.txt" "image +128x96 at \(0,0\)" "a.j2k image size"
    expect_grep "$tmp/a.txt" "coding +RPCL, 4 layers, 5 levels" "a.j2k progression/layers"
    expect_grep "$tmp/a.txt" "components +3" "a.j2k components"
    expect_grep "$tmp/a.txt" "packets +72 in 18 precincts" "a.j2k packet count"
    expect_grep "$tmp/a.txt" "index +walked headers \(1 tile\)" "a.j2k index method"
    expect_grep "$tmp/a.txt" "bytes per resolution" "a.j2k resolution table"
    expect_grep "$tmp/a.txt" "^ +5 +12 +[0-9]+ +[0-9.]+%" "a.j2k resolution 5 row"
    expect_grep "$tmp/a.txt" "^ +3 +18 +[0-9]+ +[0-9.]+%" "a.j2k layer 3 row"
fi

# --- a.j2k, --packets ---
if expect_rc 0 "a.j2k --packets" -- "$tool" --packets "$tmp/a.j2k"; then
    expect_eq "$(count_packet_lines "$tmp/out")" 72 "a.j2k --packets line count"
fi

# --- a.j2k, --json --packets ---
if expect_rc 0 "a.j2k --json --packets" -- "$tool" --json --packets "$tmp/a.j2k"; then
    cp "$tmp/out" "$tmp/a.json"
    expect_json_valid "$tmp/a.json" "a.j2k --json"
    if [ $have_python -eq 1 ]; then
        expect_eq "$(json_get "$tmp/a.json" 'd["codestreams"][0]["index"]["packets"]')" 72 \
            "a.j2k json index.packets"
        expect_eq "$(json_get "$tmp/a.json" 'len(d["codestreams"][0]["packets"])')" 72 \
            "a.j2k json packets array"
        expect_eq "$(json_get "$tmp/a.json" 'd["codestreams"][0]["cod"]["progression"]')" RPCL \
            "a.j2k json progression"
        expect_eq "$(json_get "$tmp/a.json" 'd["file"]["size"]')" "$a_size" "a.j2k json size"
        expect_eq "$(json_get "$tmp/a.json" 'sum(p["length"] for p in d["codestreams"][0]["packets"]) == d["codestreams"][0]["index"]["packet_bytes"]')" True "a.j2k json packet bytes add up"
    else
        expect_grep "$tmp/a.json" '"packets": 72,' "a.j2k json index.packets"
    fi
fi
# Without --packets the JSON has no packet list.
if expect_rc 0 "a.j2k --json" -- "$tool" --json "$tmp/a.j2k"; then
    if grep -q '"packets": \[' "$tmp/out"; then
        fail "a.j2k --json lists packets without --packets"
    else
        pass
    fi
fi

# --- b.jp2: tiles, PLT, SOP/EPH, boxes ---
if expect_rc 0 "b.jp2 --tiles" -- "$tool" --tiles "$tmp/b.jp2"; then
    cp "$tmp/out" "$tmp/b.txt"
    expect_grep "$tmp/b.txt" "^kind +JP2" "b.jp2 kind"
    expect_grep "$tmp/b.txt" "^  jp2c " "b.jp2 box tree has jp2c"
    expect_grep "$tmp/b.txt" "^    ihdr " "b.jp2 ihdr nested in jp2h"
    expect_grep "$tmp/b.txt" "tiles +64x64 at \(0,0\), grid 2x2, 4 tiles" "b.jp2 tiling"
    expect_grep "$tmp/b.txt" "coding +CPRL, 2 layers, 2 levels" "b.jp2 coding"
    expect_grep "$tmp/b.txt" "SOP/EPH +yes/yes" "b.jp2 SOP/EPH"
    expect_grep "$tmp/b.txt" "markers +.*PLT" "b.jp2 PLT marker"
    expect_grep "$tmp/b.txt" "index +PLT \(4 tiles\)" "b.jp2 PLT index"
    expect_grep "$tmp/b.txt" "packets +24 in 12 precincts" "b.jp2 packet count"
    n=$(grep -cE "^ +[0-3] +[0-9]+,[0-9]+ +64x64 +1 +CPRL +2 +6 +[0-9]+ +PLT$" "$tmp/b.txt")
    expect_eq "$n" 4 "b.jp2 --tiles rows"
fi
if expect_rc 0 "b.jp2 --json --tiles" -- "$tool" --json --tiles "$tmp/b.jp2"; then
    expect_json_valid "$tmp/out" "b.jp2 --json --tiles"
    if [ $have_python -eq 1 ]; then
        expect_eq "$(json_get "$tmp/out" 'len(d["codestreams"][0]["tiles"])')" 4 "b.jp2 json tiles"
        expect_eq "$(json_get "$tmp/out" 'd["codestreams"][0]["index"]["tiles_plt"]')" 4 \
            "b.jp2 json tiles_plt"
    fi
fi

# --- options ---
expect_rc 0 "--help" -- "$tool" --help && expect_grep "$tmp/out" "--packets" "--help lists options"
expect_rc 0 "--version" -- "$tool" --version && expect_grep "$tmp/out" "^jpip-info " "--version"
if expect_rc 0 "--no-index" -- "$tool" --no-index "$tmp/a.j2k"; then
    expect_grep "$tmp/out" "index +not indexed" "--no-index text"
fi
if expect_rc 0 "--no-index --json" -- "$tool" --no-index --json "$tmp/a.j2k"; then
    expect_json_valid "$tmp/out" "--no-index --json"
    expect_grep "$tmp/out" '"index": null' "--no-index json"
fi
expect_rc 0 "--codestream 0" -- "$tool" --codestream 0 "$tmp/b.jp2"
expect_rc 2 "--codestream out of range" -- "$tool" --codestream 1 "$tmp/b.jp2"
expect_rc 2 "--codestream not a number" -- "$tool" --codestream x "$tmp/b.jp2"
expect_rc 2 "bad option" -- "$tool" --no-such-option "$tmp/a.j2k" &&
    expect_grep "$tmp/err" "no-such-option" "bad option message"
expect_rc 2 "no FILE" -- "$tool"
expect_rc 2 "two FILEs" -- "$tool" "$tmp/a.j2k" "$tmp/b.jp2"
expect_rc 2 "--no-index with --packets" -- "$tool" --no-index --packets "$tmp/a.j2k"

# --- errors ---
expect_rc 3 "missing file" -- "$tool" "$tmp/does-not-exist.j2k" &&
    expect_grep "$tmp/err" "^jpip-info: .*does-not-exist.j2k: cannot open" "missing file message"
expect_rc 3 "directory" -- "$tool" "$tmp"
head -c $((a_size / 2)) "$tmp/a.j2k" >"$tmp/trunc.j2k"
expect_rc 1 "truncated j2k" -- "$tool" "$tmp/trunc.j2k" &&
    expect_grep "$tmp/err" "^jpip-info: .*trunc.j2k: .*offset" "truncated j2k message names the offset"
head -c 100 "$tmp/b.jp2" >"$tmp/trunc.jp2"
expect_rc 1 "truncated jp2" -- "$tool" "$tmp/trunc.jp2" &&
    expect_grep "$tmp/err" "offset" "truncated jp2 message names the offset"
# A tile that fails to index: b.jp2's codestream with the last tile-part's Psot set to 0
# ("runs to the end of the codestream") and its data cut in half. The other tiles are still
# reported, the failure is named on stderr, and the exit code is 1.
if [ $have_python -eq 1 ]; then
    python3 - "$tmp/b.jp2" "$tmp/tilefail.j2k" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
d = bytearray(d[d.find(b"\xff\x4f\xff\x51"):])   # the codestream (SOC SIZ) inside jp2c
pos, last = d.find(b"\xff\x90"), None
while 0 <= pos < len(d) - 12 and d[pos:pos + 2] == b"\xff\x90":
    last = pos
    pos += struct.unpack(">I", d[pos + 6:pos + 10])[0]
struct.pack_into(">I", d, last + 6, 0)
open(sys.argv[2], "wb").write(d[:last + (len(d) - last) // 2])
PY
    if expect_rc 1 "failing tile" -- "$tool" --tiles "$tmp/tilefail.j2k"; then
        expect_grep "$tmp/err" "tile 3" "failing tile named on stderr"
        expect_grep "$tmp/out" "failed +1 tile" "failing tile counted"
        expect_grep "$tmp/out" "^ +3 +failed: " "failing tile row"
        expect_grep "$tmp/out" "index +PLT \(3 tiles\)" "other tiles still indexed"
    fi
fi
printf 'not a jpeg 2000 file\n' >"$tmp/text.j2k"
expect_rc 1 "not JPEG 2000" -- "$tool" "$tmp/text.j2k"

# A file name that needs escaping in JSON.
odd="$tmp/odd \"name\" \\ tab	.j2k"
cp "$tmp/a.j2k" "$odd"
if expect_rc 0 "odd file name --json" -- "$tool" --json "$odd"; then
    expect_json_valid "$tmp/out" "odd file name --json"
    if [ $have_python -eq 1 ]; then
        expect_eq "$(json_get "$tmp/out" 'd["file"]["path"]')" "$odd" "odd file name round trip"
    fi
fi

# A file name that is not valid UTF-8: the JSON must still be valid (the byte is escaped).
latin1="$tmp/latin1_$(printf '\377').j2k"
cp "$tmp/a.j2k" "$latin1"
if expect_rc 0 "non-UTF-8 file name --json" -- "$tool" --json "$latin1"; then
    expect_json_valid "$tmp/out" "non-UTF-8 file name --json"
    expect_grep "$tmp/out" 'latin1_\\u00ff\.j2k' "non-UTF-8 byte escaped"
fi

# --- the ISO conformance files ---
if [ -n "$conf" ] && [ -d "$conf" ]; then
    nconf=0
    for f in "$conf"/*; do
        case "$f" in
        *.j2k | *.j2c | *.jp2 | *.jpx | *.jpf | *.jph | *.jhc) ;;
        *) continue ;;
        esac
        nconf=$((nconf + 1))
        expect_rc 0 "conformance $(basename "$f")" -- "$tool" --tiles "$f"
        if expect_rc 0 "conformance $(basename "$f") --json" -- "$tool" --json --packets "$f"; then
            mv "$tmp/out" "$tmp/conf_$nconf.json"
        fi
    done
    # One interpreter for all the documents: each must parse, and its packet list must match
    # its packet count.
    if [ $have_python -eq 1 ] && [ $nconf -gt 0 ]; then
        if python3 -c 'import json, sys
bad = 0
for name in sys.argv[1:]:
    try:
        d = json.load(open(name))
        for c in d["codestreams"]:
            if len(c["packets"]) != c["index"]["packets"]:
                raise ValueError("packet list length differs from index.packets")
    except Exception as e:
        print("%s: %s" % (name, e))
        bad += 1
sys.exit(1 if bad else 0)' "$tmp"/conf_*.json >"$tmp/json_err" 2>&1; then
            pass
        else
            fail "conformance JSON: $(head -c 600 "$tmp/json_err")"
        fi
    fi
    echo "conformance: $nconf files"
else
    echo "conformance: folder not present, skipped"
fi

summary jpip_info_test
