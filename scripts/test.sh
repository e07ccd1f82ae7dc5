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
