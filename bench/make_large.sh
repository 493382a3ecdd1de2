#!/usr/bin/env bash
# Makes the large benchmark images: 16384x16384 RGB, 5 quality layers, 1024x1024 tiles,
# 64x64 precincts at the top resolutions, without and with PLT. Takes a few minutes.
#   bench/make_large.sh OUTDIR [SIZE]
set -euo pipefail
out=${1:?usage: make_large.sh OUTDIR [SIZE]}
size=${2:-16384}
mkdir -p "$out"
ppm="$out/large_${size}.ppm"
if [ ! -f "$ppm" ]; then
  # Smooth gradients plus fine texture: compresses like a natural image, unlike pure noise.
  gen=$(mktemp -d)/gen
  cat > "$gen.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    int n = atoi(argv[1]);
    printf("P6\n%d %d\n255\n", n, n);
    unsigned char *row = malloc((size_t)n * 3);
    unsigned s = 12345;
    for (int y = 0; y < n; y++) {
        for (int x = 0; x < n; x++) {
            s = s * 1103515245u + 12345u;
            int t = (s >> 16) & 15;
            row[3 * x] = (unsigned char)((x * 255 / n + t) & 255);
            row[3 * x + 1] = (unsigned char)((y * 255 / n + ((x ^ y) & 31)) & 255);
            row[3 * x + 2] = (unsigned char)(((x + y) * 127 / n + t * 2) & 255);
        }
        fwrite(row, 3, (size_t)n, stdout);
    }
    return 0;
}
C
  cc -O2 -o "$gen" "$gen.c"
  "$gen" "$size" > "$ppm"
fi
common=(-i "$ppm" -r 160,80,40,20,10 -t 1024,1024 -c '[256,256],[128,128],[64,64]' -p RPCL -threads 2)
[ -f "$out/large_${size}_noplt.j2k" ] || opj_compress "${common[@]}" -o "$out/large_${size}_noplt.j2k"
[ -f "$out/large_${size}_plt.j2k" ] || opj_compress "${common[@]}" -PLT -o "$out/large_${size}_plt.j2k"
ls -la "$out"/*.j2k
