#!/usr/bin/env bash
# Exact-capture test of aras-dirtytrace: trace `writer` (known private, MAP_SHARED,
# first-touch, read-only and forked-child writes) and compare page by page.
# Usage: test_dirtytrace.sh BUILD_DIR. Exit 77 (skip) without root or Linux >= 6.7.
set -euo pipefail
build=$1
dt=$build/tools/dirtytrace/aras-dirtytrace
dir=$build/tests/integ/dirtytrace
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (ptrace + userfaultfd in the target)"; exit 77; }
read -r major minor _ < <(uname -r | tr '.-' '  ')
if (( major < 6 || (major == 6 && minor < 7) )); then
    echo "SKIP: kernel $(uname -r) lacks UFFD_FEATURE_WP_ASYNC / PAGEMAP_SCAN (needs >= 6.7)"
    exit 77
fi
tmp=$(mktemp -d /tmp/aras-dirtytrace-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if ! "$dt" --tree --interval 50ms --duration 20s --out "$tmp/t.trace" \
        --index-out "$tmp/index" -- "$dir/writer" "$tmp/info" 2>"$tmp/err"; then
    cat "$tmp/err"
    if grep -q "kernel lacks" "$tmp/err"; then
        echo "SKIP: $(grep -o 'kernel lacks.*' "$tmp/err" | head -1)"
        exit 77
    fi
    exit 1
fi
"$dir/check_capture" "$tmp/t.trace" "$tmp/index" "$tmp/info"
