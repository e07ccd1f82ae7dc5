"""Three WebRTCMultiplayerPeers in a mesh over real UDP sockets on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable

from webrtc import Error, TransferMode, WebRTCMultiplayerPeer, WebRTCPeerConnection

from .world import wire

BOUND = 30.0  # seconds: a bound on a hung run, never a measured threshold


def test_mesh_over_loopback_sockets() -> None:
    peers = [WebRTCMultiplayerPeer() for _ in range(3)]
    config = [TransferMode.TRANSFER_MODE_RELIABLE]
    for i, mp in enumerate(peers):
        assert mp.create_mesh(i + 1, config) == Error.OK
    for i in range(3):
        for j in range(i + 1, 3):
            a = WebRTCPeerConnection(loopback_only=True)
            b = WebRTCPeerConnection(loopback_only=True)
            assert peers[i].add_peer(a, j + 1, 60_000) == Error.OK  # (lifetimes: see D1 tests)
            assert peers[j].add_peer(b, i + 1, 60_000) == Error.OK
            wire(a, b)
            assert b.create_offer() == Error.OK  # the higher id offers
    connected: dict[int, list[int]] = {i + 1: [] for i in range(3)}
    for i, mp in enumerate(peers):
        mp.peer_connected.connect(connected[i + 1].append)
    received: dict[int, list[tuple[int, int, int, bytes]]] = {i + 1: [] for i in range(3)}

    def pump(until: Callable[[], bool]) -> None:
        deadline = time.monotonic() + BOUND
        while not until() and time.monotonic() < deadline:
            for i, mp in enumerate(peers):
                mp.poll()
                while mp.get_available_packet_count():
                    head = (mp.get_packet_peer(), mp.get_packet_channel(), mp.get_packet_mode())
                    received[i + 1].append((*head, mp.get_packet()))
            time.sleep(0.001)

    pump(lambda: all(len(c) == 2 for c in connected.values()))
    assert {k: sorted(v) for k, v in connected.items()} == {1: [2, 3], 2: [1, 3], 3: [1, 2]}
    sends = [
        (TransferMode.TRANSFER_MODE_RELIABLE, 0),
        (TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED, 0),
        (TransferMode.TRANSFER_MODE_UNRELIABLE, 0),
        (TransferMode.TRANSFER_MODE_RELIABLE, 1),
    ]
    for i, mp in enumerate(peers):
        for mode, channel in sends:
            mp.transfer_mode, mp.transfer_channel = mode, channel
            assert mp.put_packet(b"%d:%d:%d" % (i + 1, mode, channel)) == Error.OK
    pump(lambda: all(len(r) == 8 for r in received.values()))
    for me, got in received.items():
        expected = {
            (sender, channel, mode if channel == 0 else 2, b"%d:%d:%d" % (sender, mode, channel))
            for sender in (1, 2, 3)
            if sender != me
            for mode, channel in sends
        }
        assert set(got) == expected, me
    for mp in peers:
        mp.close()
