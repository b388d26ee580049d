#!/usr/bin/env bash
# Run the whole test suite in the plain and the ASan+UBSan build, then the format
# check, and close with one summary line "N passed, N failed".
# Usage: scripts/check.sh BUILD_DIR SAN_BUILD_DIR
set -uo pipefail
build=${1:-build}
san=${2:-build-san}
passed=0
failed=0

# meson writes a JSON line per test to meson-logs/testlog.json; count from it so
# the totals are exact whatever meson prints.
count() {
    local log=$1/meson-logs/testlog.json
    [[ -f $log ]] || return 0
    local p f
    p=$(grep -c '"result": "OK"' "$log")
    f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log")
    passed=$((passed + p))
    failed=$((failed + f))
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0

# The libvirt/QEMU tests (unit test_libvirt_qemu, the testbed suite) need libvirtd
# and QEMU 10; install them before the first test runs, not when the testbed tests
# happen to get there, so nothing skips on a fresh machine.
if [[ $(id -u) -eq 0 ]]; then
    testbed/install.sh || echo "check: testbed/install.sh failed; libvirt/QEMU tests will skip" >&2
fi

echo "== tests (plain build: $build)"
meson test -C "$build" --print-errorlogs --num-processes 2 || true
count "$build"
echo "== tests (ASan+UBSan build: $san)"
meson test -C "$san" --print-errorlogs --num-processes 2 --no-suite slow --timeout-multiplier 3 || true
count "$san"

echo "== format check"
if scripts/format-check.sh; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
