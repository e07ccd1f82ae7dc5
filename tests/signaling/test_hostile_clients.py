"""Issue 13: hostile signaling clients (lone surrogates, lobby size, join/leave cost)."""

from __future__ import annotations

import asyncio
import random

import pytest
from websockets.asyncio.client import connect

from tests.signaling.test_server import (
    closed,
    create_lobby,
    drain_until,
    join_lobby,
    make_server,
    recv,
    run,
    send,
)
from webrtc.signaling.protocol import (
    Message,
    MessageType,
    ProtocolError,
    close_reason,
    decode_message,
    encode_message,
)
from webrtc.signaling.server import (
    DEFAULT_MAX_LOBBY_PEERS,
    Action,
    Close,
    Lobby,
    Peer,
    Send,
    SignalingHub,
    build_parser,
)

T = MessageType
SURROGATE_RELAY = '{"type": 4, "id": 1, "data": "v=0 \\ud800"}'  # JSON escape of a lone surrogate
NOT_UNICODE = "Invalid message format: 'data' is not valid Unicode"


def frame(mtype: MessageType, peer_id: int = 0, data: str = "") -> str:
    return encode_message(Message(mtype, peer_id, data))


def hub_with_lobby(mesh: bool, **kw: int) -> tuple[SignalingHub, Peer, Lobby]:
    hub = SignalingHub(rng=random.Random(5), **kw)
    host = hub.connect()
    assert host is not None
    actions = hub.receive(host, frame(T.JOIN, 0 if mesh else 1, ""))
    name = [a for a in actions if isinstance(a, Send)][-1].message.data
    return hub, host, hub.lobbies[name]


def join(hub: SignalingHub, lobby: Lobby) -> tuple[Peer, list[Action]]:
    peer = hub.connect()
    assert peer is not None
    return peer, hub.receive(peer, frame(T.JOIN, 0, lobby.name))


# -- lone surrogates -----------------------------------------------------------------------------


def test_decode_refuses_data_that_utf8_cannot_carry() -> None:
    with pytest.raises(ProtocolError, match="not valid Unicode"):
        decode_message(SURROGATE_RELAY)
    with pytest.raises(ProtocolError, match="not valid Unicode"):
        decode_message('{"type": 0, "id": 0, "data": "\\udfff"}')
    # a valid pair of escapes is one character, and fine
    assert decode_message('{"type": 4, "id": 1, "data": "\\ud83d\\ude00"}').data == "\U0001f600"


def test_encode_refuses_a_lone_surrogate() -> None:
    with pytest.raises(ProtocolError):
        encode_message(Message(T.OFFER, 1, "\ud800"))


def test_close_reason_with_a_lone_surrogate_does_not_raise() -> None:
    reason = close_reason("bad \ud800 name")
    reason.encode("utf-8")  # sendable
    assert reason.startswith("bad ")
    assert len(close_reason("\udc00" * 500).encode()) <= 123


def test_hub_closes_the_sender_of_a_surrogate_relay_and_relays_nothing() -> None:
    hub, host, lobby = hub_with_lobby(mesh=True)
    b, _ = join(hub, lobby)
    actions = hub.receive(b, SURROGATE_RELAY)
    assert actions == [Close(b, 4000, NOT_UNICODE)]
    # the host is untouched and can still relay to others
    c, _ = join(hub, lobby)
    out = hub.receive(host, frame(T.OFFER, c.id, "ok"))
    assert [(a.peer, a.message.data) for a in out if isinstance(a, Send)] == [(c, "ok")]


def test_server_surrogate_relay_gets_4000_others_unaffected() -> None:
    async def scenario() -> None:
        async with make_server() as server:
            host, lobby = await create_lobby(server.url)
            good, good_id = await join_lobby(server.url, lobby, host)
            bad, bad_id = await join_lobby(server.url, lobby, host)
            await bad.send(SURROGATE_RELAY)
            assert await closed(bad) == (4000, NOT_UNICODE)
            assert await drain_until(host, T.PEER_DISCONNECT) == Message(T.PEER_DISCONNECT, bad_id)
            await send(good, T.OFFER, 1, "after")
            assert await drain_until(host, T.OFFER) == Message(T.OFFER, good_id, "after")
            # A host sending it loses its lobby (the documented host rule), with 4000 not 1011.
            await host.send(SURROGATE_RELAY.replace('"id": 1', f'"id": {good_id}'))
            assert await closed(host) == (4000, NOT_UNICODE)
            assert await closed(good) == (4000, "Room host has disconnected")
            # and the server goes on serving
            host2, lobby2 = await create_lobby(server.url)
            other, other_id = await join_lobby(server.url, lobby2, host2)
            await send(other, T.OFFER, 1, "still")
            assert await drain_until(host2, T.OFFER) == Message(T.OFFER, other_id, "still")
            await asyncio.gather(host2.close(), other.close())

    run(scenario())


# -- lobby size and join/leave cost -------------------------------------------------------------


def test_lobby_member_cap() -> None:
    hub, _host, lobby = hub_with_lobby(mesh=True, max_lobby_peers=4)
    peers = [join(hub, lobby)[0] for _ in range(3)]
    assert len(lobby.members) == 4
    extra, actions = join(hub, lobby)
    assert actions == [Close(extra, 4000, "Lobby is full")]
    assert len(lobby.members) == 4 and extra.lobby is None
    hub.disconnect(peers[0])  # a place frees up
    again, actions = join(hub, lobby)
    assert not [a for a in actions if isinstance(a, Close)] and again.lobby is lobby


def test_default_lobby_cap_is_documented_and_settable() -> None:
    assert DEFAULT_MAX_LOBBY_PEERS == 256
    args = build_parser().parse_args(["--max-lobby-peers", "8"])
    assert args.max_lobby_peers == 8
    assert SignalingHub().max_lobby_peers == DEFAULT_MAX_LOBBY_PEERS


class _CountingMembers(dict[int, Peer]):
    walks = 0

    def values(self):  # type: ignore[no-untyped-def]
        _CountingMembers.walks += 1
        return super().values()


def test_client_server_join_and_leave_do_not_walk_the_members() -> None:
    """A client's join or leave is told to the host only: its cost does not grow with the
    lobby (a 400-member lobby made each join walk every member)."""
    hub, host, lobby = hub_with_lobby(mesh=False, max_lobby_peers=5000)
    for _ in range(2000):
        join(hub, lobby)
    lobby.members = _CountingMembers(lobby.members)
    _CountingMembers.walks = 0
    c, actions = join(hub, lobby)
    assert [(a.peer, a.message.type) for a in actions if isinstance(a, Send)] == [
        (c, T.ID),
        (host, T.PEER_CONNECT),
        (c, T.PEER_CONNECT),
        (c, T.JOIN),
    ]
    left = hub.disconnect(c)
    assert [(a.peer, a.message.type) for a in left if isinstance(a, Send)] == [
        (host, T.PEER_DISCONNECT)
    ]
    assert _CountingMembers.walks == 0


def test_lobby_cap_over_sockets() -> None:
    async def scenario() -> None:
        async with make_server(max_lobby_peers=2) as server:
            host, lobby = await create_lobby(server.url)
            member, _ = await join_lobby(server.url, lobby, host)
            extra = await connect(server.url)
            await send(extra, T.JOIN, 0, lobby)
            assert await closed(extra) == (4000, "Lobby is full")
            await send(member, T.OFFER, 1, "x")
            assert (await recv(host)).data == "x"
            await asyncio.gather(host.close(), member.close())

    run(scenario())


def test_client_refuses_to_send_a_lone_surrogate() -> None:
    from webrtc.signaling.client import AsyncSignalingClient

    async def scenario() -> None:
        async with make_server() as server:
            client = await AsyncSignalingClient.connect(server.url)
            with pytest.raises(ProtocolError):
                await client.send_offer(1, "v=0 \ud800")
            assert await client.join("") is True  # the connection is still usable
            await client.close()

    run(scenario())
