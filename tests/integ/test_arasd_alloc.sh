#!/usr/bin/env bash
# test_arasd_alloc: SLA rules -> events -> resource allocation controller, end
# to end through the real arasd (sim:// backend, 200 ms tick) and arasctl.
#   semi:   the rule fires, the event and the script's run are in the history,
#           the recommendation waits in `arasctl pending`, `arasctl approve ID`
#           runs it (the VM gets a vCPU) and the history has every step;
#   auto:   the action runs without approval;
#   manual: a recommendation is recorded and nothing runs;
#   e-mail: a rule's e-mail reaches a real SMTP receiver (aiosmtpd), if installed.
# Usage: test_arasd_alloc.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1
src=$2
arasd=$build/src/daemon/arasd
arasctl=$build/src/cli/arasctl
tmp=$(mktemp -d /tmp/aras-alloc-XXXXXX)
pid=
smtp_pid=
fails=0

cleanup() {
    for p in $pid $smtp_pid; do
        if kill -0 "$p" 2>/dev/null; then
            kill -KILL "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}
expect_in() { # expect_in TEXT NEEDLE WHAT
    if [[ $1 != *"$2"* ]]; then
        fail "$3: '$2' not in:"
        printf '%s\n' "$1" | head -20 >&2
    fi
}
wait_for() { # retry for up to 20 s
    for _ in $(seq 200); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
json() { # json PYTHON_EXPR < JSON  (the parsed reply is `j`)
    python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}

cat >"$tmp/action.sh" <<'SH'
#!/bin/sh
echo "$ARAS_RULE $ARAS_EVENT_KIND $ARAS_OBJECT" >>"$(dirname "$0")/action.log"
SH
chmod +x "$tmp/action.sh"

# start MODE [EXTRA CONFIG TEXT]
start() {
    [[ -n ${keep_history:-} ]] || rm -f "$tmp"/history.db*
    rm -f "$tmp/stdout" "$tmp/stderr" "$tmp/action.log"
    cat >"$tmp/arasd.conf" <<CONF
[daemon]
tick = 200ms
api_listen = 127.0.0.1:0
history = $tmp/history.db
log_level = info
[cluster]
uri = sim://?hosts=4&vms=8${SIM_OPTS:-}
[rule busy]
scope = ${RULE_SCOPE:-vm:vm-0001}
metric = cpu
op = >=
threshold = 0
for = 1s
actions = allocate, script:$tmp/action.sh
[allocator]
mode = $1
approval_ttl = ${TTL:-10m}
${2:-}
CONF
    "$arasd" --config "$tmp/arasd.conf" >"$tmp/stdout" 2>"$tmp/stderr" &
    pid=$!
    listening() { grep -q 'API listening on http://127.0.0.1:' "$tmp/stdout"; }
    if ! wait_for listening; then
        fail "arasd ($1) did not start"
        cat "$tmp/stderr" >&2
        exit 1
    fi
    export ARAS_API=$(sed -n 's/^arasd: API listening on \(http:[^ ]*\)$/\1/p' "$tmp/stdout")
}
stop() {
    kill -TERM "$pid"
    wait "$pid" || fail "arasd exit status $? after SIGTERM"
    pid=
}
vcpus() { "$arasctl" vms --json | json '[v["vcpus"] for v in j["vms"] if v["name"]=="vm-0001"][0]'; }
decided() { # decided STATE: a decision row in that state exists
    [[ $(sqlite3 "$tmp/history.db" "select count(*) from decisions where vm='vm-0001' and state='$1'") -ge 1 ]]
}

# --- semi-automatic: wait for an approval
start semi
has_pending() { [[ $("$arasctl" pending --json | json 'len([p for p in j["pending"] if p["state"]=="waiting"])') -ge 1 ]]; }
wait_for has_pending || fail "semi: no pending entry"
out=$("$arasctl" pending) || fail "arasctl pending exit status"
expect_in "$out" "vm-0001" "arasctl pending"
expect_in "$out" "add-vcpu" "arasctl pending"
expect_in "$out" "vCPUs -> 2" "arasctl pending detail"
expect_in "$out" "rule busy episode 1" "arasctl pending reason"
id=$("$arasctl" pending --json | json '[p["id"] for p in j["pending"] if p["state"]=="waiting"][0]')
[[ $(vcpus) == 1 ]] || fail "semi: vm-0001 grew before approval"
out=$("$arasctl" events --since 1m) || fail "arasctl events exit status"
expect_in "$out" "busy fired on vm vm-0001" "events: SLA event"
expect_in "$out" "sla_fired" "events: kind"
expect_in "$out" "decision #$id add-vcpu vm-0001: waiting (semi)" "events: decision"
script_ran() { grep -q "busy fired vm-0001" "$tmp/action.log" 2>/dev/null; }
wait_for script_ran || fail "semi: the rule's script did not run"
script_recorded() { "$arasctl" events --since 1m | grep -q "script $tmp/action.sh for busy fired on vm-0001 exited 0"; }
wait_for script_recorded || fail "semi: the script's exit status is not in the history"
out=$("$arasctl" approve "$id" --by tester) || fail "arasctl approve exit status"
expect_in "$out" "approved by tester" "arasctl approve"
grown() { [[ $(vcpus) == 2 ]]; }
wait_for grown || fail "semi: vm-0001 did not get its second vCPU after approval"
wait_for decided done || fail "semi: no 'done' decision"
for st in waiting approved done; do decided $st || fail "semi: no '$st' decision row"; done
n=$(sqlite3 "$tmp/history.db" "select count(*) from decisions where state='approved' and reason like '%approved by tester%'")
[[ $n == 1 ]] || fail "semi: the approval (by tester) is not in the history"
n=$(sqlite3 "$tmp/history.db" "select count(*) from events where kind='sla_fired' and object='vm/vm-0001' and message like 'busy fired%'")
[[ $n == 1 ]] || fail "semi: want one sla_fired event, got $n"
out=$("$arasctl" approve "$id" 2>&1)
[[ $? -eq 1 ]] || fail "approving twice should exit 1"
expect_in "$out" "HTTP 409" "approve twice"
out=$("$arasctl" reject 999 2>&1)
[[ $? -eq 1 ]] || fail "rejecting an unknown id should exit 1"
expect_in "$out" "HTTP 404" "reject unknown"
"$arasctl" approve banana 2>/dev/null
[[ $? -eq 2 ]] || fail "approve banana should exit 2"
out=$("$arasctl" pending --all)
expect_in "$out" "done" "pending --all"
expect_in "$out" "vm-0001 now has 2 vCPUs" "pending --all result"
out=$("$arasctl" events --decisions)
expect_in "$out" "approved by tester" "events --decisions"
# SIGHUP: a new rule set applies, and the log says episodes restart
sed -i 's/^\[rule busy\]/[rule busy2]/' "$tmp/arasd.conf"
kill -HUP "$pid"
reloaded() { grep -q "SLA rule(s) loaded; rule state starts afresh" "$tmp/stderr"; }
wait_for reloaded || fail "rules not reloaded on SIGHUP"
refired() { "$arasctl" events --since 1m | grep -q "busy2 fired on vm vm-0001"; }
wait_for refired || fail "the reloaded rule did not fire"
stop

# --- automatic: no approval needed (same history: ids continue after a restart)
ids() { sqlite3 "$tmp/history.db" "select reason from decisions" | sed -n 's/^\[#\([0-9]*\),.*/\1/p' | sort -n | uniq; }
last_id=$(ids | tail -1)
keep_history=1 start auto
wait_for grown || fail "auto: vm-0001 did not grow"
wait_for decided done || fail "auto: no 'done' decision"
n=$(sqlite3 "$tmp/history.db" "select count(*) from decisions where state='approved' and reason like '%automatic mode%'")
[[ $n -ge 1 ]] || fail "auto: no automatic approval in the history"
n=$(sqlite3 "$tmp/history.db" "select count(*) from decisions where state='done' and reason like '[#$((last_id + 1)), auto]%'")
[[ $n == 1 ]] || fail "auto: the queue id did not continue after the history's #$last_id"
stop

# --- manual: recommend only
start manual
wait_for decided recommended || fail "manual: no recommendation recorded"
sleep 1
[[ $(vcpus) == 1 ]] || fail "manual: vm-0001 grew"
n=$("$arasctl" pending --all --json | json 'len(j["pending"])')
[[ $n == 0 ]] || fail "manual: $n pending entries"
decided done && fail "manual: something was executed"
stop

# --- semi, nobody approves: the entry expires
TTL=1s start semi
wait_for decided expired || fail "semi: the recommendation did not expire"
n=$("$arasctl" pending --json | json 'len([p for p in j["pending"] if p["state"]=="expired"])')
[[ $n == 1 ]] || fail "semi: want one expired entry in the queue, got $n"
[[ $(vcpus) == 1 ]] || fail "semi: an expired entry ran"
stop

# --- no room to grow (High mark 0 %): migrate, on the worker thread
SIM_OPTS='&speed=100' start auto "cpu_high = 0"
host0=$("$arasctl" vms --json | json '[v["host"] for v in j["vms"] if v["name"]=="vm-0001"][0]')
wait_for decided done || fail "migrate: no 'done' decision"
sqlite3 "$tmp/history.db" "select action, reason from decisions where state='done'" | grep -q "^migrate|.*migrated vm-0001 from $host0 to host-" ||
    fail "migrate: the result is not in the history"
moved() { [[ $("$arasctl" vms --json | json '[v["host"] for v in j["vms"] if v["name"]=="vm-0001"][0]') != "$host0" ]]; }
wait_for moved || fail "migrate: vm-0001 is still on $host0"
stop

# --- an operator's migration: arasctl migrate / migrations through the API,
# one row in the history's migrations table from request to outcome
SIM_OPTS='&speed=100' start manual
vmhost() { "$arasctl" vms --json | json '[v["host"] for v in j["vms"] if v["name"]=="'"$1"'"][0]'; }
from=$(vmhost vm-0002)
to=$("$arasctl" hosts --json | json '[h["name"] for h in j["hosts"] if h["name"]!="'"$from"'"][0]')
out=$("$arasctl" migrate vm-0002 "$to" --max-downtime 300ms --by tester) || fail "arasctl migrate exit status"
expect_in "$out" "vm-0002 $from -> $to completed" "arasctl migrate"
expect_in "$out" "the VM runs once, on $to" "arasctl migrate: exactly once"
[[ $(vmhost vm-0002) == "$to" ]] || wait_for eval '[[ $(vmhost vm-0002) == "$to" ]]' || fail "migrate: vm-0002 is not on $to"
out=$("$arasctl" migrations) || fail "arasctl migrations exit status"
expect_in "$out" "operator tester" "arasctl migrations origin"
expect_in "$out" "completed" "arasctl migrations state"
row=$(sqlite3 "$tmp/history.db" "select vm, src, dst, origin, state, params from migrations")
expect_in "$row" "vm-0002|$from|$to|operator tester|completed|{\"max_downtime_ms\":300}" "history migrations row"
out=$("$arasctl" migrate vm-0002 "$to" 2>&1)
[[ $? -eq 1 ]] || fail "migrating to the VM's own host should exit 1"
expect_in "$out" "HTTP 409" "migrate to own host"
expect_in "$out" "already runs on '$to'" "migrate to own host"
out=$("$arasctl" migrate no-such-vm "$to" 2>&1)
[[ $? -eq 1 ]] || fail "migrating an unknown VM should exit 1"
expect_in "$out" "HTTP 404" "migrate unknown VM"
"$arasctl" migrate vm-0002 "$from" --parallel 1 2>/dev/null
[[ $? -eq 2 ]] || fail "migrate --parallel 1 should exit 2"
"$arasctl" migrate vm-0002 2>/dev/null
[[ $? -eq 2 ]] || fail "migrate with one operand should exit 2"
events=$("$arasctl" events --since 1m)
expect_in "$events" "migration #1 of vm-0002 $from -> $to (operator tester): queued" "events: migration queued"
expect_in "$events" "migration #1 of vm-0002 $from -> $to (operator tester): completed" "events: migration completed"
stop

# --- per-VM settings: the mode overrides the global one, limits apply, and
# tag:NAME rules match the VMs tagged so (only vm-0001 here)
RULE_SCOPE=tag:hot start semi "[vm vm-0001]
mode = auto
max_vcpus = 1
tags = hot, web"
limited() { sqlite3 "$tmp/history.db" "select reason from decisions where vm='vm-0001' and state='none'" | grep -q "limit of 1 vCPUs"; }
wait_for limited || fail "[vm] max_vcpus = 1 not honoured"
[[ $(vcpus) == 1 ]] || fail "[vm] limit: vm-0001 grew"
n=$(sqlite3 "$tmp/history.db" "select count(distinct object) from events where kind='sla_fired'")
[[ $n == 1 ]] || fail "tag:hot fired on $n objects, want 1 (vm-0001)"
stop

# --- e-mail through a real SMTP receiver
if /usr/bin/python3 -c "import aiosmtpd" 2>/dev/null; then
    mkdir -p "$tmp/mail"
    /usr/bin/python3 "$src/tests/integ/notify/smtp_receiver.py" --dir "$tmp/mail" --port-file "$tmp/smtp.port" &
    smtp_pid=$!
    have_port() { [[ -s $tmp/smtp.port ]]; }
    wait_for have_port || fail "SMTP receiver did not start"
    port=$(cat "$tmp/smtp.port")
    start manual "[email]
url = smtp://127.0.0.1:$port
from = aras@example.org
to = ops@example.org
tls = none
spool_dir = $tmp/spool
retry_base = 1s"
    sed -i 's/^actions = .*/actions = email/' "$tmp/arasd.conf"
    kill -HUP "$pid"
    mailed() { compgen -G "$tmp/mail/msg-*.eml" >/dev/null; }
    wait_for mailed || fail "e-mail: nothing delivered"
    f=$(compgen -G "$tmp/mail/msg-*.eml" | head -1)
    grep -q "Subject: \[ARAS warning\] busy fired on" "$f" 2>/dev/null || fail "e-mail: subject"
    grep -q "ops@example.org" "$tmp/mail/msg-1.json" 2>/dev/null || fail "e-mail: envelope"
    stop
    kill -TERM "$smtp_pid"
    wait "$smtp_pid" 2>/dev/null
    smtp_pid=
else
    echo "SKIP: e-mail part (python3-aiosmtpd not installed)"
fi

if [[ $fails -gt 0 ]]; then
    echo "--- arasd stderr:" >&2
    tail -30 "$tmp/stderr" >&2
    exit 1
fi
echo "ok: SLA rules, allocator modes, approvals, operator migrations, e-mail"
