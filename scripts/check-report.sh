#!/usr/bin/env bash
# Renders a nines report.html in headless Chromium and saves a screenshot,
# to look at the page as a person would. Needs Debian's chromium
# (apt-get install chromium); the page itself loads nothing from the network.
#   scripts/check-report.sh output/order-flow/report.html [out.png]
set -euo pipefail
page=${1:?usage: check-report.sh REPORT.html [OUT.png]}
out=${2:-${page%.html}.png}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "chromium not found: apt-get install -y chromium" >&2
  exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1100,3000 --hide-scrollbars \
  --screenshot="$(realpath -m "$out")" "file://$(realpath "$page")" >/dev/null 2>&1
test -s "$out"
echo "$out"
