#!/usr/bin/env bash
# Runs a scenario on a Slurm cluster: SHARDS array tasks, then one merge.
#
#   recipes/slurm/submit.sh scenario.toml results/ 16 [--trials 1000000 ...]
#
# Flags after the shard count go to every `nines run` (give every shard the
# same ones). results/ must be on a file system every node sees.
# results/summary.json and results/trials.csv are written by the merge job,
# which starts only once every shard succeeded (afterok).
set -euo pipefail

scenario=${1:?usage: submit.sh SCENARIO OUT SHARDS [nines run flags...]}
out=${2:?usage: submit.sh SCENARIO OUT SHARDS [nines run flags...]}
shards=${3:?usage: submit.sh SCENARIO OUT SHARDS [nines run flags...]}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
nines=${NINES:-nines}

array=$(sbatch --parsable --array="0-$((shards - 1))" "$here/shard.sbatch" "$scenario" "$out" "$@")
sbatch --parsable --dependency="afterok:${array%%;*}" --job-name=nines-merge \
  --output=nines-merge-%j.log --wrap "$nines merge $out/parts --out $out"
