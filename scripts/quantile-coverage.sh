#!/usr/bin/env bash
# Coverage study of the downtime percentiles' intervals (issue 21,
# docs/intervals.md "Percentile intervals"): runs `quantile_coverage_study`
# in tests/quantile_coverage.rs (optimised) and keeps its figures in
# output/coverage/, dated.
#
#   scripts/quantile-coverage.sh        # 400 seeds per case
#   scripts/quantile-coverage.sh 1000   # more seeds
#
# Fails if any percentile's interval covers the reference in under 93 % of
# seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-400}
mkdir -p output/coverage
out=output/coverage/quantile-coverage-$(date -u +%Y-%m-%d)-$seeds.txt
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) nines $(git describe --always --dirty 2>/dev/null || echo '?')"
  echo "# NINES_QUANTILE_SEEDS=$seeds cargo test --release --locked --test main quantile_coverage_study -- --ignored --nocapture"
  NINES_QUANTILE_SEEDS=$seeds cargo test --release --locked --test main quantile_coverage_study -- --ignored --nocapture 2>&1 |
    grep -E '^(  |[0-9A-Za-z].*trials, seeds|test |test result)'
} | tee "$out"
grep -q 'test result: ok' "$out"
echo "written: $out"
