#!/usr/bin/env bash
# Renders the report.html of `nines run --plot` in headless Chromium (Debian's
# chromium) and checks the screenshot is a page, not a blank: enough ink,
# enough distinct colours, and coloured pixels (the inline SVG figures; the
# text and tables are grey). Fails (exit 1) with Chromium's log and the
# figures otherwise; skips (exit 0) only when Chromium (or python3, which
# reads the PNG) is not installed and cannot be (needs root and apt-get).
#
#   scripts/engines/chromium.sh [SHOT.png]     (CI: .ci/run)
#
# SHOT.png keeps the screenshot (default: thrown away with the temp folder).
# NINES: the nines binary (default target/release/nines, built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
started=$SECONDS
keep=${1:-}

say() { echo "chromium.sh: $*"; }

browser() { command -v chromium || command -v chromium-browser || true; }
want=()
[ -n "$(browser)" ] || want+=(chromium)
command -v python3 >/dev/null || want+=(python3) # reads the screenshot
if [ ${#want[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  say "installing ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${want[@]}" >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq "${want[@]}" >/dev/null; } ||
    true
fi
chromium=$(browser)
python=$(command -v python3 || true)
if [ -z "$chromium" ] || [ -z "$python" ]; then
  say "SKIPPED: chromium or python3 is not installed and could not be installed here"
  exit 0
fi
nines=${NINES:-$repo/target/release/nines}
if [ ! -x "$nines" ]; then
  cargo build --locked --release
fi

tmp=$(mktemp -d /tmp/nines-chromium.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "chromium.sh: FAILED: $*" >&2
  [ -f "$tmp/chromium.log" ] && grep -v 'dbus\|DBus' "$tmp/chromium.log" | tail -n 40 >&2
  exit 1
}

"$nines" run scenarios/order-flow.toml --trials 8 --plot --out "$tmp/run" --quiet >/dev/null ||
  fail "nines run --plot failed"
[ -s "$tmp/run/report.html" ] || fail "nines run --plot wrote no report.html"
figures=$(grep -o '<svg' "$tmp/run/report.html" | wc -l)
[ "$figures" -ge 5 ] || fail "report.html holds $figures inline figures, not 5"

mkdir "$tmp/profile"
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$tmp/profile" --hide-scrollbars --window-size=1200,2000 \
  --screenshot="$tmp/shot.png" "file://$tmp/run/report.html" >"$tmp/chromium.log" 2>&1 ||
  fail "chromium exited $?"
[ -s "$tmp/shot.png" ] || fail "chromium wrote no screenshot"
[ -z "$keep" ] || cp "$tmp/shot.png" "$keep"

stats=$("$python" "$repo/scripts/engines/png_stats.py" "$tmp/shot.png") || fail "could not read the screenshot"
say "screenshot: $stats"
# A blank page: 1 colour, no ink. Text and tables alone: no coloured pixel.
"$python" - "$stats" <<'PY' || fail "the screenshot looks blank: $stats"
import json, sys
s = json.loads(sys.argv[1])
ok = (s["width"], s["height"]) == (1200, 2000) and s["colours"] >= 100 \
    and s["ink_share"] >= 0.01 and s["coloured"] >= 1000
sys.exit(0 if ok else 1)
PY
say "OK: report.html rendered, not blank ($((SECONDS - started)) s)"
