#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Makes the sample images `make serve` offers, in OUTDIR (default build/samples):
#   large_rgb.jp2      8192x8192 RGB, 1024x1024 tiles, precincts 256/128/64, 6 quality
#                      layers, RPCL, no PLT, irreversible 9/7 (the server walks packet headers to index it)
#   medium_rgb.jp2     2048x1536 RGB, untiled, precincts 128/64, 5 layers, RPCL, 9/7
#   medical16.j2k      1024x1024 16-bit grey "CT slice" phantom, reversible 5/3, 1 layer
# Pictures come from a small C generator compiled on the fly (synthetic, no licence
# questions), then opj_compress. Files already present are kept, so a second run is instant.
# Usage: scripts/make_samples.sh [OUTDIR]     (needs cc and opj_compress)
set -euo pipefail

out=${1:-build/samples}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in cc opj_compress; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "make_samples: $tool not found (Debian: apt-get install gcc libopenjp2-tools)" >&2
        exit 1
    }
done

want=()
for f in large_rgb.jp2 medium_rgb.jp2 medical16.j2k; do
    [ -s "$out/$f" ] || want+=("$f")
done
if [ ${#want[@]} -eq 0 ]; then
    echo "make_samples: samples present in $out"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/jpip_samples.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The picture generator: "rgb W H" writes a binary PPM, "ct W H" a 16-bit PGM, on stdout.
cat >"$work/gen.c" <<'CSRC'
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned clamp8(double v) { return v < 0 ? 0 : v > 255 ? 255 : (unsigned)v; }

/* A colour field with detail at every scale: smooth hue waves, concentric rings, a grid
 * every 64 and 512 samples, and a fine checker inside every 512-cell corner, so each zoom
 * level of a viewer shows something new. */
static void rgb(unsigned w, unsigned h)
{
    printf("P6\n%u %u\n255\n", w, h);
    unsigned char *row = malloc((size_t)w * 3);
    const double cx = w * 0.5, cy = h * 0.5, scale = 1.0 / (w > h ? w : h);
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            const double u = x * scale, v = y * scale;
            const double dx = x - cx, dy = y - cy, r = sqrt(dx * dx + dy * dy) * scale;
            double R = 128 + 90 * sin(6.0 * u + 2.0 * sin(5.0 * v));
            double G = 128 + 90 * sin(7.0 * v + 3.0 * r);
            double B = 128 + 90 * cos(5.0 * (u + v) - 4.0 * r);
            const double ring = sin(r * 400.0);
            R += 25 * ring;
            G += 25 * ring;
            B -= 25 * ring;
            if (x % 512 < 3 || y % 512 < 3) {
                R = G = B = 250;
            } else if (x % 64 == 0 || y % 64 == 0) {
                R *= 0.6; G *= 0.6; B *= 0.6;
            } else if (x % 512 < 48 && y % 512 < 48) {
                const unsigned c = ((x >> 2) ^ (y >> 2)) & 1;
                R = G = B = c ? 230 : 20;
            }
            row[3 * x] = (unsigned char)clamp8(R);
            row[3 * x + 1] = (unsigned char)clamp8(G);
            row[3 * x + 2] = (unsigned char)clamp8(B);
        }
        fwrite(row, 3, w, stdout);
    }
    free(row);
}

/* A CT-like slice: an elliptical body of soft tissue, two lungs, a spine and ribs of bone,
 * small vessels, and mild deterministic noise; values in Hounsfield units + 1024, stored in
 * 16 bits (air 0, water 1024, bone ~2000-3000). */
static void ct(unsigned w, unsigned h)
{
    printf("P5\n%u %u\n65535\n", w, h);
    unsigned char *row = malloc((size_t)w * 2);
    unsigned seed = 12345;
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            const double u = (x + 0.5) / w * 2 - 1, v = (y + 0.5) / h * 2 - 1;
            double hu = -1000; /* air */
            if (u * u / 0.81 + v * v / 0.56 < 1) {
                hu = 40 + 15 * sin(u * 9) * cos(v * 7); /* soft tissue */
                if (u * u / 0.74 + v * v / 0.50 >= 1)
                    hu = -80; /* fat layer */
                const double lu = fabs(u) - 0.38, lv = v + 0.05;
                if (lu * lu / 0.07 + lv * lv / 0.2 < 1)
                    hu = -850 + 40 * sin(u * 60) * sin(v * 55); /* lungs */
                const double su = u, sv = v - 0.5;
                if (su * su + sv * sv < 0.012)
                    hu = 1500 - 2000 * (su * su + sv * sv); /* vertebra */
                const double ang = atan2(v, u), rr = sqrt(u * u / 0.81 + v * v / 0.56);
                if (rr > 0.9 && rr < 0.95 && fmod(fabs(ang) * 8, 1.0) < 0.35)
                    hu = 1200; /* ribs */
                const double au = u + 0.1, av = v - 0.05;
                if (au * au + av * av < 0.006)
                    hu = 250; /* contrast-filled vessel */
            }
            seed = seed * 1103515245u + 12345u;
            hu += ((int)((seed >> 16) % 21) - 10);
            double val = hu + 1024;
            if (val < 0)
                val = 0;
            if (val > 65535)
                val = 65535;
            const unsigned s = (unsigned)val;
            row[2 * x] = (unsigned char)(s >> 8);
            row[2 * x + 1] = (unsigned char)(s & 255);
        }
        fwrite(row, 2, w, stdout);
    }
    free(row);
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    const unsigned w = (unsigned)strtoul(argv[2], NULL, 10), h = (unsigned)strtoul(argv[3], NULL, 10);
    if (strcmp(argv[1], "rgb") == 0)
        rgb(w, h);
    else if (strcmp(argv[1], "ct") == 0)
        ct(w, h);
    else
        return 2;
    return fflush(stdout) == 0 ? 0 : 1;
}
CSRC
cc -O2 -o "$work/gen" "$work/gen.c" -lm

threads=$(nproc 2>/dev/null || echo 1)
encode() { # encode NAME KIND W H OPJ-OPTIONS...
    local name=$1 kind=$2 w=$3 h=$4 ext=ppm
    shift 4
    [ "$kind" = ct ] && ext=pgm
    echo "make_samples: $name (${w}x$h)"
    "$work/gen" "$kind" "$w" "$h" >"$work/in.$ext"
    opj_compress -i "$work/in.$ext" -o "$work/$name" -threads "$threads" "$@" >"$work/opj.log" 2>&1 || {
        cat "$work/opj.log" >&2
        exit 1
    }
    mv "$work/$name" "$out/$name"
    rm -f "$work/in.$ext"
}

for f in "${want[@]}"; do
    case "$f" in
    large_rgb.jp2)
        encode "$f" rgb 8192 8192 -t 1024,1024 -p RPCL -n 6 \
            -c '[256,256],[128,128],[64,64],[64,64],[64,64],[64,64]' \
            -I -r 160,80,40,20,10,5
        ;;
    medium_rgb.jp2)
        encode "$f" rgb 2048 1536 -p RPCL -n 6 -c '[128,128],[128,128],[64,64]' \
            -I -r 80,40,20,10,4
        ;;
    medical16.j2k)
        encode "$f" ct 1024 1024 -p RPCL -n 6 -c '[128,128],[64,64]'
        ;;
    esac
done
ls -l "$out"
