#!/usr/bin/env bash
# Builds the static Linux nines (musl), checks it, and packs it for a
# release (docs/release.md):
#
#   scripts/release/build-static.sh            # the machine's arch: x86_64 or aarch64
#
# 1. `cargo build --release --locked --target ARCH-unknown-linux-musl --bin nines`
#    (the command the root Dockerfile runs), and the usual glibc build;
# 2. checks the musl binary has no program interpreter (fully static);
# 3. runs the example scenario with both builds,
#      nines run scenarios/active-active.toml --trials 200 --quiet --out output/release-check
#    (the glibc build into output/release-check-glibc), and requires
#    summary.json and trials.csv to be the same bytes (on other models the
#    `nines` figure can differ in its last digit: glibc's and musl's log10
#    differ by one ulp at some inputs; docs/release.md has the details);
# 4. writes target/dist/nines-VERSION-TARGET.tar.gz (the binary, licences,
#    README, CHANGELOG; fixed order, owner and mtime) and its .sha256.
#
# Needs rustup (for the musl target, fetched once) and a C toolchain's `cc`
# as linker, as a glibc build does; Rust's musl target brings its own libc.
set -euo pipefail
cd "$(dirname "$0")/../.."

target="$(uname -m)-unknown-linux-musl"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
static="target/$target/release/nines"
glibc="target/release/nines"

echo "== musl target ($target)"
if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi

echo "== build"
cargo build --release --locked --target "$target" --bin nines
cargo build --release --locked --bin nines

echo "== static?"
if readelf -l "$static" | grep -q "program interpreter"; then
  echo "$static asks for a dynamic loader: not a static binary" >&2
  exit 1
fi
"$static" --version

echo "== same results as the glibc build"
rm -rf output/release-check output/release-check-glibc
"$static" run scenarios/active-active.toml --trials 200 --quiet --out output/release-check >/dev/null
"$glibc" run scenarios/active-active.toml --trials 200 --quiet --out output/release-check-glibc >/dev/null
for f in summary.json trials.csv; do
  if ! cmp "output/release-check/$f" "output/release-check-glibc/$f"; then
    echo "$f differs between the musl and glibc builds" >&2
    exit 1
  fi
  echo "$f: identical"
done

echo "== pack"
name="nines-$version-$target"
stage="target/dist/$name"
rm -rf "$stage" "$stage.tar.gz" "$stage.tar.gz.sha256"
mkdir -p "$stage"
cp "$static" LICENSE-MIT LICENSE-APACHE README.md CHANGELOG.md "$stage/"
# Fixed order, owner, mode and time (the last commit's), so the same binary
# always packs into the same bytes.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode=go-w \
  -C target/dist -cf - "$name" | gzip -n -9 >"$stage.tar.gz"
(cd target/dist && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
cat "$stage.tar.gz.sha256"
