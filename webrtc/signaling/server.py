"""Signaling server compatible with Godot's WebRTC signaling demo.

:class:`SignalingHub` holds the lobby rules without any I/O: it turns connections,
frames, disconnections and timer expiries into :data:`Action` lists. :class:`SignalingServer`
runs a hub behind ``websockets.asyncio.server.serve`` and can also serve a static page (or
directory) over plain HTTP on the same port. :func:`main` is the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http
import logging
import mimetypes
import os
import random
import signal
import sys
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn, Protocol

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .protocol import (
    CLOSE_PROTOCOL_ERROR,
    MAX_PEER_ID,
    Message,
    MessageType,
    ProtocolError,
    close_reason,
    decode_message,
    encode_message,
)

__all__ = [
    "DEFAULT_PORT",
    "Action",
    "Close",
    "Lobby",
    "Peer",
    "Send",
    "SignalingHub",
    "SignalingServer",
    "StartSealTimer",
    "main",
]

logger = logging.getLogger(__name__)

DEFAULT_PORT = 9080
DEFAULT_MAX_PEERS = 4096
DEFAULT_MAX_LOBBIES = 1024
# Members per lobby. In a mesh lobby every join and leave is told to every member (the
# protocol's own cost), so this bounds that work to 2 x 255 frames per join; a
# client/server lobby's join and leave touch only the host.
DEFAULT_MAX_LOBBY_PEERS = 256
DEFAULT_JOIN_TIMEOUT = 1.0
DEFAULT_SEAL_TIMEOUT = 10.0
DEFAULT_PING_INTERVAL = 10.0
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024
DEFAULT_MAX_WRITE_BUFFER = 1024 * 1024
#: Peer id the lobby host is known by (Godot's ``MultiplayerPeer.TARGET_PEER_SERVER``).
HOST_ID = 1

_ALFNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_LOBBY_NAME_LENGTH = 16
# Ids of peers that left a lobby, remembered so late relays to them are dropped quietly.
_MAX_DEPARTED = 4096
_CLOSE_NORMAL = 1000

# Close reasons, worded as in the demo's server.js so existing clients show the same text.
STR_NO_LOBBY = "Have not joined lobby yet"
STR_HOST_DISCONNECTED = "Room host has disconnected"
STR_ONLY_HOST_CAN_SEAL = "Only host can seal the lobby"
STR_SEAL_COMPLETE = "Seal complete"
STR_TOO_MANY_LOBBIES = "Too many lobbies open, disconnecting"
STR_ALREADY_IN_LOBBY = "Already in a lobby"
STR_LOBBY_DOES_NOT_EXISTS = "Lobby does not exists"
STR_LOBBY_IS_SEALED = "Lobby is sealed"
STR_LOBBY_IS_FULL = "Lobby is full"
STR_NEED_LOBBY = "Invalid message when not in a lobby"
STR_INVALID_DEST = "Invalid destination"
STR_INVALID_CMD = "Invalid command"
STR_TOO_MANY_PEERS = "Too many peers connected"
STR_INVALID_TRANSFER_MODE = "Invalid transfer mode, must be text"
STR_TOO_SLOW = "Not reading fast enough"
_CLOSE_POLICY_VIOLATION = 1008  # RFC 6455 §7.4.1


class RandomLike(Protocol):
    """The part of ``random.Random`` the hub uses."""

    def randint(self, a: int, b: int) -> int: ...

    def choice(self, seq: Sequence[str]) -> str: ...


@dataclass(eq=False)
class Peer:
    """One WebSocket connection as the hub sees it."""

    id: int
    lobby: Lobby | None = None
    closing: bool = False


@dataclass(eq=False)
class Lobby:
    """A room: one host (peer id 1) and the peers that joined it."""

    name: str
    host: Peer
    mesh: bool
    members: dict[int, Peer] = field(default_factory=dict)  # keyed by the id others see
    sealed: bool = False
    departed: dict[int, None] = field(default_factory=dict)  # insertion-ordered set

    def peer_id(self, peer: Peer) -> int:
        """The id ``peer`` is known by inside this lobby."""
        return HOST_ID if peer is self.host else peer.id

    def visible(self, a: Peer, b: Peer) -> bool:
        """Whether ``a`` and ``b`` see each other (client/server: only host <-> client)."""
        return self.mesh or a is self.host or b is self.host

    def seen_by(self, peer: Peer) -> list[Peer]:
        """The other members that see ``peer``: everyone in a mesh or for the host, only the
        host for a client/server client (without walking the member list)."""
        if self.mesh or peer is self.host:
            return [m for m in self.members.values() if m is not peer]
        host = self.members.get(HOST_ID)
        return [] if host is None or host is peer else [host]


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``message`` to ``peer``."""

    peer: Peer
    message: Message


@dataclass(frozen=True, slots=True)
class Close:
    """Close ``peer``'s WebSocket with ``code`` and ``reason``."""

    peer: Peer
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class StartSealTimer:
    """Call :meth:`SignalingHub.seal_expired` for ``lobby`` after the seal timeout."""

    lobby: Lobby


Action = Send | Close | StartSealTimer


class SignalingHub:
    """Lobby rules of the demo protocol, without I/O or clocks."""

    def __init__(
        self,
        *,
        max_peers: int = DEFAULT_MAX_PEERS,
        max_lobbies: int = DEFAULT_MAX_LOBBIES,
        max_lobby_peers: int = DEFAULT_MAX_LOBBY_PEERS,
        rng: RandomLike | None = None,
    ) -> None:
        self.max_peers = max_peers
        self.max_lobbies = max_lobbies
        self.max_lobby_peers = max_lobby_peers
        # Lobby names act as join secrets, so default to the OS generator.
        self._rng: RandomLike = rng if rng is not None else random.SystemRandom()
        self.peers: dict[int, Peer] = {}
        self.lobbies: dict[str, Lobby] = {}

    # -- inputs ---------------------------------------------------------------------------

    def connect(self) -> Peer | None:
        """Register a new connection; ``None`` when the peer limit is reached."""
        if len(self.peers) >= self.max_peers:
            return None
        while True:
            # The host is renamed 1, so random ids start at 2 and never collide with it.
            peer_id = self._rng.randint(2, MAX_PEER_ID)
            if peer_id not in self.peers:
                break
        peer = Peer(peer_id)
        self.peers[peer_id] = peer
        return peer

    def receive(self, peer: Peer, frame: str | bytes) -> list[Action]:
        """Handle one frame from ``peer``; violations close ``peer`` with code 4000."""
        if peer.closing or self.peers.get(peer.id) is not peer:
            return []
        if not isinstance(frame, str):
            return self._fail(peer, STR_INVALID_TRANSFER_MODE)
        try:
            return self._dispatch(peer, decode_message(frame))
        except ProtocolError as exc:
            return self._fail(peer, str(exc))

    def disconnect(self, peer: Peer) -> list[Action]:
        """``peer``'s connection is gone: leave its lobby (closing it if ``peer`` hosted)."""
        if self.peers.get(peer.id) is not peer:
            return []
        del self.peers[peer.id]
        peer.closing = True
        lobby = peer.lobby
        if lobby is None or self.lobbies.get(lobby.name) is not lobby:
            return []
        left_id = lobby.peer_id(peer)
        lobby.members.pop(left_id, None)
        actions: list[Action] = []
        if peer is lobby.host:
            del self.lobbies[lobby.name]
            for other in lobby.members.values():
                actions.extend(self._fail(other, STR_HOST_DISCONNECTED))
            lobby.members.clear()
            return actions
        lobby.departed[left_id] = None
        if len(lobby.departed) > _MAX_DEPARTED:
            del lobby.departed[next(iter(lobby.departed))]
        for other in lobby.seen_by(peer):
            actions.append(Send(other, Message(MessageType.PEER_DISCONNECT, left_id)))
        return actions

    def join_timeout(self, peer: Peer) -> list[Action]:
        """The JOIN deadline for ``peer`` passed."""
        if peer.lobby is not None or peer.closing or self.peers.get(peer.id) is not peer:
            return []
        return self._fail(peer, STR_NO_LOBBY)

    def kick(self, peer: Peer, code: int, reason: str) -> list[Action]:
        """Close ``peer`` for a reason found outside the protocol (e.g. it stopped reading)."""
        if peer.closing or self.peers.get(peer.id) is not peer:
            return []
        peer.closing = True
        return [Close(peer, code, close_reason(reason))]

    def seal_expired(self, lobby: Lobby) -> list[Action]:
        """The seal timeout of ``lobby`` passed: close every member's connection."""
        if self.lobbies.get(lobby.name) is not lobby:
            return []
        actions: list[Action] = []
        for member in lobby.members.values():
            if not member.closing:
                member.closing = True
                actions.append(Close(member, _CLOSE_NORMAL, STR_SEAL_COMPLETE))
        return actions

    # -- rules ----------------------------------------------------------------------------

    def _fail(self, peer: Peer, reason: str) -> list[Action]:
        if peer.closing:
            return []
        peer.closing = True
        return [Close(peer, CLOSE_PROTOCOL_ERROR, close_reason(reason))]

    def _dispatch(self, peer: Peer, msg: Message) -> list[Action]:
        if msg.type is MessageType.JOIN:
            return self._join(peer, msg.data, mesh=msg.id == 0)
        lobby = peer.lobby
        if lobby is None:
            raise ProtocolError(STR_NEED_LOBBY)
        if msg.type is MessageType.SEAL:
            return self._seal(peer, lobby)
        if msg.type in (MessageType.OFFER, MessageType.ANSWER, MessageType.CANDIDATE):
            return self._relay(peer, lobby, msg)
        raise ProtocolError(f"{STR_INVALID_CMD}: clients may not send {msg.type.name}")

    def _join(self, peer: Peer, name: str, *, mesh: bool) -> list[Action]:
        if peer.lobby is not None:
            raise ProtocolError(STR_ALREADY_IN_LOBBY)
        if name == "":
            if len(self.lobbies) >= self.max_lobbies:
                raise ProtocolError(STR_TOO_MANY_LOBBIES)
            name = self._new_lobby_name()
            lobby = Lobby(name, peer, mesh)
            self.lobbies[name] = lobby
        else:
            found = self.lobbies.get(name)
            if found is None:
                raise ProtocolError(STR_LOBBY_DOES_NOT_EXISTS)
            if found.sealed:
                raise ProtocolError(STR_LOBBY_IS_SEALED)
            if len(found.members) >= self.max_lobby_peers:
                raise ProtocolError(STR_LOBBY_IS_FULL)
            lobby = found
        peer.lobby = lobby
        new_id = lobby.peer_id(peer)
        actions: list[Action] = [
            Send(peer, Message(MessageType.ID, new_id, "true" if lobby.mesh else ""))
        ]
        for other in lobby.seen_by(peer):
            actions.append(Send(other, Message(MessageType.PEER_CONNECT, new_id)))
            actions.append(Send(peer, Message(MessageType.PEER_CONNECT, lobby.peer_id(other))))
        lobby.members[new_id] = peer
        lobby.departed.pop(new_id, None)
        actions.append(Send(peer, Message(MessageType.JOIN, 0, name)))
        return actions

    def _seal(self, peer: Peer, lobby: Lobby) -> list[Action]:
        if peer is not lobby.host:
            raise ProtocolError(STR_ONLY_HOST_CAN_SEAL)
        if lobby.sealed:
            return []  # already sealed: the close timer is running
        lobby.sealed = True
        actions: list[Action] = [
            Send(member, Message(MessageType.SEAL, 0)) for member in lobby.members.values()
        ]
        actions.append(StartSealTimer(lobby))
        return actions

    def _relay(self, peer: Peer, lobby: Lobby, msg: Message) -> list[Action]:
        dest = lobby.members.get(msg.id)
        if dest is None:
            if msg.id in lobby.departed:
                return []  # the destination just left; its PEER_DISCONNECT is on its way
            raise ProtocolError(f"{STR_INVALID_DEST}: no peer {msg.id} in this lobby")
        if dest is peer or not lobby.visible(peer, dest):
            raise ProtocolError(f"{STR_INVALID_DEST}: peer {msg.id} is not reachable")
        # The sender names the destination; the receiver must learn the source instead.
        return [Send(dest, Message(msg.type, lobby.peer_id(peer), msg.data))]

    def _new_lobby_name(self) -> str:
        while True:
            name = "".join(self._rng.choice(_ALFNUM) for _ in range(_LOBBY_NAME_LENGTH))
            if name not in self.lobbies:
                return name


# -- static HTTP --------------------------------------------------------------------------

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
    ".pck": "application/octet-stream",
}


def _content_type(path: Path) -> str:
    known = _CONTENT_TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _http_response(status: http.HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    headers["Cache-Control"] = "no-cache"
    # Godot 4 web exports need cross-origin isolation for SharedArrayBuffer.
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Embedder-Policy"] = "require-corp"
    return Response(status.value, status.phrase, headers, body)


def _not_found() -> Response:
    return _http_response(http.HTTPStatus.NOT_FOUND, b"Not Found\n", "text/plain; charset=utf-8")


class StaticFiles:
    """Map an HTTP path to a file: one page at ``/``, or files under a directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        path = Path(root).resolve()
        if not path.exists():
            raise FileNotFoundError(f"static path does not exist: {root}")
        self.single_page = path if path.is_file() else None
        self.root = path.parent if path.is_file() else path

    def resolve(self, request_path: str) -> Path | None:
        """The file to serve for ``request_path``, or ``None`` (never outside the root)."""
        raw = urllib.parse.unquote(request_path.split("?", 1)[0].split("#", 1)[0])
        if "\x00" in raw or not raw.startswith("/"):
            return None
        if raw in ("/", "/index.html") and self.single_page is not None:
            return self.single_page
        if self.single_page is not None:
            return None
        parts = [p for p in raw.split("/") if p]
        if any(p in (".", "..") or "\\" in p for p in parts):
            return None
        candidate = self.root.joinpath(*parts) if parts else self.root
        try:
            candidate = candidate.resolve()
        except (OSError, RuntimeError):
            return None
        if not candidate.is_relative_to(self.root):
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    async def respond(self, request_path: str) -> Response:
        path = self.resolve(request_path)
        if path is None:
            return _not_found()
        try:
            body = await asyncio.to_thread(path.read_bytes)
        except OSError:
            return _not_found()
        return _http_response(http.HTTPStatus.OK, body, _content_type(path))


# -- asyncio server -----------------------------------------------------------------------


class SignalingServer:
    """WebSocket signaling server (Godot demo protocol) with an optional static page.

    Use as ``async with SignalingServer(port=0) as server: ... server.port ...`` or call
    :meth:`start` / :meth:`close`. ``static`` is an HTML file served at ``/`` or a directory
    whose files are served (``index.html`` at ``/``); requests carrying ``Upgrade: websocket``
    always go to the signaling protocol.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        max_peers: int = DEFAULT_MAX_PEERS,
        max_lobbies: int = DEFAULT_MAX_LOBBIES,
        max_lobby_peers: int = DEFAULT_MAX_LOBBY_PEERS,
        join_timeout: float = DEFAULT_JOIN_TIMEOUT,
        seal_timeout: float = DEFAULT_SEAL_TIMEOUT,
        ping_interval: float | None = DEFAULT_PING_INTERVAL,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_write_buffer: int = DEFAULT_MAX_WRITE_BUFFER,
        static: str | os.PathLike[str] | None = None,
        static_page: str | os.PathLike[str] | None = None,
        rng: RandomLike | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.join_timeout = join_timeout
        self.seal_timeout = seal_timeout
        self.ping_interval = ping_interval
        self.max_message_size = max_message_size
        self.max_write_buffer = max_write_buffer
        self.hub = SignalingHub(
            max_peers=max_peers, max_lobbies=max_lobbies, max_lobby_peers=max_lobby_peers, rng=rng
        )
        page = static_page if static_page is not None else static
        self.static = StaticFiles(page) if page is not None else None
        self._server: Server | None = None
        self._connections: dict[int, ServerConnection] = {}
        self._timers: set[asyncio.TimerHandle] = set()  # JOIN deadlines
        self._seal_timers: dict[str, asyncio.TimerHandle] = {}  # by lobby name
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Bind and start accepting connections."""
        if self._server is not None:
            return
        self._server = await serve(
            self._handler,
            self.host,
            self.requested_port,
            process_request=self._process_request,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            max_size=self.max_message_size,
        )

    @property
    def port(self) -> int:
        """The bound TCP port (useful with ``port=0``)."""
        if self._server is None:
            raise RuntimeError("server not started")
        for sock in self._server.sockets:
            return int(sock.getsockname()[1])
        raise RuntimeError("server has no listening socket")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    async def close(self) -> None:
        """Stop listening, close every connection and cancel timers."""
        for timer in [*self._timers, *self._seal_timers.values()]:
            timer.cancel()
        self._timers.clear()
        self._seal_timers.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def serve_forever(self) -> None:
        await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def __aenter__(self) -> SignalingServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- internals --------------------------------------------------------------------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        upgrade = request.headers.get("Upgrade", "")
        if "websocket" in upgrade.lower() or self.static is None:
            return None  # WebSocket handshake (or websockets' own 426 for plain HTTP)
        return await self.static.respond(request.path)

    async def _handler(self, connection: ServerConnection) -> None:
        peer = self.hub.connect()
        if peer is None:
            await connection.close(CLOSE_PROTOCOL_ERROR, STR_TOO_MANY_PEERS)
            return
        self._connections[peer.id] = connection
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.join_timeout, self._on_join_timeout, peer)
        self._timers.add(timer)
        try:
            async for frame in connection:
                self._execute(self.hub.receive(peer, frame))
        except ConnectionClosed:
            pass
        finally:
            timer.cancel()
            self._timers.discard(timer)
            self._connections.pop(peer.id, None)
            self._execute(self.hub.disconnect(peer))

    def _on_join_timeout(self, peer: Peer) -> None:
        self._execute(self.hub.join_timeout(peer))

    def _on_seal_expired(self, lobby: Lobby) -> None:
        self._seal_timers.pop(lobby.name, None)
        self._execute(self.hub.seal_expired(lobby))

    def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, StartSealTimer):
                loop = asyncio.get_running_loop()
                name = action.lobby.name
                stale = self._seal_timers.pop(name, None)
                if stale is not None:
                    stale.cancel()
                self._seal_timers[name] = loop.call_later(
                    self.seal_timeout, self._on_seal_expired, action.lobby
                )
                continue
            connection = self._connections.get(action.peer.id)
            if connection is None:
                continue
            if isinstance(action, Send):
                if connection.transport.get_write_buffer_size() > self.max_write_buffer:
                    # A peer that stops reading must not make the server buffer without end.
                    self._execute(self.hub.kick(action.peer, _CLOSE_POLICY_VIOLATION, STR_TOO_SLOW))
                    continue
                # broadcast() writes synchronously without awaiting drain, so one slow
                # reader never stalls the handler of the peer that produced the message.
                broadcast([connection], encode_message(action.message))
            else:
                logger.info("closing peer %d: %d %s", action.peer.id, action.code, action.reason)
                task = asyncio.ensure_future(connection.close(action.code, action.reason))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)


# -- command line -------------------------------------------------------------------------


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise ValueError(text)
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(text)
    return value


_positive_int.__name__ = "positive integer"
_positive_float.__name__ = "positive number"
_port.__name__ = "port (0-65535)"


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="WebSocket signaling server compatible with Godot's WebRTC signaling demo.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="TCP port, 0 = any (default %(default)s)"
    )
    parser.add_argument(
        "--static",
        metavar="PATH",
        help="serve this HTML file at / (or this directory's files) over HTTP on the same port",
    )
    parser.add_argument("--max-peers", type=_positive_int, default=DEFAULT_MAX_PEERS)
    parser.add_argument("--max-lobbies", type=_positive_int, default=DEFAULT_MAX_LOBBIES)
    parser.add_argument(
        "--max-lobby-peers",
        type=_positive_int,
        default=DEFAULT_MAX_LOBBY_PEERS,
        help="members per lobby, host included (default %(default)s)",
    )
    parser.add_argument(
        "--join-timeout",
        type=_positive_float,
        default=DEFAULT_JOIN_TIMEOUT,
        help="seconds a new connection has to JOIN (default %(default)s)",
    )
    parser.add_argument(
        "--seal-timeout",
        type=_positive_float,
        default=DEFAULT_SEAL_TIMEOUT,
        help="seconds after SEAL before a lobby is closed (default %(default)s)",
    )
    parser.add_argument(
        "--ping-interval",
        type=_positive_float,
        default=DEFAULT_PING_INTERVAL,
        help="seconds between keepalive pings (default %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every event")
    return parser


async def _run(server: SignalingServer) -> None:
    await server.start()
    print(f"signaling server listening on {server.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Explicit handlers also work when SIGINT was inherited as ignored (background jobs).
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Run the signaling server from the command line; return the exit status."""
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        server = SignalingServer(
            args.host,
            args.port,
            max_peers=args.max_peers,
            max_lobbies=args.max_lobbies,
            max_lobby_peers=args.max_lobby_peers,
            join_timeout=args.join_timeout,
            seal_timeout=args.seal_timeout,
            ping_interval=args.ping_interval,
            static=args.static,
        )
    except FileNotFoundError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(server))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        where = f"{args.host}:{args.port}"
        print(f"{parser.prog}: error: cannot listen on {where}: {exc}", file=sys.stderr)
        return 1
    return 0
