#!/usr/bin/env bash
# Regenerates the plot gallery in docs/gallery/: runs every example
# scenario (and one sweep and one comparison) with its plots into
# output/gallery/, copies the PNGs into docs/gallery/NAME/, and writes
# docs/gallery/manifest.txt, one line per figure set: NAME, then the nines
# arguments that made it (without --out and --plot).
#
#   scripts/gallery.sh [path/to/nines]     # default target/release/nines
#
# tests/gallery.rs reruns every manifest line and requires the same PNG
# bytes (output is deterministic), so rerun this after changing a plot, a
# scenario or the model. Request-level scenarios run few trials to keep
# that test fast; their pictures show the shape, not tight bands. It also
# writes the page docs/gallery.md, one section per line of the manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/nines}")
out=output/gallery
docs=docs/gallery
page=docs/gallery.md
rm -rf "$out" "$docs"
mkdir -p "$out" "$docs"
cat >"$page" <<'HEAD'
# Plot gallery

Every figure nines draws, for every example scenario in `scenarios/`, one
sweep and one comparison, made by `scripts/gallery.sh` (which also writes
this page). `tests/gallery.rs` reruns each command below and requires the
same PNG bytes, so the gallery shows what the current code draws. The
request-level scenarios ran 3 trials each to keep that test fast: their
bands are wide and their downtime often none, which the figures say.
What each figure shows is described in [Sweeps and plots](sweeps-and-plots.md).
HEAD

entries=()
for f in scenarios/*.toml; do
  name=$(basename "$f" .toml)
  if grep -q '^\[\[workload\]\]' "$f"; then trials=3; else trials=1000; fi
  entries+=("$name	run $f --trials $trials")
done
entries+=("sweep-active-active	sweep scenarios/active-active.toml --vary service.api.replicas=1..4 --trials 30")
entries+=("compare-retries	compare scenarios/retry-storm.toml scenarios/retry-budget.toml --trials 3")

for e in "${entries[@]}"; do
  name=${e%%	*}
  read -r -a args <<<"${e#*	}"
  plot=()
  [ "${args[0]}" = run ] && plot=(--plot)
  "$bin" "${args[@]}" --out "$out/$name" "${plot[@]}" --quiet >/dev/null
  mkdir -p "$docs/$name"
  cp "$out/$name"/*.png "$docs/$name/"
  printf '%s\n' "$e" >>"$docs/manifest.txt"
  {
    printf '\n## %s\n\n```sh\nnines %s\n```\n\n' "$name" "${args[*]} ${plot[*]}"
    for p in "$docs/$name"/*.png; do
      f=$(basename "$p" .png)
      printf '![%s: %s](gallery/%s/%s.png)\n' "$name" "${f//_/ }" "$name" "$f"
    done
  } >>"$page"
done
echo "wrote $(find "$docs" -name '*.png' | wc -l) figures into $docs"
