"""Self-tests of the interop harness: ChromiumPeer and AiortcPeer against each other.

The real-peer tests run tests/interop/harness_scenario.py inside a private network namespace
and check its JSON result; screenshots of the Chromium page go to tests/artifacts/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from typing import Any

import pytest

from tests.interop.chromium_peer import CHROMIUM, ChromiumPeer
from tests.interop.netns import netns_available, private_netns, require

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
SCENARIO = "tests/interop/harness_scenario.py"
PAYLOAD_TYPES = ["str", "bytes", "str", "bytes", "str"]


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _require_peers() -> None:
    require(netns_available(), "network namespaces need root and iproute2")
    require(os.access(CHROMIUM, os.X_OK) or shutil.which("chromium") is not None, "chromium")
    require(_have("playwright"), "playwright is not installed")
    require(_have("aiortc"), "aiortc is not installed")


def _run_scenario(*args: str, timeout: float = 50) -> dict[str, Any]:
    with private_netns() as ns:
        proc = ns.python(SCENARIO, *args, timeout=timeout)
    assert proc.returncode == 0, f"scenario failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no output; stderr:\n{proc.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def test_disable_features_are_merged_into_one_flag() -> None:
    # Only the last --disable-features flag counts in Chromium.
    peer = ChromiumPeer(mdns=False, disable_features=["Foo"], allow_loopback=True)
    features = [a for a in peer.args if a.startswith("--disable-features=")]
    assert features == ["--disable-features=Foo,WebRtcHideLocalIpsWithMdns"]
    assert "--allow-loopback-in-peer-connection" in peer.args
    assert [a for a in ChromiumPeer().args if a.startswith("--disable-features")] == []


def test_aiortc_peer_local_api_without_network() -> None:
    # No description is set, so aiortc opens no socket: safe outside a namespace.
    require(_have("aiortc"), "aiortc is not installed")
    from tests.interop.aiortc_peer import AiortcPeer

    with AiortcPeer() as peer:
        peer.create_channel("a", {"ordered": False, "maxPacketLifeTime": 150, "protocol": "proto"})
        peer.create_channel("n", {"negotiated": True, "id": 9, "maxRetransmits": 2})
        with pytest.raises(ValueError, match="unknown channel options"):
            peer.create_channel("bad", {"maxPacketLifetime": 1})
        a = peer.channel_info("a")
        assert a is not None
        assert (a["ordered"], a["maxPacketLifeTime"], a["protocol"]) == (False, 150, "proto")
        n = peer.channel_info("n")
        assert n is not None
        assert (n["negotiated"], n["id"], n["maxRetransmits"]) == (True, 9, 2)
        assert peer.channel_state("a") == "connecting"
        assert peer.channel_state("missing") is None
        assert peer.connection_state() == "new"
        assert peer.local_candidates() == []
        pumped: list[int] = []
        with pytest.raises(TimeoutError, match="messages on 'a'"):
            peer.wait_messages("a", 1, timeout=0.05, pump=lambda: pumped.append(1))
        assert pumped
    assert not peer._thread.is_alive()


@pytest.mark.interop
@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["mdns", "raw"])
@pytest.mark.parametrize("offerer", ["chromium", "aiortc"])
def test_chromium_aiortc_echo(offerer: str, mode: str) -> None:
    _require_peers()
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, f"harness_{offerer}_{mode}.png")
    r = _run_scenario(offerer, mode, shot)
    assert r["chromium_state"] == "connected" and r["aiortc_state"] == "connected"
    assert r["chat_echo_ok"] and r["back_echo_ok"] and r["neg_echo_ok"], r
    assert r["chat_echo_types"] == PAYLOAD_TYPES
    assert r["received_by_answerer"] == PAYLOAD_TYPES
    assert r["chat_states"] == ["closed", "closed"]
    assert r["chromium_remote_channels"] == (["back"] if offerer == "chromium" else ["chat"])
    assert r["aiortc_remote_channels"] == (["chat"] if offerer == "chromium" else ["back"])
    for info in r["back_info"]:
        assert info["readyState"] == "open"
        assert (info["ordered"], info["maxRetransmits"], info["protocol"]) == (False, 3, "p")
    for info in r["neg_info"]:
        assert (info["negotiated"], info["id"]) == (True, 20)
    chrome_hosts = [c.split()[4] for c in r["chromium_candidates"]]
    assert chrome_hosts
    if mode == "mdns":
        assert all(h.endswith(".local") for h in chrome_hosts), chrome_hosts
    else:
        assert not any(h.endswith(".local") for h in chrome_hosts), chrome_hosts
    forwarded = r["forwarded_to_aiortc"]  # ChromiumPeer.new_candidates(): trickle, then end
    assert [c for _, _, c in forwarded] == [*r["chromium_candidates"], ""]
    assert r["aiortc_errors"] == []
    aiortc_hosts = [c.split()[4] for c in r["aiortc_candidates"]]
    assert aiortc_hosts and "127.0.0.1" not in aiortc_hosts
    assert os.path.getsize(shot) > 0


@pytest.mark.interop
@pytest.mark.timeout(60)
def test_chromium_candidate_forms() -> None:
    _require_peers()
    r = _run_scenario("candidates")
    hosts = {name: [c.split()[4] for c in cands] for name, cands in r.items()}
    assert hosts["default"] and all(h.endswith(".local") for h in hosts["default"])
    assert hosts["raw"] and not any(h.endswith(".local") for h in hosts["raw"])
    # Loopback needs --allow-loopback-in-peer-connection plus media permission.
    assert "127.0.0.1" in hosts["loopback_media"]
    assert "127.0.0.1" not in hosts["raw"]
