"""Signaling clients for Godot's WebRTC signaling demo protocol.

:class:`SignalingClient` suits poll()-driven code such as a game loop: the WebSocket lives in
a background thread (websockets' synchronous client) that decodes every incoming frame into a
typed event and puts it on a thread-safe queue; :meth:`SignalingClient.poll` drains that queue
without blocking. Sends are thread-safe and never wait for the peer.
:class:`AsyncSignalingClient` is the same protocol for asyncio code.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection as AsyncClientConnection
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from ..logs import clip
from .protocol import (
    Message,
    MessageType,
    ProtocolError,
    decode_candidate,
    decode_message,
    encode_candidate,
    encode_message,
)

__all__ = [
    "AnswerReceived",
    "AsyncSignalingClient",
    "CandidateReceived",
    "ClientState",
    "Connected",
    "Disconnected",
    "Event",
    "IdAssigned",
    "LobbyJoined",
    "LobbySealed",
    "OfferReceived",
    "PeerConnected",
    "PeerDisconnected",
    "SignalingClient",
    "event_from_message",
]

logger = logging.getLogger(__name__)

DEFAULT_OPEN_TIMEOUT = 10.0
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024


class ClientState(enum.IntEnum):
    """Connection state, numbered like Godot's ``WebSocketPeer.State``."""

    CONNECTING = 0
    OPEN = 1
    CLOSING = 2
    CLOSED = 3


@dataclass(frozen=True, slots=True)
class Connected:
    """The WebSocket to the server is open."""


@dataclass(frozen=True, slots=True)
class IdAssigned:
    """Server message ID: our peer id in the lobby (1 for its host) and whether it is a mesh."""

    peer_id: int
    mesh: bool


@dataclass(frozen=True, slots=True)
class LobbyJoined:
    """Server message JOIN: we are in lobby ``lobby``."""

    lobby: str


@dataclass(frozen=True, slots=True)
class LobbySealed:
    """Server message SEAL: the lobby accepts no new peers and closes soon."""


@dataclass(frozen=True, slots=True)
class PeerConnected:
    peer_id: int


@dataclass(frozen=True, slots=True)
class PeerDisconnected:
    peer_id: int


@dataclass(frozen=True, slots=True)
class OfferReceived:
    peer_id: int
    sdp: str


@dataclass(frozen=True, slots=True)
class AnswerReceived:
    peer_id: int
    sdp: str


@dataclass(frozen=True, slots=True)
class CandidateReceived:
    """A trickled ICE candidate for ``WebRTCPeerConnection.add_ice_candidate``."""

    peer_id: int
    mid: str
    index: int
    candidate: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The connection ended (or never opened: ``code`` is ``None``, ``reason`` says why)."""

    code: int | None
    reason: str


Event = (
    Connected
    | IdAssigned
    | LobbyJoined
    | LobbySealed
    | PeerConnected
    | PeerDisconnected
    | OfferReceived
    | AnswerReceived
    | CandidateReceived
    | Disconnected
)


def event_from_message(msg: Message) -> Event:
    """Turn a server-to-client message into an event; :class:`ProtocolError` if invalid."""
    t = msg.type
    if t is MessageType.ID:
        return IdAssigned(msg.id, msg.data == "true")
    if t is MessageType.JOIN:
        return LobbyJoined(msg.data)
    if t is MessageType.SEAL:
        return LobbySealed()
    if t is MessageType.PEER_CONNECT:
        return PeerConnected(msg.id)
    if t is MessageType.PEER_DISCONNECT:
        return PeerDisconnected(msg.id)
    if t is MessageType.OFFER:
        return OfferReceived(msg.id, msg.data)
    if t is MessageType.ANSWER:
        return AnswerReceived(msg.id, msg.data)
    mid, index, candidate = decode_candidate(msg.data)
    return CandidateReceived(msg.id, mid, index, candidate)


def _decode_frame(frame: str | bytes) -> Event | None:
    if not isinstance(frame, str):
        logger.warning("ignoring binary frame from signaling server")
        return None
    try:
        return event_from_message(decode_message(frame))
    except ProtocolError as exc:
        # Like Godot's demo client: a bad frame from the server is skipped.
        logger.warning("ignoring invalid frame from signaling server: %s", clip(exc))
        return None


def _join_message(lobby: str, mesh: bool) -> Message:
    return Message(MessageType.JOIN, 0 if mesh else 1, lobby)


def _candidate_message(peer_id: int, mid: str, index: int, candidate: str) -> Message:
    return Message(MessageType.CANDIDATE, peer_id, encode_candidate(mid, index, candidate))


class SignalingClient:
    """Poll-style signaling client; the WebSocket runs in a background thread.

    ``connect(url)`` returns at once; call :meth:`poll` every frame to receive events in order
    (the first is :class:`Connected` or :class:`Disconnected`). Send methods return ``False``
    instead of raising when the connection is not open, and raise :class:`ProtocolError` for
    text no frame can carry (a lone surrogate, a bad candidate). Attributes ``peer_id``, ``mesh``,
    ``lobby`` and ``state`` reflect the events :meth:`poll` has returned so far.
    """

    def __init__(
        self,
        *,
        open_timeout: float = DEFAULT_OPEN_TIMEOUT,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self.open_timeout = open_timeout
        self.max_message_size = max_message_size
        self.state = ClientState.CLOSED
        self.peer_id = 0
        self.mesh = False
        self.lobby = ""
        self.sealed = False
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._ws: ClientConnection | None = None
        self._thread: threading.Thread | None = None
        self._close_requested = False

    def connect(self, url: str) -> None:
        """Start connecting to ``url`` (``ws://host:port``) in the background."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("already connected or connecting; close() first")
        self.state = ClientState.CONNECTING
        self.peer_id, self.mesh, self.lobby, self.sealed = 0, False, "", False
        self._events = queue.SimpleQueue()
        self._close_requested = False
        self._ws = None
        self._thread = threading.Thread(
            target=self._run, args=(url, self._events), name="signaling-client", daemon=True
        )
        self._thread.start()

    def poll(self) -> list[Event]:
        """Return every event received since the last call, oldest first; never blocks."""
        events: list[Event] = []
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            self._apply(event)
            events.append(event)
        return events

    def join(self, lobby: str = "", mesh: bool = True) -> bool:
        """Join ``lobby``, or create a new one (we become its host, id 1) when ``""``."""
        return self._send(_join_message(lobby, mesh))

    def send_offer(self, peer_id: int, sdp: str) -> bool:
        return self._send(Message(MessageType.OFFER, peer_id, sdp))

    def send_answer(self, peer_id: int, sdp: str) -> bool:
        return self._send(Message(MessageType.ANSWER, peer_id, sdp))

    def send_candidate(self, peer_id: int, mid: str, index: int, candidate: str) -> bool:
        """Send an ICE candidate; :class:`ProtocolError` if ``mid``/``candidate`` can't be
        encoded (empty or containing a newline)."""
        return self._send(_candidate_message(peer_id, mid, index, candidate))

    def seal(self) -> bool:
        """Host only: close the lobby to new peers (the server closes it shortly after)."""
        return self._send(Message(MessageType.SEAL, 0))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection and wait for the background thread to finish."""
        with self._lock:
            self._close_requested = True
            ws = self._ws
        if ws is not None:
            ws.close(code, reason)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        if self.state is not ClientState.CLOSED:
            self.state = ClientState.CLOSING

    def _apply(self, event: Event) -> None:
        if isinstance(event, Connected):
            self.state = ClientState.OPEN
        elif isinstance(event, Disconnected):
            self.state = ClientState.CLOSED
        elif isinstance(event, IdAssigned):
            self.peer_id, self.mesh = event.peer_id, event.mesh
        elif isinstance(event, LobbyJoined):
            self.lobby = event.lobby
        elif isinstance(event, LobbySealed):
            self.sealed = True

    def _send(self, message: Message) -> bool:
        with self._lock:
            ws = self._ws
        if ws is None:
            return False
        try:
            ws.send(encode_message(message))
        except ConnectionClosed:
            return False
        return True

    def _run(self, url: str, events: queue.SimpleQueue[Event]) -> None:
        opened = False
        try:
            with connect(url, open_timeout=self.open_timeout, max_size=self.max_message_size) as ws:
                opened = True
                self._pump(ws, events)
        except (OSError, InvalidURI, InvalidHandshake, TimeoutError) as exc:
            if opened:  # _pump already reported Disconnected
                logger.warning("signaling connection to %s failed: %s", clip(url), clip(exc))
            else:
                events.put(Disconnected(None, f"cannot connect to {url}: {exc}"))

    def _pump(self, ws: ClientConnection, events: queue.SimpleQueue[Event]) -> None:
        with self._lock:
            if self._close_requested:
                ws.close()
                events.put(Disconnected(ws.close_code, ws.close_reason or ""))
                return
            self._ws = ws
        events.put(Connected())
        try:
            for frame in ws:
                event = _decode_frame(frame)
                if event is not None:
                    events.put(event)
        except ConnectionClosed:
            pass
        finally:
            events.put(Disconnected(ws.close_code, ws.close_reason or ""))


class AsyncSignalingClient:
    """asyncio signaling client: ``client = await AsyncSignalingClient.connect(url)``.

    :meth:`recv` returns the next event; after the connection ends it returns
    :class:`Disconnected` (again on every call). ``async for event in client`` stops after it.
    """

    def __init__(self, ws: AsyncClientConnection) -> None:
        self._ws = ws
        self._done: Disconnected | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        open_timeout: float = DEFAULT_OPEN_TIMEOUT,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> AsyncSignalingClient:
        ws = await async_connect(url, open_timeout=open_timeout, max_size=max_message_size)
        return cls(ws)

    async def recv(self) -> Event:
        while self._done is None:
            try:
                frame = await self._ws.recv()
            except ConnectionClosed:
                self._done = Disconnected(self._ws.close_code, self._ws.close_reason or "")
                break
            event = _decode_frame(frame)
            if event is not None:
                return event
        return self._done

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            event = await self.recv()
            yield event
            if isinstance(event, Disconnected):
                return

    async def join(self, lobby: str = "", mesh: bool = True) -> bool:
        return await self._send(_join_message(lobby, mesh))

    async def send_offer(self, peer_id: int, sdp: str) -> bool:
        return await self._send(Message(MessageType.OFFER, peer_id, sdp))

    async def send_answer(self, peer_id: int, sdp: str) -> bool:
        return await self._send(Message(MessageType.ANSWER, peer_id, sdp))

    async def send_candidate(self, peer_id: int, mid: str, index: int, candidate: str) -> bool:
        return await self._send(_candidate_message(peer_id, mid, index, candidate))

    async def seal(self) -> bool:
        return await self._send(Message(MessageType.SEAL, 0))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._ws.close(code, reason)

    async def __aenter__(self) -> AsyncSignalingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _send(self, message: Message) -> bool:
        try:
            await self._ws.send(encode_message(message))
        except ConnectionClosed:
            return False
        return True
