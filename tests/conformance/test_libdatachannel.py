"""libdatachannel (child process under a Python >= 3.13 with libdatachannel-py) through the
command line, in a private namespace. Skipped where no such interpreter exists (the issue asks
for this peer kind only where Python >= 3.13 is present); docs/CONFORMANCE.md has the setup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.interop.netns import netns_available, require
from webrtc.conformance.peers.libdatachannel_peer import find_python

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [
    "sdp.answer.attributes",
    "dcep.open.utf8-lengths.from-peer",
    "dcep.channel-parameters.to-peer",
    "sctp.forward-tsn.ordered",
    "dtls.close-notify",
]


def test_libdatachannel_runs_through_the_runner(tmp_path: Path) -> None:
    if find_python() is None:
        pytest.skip("no Python >= 3.13 with libdatachannel-py (see docs/CONFORMANCE.md)")
    require(netns_available(), "the peer runs in a private namespace (root and iproute2)")
    out = tmp_path / "ldc.json"
    argv = ["--peer", "libdatachannel", "--scenario", *SCENARIOS, "--json", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "webrtc", "conformance", *argv],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode in (0, 1), proc.stderr
    results = {r["scenario"]: r for r in json.loads(out.read_text())["results"]["libdatachannel"]}
    assert [results[s]["verdict"] for s in SCENARIOS[:4]] == ["pass"] * 4, proc.stderr
    # libdatachannel 0.24 ends with an SCTP SHUTDOWN but sends no DTLS close_notify
    close = results["dtls.close-notify"]
    assert (
        close["verdict"] == "fail"
        and "alert records from the peer after close(): 0" in (close["observed"])
    )
    assert any("SHUTDOWN" in r["summary"] for r in close["trace"])
