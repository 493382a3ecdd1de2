#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Checks the dependency rule of CONTRIBUTING.md by reading #include lines:
#   - a lib/ module includes only itself, the lib modules below it, <jpip/...> and system headers;
#   - the core modules (no I/O) include only C standard headers and set no POSIX feature macros;
#   - openjpeg.h only in lib/decode, microhttpd.h only in lib/httpd, curl only in lib/transport,
#     POSIX file headers (fcntl.h, sys/stat.h, dirent.h, sys/mman.h) only in lib/io;
#   - public headers include only <stddef.h>, <stdint.h> and <jpip/...>;
#   - tools/ include only <jpip/...> public headers, system headers and tools/ headers.
# Usage: scripts/check_includes.sh   (from anywhere; exits 1 and lists every violation)
set -euo pipefail
cd "$(dirname "$0")/.."

# The lib modules each module may include (besides itself): the transitive closure of the DAG
#   common <- codestream <- databin <- stream, cache;  common <- request;
#   {codestream, databin, stream, request, cache} <- server, client;
#   client <- decode, transport;  server <- httpd;  common <- io.
declare -A allowed=(
    [common]=""
    [codestream]="common"
    [databin]="common codestream"
    [stream]="common codestream databin"
    [cache]="common codestream databin"
    [request]="common"
    [server]="common codestream databin stream request cache"
    [client]="common codestream databin stream request cache"
    [decode]="common codestream databin stream request cache client"
    [transport]="common codestream databin stream request cache client"
    [httpd]="common codestream databin stream request cache server"
    [io]="common"
)
# Modules that do no I/O: C standard headers only, no feature-test macros.
core_modules=" common codestream databin stream request cache server client "

c_std_headers=" assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h \
locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h \
stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h "
posix_file_headers=" fcntl.h sys/stat.h dirent.h sys/mman.h "

violations=0
report() {
    echo "$1: $2" >&2
    violations=$((violations + 1))
}

# include_lines FILE -> "LINE KIND PATH" for each #include, KIND being < or ".
include_lines() {
    grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$1" |
        sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^>"]*)[>"].*/\1 \2 \3/' ||
        true
}

# resolve BASE_DIR PATH -> the repository-relative path if BASE_DIR/PATH exists, else nothing.
resolve() {
    if [ -f "$1/$2" ]; then
        realpath -m --relative-to=. "$1/$2"
    fi
}

# The lib module a repository path belongs to (lib/<module>/...), or nothing.
lib_module_of() {
    case "$1" in
    lib/*/*)
        local rest=${1#lib/}
        echo "${rest%%/*}"
        ;;
    esac
}

check_third_party() { # FILE:LINE MODULE HEADER
    local where=$1 mod=$2 h=$3
    case "$h" in
    openjpeg.h | */openjpeg.h)
        [ "$mod" = decode ] || report "$where" "<$h> is allowed only in lib/decode"
        ;;
    microhttpd.h)
        [ "$mod" = httpd ] || report "$where" "<$h> is allowed only in lib/httpd"
        ;;
    curl/*)
        [ "$mod" = transport ] || report "$where" "<$h> is allowed only in lib/transport"
        ;;
    SDL.h | SDL2/* | png.h | zlib.h)
        report "$where" "<$h> belongs in tools/, not lib/"
        ;;
    esac
}

check_lib_file() {
    local f=$1 mod
    mod=$(lib_module_of "$f")
    if [ -z "$mod" ]; then
        report "$f" "files in lib/ belong in a module folder (lib/<module>/)"
        return
    fi
    if [ -z "${allowed[$mod]+set}" ]; then
        report "$f" "unknown module lib/$mod: add it to the dependency rule in CONTRIBUTING.md and scripts/check_includes.sh"
        return
    fi
    local is_core=0
    [[ "$core_modules" == *" $mod "* ]] && is_core=1

    if [ $is_core = 1 ]; then
        local m
        m=$(grep -nE '^[[:space:]]*#[[:space:]]*define[[:space:]]+(_POSIX_C_SOURCE|_XOPEN_SOURCE|_GNU_SOURCE|_DEFAULT_SOURCE|_BSD_SOURCE|_FILE_OFFSET_BITS)\b' "$f" | head -n 1 || true)
        [ -z "$m" ] || report "$f:${m%%:*}" "lib/$mod is I/O-free: POSIX feature macros belong only in lib/io, lib/httpd and tools/"
    fi

    local line kind inc dir target tmod
    dir=$(dirname "$f")
    while read -r line kind inc; do
        [ -n "$line" ] || continue
        local where="$f:$line"
        case "$inc" in
        jpip/*)
            [ -f "include/$inc" ] || report "$where" "public header $inc does not exist"
            continue
            ;;
        esac
        # A header of this tree: relative to the including file, then to lib/.
        target=$(resolve "$dir" "$inc")
        [ -n "$target" ] || target=$(resolve lib "$inc")
        if [ -n "$target" ]; then
            tmod=$(lib_module_of "$target")
            if [ -z "$tmod" ]; then
                report "$where" "\"$inc\" resolves outside lib/ ($target)"
            elif [ "$tmod" != "$mod" ] && [[ " ${allowed[$mod]} " != *" $tmod "* ]]; then
                report "$where" "lib/$mod may not include lib/$tmod (\"$inc\"); allowed: ${allowed[$mod]:-none}"
            fi
            continue
        fi
        if [ "$kind" = '"' ]; then
            report "$where" "cannot resolve \"$inc\" (use <...> for system headers)"
            continue
        fi
        check_third_party "$where" "$mod" "$inc"
        if [ $is_core = 1 ]; then
            [[ "$c_std_headers" == *" $inc "* ]] ||
                report "$where" "lib/$mod is I/O-free: only C standard headers, not <$inc>"
        elif [ "$mod" != io ] && [[ "$posix_file_headers" == *" $inc "* ]]; then
            report "$where" "POSIX file access (<$inc>) belongs only in lib/io"
        fi
    done < <(include_lines "$f")
}

check_public_header() {
    local f=$1 line kind inc
    while read -r line kind inc; do
        [ -n "$line" ] || continue
        case "$kind$inc" in
        "<stddef.h" | "<stdint.h" | "<jpip/"*) ;;
        *) report "$f:$line" "public headers include only <stddef.h>, <stdint.h> and <jpip/...>, not $inc" ;;
        esac
        case "$kind$inc" in
        "<jpip/"*) [ -f "include/$inc" ] || report "$f:$line" "public header $inc does not exist" ;;
        esac
    done < <(include_lines "$f")
}

check_tool_file() {
    local f=$1 line kind inc dir target
    dir=$(dirname "$f")
    while read -r line kind inc; do
        [ -n "$line" ] || continue
        local where="$f:$line"
        case "$inc" in
        jpip/*)
            [ -f "include/$inc" ] || report "$where" "public header $inc does not exist"
            continue
            ;;
        esac
        # Headers of tools/ itself: relative to the including file, to tools/ or to tools/common/
        target=$(resolve "$dir" "$inc")
        [ -n "$target" ] || target=$(resolve tools "$inc")
        [ -n "$target" ] || target=$(resolve tools/common "$inc")
        case "$target" in
        tools/*) continue ;;
        ?*)
            report "$where" "tools include only public <jpip/...> headers and tools/ headers, not $target"
            continue
            ;;
        esac
        if [ -n "$(resolve lib "$inc")" ]; then
            report "$where" "tools may not include library internals (lib/$inc); use <jpip/...>"
        elif [[ "$inc" == openjpeg.h || "$inc" == */openjpeg.h || "$inc" == microhttpd.h || "$inc" == curl/* ]]; then
            report "$where" "<$inc> is used only inside lib/ adapters; tools go through <jpip/...>"
        elif [ "$kind" = '"' ]; then
            report "$where" "cannot resolve \"$inc\" under tools/"
        fi
    done < <(include_lines "$f")
}

nfiles=0
while IFS= read -r f; do
    nfiles=$((nfiles + 1))
    case "$f" in
    lib/*) check_lib_file "$f" ;;
    include/*) check_public_header "$f" ;;
    tools/*) check_tool_file "$f" ;;
    esac
done < <(find lib include tools -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)

if [ $violations -ne 0 ]; then
    echo "check_includes: $violations violation(s) of the dependency rule (see CONTRIBUTING.md)" >&2
    exit 1
fi
echo "check_includes: ok ($nfiles files)"
