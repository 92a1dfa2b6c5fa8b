#!/usr/bin/env bash
# A/B of `xtask profile` between two builds on the same machine, side by side.
#
#   tools/ab_profile.sh BASE_XTASK NEW_XTASK [N] [-- extra profile flags]
#
# Runs N (default 3) alternating pairs (base, new, base, new, ...) of
# `profile --no-batch-benchmark --out DIR [flags]` with NODEVICE_SELECT=1, then prints
# per-stage medians of `total_time_ms` from each run's profile_report.json, new/base
# speed-up ratios, and whether each run's `stage_outputs` (keypoints, matches, points...)
# equal the first base run's. Run directories stay under ${AB_DIR:-/tmp/ab_profile.$$}.
set -euo pipefail
if [ $# -lt 2 ]; then
    sed -n '2,10p' "$0"
    exit 2
fi
base=$1 new=$2
shift 2
n=3
if [ $# -gt 0 ] && [ "$1" != "--" ]; then n=$1; shift; fi
[ "${1:-}" = "--" ] && shift
dir=${AB_DIR:-/tmp/ab_profile.$$}
mkdir -p "$dir"
export NODEVICE_SELECT=1
for i in $(seq 1 "$n"); do
    for side in base new; do
        bin=$base
        [ "$side" = new ] && bin=$new
        out="$dir/$side-$i"
        echo "run $i $side: $bin profile --no-batch-benchmark --out $out $*" >&2
        "$bin" profile --no-batch-benchmark --out "$out" "$@" >"$out.log" 2>&1 ||
            { echo "run failed, see $out.log" >&2; exit 1; }
    done
done
python3 - "$dir" "$n" <<'PY'
import json, statistics, sys
d, n = sys.argv[1], int(sys.argv[2])
runs = {s: [json.load(open(f"{d}/{s}-{i}/profile_report.json")) for i in range(1, n + 1)]
        for s in ("base", "new")}
stages = list(runs["base"][0]["stages"])
def med(side, st):
    return statistics.median(r["stages"][st]["total_time_ms"] for r in runs[side])
print(f"{'stage':<18}{'base ms':>12}{'new ms':>12}{'speed-up':>10}   (medians of {n} alternating pairs)")
tb = tn = 0.0
for st in stages:
    b, x = med("base", st), med("new", st)
    tb += b; tn += x
    print(f"{st:<18}{b:>12.1f}{x:>12.1f}{b / x:>9.2f}x")
print(f"{'total':<18}{tb:>12.1f}{tn:>12.1f}{tb / tn:>9.2f}x")
ref = runs["base"][0].get("stage_outputs")
for side in ("base", "new"):
    for i, r in enumerate(runs[side], 1):
        o = r.get("stage_outputs")
        if o != ref:
            diff = {k: (ref.get(k), o.get(k)) for k in set(ref) | set(o) if ref.get(k) != o.get(k)}
            print(f"{side}-{i} stage_outputs differ from base-1: {diff}")
print("stage_outputs checked against base-1")
PY
