"""`ScriptedMultiplayerPeer`: a `MultiplayerPeer` without a network, for testing code built on
`webrtc.scene.SceneMultiplayer` (or any `MultiplayerPeer` user) packet by packet."""

from __future__ import annotations

from collections import deque

from ..errors import Error
from ..multiplayer import ConnectionStatus, MultiplayerPeer, TransferMode

__all__ = ["ScriptedMultiplayerPeer"]


class ScriptedMultiplayerPeer(MultiplayerPeer):
    """The test queues received packets in `inbox` as (sender, channel, mode, data) and reads
    what was sent from `sent` as (target, mode, channel, data). `connect_peer(id)` emits
    `peer_connected`; `disconnect_peer` is recorded in `disconnected`; `close()` makes the
    status DISCONNECTED. Unique id 1 is the server."""

    def __init__(self, unique_id: int, *, relay: bool = True, max_packet_size: int = 1200) -> None:
        super().__init__()
        self.unique_id = unique_id
        self.relay = relay
        self.max_packet_size = max_packet_size
        self.status = ConnectionStatus.CONNECTION_CONNECTED
        self.inbox: deque[tuple[int, int, int, bytes]] = deque()
        self.sent: list[tuple[int, int, int, bytes]] = []
        self.target = 0
        self.disconnected: list[int] = []
        self._error = Error.OK

    def connect_peer(self, peer_id: int) -> None:
        self.peer_connected.emit(peer_id)

    def put_packet(self, buffer: bytes) -> Error:
        mode, channel = int(self.get_transfer_mode()), self.get_transfer_channel()
        self.sent.append((self.target, mode, channel, bytes(buffer)))
        return Error.OK

    def get_packet(self) -> bytes:
        if not self.inbox:
            self._error = Error.ERR_UNAVAILABLE
            return b""
        self._error = Error.OK
        return self.inbox.popleft()[3]

    def get_packet_error(self) -> Error:
        return self._error

    def _set_packet_error(self, err: Error) -> None:
        self._error = err

    def get_available_packet_count(self) -> int:
        return len(self.inbox)

    def get_max_packet_size(self) -> int:
        return self.max_packet_size

    def set_target_peer(self, peer_id: int) -> None:
        self.target = peer_id

    def get_packet_peer(self) -> int:
        return self.inbox[0][0] if self.inbox else 0

    def get_packet_channel(self) -> int:
        return self.inbox[0][1] if self.inbox else 0

    def get_packet_mode(self) -> TransferMode:
        if not self.inbox:
            return TransferMode.TRANSFER_MODE_RELIABLE
        return TransferMode(self.inbox[0][2])

    def get_unique_id(self) -> int:
        return self.unique_id

    def is_server(self) -> bool:
        return self.unique_id == 1

    def is_server_relay_supported(self) -> bool:
        return self.relay

    def get_connection_status(self) -> ConnectionStatus:
        return self.status

    def poll(self) -> None:
        pass  # packets arrive only through `inbox`

    def close(self) -> None:
        self.status = ConnectionStatus.CONNECTION_DISCONNECTED

    def disconnect_peer(self, peer: int, force: bool = False) -> None:
        self.disconnected.append(peer)
