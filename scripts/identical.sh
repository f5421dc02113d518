#!/usr/bin/env bash
# Writes every output nines produces for the example scenarios and the
# hand-made fuzz fixtures into one folder, on 1 and 2 threads, so two builds
# can be compared byte for byte:
#
#   scripts/identical.sh path/to/old/nines output/identical/before
#   scripts/identical.sh target/release/nines output/identical/after
#   diff -r output/identical/before output/identical/after
#
# Used to prove that a restructuring changes no output byte. Each command's
# stdout, stderr and exit code are kept beside the files it writes.
set -uo pipefail
bin=$(realpath "$1")
dest=$2
cd "$(dirname "$0")/.."
rm -rf "$dest"
mkdir -p "$dest"

record() { # name, then the command's arguments
  local name=$1; shift
  "$bin" "$@" >"$dest/$name.stdout" 2>"$dest/$name.stderr"
  echo $? >"$dest/$name.rc"
}

files=(scenarios/*.toml tests/fuzz_regressions/handmade-*.toml)
sed -e 's/{horizon}/2/' -e 's/{crashes}/failure = { mean = "1s" }\nrepair = { mean = "200ms" }/' \
  benches/two_hop.toml.in >"$dest/two_hop.toml" && files+=("$dest/two_hop.toml")
for f in "${files[@]}"; do
  s=$(basename "$f" .toml)
  record "check-$s" check "$f"
  for t in 1 2; do
    record "run-$s-t$t" run "$f" --trials 64 --threads "$t" --out "$dest/run-$s-t$t" --plot
    record "json-$s-t$t" run "$f" --trials 16 --seed 7 --threads "$t" --format json --out "$dest/json-$s-t$t"
  done
  record "trace-$s" trace "$f" --trial 3 --out "$dest/trace-$s" --quiet
done
for t in 1 2; do
  record "sweep-aa-t$t" sweep scenarios/active-active.toml --vary service.api.replicas=1..3 --trials 64 --threads "$t" --out "$dest/sweep-aa-t$t"
  record "sweep-rs-t$t" sweep scenarios/retry-storm.toml --vary service.web.replicas=2..3 --trials 8 --threads "$t" --out "$dest/sweep-rs-t$t"
  record "compare-t$t" compare scenarios/retry-storm.toml scenarios/retry-budget.toml --trials 8 --threads "$t" --out "$dest/compare-t$t"
  record "shard1-t$t" run scenarios/active-passive.toml --trials 64 --threads "$t" --shard 0/2 --out "$dest/shards-t$t/parts"
  record "shard2-t$t" run scenarios/active-passive.toml --trials 64 --threads "$t" --shard 1/2 --out "$dest/shards-t$t/parts"
  record "merge-t$t" merge "$dest/shards-t$t/parts" --out "$dest/shards-t$t/merged"
done
# The folders hold the absolute destination in places (the marker); make
# the comparison independent of where it was written.
grep -rlI --exclude='*.png' "$dest" "$dest" 2>/dev/null | while read -r f; do sed -i "s#$dest#DEST#g" "$f"; done
# Wall-clock figures on stderr ("64 trials in 0.02 s (3569 trials/s, ...)")
# change from run to run; mask them.
sed -i -E 's/ in [0-9.]+ s( \([^)]*\))?/ in T s/g' "$dest"/*.stderr
echo "wrote $(find "$dest" -type f | wc -l) files into $dest"
