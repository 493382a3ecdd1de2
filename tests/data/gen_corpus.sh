#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Generates the test corpus: J2K, JP2 and JPX files whose names say what they exercise (see
# GENERATE.md next to this script). Input images come from tests/tools/mkimage, codestreams
# from opj_compress (OpenJPEG 2.5), HTJ2K files from grk_compress when it is installed, and
# multi-codestream JPX files from tests/tools/mkjpx. Writes OUTDIR/MANIFEST (one file name a
# line). Idempotent: files named in an earlier MANIFEST are removed first.
#
#   gen_corpus.sh OUTDIR [MKIMAGE MKJPX]
#
# Tool paths may also come from the environment: MKIMAGE, MKJPX, OPJ_COMPRESS, GRK_COMPRESS.
# Set GRK_COMPRESS=none to skip the HTJ2K files.
set -euo pipefail

usage() {
    echo "usage: $0 OUTDIR [MKIMAGE MKJPX]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
OUT=$1
MKIMAGE=${2:-${MKIMAGE:-}}
MKJPX=${3:-${MKJPX:-}}
OPJ_COMPRESS=${OPJ_COMPRESS:-opj_compress}
GRK_COMPRESS=${GRK_COMPRESS:-grk_compress}

die() {
    echo "gen_corpus: $*" >&2
    exit 1
}

[ -n "$MKIMAGE" ] && [ -x "$MKIMAGE" ] || die "mkimage not found (arg 2 or MKIMAGE): '$MKIMAGE'"
[ -n "$MKJPX" ] && [ -x "$MKJPX" ] || die "mkjpx not found (arg 3 or MKJPX): '$MKJPX'"
command -v "$OPJ_COMPRESS" >/dev/null 2>&1 || die "opj_compress not found: '$OPJ_COMPRESS'"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC=$OUT/.src
LOG=$OUT/.log

# Remove what an earlier run made (only names it listed), so renamed classes do not linger.
if [ -f "$OUT/MANIFEST" ]; then
    while IFS= read -r f; do
        case $f in
        */* | .* | "") ;;
        *) rm -f -- "$OUT/$f" ;;
        esac
    done <"$OUT/MANIFEST"
    rm -f "$OUT/MANIFEST"
fi
rm -rf "$SRC" "$LOG"
mkdir -p "$SRC" "$LOG"

START=$(date +%s)
FILES=()
JOBS=()
MAXJOBS=${CORPUS_JOBS:-$(nproc 2>/dev/null || echo 2)}

# Run one command in the background with its output in a log file; fail loudly on error.
# The log is checked for OpenJPEG's "[ERROR]" lines as well as the exit status.
run_bg() {
    local name=$1
    shift
    (
        if ! "$@" >"$LOG/$name.log" 2>&1; then
            echo "gen_corpus: FAILED: $*" >&2
            cat "$LOG/$name.log" >&2
            exit 1
        fi
        if grep -q '\[ERROR\]' "$LOG/$name.log"; then
            echo "gen_corpus: FAILED (error in log): $*" >&2
            cat "$LOG/$name.log" >&2
            exit 1
        fi
    ) &
    JOBS+=($!)
    if [ ${#JOBS[@]} -ge "$MAXJOBS" ]; then
        wait_jobs
    fi
}

wait_jobs() {
    local pid status=0
    for pid in "${JOBS[@]}"; do
        wait "$pid" || status=1
    done
    JOBS=()
    [ $status -eq 0 ] || die "a generation step failed (see above)"
}

# img NAME mkimage-args...: an input image in $SRC.
img() {
    local name=$1
    shift
    "$MKIMAGE" "$@" "$SRC/$name" || die "mkimage failed for $name"
}

# opj NAME INPUT [opj_compress options...]: one corpus file made by opj_compress.
opj() {
    local name=$1 input=$2
    shift 2
    FILES+=("$name")
    run_bg "$name" "$OPJ_COMPRESS" -i "$SRC/$input" -o "$OUT/$name" "$@"
}

# grk NAME INPUT [grk_compress options...]: one HTJ2K corpus file made by grk_compress.
grk() {
    local name=$1 input=$2
    shift 2
    FILES+=("$name")
    run_bg "$name" "$GRK_COMPRESS" -i "$SRC/$input" -o "$OUT/$name" "$@"
}

# jpx NAME [mkjpx options...] INPUTS...: a JPX assembled from corpus files. Options and
# their numeric arguments pass through; every other argument names a corpus file.
jpx() {
    local name=$1
    shift
    FILES+=("$name")
    local opts=() ins=() a
    for a in "$@"; do
        case $a in
        --* | [0-9]*) opts+=("$a") ;;
        *) ins+=("$OUT/$a") ;;
        esac
    done
    "$MKJPX" "${opts[@]}" "$OUT/$name" "${ins[@]}" || die "mkjpx failed for $name"
}

# ---------------------------------------------------------------------------------------
# Input images (gradients, edges, noise; deterministic).
img gray8.pgm -w 256 -h 192 -c 1 -b 8 -seed 1
img gray8_odd.pgm -w 199 -h 157 -c 1 -b 8 -seed 2
img gray12.pgm -w 200 -h 150 -c 1 -b 12 -seed 3
img gray16.pgm -w 160 -h 120 -c 1 -b 16 -seed 4
img gray16s.raw -w 128 -h 96 -c 1 -b 16 -s -seed 5
img gray8s.raw -w 96 -h 80 -c 1 -b 8 -s -seed 6
img rgb8.ppm -w 256 -h 192 -c 3 -b 8 -seed 7
img rgb8_odd.ppm -w 301 -h 217 -c 3 -b 8 -seed 8
img crop_gray.pgm -w 900 -h 700 -c 1 -b 8 -seed 21
img crop_rgb.ppm -w 700 -h 520 -c 3 -b 8 -seed 22
img rgb8_400.ppm -w 400 -h 300 -c 3 -b 8 -seed 9
img rgb12.ppm -w 180 -h 140 -c 3 -b 12 -seed 10
img rgb16.ppm -w 200 -h 150 -c 3 -b 16 -seed 11
img rgba8.pam -w 160 -h 128 -c 4 -b 8 -seed 12
img cmyk12.raw -w 144 -h 112 -c 4 -b 12 -seed 13
img yuv420.raw -w 256 -h 192 -c 3 -b 8 -S 1x1:2x2:2x2 -seed 14
img yuv422.raw -w 250 -h 150 -c 3 -b 8 -S 1x1:2x1:2x1 -seed 15
img yuv410.raw -w 256 -h 128 -c 3 -b 8 -S 1x1:4x2:4x2 -seed 16
img big_rgb8.ppm -w 1024 -h 768 -c 3 -b 8 -seed 17

# ---------------------------------------------------------------------------------------
# Progression orders, untiled, three layers.
for p in LRCP RLCP RPCL PCRL CPRL; do
    lp=$(echo $p | tr 'A-Z' 'a-z')
    opj rgb8_${lp}_1t_3l.j2k rgb8.ppm -p $p -r 40,10,1
done
# Progression orders, tiles that do not divide the image, small precincts, four layers.
for p in LRCP RLCP RPCL PCRL CPRL; do
    lp=$(echo $p | tr 'A-Z' 'a-z')
    opj rgb8_${lp}_tiled_t64x48_prec32_4l.j2k rgb8_odd.ppm -p $p -t 64,48 -c [32,32] \
        -r 80,30,10,1
done
# Progression order changes (POC in the first tile-part header; "T1" is the first tile).
# OpenJPEG 2.5's encoder writes overlapping POC volumes twice or loses data when they split
# layers, so every volume here is disjoint in resolutions or components and spans all layers.
opj rgb8_poc.j2k rgb8.ppm -r 40,10,1 -POC T1=0,0,3,3,3,RPCL/T1=3,0,3,6,3,LRCP
opj rgb8_poc_comp_split.j2k rgb8.ppm -r 40,10,1 -POC T1=0,0,3,6,1,CPRL/T1=0,1,3,6,3,RLCP
opj rgb8_poc_tiled_T1T2T4.j2k rgb8_odd.ppm -t 128,128 -c [64,64] -r 40,10,1 \
    -POC T1=0,0,3,2,3,PCRL/T1=2,0,3,6,3,LRCP/T2=0,0,3,6,2,RLCP/T2=0,2,3,6,3,CPRL/T4=0,0,3,4,3,RPCL/T4=4,0,3,6,3,RLCP

# Tiling and offsets.
opj gray8_tiles_t100x70_nondiv.j2k gray8.pgm -t 100,70
opj gray12_tiled_offset_d37x23_T7x5.j2k gray12.pgm -d 37,23 -T 7,5 -t 64,48 -p RPCL
opj gray8_odd_offset_d101x3_T64x0_t64.j2k gray8_odd.pgm -d 101,3 -T 64,0 -t 64,64 -c [32,32] -p PCRL
opj rgb8_offset_d5x9_T3x2_t40x36_cprl.j2k rgb8_odd.ppm -d 5,9 -T 3,2 -t 40,36 -p CPRL -n 4 \
    -c [16,16] -r 20,5,1
opj gray8_t16x16_many.j2k gray8_odd.pgm -t 16,16 -n 3

# Precincts.
opj rgb8_prec256_128_64_rpcl.j2k rgb8_400.ppm -c [256,256],[128,128],[64,64] -p RPCL \
    -r 40,10,1
opj rgb8_prec256_128_64_lrcp_tiled.j2k rgb8_400.ppm -c [256,256],[128,128],[64,64] \
    -t 192,160 -r 40,10,1
opj gray8_prec16_cblk16_n5.j2k gray8.pgm -c [16,16] -b 16,16 -n 5
opj rgb8_prec16_pcrl_3l.j2k rgb8_odd.ppm -c [16,16] -p PCRL -r 30,8,1 -n 4
opj gray12_prec64x32_32x16_cprl.j2k gray12.pgm -c [64,32],[32,16] -p CPRL -b 32,32

# Layers.
opj gray8_1layer.j2k gray8.pgm
opj rgb8_r40_20_10_5.j2k rgb8.ppm -r 40,20,10,5
opj gray16_q30_40_50.j2k gray16.pgm -q 30,40,50
opj rgb8_12layers_rlcp.j2k rgb8.ppm -p RLCP -r 200,150,100,80,60,40,30,20,10,5,2,1

# Marker segments: SOP, EPH, PLT, TLM and combinations.
opj rgb8_sop.j2k rgb8.ppm -SOP -r 20,5
opj rgb8_eph.j2k rgb8.ppm -EPH -r 20,5
opj rgb8_sop_eph_prec32.j2k rgb8_odd.ppm -SOP -EPH -c [32,32] -p RPCL -r 20,5,1
opj rgb8_plt.j2k rgb8.ppm -PLT -r 20,5,1
opj rgb8_tlm_tiled.j2k rgb8_odd.ppm -TLM -t 100,100
opj rgb16_rev_plt_tlm.j2k rgb16.ppm -PLT -TLM -t 64,64
opj rgb8_sop_eph_plt_tlm_tiled_prec.j2k rgb8_odd.ppm -SOP -EPH -PLT -TLM -t 128,96 \
    -c [32,32] -p CPRL -r 30,10,1

# Tile-parts.
opj rgb8_tp_R.j2k rgb8_odd.ppm -TP R -t 128,128 -r 20,5,1
opj rgb8_tp_L.j2k rgb8_odd.ppm -TP L -t 128,128 -r 20,5,1
opj rgb8_tp_C.j2k rgb8_odd.ppm -TP C -t 128,128 -r 20,5,1 -p CPRL
opj rgb8_tp_R_tlm_plt_sop.j2k rgb8.ppm -TP R -TLM -PLT -SOP -t 64,64 -p RPCL -r 20,5,1

# Untiled images with small precincts at every resolution: region views of these are
# rebuilt cropped to the region by the client (lib/client/reconstruct.c).
opj crop_gray_p16_n4.j2k crop_gray.pgm -n 4 -c [16,16] -b 16,16 -p RPCL -r 20,8,2
opj crop_rgb97_p32_n3_off_sop_eph.j2k crop_rgb.ppm -I -n 3 -c [32,32] -d 37,21 -r 30,10 \
    -SOP -EPH
opj crop_gray_prec64to8_lrcp.j2k crop_gray.pgm -n 5 -p LRCP -r 30,10,3 \
    -c [64,64],[32,32],[16,16],[16,16],[8,8],[8,8]

# Subsampled components (raw input with per-component subsampling; no colour transform).
opj yuv420_8.j2k yuv420.raw -F 256,192,3,8,u@1x1:2x2:2x2 -mct 0
opj crop_yuv420_p8_n2.j2k yuv420.raw -F 256,192,3,8,u@1x1:2x2:2x2 -mct 0 -n 2 -c [8,8] -b 8,8
opj yuv420_tiled_rpcl_prec32_d3x1_T1x0.j2k yuv420.raw -F 256,192,3,8,u@1x1:2x2:2x2 -mct 0 \
    -d 3,1 -T 1,0 -t 64,64 -c [32,32] -p RPCL -r 20,5,1
opj yuv422_cprl_prec16.j2k yuv422.raw -F 250,150,3,8,u@1x1:2x1:2x1 -mct 0 -p CPRL -c [16,16] -n 4
opj yuv410_pcrl_offset.j2k yuv410.raw -F 256,128,3,8,u@1x1:4x2:4x2 -mct 0 -p PCRL \
    -d 7,5 -t 96,64 -c [32,32]
opj gray8_sub2x2.j2k gray8.pgm -s 2,2

# Bit depths and component counts.
opj gray12_lossless.j2k gray12.pgm
opj gray16_lossless_n7.j2k gray16.pgm -n 7
opj gray16s_signed.j2k gray16s.raw -F 128,96,1,16,s
opj gray8s_signed_irr.j2k gray8s.raw -F 96,80,1,8,s -I -r 10,3
opj rgb12_rpcl.j2k rgb12.ppm -p RPCL -r 30,10,1
opj rgba8_4c.j2k rgba8.pam -r 20,5,1
opj cmyk12_4c_tiled_pcrl.j2k cmyk12.raw -F 144,112,4,12,u -t 64,64 -p PCRL -mct 0

# Irreversible 9/7.
opj rgb8_irr97_3l.j2k rgb8.ppm -I -r 20,10,5
opj gray12_irr97_tiled_prec.j2k gray12.pgm -I -t 96,64 -c [32,32] -p RPCL -q 35,45

# Code-block styles (mode switches).
for m in 1 2 4 8 16 32; do
    opj gray8_M${m}.j2k gray8.pgm -M $m -r 20,5,1
done
opj rgb8_M7_3l.j2k rgb8.ppm -M 7 -r 20,5,1
opj rgb8_M63_3l_sop_eph.j2k rgb8.ppm -M 63 -r 20,5,1 -SOP -EPH

# Code-block sizes.
opj gray8_b16x16.j2k gray8.pgm -b 16,16 -r 10,1
opj rgb8_b32x8_rpcl.j2k rgb8.ppm -b 32,8 -p RPCL
opj gray8_b64x16.j2k gray8_odd.pgm -b 64,16
opj gray8_b4x64.j2k gray8.pgm -b 4,64

# Few and many resolutions.
opj gray8_n1.j2k gray8.pgm -n 1
opj rgb8_n1_rpcl_3l.j2k rgb8.ppm -n 1 -p RPCL -r 20,5,1
opj rgb8_n7.j2k rgb8.ppm -n 7 -r 20,5,1
opj gray8_n2_tiled.j2k gray8_odd.pgm -n 2 -t 50,50

# Larger images: many packets.
opj big_rgb8_1024x768_t32_lrcp.j2k big_rgb8.ppm -t 32,32 -n 4 -r 20,5
opj big_rgb8_1024x768_prec64_rpcl_plt_3l.j2k big_rgb8.ppm -c [64,64] -p RPCL -PLT \
    -r 40,10,3

# JP2 files.
opj rgb8.jp2 rgb8.ppm -r 20,5,1
opj gray16_tiled_rpcl.jp2 gray16.pgm -t 64,64 -p RPCL
opj yuv420_8.jp2 yuv420.raw -F 256,192,3,8,u@1x1:2x2:2x2 -mct 0
opj rgba8_4c.jp2 rgba8.pam -c [32,32] -p CPRL
opj rgb8_tp_R_plt.jp2 rgb8_odd.ppm -TP R -PLT -t 128,128 -r 20,5,1

# HTJ2K (Part 15), only when grk_compress is installed.
HT=0
if [ "$GRK_COMPRESS" != none ] && command -v "$GRK_COMPRESS" >/dev/null 2>&1; then
    HT=1
    grk ht_rgb8.j2k rgb8.ppm -M 64
    grk ht_rgb8_tiled_rpcl_prec32.j2k rgb8_odd.ppm -M 64 -t 64,64 -c [32,32] -p RPCL
    grk ht_gray16_cprl.j2k gray16.pgm -M 64 -p CPRL -n 4
    grk ht_gray12_irr.j2k gray12.pgm -M 64 -I
    grk ht_rgb8_sop_eph_plt.j2k rgb8.ppm -M 64 -S -E -L
else
    echo "gen_corpus: grk_compress not found: skipping the HTJ2K files" >&2
fi

wait_jobs

# JPX files (need the codestreams above).
jpx multi3.jpx rgb8.jp2 rgb8_rpcl_1t_3l.j2k gray12_lossless.j2k
jpx multi2_rreq_frag1.jpx --rreq --frag 1 rgb8.jp2 rgb8_sop_eph_prec32.j2k
jpx multi3_frag0_xlbox2.jpx --frag 0 --xlbox 2 rgb8_tp_R_plt.jp2 yuv420_8.j2k \
    rgb8_lrcp_1t_3l.j2k
jpx multi2_xlbox0_lbox0.jpx --xlbox 0 --lbox0 gray8_1layer.j2k gray8_t16x16_many.j2k

# Every file must exist and be non-empty.
for f in "${FILES[@]}"; do
    [ -s "$OUT/$f" ] || die "missing or empty output: $f"
done
printf '%s\n' "${FILES[@]}" >"$OUT/MANIFEST"
rm -rf "$SRC" "$LOG"

END=$(date +%s)
echo "gen_corpus: ${#FILES[@]} files in $OUT ($((END - START)) s; HTJ2K: $([ $HT = 1 ] && echo yes || echo skipped))"
