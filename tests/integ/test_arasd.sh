#!/usr/bin/env bash
# test_arasd: the real arasd and arasctl end to end. Starts arasd with a temp
# config on an ephemeral loopback port against URI, waits for its API, checks
# every arasctl daemon command, reloads a broken and then a good config with
# SIGHUP, stops it with SIGTERM (exit 0) and removes everything it made.
# Usage: test_arasd.sh BUILD_DIR URI EXPECTED_HOSTS [EXPECTED_MIN_VMS]
set -uo pipefail
build=$1
uri=$2
want_hosts=$3
want_vms=${4:-1}
arasd=$build/src/daemon/arasd
arasctl=$build/src/cli/arasctl
tmp=$(mktemp -d /tmp/aras-integ-XXXXXX)
pid=
fails=0

cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}
# expect_in TEXT NEEDLE WHAT
expect_in() {
    if [[ $1 != *"$2"* ]]; then
        fail "$3: '$2' not in:"
        printf '%s\n' "$1" | head -20 >&2
    fi
}
# wait_for COMMAND... : retry for up to 20 s
wait_for() {
    for _ in $(seq 200); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

write_conf() { # write_conf TICK [EXTRA_LINE]
    cat >"$tmp/arasd.conf" <<CONF
[daemon]
tick = $1
api_listen = 127.0.0.1:0
history = $tmp/var/history.db
pid_file = $tmp/arasd.pid
log_level = info
${2:-}
[cluster]
uri = $uri
CONF
}

# --- usage and start-up errors
out=$("$arasd" --help) || fail "arasd --help exit status"
expect_in "$out" "--config FILE" "arasd --help"
out=$("$arasd" --version) || fail "arasd --version exit status"
expect_in "$out" "arasd " "arasd --version"
"$arasd" --bogus 2>/dev/null
[[ $? -eq 2 ]] || fail "arasd --bogus should exit 2"
printf '[daemon]\ntick = 10 parsecs\n' >"$tmp/bad.conf"
out=$("$arasd" --config "$tmp/bad.conf" 2>&1)
[[ $? -eq 1 ]] || fail "arasd with a bad config should exit 1"
expect_in "$out" "$tmp/bad.conf:2: [daemon] tick:" "start-up config error"

# --- start
write_conf 1s
"$arasd" --config "$tmp/arasd.conf" >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
listening() { grep -q 'API listening on http://127.0.0.1:' "$tmp/stdout"; }
if ! wait_for listening; then
    fail "arasd did not report its API address"
    cat "$tmp/stderr" >&2
    exit 1
fi
api=$(sed -n 's/^arasd: API listening on \(http:[^ ]*\)$/\1/p' "$tmp/stdout")
export ARAS_API=$api
[[ -f $tmp/arasd.pid && $(cat "$tmp/arasd.pid") == "$pid" ]] || fail "pid file"

# rates need two ticks
two_ticks() {
    "$arasctl" status --json 2>/dev/null |
        python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["ticks"] >= 2 else 1)'
}
wait_for two_ticks || fail "arasd did not tick twice"

out=$("$arasctl" status) || fail "arasctl status exit status"
expect_in "$out" "API:        $api" "arasctl status"
expect_in "$out" "$uri" "arasctl status"
expect_in "$out" "hosts:      $want_hosts (" "arasctl status"

out=$("$arasctl" hosts) || fail "arasctl hosts exit status"
expect_in "$out" " Name " "arasctl hosts header"
expect_in "$out" "$want_hosts host" "arasctl hosts footer"
n=$("$arasctl" hosts --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["hosts"]))')
[[ $n == "$want_hosts" ]] || fail "arasctl hosts --json: $n hosts, want $want_hosts"

vms_json=$("$arasctl" vms --json) || fail "arasctl vms --json"
n=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vms"]))' <<<"$vms_json")
[[ $n -ge $want_vms ]] || fail "arasctl vms: $n VMs, want at least $want_vms"
vm=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["vms"][0]["name"])' <<<"$vms_json")
host=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["vms"][0]["host"])' <<<"$vms_json")
out=$("$arasctl" vms) || fail "arasctl vms exit status"
expect_in "$out" " $vm " "arasctl vms"
out=$("$arasctl" vms --host "$host") || fail "arasctl vms --host exit status"
expect_in "$out" " $vm " "arasctl vms --host"
out=$("$arasctl" vms --host no-such-host)
expect_in "$out" "0 VMs" "arasctl vms --host no-such-host"

out=$("$arasctl" events --since 10m --limit 50) || fail "arasctl events exit status"
expect_in "$out" "arasd started" "arasctl events"
expect_in "$out" "monitoring $want_hosts hosts" "arasctl events"
"$arasctl" events --since yesterday 2>/dev/null
[[ $? -eq 2 ]] || fail "arasctl events --since yesterday should exit 2"
out=$(curl -s "$api/metrics")
expect_in "$out" "aras_hosts $want_hosts" "/metrics"
out=$(curl -s "$api/api/v1/nope")
expect_in "$out" '"status":404' "404 JSON"

# --- SIGHUP with a broken config: keeps running, logs file:line
write_conf 1s "colour = blue"
kill -HUP "$pid"
broken_logged() { grep -q "arasd.conf:7: \[daemon\] colour: unknown key" "$tmp/stderr"; }
wait_for broken_logged || fail "broken config on SIGHUP not logged with file:line"
grep -q "keeping the running configuration" "$tmp/stderr" || fail "no 'keeping' message"
kill -0 "$pid" 2>/dev/null || fail "arasd died on a broken config"
"$arasctl" status >/dev/null || fail "API gone after a broken reload"

# --- SIGHUP with a good config: applied; a restart-only change is named
write_conf 2s
sed -i 's|^uri = .*|uri = test:///other|' "$tmp/arasd.conf"
kill -HUP "$pid"
reloaded() { grep -q "SIGHUP: reloaded" "$tmp/stderr"; }
wait_for reloaded || fail "good config not reloaded"
grep -q "\[cluster\] uri changed; restart arasd" "$tmp/stderr" || fail "uri change not reported"
new_tick() { "$arasctl" status --json | grep -q '"tick_ms":2000'; }
wait_for new_tick || fail "tick not applied on reload"

# --- SIGTERM: clean exit 0, pid file removed
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[[ $rc -eq 0 ]] || fail "arasd exit status after SIGTERM: $rc"
grep -q "shutting down" "$tmp/stderr" || fail "no shutdown log line"
[[ ! -e $tmp/arasd.pid ]] || fail "pid file left behind"
out=$("$arasctl" status 2>&1)
[[ $? -eq 1 ]] || fail "arasctl status without arasd should exit 1"
expect_in "$out" "cannot reach arasd at $api" "arasctl status without arasd"
expect_in "$out" "is arasd running?" "arasctl status without arasd"

# the history survived: events of this run, including the stop
n=$(sqlite3 "$tmp/var/history.db" "select count(*) from events where kind in ('start','stop')" 2>/dev/null || echo 0)
[[ $n == 2 ]] || fail "history: want start and stop events, got $n"

if [[ $fails -gt 0 ]]; then
    echo "--- arasd stderr:" >&2
    tail -30 "$tmp/stderr" >&2
    exit 1
fi
echo "ok: arasd on $uri ($want_hosts hosts)"
