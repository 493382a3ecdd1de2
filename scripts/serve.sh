#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# `make serve`: build jpipd if needed, make the sample images (scripts/make_samples.sh) in
# $BUILD_DIR/samples, and run jpipd on them in the foreground until Ctrl-C, with the access
# log on stdout. Prints the URLs to try and example commands first.
# Environment: PORT (default 8080), HOST (default 127.0.0.1), BUILD_DIR (default build),
#              JPIPD_ARGS (extra jpipd options, e.g. "--content-length").
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
port=${PORT:-8080}
host=${HOST:-127.0.0.1}
jpipd=$build/tools/jpipd/jpipd

if [ ! -x "$jpipd" ]; then
    echo "serve: building (make build BUILD_DIR=$build)"
    make build BUILD_DIR="$build"
fi
bash scripts/make_samples.sh "$build/samples"

url_host=$host
case "$host" in *:*) url_host="[$host]" ;; esac
base="http://$url_host:$port"
info=$build/tools/jpip-info/jpip-info
get=$build/tools/jpip-get/jpip-get
view=$build/tools/jpip-view/jpip-view

cat <<TXT

Serving $build/samples on $base/  (Ctrl-C stops)

Samples:
  $base/large_rgb.jp2     8192x8192 RGB, 64 tiles, 6 layers, RPCL, no PLT
  $base/medium_rgb.jp2    2048x1536 RGB, 5 layers
  $base/medical16.j2k     1024x1024 16-bit grey, lossless, 1 layer

Try:
  curl -s $base/healthz
  # a 1024x1024 overview of the large image (stateless); headers on stderr, JPP-stream in a file
  curl -s -D /dev/stderr -o /tmp/overview.jpp '$base/large_rgb.jp2?fsiz=1024,1024&tid=0'
  # open a session (JPIP-cnew gives the cid), then zoom into a region on that channel
  curl -s -D - -o /dev/null '$base/large_rgb.jp2?fsiz=1024,1024&cnew=http'
  curl -s -o /tmp/zoom.jpp '$base/jpip?cid=CID&fsiz=8192,8192&roff=4096,4096&rsiz=512,512'
  # the same request as a POST form body
  curl -s -o /tmp/post.jpp --data 'fsiz=512,384&layers=2' $base/medium_rgb.jp2
TXT
if [ -x "$info" ]; then
    echo "  $info $build/samples/large_rgb.jp2"
fi
if [ -x "$get" ]; then
    echo "  # a 512x512 region at full resolution, decoded exactly, with a disk cache"
    echo "  $get --cache /tmp/jpip-cache '$base/large_rgb.jp2?fsiz=8192,8192&roff=4096,4096&rsiz=512,512' -o /tmp/region.png"
fi
if [ -x "$view" ]; then
    echo "  # the viewer (needs a display): drag to pan, wheel to zoom, ? lists the keys"
    echo "  $view $base/large_rgb.jp2"
fi
echo

exec "$jpipd" --root "$build/samples" --listen "$url_host:$port" --access-log - \
    ${JPIPD_ARGS:-}
