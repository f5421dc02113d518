#!/usr/bin/env bash
# nines against SimPy on two request-level models, in one run.
#
# Models (the SimPy side is simpy_mm1.py and simpy_lb.py in this folder):
#   mm1  one server, concurrency 1, unbounded FIFO, Poisson arrivals at
#        80/s, exponential service of mean 10 ms; trials of 500 s from
#        empty. Theory: mean sojourn 1/(mu - lambda) = 50 ms.
#   lb   3 replicas behind a round-robin balancer, each serving 2 at once
#        from an unbounded FIFO, exponential service of mean 10 ms; Poisson
#        arrivals at 200/s; a 25 ms timeout per attempt, up to 3 attempts,
#        retried at once; timed-out work is not cancelled; trials of 200 s.
#        No closed form: the two engines must agree within their intervals.
#
# Steps: build nines in release; write both scenarios into a temp dir; for
# each model time `nines run --threads 1` (the median of NINES_REPEAT runs),
# calibrate SimPy and time it for about SIMPY_SECONDS; print both rates in
# requests/s, the ratio, and both engines' estimates with 95 % intervals
# (Student t across trials, for both) beside the theory.
#
# Usage: benches/peers/compare_requests.sh
# Environment: MM1_TRIALS (default 50: nines trials of 500 s, 2 million
#   requests), LB_TRIALS (default 50: nines trials of 200 s, 2 million
#   requests), NINES_REPEAT (default 3), SIMPY_SECONDS (default 15 per
#   model), SIMPY_MIN_TRIALS (default 10), SEED (default 1), TARGET_RATIO
#   (default 30), STRICT=1 to exit 3 when a ratio is below TARGET_RATIO or
#   an agreement check fails, PEERS_VENV (default target/peers-venv: the
#   venv made when simpy is not importable), NINES_BIN=path to time that
#   binary instead of building one.
#
# Timing: nines is timed as a whole process with the shell's clock
# (start-up, parsing, the trials, writing trials.csv and summary.json);
# SimPy's figure is its trial loop only (no interpreter start-up or import).
# Both favour SimPy, so the ratios are lower bounds. Rates count requests
# (customers) that concluded before each trial's horizon, in both engines.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/benches/peers/common.sh"
HERE="$ROOT/benches/peers"
MM1_TRIALS=${MM1_TRIALS:-50}
LB_TRIALS=${LB_TRIALS:-50}
NINES_REPEAT=${NINES_REPEAT:-3}
SIMPY_SECONDS=${SIMPY_SECONDS:-15}
SIMPY_MIN_TRIALS=${SIMPY_MIN_TRIALS:-10}
SEED=${SEED:-1}
TARGET_RATIO=${TARGET_RATIO:-30}
PEERS_VENV=${PEERS_VENV:-$ROOT/target/peers-venv}

die() {
  echo "compare_requests.sh: $*" >&2
  exit 1
}

now_s() { date +%s.%N; }

# --- prerequisites -----------------------------------------------------------

find_simpy_python

# --- build -------------------------------------------------------------------
find_nines

# --- the scenarios -----------------------------------------------------------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/mm1.toml" <<'EOF'
# The SimPy peer's model (benches/peers/simpy_mm1.py): M/M/1 at rho = 0.8.
name = "M/M/1"
horizon = "500s"
trials = 50
seed = 1

[[workload]]
name = "customers"
to = "server"
rate = 80
arrival = "poisson"

[[service]]
name = "server"
concurrency = 1          # one at a time; no `queue` key: an unbounded FIFO
service_time = { mean = "10ms" }   # exponential by default
EOF
cat >"$TMP/lb.toml" <<'EOF'
# The SimPy peer's model (benches/peers/simpy_lb.py).
name = "round-robin balancer, timeout and retries"
horizon = "200s"
trials = 50
seed = 1

[[workload]]
name = "clients"
to = "api"
rate = 200
arrival = "poisson"
timeout = "25ms"         # per attempt; cancel_on_timeout is false by default
retry = { max_attempts = 3, backoff = "constant", base = "0ms" }

[[service]]
name = "api"
topology = "active-active"
replicas = 3
load_balancer = "round-robin"
concurrency = 2
service_time = { mean = "10ms" }
EOF

# --- time both ---------------------------------------------------------------
# Peak RSS of the nines runs too, when GNU time is there.
TIMEV=()
[[ -x /usr/bin/time ]] && TIMEV=(/usr/bin/time -f '%M' -o "$TMP/rss")

# time_nines MODEL TRIALS: runs nines NINES_REPEAT times; leaves the summary
# in $TMP/MODEL.json, trials.csv in $TMP/out-MODEL/, the median wall seconds
# in $TMP/MODEL.seconds and the largest peak RSS (KiB) in $TMP/MODEL.rss.
time_nines() {
  local model=$1 trials=$2 times=() peak=0
  for rep in $(seq "$NINES_REPEAT"); do
    echo "nines $model: $trials trials on 1 thread (run $rep of $NINES_REPEAT)..." >&2
    local t0 t1
    t0=$(now_s)
    "${TIMEV[@]}" "$NINES" run "$TMP/$model.toml" --trials "$trials" --threads 1 --seed "$SEED" \
      --out "$TMP/out-$model" --format json --quiet >"$TMP/$model.json"
    t1=$(now_s)
    times+=("$(python3 -c "print(f'{$t1 - $t0:.3f}')")")
    if [[ -s $TMP/rss ]]; then
      local rss
      rss=$(tail -n 1 "$TMP/rss")
      ((rss > peak)) && peak=$rss
    fi
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' >"$TMP/$model.seconds"
  echo "$peak" >"$TMP/$model.rss"
  echo "nines $model: wall seconds per run: ${times[*]} (median $(cat "$TMP/$model.seconds"))" >&2
}

# time_simpy MODEL SCRIPT HORIZON: calibrates on 2 short trials, then runs
# enough trials of HORIZON seconds for about SIMPY_SECONDS.
time_simpy() {
  local model=$1 script=$2 horizon=$3 rate trials
  echo "simpy $model: calibrating..." >&2
  rate=$("$PY" "$HERE/$script" --trials 2 --horizon 50 --seed "$SEED" | awk '/^(customers|requests)_per_s:/ {print $2}')
  # Requests per trial: 80/s or 200/s times the horizon.
  trials=$(python3 -c "
per_trial = {'mm1': 80, 'lb': 200}['$model'] * $horizon
print(max($SIMPY_MIN_TRIALS, round($rate * $SIMPY_SECONDS / per_trial)))")
  echo "simpy $model: $trials trials of ${horizon} s (about ${SIMPY_SECONDS} s)..." >&2
  "$PY" "$HERE/$script" --trials "$trials" --horizon "$horizon" --seed "$SEED" >"$TMP/simpy-$model.txt"
}

time_nines mm1 "$MM1_TRIALS"
time_simpy mm1 simpy_mm1.py 500
time_nines lb "$LB_TRIALS"
time_simpy lb simpy_lb.py 200

# --- report ------------------------------------------------------------------
python3 - "$TMP" "$TARGET_RATIO" "$("$PY" -c 'import simpy; print(simpy.__version__)')" "$("$NINES" --version)" <<'EOF'
import csv, json, math, os, sys

tmp, target, simpy_version, nines_version = sys.argv[1:]
target = float(target)


def t975(df):
    """Student t 0.975 quantile (Cornish-Fisher, Abramowitz and Stegun 26.7.5)."""
    z = 1.959963984540054
    g = [(z**3 + z) / 4, (5 * z**5 + 16 * z**3 + 3 * z) / 96,
         (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
         (79 * z**9 + 779 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160]
    return z + sum(gi / df ** (i + 1) for i, gi in enumerate(g))


def mean_ci(xs):
    n = len(xs)
    m = sum(xs) / n
    half = t975(n - 1) * math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1) / n)
    return m, m - half, m + half


def simpy_out(model):
    return dict(line.split(": ", 1) for line in open(f"{tmp}/simpy-{model}.txt").read().splitlines())


def nines_out(model):
    summary = json.load(open(f"{tmp}/{model}.json"))
    rows = list(csv.DictReader(open(f"{tmp}/out-{model}/trials.csv")))
    seconds = float(open(f"{tmp}/{model}.seconds").read())
    rss = int(open(f"{tmp}/{model}.rss").read())
    return summary, rows, seconds, rss


def agree(a, b):
    """Two estimates (mean, lo, hi) agree when their difference is within
    1.96 combined standard errors (each half-width / t)."""
    se = math.hypot((a[2] - a[1]) / 2 / 1.96, (b[2] - b[1]) / 2 / 1.96)
    z = abs(a[0] - b[0]) / se if se > 0 else (0.0 if a[0] == b[0] else math.inf)
    return z, z <= 1.96


failures = []
fmt_iv = lambda e, d: f"{e[0]:.{d}f} [{e[1]:.{d}f}, {e[2]:.{d}f}]"

def header(title, right=""):
    print()
    print(title)
    print(f"{'engine':<26}{'requests':>10}{'seconds':>9}{'requests/s':>12}   {right}".rstrip())

def rate_line(name, n, seconds, extra):
    print(f"{name:<26}{n:>10}{seconds:>9.2f}{n / seconds:>12.0f}   {extra}".rstrip())

def ratio_line(n_rate, s_rate, model):
    ratio = n_rate / s_rate
    ok = ratio >= target
    print(f"ratio nines/simpy: {ratio:.1f}x (target at least {target:g}x: {'met' if ok else 'NOT met'})")
    if not ok:
        failures.append(f"{model}: ratio {ratio:.1f}x below {target:g}x")
    return ratio

# M/M/1 ----------------------------------------------------------------------
summary, rows, seconds, rss = nines_out("mm1")
s = simpy_out("mm1")
theory = 0.05
n_req = summary["requests"]["total"]
n_est = mean_ci([float(r["latency_mean_s"]) for r in rows])
s_est = (float(s["mean_sojourn_s"]), float(s["ci95_low"]), float(s["ci95_high"]))
header(f"M/M/1, lambda 80/s, mu 100/s, {summary['trials']} nines trials of {summary['horizon_s']:g} s",
       "mean sojourn, s [95 % interval]")
rate_line(nines_version + ", 1 thread", n_req, seconds, fmt_iv(n_est, 5))
rate_line("simpy " + simpy_version, int(s["customers"]), float(s["seconds"]), fmt_iv(s_est, 5)
          + f"   ({s['trials']} trials)")
print(f"{'theory 1/(mu - lambda)':<57}   {theory:.5f}")
ratio_line(n_req / seconds, float(s["customers_per_s"]), "mm1")
for name, e in (("nines", n_est), ("simpy", s_est)):
    inside = e[1] <= theory <= e[2]
    print(f"theory inside the {name} 95 % interval: {'yes' if inside else 'no'}"
          f" (error {100 * (e[0] - theory) / theory:+.2f} %)")
z, ok = agree(n_est, s_est)
print(f"nines and simpy agree: {'yes' if ok else 'NO'} (difference {z:.2f} combined standard errors)")
if not ok:
    failures.append("mm1: the engines disagree")
if rss:
    print(f"nines peak RSS: {rss} KiB ({n_req} requests)")

# Load balancer ---------------------------------------------------------------
summary, rows, seconds, rss = nines_out("lb")
s = simpy_out("lb")
n_req = summary["requests"]["total"]
header(f"3 replicas x 2 slots, round robin, 200/s, 25 ms timeout, 3 attempts, "
       f"{summary['trials']} nines trials of {summary['horizon_s']:g} s")
rate_line(nines_version + ", 1 thread", n_req, seconds, "")
rate_line("simpy " + simpy_version, int(s["requests"]), float(s["seconds"]), f"({s['trials']} trials)")
ratio_line(n_req / seconds, float(s["requests_per_s"]), "lb")
print(f"{'figure [95 % interval]':<26}{'nines':>34}{'simpy':>34}   agree (|diff| / combined se)")
for label, col, key, d in (("success ratio", "success_ratio", "success_ratio", 5),
                           ("attempts per request", "attempts_per_request", "attempts_per_request", 5),
                           ("mean latency, s", "latency_mean_s", "mean_latency_s", 6)):
    n_e = mean_ci([float(r[col]) for r in rows])
    s_e = (float(s[key]), float(s[key + "_ci95_low"]), float(s[key + "_ci95_high"]))
    z, ok = agree(n_e, s_e)
    print(f"{label:<26}{fmt_iv(n_e, d):>34}{fmt_iv(s_e, d):>34}   {'yes' if ok else 'NO'} ({z:.2f})")
    if not ok:
        failures.append(f"lb: {label}: the engines disagree")
if rss:
    print(f"nines peak RSS: {rss} KiB ({n_req} requests)")

print()
print("all checks passed" if not failures else "checks failed: " + "; ".join(failures))
open(f"{tmp}/failures", "w").write("\n".join(failures))
EOF

if [[ "${STRICT:-0}" == 1 && -s "$TMP/failures" ]]; then
  exit 3
fi
