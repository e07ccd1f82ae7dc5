"""Interop with real peers (aiortc, headless Chromium) inside a private network namespace.

Each case runs tests/webrtc/interop_scenarios.py in a fresh namespace: channels open, messages
echo both ways (text, binary, 64 KiB), a peer-created channel arrives, closing a channel and
close() reach the peer.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.interop.netns import netns_available, private_netns, require

pytestmark = pytest.mark.interop


def _run(peer: str, direction: str) -> None:
    require(netns_available(), "network namespaces need root and iproute2")
    with private_netns() as ns:
        result = ns.python("-m", "tests.webrtc.interop_scenarios", peer, direction, timeout=150)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert "RESULT ok" in result.stdout, output[-8000:]


@pytest.mark.parametrize("direction", ["offer", "answer"])
def test_aiortc(direction: str) -> None:
    require(importlib.util.find_spec("aiortc") is not None, "aiortc is not installed")
    _run("aiortc", direction)


@pytest.mark.parametrize("direction", ["offer", "answer"])
def test_chromium(direction: str) -> None:
    require(os.path.exists("/usr/bin/chromium"), "chromium is not installed")
    require(importlib.util.find_spec("playwright") is not None, "playwright is not installed")
    _run("chromium", direction)
