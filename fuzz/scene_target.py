"""Fuzz target: SceneMultiplayer packets (webrtc.scene) — the decoder for every command, and the
receive path of a server and a client (a malformed packet is dropped and counted, never raised).

Input: byte 0 picks the receiver (bit 0: server or client) and sender (bits 1-2), the rest is
the packet."""

from __future__ import annotations

import sys
from collections import deque
from typing import Any

from webrtc import ConnectionStatus, Error, MultiplayerPeer, TransferMode
from webrtc.scene import SceneMultiplayer, rpc
from webrtc.scene.protocol import ProtocolError, decode_packet


class _Peer(MultiplayerPeer):
    def __init__(self, unique_id: int) -> None:
        super().__init__()
        self.unique_id = unique_id
        self.inbox: deque[tuple[int, bytes]] = deque()

    def put_packet(self, buffer: bytes) -> Error:
        return Error.OK

    def get_packet(self) -> bytes:
        return self.inbox.popleft()[1]

    def get_packet_error(self) -> Error:
        return Error.OK

    def _set_packet_error(self, err: Error) -> None:
        pass

    def get_available_packet_count(self) -> int:
        return len(self.inbox)

    def get_max_packet_size(self) -> int:
        return 1200

    def set_target_peer(self, peer_id: int) -> None:
        pass

    def get_packet_peer(self) -> int:
        return self.inbox[0][0]

    def get_packet_channel(self) -> int:
        return 0

    def get_packet_mode(self) -> TransferMode:
        return TransferMode.TRANSFER_MODE_RELIABLE

    def get_unique_id(self) -> int:
        return self.unique_id

    def is_server(self) -> bool:
        return self.unique_id == 1

    def is_server_relay_supported(self) -> bool:
        return True

    def get_connection_status(self) -> ConnectionStatus:
        return ConnectionStatus.CONNECTION_CONNECTED

    def poll(self) -> None:
        pass

    def close(self) -> None:
        pass

    def disconnect_peer(self, peer: int, force: bool = False) -> None:
        pass


class _Node:
    @rpc("any_peer", "call_local")
    def ping(self, argument: Any) -> None:
        pass

    @rpc()
    def authority_only(self, *args: Any) -> None:
        pass


def _scene(unique_id: int) -> tuple[_Peer, SceneMultiplayer]:
    peer = _Peer(unique_id)
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
    peer.inbox.append((sender, packet))
    assert scene.poll() == Error.OK
    assert peer.get_available_packet_count() == 0


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
