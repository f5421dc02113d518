#!/usr/bin/env bash
# Runs a scenario as SHARDS single-threaded shards on one machine, then
# merges them: the same result as one `nines run`, with processes that can
# be spread, paused or retried one by one.
#
#   recipes/parallel.sh scenario.toml results/ [SHARDS] [nines run flags...]
#
# SHARDS defaults to the number of cores. Uses GNU parallel when installed,
# else xargs -P.
set -euo pipefail

scenario=${1:?usage: parallel.sh SCENARIO OUT [SHARDS] [nines run flags...]}
out=${2:?usage: parallel.sh SCENARIO OUT [SHARDS] [nines run flags...]}
shards=${3:-$(nproc)}
shift $(($# < 3 ? $# : 3))
nines=${NINES:-nines}

if command -v parallel >/dev/null; then
  parallel --halt now,fail=1 "$nines" run "$scenario" --shard "{}/$shards" --threads 1 \
    --out "$out/parts" --quiet "$@" ::: $(seq 0 $((shards - 1)))
else
  seq 0 $((shards - 1)) | xargs -P "$shards" -I{} "$nines" run "$scenario" --shard "{}/$shards" \
    --threads 1 --out "$out/parts" --quiet "$@"
fi
"$nines" merge "$out/parts" --out "$out" --quiet
