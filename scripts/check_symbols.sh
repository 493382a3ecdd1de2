#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Symbol hygiene of the libraries:
#   1. every global symbol defined in libjpip_internal.a starts with jpip_ (public) or jpip__
#      (internal), so the static library cannot clash with its users;
#   2. the shared libjpip.so exports only public jpip_ names (never jpip__), and each of them is
#      declared in include/jpip/.
# Usage: scripts/check_symbols.sh [BUILD_DIR | path/to/libjpip_internal.a]
#   BUILD_DIR (default: build-lint) is configured if needed and the two libraries are built in
#   it; given a .a path, nothing is built and libjpip.so is looked for beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

arg=${1:-build-lint}
if [[ "$arg" == *.a ]]; then
    archive=$arg
    build_dir=$(dirname "$arg")
else
    build_dir=$arg
    if [ ! -f "$build_dir/CMakeCache.txt" ]; then
        cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    cmake --build "$build_dir" -j"${JOBS:-2}" --target jpip_internal jpip >/dev/null
    archive=$build_dir/libjpip_internal.a
fi
shared=$build_dir/libjpip.so

[ -f "$archive" ] || { echo "check_symbols: $archive not found" >&2; exit 1; }
NM=${NM:-nm}
status=0

# 1. The static library: lines are "VALUE TYPE NAME" (member headers and blanks are skipped).
bad=$("$NM" -g --defined-only "$archive" | awk 'NF == 3 && $3 !~ /^jpip_/ { print $3 }' | sort -u)
if [ -n "$bad" ]; then
    echo "check_symbols: global symbols in $(basename "$archive") without the jpip_ prefix" \
        "(make them static, or name them jpip__<module>_...):" >&2
    sed 's/^/  /' <<<"$bad" >&2
    status=1
fi
count=$("$NM" -g --defined-only "$archive" | awk 'NF == 3' | wc -l)

# 2. The shared library's dynamic exports. The linker adds a few bookkeeping symbols.
if [ -f "$shared" ]; then
    exports=$("$NM" -D --defined-only "$shared" |
        awk 'NF == 3 && $3 !~ /^(_init|_fini|_edata|_end|__bss_start)$/ { print $3 }' |
        sed 's/@.*//' | sort -u)
    bad=$(grep -vE '^jpip_[^_]' <<<"$exports" || true)
    if [ -n "$bad" ]; then
        echo "check_symbols: libjpip.so exports non-public symbols (only jpip_*, never jpip__*;" \
            "mark internal functions without JPIP_API):" >&2
        sed 's/^/  /' <<<"$bad" >&2
        status=1
    fi
    undeclared=""
    while IFS= read -r sym; do
        [ -n "$sym" ] || continue
        grep -qE "(^|[^[:alnum:]_])$sym[[:space:]]*\(" include/jpip/*.h ||
            undeclared="$undeclared  $sym"$'\n'
    done <<<"$(grep -E '^jpip_[^_]' <<<"$exports" || true)"
    if [ -n "$undeclared" ]; then
        echo "check_symbols: libjpip.so exports symbols not declared in include/jpip/:" >&2
        printf '%s' "$undeclared" >&2
        status=1
    fi
    nexports=$(grep -c . <<<"$exports" || true)
else
    echo "check_symbols: $shared not found" >&2
    status=1
fi

if [ $status -eq 0 ]; then
    echo "check_symbols: ok ($count symbols in $(basename "$archive"), $nexports exported by libjpip.so)"
fi
exit $status
