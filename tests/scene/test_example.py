"""examples/godot_demo_peer.py end to end on loopback: three demo peers (a host and two clients)
in one lobby of our signaling server ping each other with the demo's RPC, clients through the
host's relay."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

from tests.signaling.test_client import ServerThread

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "godot_demo_peer.py"
HANG_GUARD = 60.0  # a bug fails instead of hanging; never a timing assertion


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("godot_demo_peer", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_three_demo_peers_ping_each_other_through_the_relay() -> None:
    demo = _load()
    server = ServerThread()
    peers = []
    try:
        argv = ["--server", server.url, "--loopback-only"]
        host = demo.DemoPeer(demo.build_parser().parse_args(argv))
        host.signaling.connect(server.url)
        peers.append(host)
        deadline = time.monotonic() + HANG_GUARD
        while not host.signaling.lobby and time.monotonic() < deadline:
            host.frame()
            time.sleep(0.005)
        assert host.signaling.lobby
        for _ in range(2):
            peer = demo.DemoPeer(
                demo.build_parser().parse_args([*argv, "--lobby", host.signaling.lobby])
            )
            peer.signaling.connect(server.url)
            peers.append(peer)
        sent = {id(p): 0 for p in peers}
        while time.monotonic() < deadline:
            for peer in peers:
                peer.frame()
                if len(peer.scene.get_peers()) == 2 and sent[id(peer)] < 2:
                    peer.ping()
                    sent[id(peer)] += 1
            if all(
                len([s for s, _ in p.ui.pings if s != p.rtc_mp.get_unique_id()]) >= 4 for p in peers
            ):
                break
            time.sleep(0.005)
        # the demo node's only RPC is `ping`: method id 0, checksum md5("ping") (client_ui.gd)
        assert host.scene.get_rpc_md5(".") == hashlib.md5(b"ping").hexdigest()
        ids = sorted(p.rtc_mp.get_unique_id() for p in peers)
        assert ids[0] == 1
        for peer in peers:
            me = peer.rtc_mp.get_unique_id()
            senders = sorted(s for s, _ in peer.ui.pings)
            # two of its own (call_local) and two from each of the others
            assert senders == sorted([i for i in ids for _ in range(2)]), (me, senders)
            assert all(0.0 <= arg < 1.0 for _, arg in peer.ui.pings)
            assert not peer.scene.drop_counts
    finally:
        for peer in peers:
            peer.close()
        server.stop()
