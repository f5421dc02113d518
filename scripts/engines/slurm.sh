#!/usr/bin/env bash
# Runs recipes/slurm/submit.sh on a real Slurm: a one-node cluster started
# here (munged, slurmctld and slurmd on this machine, every file under one
# temporary folder), a job array of shards and the merge job that waits for
# it; then checks that summary.json, trials.csv and timeline.csv are byte
# for byte those of one whole `nines run`. Fails (exit 1, with the job logs
# and daemon logs) on any difference or failed job; skips (exit 0) only when
# Slurm is not installed and cannot be (needs root and apt-get).
#
#   scripts/engines/slurm.sh            (CI: .ci/run)
#
# NINES: the nines binary (default target/release/nines, built if missing).
# NINES_SLURM_PORTS: slurmctld's and slurmd's ports (default 16817,16818, so
# as not to meet a Slurm already running on the machine).
# KEEP=1 keeps the temporary folder (slurm.conf, daemon and job logs).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
started=$SECONDS

scenario=scenarios/order-flow.toml   # request level: timeline.csv too
trials=8                             # request level: one chunk per trial
seed=7
shards=4
cpus=1                               # per shard: two shards at once on 2 CPUs

say() { echo "slurm.sh: $*"; }

# -- what it needs ----------------------------------------------------------
need=(slurmctld slurmd munged sbatch scontrol sinfo)
missing() { for c in "${need[@]}"; do command -v "$c" >/dev/null || return 0; done; return 1; }
if missing; then
  PATH=$PATH:/usr/sbin:/sbin
fi
if missing; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq slurm-wlm munge >/dev/null ||
      { apt-get update -qq && apt-get install -y -qq slurm-wlm munge >/dev/null; } ||
      true
  fi
fi
if missing; then
  say "SKIPPED: Slurm (slurm-wlm, munge) is not installed and could not be installed here"
  exit 0
fi
nines=${NINES:-$repo/target/release/nines}
if [ ! -x "$nines" ]; then
  cargo build --locked --release
fi
nines=$(realpath "$nines")

# -- a one-node cluster -----------------------------------------------------
tmp=$(mktemp -d /tmp/nines-slurm.XXXXXX)
chmod 755 "$tmp"
cleanup() {
  # Keep the script's own status: a daemon that removes its pid file while
  # we read it must not turn a passing run into a failure.
  local rc=$?
  set +e
  scancel --user="$(id -un)" 2>/dev/null || true
  scontrol shutdown >/dev/null 2>&1 || true # slurmctld and slurmd
  local f pid
  for f in slurmd slurmctld munged; do
    [ -s "$tmp/$f.pid" ] || continue
    pid=$(cat "$tmp/$f.pid" 2>/dev/null) || continue
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

logs() {
  echo "---- squeue"
  squeue -a -o '%i %j %T %r' 2>&1 || true
  echo "---- scontrol show jobs"
  scontrol show jobs 2>&1 | grep -E 'JobId=|JobState=|Reason|ExitCode' || true
  for f in "$tmp"/work/*.log "$tmp"/slurmctld.log "$tmp"/slurmd.log "$tmp"/munged.log; do
    [ -f "$f" ] || continue
    echo "---- $f"
    tail -n 60 "$f"
  done
}
fail() {
  echo "slurm.sh: FAILED: $*" >&2
  logs >&2
  exit 1
}

host=$(hostname -s 2>/dev/null || uname -n | cut -d. -f1)
IFS=, read -r ctld_port slurmd_port <<<"${NINES_SLURM_PORTS:-16817,16818}"
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/work"
chmod 700 "$tmp/munge"
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
munged --force --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/socket" \
  --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" \
  --seed-file="$tmp/munge/seed" || fail "munged did not start"

export SLURM_CONF=$tmp/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=nines
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=nines Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -c || fail "slurmctld did not start"
slurmd -N "$host" || fail "slurmd did not start"
for _ in $(seq 60); do
  state=$(sinfo -h -N -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 1
done
[ "$state" = idle ] || fail "the node is '$state', not idle, after 60 s"
say "cluster up ($host, 2 CPUs) in $((SECONDS - started)) s"

# -- the recipe against one whole run ---------------------------------------
cd "$tmp/work"
cp "$repo/$scenario" scenario.toml
"$nines" run scenario.toml --trials "$trials" --seed "$seed" --out whole --quiet >/dev/null
merge=$(NINES=$nines NINES_CPUS_PER_TASK=$cpus \
  "$repo/recipes/slurm/submit.sh" scenario.toml results "$shards" --trials "$trials" --seed "$seed") ||
  fail "submit.sh failed"
say "submitted $shards shards and merge job $merge"

# Until the merge job ends; a job that can never run (a failed shard leaves
# the merge DependencyNeverSatisfied; a shard asking more than the node has
# waits on PartitionConfig) fails the test at once.
for _ in $(seq 180); do
  state=$(scontrol show job "$merge" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  case $state in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED) break ;;
  esac
  stuck=$(squeue -h -o '%i %r' | grep -vE ' (None|Dependency|Resources|Priority|Prolog)$' || true)
  [ -z "$stuck" ] || fail "a job can never run: $stuck"
  sleep 1
done
[ "$state" = COMPLETED ] || fail "merge job $merge ended '$state'"
squeue -h | grep . && fail "jobs left in the queue"

for f in summary.json trials.csv timeline.csv; do
  [ -s "whole/$f" ] || fail "the whole run wrote no $f"
  [ -f "results/$f" ] || fail "the merge job wrote no results/$f"
  cmp "whole/$f" "results/$f" || fail "results/$f differs from one whole run's"
done
ls results/parts/shard-*-of-"$shards".nines-part >/dev/null
say "OK: $shards Slurm array tasks + merge job = one whole run, byte for byte ($((SECONDS - started)) s)"
