"""Application data is accepted only from pairs the peer has proven (RFC 8445 §7.2.5, §7.3), and
peer-reflexive remote candidates are bounded (the candidate-side twin of §6.1.2.5)."""

from __future__ import annotations

import random

import ice
import sdp
from ice.stun import Attr, Class, Message, Method
from tests.ice.harness import make_pair
from tests.ice.test_agent_security import (
    LOCAL,
    PEER,
    R_PWD,
    R_UFRAG,
    _agent,
    _agent_with_check,
    _answer,
    _request,
    _responses,
)
from tests.ice_stun.test_turn import SERVER, FakeServer

CLIENT_HELLO = b"\x16\xfe\xfd" + bytes(10) + b"hello"
STRANGER = ("203.0.113.66", 4444)


def _checked_by(agent: ice.Agent, peer: tuple[str, int], now: float, **kw: object) -> None:
    """An authenticated check from `peer` arrives (and is answered)."""
    tid = random.Random(str(peer) + str(now)).randbytes(12)
    agent.receive(_request(tid=tid, **kw), peer, now, LOCAL)  # type: ignore[arg-type]
    agent.datagrams_to_send()


# -- the data filter -----------------------------------------------------------------------------


def test_data_from_unknown_source_dropped_and_counted() -> None:
    agent = _agent()
    for first in (20, 23, 63, 64, 128, 255):
        assert agent.receive(bytes([first]) + b"x", PEER, 0.0, LOCAL) is None
    assert agent.receive(CLIENT_HELLO, PEER, 0.0) is None  # no `local`: the guess changes nothing
    assert agent.stats["data_from_unknown_source"] == 7
    assert agent.datagrams_to_send() == []


def test_authenticated_check_from_peer_proves_its_address() -> None:
    """The peer starts DTLS once its own check succeeds: its ClientHello can arrive right after
    its request, before our check on the pair even went out; it is accepted."""
    agent = _agent()
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    _checked_by(agent, PEER, 0.1)
    pair = agent.checklist.find(agent.local_candidates[0], PEER)
    assert pair is not None and not pair.valid  # our own check has not succeeded
    assert agent.receive(CLIENT_HELLO, PEER, 0.1, LOCAL) == CLIENT_HELLO
    for first in (20, 63, 64, 128, 191, 255):  # RFC 7983: everything but STUN goes up
        data = bytes([first]) + b"payload"
        assert agent.receive(data, PEER, 0.1, LOCAL) == data
    assert agent.stats["data_from_unknown_source"] == 0


def test_only_the_exact_pair_is_proven() -> None:
    agent = ice.Agent(controlling=False, rng=random.Random(1), local_pwd="localpassword0123456789")
    agent.local_ufrag = "locl"
    other_socket = ("10.0.0.1", 5001)
    agent.gather([LOCAL, other_socket], 0.0)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    _checked_by(agent, PEER, 0.1)
    assert agent.receive(CLIENT_HELLO, PEER, 0.1, LOCAL) == CLIENT_HELLO
    assert agent.receive(CLIENT_HELLO, PEER, 0.1, other_socket) is None  # another socket
    assert agent.receive(CLIENT_HELLO, (PEER[0], PEER[1] + 1), 0.1, LOCAL) is None  # port
    assert agent.receive(CLIENT_HELLO, STRANGER, 0.1, LOCAL) is None
    assert agent.stats["data_from_unknown_source"] == 3


def test_unauthenticated_or_rejected_checks_prove_nothing() -> None:
    agent = _agent(controlling=True, tie_breaker=1 << 63)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    agent.receive(_request(key=b"wrong-password"), STRANGER, 0.1, LOCAL)
    agent.receive(_request(username=f"other:{R_UFRAG}"), STRANGER, 0.1, LOCAL)
    agent.receive(_request(fingerprint=False), STRANGER, 0.1, LOCAL)
    agent.receive(_request(controlling=True), STRANGER, 0.1, LOCAL)  # 487: we stay controlling
    assert agent.stats["role_conflicts"] == 1
    assert agent.receive(CLIENT_HELLO, STRANGER, 0.2, LOCAL) is None
    assert agent.stats["data_from_unknown_source"] == 1


def test_successful_check_response_proves_the_pair() -> None:
    agent, check = _agent_with_check(controlling=True)
    assert agent.receive(CLIENT_HELLO, PEER, 0.01, LOCAL) is None
    _answer(agent, check, STRANGER, 0.01)  # a response from the wrong address proves nothing
    assert agent.receive(CLIENT_HELLO, STRANGER, 0.01, LOCAL) is None
    assert agent.receive(CLIENT_HELLO, PEER, 0.01, LOCAL) is None
    _answer(agent, check, PEER, 0.02)
    assert agent.checklist.pairs[0].valid
    assert agent.receive(CLIENT_HELLO, PEER, 0.02, LOCAL) == CLIENT_HELLO
    assert agent.stats["data_from_unknown_source"] == 3


def test_unnormalised_addresses_and_missing_local() -> None:
    """The fast path is a probe with the driver's tuples; other spellings are normalised."""
    agent = ice.Agent(controlling=False, rng=random.Random(2), local_pwd="localpassword0123456789")
    agent.local_ufrag = "locl"
    base, peer = ("2001:db8::1", 5000), ("2001:db8::2", 6000)
    agent.gather([base], 0.0)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    agent.receive(_request(), peer, 0.1, base)
    assert agent.receive(CLIENT_HELLO, ("2001:db8:0::2", 6000), 0.1, base) == CLIENT_HELLO
    assert agent.receive(CLIENT_HELLO, peer, 0.1, ("2001:DB8::1", 5000)) == CLIENT_HELLO
    assert agent.receive(CLIENT_HELLO, peer, 0.1) == CLIENT_HELLO  # guessed socket
    assert agent.receive(CLIENT_HELLO, ("2001:db8::3", 6000), 0.1) is None
    assert agent.receive(CLIENT_HELLO, ("not an address", 6000), 0.1, base) is None
    assert agent.stats["data_from_unknown_source"] == 2


def test_full_session_data_flows_and_stranger_is_dropped() -> None:
    sim, a, b = make_pair()
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    sim.net.bind(STRANGER)
    sim.net.send(CLIENT_HELLO, STRANGER, ("10.0.0.2", 6000), sim.clock.now)
    b.app_data.clear()
    assert a.agent.send(b"\x17real")
    assert sim.run(lambda: bool(b.app_data), 1)
    sim.run(lambda: False, 0.1)
    assert b.app_data == [b"\x17real"]
    assert b.agent.stats["data_from_unknown_source"] == 1


def test_ice_restart_keeps_the_old_pair_working() -> None:
    sim, a, b = make_pair(
        a_addrs=[("10.0.0.1", 5000), ("10.0.1.1", 5000)], b_addrs=[("10.0.0.2", 6000)]
    )
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    old = a.agent.selected_pair
    assert old is not None
    a.agent.restart()
    b.agent.restart()
    # before the new credentials arrive: the check list is gone, the old pair still carries data
    a.app_data.clear()
    b.app_data.clear()
    assert a.agent.send(b"\x17a") and b.agent.send(b"\x17b")
    assert sim.run(lambda: bool(a.app_data) and bool(b.app_data), 1)
    sim.exchange_credentials()
    assert sim.run(sim.completed, 10)
    a.app_data.clear()
    b.app_data.clear()
    assert a.agent.send(b"\x17a2") and b.agent.send(b"\x17b2")
    assert sim.run(lambda: bool(a.app_data) and bool(b.app_data), 1)
    assert a.agent.stats["data_from_unknown_source"] == 0
    assert b.agent.stats["data_from_unknown_source"] == 0
    # only pairs of the new generation (plus the selected one) remain data sources
    assert len(b.agent._proven) <= len(b.agent.checklist) + 1


def _turn_agent() -> tuple[ice.Agent, FakeServer, tuple[str, int]]:
    base = ("10.0.0.1", 5000)
    agent = ice.Agent(
        controlling=False,
        rng=random.Random(3),
        local_ufrag="locl",
        local_pwd="localpassword0123456789",
        turn_servers=[ice.TurnServer(SERVER, "user", "pass")],
    )
    agent.gather([base], 0.0)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    server = FakeServer()
    now = 0.0
    for _ in range(20):
        for data, local, remote in agent.datagrams_to_send():
            assert local == base and remote == SERVER
            for reply in server.handle(data):
                agent.receive(reply, SERVER, now, base)
        if any(lc.type == "relay" for lc in agent.local_candidates):
            agent.datagrams_to_send()
            return agent, server, base
        now += 0.05
        agent.handle_timeout(now)
    raise AssertionError("no relayed candidate")


def _data_indication(peer: tuple[str, int], payload: bytes) -> bytes:
    attrs: dict[int, object] = {Attr.XOR_PEER_ADDRESS: peer, Attr.DATA: payload}
    return Message(Method.DATA, Class.INDICATION, b"D" * 12, attrs).encode()


def test_relayed_data_needs_a_proven_relayed_pair() -> None:
    agent, _server, base = _turn_agent()
    hello = _data_indication(PEER, CLIENT_HELLO)
    assert agent.receive(hello, SERVER, 1.0, base) is None
    assert agent.stats["data_from_unknown_source"] == 1
    # the peer's authenticated check through the relay proves (base, server, peer)
    agent.receive(_data_indication(PEER, _request()), SERVER, 1.0, base)
    assert agent.stats["requests_answered"] == 1
    assert agent.receive(hello, SERVER, 1.0, base) == CLIENT_HELLO
    assert agent.receive(_data_indication(STRANGER, CLIENT_HELLO), SERVER, 1.0, base) is None
    # the same peer sending directly to our socket has proven nothing there
    assert agent.receive(CLIENT_HELLO, PEER, 1.0, base) is None
    assert agent.stats["data_from_unknown_source"] == 3


# -- bounded peer-reflexive candidates -------------------------------------------------------------


def _flood(agent: ice.Agent, n: int, now: float, start: int = 0) -> None:
    """Authenticated checks (as if replayed) from `n` distinct addresses."""
    for i in range(start, start + n):
        agent.receive(
            _request(tid=i.to_bytes(12, "big")),
            (f"10.9.{i // 250}.{i % 250}", 7000 + i),
            now,
            LOCAL,
        )
        agent.datagrams_to_send()


def test_replayed_check_flood_keeps_candidates_bounded() -> None:
    agent = _agent()
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    _flood(agent, 1000, 0.1)
    prflx = [c for c in agent.remote_candidates if c.type == "prflx"]
    assert len(agent.remote_candidates) == len(prflx) == agent.max_prflx_remote == 50
    assert agent.stats["prflx_remote_learned"] == 1000
    assert agent.stats["prflx_remote_evicted"] == 950
    assert len(agent._remote_by_address) == 50 and len(agent._prflx_remote) == 50
    assert len(agent.checklist) <= 50
    assert len(agent._proven) <= 50
    assert all(c.pair in agent.checklist.pairs for c in agent._checks.values())
    # the newest ones are kept (least recently checked evicted first)
    assert ("10.9.3.249", 7999) in agent._remote_by_address
    assert ("10.9.0.0", 7000) not in agent._remote_by_address
    # an evicted address is no longer a data source
    assert agent.receive(CLIENT_HELLO, ("10.9.0.0", 7000), 0.2, LOCAL) is None
    assert agent.receive(CLIENT_HELLO, ("10.9.3.249", 7999), 0.2, LOCAL) == CLIENT_HELLO


def test_eviction_spares_the_selected_pair_and_recently_checked() -> None:
    agent = _agent(controlling=False)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    real = ("198.51.100.7", 9000)  # the real peer, known only as peer-reflexive (mDNS)
    _checked_by(agent, real, 0.1, extra={Attr.USE_CANDIDATE: True})
    agent.handle_timeout(0.1)
    (check,) = [m for m in _responses(agent) if m.message_class is Class.REQUEST]
    _answer(agent, check, real, 0.15)
    assert agent.selected_pair is not None and agent.selected_pair.remote_address == real
    busy = ("198.51.100.8", 9000)  # checked again and again: never the oldest
    for k in range(10):
        _checked_by(agent, busy, 0.2 + k)
        _flood(agent, 40, 0.2 + k, start=40 * k)  # 400 strangers, 40 between busy's checks
    assert real in agent._remote_by_address and busy in agent._remote_by_address
    assert agent.receive(CLIENT_HELLO, real, 20.0, LOCAL) == CLIENT_HELLO
    assert agent.selected_pair.remote_address == real
    assert len(agent.remote_candidates) <= agent.max_prflx_remote
    assert agent.stats["prflx_remote_evicted"] == 402 - 50


def test_new_prflx_refused_when_every_one_is_in_use() -> None:
    agent = ice.Agent(
        controlling=True,
        rng=random.Random(4),
        local_ufrag="locl",
        local_pwd="localpassword0123456789",
        max_prflx_remote=2,
    )
    agent.gather([LOCAL], 0.0)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    peers = [("198.51.100.1", 1000), ("198.51.100.2", 1000)]
    for peer in peers:
        agent.receive(_request(controlling=False), peer, 0.1, LOCAL)
    now = 0.1
    for _ in range(10):
        now += 0.05
        agent.handle_timeout(now)
        for data, _local, remote in agent.datagrams_to_send():
            msg = Message.parse(data)
            if (
                msg.message_class is Class.REQUEST
                and msg.attributes.get(Attr.USE_CANDIDATE) is None
            ):
                _answer(agent, msg, remote, now)
    assert all(p.state is ice.PairState.SUCCEEDED for p in agent.checklist.pairs)
    agent.receive(_request(controlling=False, tid=b"n" * 12), STRANGER, now, LOCAL)
    assert agent.stats["prflx_remote_refused"] == 1
    assert STRANGER not in agent._remote_by_address
    assert agent.receive(CLIENT_HELLO, STRANGER, now, LOCAL) is None
    assert [c.port for c in agent.remote_candidates] == [1000, 1000]


def test_signalled_candidate_replacing_prflx_frees_its_slot() -> None:
    agent = _agent()
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    _checked_by(agent, PEER, 0.1)
    assert PEER in agent._prflx_remote
    agent.add_remote_candidate(
        sdp.Candidate.parse(f"candidate:1 1 udp 2130706431 {PEER[0]} {PEER[1]} typ host")
    )
    assert PEER not in agent._prflx_remote
    _flood(agent, 200, 0.2)
    assert agent._remote_by_address[PEER].type == "host"  # signalled: never evicted
    assert agent.receive(CLIENT_HELLO, PEER, 0.3, LOCAL) == CLIENT_HELLO
