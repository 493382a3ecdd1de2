#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Security tests against a real jpipd on 127.0.0.1 (what tests/e2e/jpipd_http_test.sh does not
# already cover; it checks '..', '%2F'-encoded '..', absolute target=/etc/passwd, a symlink to
# a file outside, control bytes, a 70000-byte GET query and POST body):
#   paths     percent-encoded dots (%2e%2e, %2E%2E, .%2e, %2e.), double encoding (%252e),
#             backslashes (raw and %5c), absolute paths to a real JPEG 2000 file outside the
#             root (in the path and in target=), NUL (%00) cutting a name short, names longer
#             than a path component and than PATH_MAX, a thousand "../", a directory symlink
#             leading out, a chain of links ending outside, and links that stay inside (served)
#             -- each gets a 4xx, never the outside file
#   limits    a GET query over --max-query-bytes (413 as documented, or 414/400), a 100 KiB header line and 2000
#             header lines (431, 400, 413 or the connection closed), a 20 MiB POST body and a
#             chunked one (413), a Content-Length of 10^12 (413 at once)
#   cids      20 sessions' cids are 32 hex digits, distinct, with no hex position equal in
#             all of them; 200 random cids, a real cid with one digit changed, an over-long,
#             empty or NUL-carrying cid all get 4xx
#   sessions  with --max-sessions 40, 120 cnew requests open exactly 40 sessions (503 with
#             Retry-After for the rest) and the server's VmRSS grows by less than 1 MiB per
#             refused request; closing sessions makes room again
#   models    model=/need= with ranges over 2^64 ids (P0-18446744073709551615, *, implicit
#             t0-4294967295c0-65535r0-32p0-4294967295, thousands of qualifiers) and a 12 MiB
#             POST of model items under --max-query-bytes 16 MiB: each answered (200 or 4xx)
#             within the curl bound while /healthz keeps answering; the server stays up
# After each group the server must still serve the image byte for byte as before.
# Usage: security_test.sh JPIPD. Exits 77 (skip) when curl or opj_compress is missing.
set -u

jpipd=${1:?usage: security_test.sh JPIPD}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools curl opj_compress
e2e_init jpip_security_test

# ---- fixtures: root/a.jp2, outside/secret.jp2 (a JPEG 2000 file: an escape would get 200) ----
root=$tmp/root
mkdir -p "$root/sub" "$tmp/outside/deep"
yes 'jpip security test 0123456789 abcdefghijklmnopqrstuvwxyz' | head -c $((96 * 80 * 3)) \
    >"$tmp/in.raw"
if ! opj_compress -i "$tmp/in.raw" -F 96,80,3,8,u -o "$root/a.jp2" -n 3 -r 20,1 \
    >"$tmp/opj.log" 2>&1; then
    echo "FAIL: opj_compress failed: $(tail -3 "$tmp/opj.log")" >&2
    exit 1
fi
cp "$root/a.jp2" "$tmp/outside/secret.jp2"
cp "$root/a.jp2" "$tmp/outside/deep/secret.jp2"
ln -s ../outside "$root/outdir"                    # a directory link leading out
ln -s l2.jp2 "$root/l1.jp2"                         # a chain: l1 -> l2 -> outside
ln -s ../outside/secret.jp2 "$root/l2.jp2"
ln -s ../root/a.jp2 "$root/inout.jp2"               # out and back in: stays inside, served
ln -s "$root/a.jp2" "$root/abs_inside.jp2"          # an absolute link to a file inside: served
ln -s "$tmp/outside/secret.jp2" "$root/abs_out.jp2" # an absolute link leading out
full='fsiz=96,80'

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null; }
is_4xx() { case $1 in 4??) return 0 ;; *) return 1 ;; esac }
ok_or_4xx() { [ "$1" = 200 ] || is_4xx "$1"; }
codes() { # codes TIMEOUT URL...: one status per line, bodies dropped, on one connection
    local t=$1 u args=()
    shift
    for u in "$@"; do
        args+=(-o /dev/null "$u")
    done
    curl -s --max-time "$t" -w '%{http_code}\n' "${args[@]}"
}
refused() { # refused NAME URL [CURL ARGS...]: a 4xx, never the outside file
    local name=$1 url=$2
    shift 2
    local st
    st=$(get "$name" "$url" "$@")
    if is_4xx "$st" && ! cmp -s "$tmp/$name.b" "$tmp/ref.b"; then
        pass
    else
        fail "$name: $url got $st (want 4xx), body '$(head -c 120 "$tmp/$name.b" | tr -c '[:print:]' .)'"
    fi
}
# raw NAME: send $tmp/NAME.req as it is on one connection; the answer goes to $tmp/NAME.resp
# and the status (or "closed" when none came) is printed.
raw() {
    timeout 20 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        cat "$2" >&3 2>/dev/null
        cat <&3' _ "$port" "$tmp/$1.req" >"$tmp/$1.resp" 2>/dev/null
    local st
    st=$(head -n 1 "$tmp/$1.resp" | sed -n 's|^HTTP/1\.[01] \([0-9][0-9][0-9]\).*|\1|p')
    echo "${st:-closed}"
}
still_serving() { # still_serving WHAT: the image again, byte for byte
    local st
    st=$(get after "$base/a.jp2?$full")
    if [ "$st" = 200 ] && cmp -s "$tmp/after.b" "$tmp/ref.b"; then
        pass
    else
        fail "after $1: the server no longer serves a.jp2 (status $st)"
    fi
}

jpipd_start main --log-level error
st=$(get ref "$base/a.jp2?$full")
check "reference view: 200 (got $st)" [ "$st" = 200 ]
check "reference view has a body" [ -s "$tmp/ref.b" ]

# ---- paths ----
out=$tmp/outside/secret.jp2
refused enc_dots "$base/%2e%2e/outside/secret.jp2?$full"
refused enc_dots_upper "$base/%2E%2E/outside/secret.jp2?$full"
refused enc_dot_half1 "$base/.%2e/outside/secret.jp2?$full"
refused enc_dot_half2 "$base/%2e./outside/secret.jp2?$full"
refused enc_dots_deep "$base/sub/%2e%2e/%2e%2e/outside/secret.jp2?$full"
refused enc_all "$base/%2e%2e%2foutside%2fsecret.jp2?$full"
refused double_enc "$base/%252e%252e/outside/secret.jp2?$full"
refused double_enc_slash "$base/%252e%252e%252foutside%252fsecret.jp2?$full"
refused double_enc_target "$base/jpip?target=%252e%252e%252foutside%252fsecret.jp2&$full"
refused backslash_enc "$base/..%5coutside%5csecret.jp2?$full"
refused backslash_enc_deep "$base/sub%5c..%5c..%5coutside%5csecret.jp2?$full"
printf 'GET /..\\outside\\secret.jp2?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
    "$full" >"$tmp/backslash_raw.req"
st=$(raw backslash_raw)
check "raw backslashes: 4xx (got $st)" is_4xx "$st"
refused abs_path "$base/$out?$full"
refused abs_path_enc "$base/%2f${out#/}?$full"
refused abs_target "$base/jpip?target=$out&$full"
refused abs_target_enc "$base/jpip?target=$(sed 's|/|%2F|g' <<<"$out")&$full"
refused file_url_target "$base/jpip?target=file://$out&$full"
refused nul_suffix "$base/a.jp2%00.txt?$full"
refused nul_end "$base/a.jp2%00?$full"
refused nul_target "$base/jpip?target=a.jp2%00x&$full"
refused nul_dir "$base/sub%00/../a.jp2?$full"
long_component=$(head -c 300 /dev/zero | tr '\0' 'a')
refused long_component "$base/$long_component.jp2?$full"
long_path=$(for _ in $(seq 1100); do printf 'abc/'; done)
refused long_path "$base/${long_path}a.jp2?$full"
many_up=$(for _ in $(seq 1000); do printf '../'; done)
refused many_up "$base/sub/${many_up}${out#/}?$full"
refused many_up_enc "$base/sub/$(sed 's|\.\./|%2e%2e%2f|g' <<<"$many_up")${out#/}?$full"
refused dir_link "$base/outdir/secret.jp2?$full"
refused dir_link_deep "$base/outdir/deep/secret.jp2?$full"
refused link_chain "$base/l1.jp2?$full"
refused abs_link_out "$base/abs_out.jp2?$full"
st=$(get inout "$base/inout.jp2?$full")
check "a link out and back in is served (got $st)" [ "$st" = 200 ]
check "... with the image's bytes" cmp -s "$tmp/inout.b" "$tmp/ref.b"
st=$(get abs_inside "$base/abs_inside.jp2?$full")
check "an absolute link to a file inside is served (got $st)" [ "$st" = 200 ]
still_serving "the path escapes"

# ---- header, query and body limits ----
stop "$pid" >/dev/null
jpipd_start limits --log-level error --max-query-bytes 2048
st=$(get ref2 "$base/a.jp2?$full")
check "limits server: 200 (got $st)" [ "$st" = 200 ]
pad=$(head -c 3000 /dev/zero | tr '\0' 'x')
st=$(get over_query "$base/a.jp2?$full&x=$pad")
# jpipd answers 413 for fields over --max-query-bytes, GET or POST (docs/operations.md); the
# library itself answers 414 for a request line over the connection's memory.
check "a GET query over --max-query-bytes 2048: 413, 414 or 400 (got $st)" \
    grep -Eqx '413|414|400' <<<"$st"
{
    printf 'GET /a.jp2?%s HTTP/1.1\r\nHost: x\r\nX-Big: ' "$full"
    head -c $((100 * 1024)) /dev/zero | tr '\0' 'h'
    printf '\r\nConnection: close\r\n\r\n'
} >"$tmp/big_header.req"
st=$(raw big_header)
check "a 100 KiB header line: 431, 400, 413 or closed (got $st)" \
    grep -Eqx '431|400|413|closed' <<<"$st"
{
    printf 'GET /a.jp2?%s HTTP/1.1\r\nHost: x\r\n' "$full"
    for i in $(seq 2000); do printf 'X-H%d: %d\r\n' "$i" "$i"; done
    printf 'Connection: close\r\n\r\n'
} >"$tmp/many_headers.req"
st=$(raw many_headers)
check "2000 header lines: 431, 400, 413 or closed (got $st)" \
    grep -Eqx '431|400|413|closed' <<<"$st"
head -c $((20 * 1024 * 1024)) /dev/zero | tr '\0' 'y' >"$tmp/huge_body"
st=$(get huge_post "$base/a.jp2" --data-binary "@$tmp/huge_body" \
    -H 'Content-Type: application/x-www-form-urlencoded')
check "a 20 MiB POST body: 413 (got $st)" [ "$st" = 413 ]
st=$(get huge_chunked "$base/a.jp2" --data-binary "@$tmp/huge_body" \
    -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/x-www-form-urlencoded')
check "a 20 MiB chunked POST body: 413 (got $st)" [ "$st" = 413 ]
printf 'POST /a.jp2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000000000\r\nConnection: close\r\n\r\nfsiz=1,1' \
    >"$tmp/huge_length.req"
st=$(raw huge_length)
check "Content-Length 10^12: 413 or closed (got $st)" grep -Eqx '413|closed' <<<"$st"
still_serving "the oversized requests"
stop "$pid" >/dev/null

# ---- cid guessing ----
jpipd_start cids --log-level error
cids=()
for i in $(seq 20); do
    get cnew$i "$base/a.jp2?fsiz=8,8&len=0&cnew=http" >/dev/null
    cids+=("$(header cnew$i JPIP-cnew | sed -n 's/.*cid=\([^,]*\).*/\1/p')")
done
printf '%s\n' "${cids[@]}" >"$tmp/cids"
check "every cid is 32 lowercase hex digits (128 bits): $(head -n 2 "$tmp/cids" | tr '\n' ' ')" \
    [ "$(grep -Ecx '[0-9a-f]{32}' "$tmp/cids")" = 20 ]
check "the 20 cids are distinct" [ "$(sort -u "$tmp/cids" | wc -l)" = 20 ]
constant=0
for i in $(seq 32); do
    [ "$(cut -c "$i" "$tmp/cids" | sort -u | wc -l)" = 1 ] && constant=$((constant + 1))
done
check "no hex position is the same in all 20 cids ($constant are)" [ "$constant" = 0 ]
urls=()
for _ in $(seq 200); do
    urls+=("$base/jpip?cid=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')&$full")
done
got=$(codes 60 "${urls[@]}" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "200 random cids all get 404 (got $got)" [ "$got" = " 200 404;" ]
real=${cids[0]}
last=${real:31:1}
[ "$last" = 0 ] && other=1 || other=0
refused near_cid "$base/jpip?cid=${real:0:31}$other&$full"
refused long_cid "$base/jpip?cid=$(head -c 1000 /dev/zero | tr '\0' 'a')&$full"
refused empty_cid "$base/jpip?cid=&$full"
refused nul_cid "$base/jpip?cid=$real%00&$full"
st=$(get real_cid "$base/jpip?cid=$real&$full")
check "the real cid still works (got $st)" [ "$st" = 200 ]
stop "$pid" >/dev/null

# ---- many sessions ----
jpipd_start sessions --log-level error --max-sessions 40
urls=()
for _ in $(seq 120); do
    urls+=("$base/a.jp2?fsiz=8,8&len=0&cnew=http")
done
codes 60 "${urls[@]:0:40}" >"$tmp/s40.codes"
rss40=$(rss_kb "$pid")
codes 120 "${urls[@]:40}" >"$tmp/s120.codes"
rss120=$(rss_kb "$pid")
check "the first 40 cnew requests open sessions ($(sort "$tmp/s40.codes" | uniq -c | tr -s ' ' | tr '\n' ';'))" \
    [ "$(grep -c '^200$' "$tmp/s40.codes")" = 40 ]
check "the next 80 get 503 ($(sort "$tmp/s120.codes" | uniq -c | tr -s ' ' | tr '\n' ';'))" \
    [ "$(grep -c '^503$' "$tmp/s120.codes")" = 80 ]
st=$(get s503 "$base/a.jp2?fsiz=8,8&cnew=http")
check "a 503 for a session carries Retry-After (got $st, '$(header s503 Retry-After)')" \
    all [ "$st" = 503 ] -- [ -n "$(header s503 Retry-After)" ]
grown=$((rss120 - rss40))
check "80 refused sessions grow VmRSS by less than 80 MiB ($rss40 -> $rss120 kB)" \
    [ "$grown" -lt $((80 * 1024)) ]
st=$(get stateless_full "$base/a.jp2?$full")
check "stateless requests are still served at the session limit (got $st)" [ "$st" = 200 ]
stop "$pid" >/dev/null
# Closing a session makes room for a new one.
jpipd_start sessions2 --log-level error --max-sessions 2
get o1 "$base/a.jp2?fsiz=8,8&len=0&cnew=http" >/dev/null
get o2 "$base/a.jp2?fsiz=8,8&len=0&cnew=http" >/dev/null
cid1=$(header o1 JPIP-cnew | sed -n 's/.*cid=\([^,]*\).*/\1/p')
st=$(get o3 "$base/a.jp2?fsiz=8,8&len=0&cnew=http")
check "--max-sessions 2: the third session gets 503 (got $st)" [ "$st" = 503 ]
st=$(get close1 "$base/jpip?cid=$cid1&cclose=$cid1")
check "cclose of a session: 200 (got $st)" [ "$st" = 200 ]
st=$(get o4 "$base/a.jp2?fsiz=8,8&len=0&cnew=http")
check "after cclose a new session opens (got $st)" [ "$st" = 200 ]
still_serving "the session limit"
stop "$pid" >/dev/null

# ---- huge and wide models ----
jpipd_start models --log-level error --max-query-bytes 16777216
model_req() { # model_req NAME QUERY: bounded, answered with 200 or 4xx
    local name=$1 q=$2 st
    st=$(get "$name" "$base/a.jp2" --data "$q")
    if ok_or_4xx "$st"; then
        pass
    else
        fail "$name: got $st (want 200 or 4xx) for ${q:0:100}"
    fi
    st=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$base/healthz")
    check "healthz after $name (got $st)" [ "$st" = 200 ]
}
model_req wide_p "$full&model=P0-18446744073709551615"
model_req wide_neg "$full&model=*,-P0-18446744073709551615"
model_req wide_star "$full&model=P*,H*,M*,Hm"
model_req wide_implicit "$full&model=t0-4294967295c0-65535r0-32p0-4294967295:L65535"
model_req wide_need "$full&need=t0-4294967295c0-65535r0-32p0-4294967295"
model_req wide_cs "$full&model=[0-18446744073709551615]P*"
quals=$(for i in $(seq 5000); do printf '[%d]P%d,' "$i" "$i"; done)
model_req many_quals "$full&model=${quals%,}"
# 12 MiB of model items in one POST (about 1.4 million items, over --max-model-entries).
awk 'BEGIN { printf "fsiz=96,80&model="; for (i = 0; i < 1400000; i++) printf "P%d,", i; printf "Hm" }' \
    >"$tmp/huge_model"
st=$(get huge_model "$base/a.jp2" --data-binary "@$tmp/huge_model" \
    -H 'Content-Type: application/x-www-form-urlencoded')
check "a 12 MiB model= POST: 200 or 4xx (got $st, $(wc -c <"$tmp/huge_model") bytes)" \
    ok_or_4xx "$st"
still_serving "the huge models"
stop "$pid"
rc=$?
check "jpipd exits 0 after all of it (got $rc)" [ "$rc" = 0 ]

[ "$failures" = 0 ] || show_logs 20 "$tmp"/*.err
summary security
