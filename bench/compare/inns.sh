#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The part of bench/compare/run.sh that runs inside a private network namespace (unshare --net,
# loopback only): starts jpipd on 127.0.0.1:8080 and OpenJPIP's opj_server behind lighttpd's
# FastCGI on 127.0.0.1:8081 (opj_server also opens 0.0.0.0:60000 whatever it is told, which
# the namespace keeps private), serving the same directory, then runs every view sequence
# against both with compare_client and the load test with wrk. Both servers and all clients
# share the namespace and the machine's cores.
#   inns.sh BUILD_DIR IMAGE_DIR OUT_DIR "FILES" LOAD_SECONDS LOAD_CONNECTIONS
# Writes OUT_DIR/views.tsv and OUT_DIR/load.tsv.
set -euo pipefail
build=$1 images=$2 out=$3 files=$4 secs=$5 conns=$6

ip link set lo up
jpipd_pid='' lighttpd_pid=''
stop() {
    # lighttpd stops the opj_server it spawned.
    [ -n "$lighttpd_pid" ] && kill "$lighttpd_pid" 2>/dev/null
    [ -n "$jpipd_pid" ] && kill "$jpipd_pid" 2>/dev/null
    wait 2>/dev/null || true
}
trap stop EXIT

# opj_server opens targets relative to its working directory and keeps a temporary file there;
# a stale tmpjpipstream.jpp (left by a crash) makes it refuse every request.
rm -f "$images/tmpjpipstream.jpp"
cat >"$out/opj_server.sh" <<W
#!/bin/sh
cd "$images" && exec /usr/bin/opj_server
W
chmod +x "$out/opj_server.sh"
cat >"$out/lighttpd.conf" <<C
server.document-root = "$images"
server.bind = "127.0.0.1"
server.port = 8081
server.modules = ("mod_fastcgi")
server.errorlog = "$out/lighttpd.log"
server.max-connections = 1024
fastcgi.server = ("/myFCGI" => ((
    "socket" => "$out/opj_server.sock",
    "bin-path" => "$out/opj_server.sh",
    "max-procs" => 1,
    "check-local" => "disable")))
C
lighttpd -D -f "$out/lighttpd.conf" &
lighttpd_pid=$!
"$build/tools/jpipd/jpipd" --root "$images" --listen 127.0.0.1:8080 --log-level error &
jpipd_pid=$!

first=${files%% *}
for i in $(seq 50); do
    curl -fs -o /dev/null "http://127.0.0.1:8080/$first?fsiz=16,16" &&
        curl -fs -o /dev/null "http://127.0.0.1:8081/myFCGI?target=$first&fsiz=16,16&type=jpp-stream" &&
        break
    sleep 0.2
done

# Warm up: each server opens and indexes every file once before anything is measured.
for f in $files; do
    curl -fs -o /dev/null "http://127.0.0.1:8080/$f?fsiz=16,16" || true
    curl -fs -o /dev/null "http://127.0.0.1:8081/myFCGI?target=$f&fsiz=16,16&type=jpp-stream" || true
done

url_of() { [ "$1" = jpipd ] && echo http://127.0.0.1:8080 || echo http://127.0.0.1:8081/myFCGI; }

: >"$out/views.tsv"
for f in $files; do
    for seq in thumb region pan; do
        for kind in jpipd openjpip; do
            "$build/bench/compare_client" --kind "$kind" --url "$(url_of "$kind")" --name "$f" \
                --file "$images/$f" --seq "$seq" --label "${f%.jp2}" >>"$out/views.tsv" ||
                echo "inns.sh: $kind $f $seq failed" >&2
        done
    done
done

# Requests/s: stateless requests (no session) for a thumbnail and for a full-resolution
# 512x512 region, many connections at once, each server on its own.
: >"$out/load.tsv"
for f in $files; do
    w=$(awk -F'\t' -v l="${f%.jp2}" '$1 == l && $3 == "region" { print $5; exit }' "$out/views.tsv")
    region=${w#type=jpp-stream&}
    for view in thumb region; do
        q="fsiz=256,256"
        [ "$view" = region ] && q=$region
        for kind in jpipd openjpip; do
            if [ "$kind" = jpipd ]; then
                u="http://127.0.0.1:8080/$f?type=jpp-stream&$q"
            else
                u="http://127.0.0.1:8081/myFCGI?target=$f&type=jpp-stream&$q"
            fi
            r=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$u" 2>&1) || true
            rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$r")
            p50=$(awk '$1 == "50%" { print $2 }' <<<"$r")
            p99=$(awk '$1 == "99%" { print $2 }' <<<"$r")
            errs=$(awk '/Non-2xx|Socket errors/ { s = s $0 " " } END { print s == "" ? "0" : s }' <<<"$r")
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${f%.jp2}" "$view" "$kind" "${rps:-0}" \
                "${p50:--}" "${p99:--}" "$errs" >>"$out/load.tsv"
        done
    done
done
