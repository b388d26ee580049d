#!/usr/bin/env bash
# Integration: the testbed brings up two libvirt hosts, boots an idle and a memory-dirtying
# guest on h1, live-migrates both to h2 (p2p), hot-adds a vCPU, and checks after every
# step that each guest runs exactly once with an advancing heartbeat and a clean console.
# Needs root; takes over the machine's testbed (whatever is up is taken down first and at
# the end). Exit 77 (skip) when not root or the testbed packages cannot be installed.
set -euo pipefail

src=${ARAS_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
tb=$src/testbed/testbed.sh
t_start=$(date +%s%3N)

log() { echo "testbed_smoke: [$(($(date +%s%3N) - t_start)) ms] $*"; }
fail() {
    log "FAIL: $*"
    exit 1
}

if [[ $(id -u) -ne 0 ]]; then
    echo "testbed_smoke: SKIP: needs root"
    exit 77
fi
if ! "$src/testbed/install.sh"; then
    echo "testbed_smoke: SKIP: testbed/install.sh could not install the testbed packages"
    exit 77
fi

cleanup() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        "$tb" status || true
        for g in tb-idle tb-mem; do
            f=$("$tb" console "$g" 2>/dev/null) && { echo "--- console $g ($f)"; tail -15 "$f"; }
        done
    fi
    "$tb" down || true
    log "done (exit $rc)"
}
trap cleanup EXIT

# Wait up to $2 s for guest $1's heartbeat line to match the pattern $3.
wait_heartbeat() {
    local name=$1 timeout=$2 pattern=$3 t0 hb
    t0=$(date +%s)
    while (($(date +%s) - t0 < timeout)); do
        hb=$("$tb" heartbeat "$name" 2>/dev/null || true)
        [[ -n $hb && $hb =~ $pattern ]] && return 0
        sleep 0.5
    done
    fail "$name: no heartbeat matching '$pattern' within $timeout s (last: ${hb:-none})"
}

# Exactly one running copy, on host $2: absent from the other host's list.
check_placement() {
    local name=$1 on=$2 off=$3
    [[ $(virsh -q -c "$("$tb" uri "$on")" domstate "$name" 2>/dev/null) == running ]] ||
        fail "$name is not running on $on"
    local names
    names=$(virsh -q -c "$("$tb" uri "$off")" list --all --name) || fail "virsh list on $off failed"
    if grep -qx "$name" <<<"$names"; then
        fail "$name still listed on $off"
    fi
}

"$tb" up 2
log "2 hosts up"
"$tb" guest-create h1 tb-idle --workload idle
"$tb" guest-create h1 tb-mem --workload mem:20 --vcpus 1 --max-vcpus 2
wait_heartbeat tb-idle 120 '^[0-9]+ '
wait_heartbeat tb-mem 120 '^[0-9]+ '
log "guests booted"
for g in tb-idle tb-mem; do
    "$tb" guest-ok "$g" || fail "$g unhealthy before migration"
    check_placement "$g" h1 h2
done

u1=$("$tb" uri h1)
u2=$("$tb" uri h2)
for g in tb-idle tb-mem; do
    virsh -c "$u1" migrate --live --p2p --timeout 120 "$g" "$u2" ||
        fail "migration of $g failed"
    info=$(virsh -c "$u2" domjobinfo "$g" --completed 2>/dev/null |
        awk -F: '/Time elapsed:|Total downtime:|Data processed:/ { gsub(/  +/, " "); printf "%s:%s;", $1, $2 }')
    log "migrated $g h1 -> h2: $info"
done
for g in tb-idle tb-mem; do
    check_placement "$g" h2 h1
    "$tb" guest-ok "$g" || fail "$g unhealthy after migration"
done

virsh -c "$u2" setvcpus tb-mem 2 --live || fail "setvcpus --live 2 failed"
wait_heartbeat tb-mem 30 ' cpus=2 '
log "tb-mem sees 2 vCPUs"
for g in tb-idle tb-mem; do
    "$tb" guest-ok "$g" || fail "$g unhealthy at the end"
done
log "PASS"
