#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# End-to-end test of jpipd over HTTP with curl: starts the daemon on 127.0.0.1 with port 0
# (the port is read from its start line), then checks a view request (status, Content-Type,
# JPIP-tid for tid=0, a body ending with the EOR "window done"), sessions (JPIP-cnew, a repeated view
# answered by the EOR alone), keep-alive, chunked vs Content-Length bodies (flag and
# HTTP/1.0), POST form bodies, the CORS preflight, /healthz, HTTPS with a throw-away
# certificate, the error statuses (400 unknown field, 404 unknown cid / missing file /
# directory, 403 for '..', absolute names and symlinks leading out, 413, 405), the access log
# and its reopening on SIGHUP, the pid file, clean stops on SIGTERM, and the exit codes.
# Usage: jpipd_http_test.sh JPIPD
# Exits 77 (skip) when curl or opj_compress is missing.
set -u

jpipd=${1:?usage: jpipd_http_test.sh JPIPD}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools curl opj_compress
e2e_init jpipd_http_test

# ---- fixtures ----
root=$tmp/root
mkdir -p "$root/sub" "$tmp/outside"
yes 'jpipd http test pattern 0123456789 abcdefghijklmnopqrstuvwxyz' | head -c $((203 * 157 * 3)) \
    >"$tmp/in.raw"
if ! opj_compress -i "$tmp/in.raw" -F 203,157,3,8,u -o "$root/a.jp2" -p RPCL \
    -c '[32,32],[32,32],[16,16]' -b 16,16 -r 30,10,1 >"$tmp/opj.log" 2>&1; then
    echo "FAIL: opj_compress failed: $(tail -3 "$tmp/opj.log")" >&2
    exit 1
fi
cp "$root/a.jp2" "$tmp/outside/secret.jp2"
ln -s a.jp2 "$root/alias.jp2"                   # a link that stays inside: served
ln -s ../outside/secret.jp2 "$root/escape.jp2" # a link that leads out: refused
cp "$root/a.jp2" "$root/sub/b.jp2"
full='fsiz=203,157'

# ---- the default server (chunked bodies, access log, pid file) ----
jpipd_start main --access-log "$tmp/access.log" --pid-file "$tmp/jpipd.pid" --log-level debug
main_pid=$pid

check "pid file holds the pid" [ "$(cat "$tmp/jpipd.pid" 2>/dev/null)" = "$main_pid" ]

# A whole-image view, stateless.
st=$(get view "$base/a.jp2?$full")
check "view: status 200 (got $st)" [ "$st" = 200 ]
check "view: Content-Type image/jpp-stream" [ "$(header view Content-Type)" = image/jpp-stream ]
check "view: chunked" [ "$(header view Transfer-Encoding)" = chunked ]
check "view: body ends with EOR 'window done' (got $(tail_hex view 3))" \
    [ "$(tail_hex view 3)" = 000200 ]
check "view: body is more than the EOR" [ "$(size_of view)" -gt 1000 ]
check "view: CORS origin" [ "$(header view Access-Control-Allow-Origin)" = '*' ]
check "view: CORS exposes JPIP-cnew" grep -qi '^Access-Control-Expose-Headers:.*JPIP-cnew' \
    "$tmp/view.h"

# tid=0 asks for the target id.
st=$(get tid "$base/a.jp2?$full&tid=0")
check "tid=0: status 200 (got $st)" [ "$st" = 200 ]
check "tid=0: JPIP-tid present" [ -n "$(header tid JPIP-tid)" ]
check "tid=0: same body" cmp -s "$tmp/tid.b" "$tmp/view.b"

# A session: cnew=http, then the same view on the channel returns the EOR only.
st=$(get cnew "$base/a.jp2?$full&cnew=http")
cnew=$(header cnew JPIP-cnew)
cid=$(printf '%s' "$cnew" | sed -n 's/.*cid=\([^,]*\).*/\1/p')
cpath=$(printf '%s' "$cnew" | sed -n 's/.*path=\([^,]*\).*/\1/p')
check "cnew: status 200 (got $st)" [ "$st" = 200 ]
check "cnew: a 32-hex cid (got '$cnew')" grep -Eq '^[0-9a-f]{32}$' <<<"$cid"
check "cnew: a path (got '$cnew')" [ -n "$cpath" ]
check "cnew: transport=http" grep -q 'transport=http' <<<"$cnew"
check "cnew: full body" [ "$(size_of cnew)" -gt 1000 ]
st=$(get again "$base/$cpath?cid=$cid&$full")
check "session repeat: status 200 (got $st)" [ "$st" = 200 ]
check "session repeat: body is the EOR alone (got $(size_of again) bytes: $(tail_hex again 8))" \
    [ "$(size_of again)-$(tail_hex again 3)" = 3-000200 ]

# Keep-alive: two requests on one connection.
conns=$(curl -s --max-time 20 -o /dev/null -o /dev/null -w '%{num_connects}\n' \
    "$base/a.jp2?$full" "$base/healthz" | tr '\n' ' ')
check "keep-alive: second request reuses the connection (connects: $conns)" \
    [ "$conns" = "1 0 " ]

# HTTP/1.0 gets Content-Length, and the same bytes.
st=$(get http10 "$base/a.jp2?$full" -0)
check "HTTP/1.0: status 200 (got $st)" [ "$st" = 200 ]
check "HTTP/1.0: Content-Length equals the body" \
    [ "$(header http10 Content-Length)" = "$(size_of http10)" ]
check "HTTP/1.0: same body as chunked" cmp -s "$tmp/http10.b" "$tmp/view.b"

# POST with a form body works like GET.
st=$(get post "$base/a.jp2" --data "$full")
check "POST: status 200 (got $st)" [ "$st" = 200 ]
check "POST: same body as GET" cmp -s "$tmp/post.b" "$tmp/view.b"
st=$(get post_ct "$base/a.jp2" --data "$full" -H 'Content-Type: text/plain')
check "POST with another content type: 415 (got $st)" [ "$st" = 415 ]

# CORS preflight and health check.
st=$(get options "$base/a.jp2" -X OPTIONS)
check "OPTIONS: 204 (got $st)" [ "$st" = 204 ]
check "OPTIONS: allow origin" [ "$(header options Access-Control-Allow-Origin)" = '*' ]
check "OPTIONS: allow methods" grep -qi '^Access-Control-Allow-Methods:.*POST' "$tmp/options.h"
st=$(get health "$base/healthz")
check "healthz: 200 ok (got $st)" [ "$st-$(cat "$tmp/health.b")" = 200-ok ]

# In-root symlink, subdirectory.
st=$(get alias "$base/alias.jp2?$full")
check "symlink inside the root: 200 (got $st)" [ "$st" = 200 ]
st=$(get subdir "$base/sub/b.jp2?$full")
check "file in a subdirectory: 200 (got $st)" [ "$st" = 200 ]

# Errors: status and a one-line reason.
one_line() { # one_line NAME: a non-empty body of exactly one line
    [ -s "$tmp/$1.b" ] && [ "$(wc -l <"$tmp/$1.b" | tr -d ' ')" = 1 ]
}
expect_status() { # expect_status NAME WANT URL [CURL ARGS...]
    local name=$1 want=$2 url=$3
    shift 3
    local got
    got=$(get "$name" "$url" "$@")
    if [ "$got" = "$want" ] && one_line "$name"; then
        pass
    else
        fail "$name: status $got (want $want), body '$(head -c 200 "$tmp/$name.b")'"
    fi
}
expect_status unknown_field 400 "$base/a.jp2?$full&frobnicate=1"
expect_status unknown_cid 404 "$base/jpip?cid=0123456789abcdef0123456789abcdef&$full"
expect_status dotdot 403 "$base/../outside/secret.jp2?$full"
expect_status dotdot_enc 403 "$base/sub/..%2F..%2Foutside%2Fsecret.jp2?$full"
expect_status missing 404 "$base/nothere.jp2?$full"
expect_status directory 404 "$base/sub?$full"
expect_status absolute 403 "$base/jpip?target=%2Fetc%2Fpasswd&$full"
expect_status escape_link 403 "$base/escape.jp2?$full"
expect_status control_byte 403 "$base/a%01.jp2?$full"
expect_status bad_escape 400 "$base/a%zz.jp2?$full"
long=$(head -c 70000 /dev/zero | tr '\0' 'x')
# A GET request line longer than the connection's memory gets 414 (long queries go as POST).
check "a long GET query gets 414 from the HTTP library" \
    [ "$(get long_query "$base/a.jp2?$full&x=$long")" = 414 ]
printf '%s&x=%s' "$full" "$long" >"$tmp/long_body"
expect_status long_post 413 "$base/a.jp2" --data-binary "@$tmp/long_body"
expect_status put 405 "$base/a.jp2?$full" -X PUT
expect_status delete 405 "$base/a.jp2?$full" -X DELETE
check "405 names the allowed methods" grep -qi '^Allow: GET, POST, OPTIONS' "$tmp/delete.h"
grep -qi '^Access-Control-Allow-Origin: \*' "$tmp/unknown_field.h" && pass ||
    fail "errors carry CORS headers too"

# The server still answers after all of those.
st=$(get after "$base/a.jp2?$full")
check "after the errors: 200 (got $st)" [ "$st" = 200 ]
check "after the errors: same body" cmp -s "$tmp/after.b" "$tmp/view.b"

# Access log: one line per request; SIGHUP reopens it.
lines=$(wc -l <"$tmp/access.log" | tr -d ' ')
check "access log has a line per request ($lines)" [ "$lines" -ge 25 ]
check "access log line format" grep -Eq \
    '^[0-9T:.-]+Z 127\.0\.0\.1 GET "/a\.jp2\?fsiz=203,157&cnew=http" 200 [0-9]+ [0-9]+us [0-9a-f]{32} view="fsiz=203,157" bins=[0-9]+ binbytes=[0-9]+ eor=2$' \
    "$tmp/access.log"
mv "$tmp/access.log" "$tmp/access.log.1"
kill -HUP "$main_pid"
wait_for 50 "" test -e "$tmp/access.log"
get hup "$base/healthz" >/dev/null
sleep 0.2
check "SIGHUP reopened the access log" grep -q '"/healthz" 200' "$tmp/access.log"

stop "$main_pid"
rc=$?
check "SIGTERM: exit 0 (got $rc)" [ "$rc" = 0 ]
check "pid file removed at exit" [ ! -e "$tmp/jpipd.pid" ]

# ---- --content-length ----
jpipd_start cl --content-length
st=$(get cl "http://127.0.0.1:$port/a.jp2?$full")
check "--content-length: 200 (got $st)" [ "$st" = 200 ]
check "--content-length: Content-Length equals the body" \
    [ "$(header cl Content-Length)" = "$(size_of cl)" ]
check "--content-length: not chunked" [ -z "$(header cl Transfer-Encoding)" ]
check "--content-length: same body" cmp -s "$tmp/cl.b" "$tmp/view.b"
stop "$pid"

# ---- HTTPS ----
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj /CN=127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >"$tmp/openssl.log" 2>&1
then
    jpipd_start tls --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
    check "HTTPS start line says https" grep -q "^jpipd: serving .* on https://" "$tmp/tls.out"
    st=$(get tls "https://127.0.0.1:$port/a.jp2?$full" -k)
    check "HTTPS: 200 (got $st)" [ "$st" = 200 ]
    check "HTTPS: same body" cmp -s "$tmp/tls.b" "$tmp/view.b"
    st=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
    check "HTTPS port refuses plain HTTP (got $st)" [ "$st" != 200 ]
    stop "$pid"
else
    echo "note: openssl missing or failed; HTTPS part skipped"
fi

# ---- command line and exit codes ----
"$jpipd" --help >"$tmp/help.out" 2>&1
rc=$?
check "--help exits 0 (got $rc)" [ "$rc" = 0 ]
check "--help lists --max-sessions" grep -q -- '--max-sessions' "$tmp/help.out"
"$jpipd" --version >/dev/null 2>&1
check "--version exits 0" [ $? = 0 ]
"$jpipd" --root "$root" --no-such-flag >/dev/null 2>&1
rc=$?
check "unknown flag exits 2 (got $rc)" [ "$rc" = 2 ]
"$jpipd" --listen 127.0.0.1:0 >/dev/null 2>&1
rc=$?
check "missing --root exits 2 (got $rc)" [ "$rc" = 2 ]
"$jpipd" --root "$root" --max-sessions 0 >/dev/null 2>&1
rc=$?
check "out-of-range value exits 2 (got $rc)" [ "$rc" = 2 ]
"$jpipd" --root "$tmp/no-such-dir" --listen 127.0.0.1:0 >/dev/null 2>&1
rc=$?
check "missing root directory exits 1 (got $rc)" [ "$rc" = 1 ]
printf 'root = %s\nlisten = 127.0.0.1:0\nbogus = 1\n' "$root" >"$tmp/bad.conf"
"$jpipd" --config "$tmp/bad.conf" >/dev/null 2>"$tmp/badconf.err"
rc=$?
check "unknown config setting exits 2 (got $rc)" [ "$rc" = 2 ]
check "config error names file and line" grep -q 'bad.conf:3:' "$tmp/badconf.err"

# A config file drives the same settings; then a second daemon on the same port fails (1).
"$jpipd" --sample-config >"$tmp/sample.conf" 2>/dev/null
check "--sample-config lists max-query-bytes" grep -q '^max-query-bytes = 65536$' \
    "$tmp/sample.conf"
printf 'root = %s\nlisten = 127.0.0.1:0\ncontent-length = yes\n' "$root" >"$tmp/good.conf"
serve_start conf "$jpipd" --config "$tmp/good.conf"
if [ -n "$port" ]; then
    st=$(get conf "http://127.0.0.1:$port/a.jp2?$full")
    check "config file: content-length = yes applies (status $st)" \
        [ "$st:$(header conf Content-Length)" = "200:$(size_of conf)" ]
    "$jpipd" --root "$root" --listen "127.0.0.1:$port" >/dev/null 2>&1
    rc=$?
    check "port in use exits 1 (got $rc)" [ "$rc" = 1 ]
else
    fail "jpipd with --config did not start: $(cat "$tmp/conf.err")"
fi
stop "$pid"

[ "$failures" = 0 ] || show_logs 20 "$tmp"/*.err
summary jpipd_http
