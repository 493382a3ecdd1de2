#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# End-to-end test of jpip-view: jpipd on 127.0.0.1 and jpip-view under Xvfb, driven by a script
# of synthetic input events (jpip-view --script pushes real SDL events through the same code as
# a user's input): open, wait until complete, zoom in twice around a point with the wheel, pan
# by dragging and with the arrow keys, fit again, 1:1, the next component, a layer cap, a window
# resize, and the help overlay; a zoom that cuts a long response from a slow server. After each step
# the window is saved and compared by jpip_view_compare with OpenJPEG's decode of the original
# file at the same discard level and layers, resampled to the screen by the viewer's own
# arithmetic: the PSNR of the image area must reach 40 dB once the view is complete (in
# practice the pictures are identical: the threshold only leaves room for a renderer that
# does not copy pixels exactly). Two pictures: an RGB image with an irreversible colour
# transform, tiles, precincts and 5 layers; a 16-bit grey image (12 bits used) shown with
# automatic window/level. Also: --help lists the keys, a bad URL is refused.
#
# Usage: jpip_view_test.sh JPIP_VIEW JPIPD JPIP_VIEW_COMPARE
# Exits 77 (skip) only when no X server can be started (no Xvfb) or opj_compress is missing.
set -u

view=${1:?usage: jpip_view_test.sh JPIP_VIEW JPIPD JPIP_VIEW_COMPARE}
jpipd=${2:?}
compare=${3:?}
min_psnr=40

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools opj_compress
e2e_init jpip_view_test

# ---- an X server: the one we are given, else Xvfb on a free display ----
if [ -z "${JPIP_VIEW_USE_DISPLAY:-}" ]; then
    if ! command -v Xvfb >/dev/null 2>&1; then
        echo "skip: no X server (Xvfb not installed; scripts/deps.sh installs xvfb)"
        exit 77
    fi
    # -displayfd: Xvfb picks a free display number and writes it once it accepts clients.
    Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$tmp/display" \
        >"$tmp/xvfb.log" 2>&1 &
    pids+=("$!")
    if ! wait_for 100 "$!" test -s "$tmp/display"; then
        echo "skip: Xvfb did not start: $(tail -n 3 "$tmp/xvfb.log")"
        exit 77
    fi
    export DISPLAY=":$(head -n 1 "$tmp/display")"
fi

# SDL's platform libraries (D-Bus, Mesa, wayland-egl) leave allocations behind at exit and are
# unloaded by then, so LeakSanitizer can neither name nor suppress them: under ASan, leak
# detection is off for jpip-view itself (the library's own tests keep it on). The software
# renderer keeps the screenshots independent of the machine's OpenGL.
view_env=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    "SDL_RENDER_DRIVER=${SDL_RENDER_DRIVER:-software}")

# ---- the pictures ----
root=$tmp/root
mkdir -p "$root"
"$compare" --make rgb 1600 1200 >"$tmp/rgb.ppm" || exit 1
opj_compress -i "$tmp/rgb.ppm" -o "$tmp/root/rgb.j2k" -I -t 512,512 -p RPCL -n 6 \
    -c '[128,128],[64,64]' -r 80,40,20,10,4 >/dev/null 2>&1 || { echo "FAIL: opj_compress"; exit 1; }
"$compare" --make grey16 800 600 >"$tmp/grey.pgm" || exit 1
opj_compress -i "$tmp/grey.pgm" -o "$tmp/root/grey16.j2k" -p RPCL -n 5 -c '[64,64]' \
    -r 20,5,1 >/dev/null 2>&1 || { echo "FAIL: opj_compress (grey)"; exit 1; }

# ---- jpipd ----
jpipd_start jpipd --log-level error

# run_view NAME URL SCRIPT-LINES...: run jpip-view with the script; its output in $tmp/NAME.*
run_view() {
    local name=$1 url=$2
    shift 2
    printf '%s\n' "$@" >"$tmp/$name.script"
    if timeout 120 "${view_env[@]}" "$view" --size 800x600 --script "$tmp/$name.script" --cache "$tmp/cache" \
        "$url" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
        pass
    else
        fail "$name: jpip-view failed: $(tail -n 5 "$tmp/$name.err")"
    fi
}

# check_shot ORIGINAL SHOT: the screenshot against OpenJPEG's decode of the original.
check_shot() {
    local out
    if out=$("$compare" "$1" "$2" "$min_psnr" 2>&1); then
        echo "  ${out#"$tmp/"}"
        pass
    else
        fail "${out#"$tmp/"}"
    fi
}

# ---- RGB: open, zoom in twice around a point, pan, 1:1, one component, resize ----
s=$tmp/rgb
run_view rgb "$base/rgb.j2k" \
    "wait-complete 60" "screenshot $s-1-fit.ppm" \
    "zoom-in 250 200" "wait-complete 60" "screenshot $s-2-zoom.ppm" \
    "zoom-in 250 200" "wait-complete 60" "screenshot $s-3-zoom.ppm" \
    "pan 130 -90" "wait-complete 60" "screenshot $s-4-pan.ppm" \
    "key Left" "key Up" "wait-complete 60" "screenshot $s-4-keys.ppm" \
    "key -" "key F" "wait-complete 60" "screenshot $s-4-fit.ppm" \
    "key 1" "wait-complete 60" "screenshot $s-5-one.ppm" \
    "key C" "wait-complete 60" "screenshot $s-6-grey.ppm" \
    "key C" "key C" "key C" "key [" "key [" "wait-complete 60" "screenshot $s-6-layers.ppm" \
    "resize 640 480" "sleep 200" "wait-complete 60" "screenshot $s-7-resize.ppm" \
    "key ?" "screenshot $s-8-help.ppm" "quit"
for shot in "$s"-[1-7]-*.ppm; do
    [ -f "$shot" ] && check_shot "$tmp/root/rgb.j2k" "$shot"
done
[ "$(ls "$s"-*.ppm 2>/dev/null | wc -l)" = 11 ] && pass || fail "rgb: expected 11 screenshots"
# The views really changed: zoomed twice (x2 each), the pan moved the origin.
scale() { sed -n 's/^scale //p' "$1.view"; }
awk -v a="$(scale "$s-1-fit.ppm")" -v b="$(scale "$s-3-zoom.ppm")" \
    'BEGIN { exit !(b > 3.99 * a && b < 4.01 * a) }' && pass || fail "rgb: two zooms are not x4"
[ "$(sed -n 's/^origin //p' "$s-3-zoom.ppm.view")" != "$(sed -n 's/^origin //p' "$s-4-pan.ppm.view")" ] &&
    pass || fail "rgb: the pan did not move the view"
[ "$(sed -n 's/^origin //p' "$s-4-pan.ppm.view")" != "$(sed -n 's/^origin //p' "$s-4-keys.ppm.view")" ] &&
    pass || fail "rgb: the arrow keys did not move the view"
[ "$(sed -n 's/^\(scale\|origin\) //p' "$s-1-fit.ppm.view")" = \
    "$(sed -n 's/^\(scale\|origin\) //p' "$s-4-fit.ppm.view")" ] && pass || fail "rgb: f did not fit again"
grep -qx 'scale 1' "$s-5-one.ppm.view" && pass || fail "rgb: 1:1 is not scale 1"
grep -qx 'mode 0 0' "$s-6-grey.ppm.view" && pass || fail "rgb: c did not switch to component 0"
grep -qx 'mode 1 0' "$s-6-layers.ppm.view" && grep -qx 'layers 3' "$s-6-layers.ppm.view" &&
    pass || fail "rgb: c back to colour and [ [ to 3 of 5 layers did not happen"
cmp -s "$s-5-one.ppm" "$s-6-layers.ppm" && fail "rgb: 3 layers look like 5" || pass
grep -qx 'viewport 640 458' "$s-7-resize.ppm.view" && pass || fail "rgb: resize not followed"
# The help overlay changes the picture.
cmp -s "$s-7-resize.ppm" "$s-8-help.ppm" && fail "rgb: ? shows no help" || pass

# ---- the same view again through the cache (--cache): exact, and no data-bin byte moves ----
run_view cached "$base/rgb.j2k" "wait-complete 60" "screenshot $tmp/cached.ppm" "quit"
check_shot "$tmp/root/rgb.j2k" "$tmp/cached.ppm"
got=$(sed -n 's/^received \([0-9]*\) .*/\1/p' "$tmp/cached.ppm.view")
[ -n "$got" ] && [ "$got" -lt 2000 ] && pass || fail "cached: $got bytes received"

# ---- a zoom while a long response is still coming (a server limited to 50 kB/s, one response
# for the whole view): the response is cut, the client declares its cache on a new channel,
# and the zoomed view is still exact ----
main_base=$base
jpipd_try_start slowd --log-level error --client-rate 50000
spid=$pid sport=$port
base=$main_base
printf '%s\n' "sleep 800" "zoom-in 250 200" "wait-complete 60" "screenshot $tmp/slow.ppm" \
    "quit" >"$tmp/slow.script"
if timeout 120 "${view_env[@]}" "$view" --size 800x600 --len 10000000 \
    --script "$tmp/slow.script" "http://127.0.0.1:$sport/rgb.j2k" >/dev/null 2>"$tmp/slow.err"; then
    check_shot "$tmp/root/rgb.j2k" "$tmp/slow.ppm"
else
    fail "slow: jpip-view failed: $(tail -n 5 "$tmp/slow.err")"
fi
stop "$spid" >/dev/null

# ---- 16-bit grey with automatic window/level ----
s=$tmp/grey
run_view grey "$base/grey16.j2k" \
    "wait-complete 60" "screenshot $s-1-fit.ppm" \
    "zoom-in 400 300" "wait-complete 60" "screenshot $s-2-zoom.ppm" \
    "key W" "sleep 100" "wait-complete 60" "screenshot $s-3-wider.ppm" "quit"
for shot in "$s"-[1-3]-*.ppm; do
    [ -f "$shot" ] && check_shot "$tmp/root/grey16.j2k" "$shot"
done
# Automatic levels: not the full 16-bit range. The samples lie in about 0-4000; a picture of
# partial data (lower layers, ringing) may put the 99.5th percentile somewhat above.
lv=$(sed -n 's/^levels \([^ ]*\) \([^ ]*\) .*/\1 \2/p' "$s-1-fit.ppm.view")
awk -v l="$lv" 'BEGIN { split(l, a, " "); exit !(a[1] > 0 && a[2] < 8192) }' && pass ||
    fail "grey: levels $lv are not automatic"

# ---- command line ----
"${view_env[@]}" "$view" --help >"$tmp/help.txt" 2>&1 && grep -q 'wheel' "$tmp/help.txt" &&
    grep -q -- '--cache' "$tmp/help.txt" && pass || fail "--help does not list the keys"
"${view_env[@]}" "$view" 'ftp://nowhere/x.jp2' >/dev/null 2>&1
[ $? = 2 ] && pass || fail "a bad URL is not refused with exit 2"

summary jpip_view
