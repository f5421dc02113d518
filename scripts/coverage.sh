#!/usr/bin/env bash
# Coverage study of the availability interval (issue 14, docs/intervals.md):
# runs `coverage_study` in tests/coverage.rs (optimised: the test profile is
# opt-level 3) and keeps its figures in output/coverage/, dated.
#
#   scripts/coverage.sh            # 1000 seeds per case, ~10 s after the build
#   scripts/coverage.sh 200        # fewer seeds
#
# Fails if the interval nines reports covers the truth in under 93 % of
# seeds on any case.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-1000}
mkdir -p output/coverage
out=output/coverage/coverage-$(date -u +%Y-%m-%d)-$seeds.txt
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) nines $(git describe --always --dirty 2>/dev/null || echo '?')"
  echo "# NINES_COVERAGE_SEEDS=$seeds cargo test --locked --test main coverage_study -- --ignored --nocapture"
  NINES_COVERAGE_SEEDS=$seeds cargo test --locked --test main coverage_study -- --ignored --nocapture 2>&1 |
    grep -E '^(  |[0-9]|test |test result)' 
} | tee "$out"
grep -q 'test result: ok' "$out"
echo "written: $out"
