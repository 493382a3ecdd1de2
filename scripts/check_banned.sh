#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Fails on calls that the house style bans in lib/ (comments and string literals are ignored):
#   - unbounded or unchecked string functions: strcpy strcat sprintf vsprintf strncpy gets atoi
#     atol atoll atof strtok strtok_r and the scanf family (use the common/ buffers and cursors);
#   - raw heap calls: malloc calloc realloc free strdup strndup (use jpip__alloc and friends;
#     only lib/common/alloc.c may call the C allocator);
#   - printing, exiting and reading the environment: the library reports through return codes,
#     error messages and the log callback (printf fprintf puts perror exit getenv system ...);
#   - stdio file access outside lib/io (fopen fread fwrite ...).
# Usage: scripts/check_banned.sh [DIR...]   (default: lib)
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -gt 0 ] || set -- lib

string_fns='strcpy|strcat|sprintf|vsprintf|strncpy|gets|atoi|atol|atoll|atof|strtok|strtok_r|scanf|sscanf|fscanf|vscanf|vsscanf|vfscanf'
heap_fns='malloc|calloc|realloc|free|strdup|strndup|aligned_alloc|posix_memalign'
output_fns='printf|vprintf|fprintf|vfprintf|dprintf|puts|fputs|putchar|putc|fputc|perror|exit|_Exit|quick_exit|getenv|secure_getenv|system|setenv|putenv'
file_fns='fopen|freopen|fdopen|fread|fwrite|fclose|fseek|fseeko|ftell|ftello|fflush|fgets|fgetc|getc|remove|rename|tmpfile'

# strip FILE: prints "LINE:code" for each line, with comments and the contents of string and
# character literals blanked out, so that text like "free(" inside them never matches.
strip() {
    awk '
    BEGIN { in_comment = 0 }
    {
        line = $0; out = ""; i = 1; n = length(line)
        while (i <= n) {
            c = substr(line, i, 1); c2 = substr(line, i, 2)
            if (in_comment) {
                if (c2 == "*/") { in_comment = 0; i += 2 } else { i++ }
                continue
            }
            if (c2 == "/*") { in_comment = 1; out = out " "; i += 2; continue }
            if (c2 == "//") break
            if (c == "\"" || c == "\047") {
                q = c; out = out q; i++
                while (i <= n) {
                    c = substr(line, i, 1)
                    if (c == "\\") { i += 2; continue }
                    if (c == q) break
                    i++
                }
                out = out q; i++
                continue
            }
            out = out c; i++
        }
        print NR ":" out
    }' "$1"
}

violations=0
# find_calls FILE NAMES WHY: reports each call NAME( not preceded by an identifier character,
# "." or "->" (so jpip__free( and a->free( are fine).
find_calls() {
    local f=$1 names=$2 why=$3 hit
    while IFS= read -r hit; do
        [ -n "$hit" ] || continue
        local line=${hit%%:*} text=${hit#*:} fn
        fn=$(grep -oE "(^|[^[:alnum:]_.>])($names)[[:space:]]*\(" <<<"$text" |
            sed -E 's/^[^[:alpha:]_]*//; s/[[:space:]]*\($//' | sed "s/$/()/" | paste -sd " " -)
        echo "$f:$line: $fn banned in lib/: $why" >&2
        violations=$((violations + 1))
    done < <(strip "$f" | grep -E "^[0-9]+:(.*[^[:alnum:]_.>])?($names)[[:space:]]*\(" || true)
}

nfiles=0
while IFS= read -r f; do
    nfiles=$((nfiles + 1))
    find_calls "$f" "$string_fns" "unbounded or unchecked; use the common/ buffer and cursor helpers"
    if [ "$f" != lib/common/alloc.c ]; then
        find_calls "$f" "$heap_fns" "allocate through jpip__alloc/jpip__calloc/jpip__realloc/jpip__free"
    fi
    find_calls "$f" "$output_fns" "the library never prints, exits or reads the environment"
    case "$f" in
    lib/io/*) ;;
    *) find_calls "$f" "$file_fns" "file access belongs in lib/io" ;;
    esac
done < <(find "$@" -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)

if [ $violations -ne 0 ]; then
    echo "check_banned: $violations banned call(s)" >&2
    exit 1
fi
echo "check_banned: ok ($nfiles files)"
