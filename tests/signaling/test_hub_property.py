"""Random operation sequences against SignalingHub: no crash, invariants always hold."""

import random

from hypothesis import given
from hypothesis import strategies as st

from webrtc.signaling.protocol import Message, MessageType, decode_candidate, encode_message
from webrtc.signaling.server import Action, Close, Peer, Send, SignalingHub, StartSealTimer

_ops = st.lists(
    st.one_of(
        st.tuples(st.just("connect")),
        st.tuples(st.just("disconnect"), st.integers(0, 7)),
        st.tuples(st.just("join_new"), st.integers(0, 7), st.booleans()),
        st.tuples(st.just("join_existing"), st.integers(0, 7), st.integers(0, 3)),
        st.tuples(
            st.just("relay"),
            st.integers(0, 7),
            st.sampled_from([MessageType.OFFER, MessageType.ANSWER, MessageType.CANDIDATE]),
            st.integers(0, 7),
        ),
        st.tuples(st.just("raw"), st.integers(0, 7), st.text(max_size=30)),
        st.tuples(st.just("seal"), st.integers(0, 7)),
        st.tuples(st.just("seal_expired"), st.integers(0, 3)),
        st.tuples(st.just("join_timeout"), st.integers(0, 7)),
        st.tuples(
            st.just("apply_closes"),
        ),
    ),
    max_size=40,
)


def _check(hub: SignalingHub, actions: list[Action]) -> None:
    assert len(hub.peers) <= hub.max_peers
    assert len(hub.lobbies) <= hub.max_lobbies
    for name, lobby in hub.lobbies.items():
        assert lobby.name == name
        assert hub.peers.get(lobby.host.id) is lobby.host
        assert lobby.members.get(1) is lobby.host
        for member_id, member in lobby.members.items():
            assert hub.peers.get(member.id) is member
            assert member.lobby is lobby
            assert lobby.peer_id(member) == member_id
    for action in actions:
        if isinstance(action, Send):
            msg = action.message
            assert encode_message(msg)  # always encodable
            if msg.type is MessageType.CANDIDATE and msg.data.count("\n") == 3:
                decode_candidate(msg.data)
        elif isinstance(action, Close):
            assert action.code in (1000, 4000)
            assert len(action.reason.encode()) <= 123
        else:
            assert isinstance(action, StartSealTimer)


@given(_ops, st.integers(0, 2**32))
def test_random_sequences_keep_invariants(ops: list[tuple[object, ...]], seed: int) -> None:
    hub = SignalingHub(max_peers=6, max_lobbies=2, rng=random.Random(seed))
    conns: list[Peer] = []
    pending_close: list[Peer] = []

    def pick(i: object) -> Peer | None:
        assert isinstance(i, int)
        return conns[i % len(conns)] if conns else None

    for op in ops:
        kind = op[0]
        actions: list[Action] = []
        if kind == "connect":
            peer = hub.connect()
            if peer is not None:
                conns.append(peer)
        elif kind == "apply_closes":
            for peer in pending_close:
                actions += hub.disconnect(peer)
            pending_close.clear()
        elif kind == "seal_expired":
            lobbies = list(hub.lobbies.values())
            if lobbies:
                actions = hub.seal_expired(lobbies[int(str(op[1])) % len(lobbies)])
        else:
            peer = pick(op[1])
            if peer is None:
                continue
            if kind == "disconnect":
                actions = hub.disconnect(peer)
                conns.remove(peer)
            elif kind == "join_new":
                actions = hub.receive(
                    peer, encode_message(Message(MessageType.JOIN, int(not op[2])))
                )
            elif kind == "join_existing":
                names = list(hub.lobbies)
                name = names[int(str(op[2])) % len(names)] if names else "missing"
                actions = hub.receive(peer, encode_message(Message(MessageType.JOIN, 0, name)))
            elif kind == "relay":
                target = pick(op[3])
                assert target is not None and isinstance(op[2], MessageType)
                dest = 1 if target.lobby and target.lobby.host is target else target.id
                actions = hub.receive(peer, encode_message(Message(op[2], dest, "\n0\n0\nc")))
                for action in actions:
                    if isinstance(action, Send):
                        # The receiver learns the source, never the destination.
                        assert peer.lobby is not None
                        assert action.message.id == peer.lobby.peer_id(peer)
            elif kind == "raw":
                assert isinstance(op[2], str)
                actions = hub.receive(peer, op[2])
            elif kind == "seal":
                actions = hub.receive(peer, encode_message(Message(MessageType.SEAL)))
            elif kind == "join_timeout":
                actions = hub.join_timeout(peer)
        for action in actions:
            if isinstance(action, Close) and action.peer not in pending_close:
                pending_close.append(action.peer)
                assert action.peer.closing
        _check(hub, actions)
