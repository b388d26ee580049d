#!/usr/bin/env bash
# Install the Debian packages ARAS needs to build and test, only those missing.
# Usage: scripts/install-deps.sh [extra-package...]
# Runs as root (apt-get); prints nothing when everything is already there.
set -euo pipefail

build_pkgs=(
    build-essential pkg-config meson ninja-build clang libclang-rt-14-dev clang-format
    libvirt-dev libsqlite3-dev libjansson-dev libmicrohttpd-dev libinih-dev
    libcurl4-openssl-dev libzstd-dev libssl-dev
    libvirt-daemon libvirt-clients sqlite3 curl python3
    libsnmp-dev snmp snmptrapd python3-aiosmtpd openssl
    libnbd-dev qemu-utils rsync
)
pkgs=("${build_pkgs[@]}" "$@")

missing=()
for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Only refresh the package lists when a package is not known at all.
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/aras-apt.log 2>&1; then
    apt-get update >>/tmp/aras-apt.log 2>&1
    apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/aras-apt.log 2>&1 || {
        echo "install-deps: apt-get failed; see /tmp/aras-apt.log" >&2
        tail -20 /tmp/aras-apt.log >&2
        exit 1
    }
fi
