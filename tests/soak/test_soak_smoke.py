"""The soak command works: a ~10 s run against aiortc inside a private netns ends clean."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

from tests.interop.netns import netns_available, require

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_soak_smoke() -> None:
    require(netns_available(), "the soak needs root + iproute2 for a private netns")
    require(importlib.util.find_spec("aiortc") is not None, "aiortc is not installed")
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("WEBRTC_SOAK_IN_NETNS", None)  # the command must enter its own namespace
    proc = subprocess.run(
        [sys.executable, "-m", "tests.soak", "--seconds", "10", "--seed", "7"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
        env=env,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr
    summary = json.loads(lines[-1])
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    assert summary["result"] == "ok"
    assert summary["channels_opened"] >= 3
    assert summary["channels_closed"] >= 1
    for direction in ("ours_to_aiortc", "aiortc_to_ours"):
        assert summary[direction]["messages"] > 100
        assert summary[direction]["bytes"] > 100_000
