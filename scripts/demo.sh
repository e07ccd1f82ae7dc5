#!/usr/bin/env bash
# The main demo on a fresh clone: installs the package, then runs two peers over loopback UDP.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install -q --disable-pip-version-check -e .
exec "$PY" -m webrtc demo "$@"
