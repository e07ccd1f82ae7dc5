"""Real browsers (headless Chromium) signaling through our server, inside a private netns."""

import importlib.util
import json
import os

import pytest

from tests.interop.chromium_peer import CHROMIUM
from tests.interop.netns import private_netns, require


@pytest.mark.interop
def test_two_chromium_pages_connect_through_our_signaling_server() -> None:
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    require(importlib.util.find_spec("playwright") is not None, "playwright not installed")
    with private_netns("sig") as ns:
        proc = ns.python("-m", "tests.signaling.browser_scenario", timeout=180)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True
    assert summary["candidates_at_host"] >= 2
