"""`SceneMultiplayer`: Godot's high-level multiplayer protocol on top of a `MultiplayerPeer`.

Follows Godot 4.6-dev `modules/multiplayer/scene_multiplayer.cpp` (SM), `scene_rpc_interface.cpp`
(RPC) and `scene_cache_interface.cpp` (CACHE), written down in MULTIPLAYER.md §5: peers and
server relay (ADD_PEER / DEL_PEER / RELAY), raw bytes, authentication, and RPCs with the node
path cache. Nodes are Python objects registered under their path relative to the multiplayer
root; their `@rpc` methods are called when a peer calls them (`webrtc.scene.rpc`).

Replication (SPAWN / DESPAWN / SYNC) is not implemented: such packets are counted and dropped.
A malformed or refused packet is dropped and counted in `drop_counts` (with a capped log line);
the peer that sent it stays. Deviations from Godot: `rpc`/`rpc_id` return the error of the send
(Godot prints it and returns OK); relayed packets from a peer the server never announced are
dropped (Godot processes them); a peer announced twice by ADD_PEER is admitted once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .. import variant
from ..errors import Error
from ..godot_types import NodePath
from ..multiplayer import ConnectionStatus, MultiplayerPeer, TransferMode
from ..signals import Signal
from . import protocol as p
from .cache import PathCache
from .rpc import RPCConfig, RPCMode, RPCNode, methods_of, parse_rpc_options, resolve_path

logger = logging.getLogger(__name__)

DEFAULT_AUTH_TIMEOUT = 3.0  # seconds (SM auth_timeout = 3000 ms)
LOG_LINES_PER_REASON = 10
MAX_PEERS = 4096  # relayed peers a server may announce to a client
RELIABLE = TransferMode.TRANSFER_MODE_RELIABLE
CONNECTED = ConnectionStatus.CONNECTION_CONNECTED
CONNECTING = ConnectionStatus.CONNECTION_CONNECTING
DISCONNECTED = ConnectionStatus.CONNECTION_DISCONNECTED


class Drop(Enum):
    """Why a received packet was dropped (keys of `SceneMultiplayer.drop_counts`)."""

    MALFORMED = "malformed packet"
    NOT_ADMITTED = "packet from a peer that is not admitted"
    AUTH_EXPECTED = "non-auth packet from a peer that is authenticating"
    AUTH_CALLBACK = "auth_callback failed"
    SYS_REFUSED = "SYS command not accepted from this peer"
    RELAY_TARGET = "relay to a peer that is not connected"
    UNKNOWN_PEER = "relayed packet from a peer never announced"
    TOO_MANY_PEERS = "peer announcement beyond the limit"
    UNKNOWN_CACHE_ID = "node id never announced"
    CACHE_REFUSED = "node path announcement refused"
    CONFIRM_REFUSED = "CONFIRM_PATH for a path never sent"
    UNKNOWN_NODE = "node not registered"
    UNKNOWN_METHOD = "method id not an RPC of the node"
    RPC_REFUSED = "RPC not allowed from this sender"
    ARGUMENT_COUNT = "argument count does not match the method"
    HANDLER_ERROR = "RPC method raised"
    REPLICATION = "SPAWN/DESPAWN/SYNC (replication not implemented)"


@dataclass
class _Pending:
    """A peer authenticating (SM PendingPeer)."""

    time: float
    local: bool = False  # we called complete_auth
    remote: bool = False  # it sent `07 00`


class OfflineMultiplayerPeer(MultiplayerPeer):
    """Godot's `OfflineMultiplayerPeer` (scene/main/multiplayer_peer.h), a SceneMultiplayer's
    peer until another is set: always connected, unique id 1 (the server), no other peer;
    sending succeeds and goes nowhere."""

    def __init__(self) -> None:
        super().__init__()
        self._error = Error.OK

    def put_packet(self, buffer: bytes) -> Error:
        return Error.OK

    def get_packet(self) -> bytes:
        return b""

    def get_packet_error(self) -> Error:
        return self._error

    def _set_packet_error(self, err: Error) -> None:
        self._error = err

    def get_available_packet_count(self) -> int:
        return 0

    def get_max_packet_size(self) -> int:
        return 0

    def set_target_peer(self, peer_id: int) -> None:
        pass

    def get_packet_peer(self) -> int:
        return 0

    def get_packet_channel(self) -> int:
        return 0

    def get_packet_mode(self) -> TransferMode:
        return RELIABLE

    def get_unique_id(self) -> int:
        return 1  # TARGET_PEER_SERVER

    def is_server(self) -> bool:
        return True

    def is_server_relay_supported(self) -> bool:
        return False

    def get_connection_status(self) -> ConnectionStatus:
        return CONNECTED

    def poll(self) -> None:
        pass

    def close(self) -> None:
        pass

    def disconnect_peer(self, peer: int, force: bool = False) -> None:
        pass


class SceneMultiplayer:
    """Godot's `SceneMultiplayer`. Signals: `peer_connected(id)`, `peer_disconnected(id)`,
    `connected_to_server()`, `connection_failed()`, `server_disconnected()`,
    `peer_authenticating(id)`, `peer_authentication_failed(id)`, `peer_packet(id, data)`.
    Everything happens inside `poll()`, which polls the multiplayer peer. Without a peer given,
    it starts on an `OfflineMultiplayerPeer`, as Godot's does."""

    def __init__(
        self,
        multiplayer_peer: MultiplayerPeer | None = None,
        *,
        clock: Callable[[], float] | None = None,
        root_path: str = "/root",
    ) -> None:
        self.peer_connected = Signal("peer_connected")
        self.peer_disconnected = Signal("peer_disconnected")
        self.connected_to_server = Signal("connected_to_server")
        self.connection_failed = Signal("connection_failed")
        self.server_disconnected = Signal("server_disconnected")
        self.peer_authenticating = Signal("peer_authenticating")
        self.peer_authentication_failed = Signal("peer_authentication_failed")
        self.peer_packet = Signal("peer_packet")
        self.server_relay = True
        self.auth_callback: Callable[[int, bytes], Any] | None = None
        self._auth_timeout = DEFAULT_AUTH_TIMEOUT
        self._clock = clock if clock is not None else time.monotonic
        self._root_path = NodePath.from_string(root_path)
        self._peer: MultiplayerPeer | None = None
        self._last_status = DISCONNECTED
        self._pending: dict[int, _Pending] = {}
        self._connected: dict[int, None] = {}  # an insertion-ordered set
        self._cache = PathCache()
        self._nodes: dict[str, RPCNode] = {}
        self._remote_sender_id = 0
        self._sender_override = 0
        self.drop_counts: dict[Drop, int] = {}
        self._logged: dict[str, int] = {}  # log lines written per reason (capped)
        self.set_multiplayer_peer(
            multiplayer_peer if multiplayer_peer is not None else OfflineMultiplayerPeer()
        )

    # -- properties ---------------------------------------------------------------------------

    def get_multiplayer_peer(self) -> MultiplayerPeer | None:
        return self._peer

    def set_multiplayer_peer(self, peer: MultiplayerPeer | None) -> None:
        """SM set_multiplayer_peer: the peer must be connecting or connected."""
        if peer is self._peer:
            return
        if peer is not None and peer.get_connection_status() == DISCONNECTED:
            logger.error("Supplied MultiplayerPeer must be connecting or connected.")
            return
        if self._peer is not None:
            self._peer.peer_connected.disconnect(self._add_peer)
            self._peer.peer_disconnected.disconnect(self._del_peer)
            self.clear()
        self._peer = peer
        if peer is not None:
            peer.peer_connected.connect(self._add_peer)
            peer.peer_disconnected.connect(self._del_peer)
        self._update_status()

    multiplayer_peer = property(get_multiplayer_peer, set_multiplayer_peer)

    def get_auth_timeout(self) -> float:
        return self._auth_timeout

    def set_auth_timeout(self, timeout: float) -> None:
        """Seconds a peer may take to authenticate; 0 = no limit."""
        if timeout < 0:
            logger.error("Timeout must be greater or equal to 0 (where 0 means no timeout)")
            return
        self._auth_timeout = float(timeout)

    auth_timeout = property(get_auth_timeout, set_auth_timeout)

    def is_refusing_new_connections(self) -> bool:
        return self._peer is not None and self._peer.is_refusing_new_connections()

    def set_refuse_new_connections(self, refuse: bool) -> None:
        """Passed to the multiplayer peer (SM set_refuse_new_connections)."""
        if self._peer is None:
            logger.error("No multiplayer peer is assigned. Unable to set 'refuse_new_connections'.")
            return
        self._peer.set_refuse_new_connections(refuse)

    refuse_new_connections = property(is_refusing_new_connections, set_refuse_new_connections)

    def get_root_path(self) -> str:
        return str(self._root_path)

    def get_unique_id(self) -> int:
        if self._peer is None:
            logger.error("No multiplayer peer is assigned. Unable to get unique ID.")
            return 0
        return self._peer.get_unique_id()

    def is_server(self) -> bool:
        return self.get_unique_id() == 1

    def get_peers(self) -> list[int]:
        """Ids of admitted peers (direct and relayed), in admission order."""
        return list(self._connected)

    def get_authenticating_peers(self) -> list[int]:
        return list(self._pending)

    def get_remote_sender_id(self) -> int:
        """The peer whose RPC or raw packet is being handled (our own id in a local call)."""
        return self._sender_override or self._remote_sender_id

    # -- status ---------------------------------------------------------------------------------

    def _status(self) -> ConnectionStatus:
        if self._peer is None:
            return DISCONNECTED
        return ConnectionStatus(self._peer.get_connection_status())

    def _update_status(self) -> None:
        """SM _update_status: connection_failed / server_disconnected, then clear()."""
        status = self._status()
        if status != self._last_status:
            if status == DISCONNECTED:
                if self._last_status == CONNECTING:
                    self.connection_failed.emit()
                else:
                    self.server_disconnected.emit()
                self.clear()
            self._last_status = status

    def clear(self) -> None:
        """Forget every peer and the path cache (SM clear)."""
        self._last_status = DISCONNECTED
        self._pending.clear()
        self._connected.clear()
        self._cache.clear()

    # -- the poll loop ------------------------------------------------------------------------

    def poll(self) -> Error:
        """SM poll: poll the peer, handle every packet it has, time out authentication."""
        self._update_status()
        if self._last_status == DISCONNECTED or self._peer is None:
            return Error.OK
        peer = self._peer
        peer.poll()
        self._update_status()
        if self._last_status != CONNECTED:
            return Error.OK
        while peer.get_available_packet_count():
            sender = peer.get_packet_peer()
            channel = peer.get_packet_channel()
            mode = int(peer.get_packet_mode())
            data = peer.get_packet()
            err = peer.get_packet_error()
            if err != Error.OK:
                logger.error("Error getting packet! %d", err)
                return err
            self._receive(sender, data, mode, channel)
            self._update_status()
            if self._last_status != CONNECTED:
                return Error.OK
        if self._pending and self._auth_timeout:
            now = self._clock()
            expired = [i for i, q in self._pending.items() if q.time + self._auth_timeout <= now]
            for pid in expired:
                peer.disconnect_peer(pid)
            for pid in expired:
                if self._pending.pop(pid, None) is not None:
                    self.peer_authentication_failed.emit(pid)
        self._update_status()
        return Error.OK

    def _capped(self, key: str) -> str | None:
        """None once `key` was logged LOG_LINES_PER_REASON times (a peer cannot flood the log);
        else a suffix for the line."""
        logged = self._logged.get(key, 0)
        if logged >= LOG_LINES_PER_REASON:
            return None
        self._logged[key] = logged + 1
        return " (further ones not logged)" if logged + 1 == LOG_LINES_PER_REASON else ""

    def _drop(
        self, reason: Drop, sender: int, detail: str = "", exc: BaseException | None = None
    ) -> None:
        self.drop_counts[reason] = self.drop_counts.get(reason, 0) + 1
        more = self._capped(reason.value)
        if more is not None:
            logger.warning(
                "dropped from peer %d: %s%s%s",
                sender,
                reason.value,
                detail[:80],
                more,
                exc_info=exc,
            )

    def _receive(self, sender: int, data: bytes, mode: int, channel: int) -> None:
        pending = self._pending.get(sender)
        if pending is not None:  # only `07 00 ...` from a peer authenticating
            if len(data) < 2 or data[0] & p.CMD_MASK != p.NetworkCommand.SYS:
                self._drop(Drop.AUTH_EXPECTED, sender)
                return
            if data[1] != p.SysCommand.AUTH:
                self._drop(Drop.AUTH_EXPECTED, sender)
                return
            if len(data) > 2:
                self._call_auth(sender, data[2:])
            else:
                pending.remote = True
                if pending.local:
                    del self._pending[sender]
                    self._admit_peer(sender)
            return
        if sender not in self._connected:
            self._drop(Drop.NOT_ADMITTED, sender)
            return
        if data and data[0] & p.CMD_MASK == p.NetworkCommand.SYS:
            if len(data) > 1 and data[1] == p.SysCommand.AUTH:
                if len(data) != 2:  # after admission only the completion notice may arrive
                    self._drop(Drop.MALFORMED, sender, ": auth data after admission")
                return
            self._process_sys(sender, data, mode, channel)
        else:
            self._process_packet(sender, data)

    def _call_auth(self, sender: int, data: bytes) -> None:
        if self.auth_callback is None:
            self._drop(Drop.AUTH_CALLBACK, sender, ": no auth_callback")
            return
        try:
            self.auth_callback(sender, data)
        except Exception as exc:  # Godot prints "Failed to call authentication callback"
            self._drop(Drop.AUTH_CALLBACK, sender, exc=exc)

    # -- SYS: peers and relay -----------------------------------------------------------------

    def _relay_supported(self) -> bool:
        return (
            self.server_relay and self._peer is not None and self._peer.is_server_relay_supported()
        )

    def _process_sys(self, sender: int, data: bytes, mode: int, channel: int) -> None:
        """SM _process_sys."""
        try:
            packet = p.decode_packet(data)
        except p.ProtocolError as exc:
            self._drop(Drop.MALFORMED, sender, f": {exc}")
            return
        my_id = self.get_unique_id()
        if isinstance(packet, p.AddPeer | p.DelPeer):
            if not self._relay_supported() or my_id == 1 or sender != 1:
                self._drop(Drop.SYS_REFUSED, sender)
                return
            pid = packet.peer_id
            if isinstance(packet, p.DelPeer):
                self._del_peer(pid)
            elif pid <= 1 or pid == my_id or pid in self._connected:
                self._drop(Drop.MALFORMED, sender, f": ADD_PEER {pid}")
            elif len(self._connected) >= MAX_PEERS:
                self._drop(Drop.TOO_MANY_PEERS, sender)
            else:
                self._admit_peer(pid)  # relayed peers are admitted without auth (SM)
        elif isinstance(packet, p.Relay):
            self._process_relay(sender, packet, mode, channel)
        else:  # AUTH is handled before; nothing else is a SYS command
            self._drop(Drop.MALFORMED, sender, ": unknown SYS command")

    def _process_relay(self, sender: int, packet: p.Relay, mode: int, channel: int) -> None:
        if not self._relay_supported() or self._peer is None:
            self._drop(Drop.SYS_REFUSED, sender, ": relay disabled")
            return
        target = packet.peer_id
        if self.get_unique_id() == 1:  # the server forwards with the mode/channel it arrived on
            if target > 0 and target not in self._connected:
                self._drop(Drop.RELAY_TARGET, sender)  # may have left while in transit
                return
            out = p.encode_sys(p.SysCommand.RELAY, sender, packet.packet)
            self._peer.set_transfer_mode(mode)
            self._peer.set_transfer_channel(channel)
            if target > 0:
                self._peer.set_target_peer(target)
                self._peer.put_packet(out)
                return
            for pid in list(self._connected):
                if pid not in (sender, -target):
                    self._peer.set_target_peer(pid)
                    self._peer.put_packet(out)
            if target == -1:  # the server itself is excluded
                return
            source = sender
        else:
            if sender != 1:
                self._drop(Drop.SYS_REFUSED, sender, ": RELAY from a client")
                return
            source = target
            if source not in self._connected:
                self._drop(Drop.UNKNOWN_PEER, sender, f": {source}")
                return
        self._process_packet(source, packet.packet)

    def _add_peer(self, pid: int) -> None:
        """The transport connected `pid` (SM _add_peer): authenticate or admit."""
        if self.auth_callback is not None:
            self._pending[pid] = _Pending(self._clock())
            self.peer_authenticating.emit(pid)
        else:
            self._admit_peer(pid)

    def _admit_peer(self, pid: int) -> None:
        """SM _admit_peer: a server tells everyone (ADD_PEER both ways), then the signals."""
        if self.get_unique_id() == 1 and self._relay_supported() and self._peer is not None:
            self._peer.set_transfer_channel(0)
            self._peer.set_transfer_mode(RELIABLE)
            for other in list(self._connected):
                self._peer.set_target_peer(other)
                self._peer.put_packet(p.encode_sys(p.SysCommand.ADD_PEER, pid))
                self._peer.set_target_peer(pid)
                self._peer.put_packet(p.encode_sys(p.SysCommand.ADD_PEER, other))
        self._connected[pid] = None
        self._cache.add_peer(pid)
        if pid == 1:
            self.connected_to_server.emit()
        self.peer_connected.emit(pid)

    def _del_peer(self, pid: int, emit: bool = True) -> None:
        """SM _del_peer: a server tells the others (DEL_PEER), then peer_disconnected."""
        if pid in self._pending:
            del self._pending[pid]
            if emit:
                self.peer_authentication_failed.emit(pid)
            return
        if pid not in self._connected:
            return
        if self.get_unique_id() == 1 and self._relay_supported() and self._peer is not None:
            self._peer.set_transfer_channel(0)
            self._peer.set_transfer_mode(RELIABLE)
            for other in list(self._connected):
                if other != pid:
                    self._peer.set_target_peer(other)
                    self._peer.put_packet(p.encode_sys(p.SysCommand.DEL_PEER, pid))
        self._cache.remove_peer(pid)
        del self._connected[pid]
        if emit:
            self.peer_disconnected.emit(pid)

    def disconnect_peer(self, pid: int) -> None:
        """SM disconnect_peer: forget `pid` without signals, then close it in the transport."""
        if self._peer is None or self._status() != CONNECTED:
            logger.error("disconnect_peer: the multiplayer peer is not connected")
            return
        self._del_peer(pid, emit=False)
        self._peer.disconnect_peer(pid)

    def send_command(self, to: int, packet: bytes) -> Error:
        """SM send_command: to one peer, all (0) or all but -`to`; a client relays through the
        server whatever is not for the server. Mode and channel are the peer's current ones."""
        peer = self._peer
        if peer is None:
            return Error.ERR_UNCONFIGURED
        my_id = self.get_unique_id()
        if self.server_relay and my_id != 1 and to != 1 and peer.is_server_relay_supported():
            peer.set_target_peer(1)
            return peer.put_packet(p.encode_sys(p.SysCommand.RELAY, to, packet))
        if to > 0:
            if to not in self._connected:
                return Error.ERR_BUG
            peer.set_target_peer(to)
            return peer.put_packet(packet)
        for pid in list(self._connected):
            if not (to and pid == -to):
                peer.set_target_peer(pid)
                peer.put_packet(packet)
        return Error.OK

    # -- raw bytes and auth ---------------------------------------------------------------------

    def send_bytes(self, data: bytes, id: int = 0, mode: int = RELIABLE, channel: int = 0) -> Error:
        """SM send_bytes: `03` + data to `id` (0 all, -n all but n); `peer_packet` there."""
        if not data:
            logger.error("Trying to send an empty raw packet.")
            return Error.ERR_INVALID_DATA
        if self._peer is None or self._status() != CONNECTED:
            logger.error(
                "Trying to send a raw packet via a multiplayer peer which is not connected."
            )
            return Error.ERR_UNCONFIGURED
        self._peer.set_transfer_channel(channel)
        self._peer.set_transfer_mode(mode)
        return self.send_command(id, p.encode_raw(bytes(data)))

    def send_auth(self, pid: int, data: bytes) -> Error:
        """SM send_auth: `07 00` + data to a peer that is authenticating."""
        if self._peer is None or self._status() != CONNECTED:
            return Error.ERR_UNCONFIGURED
        pending = self._pending.get(pid)
        if pending is None or not data:
            return Error.ERR_INVALID_PARAMETER
        if pending.local or pending.remote:  # the session was marked complete
            return Error.ERR_FILE_CANT_WRITE
        return self._send_direct(pid, p.encode_auth(bytes(data)))

    def complete_auth(self, pid: int) -> Error:
        """SM complete_auth: send `07 00`; admit once the peer has sent its own."""
        if self._peer is None or self._status() != CONNECTED:
            return Error.ERR_UNCONFIGURED
        pending = self._pending.get(pid)
        if pending is None:
            return Error.ERR_INVALID_PARAMETER
        if pending.local:
            return Error.ERR_FILE_CANT_WRITE
        pending.local = True
        err = self._send_direct(pid, p.encode_auth())
        if pending.remote:
            del self._pending[pid]
            self._admit_peer(pid)
        return err

    def _send_direct(self, pid: int, packet: bytes) -> Error:
        assert self._peer is not None
        self._peer.set_target_peer(pid)
        self._peer.set_transfer_channel(0)
        self._peer.set_transfer_mode(RELIABLE)
        return self._peer.put_packet(packet)

    # -- RPC registry -----------------------------------------------------------------------------

    def register_node(self, path: str, obj: Any = None, *, authority: int = 1) -> RPCNode:
        """Declare a node at `path` (relative to the multiplayer root, as Godot's RPCs name
        it); every `@rpc` method of `obj` becomes one of its script RPCs."""
        key = self._key(path)
        node = self._nodes.setdefault(key, RPCNode(authority=authority))
        node.authority = authority
        if obj is not None:
            for name, (config, function) in methods_of(obj).items():
                node.add(name, function, config)
        return node

    def register_rpc(
        self,
        path: str,
        name: str,
        function: Callable[..., Any],
        *options: str | int | RPCConfig,
        native: bool = False,
    ) -> None:
        """Declare one RPC method with `@rpc`-style options, or one `RPCConfig` (which can also
        say RPC_MODE_DISABLED, as `Node.rpc_config` can); `native` = `Node.rpc_config`."""
        if len(options) == 1 and isinstance(options[0], RPCConfig):
            config = options[0]
        else:
            config = parse_rpc_options(*(o for o in options if not isinstance(o, RPCConfig)))
        key = self._key(path)
        self._nodes.setdefault(key, RPCNode()).add(name, function, config, native)

    def unregister_node(self, path: str) -> None:
        """The node left the tree: forget its RPCs and the cache id we gave it."""
        key = self._key(path)
        self._nodes.pop(key, None)
        self._cache.forget(key)

    def set_multiplayer_authority(self, path: str, authority: int) -> None:
        self._nodes.setdefault(self._key(path), RPCNode()).authority = authority

    def get_rpc_md5(self, path: str) -> str:
        node = self._nodes.get(self._key(path))
        return node.md5() if node is not None else ""

    def _key(self, path: str) -> str:
        key = resolve_path(path, self._root_path)
        if key is None:
            raise ValueError(f"node path {path!r} is outside the multiplayer root")
        return key

    # -- RPC: sending ---------------------------------------------------------------------------

    def rpc(self, path: str, method: str, *args: Any) -> Error:
        """`node.rpc(method, args...)`: call on every peer (and locally with call_local)."""
        return self.rpc_id(0, path, method, *args)

    def rpc_id(self, peer_id: int, path: str, method: str, *args: Any) -> Error:
        """`node.rpc_id(peer_id, method, args...)` (RPC rpcp): 0 = all, -n = all but n."""
        if self._peer is None:
            return Error.ERR_UNCONFIGURED
        key = resolve_path(path, self._root_path)
        node = self._nodes.get(key) if key is not None else None
        if node is None or key is None:
            logger.error("rpc: no node registered at %r", path[:80])
            return Error.ERR_INVALID_PARAMETER
        if self._status() != CONNECTED:
            logger.error("Trying to call an RPC via a multiplayer peer which is not connected.")
            return Error.ERR_CONNECTION_ERROR
        rpc_method = node.by_name(method)
        if rpc_method is None:
            logger.error("Unable to get the RPC configuration for %r at %r", method[:80], key)
            return Error.ERR_INVALID_PARAMETER
        config = rpc_method.config
        caller = self.get_unique_id()
        if peer_id == caller and not config.call_local:
            logger.error("RPC %r on yourself is not allowed by selected mode.", method)
            return Error.ERR_INVALID_PARAMETER
        call_local = config.call_local and (
            peer_id in (0, caller) or (peer_id < 0 and peer_id != -caller)
        )
        err = Error.OK
        if peer_id != caller:
            err = self._send_rpc(key, node, peer_id, rpc_method.method_id, config, args)
        if call_local:
            self._sender_override = caller
            try:
                rpc_method.function(*args)
            except Exception:
                logger.exception("rpc() aborted in local call of %r", method)
                return Error.FAILED
            finally:
                self._sender_override = 0
        return err

    def _send_rpc(
        self, key: str, node: RPCNode, to: int, method_id: int, config: RPCConfig, args: Any
    ) -> Error:
        """RPC _send_rpc: announce the path where needed, then the call to each target."""
        assert self._peer is not None
        if len(args) > p.MAX_ARGS:
            logger.error("Too many arguments (>255).")
            return Error.ERR_INVALID_PARAMETER
        if to != 0 and abs(to) not in self._connected:
            logger.error("Attempt to call RPC with unknown peer ID: %d.", to)
            return Error.ERR_INVALID_PARAMETER
        try:
            p.encode_args(args)  # refuse what cannot be encoded before anything is sent
        except variant.VariantError as exc:
            logger.error("Unable to encode RPC arguments: %s", exc)
            return Error.ERR_INVALID_PARAMETER
        targets = [to] if to > 0 else [t for t in self._connected if not (to < 0 and t == -to)]
        if not targets:
            return Error.OK
        cache_id = self._cache.cache_id(key)
        announce = self._cache.to_announce(key, targets)
        if announce:
            simplify = p.encode_simplify_path(node.md5(), cache_id, key)
            for target in announce:
                self._peer.set_transfer_channel(0)
                self._peer.set_transfer_mode(RELIABLE)
                self.send_command(target, simplify)
        confirmed = {t: self._cache.is_confirmed(key, t) for t in targets}
        self._peer.set_transfer_channel(config.channel)
        self._peer.set_transfer_mode(config.transfer_mode)
        err = Error.OK
        if all(confirmed.values()):
            packet = p.encode_remote_call(method_id, args, cache_id=cache_id)
            for target in targets:
                result = self.send_command(target, packet)
                if to > 0:
                    err = result
            return err
        by_id = p.encode_remote_call(method_id, args, cache_id=cache_id, wide=True)
        by_path = p.encode_remote_call(method_id, args, path=key)
        for target in targets:
            result = self.send_command(target, by_id if confirmed[target] else by_path)
            if to > 0:
                err = result
        return err

    # -- RPC, raw and cache: receiving ----------------------------------------------------------

    def _process_packet(self, sender: int, data: bytes) -> None:
        """SM _process_packet, with `sender` as the remote sender id meanwhile."""
        try:
            packet = p.decode_packet(data)
        except p.ProtocolError as exc:
            self._drop(Drop.MALFORMED, sender, f": {exc}")
            return
        previous, self._remote_sender_id = self._remote_sender_id, sender
        try:
            if isinstance(packet, p.Raw):
                self.peer_packet.emit(sender, packet.data)
            elif isinstance(packet, p.RemoteCall):
                self._process_rpc(sender, packet)
            elif isinstance(packet, p.SimplifyPath):
                self._process_simplify_path(sender, packet)
            elif isinstance(packet, p.ConfirmPath):
                self._process_confirm_path(sender, packet)
            elif isinstance(packet, p.Replication):
                self._drop(Drop.REPLICATION, sender, f": {packet.command.name}")
            else:  # a SYS command inside a relayed packet
                self._drop(Drop.MALFORMED, sender, ": SYS command where a packet was expected")
        finally:
            self._remote_sender_id = previous

    def _process_simplify_path(self, sender: int, packet: p.SimplifyPath) -> None:
        """CACHE process_simplify_path: record the id and answer CONFIRM_PATH."""
        key = resolve_path(packet.path, self._root_path)
        node = self._nodes.get(key) if key is not None else None
        if node is None or key is None:
            self._drop(Drop.UNKNOWN_NODE, sender, f": {packet.path[:80]!r}")
            return
        if not self._cache.receive(sender, packet.cache_id, key):
            self._drop(Drop.CACHE_REFUSED, sender, f": id {packet.cache_id}")
            return
        valid = node.md5() == packet.md5
        if not valid and (more := self._capped("checksum")) is not None:
            logger.error("The rpc node checksum failed for %r (peer %d)%s", key, sender, more)
        if self._peer is not None:
            self._peer.set_transfer_channel(0)
            self._peer.set_transfer_mode(RELIABLE)
        self.send_command(sender, p.encode_confirm_path(valid, packet.cache_id))

    def _process_confirm_path(self, sender: int, packet: p.ConfirmPath) -> None:
        if not self._cache.confirm(sender, packet.cache_id):
            self._drop(Drop.CONFIRM_REFUSED, sender, f": id {packet.cache_id}")
        elif not packet.valid and (more := self._capped("checksum")) is not None:
            logger.error("The rpc node checksum failed (peer %d)%s", sender, more)

    def _process_rpc(self, sender: int, packet: p.RemoteCall) -> None:
        """RPC process_rpc / _process_rpc: find the node and method, check the sender, call."""
        if packet.path is not None:
            key = resolve_path(packet.path, self._root_path)
        else:
            key = self._cache.lookup(sender, packet.cache_id or 0)
            if key is None:
                self._drop(Drop.UNKNOWN_CACHE_ID, sender, f": {packet.cache_id}")
                return
        node = self._nodes.get(key) if key is not None else None
        if node is None:
            self._drop(Drop.UNKNOWN_NODE, sender, f": {key!r}")
            return
        method = node.by_id(packet.method_id)
        if method is None:
            self._drop(Drop.UNKNOWN_METHOD, sender, f": {packet.method_id}")
            return
        mode = method.config.rpc_mode
        allowed = mode == RPCMode.RPC_MODE_ANY_PEER or (
            mode == RPCMode.RPC_MODE_AUTHORITY and sender == node.authority
        )
        if not allowed:
            self._drop(Drop.RPC_REFUSED, sender, f": {method.name} ({mode.name})")
            return
        if not method.accepts(len(packet.args)):
            self._drop(Drop.ARGUMENT_COUNT, sender, f": {method.name}/{len(packet.args)}")
            return
        try:
            method.function(*packet.args)
        except Exception as exc:
            self._drop(Drop.HANDLER_ERROR, sender, f": {method.name}", exc=exc)
