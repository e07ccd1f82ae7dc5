"""`WebRTCMultiplayerPeer`: Godot's multiplayer transport over one `WebRTCPeerConnection` per peer.

A map `peer_id -> (connection, [channels], connected)`; it never signals, offers or sets
descriptions, and adds no bytes to a packet (one `put_packet` = one data-channel message).
Behaviour follows Godot's `modules/webrtc/webrtc_multiplayer_peer.cpp` (MP) and the
`MultiplayerPeer`/`PacketPeer` bases (MPB, PP) as written down in the project's MULTIPLAYER.md
(sections cited as §n), with the project's decisions D1-D5 (§8; see docs/MULTIPLAYER.md).
Every failure returns Godot's `Error` code and is also logged, as Godot prints it.
"""

from __future__ import annotations

import logging
import random
from abc import abstractmethod
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any

from .data_channel import WebRTCDataChannel
from .errors import Error
from .logs import clip
from .packet_peer import DEFAULT_ENCODE_BUFFER_MAX_SIZE, PacketPeer
from .peer_connection import WebRTCPeerConnection
from .signals import Signal
from .states import ChannelState, ConnectionState

logger = logging.getLogger(__name__)

MAX_PEER_ID = 2147483647  # ~(1 << 31): ids are positive 31-bit (negative = exclusion)
MAX_PACKET_SIZE = 1200  # MP get_max_packet_size(): advisory constant
_BUFFERS = (bytes, bytearray, memoryview)

# Channel list indices of the three reserved channels (MP CH_RELIABLE, CH_ORDERED, CH_UNRELIABLE).
CH_RELIABLE = 0
CH_ORDERED = 1
CH_UNRELIABLE = 2
CH_RESERVED_MAX = 3


class TransferMode(IntEnum):
    """`MultiplayerPeer.TransferMode`."""

    TRANSFER_MODE_UNRELIABLE = 0
    TRANSFER_MODE_UNRELIABLE_ORDERED = 1
    TRANSFER_MODE_RELIABLE = 2


class ConnectionStatus(IntEnum):
    """`MultiplayerPeer.ConnectionStatus`."""

    CONNECTION_DISCONNECTED = 0
    CONNECTION_CONNECTING = 1
    CONNECTION_CONNECTED = 2


class NetworkMode(Enum):
    """MP's `NetworkMode` (not exposed by Godot; what `create_*` chose)."""

    NONE = "none"
    SERVER = "server"
    CLIENT = "client"
    MESH = "mesh"


_Mode = TransferMode  # for annotations inside the classes, where the names are class attributes
_Status = ConnectionStatus


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fail(err: Error, message: str, *args: Any) -> Error:
    """Log `message` as Godot's ERR_FAIL_* prints it and return `err`."""
    logger.error(message, *args)
    return err


class MultiplayerPeer(PacketPeer):
    """Godot's `MultiplayerPeer` base (with `PacketPeer`'s `put_var`/`get_var`): the fields every
    transport shares. Subclasses implement the packet and peer methods."""

    TransferMode = TransferMode
    ConnectionStatus = ConnectionStatus
    TRANSFER_MODE_UNRELIABLE = TransferMode.TRANSFER_MODE_UNRELIABLE
    TRANSFER_MODE_UNRELIABLE_ORDERED = TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED
    TRANSFER_MODE_RELIABLE = TransferMode.TRANSFER_MODE_RELIABLE
    CONNECTION_DISCONNECTED = ConnectionStatus.CONNECTION_DISCONNECTED
    CONNECTION_CONNECTING = ConnectionStatus.CONNECTION_CONNECTING
    CONNECTION_CONNECTED = ConnectionStatus.CONNECTION_CONNECTED
    TARGET_PEER_BROADCAST = 0
    TARGET_PEER_SERVER = 1

    def __init__(self, *, rng: random.Random | None = None) -> None:
        self.peer_connected = Signal("peer_connected")
        self.peer_disconnected = Signal("peer_disconnected")
        self._rng: random.Random = rng if rng is not None else random.SystemRandom()
        self._transfer_mode: int = TransferMode.TRANSFER_MODE_RELIABLE
        self._transfer_channel = 0
        self._refuse_new_connections = False
        self._encode_buffer_max_size = DEFAULT_ENCODE_BUFFER_MAX_SIZE

    # -- MultiplayerPeer properties (plain fields, MPB) -------------------------------------

    def get_transfer_mode(self) -> _Mode | int:
        """The mode of the next `put_packet` (an int Godot's enum lacks is kept as given)."""
        try:
            return TransferMode(self._transfer_mode)
        except ValueError:
            return self._transfer_mode

    def set_transfer_mode(self, mode: int) -> None:
        if not _is_int(mode):
            logger.error("set_transfer_mode: not an int: %s", clip(mode))
            return
        self._transfer_mode = mode

    transfer_mode = property(get_transfer_mode, set_transfer_mode)

    def get_transfer_channel(self) -> int:
        return self._transfer_channel

    def set_transfer_channel(self, channel: int) -> None:
        if not _is_int(channel):
            logger.error("set_transfer_channel: not an int: %s", clip(channel))
            return
        self._transfer_channel = channel

    transfer_channel = property(get_transfer_channel, set_transfer_channel)

    def is_refusing_new_connections(self) -> bool:
        return self._refuse_new_connections

    def set_refuse_new_connections(self, enable: bool) -> None:
        self._refuse_new_connections = bool(enable)

    refuse_new_connections = property(is_refusing_new_connections, set_refuse_new_connections)

    def generate_unique_id(self) -> int:
        """A random id in 2..2^31-1 (MPB: 31 bits, never 0 or 1)."""
        while True:
            value = self._rng.getrandbits(31)
            if value > 1:
                return value

    # -- what a transport implements ---------------------------------------------------------

    # (and PacketPeer's put_packet, get_packet, get_packet_error, _set_packet_error)

    @abstractmethod
    def get_available_packet_count(self) -> int: ...

    @abstractmethod
    def get_max_packet_size(self) -> int: ...

    @abstractmethod
    def set_target_peer(self, peer_id: int) -> None: ...

    @abstractmethod
    def get_packet_peer(self) -> int: ...

    @abstractmethod
    def get_packet_channel(self) -> int: ...

    @abstractmethod
    def get_packet_mode(self) -> _Mode | int: ...

    @abstractmethod
    def get_unique_id(self) -> int: ...

    @abstractmethod
    def is_server(self) -> bool: ...

    @abstractmethod
    def is_server_relay_supported(self) -> bool: ...

    @abstractmethod
    def get_connection_status(self) -> _Status: ...

    @abstractmethod
    def poll(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def disconnect_peer(self, peer: int, force: bool = False) -> None: ...


@dataclass(eq=False)
class _ConnectedPeer:
    """One entry of the peer map (MP `ConnectedPeer`)."""

    connection: WebRTCPeerConnection
    channels: list[WebRTCDataChannel] = field(default_factory=list)
    connected: bool = False


class WebRTCMultiplayerPeer(MultiplayerPeer):
    """Godot's `WebRTCMultiplayerPeer`. Signals `peer_connected(id)`, `peer_disconnected(id)`
    are emitted only from `poll()` and `remove_peer()`."""

    def __init__(self, *, rng: random.Random | None = None) -> None:
        super().__init__(rng=rng)
        self._peer_map: dict[int, _ConnectedPeer] = {}
        self._channels_config: list[dict[str, Any]] = []
        self._channels_modes: list[int] = []
        self._unique_id = 0
        self._target_peer = 0
        self._next_packet_peer = 0
        self._network_mode = NetworkMode.NONE
        self._connection_status = ConnectionStatus.CONNECTION_DISCONNECTED
        self._packet_error = Error.OK

    # -- WebRTCMultiplayerPeer ----------------------------------------------------------------

    def create_server(self, channels_config: list[Any] | None = None) -> Error:
        """Become the server, id 1 (status CONNECTED at once)."""
        return self._initialize(1, NetworkMode.SERVER, channels_config)

    def create_client(self, peer_id: int, channels_config: list[Any] | None = None) -> Error:
        """Become client `peer_id` (status CONNECTING until peer 1 connects)."""
        if _is_int(peer_id) and peer_id == 1:
            return _fail(Error.ERR_INVALID_PARAMETER, "Clients cannot have ID 1.")
        return self._initialize(peer_id, NetworkMode.CLIENT, channels_config)

    def create_mesh(self, peer_id: int, channels_config: list[Any] | None = None) -> Error:
        """Become mesh peer `peer_id` (status CONNECTED at once; 1 is allowed)."""
        return self._initialize(peer_id, NetworkMode.MESH, channels_config)

    def _initialize(self, self_id: Any, mode: NetworkMode, channels_config: Any) -> Error:
        """MP `_initialize` (§1.1): a failure leaves the id and mode unchanged."""
        if channels_config is None:
            channels_config = []
        if not isinstance(channels_config, list | tuple):
            return _fail(Error.ERR_INVALID_PARAMETER, "channels_config must be an Array")
        if not _is_int(self_id) or not 1 <= self_id <= MAX_PEER_ID:
            return _fail(Error.ERR_INVALID_PARAMETER, "Invalid peer id: %s", clip(self_id))
        # Godot clears the config first: an error part-way keeps what was parsed so far.
        self._channels_config.clear()
        self._channels_modes = [
            TransferMode.TRANSFER_MODE_RELIABLE,
            TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED,
            TransferMode.TRANSFER_MODE_UNRELIABLE,
        ]
        for i, mode_value in enumerate(channels_config):
            if not _is_int(mode_value):
                return _fail(
                    Error.ERR_INVALID_PARAMETER,
                    "The 'channels_config' array must contain only enum values from "
                    "'MultiplayerPeer.TransferMode'",
                )
            cfg: dict[str, Any] = {"id": CH_RESERVED_MAX + i + 1, "negotiated": True}
            cfg["ordered"] = True
            if mode_value == TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED:
                cfg["maxPacketLifetime"] = 1  # Godot's spelling (§3, D1)
            elif mode_value == TransferMode.TRANSFER_MODE_UNRELIABLE:
                cfg["maxPacketLifetime"] = 1
                cfg["ordered"] = False
            elif mode_value != TransferMode.TRANSFER_MODE_RELIABLE:
                return _fail(
                    Error.ERR_INVALID_PARAMETER,
                    "The 'channels_config' array must contain only enum values from "
                    "'MultiplayerPeer.TransferMode'. Got: %s",
                    clip(mode_value),
                )
            self._channels_config.append(cfg)
            self._channels_modes.append(TransferMode(mode_value))
        self._unique_id = self_id
        self._network_mode = mode
        if mode is NetworkMode.CLIENT:
            self._connection_status = ConnectionStatus.CONNECTION_CONNECTING
        else:
            self._connection_status = ConnectionStatus.CONNECTION_CONNECTED
        return Error.OK

    def add_peer(self, peer: Any, peer_id: int, unreliable_lifetime: int = 1) -> Error:
        """Create §3's negotiated channels on `peer` (STATE_NEW) and add it as `peer_id`.
        Checks in MP's order (§1.3); the connection is only polled from then on."""
        if not _is_int(peer_id) or not _is_int(unreliable_lifetime):
            return _fail(Error.ERR_INVALID_PARAMETER, "add_peer: peer_id and lifetime are ints")
        mode = self._network_mode
        if mode is NetworkMode.NONE:
            return _fail(Error.ERR_UNCONFIGURED, "add_peer: create_server/client/mesh first")
        if mode is NetworkMode.CLIENT and peer_id != 1:
            return _fail(Error.ERR_INVALID_PARAMETER, "add_peer: a client only adds peer 1")
        if mode is NetworkMode.SERVER and peer_id == 1:
            return _fail(Error.ERR_INVALID_PARAMETER, "add_peer: a server cannot add peer 1")
        if not 1 <= peer_id <= MAX_PEER_ID:
            return _fail(Error.ERR_INVALID_PARAMETER, "add_peer: invalid id %s", clip(peer_id))
        if unreliable_lifetime < 0:
            return _fail(Error.ERR_INVALID_PARAMETER, "add_peer: negative unreliable_lifetime")
        if self._refuse_new_connections:
            return _fail(Error.ERR_UNAUTHORIZED, "add_peer: refusing new connections")
        if not isinstance(peer, WebRTCPeerConnection):
            return _fail(Error.ERR_INVALID_PARAMETER, "add_peer: not a WebRTCPeerConnection")
        if peer.get_connection_state() is not ConnectionState.STATE_NEW:
            return _fail(Error.ERR_INVALID_PARAMETER, "add_peer: the connection is not STATE_NEW")
        lifetime = min(unreliable_lifetime, 65535)  # a channel's lifetime is 16-bit (RFC 8832)
        reserved = (
            ("reliable", {"negotiated": True, "ordered": True, "id": 1}),
            (
                "ordered",
                {"negotiated": True, "ordered": True, "id": 2, "maxPacketLifetime": lifetime},
            ),
            (
                "unreliable",
                {"negotiated": True, "ordered": False, "id": 3, "maxPacketLifetime": lifetime},
            ),
        )
        channels: list[WebRTCDataChannel] = []
        configs = [*reserved, *((str(c["id"]), c) for c in self._channels_config)]
        for label, options in configs:
            channel = peer.create_data_channel(label, dict(options))
            if channel is None:
                return _fail(Error.FAILED, "add_peer: cannot create channel %s", label)
            channels.append(channel)
        old = self._peer_map.get(peer_id)
        self._peer_map[peer_id] = _ConnectedPeer(peer, channels)  # a known id is replaced (D3)
        if old is not None and old.connection is not peer:
            old.connection.close()  # D2: the dropped connection is closed
        return Error.OK

    def remove_peer(self, peer_id: int) -> None:
        """Drop `peer_id` and close its connection (D2); `peer_disconnected` if it was
        connected. A client losing peer 1 becomes DISCONNECTED, connected or not (D3)."""
        peer = self._peer_map.pop(peer_id, None) if _is_int(peer_id) else None
        if peer is None:
            logger.error("remove_peer: unknown peer %s", clip(peer_id))
            return
        was_connected, peer.connected = peer.connected, False
        try:
            if was_connected:
                self.peer_disconnected.emit(peer_id)
        finally:
            if self._network_mode is NetworkMode.CLIENT and peer_id == self.TARGET_PEER_SERVER:
                self._connection_status = ConnectionStatus.CONNECTION_DISCONNECTED  # D3
            peer.connection.close()  # D2

    def has_peer(self, peer_id: int) -> bool:
        return _is_int(peer_id) and peer_id in self._peer_map

    def get_peer(self, peer_id: int) -> dict[str, Any]:
        """`{"connection", "connected", "channels"}` of `peer_id`; `{}` if unknown."""
        peer = self._peer_map.get(peer_id) if _is_int(peer_id) else None
        if peer is None:
            logger.error("get_peer: unknown peer %s", clip(peer_id))
            return {}
        return _peer_to_dict(peer)

    def get_peers(self) -> dict[int, dict[str, Any]]:
        """Every peer's `get_peer` dictionary, in the order they were added."""
        return {pid: _peer_to_dict(p) for pid, p in self._peer_map.items()}

    # -- MultiplayerPeer ----------------------------------------------------------------------

    def set_target_peer(self, peer_id: int) -> None:
        """Target of `put_packet`: id, 0 = every peer, -id = every peer but id."""
        if not _is_int(peer_id):
            logger.error("set_target_peer: not an int: %s", clip(peer_id))
            return
        self._target_peer = peer_id

    def get_packet_peer(self) -> int:
        """Sender of the packet `get_packet` returns next (0 if none); read it first."""
        return self._next_packet_peer

    def _next_packet_channel(self) -> int:
        peer = self._peer_map.get(self._next_packet_peer)
        if self._next_packet_peer == 0 or peer is None:
            return -1
        for index, channel in enumerate(peer.channels):
            if channel.get_available_packet_count():
                return index
        return -1

    def get_packet_channel(self) -> int:
        """Channel of the next packet: 0 for the three reserved ones, else 1 + custom index."""
        index = self._next_packet_channel()
        if index < CH_RESERVED_MAX:
            return 0
        return index - CH_RESERVED_MAX + 1

    def get_packet_mode(self) -> _Mode | int:
        """The configured mode of the next packet's channel (RELIABLE, logged, if none)."""
        index = self._next_packet_channel()
        if not 0 <= index < len(self._channels_modes):
            logger.error("get_packet_mode: no packet available")
            return TransferMode.TRANSFER_MODE_RELIABLE
        return self._channels_modes[index]

    def get_unique_id(self) -> int:
        if self._connection_status is ConnectionStatus.CONNECTION_DISCONNECTED:
            logger.error("get_unique_id: not connected")
            return 1
        return self._unique_id

    def is_server(self) -> bool:
        return self._unique_id == self.TARGET_PEER_SERVER

    def is_server_relay_supported(self) -> bool:
        return self._network_mode in (NetworkMode.SERVER, NetworkMode.CLIENT)

    def get_connection_status(self) -> _Status:
        return self._connection_status

    def poll(self) -> None:
        """Poll every connection (D5), then remove failed peers and announce ready ones, in that
        order (§6.1); the only place where peers connect."""
        if not self._peer_map:
            return
        remove: list[tuple[int, _ConnectedPeer]] = []
        add: list[tuple[int, _ConnectedPeer]] = []
        for peer_id, peer in list(self._peer_map.items()):
            if self._peer_map.get(peer_id) is not peer:
                continue  # removed by a handler of an earlier connection's signals
            peer.connection.poll()
            state = peer.connection.get_connection_state()
            if state in (ConnectionState.STATE_NEW, ConnectionState.STATE_CONNECTING):
                continue
            if state is not ConnectionState.STATE_CONNECTED:
                remove.append((peer_id, peer))  # DISCONNECTED, FAILED, CLOSED
                continue
            ready = 0
            for channel in peer.channels:
                channel_state = channel.get_ready_state()
                if channel_state is ChannelState.STATE_OPEN:
                    ready += 1
                elif channel_state is not ChannelState.STATE_CONNECTING:
                    remove.append((peer_id, peer))  # CLOSING or CLOSED
                    break
            if ready == len(peer.channels) and not peer.connected:
                peer.connected = True
                add.append((peer_id, peer))
        for peer_id, peer in remove:
            if self._peer_map.get(peer_id) is peer:
                self.remove_peer(peer_id)
            if self._next_packet_peer == peer_id:
                self._next_packet_peer = 0
        for peer_id, peer in add:
            if self._peer_map.get(peer_id) is not peer or not peer.connected:
                continue  # removed meanwhile (e.g. by a handler)
            if self._network_mode is NetworkMode.CLIENT:
                self._connection_status = ConnectionStatus.CONNECTION_CONNECTED
            self.peer_connected.emit(peer_id)
        if self._next_packet_peer == 0:
            self._find_next_peer()

    def close(self) -> None:
        """Forget every peer and close its connection (D2, no signals); back to DISCONNECTED.
        `transfer_*`, `refuse_new_connections` and the channel modes survive (as in Godot)."""
        peers = list(self._peer_map.values())
        self._peer_map.clear()
        self._channels_config.clear()
        self._unique_id = 0
        self._next_packet_peer = 0
        self._target_peer = 0
        self._network_mode = NetworkMode.NONE
        self._connection_status = ConnectionStatus.CONNECTION_DISCONNECTED
        for peer in peers:
            peer.connection.close()

    def disconnect_peer(self, peer: int, force: bool = False) -> None:
        """Close `peer`'s connection; the next `poll()` removes it. With `force`, remove it at
        once without a signal (and close it, D2)."""
        entry = self._peer_map.get(peer) if _is_int(peer) else None
        if entry is None:
            logger.error("disconnect_peer: unknown peer %s", clip(peer))
            return
        if force:
            del self._peer_map[peer]
            if self._network_mode is NetworkMode.CLIENT and peer == self.TARGET_PEER_SERVER:
                self._connection_status = ConnectionStatus.CONNECTION_DISCONNECTED
        entry.connection.close()

    # -- PacketPeer ---------------------------------------------------------------------------

    def put_packet(self, buffer: bytes) -> Error:
        """Send one message to the target peer(s) on the channel of `transfer_channel` /
        `transfer_mode` (§4.2). An empty buffer sends nothing (PP)."""
        if not isinstance(buffer, _BUFFERS):
            return _fail(Error.ERR_INVALID_PARAMETER, "put_packet: not bytes: %s", clip(buffer))
        if len(buffer) == 0:
            return Error.OK
        if self._connection_status is ConnectionStatus.CONNECTION_DISCONNECTED:
            return _fail(Error.ERR_UNCONFIGURED, "put_packet: not connected")
        index = 0
        if self._transfer_channel == 0:
            if self._transfer_mode == TransferMode.TRANSFER_MODE_RELIABLE:
                index = CH_RELIABLE
            elif self._transfer_mode == TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED:
                index = CH_ORDERED
            elif self._transfer_mode == TransferMode.TRANSFER_MODE_UNRELIABLE:
                index = CH_UNRELIABLE
        else:
            index = self._transfer_channel + CH_RESERVED_MAX - 1
        data = bytes(buffer)
        if self._target_peer > 0:
            peer = self._peer_map.get(self._target_peer)
            if peer is None:
                return _fail(
                    Error.ERR_INVALID_PARAMETER, "Invalid target peer: %d.", self._target_peer
                )
            if not 0 <= index < len(peer.channels):
                return _fail(
                    Error.ERR_INVALID_PARAMETER,
                    "Unable to send packet on channel %d, max channels: %d",
                    index,
                    len(peer.channels),
                )
            err = peer.channels[index].put_packet(data)
            if err is not Error.OK:  # the channel's own failure (Godot's backends print it)
                logger.error(
                    "put_packet to peer %d, channel %d: %s", self._target_peer, index, err.name
                )
            return err
        exclude = -self._target_peer
        for peer_id, peer in list(self._peer_map.items()):
            if self._target_peer != 0 and peer_id == exclude:
                continue
            if not 0 <= index < len(peer.channels):
                logger.error(
                    "Unable to send packet on channel %d, max channels: %d",
                    index,
                    len(peer.channels),
                )
                continue
            err = peer.channels[index].put_packet(data)
            if err is not Error.OK:  # ignored, as Godot does (e.g. a peer still connecting)
                logger.debug("put_packet to peer %d, channel %d: %s", peer_id, index, err.name)
        return Error.OK

    def get_packet(self) -> bytes:
        """The next packet in §6.2's order (b"" and an error in `get_packet_error` if none)."""
        peer = self._peer_map.get(self._next_packet_peer)
        if self._next_packet_peer == 0 or peer is None:
            self._find_next_peer()
            self._packet_error = _fail(Error.ERR_UNAVAILABLE, "get_packet: no packet available")
            return b""
        for channel in peer.channels:
            if channel.get_available_packet_count():
                data = channel.get_packet()
                self._packet_error = channel.get_packet_error()
                self._find_next_peer()
                return data
        self._find_next_peer()
        self._packet_error = _fail(Error.ERR_BUG, "get_packet: the peer's channels are empty")
        return b""

    def get_packet_error(self) -> Error:
        return self._packet_error

    def _set_packet_error(self, err: Error) -> None:
        self._packet_error = err

    def get_available_packet_count(self) -> int:
        """Packets queued on every connected peer's channels (0 while no packet is next)."""
        if self._next_packet_peer == 0:
            return 0
        return sum(
            channel.get_available_packet_count()
            for peer in self._peer_map.values()
            if peer.connected
            for channel in peer.channels
        )

    def get_max_packet_size(self) -> int:
        """Godot's advisory constant, 1200 (the real limit is the channel's)."""
        return MAX_PACKET_SIZE

    # -- internals -----------------------------------------------------------------------------

    def _find_next_peer(self) -> None:
        """Round robin from after the current sender, wrapping to it; the first connected peer
        with any packet queued becomes the next sender (§6.2)."""
        ids = list(self._peer_map)
        current = self._next_packet_peer
        start = ids.index(current) + 1 if current in self._peer_map else len(ids)
        for peer_id in ids[start:]:
            if self._has_packet(self._peer_map[peer_id]):
                self._next_packet_peer = peer_id
                return
        for peer_id in ids:
            if self._has_packet(self._peer_map[peer_id]):
                self._next_packet_peer = peer_id
                return
            if peer_id == current:
                break
        self._next_packet_peer = 0

    @staticmethod
    def _has_packet(peer: _ConnectedPeer) -> bool:
        if not peer.connected:
            return False
        return any(channel.get_available_packet_count() for channel in peer.channels)


def _peer_to_dict(peer: _ConnectedPeer) -> dict[str, Any]:
    return {
        "connection": peer.connection,
        "connected": peer.connected,
        "channels": list(peer.channels),
    }
