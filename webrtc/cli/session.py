"""One lobby of peers for the command-line tools: signaling + peer connections + one channel each.

Godot demo flow (docs: /work/shared/spec/SIGNALING.md): join a lobby over WebSocket (an empty
name creates one and makes us its host, id 1); on PEER_CONNECT create a `WebRTCPeerConnection`;
the peer with the higher id creates the data channel and calls `create_offer()`; descriptions
go out as OFFER/ANSWER after `set_local_description`, candidates as CANDIDATE.
`Session.events()` yields `PeerReady(peer_id, channel)` once a channel is open, `PeerLeft` when
a peer goes away and `SignalingClosed` when the server connection ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import InvalidHandshake, InvalidURI

from ..aio import ChannelClosedError, Driver, PeerConnectionError, channel_open, connected
from ..data_channel import WebRTCDataChannel
from ..errors import Error
from ..peer_connection import WebRTCPeerConnection
from ..signaling.client import (
    AnswerReceived,
    AsyncSignalingClient,
    CandidateReceived,
    Disconnected,
    IdAssigned,
    LobbyJoined,
    OfferReceived,
    PeerConnected,
    PeerDisconnected,
)
from ..signaling.protocol import ProtocolError
from ..states import ChannelState

logger = logging.getLogger(__name__)

DEFAULT_SERVER = "ws://127.0.0.1:9080"
DEFAULT_CONNECT_TIMEOUT = 30.0


class CliError(Exception):
    """A failure reported to the user as one line; the process exits non-zero."""


@dataclass(frozen=True)
class PeerReady:
    peer_id: int
    channel: WebRTCDataChannel


@dataclass(frozen=True)
class PeerLeft:
    peer_id: int
    reason: str


@dataclass(frozen=True)
class SignalingClosed:
    reason: str


SessionEvent = PeerReady | PeerLeft | SignalingClosed


@dataclass
class _Peer:
    peer_id: int
    pc: WebRTCPeerConnection
    channel: WebRTCDataChannel | None = None
    task: asyncio.Task[None] | None = None
    gone: bool = False
    received: list[WebRTCDataChannel] = field(default_factory=list)


@dataclass(frozen=True)
class SessionOptions:
    server: str = DEFAULT_SERVER
    lobby: str = ""
    label: str = "chat"
    channel_options: dict[str, Any] = field(default_factory=dict)
    ice_servers: tuple[str, ...] = ()
    loopback_only: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT


class Session:
    """Use as `async with Session(options, driver, status) as s: async for ev in s.events()`."""

    def __init__(
        self, options: SessionOptions, driver: Driver, status: Callable[[str], None]
    ) -> None:
        self.options = options
        self.driver = driver
        self.status = status
        self.peer_id = 0
        self.lobby = ""
        self._client: AsyncSignalingClient | None = None
        self._peers: dict[int, _Peer] = {}
        self._events: asyncio.Queue[SessionEvent] = asyncio.Queue()
        self._outbox: asyncio.Queue[tuple[str, int, Any]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Session:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect to the server, join (or create) the lobby; `CliError` on failure."""
        url = self.options.server
        try:
            self._client = await AsyncSignalingClient.connect(url, open_timeout=10.0)
        except (OSError, InvalidURI, InvalidHandshake, TimeoutError) as exc:
            raise CliError(f"cannot connect to signaling server {url}: {exc}") from None
        await self._client.join(self.options.lobby, mesh=True)
        # ID then JOIN confirm the lobby; a refusal closes the WebSocket with a reason.
        while not self.lobby:
            try:
                event = await asyncio.wait_for(self._client.recv(), 10.0)
            except TimeoutError:
                raise CliError(f"no answer from signaling server {url}") from None
            if isinstance(event, Disconnected):
                why = event.reason or f"code {event.code}"
                raise CliError(f"signaling server closed the connection: {why}")
            if isinstance(event, IdAssigned):
                self.peer_id = event.peer_id
            elif isinstance(event, LobbyJoined):
                self.lobby = event.lobby
            elif isinstance(event, PeerConnected):
                self._on_peer_connected(event.peer_id)
        self._spawn(self._signaling_loop())
        self._spawn(self._send_loop())

    async def close(self) -> None:
        """Close every peer connection and the signaling connection."""
        if self._closed:
            return
        self._closed = True
        for peer in self._peers.values():
            peer.pc.close()
        self.driver.wake()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.close()

    async def events(self) -> AsyncIterator[SessionEvent]:
        while True:
            yield await self._events.get()

    async def next_event(self) -> SessionEvent:
        return await self._events.get()

    def peer_count(self) -> int:
        return sum(1 for p in self._peers.values() if not p.gone)

    # -- signaling --------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _send_loop(self) -> None:
        client = self._client
        assert client is not None
        while True:
            kind, peer_id, payload = await self._outbox.get()
            try:
                if kind == "offer":
                    await client.send_offer(peer_id, payload)
                elif kind == "answer":
                    await client.send_answer(peer_id, payload)
                else:
                    await client.send_candidate(peer_id, *payload)
            except ProtocolError as exc:  # e.g. a candidate line the protocol cannot carry
                logger.warning("cannot signal %s to peer %d: %s", kind, peer_id, exc)

    async def _signaling_loop(self) -> None:
        try:
            await self._signaling_events()
        except Exception as exc:  # a bug must end the session visibly, never hang it
            logger.exception("signaling loop failed")
            await self._events.put(SignalingClosed(f"internal error: {exc!r}"))

    async def _signaling_events(self) -> None:
        client = self._client
        assert client is not None
        while True:
            event = await client.recv()
            if isinstance(event, Disconnected):
                reason = event.reason or f"code {event.code}"
                await self._events.put(SignalingClosed(reason))
                return
            if isinstance(event, PeerConnected):
                try:
                    self._on_peer_connected(event.peer_id)
                except CliError as exc:
                    await self._events.put(PeerLeft(event.peer_id, str(exc)))
            elif isinstance(event, PeerDisconnected):
                peer = self._peers.get(event.peer_id)
                if peer is not None:
                    self._peer_gone(peer, "left the lobby")
            elif isinstance(event, OfferReceived | AnswerReceived):
                kind = "offer" if isinstance(event, OfferReceived) else "answer"
                peer = self._peers.get(event.peer_id) or self._on_peer_connected(event.peer_id)
                err = peer.pc.set_remote_description(kind, event.sdp)
                if err is not Error.OK:
                    logger.warning("peer %d: bad %s: %s", event.peer_id, kind, err.name)
            elif isinstance(event, CandidateReceived):
                peer = self._peers.get(event.peer_id)
                if peer is not None:
                    err = peer.pc.add_ice_candidate(event.mid, event.index, event.candidate)
                    if err is not Error.OK:
                        logger.info("peer %d: candidate ignored: %s", event.peer_id, err.name)
            self.driver.wake()

    # -- peers ------------------------------------------------------------------------------

    def _configuration(self) -> dict[str, Any]:
        servers = [{"urls": [url]} for url in self.options.ice_servers]
        return {"iceServers": servers}

    def _on_peer_connected(self, peer_id: int) -> _Peer:
        old = self._peers.get(peer_id)
        if old is not None and not old.gone:
            return old
        pc = self.driver.peer_connection(loopback_only=self.options.loopback_only)
        pc.initialize(self._configuration())
        peer = _Peer(peer_id, pc)
        self._peers[peer_id] = peer

        def on_description(kind: str, sdp: str) -> None:
            pc.set_local_description(kind, sdp)
            self._outbox.put_nowait((kind, peer_id, sdp))

        def on_candidate(mid: str, index: int, name: str) -> None:
            if name:  # the demo protocol has no end-of-candidates message
                self._outbox.put_nowait(("candidate", peer_id, (mid, index, name)))

        pc.session_description_created.connect(on_description)
        pc.ice_candidate_created.connect(on_candidate)
        pc.data_channel_received.connect(peer.received.append)
        if peer_id < self.peer_id:  # Godot demo: the peer with the higher id offers
            channel = pc.create_data_channel(self.options.label, dict(self.options.channel_options))
            if channel is None:
                raise CliError(f"cannot create data channel: {pc.last_error.name}")
            peer.channel = channel
            err = pc.create_offer()
            if err is not Error.OK:
                raise CliError(f"create_offer failed: {err.name}")
        peer.task = self._spawn(self._watch_peer(peer))
        self.driver.wake()
        return peer

    async def _watch_peer(self, peer: _Peer) -> None:
        label = self.options.label
        try:
            async with asyncio.timeout(self.options.connect_timeout):
                await connected(peer.pc, driver=self.driver)
                if peer.channel is None:
                    await self.driver.wait_until(
                        lambda: any(ch.get_label() == label for ch in peer.received)
                    )
                    peer.channel = next(ch for ch in peer.received if ch.get_label() == label)
                await channel_open(peer.channel, driver=self.driver)
        except TimeoutError:
            self._peer_gone(peer, "timed out connecting")
            return
        except (PeerConnectionError, ChannelClosedError) as exc:
            self._peer_gone(peer, str(exc))
            return
        channel = peer.channel
        await self._events.put(PeerReady(peer.peer_id, channel))
        try:
            await self.driver.wait_until(
                lambda: channel.get_ready_state() is ChannelState.STATE_CLOSED
            )
        except Exception as exc:  # the driver stopped
            self._peer_gone(peer, str(exc))
            return
        self._peer_gone(peer, "closed the channel")

    def _peer_gone(self, peer: _Peer, reason: str) -> None:
        if peer.gone:
            return
        peer.gone = True
        peer.pc.close()
        self.driver.remove(peer.pc)
        self._events.put_nowait(PeerLeft(peer.peer_id, reason))
        if peer.task is not None and peer.task is not asyncio.current_task():
            peer.task.cancel()
