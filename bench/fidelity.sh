#!/usr/bin/env bash
# fidelity: replay the PlanetLab days through every reference policy with
# `arasctl simulate --json` and print our numbers beside CloudSim 3.0.3's
# (../shared/reference/cloudsim-3.0.3-planetlab-sorted.tsv) as a Markdown table.
#
# Usage: bench/fidelity.sh [BUILD_DIR] [--check]
#   --check  exit 1 unless every cell is within the tolerances of the ARAS
#            fidelity target: energy and migrations 5 %, SLATAH and PDM 10 %,
#            NPA and DVFS energy 1 %. Exits 77 (skip) without the reference.
# Days: 20110303 from data/planetlab (bundled); 20110306 and 20110309 from
# ../shared/traces/planetlab when present.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
check=0
[[ ${2:-} == --check || ${1:-} == --check ]] && check=1
[[ ${1:-} == --check ]] && build=build
[[ $build = /* ]] || build=$src/$build
arasctl=$build/src/cli/arasctl
ref=$src/../shared/reference/cloudsim-3.0.3-planetlab-sorted.tsv
shared=$src/../shared/traces/planetlab
if [[ ! -f $ref ]]; then
    echo "fidelity: no CloudSim reference at $ref; skipping" >&2
    exit 77
fi
[[ -x $arasctl ]] || { echo "fidelity: $arasctl not built" >&2; exit 1; }

declare -A dirs=([20110303]=$src/data/planetlab/20110303)
for d in 20110306 20110309; do
    [[ -d $shared/$d ]] && dirs[$d]=$shared/$d
done
policies=(npa dvfs thr-mmt-0.8 iqr-mmt-1.5 mad-mmt-2.5 lr-mmt-1.2 lr-mc-1.2)

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for d in $(printf '%s\n' "${!dirs[@]}" | sort); do
    for p in "${policies[@]}"; do
        printf '%s\t%s\t' "$d" "$p" >>"$tmp"
        "$arasctl" simulate --trace "${dirs[$d]}" --policy "$p" --json >>"$tmp"
    done
done

python3 - "$ref" "$tmp" "$check" <<'PY'
import json, sys
ref_path, ours_path, check = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
ref = {}
with open(ref_path) as f:
    header = f.readline().rstrip("\n").split("\t")
    for line in f:
        row = dict(zip(header, line.rstrip("\n").split("\t")))
        ref[(row["date"], row["policy"].lower())] = row
tol = {"energy_kwh": 5, "migrations": 5, "slatah_pct": 10, "pdm_pct": 10}
bad = []

def delta(ours, theirs):
    if theirs == 0:
        return 0.0 if ours == 0 else float("inf")
    return (ours - theirs) / theirs * 100

print("| day | policy | energy kWh (ours / CloudSim) | migrations | SLATAH % | PDM % | SLAV % | max deviation |")
print("|---|---|---|---|---|---|---|---|")
with open(ours_path) as f:
    for line in f:
        day, pol, js = line.split("\t", 2)
        r = json.loads(js)
        c = ref.get((day, pol))
        if c is None:
            bad.append(f"{day} {pol}: no reference row")
            continue
        worst = 0.0
        for k, t in tol.items():
            if pol in ("npa", "dvfs") and k != "energy_kwh":
                continue
            lim = 1 if pol in ("npa", "dvfs") and k == "energy_kwh" else t
            dv = delta(float(r[k]), float(c[k]))
            worst = max(worst, abs(dv))
            if abs(dv) > lim:
                bad.append(f"{day} {pol} {k}: ours {r[k]} vs CloudSim {c[k]} ({dv:+.2f} %, limit {lim} %)")
        print(f"| {day} | {pol} | {r['energy_kwh']:.2f} / {float(c['energy_kwh']):.2f} "
              f"| {r['migrations']} / {c['migrations']} "
              f"| {r['slatah_pct']:.3f} / {float(c['slatah_pct']):.3f} "
              f"| {r['pdm_pct']:.4f} / {float(c['pdm_pct']):.4f} "
              f"| {r['slav_pct']:.5f} / {float(c['slav_pct']):.5f} | {worst:.1e} % |")
for b in bad:
    print("OUT OF TOLERANCE:", b, file=sys.stderr)
sys.exit(1 if (check and bad) else 0)
PY
