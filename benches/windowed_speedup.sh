#!/usr/bin/env bash
# Windowed request sampling against full simulation on the same scenario,
# where full simulation is affordable (docs/performance.md): runs a
# scenario (default benches/windowed_month.toml cut to a shorter horizon)
# both ways, on the same seed and trials, and prints each run's wall time, the entry requests
# it simulated, the share of the estimate's requests that is, summary.json's
# `events` (a full run counts every event, requests' included; a windowed
# run the availability component's alone), and the speed-up (full / windowed, in wall and CPU
# time; CPU time moves less with the machine's load).
#
#   benches/windowed_speedup.sh [SCENARIO] [HORIZON] [TRIALS] [THREADS]
#
# defaults: benches/windowed_month.toml, 6h, 4 trials, 2 threads; the
# binary is $NINES (default target/release/nines). Outputs go to
# output/speedup/. Wall times depend on the machine and its load: quote
# them with the date and `uptime`.
set -euo pipefail
bin=${NINES:-target/release/nines}
scenario=${1:-benches/windowed_month.toml}
horizon=${2:-6h}
trials=${3:-4}
threads=${4:-2}
cd "$(dirname "$0")/.."
out=output/speedup
mkdir -p "$out"
echo "$(date -u '+%Y-%m-%d %H:%M UTC') · $(uptime | sed 's/.*load average/load average/')"
for mode in full windowed; do
  /usr/bin/time -f "%e %U %S %M" -o "$out/$mode.time" \
    "$bin" run "$scenario" --set "horizon=$horizon" --request-sampling "$mode" \
    --trials "$trials" --seed 1 --threads "$threads" --format json --no-write --quiet >"$out/$mode.json"
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
rows = {}
for mode in ("full", "windowed"):
    j = json.load(open(f"{out}/{mode}.json"))
    wall, user, system, rss = (float(x) for x in open(f"{out}/{mode}.time").read().split())
    cpu = user + system
    r = j["requests"]
    w = r.get("windowed")
    simulated = w["simulated_requests"] if w else r["total"]
    share = w["share_simulated"] if w else 1.0
    rows[mode] = (wall, cpu)
    print(f"{mode:9} wall {wall:8.2f} s · CPU {cpu:8.2f} s · peak RSS {rss / 1024:.0f} MB · requests estimated {r['total']:>12} · simulated {simulated:>12} "
          f"({100 * share:.3g} %) · summary events {j['events']} · request availability {r['availability']['mean']:.6f}")
print(f"speed-up, full / windowed: wall time {rows['full'][0] / rows['windowed'][0]:.1f}x, CPU time {rows['full'][1] / rows['windowed'][1]:.1f}x")
PY
