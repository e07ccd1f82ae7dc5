"""Lobby rules of the sans-I/O SignalingHub (no sockets, no clock)."""

import random

import pytest

from webrtc.signaling.protocol import Message, MessageType, encode_message
from webrtc.signaling.server import (
    Action,
    Close,
    Lobby,
    Peer,
    Send,
    SignalingHub,
    StartSealTimer,
)

T = MessageType


def frame(mtype: MessageType, peer_id: int = 0, data: str = "") -> str:
    return encode_message(Message(mtype, peer_id, data))


def sends(actions: list[Action], peer: Peer) -> list[tuple[MessageType, int, str]]:
    return [
        (a.message.type, a.message.id, a.message.data)
        for a in actions
        if isinstance(a, Send) and a.peer is peer
    ]


def closes(actions: list[Action]) -> list[tuple[Peer, int, str]]:
    return [(a.peer, a.code, a.reason) for a in actions if isinstance(a, Close)]


def new_hub(**kw: int) -> SignalingHub:
    return SignalingHub(rng=random.Random(7), **kw)


def connect(hub: SignalingHub) -> Peer:
    peer = hub.connect()
    assert peer is not None
    return peer


def host_lobby(hub: SignalingHub, mesh: bool = True) -> tuple[Peer, Lobby]:
    host = connect(hub)
    actions = hub.receive(host, frame(T.JOIN, 0 if mesh else 1, ""))
    assert peer_is_host(hub, host)
    name = sends(actions, host)[-1][2]
    return host, hub.lobbies[name]


def peer_is_host(hub: SignalingHub, peer: Peer) -> bool:
    return peer.lobby is not None and peer.lobby.host is peer


def join(hub: SignalingHub, lobby: Lobby) -> tuple[Peer, list[Action]]:
    peer = connect(hub)
    return peer, hub.receive(peer, frame(T.JOIN, 0, lobby.name))


def test_ids_are_random_in_demo_range_and_unique() -> None:
    hub = new_hub()
    peers = [connect(hub) for _ in range(200)]
    ids = {p.id for p in peers}
    assert len(ids) == 200
    assert all(2 <= i <= 2**31 - 1 for i in ids)


def test_ids_are_reproducible_with_injected_rng() -> None:
    a = [connect(new_hub()).id for _ in range(3)]
    b = [connect(new_hub()).id for _ in range(3)]
    assert a == b


def test_create_lobby_host_gets_id_1_then_join_reply() -> None:
    hub = new_hub()
    host = connect(hub)
    actions = hub.receive(host, frame(T.JOIN, 0, ""))
    out = sends(actions, host)
    assert out[0] == (T.ID, 1, "true")
    assert out[1][0] is T.JOIN and out[1][1] == 0
    name = out[1][2]
    assert len(name) == 16 and name.isalnum()
    assert hub.lobbies[name].host is host
    assert len(out) == 2 and not closes(actions)


def test_client_server_lobby_id_data_is_empty() -> None:
    hub = new_hub()
    host = connect(hub)
    assert sends(hub.receive(host, frame(T.JOIN, 1, "")), host)[0] == (T.ID, 1, "")


def test_join_mesh_everyone_sees_everyone() -> None:
    hub = new_hub()
    host, lobby = host_lobby(hub, mesh=True)
    b, actions_b = join(hub, lobby)
    assert sends(actions_b, b) == [
        (T.ID, b.id, "true"),
        (T.PEER_CONNECT, 1, ""),
        (T.JOIN, 0, lobby.name),
    ]
    assert sends(actions_b, host) == [(T.PEER_CONNECT, b.id, "")]
    c, actions_c = join(hub, lobby)
    assert sends(actions_c, c) == [
        (T.ID, c.id, "true"),
        (T.PEER_CONNECT, 1, ""),
        (T.PEER_CONNECT, b.id, ""),
        (T.JOIN, 0, lobby.name),
    ]
    assert sends(actions_c, host) == [(T.PEER_CONNECT, c.id, "")]
    assert sends(actions_c, b) == [(T.PEER_CONNECT, c.id, "")]
    # Leaving is announced to everyone left.
    actions = hub.disconnect(b)
    assert sends(actions, host) == [(T.PEER_DISCONNECT, b.id, "")]
    assert sends(actions, c) == [(T.PEER_DISCONNECT, b.id, "")]


def test_joiner_mesh_flag_is_ignored_lobby_mode_wins() -> None:
    hub = new_hub()
    _, lobby = host_lobby(hub, mesh=False)
    b = connect(hub)
    assert sends(hub.receive(b, frame(T.JOIN, 0, lobby.name)), b)[0] == (T.ID, b.id, "")


def test_client_server_clients_only_see_host() -> None:
    hub = new_hub()
    host, lobby = host_lobby(hub, mesh=False)
    b, _ = join(hub, lobby)
    c, actions_c = join(hub, lobby)
    assert sends(actions_c, c) == [
        (T.ID, c.id, ""),
        (T.PEER_CONNECT, 1, ""),
        (T.JOIN, 0, lobby.name),
    ]
    assert sends(actions_c, host) == [(T.PEER_CONNECT, c.id, "")]
    assert sends(actions_c, b) == []
    actions = hub.disconnect(b)
    assert sends(actions, host) == [(T.PEER_DISCONNECT, b.id, "")]
    assert sends(actions, c) == []
    # Clients cannot relay to each other in client/server mode.
    d, _ = join(hub, lobby)
    actions = hub.receive(d, frame(T.OFFER, c.id, "sdp"))
    assert closes(actions) == [(d, 4000, f"Invalid destination: peer {c.id} is not reachable")]


@pytest.mark.parametrize("mtype", [T.OFFER, T.ANSWER, T.CANDIDATE])
def test_relay_rewrites_destination_to_source(mtype: MessageType) -> None:
    hub = new_hub()
    host, lobby = host_lobby(hub)
    b, _ = join(hub, lobby)
    c, _ = join(hub, lobby)
    # Client to host (id 1 means the host).
    actions = hub.receive(b, frame(mtype, 1, "payload-b"))
    assert actions == [Send(host, Message(mtype, b.id, "payload-b"))]
    # Host to client: the client sees the host as 1.
    actions = hub.receive(host, frame(mtype, c.id, "payload-h"))
    assert actions == [Send(c, Message(mtype, 1, "payload-h"))]
    # Client to client in a mesh.
    actions = hub.receive(c, frame(mtype, b.id, "\n0\n0\ncandidate:x"))
    assert actions == [Send(b, Message(mtype, c.id, "\n0\n0\ncandidate:x"))]


def test_relay_to_unknown_peer_closes_sender_only() -> None:
    hub = new_hub()
    host, lobby = host_lobby(hub)
    b, _ = join(hub, lobby)
    actions = hub.receive(b, frame(T.OFFER, 424242, "x"))
    assert actions == [Close(b, 4000, "Invalid destination: no peer 424242 in this lobby")]
    # Further frames from a closing peer are ignored; the host is unaffected.
    assert hub.receive(b, frame(T.OFFER, 1, "x")) == []
    assert host.closing is False and lobby.name in hub.lobbies


def test_relay_to_self_or_other_lobby_is_invalid() -> None:
    hub = new_hub()
    _host, lobby = host_lobby(hub)
    _other_host, other = host_lobby(hub)
    b, _ = join(hub, lobby)
    o, _ = join(hub, other)
    assert closes(hub.receive(b, frame(T.OFFER, b.id, "x")))[0][2].startswith("Invalid destination")
    c, _ = join(hub, lobby)
    assert closes(hub.receive(c, frame(T.OFFER, o.id, "x")))[0][2].startswith("Invalid destination")


def test_relay_to_recently_departed_peer_is_dropped_quietly() -> None:
    hub = new_hub()
    host, lobby = host_lobby(hub)
    b, _ = join(hub, lobby)
    hub.disconnect(b)
    assert hub.receive(host, frame(T.CANDIDATE, b.id, "\n0\n0\nc")) == []
    assert not host.closing


def test_host_leaving_closes_lobby_and_its_members() -> None:
    hub = new_hub()
    host, lobby = host_lobby(hub)
    b, _ = join(hub, lobby)
    c, _ = join(hub, lobby)
    actions = hub.disconnect(host)
    assert closes(actions) == [
        (b, 4000, "Room host has disconnected"),
        (c, 4000, "Room host has disconnected"),
    ]
    assert lobby.name not in hub.lobbies
    assert hub.disconnect(b) == []
    # The name is gone: joining it fails.
    d = connect(hub)
    assert closes(hub.receive(d, frame(T.JOIN, 0, lobby.name))) == [
        (d, 4000, "Lobby does not exists")
    ]


def test_seal_notifies_everyone_and_blocks_new_peers() -> None:
    hub = new_hub()
    host, lobby = host_lobby(hub)
    b, _ = join(hub, lobby)
    actions = hub.receive(host, frame(T.SEAL))
    assert sends(actions, host) == [(T.SEAL, 0, "")]
    assert sends(actions, b) == [(T.SEAL, 0, "")]
    assert actions[-1] == StartSealTimer(lobby)
    assert hub.receive(host, frame(T.SEAL)) == []  # idempotent
    late = connect(hub)
    assert closes(hub.receive(late, frame(T.JOIN, 0, lobby.name))) == [
        (late, 4000, "Lobby is sealed")
    ]
    # Relaying still works until the timer fires.
    assert hub.receive(b, frame(T.ANSWER, 1, "a")) == [Send(host, Message(T.ANSWER, b.id, "a"))]
    assert closes(hub.seal_expired(lobby)) == [
        (host, 1000, "Seal complete"),
        (b, 1000, "Seal complete"),
    ]


def test_seal_expired_after_lobby_gone_is_noop() -> None:
    hub = new_hub()
    host, lobby = host_lobby(hub)
    hub.receive(host, frame(T.SEAL))
    hub.disconnect(host)
    assert hub.seal_expired(lobby) == []


def test_only_host_can_seal() -> None:
    hub = new_hub()
    _host, lobby = host_lobby(hub)
    b, _ = join(hub, lobby)
    assert closes(hub.receive(b, frame(T.SEAL))) == [(b, 4000, "Only host can seal the lobby")]
    assert not lobby.sealed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "Invalid message format: not JSON"),
        ('{"type": "x", "id": 0}', "Invalid message format: 'type' must be an integer"),
        ('{"type": 9, "id": 0}', "Invalid command: unknown type 9"),
        ('{"type": 4, "id": 1, "data": "x"}', "Invalid message when not in a lobby"),
        ('{"type": 7, "id": 0}', "Invalid message when not in a lobby"),
        ('{"type": 0, "id": 0, "data": "nope"}', "Lobby does not exists"),
    ],
)
def test_bad_frames_before_join_close_with_4000(text: str, reason: str) -> None:
    hub = new_hub()
    p = connect(hub)
    assert hub.receive(p, text) == [Close(p, 4000, reason)]


@pytest.mark.parametrize("mtype", [T.ID, T.PEER_CONNECT, T.PEER_DISCONNECT])
def test_server_only_types_from_client_are_invalid(mtype: MessageType) -> None:
    hub = new_hub()
    _host, lobby = host_lobby(hub)
    b, _ = join(hub, lobby)
    assert closes(hub.receive(b, frame(mtype, 1))) == [
        (b, 4000, f"Invalid command: clients may not send {mtype.name}")
    ]


def test_binary_frame_is_rejected() -> None:
    hub = new_hub()
    p = connect(hub)
    assert hub.receive(p, b"{}") == [Close(p, 4000, "Invalid transfer mode, must be text")]


def test_join_twice_is_rejected() -> None:
    hub = new_hub()
    host, _lobby = host_lobby(hub)
    assert closes(hub.receive(host, frame(T.JOIN, 0, ""))) == [(host, 4000, "Already in a lobby")]


def test_join_timeout_only_for_peers_not_in_a_lobby() -> None:
    hub = new_hub()
    host, _ = host_lobby(hub)
    idle = connect(hub)
    assert hub.join_timeout(host) == []
    assert hub.join_timeout(idle) == [Close(idle, 4000, "Have not joined lobby yet")]
    assert hub.join_timeout(idle) == []  # already closing


def test_peer_limit() -> None:
    hub = new_hub(max_peers=2)
    a = connect(hub)
    connect(hub)
    assert hub.connect() is None
    hub.disconnect(a)
    assert hub.connect() is not None


def test_lobby_limit_and_freed_slot() -> None:
    hub = new_hub(max_lobbies=1)
    host, lobby = host_lobby(hub)
    p = connect(hub)
    assert closes(hub.receive(p, frame(T.JOIN, 0, ""))) == [
        (p, 4000, "Too many lobbies open, disconnecting")
    ]
    # Joining the existing lobby is still allowed.
    _q, actions = join(hub, lobby)
    assert not closes(actions)
    hub.disconnect(host)
    r = connect(hub)
    assert not closes(hub.receive(r, frame(T.JOIN, 0, "")))


def test_long_close_reason_is_truncated_to_fit_frame() -> None:
    hub = new_hub()
    host, _lobby = host_lobby(hub)
    [(_, _, reason)] = closes(hub.receive(host, frame(T.OFFER, 2**31 - 1, "x")))
    assert len(reason.encode()) <= 123


def test_disconnect_unknown_or_twice_is_noop() -> None:
    hub = new_hub()
    _host, lobby = host_lobby(hub)
    b, _ = join(hub, lobby)
    assert hub.disconnect(b)
    assert hub.disconnect(b) == []
    assert hub.receive(b, frame(T.OFFER, 1, "x")) == []


def test_kick_closes_once_and_peer_leaves_normally() -> None:
    hub = new_hub()
    host, lobby = host_lobby(hub)
    b, _ = join(hub, lobby)
    assert hub.kick(b, 1008, "Not reading fast enough") == [
        Close(b, 1008, "Not reading fast enough")
    ]
    assert hub.kick(b, 1008, "again") == []
    assert sends(hub.disconnect(b), host) == [(T.PEER_DISCONNECT, b.id, "")]
    assert hub.kick(b, 1008, "gone") == []
