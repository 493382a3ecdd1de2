#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Measures jpip-view over loopback: time from start to the first full-window picture, to the
# fitted view complete ("sharp"), and from each of two zooms (x2, wheel at the window's centre)
# and a pan to their sharp picture. Runs jpipd on IMAGE's folder and jpip-view under Xvfb (or
# on $DISPLAY with JPIP_VIEW_USE_DISPLAY=1) RUNS times with --stats, after one run that warms
# the server's packet index, and prints the median and range of each figure. Under Xvfb there
# is no GPU: SDL's OpenGL renderer would be Mesa's llvmpipe, which rasterises on the CPU
# cores the decoder needs, so the software renderer is used unless SDL_RENDER_DRIVER is set.
#   tools/jpip-view/view_bench.sh JPIP_VIEW JPIPD IMAGE [RUNS] [WxH]
# e.g. bench/make_large.sh /tmp/large 16384 &&
#      tools/jpip-view/view_bench.sh build/tools/jpip-view/jpip-view build/tools/jpipd/jpipd \
#          /tmp/large/large_16384_plt.j2k 7
set -euo pipefail
view=${1:?usage: view_bench.sh JPIP_VIEW JPIPD IMAGE [RUNS] [WxH]}
jpipd=${2:?}
image=${3:?}
runs=${4:-5}
size=${5:-1024x768}
w=${size%x*}
h=${size#*x}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jpip_view_bench.XXXXXX")
jpid=
xpid=
trap '[ -n "$jpid" ] && kill "$jpid"; [ -n "$xpid" ] && kill "$xpid"; rm -rf "$tmp"' EXIT

if [ -z "${JPIP_VIEW_USE_DISPLAY:-}" ]; then
    export SDL_RENDER_DRIVER=${SDL_RENDER_DRIVER:-software}
    Xvfb -displayfd 3 -screen 0 "$((w + 64))x$((h + 64))x24" -nolisten tcp 3>"$tmp/display" \
        >/dev/null 2>&1 &
    xpid=$!
    for _ in $(seq 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
    export DISPLAY=":$(head -n 1 "$tmp/display")"
fi
"$jpipd" --root "$(dirname "$image")" --listen 127.0.0.1:0 --log-level error >"$tmp/jpipd.out" &
jpid=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's|^jpipd: serving .* on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$tmp/jpipd.out" \
        2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.1
done
url="http://127.0.0.1:$port/$(basename "$image")"
cx=$((w / 2))
cy=$(((h - 22) / 2))
printf '%s\n' "wait-complete 300" "zoom-in $cx $cy" "wait-complete 120" "zoom-in $cx $cy" \
    "wait-complete 120" "pan 200 120" "wait-complete 120" "quit" >"$tmp/script"

run() { "$view" --stats --size "$size" --script "$tmp/script" "$url" 2>&1 >/dev/null; }
cold=$(run)
echo "cold server (packet index built on first use):"
sed -n 's/^jpip-view: stats: /  /p' <<<"$cold"
for i in $(seq "$runs"); do
    run >"$tmp/run$i"
done
cat "$tmp"/run* | awk '
    function add(k, v) { val[k] = val[k] " " v }
    function med(k, n, a, i, j, t) {
        n = split(val[k], a, " ")
        for (i = 1; i <= n; i++)
            for (j = i + 1; j <= n; j++)
                if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        lo[k] = a[1]; hi[k] = a[n]; cnt[k] = n
        return n ? a[int((n + 1) / 2)] : 0
    }
    /first picture [0-9.]* ms after start/ { add("first picture", $5) }
    / sharp [0-9.]* ms/ {
        k = $4 == 1 ? "fitted view" : $4 == 2 ? "zoom 1" : $4 == 3 ? "zoom 2" : "pan"
        add(k, $7); add(k " decode", $12); add(k " cpu", $14)
    }
    END {
        m = med("first picture")
        printf "  %-14s median %6.1f ms (min %.1f, max %.1f, %d runs)\n", "first picture", m,
            lo["first picture"], hi["first picture"], cnt["first picture"]
        split("fitted view|zoom 1|zoom 2|pan", keys, "|")
        for (i = 1; i <= 4; i++) {
            k = keys[i]; m = med(k)
            printf "  %-14s sharp median %6.1f ms (min %.1f, max %.1f); its decode %.1f ms, %.1f ms of CPU\n",
                k, m, lo[k], hi[k], med(k " decode"), med(k " cpu")
        }
    }' | sed "1i warm server, $runs runs, window $size, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg):"
echo "  ($view --stats --size $size --script SCRIPT $url)"
