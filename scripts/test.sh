#!/usr/bin/env bash
# The project's test command: the Rust suite, then the Python interop checks (SciPy,
# soundfile, Pillow, the official `onc` client) in a virtual environment under target/.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --bins
cargo test --locked --lib --bins --tests --no-fail-fast

VENV=target/pyenv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
HYDROFETCH_BIN="$PWD/target/debug/hydrofetch" "$VENV/bin/python" tests/python/run_all.py
