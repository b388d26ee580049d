#!/usr/bin/env bash
# planner: ARAS's planner (--policy aras) against CloudSim's PlanetLab baselines.
#
# For every day given (default: the three days of ../shared/traces/planetlab, or
# the bundled day when that is absent), replays the day with --policy aras and
# with each migrating baseline (thr-mmt-0.8, iqr-mmt-1.5, mad-mmt-2.5,
# lr-mmt-1.2, lr-mc-1.2) in the same run, then prints one table row per day and
# the goals of issue 5 as ratios:
#   SLAV        <= 0.5 x the lowest SLAV of any baseline on that day
#   energy      <= 1.05 x LR-MMT-1.2's
#   migrations  <= 0.2 x LR-MMT-1.2's
#   ping-pongs  == 0 (a VM returning within an hour to a host it left)
# One configuration for all days: the planner's defaults.
# --markdown prints the README's table instead of the plain one.
#
# Usage: bench/planner.sh [--markdown] [BUILD_DIR] [DAY_DIR...]
# Exit status: 0 when every goal is met on every day, 1 otherwise.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
fmt=plain
if [[ ${1:-} = --markdown ]]; then
    fmt=markdown
    shift
fi
build=${1:-build}
[[ $build = /* ]] || build=$src/$build
shift || true
arasctl=$build/src/cli/arasctl
[[ -x $arasctl ]] || { echo "planner: $arasctl not built" >&2; exit 1; }

days=("$@")
if [[ ${#days[@]} -eq 0 ]]; then
    shared=$src/../shared/traces/planetlab
    if [[ -d $shared ]]; then
        for d in "$shared"/2*/; do days+=("${d%/}"); done
    else
        days=("$src/data/planetlab/20110303")
    fi
fi

baselines=(thr-mmt-0.8 iqr-mmt-1.5 mad-mmt-2.5 lr-mmt-1.2 lr-mc-1.2)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for d in "${days[@]}"; do
    [[ -d $d ]] || { echo "planner: $d: not a directory of trace files" >&2; exit 1; }
    for p in aras "${baselines[@]}"; do
        echo "planner: $(basename "$d") $p" >&2
        "$arasctl" simulate --trace "$d" --policy "$p" --json |
            python3 -c 'import json,sys; r=json.load(sys.stdin); d=sys.argv[1]; print(d, r["policy"], r["energy_kwh"], r["migrations"], r["pingpongs"], r["slav_pct"], sep="\t")' \
                "$(basename "$d")" >>"$out"
    done
done

python3 - "$out" "$fmt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    day, pol, e, m, pp, slav = line.rstrip("\n").split("\t")
    rows.setdefault(day, {})[pol.lower()] = (float(e), int(m), int(pp), float(slav))
md = sys.argv[2] == "markdown"
head = ["day", "ARAS energy kWh", "LR-MMT-1.2 kWh", "energy ratio (<= 1.05)",
        "ARAS migrations", "LR-MMT-1.2 migrations", "migration ratio (<= 0.2)",
        "ARAS SLAV %", "lowest baseline SLAV %", "SLAV ratio (<= 0.5)",
        "ARAS ping-pongs", "LR-MMT-1.2 ping-pongs", "goals"]
if md:
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
else:
    print("\t".join(head))
ok_all = True
for day in sorted(rows):
    r = rows[day]
    a, lr = r["aras"], r["lr-mmt-1.2"]
    best_pol, best = min(((p, v) for p, v in r.items() if p != "aras"), key=lambda pv: pv[1][3])
    er, mr, sr = a[0] / lr[0], a[1] / lr[1], a[3] / best[3]
    ok = er <= 1.05 and mr <= 0.2 and sr <= 0.5 and a[2] == 0
    ok_all &= ok
    cells = [day, f"{a[0]:.2f}", f"{lr[0]:.2f}", f"{er:.3f}", str(a[1]), str(lr[1]), f"{mr:.3f}",
             f"{a[3]:.2e}", f"{best[3]:.2e} ({best_pol.upper()})", f"{sr:.4f}", str(a[2]),
             str(lr[2]), "met" if ok else "MISSED"]
    print(("| " + " | ".join(cells) + " |") if md else "\t".join(cells))
print(f"planner: goals {'met on every day' if ok_all else 'MISSED on some day'}",
      file=sys.stderr)
sys.exit(0 if ok_all else 1)
PY
