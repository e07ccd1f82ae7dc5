"""Against aiortc the catalog reproduces the two known aiortc 1.16 bugs as failures with evidence:

* DCEP Label Length / Protocol Length written as character counts, not bytes (RFC 8832 §5.1);
* an ordered partially reliable stream stalls after FORWARD TSN (RFC 3758 §3.6).

The command line runs aiortc inside a private network namespace it creates (root); without root
the test is skipped, and with CI=true a missing aiortc or namespace support is a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.interop.netns import netns_available, require

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
BUGS = ["dcep.open.utf8-lengths.from-peer", "sctp.forward-tsn.ordered"]
CONTROLS = ["dcep.open.utf8-lengths.to-peer", "sctp.forward-tsn.unordered"]


def test_aiortc_known_bugs_are_failures_with_evidence(tmp_path: Path) -> None:
    require(importlib.util.find_spec("aiortc") is not None, "aiortc is not installed")
    require(netns_available(), "aiortc runs only in a private namespace (root and iproute2)")
    out = tmp_path / "aiortc.json"
    html = tmp_path / "aiortc.html"
    argv = ["--peer", "aiortc", "--scenario", *BUGS, *CONTROLS]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "webrtc",
            "conformance",
            *argv,
            "--json",
            str(out),
            "--report",
            str(html),
        ],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 1, proc.stderr  # failures, but no crash
    assert "[aiortc] sctp.forward-tsn.ordered ... fail" in proc.stderr
    doc = json.loads(out.read_text())
    results = {r["scenario"]: r for r in doc["results"]["aiortc"]}
    for name in CONTROLS:  # the same stimulus without the bug's trigger passes
        assert results[name]["verdict"] == "pass", results[name]

    dcep = results["dcep.open.utf8-lengths.from-peer"]
    assert dcep["verdict"] == "fail"
    assert dcep["rfc"] == "RFC 8832 §5.1"
    assert "21/14" in dcep["expected"]  # the byte counts a correct OPEN declares
    assert "ünïcødé ✓" in dcep["observed"]  # what the character counts cut the label to
    assert any("character counts" in n and "(15/10)" in n for n in dcep["notes"])
    assert dcep["trace"] and dcep["wire"]

    fwd = results["sctp.forward-tsn.ordered"]
    assert fwd["verdict"] == "fail"
    assert fwd["rfc"] == "RFC 3758 §3.6"
    assert "delivered 0 of 5" in fwd["observed"]
    kinds = {(r["direction"], r["kind"]) for r in fwd["trace"]}
    assert ("out", "FORWARD TSN") in kinds  # the packet exchange around it is in the evidence
    page = html.read_text()
    assert "sctp.forward-tsn.ordered" in page and "<svg" in page
