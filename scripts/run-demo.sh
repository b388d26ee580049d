#!/usr/bin/env bash
# Start arasd in the foreground on the embedded simulated cluster (make run).
# Usage: scripts/run-demo.sh BUILD_DIR
# Writes var/arasd-demo.conf (var/ is not tracked), keeps the history in
# var/aras/history.db, and stops cleanly on Ctrl-C (SIGINT).
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
arasd=$build/src/daemon/arasd
arasctl=$build/src/cli/arasctl
if [[ ! -x $arasd ]]; then
    echo "run-demo: $arasd is not built (run 'make build' or 'ninja -C $build')" >&2
    exit 1
fi
listen=${ARAS_DEMO_LISTEN:-127.0.0.1:8470}
mkdir -p var/aras
conf=var/arasd-demo.conf
cat >"$conf" <<CONF
# Written by scripts/run-demo.sh; see etc/arasd.conf for every key.
[daemon]
tick = 10s
api_listen = $listen
history = var/aras/history.db
log_level = info

[cluster]
uri = sim://
CONF

cat <<MSG
== arasd on the simulated cluster (config: $conf)
   API:     http://$listen   (REST: /api/v1/status, /api/v1/hosts, /api/v1/vms,
                              /api/v1/events; Prometheus: /metrics)
   Query it from another terminal:
       $arasctl status
       $arasctl hosts
       $arasctl vms --host HOST
       $arasctl events --since 10m
MSG
[[ $listen == 127.0.0.1:8470 ]] || echo "   First: export ARAS_API=http://$listen"
cat <<MSG
   Stop with Ctrl-C.
MSG
exec "$arasd" --config "$conf" --foreground
