#!/usr/bin/env bash
# nines against SimPy on the same failure/repair Monte Carlo, in one run.
#
# Model: 3 replicas active-active (up while at least 1 is up), exponential
# time to failure with mean 1000 h, exponential repair with mean 10 h, one
# simulated year per trial. Closed form: 1 - (10/1010)^3.
#
# Steps: build nines in release; write the scenario into a temp dir; time
# `nines run --threads 1` for NINES_TRIALS trials (the median of NINES_REPEAT
# runs); run SimPy for SIMPY_SECONDS (as many trials as fit); print both
# rates, the ratio, and both availability estimates beside the closed form.
#
# Usage: benches/peers/compare.sh
# Environment: NINES_TRIALS (default 200000), NINES_REPEAT (default 3: runs of
#   nines, the median is reported), SIMPY_SECONDS (default 15),
#   SEED (default 1), TARGET_RATIO (default 30), STRICT=1 to exit 3 when the
#   ratio is below TARGET_RATIO, PEERS_VENV (default target/peers-venv: the
#   venv made when simpy is not importable), NINES_BIN=path to time that
#   binary instead of building one.
#
# Timing: nines is timed as a whole process with the shell's clock (start-up,
# parsing, the trials, writing trials.csv and summary.json); SimPy's figure
# is its trial loop only (no interpreter start-up or import). Both favour
# SimPy, so the ratio is a lower bound.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/benches/peers/common.sh"
HERE="$ROOT/benches/peers"
NINES_TRIALS=${NINES_TRIALS:-200000}
SIMPY_SECONDS=${SIMPY_SECONDS:-15}
SEED=${SEED:-1}
NINES_REPEAT=${NINES_REPEAT:-3}
TARGET_RATIO=${TARGET_RATIO:-30}
PEERS_VENV=${PEERS_VENV:-$ROOT/target/peers-venv}

die() {
  echo "compare.sh: $*" >&2
  exit 1
}

now_s() { date +%s.%N; }

# --- prerequisites -----------------------------------------------------------

find_simpy_python

# --- (a) build ---------------------------------------------------------------
find_nines

# --- (b) the scenario --------------------------------------------------------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/failure-repair.toml" <<'EOF'
# The SimPy peer's model (benches/peers/simpy_failure_repair.py).
name = "failure-repair"
horizon = "1y"
trials = 1000
seed = 1

[[service]]
name = "api"
topology = "active-active"
replicas = 3
min_healthy = 1
failure = { mean = "1000h" }
repair = { mean = "10h" }
EOF

# --- (c) time both -----------------------------------------------------------
# This machine's speed varies from run to run (a shared VM): time nines
# NINES_REPEAT times and keep the median.
NINES_TIMES=()
for rep in $(seq "$NINES_REPEAT"); do
  echo "nines: $NINES_TRIALS trials on 1 thread (run $rep of $NINES_REPEAT)..." >&2
  t0=$(now_s)
  "$NINES" run "$TMP/failure-repair.toml" --trials "$NINES_TRIALS" --threads 1 --seed "$SEED" \
    --out "$TMP/out" --format json --quiet >"$TMP/nines.json"
  t1=$(now_s)
  NINES_TIMES+=("$(python3 -c "print(f'{$t1 - $t0:.3f}')")")
done
NINES_SECONDS=$(printf '%s\n' "${NINES_TIMES[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "nines: wall seconds per run: ${NINES_TIMES[*]} (median $NINES_SECONDS)" >&2

echo "simpy: trials for ${SIMPY_SECONDS} s..." >&2
"$PY" "$HERE/simpy_failure_repair.py" --seconds "$SIMPY_SECONDS" --seed "$SEED" >"$TMP/simpy.txt"

# --- (d) report --------------------------------------------------------------
python3 - "$TMP/nines.json" "$TMP/simpy.txt" "$NINES_TRIALS" "$NINES_SECONDS" "$TARGET_RATIO" \
  "$("$PY" -c 'import simpy; print(simpy.__version__)')" "$("$NINES" --version)" <<'EOF'
import json, sys

nines_json, simpy_txt, n_trials, n_seconds, target, simpy_version, nines_version = sys.argv[1:]
summary = json.load(open(nines_json))
simpy = dict(line.split(": ", 1) for line in open(simpy_txt).read().splitlines())
n_trials, n_seconds, target = int(n_trials), float(n_seconds), float(target)

n_rate = n_trials / n_seconds
s_rate = float(simpy["trials_per_s"])
ratio = n_rate / s_rate
closed = 1 - (10 / 1010) ** 3
a = summary["availability"]
lo, hi = a["ci95"]

print("failure/repair, 3 replicas (1 of 3 needed), MTBF 1000 h, MTTR 10 h, 1 year per trial")
print(f"{'engine':<26}{'trials':>10}{'seconds':>10}{'trials/s':>12}   availability [95 % interval]")
print(f"{nines_version + ', 1 thread':<26}{n_trials:>10}{n_seconds:>10.2f}{n_rate:>12.0f}"
      f"   {a['mean']:.9f} [{lo:.9f}, {hi:.9f}]")
print(f"{'simpy ' + simpy_version:<26}{int(simpy['trials']):>10}{float(simpy['seconds']):>10.2f}"
      f"{s_rate:>12.0f}   {float(simpy['availability']):.9f} "
      f"[{float(simpy['ci95_low']):.9f}, {float(simpy['ci95_high']):.9f}]")
print(f"{'closed form 1-(10/1010)^3':<58}   {closed:.9f}")
print(f"ratio nines/simpy: {ratio:.1f}x (target at least {target:g}x: {'met' if ratio >= target else 'NOT met'})")
for name, inside in (("nines", lo <= closed <= hi),
                     ("simpy", float(simpy["ci95_low"]) <= closed <= float(simpy["ci95_high"]))):
    print(f"closed form inside the {name} 95 % interval: {'yes' if inside else 'no'}")
open(nines_json + ".ratio", "w").write(f"{ratio}\n")
EOF

RATIO=$(cat "$TMP/nines.json.ratio")
if [[ "${STRICT:-0}" == 1 ]] && ! python3 -c "import sys; sys.exit(0 if $RATIO >= $TARGET_RATIO else 1)"; then
  exit 3
fi
