#!/usr/bin/env bash
# The request-speed target, read against the host's speed at the moment.
#
# The target (issue 3): at least 2 million simulated requests per second on
# one core through the two-hop model with every policy on
# (benches/two_hop.toml.in, the model of `cargo bench --bench requests`).
# The issue gives its host's speed in the same breath: SimPy's M/M/1 ran at
# "about 150,000 customers per second here". The host this project runs on
# is a shared VM whose single-core speed swings by up to 60 % within
# minutes, so one figure says as much about the host's moment as about
# nines. This script interleaves the two engines and reads the target both
# ways:
#
#   raw         nines' two-hop rate, as measured now;
#   ratio       nines' two-hop rate / SimPy's M/M/1 rate, a minute apart at
#               most: the host's speed cancels out. The target on the
#               issue's host is a ratio of 2,000,000 / 150,000 = 13.3;
#   scaled      nines' rate x 150,000 / SimPy's rate: what the same ratio
#               gives on a host where SimPy runs at the issue's 150,000/s.
#
# Each of ROUNDS rounds runs SimPy's M/M/1 (simpy_mm1.py: SIMPY_TRIALS
# trials of 500 s, about 40,000 customers each, its trial loop timed) and
# then nines on the two-hop model (one trial of TWO_HOP_S simulated
# seconds, `--threads 1`, the whole process timed: start-up, parsing, the
# trial and writing its files; the best of NINES_REPEAT runs, since a run
# is only ever slowed by the host, never sped up). Timing SimPy's loop only
# and nines' whole process both favour SimPy, so the ratio is a lower bound.
#
# Usage: benches/peers/speed_target.sh
# Environment: ROUNDS (default 5), NINES_REPEAT (default 3), SIMPY_TRIALS
#   (default 10), TWO_HOP_S (default 250: about 500,000 requests), SEED
#   (default 20240601, the bench's), PEERS_VENV (default target/peers-venv:
#   the venv made when simpy is not importable), NINES_BIN=path to time that
#   binary instead of building one, STRICT=1 to exit 3 when the median ratio
#   is below the target's 13.3.
set -euo pipefail
# A failing command inside $(...) must stop the script too, not leave an
# empty or stale figure behind.
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/benches/peers/common.sh"
HERE="$ROOT/benches/peers"
ROUNDS=${ROUNDS:-5}
NINES_REPEAT=${NINES_REPEAT:-3}
SIMPY_TRIALS=${SIMPY_TRIALS:-10}
TWO_HOP_S=${TWO_HOP_S:-250}
SEED=${SEED:-20240601}
PEERS_VENV=${PEERS_VENV:-$ROOT/target/peers-venv}
# The issue's figures.
TARGET_RATE=2000000
ISSUE_SIMPY_RATE=150000

die() {
  echo "speed_target.sh: $*" >&2
  exit 1
}

now_s() { date +%s.%N; }

# --- prerequisites -----------------------------------------------------------
for var in ROUNDS NINES_REPEAT TWO_HOP_S; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || die "$var must be a positive whole number, not '${!var}'"
done
[[ $SIMPY_TRIALS =~ ^[1-9][0-9]*$ && $SIMPY_TRIALS -ge 2 ]] ||
  die "SIMPY_TRIALS must be a whole number of at least 2 (an interval needs two trials), not '$SIMPY_TRIALS'"
command -v bc >/dev/null || die "bc not found: install it (e.g. apt-get install bc)"

find_simpy_python

# --- build -------------------------------------------------------------------
find_nines

# --- the model -----------------------------------------------------------------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Fill the template's placeholders, every occurrence as the bench does:
# the horizon, and no crashes (each service has a crashes line).
sed -e "s/{horizon}/$TWO_HOP_S/g" -e 's/{crashes}//g' "$ROOT/benches/two_hop.toml.in" >"$TMP/two_hop.toml"

# time_nines: the best whole-process seconds of NINES_REPEAT runs; leaves
# the last run's summary in $TMP/out.
time_nines() {
  local best="" t0 t1 s
  for _ in $(seq "$NINES_REPEAT"); do
    # A failed run must not leave an earlier run's summary to be read.
    rm -f "$TMP/out/summary.json"
    t0=$(now_s)
    "$NINES" run "$TMP/two_hop.toml" --trials 1 --seed "$SEED" --threads 1 \
      --quiet --format json --out "$TMP/out" --force >/dev/null ||
      die "nines failed on the two-hop model (its message is above)"
    t1=$(now_s)
    s=$(echo "$t1 - $t0" | bc -l)
    if [[ -z $best ]] || (($(echo "$s < $best" | bc -l))); then best=$s; fi
  done
  echo "$best"
}

# --- interleave ------------------------------------------------------------------
printf '%-5s %-9s %14s %16s %8s %18s\n' round time "SimPy M/M/1/s" "nines two-hop/s" ratio "scaled to issue/s"
ratios=()
for round in $(seq "$ROUNDS"); do
  simpy=$("$PY" "$HERE/simpy_mm1.py" --trials "$SIMPY_TRIALS" --horizon 500 --seed "$round" |
    awk -F': ' '$1 == "customers_per_s" { print $2 }')
  [[ -n $simpy ]] || die "simpy_mm1.py printed no customers_per_s"
  secs=$(time_nines)
  [[ -f $TMP/out/summary.json ]] || die "nines wrote no summary.json"
  requests=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["requests"]["total"])' "$TMP/out/summary.json")
  rate=$(echo "$requests / $secs" | bc -l)
  ratio=$(echo "$rate / $simpy" | bc -l)
  scaled=$(echo "$ratio * $ISSUE_SIMPY_RATE" | bc -l)
  ratios+=("$ratio")
  printf '%-5s %-9s %14.0f %16.0f %8.1f %18.0f\n' "$round" "$(date +%H:%M:%S)" "$simpy" "$rate" "$ratio" "$scaled"
done

target_ratio=$(echo "$TARGET_RATE / $ISSUE_SIMPY_RATE" | bc -l)
sorted=$(printf '%s\n' "${ratios[@]}" | sort -g)
median=$(echo "$sorted" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
lowest=$(echo "$sorted" | head -1)
printf '\nnines two-hop / SimPy M/M/1: median %.1f, lowest %.1f over %d rounds; the target on the issue'"'"'s host is %.1f (%d / %d)\n' \
  "$median" "$lowest" "$ROUNDS" "$target_ratio" "$TARGET_RATE" "$ISSUE_SIMPY_RATE"
printf 'scaled to the issue'"'"'s host: median %.2f M requests/s against the target %.1f M\n' \
  "$(echo "$median * $ISSUE_SIMPY_RATE / 1000000" | bc -l)" "$(echo "$TARGET_RATE / 1000000" | bc -l)"
if [[ ${STRICT:-0} == 1 ]] && (($(echo "$median < $target_ratio" | bc -l))); then
  echo "speed_target.sh: the median ratio is below the target" >&2
  exit 3
fi
