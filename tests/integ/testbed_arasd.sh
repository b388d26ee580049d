#!/usr/bin/env bash
# Integration: arasd on the real 2-host libvirt testbed (qemu+tcp://, 2 s tick), end to end:
#  a) `arasctl hosts` shows both hosts up, `arasctl vms` the guests with their CPU use;
#  b) an SLA rule (cpu > 80 % for 10 s, actions = allocate, [allocator] mode = auto) on a
#     CPU burner with 1 of 2 vCPUs, on a host below cpu_high: arasd hot-adds a vCPU (virsh
#     sees 2 live vCPUs, the guest onlines it and keeps its heartbeat);
#  c) after a SIGHUP lowering cpu_high to 5 % (the host is "full" for the allocator), a rule
#     on a second, capped burner makes arasd live-migrate it to the other host: it runs
#     exactly once (on the destination, not defined on the source), its heartbeat goes on
#     on the destination's console, and no console shows a kernel oops;
#  d) `arasctl events` and `arasctl events --decisions` list the rule firings, the grow
#     decision and the migration with its result.
# Every testbed host shares this machine's CPUs, so each reports the same host CPU %: the
# allocator's own projection (destination CPU + the VM's demand < migrate_cpu_limit) only
# finds room on h2 for a VM that does not use a whole core, hence the second burner is
# capped at 25 % of its vCPU (vcpu_quota) and the first one is stopped before (c).
# Needs root; uses testbed instance ARAS_TESTBED_ID (default 1). Exit 77 (skip) when not
# root or the testbed packages cannot be installed.
set -euo pipefail

export ARAS_TESTBED_ID=${ARAS_TESTBED_ID:-1}
TB_TEST=testbed_arasd
# shellcheck source=tests/integ/testbed_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testbed_lib.sh"
build=${ARAS_BUILD_DIR:-$src/build}
arasd=$build/src/daemon/arasd
arasctl=$build/src/cli/arasctl

if [[ $(id -u) -ne 0 ]]; then
    echo "$TB_TEST: SKIP: needs root"
    exit 77
fi
[[ -x $arasd && -x $arasctl ]] || tb_fail "arasd/arasctl not built in $build"
if ! "$src/testbed/install.sh"; then
    echo "$TB_TEST: SKIP: testbed/install.sh could not install the testbed packages"
    exit 77
fi

tmp=$(mktemp -d /tmp/aras-tbarasd-XXXXXX)
pid=

cleanup() {
    local rc=$?
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 ]]; then
        "$tb" status || true
        echo "--- arasd stderr (last 40 lines)"
        tail -40 "$tmp/stderr" 2>/dev/null || true
        for g in tb-burn tb-mig; do
            f=$("$tb" console "$g" 2>/dev/null) && { echo "--- console $g ($f)"; tail -8 "$f"; }
        done
    fi
    "$tb" down || true
    rm -rf "$tmp"
    tb_log "done (exit $rc)"
}
trap cleanup EXIT

expect_in() { # expect_in TEXT NEEDLE WHAT
    if [[ $1 != *"$2"* ]]; then
        printf '%s\n' "$1" | tail -30
        tb_fail "$3: '$2' not in the output above"
    fi
}
json() { # json PYTHON_EXPR < JSON  (the parsed reply is `j`)
    python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}

"$tb" up 2
h1=$("$tb" addr h1)
h2=$("$tb" addr h2)
u1=$("$tb" uri h1)
u2=$("$tb" uri h2)
tb_log "2 hosts up: h1 $h1, h2 $h2"

# tb-burn: CPU burner, 1 vCPU of at most 2. tb-mig: CPU burner capped at 25 % of its vCPU.
tb_guest_start h1 tb-burn --mem 160 --vcpus 1 --max-vcpus 2 --workload cpu
tb_guest_start h1 tb-mig --mem 160 --vcpus 1 --workload cpu
virsh -q -c "$u1" schedinfo tb-mig --live vcpu_period=100000 vcpu_quota=25000 >/dev/null ||
    tb_fail "capping tb-mig's vCPU failed"
tb_log "guests booted on h1"

# conf RULE_SECTION CPU_HIGH: arasd's configuration file.
conf() {
    cat >"$tmp/arasd.conf" <<CONF
[daemon]
tick = 2s
api_listen = 127.0.0.1:0
history = $tmp/history.db
log_level = info
[cluster]
uri = $u1
uri = $u2
[allocator]
mode = auto
cpu_high = $2
# Both hosts report this machine's CPU: leave the destination room for the VM's demand.
migrate_cpu_limit = 95
$1
CONF
}
conf "[rule burn-hot]
scope = vm:tb-burn
metric = cpu
op = >
threshold = 80
for = 10s
cooldown = 10m
actions = allocate" 95
"$arasd" --config "$tmp/arasd.conf" >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
listening() { grep -q 'API listening on http://127.0.0.1:' "$tmp/stdout"; }
tb_wait_for 20 "arasd's API" listening
ARAS_API=$(sed -n 's/^arasd: API listening on \(http:[^ ]*\)$/\1/p' "$tmp/stdout")
export ARAS_API
tb_log "arasd (pid $pid) listening on $ARAS_API"

# --- a) monitoring: both hosts up, the guests with their CPU use.
hosts_up() {
    [[ $("$arasctl" hosts --json | json 'sorted(h["name"] for h in j["hosts"] if h["up"])') == \
        "['$h1', '$h2']" ]]
}
tb_wait_for 30 "arasctl hosts: both hosts up" hosts_up
vm_field() { # vm_field VM FIELD: FIELD of VM in `arasctl vms --json` (None if absent)
    "$arasctl" vms --json | json "next((v['$2'] for v in j['vms'] if v['name'] == '$1'), None)"
}
vms_measured() {
    local b m
    b=$(vm_field tb-burn cpu_pct)
    m=$(vm_field tb-mig cpu_pct)
    [[ $b != None && $m != None ]] &&
        awk -v b="$b" -v m="$m" 'BEGIN { exit !(b > 80 && m > 10 && m < 40) }'
}
tb_wait_for 30 "arasctl vms: tb-burn above 80 % CPU, tb-mig 10-40 %" vms_measured
out=$("$arasctl" hosts)
printf '%s\n' "$out"
expect_in "$out" "2 of 2 up" "arasctl hosts"
out=$("$arasctl" vms)
printf '%s\n' "$out"
for g in tb-burn tb-mig; do
    grep -Eq "^ *$g +$h1 +running +1 " <<<"$out" || tb_fail "arasctl vms: no '$g $h1 running 1' row"
done
tb_log "a) monitored: tb-burn $(vm_field tb-burn cpu_pct) % CPU, tb-mig $(vm_field tb-mig cpu_pct) %, host $("$arasctl" hosts --json | json "[h['cpu_pct'] for h in j['hosts'] if h['name'] == '$h1'][0]") %"

# --- b) the rule fires and the allocator hot-adds a vCPU.
live_vcpus() { virsh -q -c "$u1" vcpucount tb-burn --live --active; }
[[ $(live_vcpus) == 1 ]] || tb_fail "tb-burn does not start with 1 live vCPU"
two_vcpus() { [[ $(live_vcpus) == 2 ]]; }
tb_wait_for 60 "tb-burn getting its second vCPU from arasd" two_vcpus
tb_log "b) virsh: tb-burn has $(live_vcpus) live vCPUs"
tb_wait_heartbeat tb-burn 30 ' cpus=2 '
"$tb" guest-ok tb-burn || tb_fail "tb-burn unhealthy after the vCPU hot-add"
arasd_sees_two() { [[ $(vm_field tb-burn vcpus) == 2 ]]; }
tb_wait_for 10 "arasctl vms: tb-burn with 2 vCPUs" arasd_sees_two

# With 2 busy vCPUs tb-burn would fill both cores of this machine (and so, for the
# allocator, every host): stop it before the migration.
con_burn=$("$tb" console tb-burn)
virsh -q -c "$u1" destroy tb-burn >/dev/null || tb_fail "destroying tb-burn failed"

# --- c) cpu_high 5 %: h1 is full for the allocator, which migrates tb-mig to h2.
conf "[rule mig-hot]
scope = vm:tb-mig
metric = cpu
op = >
threshold = 15
for = 10s
cooldown = 10m
actions = allocate" 5
kill -HUP "$pid"
reloaded() { grep -q 'SIGHUP: reloaded' "$tmp/stderr"; }
tb_wait_for 10 "arasd reloading its configuration" reloaded
hb_h1=$(tb_hb_counter tb-mig)
con_h1=$("$tb" console tb-mig)
tb_log "c) reloaded with cpu_high = 5; tb-mig heartbeat on h1 at $hb_h1"
migrated() {
    "$arasctl" migrations --json |
        json "'yes' if any(m['vm'] == 'tb-mig' and m['state'] == 'completed' for m in j['migrations']) else ''" |
        grep -q yes
}
tb_wait_for 90 "arasd migrating tb-mig" migrated
tb_log "c) arasd reports the migration completed"
tb_check_once tb-mig h2 h1
hb_last_h1=$(grep -a '^ARAS-HB ' "$con_h1" | tail -1 | awk '{ print $2 }')
con_h2=$("$tb" console tb-mig)
[[ $con_h2 != "$con_h1" && -s $con_h2 ]] || tb_fail "tb-mig's console is not on h2: $con_h2"
tb_wait_heartbeat tb-mig 30 "^[0-9]+ .* host=h2 "
after=$(tb_hb_counter tb-mig)
((after > hb_last_h1)) || tb_fail "tb-mig's heartbeat on h2 ($after) did not continue past h1's last ($hb_last_h1)"
"$tb" guest-ok tb-mig || tb_fail "tb-mig unhealthy after the migration"
tb_check_once tb-mig h2 h1
tb_log "c) tb-mig runs once, on h2; heartbeat h1 last $hb_last_h1 -> h2 $(tb_hb_counter tb-mig)"
# (guest-ok checked tb-mig's consoles on every host; tb-burn's is left on h1)
grep -a -E 'Oops|BUG:|Kernel panic|general protection fault' "$con_burn" &&
    tb_fail "tb-burn's console shows a kernel error"
n=$("$arasctl" migrations --json | json "len(j['migrations'])")
[[ $n == 1 ]] || tb_fail "want exactly one migration, arasd lists $n"

# --- d) the history: rule firings, decisions, the migration and its result.
events=$("$arasctl" events --since 10m --limit 1000)
grep -E ' (sla_fired|decision|migration) ' <<<"$events" || true
expect_in "$events" "burn-hot fired on vm tb-burn" "events: burn-hot firing"
expect_in "$events" "add-vcpu tb-burn: done (auto)" "events: the grow decision"
expect_in "$events" "vCPUs 1 -> 2 (rule burn-hot episode 1)" "events: the grow decision's reason"
expect_in "$events" "mig-hot fired on vm tb-mig" "events: mig-hot firing"
expect_in "$events" "migrate tb-mig: approved (auto) host $h1 CPU" "events: the migrate decision"
expect_in "$events" "migrate to $h2" "events: the migrate decision's target"
expect_in "$events" "migration #1 of tb-mig $h1 -> $h2 (allocator #" "events: the migration"
expect_in "$events" "completed: migrated tb-mig from $h1 to $h2 in" "events: the migration's result"
expect_in "$events" "the VM runs once, on $h2" "events: exactly once"
decisions=$("$arasctl" events --decisions --since 10m --limit 1000)
printf '%s\n' "$decisions"
grep -Eq "tb-burn +add-vcpu +done +.*tb-burn now has 2 vCPUs" <<<"$decisions" ||
    tb_fail "events --decisions: no 'tb-burn add-vcpu done ... now has 2 vCPUs' row"
grep -Eq "tb-mig +migrate +running +.*live migration #1 started" <<<"$decisions" ||
    tb_fail "events --decisions: no 'tb-mig migrate running' row"
grep -Eq "tb-mig +migrate +done +.*migrated tb-mig from $h1 to $h2 .*the VM runs once, on $h2" \
    <<<"$decisions" || tb_fail "events --decisions: no 'tb-mig migrate done' row with the result"
tb_log "d) events and decisions in the history"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[[ $rc == 0 ]] || tb_fail "arasd exit status $rc after SIGTERM"
tb_log "PASS"
