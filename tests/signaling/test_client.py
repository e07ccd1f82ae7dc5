"""SignalingClient (threaded, poll-style) and AsyncSignalingClient against a loopback server."""

import asyncio
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.sync.server import ServerConnection as SyncServerConnection
from websockets.sync.server import serve as sync_serve

from webrtc.signaling.client import (
    AnswerReceived,
    AsyncSignalingClient,
    CandidateReceived,
    ClientState,
    Connected,
    Disconnected,
    Event,
    IdAssigned,
    LobbyJoined,
    LobbySealed,
    OfferReceived,
    PeerConnected,
    PeerDisconnected,
    SignalingClient,
)
from webrtc.signaling.protocol import ProtocolError
from webrtc.signaling.server import SignalingServer

HANG_GUARD = 10.0  # generous bound so a bug fails instead of hanging; never a timing assertion


class ServerThread:
    """Runs a SignalingServer on its own event loop in a daemon thread."""

    def __init__(self, **kw: Any) -> None:
        self.loop = asyncio.new_event_loop()
        kw.setdefault("join_timeout", 60.0)  # long unless a test is about it
        self.server = SignalingServer("127.0.0.1", 0, rng=random.Random(5), **kw)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(HANG_GUARD)
        self.url = self.server.url

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(HANG_GUARD)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(HANG_GUARD)
        self.loop.close()


@pytest.fixture
def server() -> Iterator[ServerThread]:
    srv = ServerThread()
    try:
        yield srv
    finally:
        srv.stop()


def poll_until(client: SignalingClient, want: Callable[[Event], bool]) -> list[Event]:
    """Poll until an event matching ``want`` arrives; return all events seen up to it."""
    seen: list[Event] = []
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline:
        for event in client.poll():
            seen.append(event)
            if want(event):
                return seen
        time.sleep(0.002)
    raise AssertionError(f"event never arrived; saw {seen}")


def state_of(client: SignalingClient) -> ClientState:
    return client.state  # a call, so the type checker does not narrow across polls


def of(kind: type) -> Callable[[Event], bool]:
    return lambda event: isinstance(event, kind)


def test_poll_style_session(server: ServerThread) -> None:
    host, peer = SignalingClient(), SignalingClient()
    assert state_of(host) is ClientState.CLOSED
    assert host.join() is False  # not connected yet: no exception
    host.connect(server.url)
    assert state_of(host) is ClientState.CONNECTING
    assert poll_until(host, of(Connected)) == [Connected()]
    assert state_of(host) is ClientState.OPEN
    assert host.join("", mesh=True)
    id_event, joined = poll_until(host, of(LobbyJoined))
    assert id_event == IdAssigned(1, True)
    assert isinstance(joined, LobbyJoined)
    assert (host.peer_id, host.mesh, host.lobby) == (1, True, joined.lobby)

    peer.connect(server.url)
    poll_until(peer, of(Connected))
    peer.join(host.lobby)
    events = poll_until(peer, of(LobbyJoined))
    assert events == [IdAssigned(peer.peer_id, True), PeerConnected(1), LobbyJoined(host.lobby)]
    assert peer.peer_id >= 2
    assert poll_until(host, of(PeerConnected)) == [PeerConnected(peer.peer_id)]

    assert peer.send_offer(1, "v=0 offer")
    assert poll_until(host, of(OfferReceived)) == [OfferReceived(peer.peer_id, "v=0 offer")]
    assert host.send_answer(peer.peer_id, "v=0 answer")
    assert poll_until(peer, of(AnswerReceived)) == [AnswerReceived(1, "v=0 answer")]
    cand = "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host"
    assert host.send_candidate(peer.peer_id, "0", 0, cand)
    assert poll_until(peer, of(CandidateReceived)) == [CandidateReceived(1, "0", 0, cand)]
    with pytest.raises(ProtocolError):
        host.send_candidate(peer.peer_id, "", 0, cand)

    assert host.seal()
    assert poll_until(peer, of(LobbySealed)) == [LobbySealed()]
    assert poll_until(host, of(LobbySealed)) == [LobbySealed()]
    assert peer.sealed and host.sealed

    peer.close()
    assert poll_until(peer, of(Disconnected)) == [Disconnected(1000, "")]
    assert peer.state is ClientState.CLOSED
    assert peer.send_offer(1, "late") is False
    assert poll_until(host, of(PeerDisconnected)) == [PeerDisconnected(peer.peer_id)]
    host.close()
    poll_until(host, of(Disconnected))


def test_server_close_reason_reaches_client() -> None:
    srv = ServerThread(join_timeout=0.1)
    try:
        client = SignalingClient()
        client.connect(srv.url)
        events = poll_until(client, of(Disconnected))
        assert events == [Connected(), Disconnected(4000, "Have not joined lobby yet")]
        assert client.state is ClientState.CLOSED
        client.close()
    finally:
        srv.stop()


def test_connect_failure_is_an_event() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connection refused
        client = SignalingClient(open_timeout=HANG_GUARD)
        client.connect(f"ws://127.0.0.1:{port}")
        [event] = poll_until(client, of(Disconnected))
        assert isinstance(event, Disconnected) and event.code is None
        assert "cannot connect" in event.reason
    client.close()


def test_reconnect_after_close(server: ServerThread) -> None:
    client = SignalingClient()
    client.connect(server.url)
    poll_until(client, of(Connected))
    with pytest.raises(RuntimeError):
        client.connect(server.url)
    client.close()
    poll_until(client, of(Disconnected))
    client.connect(server.url)
    poll_until(client, of(Connected))
    client.join()
    poll_until(client, of(LobbyJoined))
    assert client.peer_id == 1
    client.close()


def test_client_skips_invalid_frames_from_server() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("garbage")
        await ws.send(b"\x01binary")
        await ws.send('{"type": 6, "id": 1, "data": "\\nonly-two\\n"}')
        await ws.send('{"type": 1, "id": 9, "data": ""}')
        await ws.wait_closed()

    async def scenario() -> list[Event]:
        async with serve(handler, "127.0.0.1", 0) as srv:
            port = srv.sockets[0].getsockname()[1]
            client = await AsyncSignalingClient.connect(f"ws://127.0.0.1:{port}")
            first = await asyncio.wait_for(client.recv(), HANG_GUARD)
            await client.close()
            return [first]

    assert asyncio.run(scenario()) == [IdAssigned(9, False)]


def test_async_client_session() -> None:
    async def scenario() -> None:
        srv = SignalingServer("127.0.0.1", 0, rng=random.Random(1))
        await srv.start()
        try:
            async with await AsyncSignalingClient.connect(srv.url) as host:
                await host.join("", mesh=False)
                assert await host.recv() == IdAssigned(1, False)
                joined = await host.recv()
                assert isinstance(joined, LobbyJoined)
                peer = await AsyncSignalingClient.connect(srv.url)
                await peer.join(joined.lobby)
                id_event = await peer.recv()
                assert isinstance(id_event, IdAssigned)
                assert await host.recv() == PeerConnected(id_event.peer_id)
                await host.send_candidate(id_event.peer_id, "data", 2, "candidate:x")
                await host.send_offer(id_event.peer_id, "o")
                await host.seal()
                events = []
                async for event in peer:
                    events.append(event)
                    if isinstance(event, LobbySealed):
                        await peer.close()
                assert events == [
                    PeerConnected(1),
                    LobbyJoined(joined.lobby),
                    CandidateReceived(1, "data", 2, "candidate:x"),
                    OfferReceived(1, "o"),
                    LobbySealed(),
                    Disconnected(1000, ""),
                ]
                assert await peer.recv() == Disconnected(1000, "")
                assert await peer.send_answer(1, "late") is False
        finally:
            await srv.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_poll_client_skips_invalid_frames_and_reports_close() -> None:
    def handler(ws: SyncServerConnection) -> None:
        ws.send("garbage")
        ws.send(b"\x01binary")
        ws.send('{"type": 6, "id": 1, "data": "\\nonly-two\\n"}')
        ws.send('{"type": 1, "id": 9, "data": "true"}')
        ws.close(4001, "bye")

    with sync_serve(handler, "127.0.0.1", 0) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        try:
            client = SignalingClient()
            client.connect(f"ws://127.0.0.1:{srv.socket.getsockname()[1]}")
            events = poll_until(client, of(Disconnected))
            assert events == [Connected(), IdAssigned(9, True), Disconnected(4001, "bye")]
            assert (client.peer_id, client.mesh) == (9, True)
            client.close()
        finally:
            srv.shutdown()
            thread.join(HANG_GUARD)
