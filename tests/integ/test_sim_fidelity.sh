#!/usr/bin/env bash
# Fidelity test: every reference policy on every PlanetLab day present must land
# within the tolerances of CloudSim 3.0.3's results (see bench/fidelity.sh).
# Usage: test_sim_fidelity.sh BUILD_DIR. Skips (77) without ../shared/reference.
set -euo pipefail
src=${ARAS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
exec "$src/bench/fidelity.sh" "${1:?usage: test_sim_fidelity.sh BUILD_DIR}" --check
