#!/usr/bin/env bash
# Runs a scenario on a Slurm cluster: SHARDS array tasks, then one merge.
#
#   recipes/slurm/submit.sh scenario.toml results/ 16 [--trials 1000000 ...]
#
# Flags after the shard count go to every `nines run` (give every shard the
# same ones). results/ must be on a file system every node sees.
# results/summary.json, trials.csv (and timeline.csv) are written by the merge job,
# which starts only once every shard succeeded (afterok).
# NINES_CPUS_PER_TASK (default 4, shard.sbatch's) sets the cores, and so the
# threads, of each shard: a shard asking more than a node has never starts.
set -euo pipefail

scenario=${1:?usage: submit.sh SCENARIO OUT SHARDS [nines run flags...]}
out=${2:?usage: submit.sh SCENARIO OUT SHARDS [nines run flags...]}
shards=${3:?usage: submit.sh SCENARIO OUT SHARDS [nines run flags...]}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
nines=${NINES:-nines}
cpus=${NINES_CPUS_PER_TASK:-4}

array=$(sbatch --parsable --array="0-$((shards - 1))" --cpus-per-task="$cpus" "$here/shard.sbatch" "$scenario" "$out" "$@")
sbatch --parsable --dependency="afterok:${array%%;*}" --job-name=nines-merge \
  --output=nines-merge-%j.log --wrap "$nines merge $out/parts --out $out"
