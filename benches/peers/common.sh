# Shared by the scripts in this folder (sourced, not run): finding a Python
# that can import simpy, and building or locating the nines binary. The
# caller defines `die MESSAGE` and sets ROOT (the repository) first.

# find_simpy_python: sets PY to a python3 that can import simpy: the system
# one, else a venv at PEERS_VENV (default target/peers-venv, made here if
# need be), else a --user install.
find_simpy_python() {
  local venv=${PEERS_VENV:-$ROOT/target/peers-venv}
  command -v python3 >/dev/null ||
    die "python3 not found: the SimPy peers need Python 3 (e.g. apt-get install python3 python3-venv)"
  PY=python3
  "$PY" -c 'import simpy' 2>/dev/null && return
  if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import simpy' 2>/dev/null; then
    PY="$venv/bin/python"
  elif python3 -m venv "$venv" >/dev/null 2>&1 &&
    "$venv/bin/python" -m pip install --quiet simpy; then
    echo "installed simpy into $venv" >&2
    PY="$venv/bin/python"
  elif python3 -m pip install --quiet --user simpy && python3 -c 'import simpy' 2>/dev/null; then
    echo "installed simpy with pip --user" >&2
  else
    die "cannot install simpy (tried a venv at $venv and pip --user); install it by hand: python3 -m pip install simpy"
  fi
}

# find_nines: sets NINES to NINES_BIN when given, else builds nines in
# release and points at that binary.
find_nines() {
  if [[ -n ${NINES_BIN:-} ]]; then
    NINES=$NINES_BIN
  else
    command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs), or set NINES_BIN"
    echo "building nines (release)..." >&2
    (cd "$ROOT" && cargo build --release --quiet --bin nines)
    local target_dir
    target_dir=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
      sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    NINES="$target_dir/release/nines"
  fi
  [[ -x "$NINES" ]] || die "nines binary not found at $NINES"
}
