#!/usr/bin/env bash
# Windowed request sampling against full simulation on the same scenario,
# where full simulation is affordable (docs/performance.md): runs
# benches/windowed_month.toml cut to a shorter horizon both ways, on the
# same seed and trials, and prints each run's wall time, the entry requests
# it simulated, the share of the estimate's requests that is, the failure
# and repair events, and the speed-up (full wall time / windowed).
#
#   benches/windowed_speedup.sh [NINES] [HORIZON] [TRIALS] [THREADS]
#
# defaults: target/release/nines, 6h, 4 trials, 2 threads. Outputs go to
# output/speedup/. Wall times depend on the machine and its load: quote
# them with the date and `uptime`.
set -euo pipefail
bin=${1:-target/release/nines}
horizon=${2:-6h}
trials=${3:-4}
threads=${4:-2}
cd "$(dirname "$0")/.."
out=output/speedup
mkdir -p "$out"
echo "$(date -u '+%Y-%m-%d %H:%M UTC') · $(uptime | sed 's/.*load average/load average/')"
for mode in full windowed; do
  start=$(date +%s.%N)
  "$bin" run benches/windowed_month.toml --set "horizon=$horizon" --request-sampling "$mode" \
    --trials "$trials" --seed 1 --threads "$threads" --format json --no-write --quiet >"$out/$mode.json"
  end=$(date +%s.%N)
  echo "$end - $start" | bc >"$out/$mode.wall"
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
rows = {}
for mode in ("full", "windowed"):
    j = json.load(open(f"{out}/{mode}.json"))
    wall = float(open(f"{out}/{mode}.wall").read())
    r = j["requests"]
    w = r.get("windowed")
    simulated = w["simulated_requests"] if w else r["total"]
    share = w["share_simulated"] if w else 1.0
    rows[mode] = wall
    print(f"{mode:9} wall {wall:8.2f} s · requests estimated {r['total']:>12} · simulated {simulated:>12} "
          f"({100 * share:.3g} %) · failure/repair events {j['events']} · request availability {r['availability']['mean']:.6f}")
print(f"speed-up (full / windowed wall time): {rows['full'] / rows['windowed']:.1f}x")
PY
