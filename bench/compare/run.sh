#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# jpipd against OpenJPEG's JPIP server (OpenJPIP, Debian's libopenjpip-server), on loopback,
# on the same files and the same view sequences. On demand; not part of `make test`.
#
#   bench/compare/run.sh [OUT_DIR]        (as root: apt-get, unshare --net)
#
# 1. installs what it needs from Debian 12 (opj_server, lighttpd, wrk, gnuplot-nox, ...);
# 2. builds jpipd, jpip-info and compare_client in $BUILD (default build-bench, Release);
# 3. makes three 2048x2048 test files with opj_compress from mkimage's synthetic images (tiled
#    RGB; one RPCL tile with 128x128 precincts; 16-bit greyscale, lossless, RPCL, 64x64
#    precincts) and adds the 15444-9 Annex I index boxes OpenJPIP needs (jpip-info
#    --write-index); both servers serve these same files;
# 4. in a private network namespace (inns.sh): runs the thumb, region and pan sequences against
#    both servers (compare_client) and the load test (wrk);
# 5. writes OUT_DIR/tables.md and the figures docs/img/bench-*.png (gnuplot).
# Environment: BUILD (build dir), LOAD_SECONDS (10), LOAD_CONNECTIONS (16), FIGURES (docs/img),
# REPORT_ONLY=1 (only step 5, from the results already in OUT_DIR).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(realpath -m "${1:-$repo/build-bench/compare}")
build=$(realpath -m "${BUILD:-$repo/build-bench}")
figures=$(realpath -m "${FIGURES:-$repo/docs/img}")
secs=${LOAD_SECONDS:-10}
conns=${LOAD_CONNECTIONS:-16}

files="tiled_rgb.jp2 rpcl_precincts.jp2 grey16.jp2"
if [ "${REPORT_ONLY:-0}" != 1 ]; then
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (apt-get, unshare --net)" >&2; exit 1; }
pkgs=(libopenjpip-server lighttpd wrk gnuplot-nox libopenjp2-tools libopenjp2-7-dev curl
      libcurl4-openssl-dev libmicrohttpd-dev libpng-dev cmake build-essential pkg-config
      iproute2 util-linux)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
make -C "$build" -j2 jpipd jpip-info compare_client mkimage >/dev/null

images=$out/images
mkdir -p "$images"
mkimage=$build/tests/e2e/mkimage
info=$build/tools/jpip-info/jpip-info
[ -f "$out/rgb.ppm" ] || "$mkimage" -w 2048 -h 2048 -c 3 -b 8 "$out/rgb.ppm"
[ -f "$out/grey16.pgm" ] || "$mkimage" -w 2048 -h 2048 -c 1 -b 16 "$out/grey16.pgm"
make_file() { # NAME INPUT opj_compress options...
    local name=$1 in=$2
    shift 2
    if [ ! -f "$images/$name.jp2" ]; then
        opj_compress -i "$in" -o "$out/$name.src.jp2" "$@" >/dev/null
        "$info" --write-index "$images/$name.jp2" "$out/$name.src.jp2"
    fi
}
make_file tiled_rgb "$out/rgb.ppm" -t 256,256 -n 6 -r 80,40,20,10
make_file rpcl_precincts "$out/rgb.ppm" -p RPCL -c '[128,128]' -b 32,32 -n 6 -r 80,40,20,10
make_file grey16 "$out/grey16.pgm" -t 512,512 -p RPCL -c '[64,64]' -n 6

unshare --net bash "$here/inns.sh" "$build" "$images" "$out" "$files" "$secs" "$conns"
fi

# --- tables and figures --------------------------------------------------------------------
# views.tsv: label kind seq step query body precinct tileheader mainheader metadata framing
#            ttfb_ms total_ms psnr
awk -F'\t' -v OFS='\t' '
    { key = $1 "\t" $3; k = key "\t" $2; keys[key] = 1
      body[k] += $6; n[k]++; ttfb[k] += $12; ttlb[k] += $13
      if ($14 == "inf") exact[k]++
      else { v = ($14 == "fail") ? 0 : $14; if (!(k in minp) || v < minp[k]) minp[k] = v }
      if ($2 == "jpipd") need[key] += $7 + $8 + $9
      view[k, $4] = $6; viewx[k, $4] = ($14 == "inf") }
    END {
      for (key in keys) {
        j = key "\tjpipd"; o = key "\topenjpip"
        both = 0; bj = 0; bo = 0
        for (s = 0; s < n[j]; s++) if (viewx[j, s] && viewx[o, s]) { both++; bj += view[j, s]; bo += view[o, s] }
        print key, n[j], need[key], body[j], exact[j] + 0, body[o], exact[o] + 0,
              (o in minp) ? minp[o] : "inf", ttfb[j] / n[j], ttlb[j] / n[j],
              ttfb[o] / n[o], ttlb[o] / n[o], both, bj, bo
      } }' "$out/views.tsv" | sort -k1,1 -k2,2 >"$out/summary.tsv"

{
    echo "| file | sequence | views | bytes needed | jpipd bytes | jpipd exact | OpenJPIP bytes | OpenJPIP exact | OpenJPIP worst PSNR (dB) | both exact: jpipd / OpenJPIP bytes |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
    awk -F'\t' '{ printf "| %s | %s | %d | %d | %d | %d/%d | %d | %d/%d | %s | %s |\n", $1, $2, $3,
        $4, $5, $6, $3, $7, $8, $3, $9, ($14 ? sprintf("%d views: %d / %d", $14, $15, $16) : "none") }' "$out/summary.tsv"
    echo
    echo "| file | sequence | jpipd first byte (ms) | jpipd last byte (ms) | OpenJPIP first byte (ms) | OpenJPIP last byte (ms) |"
    echo "|---|---|---:|---:|---:|---:|"
    awk -F'\t' '{ printf "| %s | %s | %.2f | %.2f | %.2f | %.2f |\n", $1, $2, $10, $11, $12, $13 }' "$out/summary.tsv"
    echo
    echo "| file | view | jpipd requests/s | jpipd p50 / p99 | OpenJPIP requests/s | OpenJPIP p50 / p99 | ratio |"
    echo "|---|---|---:|---|---:|---|---:|"
    awk -F'\t' '{ k = $1 "\t" $2; r[k, $3] = $4; l[k, $3] = $5 " / " $6; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
        END { for (i = 1; i <= m; i++) { k = order[i]; split(k, a, "\t")
              ratio = (r[k, "openjpip"] > 0) ? r[k, "jpipd"] / r[k, "openjpip"] : 0
              printf "| %s | %s | %.0f | %s | %.1f | %s | %.0fx |\n", a[1], a[2], r[k, "jpipd"], l[k, "jpipd"],
                     r[k, "openjpip"], l[k, "openjpip"], ratio } }' "$out/load.tsv"
} >"$out/tables.md"

mkdir -p "$figures"
awk -F'\t' '{ printf "%s/%s\t%.1f\t%.1f\n", $1, $2, 100 * $5 / $4, 100 * $7 / $4 }' "$out/summary.tsv" >"$out/bytes.dat"
awk -F'\t' '{ printf "%s/%s\t%.3f\t%.3f\t%.3f\t%.3f\n", $1, $2, $10, $11, $12, $13 }' "$out/summary.tsv" >"$out/latency.dat"
awk -F'\t' '{ k = $1 "/" $2; if (!(k in seen)) { seen[k] = 1; order[++m] = k } r[k, $3] = $4 }
    END { for (i = 1; i <= m; i++) printf "%s\t%s\t%s\n", order[i], r[order[i], "jpipd"], r[order[i], "openjpip"] }' "$out/load.tsv" >"$out/rps.dat"
psnr_plot=""
for f in $files; do
    for k in jpipd openjpip; do
        awk -F'\t' -v f="${f%.jp2}" -v k="$k" '$1 == f && $2 == k && $3 == "pan" {
            print $4 "\t" (($14 == "inf") ? 100 : ($14 == "fail" ? 0 : $14)) }' "$out/views.tsv" \
            >"$out/psnr_${f%.jp2}_$k.dat"
        psnr_plot+="${psnr_plot:+, }\"$out/psnr_${f%.jp2}_$k.dat\" using 1:2 title \"${f%.jp2} $k\""
    done
done

gnuplot <<G
set terminal pngcairo size 900,480 font "sans,10"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30 noenhanced
set key outside right top
set grid ytics
set datafile separator "\t"

set output "$figures/bench-bytes.png"
set title "Bytes sent per view sequence, % of the header and precinct bytes its exact views need"
set ylabel "% of needed"
set yrange [0:*]
plot "$out/bytes.dat" using 2:xtic(1) title "jpipd", "" using 3 title "OpenJPIP", 100 with lines dt 2 lc "black" title "needed"
set yrange [*:*]

set output "$figures/bench-latency.png"
set title "Mean time to last byte per view, one client, loopback (ms, log scale)"
set ylabel "ms"
set logscale y
plot "$out/latency.dat" using 3:xtic(1) title "jpipd", "" using 5 title "OpenJPIP"

set output "$figures/bench-rps.png"
set title "Requests/s, $conns connections, stateless requests (log scale)"
set ylabel "requests/s"
set yrange [1:*]
plot "$out/rps.dat" using 2:xtic(1) title "jpipd", "" using 3 title "OpenJPIP"
unset logscale y
set yrange [*:*]

set output "$figures/bench-psnr.png"
set style data linespoints
set title "PSNR of each pan view against OpenJPEG's decode of the original (100 = identical)"
set ylabel "dB"
set xlabel "pan step"
set xtics norotate
set yrange [0:105]
set key outside right center noenhanced
plot $psnr_plot
G
cat "$out/tables.md"
echo "run.sh: figures in $figures, raw results in $out (views.tsv, load.tsv, summary.tsv)"
