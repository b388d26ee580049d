# shellcheck shell=bash
# testbed_lib.sh: helpers for the testbed integration tests (sourced, not run):
# logging with elapsed time, waiting for a condition with a timeout, starting a
# guest and waiting for its heartbeat, and the "exactly once" placement check.
#
# The sourcing script sets TB_TEST (its name, for log lines) before sourcing; the
# library sets `tb` (testbed/testbed.sh) and `src` (the source tree) unless they
# are set already. tb_fail exits 1, so the caller's EXIT trap tears the testbed down.

src=${src:-${ARAS_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}}
tb=${tb:-$src/testbed/testbed.sh}
tb_t0=$(date +%s%3N)

tb_log() { echo "${TB_TEST:-testbed}: [$(($(date +%s%3N) - tb_t0)) ms] $*"; }
tb_fail() {
    tb_log "FAIL: $*"
    exit 1
}

# Milliseconds since the library was sourced.
tb_elapsed_ms() { echo $(($(date +%s%3N) - tb_t0)); }

# tb_wait_for TIMEOUT_S WHAT CMD...: run CMD every 0.5 s until it succeeds; fail
# naming WHAT when it has not within TIMEOUT_S seconds. CMD's output is discarded.
tb_wait_for() {
    local timeout=$1 what=$2 t0
    shift 2
    t0=$(date +%s)
    while ! "$@" >/dev/null 2>&1; do
        (($(date +%s) - t0 < timeout)) || tb_fail "$what: not within $timeout s"
        sleep 0.5
    done
}

# tb_guest_start HOST NAME [guest-create OPTIONS...]: start a guest and wait (up to
# 120 s) for its first heartbeat.
tb_guest_start() {
    local host=$1 name=$2
    shift 2
    "$tb" guest-create "$host" "$name" "$@" --wait 120 || tb_fail "guest $name did not boot on $host"
}

# Guest NAME's last heartbeat counter (-1 if none yet).
tb_hb_counter() {
    local hb
    hb=$("$tb" heartbeat "$1" 2>/dev/null) || {
        echo -1
        return 0
    }
    echo "${hb%% *}"
}

# tb_wait_heartbeat NAME TIMEOUT_S PATTERN: wait until NAME's heartbeat line
# ("COUNTER up=S cpus=N ... host=hI age_s=S") matches the extended regex PATTERN.
tb_wait_heartbeat() {
    local name=$1 timeout=$2 pattern=$3 t0 hb=""
    t0=$(date +%s)
    while (($(date +%s) - t0 < timeout)); do
        hb=$("$tb" heartbeat "$name" 2>/dev/null || true)
        [[ -n $hb && $hb =~ $pattern ]] && return 0
        sleep 0.5
    done
    tb_fail "$name: no heartbeat matching '$pattern' within $timeout s (last: ${hb:-none})"
}

# tb_check_once NAME ON OFF: NAME runs on host ON and is not defined at all on host
# OFF (neither running nor a leftover definition).
tb_check_once() {
    local name=$1 on=$2 off=$3 names
    [[ $(virsh -q -c "$("$tb" uri "$on")" domstate "$name" 2>/dev/null) == running ]] ||
        tb_fail "$name is not running on $on"
    names=$(virsh -q -c "$("$tb" uri "$off")" list --all --name) || tb_fail "virsh list on $off failed"
    if grep -qx "$name" <<<"$names"; then
        tb_fail "$name is still defined on $off"
    fi
}
