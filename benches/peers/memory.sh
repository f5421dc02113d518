#!/usr/bin/env bash
# Peak memory and wall time of `nines run` as the trial count grows.
#
# Runs `nines run scenarios/active-active.toml --trials N --quiet` (every
# core, the scenario's 10-year horizon) under GNU `/usr/bin/time -v` for each
# N in TRIALS and prints the peak resident set size and the wall time. nines
# runs trials in bounded waves and streams trials.csv, so the peak RSS should
# not grow with N; the issue also asks for 100,000 trials in under 10 s.
#
# Usage: benches/peers/memory.sh
# Environment: TRIALS (default "10000 100000"), SCENARIO (default
#   scenarios/active-active.toml), MAX_SECONDS (default 10: the wall-time
#   target for 100,000 trials), RSS_SLACK (default 1.25: the largest allowed
#   ratio of the peak RSS at the largest N to that at the smallest),
#   NINES_BIN=path to measure that binary instead of building one.
# Exit status: 0 when both targets are met, 3 when one is not, 1 on error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/benches/peers/common.sh"
TRIALS=${TRIALS:-10000 100000}
SCENARIO=${SCENARIO:-$ROOT/scenarios/active-active.toml}
MAX_SECONDS=${MAX_SECONDS:-10}
RSS_SLACK=${RSS_SLACK:-1.25}

die() {
  echo "memory.sh: $*" >&2
  exit 1
}

if [[ ! -x /usr/bin/time ]]; then
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    echo "installing GNU time..." >&2
    apt-get install -y -qq time >/dev/null || die "apt-get install time failed"
  else
    die "GNU time (/usr/bin/time) is missing: install the 'time' package"
  fi
fi

find_nines

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Elapsed time as GNU time prints it ([h:]m:ss.ss) in seconds.
to_seconds() {
  awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }' <<<"$1"
}

echo "scenario: $SCENARIO ($(nproc) cores, every one used)"
printf '%10s  %14s  %10s  %14s\n' trials "peak RSS (KB)" "wall (s)" "trials/s"
first_rss=
last_rss=
wall_100k=
for n in $TRIALS; do
  /usr/bin/time -v -o "$TMP/time-$n.txt" \
    "$NINES" run "$SCENARIO" --trials "$n" --quiet --out "$TMP/out-$n" >/dev/null
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/time-$n.txt")
  wall=$(to_seconds "$(awk -F': ' '/Elapsed \(wall clock\) time/ {print $2}' "$TMP/time-$n.txt")")
  rate=$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
  printf '%10s  %14s  %10s  %14s\n' "$n" "$rss" "$wall" "$rate"
  first_rss=${first_rss:-$rss}
  last_rss=$rss
  [[ $n == 100000 ]] && wall_100k=$wall
  rm -rf "$TMP/out-$n"
done

status=0
growth=$(awk -v a="$first_rss" -v b="$last_rss" 'BEGIN { printf "%.2f", b / a }')
if awk -v g="$growth" -v s="$RSS_SLACK" 'BEGIN { exit !(g <= s) }'; then
  echo "peak RSS, largest over smallest trial count: ${growth}x (flat: at most ${RSS_SLACK}x)"
else
  echo "peak RSS, largest over smallest trial count: ${growth}x: GROWS (more than ${RSS_SLACK}x)"
  status=3
fi
if [[ -n $wall_100k ]]; then
  if awk -v w="$wall_100k" -v m="$MAX_SECONDS" 'BEGIN { exit !(w < m) }'; then
    echo "100000 trials: ${wall_100k} s wall (target under ${MAX_SECONDS} s: met)"
  else
    echo "100000 trials: ${wall_100k} s wall (target under ${MAX_SECONDS} s: NOT met)"
    status=3
  fi
fi
exit $status
