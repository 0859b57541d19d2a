#!/usr/bin/env bash
# The project's test command: the Rust suite, then the Python interop checks (SciPy,
# soundfile, Pillow, the official `onc` client) in a virtual environment under target/.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --bins
# cargo-nextest (on the development and CI machines) runs the tests of every binary side by
# side; plain `cargo test` runs one test binary after another. `--workspace`: the unit tests
# of crates/onc-core and crates/onc-sim too.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --workspace --no-fail-fast --lib --bins --tests
else
  cargo test --locked --workspace --lib --bins --tests --no-fail-fast
fi

VENV=target/pyenv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
HYDROFETCH_BIN="$PWD/target/debug/hydrofetch" "$VENV/bin/python" tests/python/run_all.py
