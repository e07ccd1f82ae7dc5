#!/usr/bin/env bash
# The whole test suite on a fresh clone: installs what it needs, then runs every quality gate.
# As root it also installs the Debian packages of the real peers (coturn, chromium, openssl).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  echo "== apt: coturn chromium openssl iproute2"
  apt-get update -qq
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections && apt-get install -y -qq coturn chromium openssl iproute2 tshark >/dev/null
fi

echo "== pip: the package and its test extras"
"$PY" -m pip install -q --disable-pip-version-check -e '.[test]'

# libdatachannel (a conformance peer) ships wheels for Python >= 3.13 only: set up its venv where
# such an interpreter exists; without one that peer is reported unavailable.
LDC_VENV="$HOME/.cache/webrtc-conformance/ldc-venv"
if [ ! -x "$LDC_VENV/bin/python" ]; then
  for c in "$HOME"/.pyenv/versions/3.1[3-9]*/bin/python python3.14 python3.13; do
    if "$c" -c 'import sys; assert sys.version_info >= (3, 13)' >/dev/null 2>&1; then
      echo "== libdatachannel-py in a venv of $c"
      { "$c" -m venv "$LDC_VENV" &&
        "$LDC_VENV/bin/pip" install -q --disable-pip-version-check libdatachannel-py; } ||
        { echo "libdatachannel-py could not be installed: that peer is unavailable"; rm -rf "$LDC_VENV"; }
      break
    fi
  done
fi

echo "== ruff check"
"$PY" -m ruff check .
echo "== ruff format --check"
"$PY" -m ruff format --check .
echo "== mypy --strict"
"$PY" -m mypy --strict sdp ice dtls sctp webrtc

echo "== pytest"
set +e
"$PY" -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests"
  rc=0
fi
[ "$rc" -eq 0 ] || exit "$rc"

echo "== bounded fuzz pass"
"$PY" fuzz/run.py --iterations "${FUZZ_ITERATIONS:-2000}"
