#!/usr/bin/env bash
# sim-replay: how fast ARAS's simulator replays a PlanetLab day, beside CloudSim.
#
#  1. LR-MMT-1.2 on the bundled day 20110303 (800 hosts, 1052 VMs), best of N runs:
#     process wall time, CPU time and peak RSS, and the ratio to CloudSim 3.0.3's
#     figure on this machine class (26.7 s CPU, 2.0 GB peak RSS).
#     Targets: >= 100x faster, i.e. <= 0.25 s and <= 64 MB.
#  2. Scale: 1,000 hosts and 20,000 VMs built from the same traces (VM i follows
#     trace i mod 1052; types in quarters as usual) on "large" hosts (16 x 2660
#     MIPS, 64 GB, 10 Gbit/s: 20,000 VMs do not fit on 800 ML110s), LR-MMT-1.2:
#     planning time per 300 s tick (CPU time of the planning thread, and wall)
#     and peak RSS. Targets: <= 20 ms per tick, <= 200 MB.
#
# Usage: bench/sim-replay.sh [BUILD_DIR] [RUNS]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
runs=${2:-5}
[[ $build = /* ]] || build=$src/$build
arasctl=$build/src/cli/arasctl
[[ -x $arasctl ]] || { echo "sim-replay: $arasctl not built" >&2; exit 1; }

json() { python3 -c "import json,sys; r=json.load(sys.stdin); print(*(r[k] for k in sys.argv[1:]))" "$@"; }

best_wall=999 best_cpu=999 best_rss=0
for ((i = 0; i < runs; i++)); do
    read -r w c rss < <("$arasctl" simulate --policy lr-mmt-1.2 --json | json total_wall_s cpu_s peak_rss_kib)
    if python3 -c "import sys; sys.exit(0 if $w < $best_wall else 1)"; then
        best_wall=$w best_cpu=$c best_rss=$rss
    fi
done
python3 - "$best_wall" "$best_cpu" "$best_rss" "$runs" <<'PY'
import sys
wall, cpu, rss, runs = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cs_cpu, cs_rss_mb = 26.7, 2.0 * 1024
mb = rss / 1024
print(f"replay 20110303, lr-mmt-1.2 (best of {runs}): {wall:.3f} s wall, {cpu:.3f} s CPU, "
      f"peak RSS {mb:.1f} MB")
print(f"  vs CloudSim 3.0.3 (26.7 s CPU, 2.0 GB): {cs_cpu / wall:.0f}x faster (wall), "
      f"{cs_cpu / cpu:.0f}x less CPU, {cs_rss_mb / mb:.0f}x less memory")
import os
load, ncpu = os.getloadavg()[0], os.cpu_count()
print(f"  target <= 0.25 s and <= 64 MB: wall {'met' if wall <= 0.25 else 'missed'}, "
      f"CPU {'met' if cpu <= 0.25 else 'missed'}, memory {'met' if mb <= 64 else 'missed'} "
      f"(load average {load:.1f} on {ncpu} CPUs: wall time needs an idle machine)")
PY

read -r pm px cm cx rss wall < <("$arasctl" simulate --policy lr-mmt-1.2 --hosts 1000 --vms 20000 \
    --host-type large --json | json plan_ms_mean plan_ms_max plan_cpu_ms_mean plan_cpu_ms_max \
    peak_rss_kib total_wall_s)
python3 - "$pm" "$px" "$cm" "$cx" "$rss" "$wall" <<'PY'
import sys
pm, px, cm, cx, rss, wall = map(float, sys.argv[1:])
print(f"scale 1,000 large hosts x 20,000 VMs, lr-mmt-1.2: planning per tick {cm:.2f} ms mean, "
      f"{cx:.2f} ms max (CPU); {pm:.2f} / {px:.2f} ms (wall); peak RSS {rss / 1024:.1f} MB; "
      f"whole day {wall:.1f} s")
print(f"  target <= 20 ms per tick and <= 200 MB: "
      f"{'met' if cm <= 20 and rss / 1024 <= 200 else 'MISSED'} (mean); max tick {cx:.1f} ms")
PY
