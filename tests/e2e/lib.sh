# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash disable=SC2034,SC2154
#
# Plumbing shared by the end-to-end shell tests (tests/e2e/*_test.sh). A test sources it with
#     . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# (ctest runs each script by its full path, so the folder is known) and then calls e2e_init.
# Sourcing defines functions only; nothing runs. The functions read and set these globals:
#   tmp               the test's temporary folder (e2e_init)
#   pids              background processes to end when the script exits
#   checks, failures  the counters of pass/fail; skipped: parts not run (the test sets it)
#   jpipd, root       the daemon's path and the folder it serves (the test sets them)
#   pid, port, base   the last server started (serve_start, jpipd_start)
#
#   need_tools TOOL...      exit 77 (ctest's skip) with "skip: TOOL not found" unless every
#                           TOOL is on the PATH
#   e2e_init NAME           make $tmp (${TMPDIR:-/tmp}/NAME.XXXXXX, exit 1 when it cannot) and
#                           set the trap that, at exit, sends SIGTERM to every pid in $pids and
#                           removes $tmp
#   pass                    count a passed check
#   fail MESSAGE...         count a failed check and print "FAIL: MESSAGE" on stderr
#   check DESCRIPTION COMMAND...
#                           run COMMAND: pass when it succeeds, else fail DESCRIPTION
#   all COND [-- COND]...   run each COND (a command and its words, up to the next "--") in
#                           turn; status 0 when every one succeeds (it stops at the first that
#                           fails). For a check on several conditions, which a bare
#                           check WHAT [ A ] && [ B ] is not (the shell runs [ B ] outside check):
#                               check WHAT all [ A ] -- [ B ]
#                           A COND cannot hold the word "--" itself.
#   any COND [-- COND]...   the same, status 0 as soon as one COND succeeds
#   summary NAME            print "NAME: N checks passed, M failed" (", K skipped" when K > 0);
#                           its status is 0 only when nothing failed: end a test with it
#   show_logs LINES FILE... print the last LINES lines of each non-empty FILE on stderr, each
#                           under a "--- FILE:" line
#   wait_for TRIES PID COMMAND...
#                           run COMMAND every 0.1 s until it succeeds (status 0); status 1 after
#                           TRIES tries, or as soon as process PID has exited (PID may be empty)
#   serve_start NAME COMMAND...
#                           run COMMAND (a jpipd) in the background, stdout to $tmp/NAME.out,
#                           stderr appended to $tmp/NAME.err; add it to $pids; wait up to 10 s
#                           for jpipd's start line "jpipd: serving ... on http(s)://127.0.0.1:
#                           PORT/" and set pid, port and base (scheme://127.0.0.1:PORT); status 1
#                           (port and base empty) when no start line came
#   jpipd_try_start [-p PORT] NAME ARGS...
#                           serve_start NAME "$jpipd" --root "$root" --listen 127.0.0.1:PORT
#                           ARGS... (PORT 0 unless given: the system picks a free one)
#   jpipd_start [-p PORT] NAME ARGS...
#                           the same, but when jpipd does not start: "FAIL: jpipd (NAME) did
#                           not start: <its stderr>" and exit 1
#   listener_start OUT TRIES COMMAND...
#                           run COMMAND (a test server or relay that prints "port N" once it
#                           listens) in the background with stdout and stderr to OUT; add it to
#                           $pids; wait up to TRIES tenths of a second for that line; set lpid
#                           and lport (empty, status 1, when the line did not come)
#   stop PID [SECONDS]      SIGTERM, then wait up to SECONDS (20) for the exit and SIGKILL after;
#                           status: the process's exit status, 124 after SIGKILL; takes PID
#                           out of $pids
#   forget PID              take PID out of $pids (a process the test ended and waited for)
#   get NAME URL [CURL ARGS...]
#                           curl URL (bound: $curl_max_time s, 20 unless set; the path as is)
#                           with headers to $tmp/NAME.h and body to $tmp/NAME.b; print the
#                           HTTP status (000 when none came)
#   header NAME FIELD       the value of the first FIELD in $tmp/NAME.h (CR removed)
#   size_of NAME            the size of $tmp/NAME.b in bytes
#   tail_hex NAME N         the last N bytes of $tmp/NAME.b in hex
#   same_image A B          status 0 when the PNM files A and B have the same magic, size and
#                           maxval and the same samples (header comments may differ), or when
#                           the raw files A and B (*.raw, *.rawl) are equal

need_tools() {
    local t
    for t in "$@"; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "skip: $t not found"
            exit 77
        fi
    done
}

e2e_init() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
    pids=()
    checks=0
    failures=0
    skipped=0
    trap e2e_cleanup EXIT
}
e2e_cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}

pass() { checks=$((checks + 1)); }
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
check() {
    local what=$1
    shift
    if "$@"; then pass; else fail "$what"; fi
}
all() { e2e_conds 0 "$@"; }
any() { e2e_conds 1 "$@"; }
# e2e_conds ANY COND [-- COND]...: run the CONDs in turn until one fails (ANY 0) or succeeds
# (ANY 1), or none is left; the status of the last one run (0 or 1).
e2e_conds() {
    local e2e_any=$1 e2e_cond=() e2e_ok
    shift
    while :; do
        if [ $# -gt 0 ] && [ "$1" != -- ]; then
            e2e_cond+=("$1")
            shift
            continue
        fi
        if "${e2e_cond[@]}"; then e2e_ok=1; else e2e_ok=0; fi
        if [ $# -eq 0 ] || [ "$e2e_ok" = "$e2e_any" ]; then
            return $((1 - e2e_ok))
        fi
        shift
        e2e_cond=()
    done
}
summary() {
    local extra=
    [ "$skipped" -gt 0 ] && extra=", $skipped skipped"
    echo "$1: $checks checks passed, $failures failed$extra"
    [ "$failures" -eq 0 ]
}
show_logs() {
    local n=$1 f
    shift
    for f in "$@"; do
        [ -s "$f" ] && { echo "--- $(basename "$f"):"; tail -n "$n" "$f"; } >&2
    done
    return 0
}

wait_for() {
    local tries=$1 p=$2 i
    shift 2
    for ((i = 0; i < tries; i++)); do
        "$@" && return 0
        if [ -n "$p" ] && ! kill -0 "$p" 2>/dev/null; then
            return 1
        fi
        sleep 0.1
    done
    return 1
}

# e2e_start_line FILE: sets port and e2e_scheme from jpipd's start line in FILE.
e2e_start_line() {
    local line
    line=$(sed -n 's|^jpipd: serving .* on \(https\{0,1\}\)://127\.0\.0\.1:\([0-9]*\)/$|\1 \2|p' \
        "$1" 2>/dev/null)
    [ -n "$line" ] || return 1
    read -r e2e_scheme port <<<"$line"
}
serve_start() {
    local name=$1
    shift
    "$@" >"$tmp/$name.out" 2>>"$tmp/$name.err" &
    pid=$!
    pids+=("$pid")
    port=
    base=
    wait_for 100 "$pid" e2e_start_line "$tmp/$name.out" || {
        port=
        return 1
    }
    base="$e2e_scheme://127.0.0.1:$port"
}
jpipd_try_start() {
    local listen=0
    if [ "$1" = -p ]; then
        listen=$2
        shift 2
    fi
    local name=$1
    shift
    serve_start "$name" "$jpipd" --root "$root" --listen "127.0.0.1:$listen" "$@"
}
jpipd_start() {
    local name=$1
    [ "$1" = -p ] && name=$3
    jpipd_try_start "$@" && return 0
    echo "FAIL: jpipd ($name) did not start: $(cat "$tmp/$name.err")" >&2
    exit 1
}

# e2e_port_line FILE: sets lport from a "port N" line in FILE.
e2e_port_line() {
    lport=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$1" 2>/dev/null)
    [ -n "$lport" ]
}
listener_start() {
    local out=$1 tries=$2
    shift 2
    "$@" >"$out" 2>&1 &
    lpid=$!
    pids+=("$lpid")
    lport=
    wait_for "$tries" "" e2e_port_line "$out"
}

forget() {
    local p kept=()
    for p in "${pids[@]}"; do
        [ "$p" = "$1" ] || kept+=("$p")
    done
    pids=("${kept[@]}")
}
stop() {
    local p=$1 i
    kill -TERM "$p" 2>/dev/null
    for ((i = 0; i < ${2:-20} * 10; i++)); do
        if ! kill -0 "$p" 2>/dev/null; then
            forget "$p"
            wait "$p"
            return $?
        fi
        sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    forget "$p"
    return 124
}

get() {
    local name=$1 url=$2
    shift 2
    curl -s --max-time "${curl_max_time:-20}" --path-as-is -D "$tmp/$name.h" -o "$tmp/$name.b" \
        -w '%{http_code}' "$@" "$url"
}
header() { grep -i "^$2:" "$tmp/$1.h" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'; }
size_of() { wc -c <"$tmp/$1.b" | tr -d ' '; }
tail_hex() { tail -c "$2" "$tmp/$1.b" | od -An -tx1 | tr -d ' \n'; }

# PNM headers differ only in comments (opj_decompress writes its version in one): compare the
# magic, size and maxval, then the raster bytes.
pnm_header() {
    head -c 200 "$1" | LC_ALL=C tr -c '\n[:print:]' '.' | grep -v '^#' | head -n 3 | tr '\n' ' '
}
same_image() {
    local a=$1 b=$2
    [ -f "$a" ] && [ -f "$b" ] || return 1
    case $a in
    *.raw | *.rawl) cmp -s "$a" "$b" ;;
    *)
        local ha hb magic w h max ch=1 bytes=1 n
        ha=$(pnm_header "$a")
        hb=$(pnm_header "$b")
        [ "$ha" = "$hb" ] || return 1
        read -r magic w h max <<<"$ha"
        [ "$magic" = P6 ] && ch=3
        [ "$max" -gt 255 ] && bytes=2
        n=$((w * h * ch * bytes))
        [ "$(wc -c <"$a")" -ge "$n" ] && [ "$(wc -c <"$b")" -ge "$n" ] || return 1
        cmp -s <(tail -c "$n" "$a") <(tail -c "$n" "$b")
        ;;
    esac
}
