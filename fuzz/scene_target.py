"""Fuzz target: SceneMultiplayer packets (webrtc.scene) — the decoder for every command, and the
receive path of a server and a client (a malformed packet is dropped and counted, never raised).

Input: byte 0 picks the receiver (bit 0: server or client) and sender (bits 1-2), the rest is
the packet."""

from __future__ import annotations

import sys
from typing import Any

from webrtc import Error, TransferMode
from webrtc.scene import SceneMultiplayer, rpc
from webrtc.scene.protocol import ProtocolError, decode_packet
from webrtc.testing import ScriptedMultiplayerPeer


class _Node:
    @rpc("any_peer", "call_local")
    def ping(self, argument: Any) -> None:
        pass

    @rpc()
    def authority_only(self, *args: Any) -> None:
        pass


def _scene(unique_id: int) -> tuple[ScriptedMultiplayerPeer, SceneMultiplayer]:
    peer = ScriptedMultiplayerPeer(unique_id)
    scene = SceneMultiplayer(peer)
    for pid in (1, 2, 3) if unique_id != 1 else (2, 3):
        peer.peer_connected.emit(pid)
    scene.register_node(".", _Node())
    scene.register_node("Main/Player", _Node())
    return peer, scene


def test_one_input(data: bytes) -> None:
    if not data:
        return
    packet = data[1:]
    try:
        decode_packet(packet)
    except ProtocolError:
        pass
    peer, scene = _scene(1 if data[0] & 1 else 2)
    sender = (1, 2, 3, 9)[data[0] >> 1 & 3]
    peer.inbox.append((sender, 0, TransferMode.TRANSFER_MODE_RELIABLE, packet))
    assert scene.poll() == Error.OK
    assert peer.get_available_packet_count() == 0


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
