#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Install the Debian 12 packages the build, the tests and the tools need, if any are missing.
# Fast when everything is present (one dpkg-query call, no network). As root it runs
# `apt-get update` once and installs what is missing; otherwise it prints the command and fails.
# Set JPIP_SKIP_DEPS=1 to skip the check (e.g. on a machine that is not Debian).
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    clang libclang-rt-14-dev       # libFuzzer and the sanitizer runtimes for clang
    clang-format                   # make lint
    libopenjp2-7-dev libopenjp2-tools
    grokj2k-tools                  # HTJ2K test files
    libmicrohttpd-dev libcurl4-openssl-dev libpng-dev libsdl2-dev
    xvfb haproxy curl
)

if [ "${JPIP_SKIP_DEPS:-0}" = 1 ]; then
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: not a Debian system; make sure the equivalents of these are installed:" >&2
    echo "  ${packages[*]}" >&2
    exit 0
fi

# One query for all packages. Unknown packages make dpkg-query exit non-zero and print nothing
# for them on stdout, so the list of installed ones is what we compare against.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${packages[@]}" 2>/dev/null |
    awk '$2 == "ii" { print $1 }' || true)

missing=()
for p in "${packages[@]}"; do
    if ! grep -qx -- "$p" <<<"$installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]}" >&2
    echo "deps.sh: run as root:  apt-get update && $cmd" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends "${missing[@]}"
