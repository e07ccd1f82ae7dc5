"""Connectivity-check security and STUN handling of one agent, driven by hand-made messages."""

from __future__ import annotations

import itertools
import pathlib
import random

from hypothesis import given
from hypothesis import strategies as st

import ice
import sdp
from ice.stun import Attr, Class, Message, Method

LOCAL = ("10.0.0.1", 5000)
PEER = ("10.0.0.2", 6000)
UFRAG, PWD = "locl", "localpassword0123456789"
R_UFRAG, R_PWD = "remt", "remotepassword012345678"


def _agent(controlling: bool = False, tie_breaker: int = 1000) -> ice.Agent:
    agent = ice.Agent(
        controlling=controlling,
        rng=random.Random(5),
        local_ufrag=UFRAG,
        local_pwd=PWD,
        tie_breaker=tie_breaker,
    )
    agent.gather([LOCAL], 0.0)
    while agent.next_event() is not None:
        pass
    return agent


def _request(
    *,
    username: str = f"{UFRAG}:{R_UFRAG}",
    key: bytes = PWD.encode(),
    fingerprint: bool = True,
    extra: dict[int, object] | None = None,
    controlling: bool = True,
    tid: bytes = b"T" * 12,
) -> bytes:
    attrs: dict[int, object] = {Attr.USERNAME: username, Attr.PRIORITY: 1853824767}
    attrs[Attr.ICE_CONTROLLING if controlling else Attr.ICE_CONTROLLED] = 42
    attrs.update(extra or {})
    return Message(Method.BINDING, Class.REQUEST, tid, attrs).encode(
        integrity_key=key, fingerprint=fingerprint
    )


def _responses(agent: ice.Agent) -> list[Message]:
    return [Message.parse(d) for d, _, _ in agent.datagrams_to_send()]


def test_valid_request_answered_before_remote_credentials() -> None:
    agent = _agent()
    assert agent.receive(_request(), PEER, 0.1, LOCAL) is None
    out = agent.datagrams_to_send()
    assert len(out) == 1
    data, local, remote = out[0]
    assert (local, remote) == (LOCAL, PEER)
    resp = Message.parse(data)
    assert resp.message_class is Class.SUCCESS and resp.transaction_id == b"T" * 12
    assert resp.get_address(Attr.XOR_MAPPED_ADDRESS) == PEER
    assert resp.check_integrity(PWD.encode()) and resp.check_fingerprint()
    assert agent.stats["prflx_remote_learned"] == 1
    assert agent.state is ice.IceState.CHECKING
    # no check can go out without the remote password; it goes out once it is known
    agent.handle_timeout(1.0)
    assert agent.datagrams_to_send() == []
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    t = agent.next_timeout()
    assert t is not None and t <= 1.0
    agent.handle_timeout(1.0)
    (check,) = _responses(agent)
    assert check.message_class is Class.REQUEST
    assert check.get_str(Attr.USERNAME) == f"{R_UFRAG}:{UFRAG}"
    assert check.get_int(Attr.ICE_CONTROLLED) == 1000
    assert check.get_int(Attr.PRIORITY) == ice.candidate_priority(110, 32767)
    assert Attr.USE_CANDIDATE not in check.attributes


def test_bad_requests_dropped_and_counted() -> None:
    agent = _agent()
    agent.receive(_request(username=f"other:{R_UFRAG}"), PEER, 0.1, LOCAL)
    agent.receive(_request(key=b"wrong-password"), PEER, 0.1, LOCAL)
    agent.receive(_request(fingerprint=False), PEER, 0.1, LOCAL)
    corrupted = bytearray(_request())
    corrupted[-1] ^= 1  # breaks the FINGERPRINT
    agent.receive(bytes(corrupted), PEER, 0.1, LOCAL)
    agent.receive(b"\x00\x01\x00\x00garbage", PEER, 0.1, LOCAL)
    no_mi = Message(
        Method.BINDING, Class.REQUEST, b"U" * 12, {Attr.USERNAME: f"{UFRAG}:{R_UFRAG}"}
    ).encode()
    agent.receive(no_mi, PEER, 0.1, LOCAL)
    assert agent.datagrams_to_send() == []
    assert agent.stats["bad_username"] == 1
    assert agent.stats["bad_integrity"] == 2
    assert agent.stats["bad_fingerprint"] == 2
    assert agent.stats["malformed_stun"] == 1
    assert agent.stats["prflx_remote_learned"] == 0
    assert agent.state is ice.IceState.NEW


def test_missing_priority_and_unknown_attribute() -> None:
    agent = _agent()
    msg = Message(
        Method.BINDING,
        Class.REQUEST,
        b"P" * 12,
        {Attr.USERNAME: f"{UFRAG}:{R_UFRAG}", Attr.ICE_CONTROLLING: 1},
    ).encode(integrity_key=PWD.encode())
    agent.receive(msg, PEER, 0.1, LOCAL)
    (resp,) = _responses(agent)
    assert resp.message_class is Class.ERROR and resp.get_error() == (400, "Bad Request")
    agent.receive(_request(extra={0x7FF0: b"xx"}), PEER, 0.1, LOCAL)
    (resp,) = _responses(agent)
    assert resp.get_error() is not None and resp.get_error()[0] == 420  # type: ignore[index]
    assert resp.attributes[Attr.UNKNOWN_ATTRIBUTES] == (0x7FF0,)


def test_role_conflict_487_when_our_tie_breaker_wins() -> None:
    agent = _agent(controlling=True, tie_breaker=2**63)
    agent.receive(_request(controlling=True), PEER, 0.1, LOCAL)
    (resp,) = _responses(agent)
    assert resp.get_error() == (487, "Role Conflict")
    assert resp.check_integrity(PWD.encode())
    assert agent.controlling


def test_role_conflict_switch_when_their_tie_breaker_wins() -> None:
    agent = _agent(controlling=True, tie_breaker=1)
    agent.receive(_request(controlling=True), PEER, 0.1, LOCAL)
    (resp,) = _responses(agent)
    assert resp.message_class is Class.SUCCESS
    assert not agent.controlling
    # both controlled: the larger tie-breaker switches to controlling
    agent2 = _agent(controlling=False, tie_breaker=100)
    agent2.receive(_request(controlling=False), PEER, 0.1, LOCAL)
    (resp,) = _responses(agent2)
    assert resp.message_class is Class.SUCCESS and agent2.controlling
    agent3 = _agent(controlling=False, tie_breaker=1)
    agent3.receive(_request(controlling=False), PEER, 0.1, LOCAL)
    (resp,) = _responses(agent3)
    assert resp.get_error() == (487, "Role Conflict") and not agent3.controlling


def _answer(
    agent: ice.Agent,
    check: Message,
    source: tuple[str, int],
    now: float,
    key: bytes = R_PWD.encode(),
    tid: bytes | None = None,
    error: tuple[int, str] | None = None,
) -> None:
    attrs: dict[int, object] = {Attr.XOR_MAPPED_ADDRESS: LOCAL}
    cls = Class.SUCCESS
    if error is not None:
        attrs = {Attr.ERROR_CODE: error}
        cls = Class.ERROR
    resp = Message(Method.BINDING, cls, tid or check.transaction_id, attrs).encode(
        integrity_key=key
    )
    agent.receive(resp, source, now, LOCAL)


def _agent_with_check(controlling: bool = True) -> tuple[ice.Agent, Message]:
    agent = _agent(controlling=controlling)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    agent.add_remote_candidate(
        sdp.Candidate.parse(f"candidate:1 1 udp 2130706431 {PEER[0]} {PEER[1]} typ host")
    )
    agent.handle_timeout(0.0)
    (check,) = _responses(agent)
    return agent, check


def test_responses_accepted_only_from_the_right_address_and_transaction() -> None:
    agent, check = _agent_with_check()
    _answer(agent, check, ("10.0.0.3", 6000), 0.01)  # wrong source
    _answer(agent, check, PEER, 0.01, tid=b"X" * 12)  # unknown transaction
    _answer(agent, check, PEER, 0.01, key=b"bad")  # bad integrity
    assert agent.stats["responses_wrong_source"] == 1
    assert agent.stats["unmatched_responses"] == 1
    assert agent.stats["bad_integrity_responses"] == 1
    pair = agent.checklist.pairs[0]
    assert pair.state is ice.PairState.IN_PROGRESS
    _answer(agent, check, PEER, 0.02)
    assert pair.state.value == "succeeded" and pair.valid
    # the controlling agent nominates (regular nomination) with a USE-CANDIDATE check
    agent.handle_timeout(0.1)
    (nominate,) = _responses(agent)
    assert nominate.attributes.get(Attr.USE_CANDIDATE) is True
    assert nominate.get_int(Attr.ICE_CONTROLLING) == 1000
    _answer(agent, nominate, PEER, 0.12)
    assert agent.selected_pair is pair and pair.nominated
    assert agent.state is ice.IceState.CONNECTED
    agent.add_remote_candidate(None)
    assert agent.state.value == "completed"
    # a duplicate (retransmitted) response changes nothing
    _answer(agent, nominate, PEER, 0.13)
    assert agent.stats["unmatched_responses"] == 2


def test_487_response_switches_role_and_retries() -> None:
    agent, check = _agent_with_check(controlling=True)
    _answer(agent, check, PEER, 0.01, error=(487, "Role Conflict"))
    assert not agent.controlling
    agent.handle_timeout(0.1)
    (retry,) = _responses(agent)
    assert Attr.ICE_CONTROLLED in retry.attributes


def test_error_response_fails_pair() -> None:
    agent, check = _agent_with_check(controlling=True)
    _answer(agent, check, PEER, 0.01, error=(400, "Bad Request"))
    assert agent.checklist.pairs[0].state is ice.PairState.FAILED


def test_aggressive_nomination_like_chromium() -> None:
    """Chromium (controlling) puts USE-CANDIDATE on its very first check."""
    agent = _agent(controlling=False)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    agent.receive(_request(extra={Attr.USE_CANDIDATE: True}), PEER, 0.0, LOCAL)
    (resp,) = _responses(agent)
    assert resp.message_class is Class.SUCCESS
    assert agent.selected_pair is None  # our own check must succeed first (RFC 8445 §7.3.1.5)
    agent.handle_timeout(agent.next_timeout() or 0.0)
    (check,) = _responses(agent)
    assert Attr.USE_CANDIDATE not in check.attributes
    _answer(agent, check, PEER, 0.05)
    sel = agent.selected_pair
    assert sel is not None and sel.nominated and sel.remote.type == "prflx"
    assert agent.state is ice.IceState.CONNECTED
    events = []
    while (ev := agent.next_event()) is not None:
        events.append(ev)
    changed = [e for e in events if isinstance(e, ice.SelectedPairChanged)]
    assert len(changed) == 1 and changed[0].remote.address == PEER[0]
    # the nominated pair now carries data
    assert agent.send(b"\x17hello")
    assert agent.datagrams_to_send() == [(b"\x17hello", LOCAL, PEER)]


def test_stale_generation_candidate_ignored() -> None:
    agent = _agent()
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    agent.add_remote_candidate(
        sdp.Candidate.parse("candidate:1 1 udp 2130706431 10.0.0.9 9 typ host ufrag old1")
    )
    agent.add_remote_candidate(
        sdp.Candidate.parse("candidate:1 1 tcp 2130706431 10.0.0.9 9 typ host tcptype active")
    )
    assert agent.stats["stale_candidates_ignored"] == 1
    assert agent.stats["unsupported_candidates_ignored"] == 1
    assert len(agent.checklist) == 0


def test_binding_indication_and_other_methods_consumed() -> None:
    agent = _agent()
    ind = Message(Method.BINDING, Class.INDICATION, b"I" * 12).encode()
    assert agent.receive(ind, PEER, 0.0, LOCAL) is None
    alloc = Message(Method.ALLOCATE, Class.REQUEST, b"A" * 12).encode()
    assert agent.receive(alloc, PEER, 0.0, LOCAL) is None
    assert agent.stats["binding_indications"] == 1
    assert agent.stats["unexpected_stun_method"] == 1
    assert agent.datagrams_to_send() == []


@given(st.binary(max_size=300), st.booleans())
def test_arbitrary_datagrams_never_raise(data: bytes, with_local: bool) -> None:
    agent, _ = _agent_with_check()
    out = agent.receive(data, PEER, 0.01, LOCAL if with_local else None)
    assert out is None or out == data
    agent.handle_timeout(0.5)
    agent.datagrams_to_send()


def test_fuzz_corpus_replays() -> None:
    from fuzz.ice_agent_target import test_one_input

    corpus = pathlib.Path(__file__).resolve().parents[2] / "fuzz" / "corpus" / "ice_agent"
    files = sorted(corpus.iterdir())
    assert len(files) >= 5
    for f in files:
        test_one_input(f.read_bytes())


def _nominate_from(
    agent: ice.Agent, peer: tuple[str, int], now: float, priority: int, plain_first: bool
) -> None:
    """The controlling peer at `peer` checks us (optionally first without USE-CANDIDATE)."""
    extra: dict[int, object] = {Attr.PRIORITY: priority}
    if plain_first:
        agent.receive(_request(extra=extra, tid=b"p" * 12), peer, now, LOCAL)
    extra[Attr.USE_CANDIDATE] = True
    agent.receive(_request(extra=extra, tid=b"u" * 12), peer, now, LOCAL)
    agent.datagrams_to_send()
    # our triggered check on that pair succeeds
    for _ in range(3):
        t = agent.next_timeout()
        if t is None:
            break
        agent.handle_timeout(max(t, now))
        for data, _, remote in agent.datagrams_to_send():
            msg = Message.parse(data)
            if msg.message_class is Class.REQUEST and remote == peer:
                _answer(agent, msg, peer, now)


def test_controlled_follows_regular_renomination_not_aggressive_lower() -> None:
    peer2 = ("10.0.0.3", 7000)
    agent = _agent(controlling=False)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    _nominate_from(agent, PEER, 0.0, 1853824767, plain_first=False)
    first = agent.selected_pair
    assert first is not None and first.remote_address == PEER
    # aggressive nomination of a lower-priority pair: keep the current one
    _nominate_from(agent, peer2, 1.0, 1000, plain_first=False)
    assert agent.selected_pair is first
    # regular nomination (the pair was checked without USE-CANDIDATE first): follow it
    peer3 = ("10.0.0.4", 8000)
    _nominate_from(agent, peer3, 2.0, 1000, plain_first=True)
    sel = agent.selected_pair
    assert sel is not None and sel.remote_address == peer3


def test_check_pacing_and_rto_formula() -> None:
    """RFC 8445 §14.2: one check per Ta; §14.3: RTO = MAX(500 ms, Ta*N*(waiting + in-progress))."""
    agent = _agent(controlling=True)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    for i in range(12):
        agent.add_remote_candidate(
            sdp.Candidate.parse(f"candidate:f{i} 1 udp {2000 + i} 10.0.1.{i} 9 typ host")
        )
    first_sent: dict[bytes, float] = {}
    resent: dict[bytes, float] = {}
    t = 0.0
    while t < 8.0:
        agent.handle_timeout(t)
        for data, _, _ in agent.datagrams_to_send():
            tid = data[8:20]
            if tid in first_sent:
                resent.setdefault(tid, t)
            else:
                first_sent[tid] = t
        nt = agent.next_timeout()
        assert nt is not None and nt > t
        t = nt
    starts = sorted(first_sent.values())
    assert len(starts) == 12
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(abs(g - 0.05) < 1e-9 for g in gaps)
    first = min(first_sent, key=first_sent.__getitem__)
    # the first check saw 12 pairs, all 12 waiting: RTO = 0.05 * 12 * 12 = 7.2 s
    assert abs(resent[first] - first_sent[first] - 7.2) < 1e-9
