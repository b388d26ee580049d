#!/usr/bin/env bash
# Run every benchmark that needs no testbed and print its table.
# Usage: bench/run-all.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
echo "== simulator replay and scale run";  bench/sim-replay.sh "$build"
echo "== fidelity against CloudSim";       bench/fidelity.sh "$build"
echo "== planner against the baselines";    bench/planner.sh "$build"
echo "== page-level pre-copy simulator";   bench/precopy.sh "$build"
echo "== dedup disk transfer (local)";     bench/disksync-local.sh "$build"
