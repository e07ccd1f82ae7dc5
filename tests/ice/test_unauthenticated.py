"""Audit guards: no STUN message without valid MESSAGE-INTEGRITY for the relevant credentials
changes agent state (role, pair states, nomination, consent, selected pair). Each forgery comes
from the peer's own address with the right transaction id where one applies (an on-path view)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import ice
from ice.stun import Attr, Class, Message, Method
from tests.ice.test_agent_security import (
    LOCAL,
    PEER,
    PWD,
    R_PWD,
    R_UFRAG,
    UFRAG,
    _agent_with_check,
    _answer,
    _request,
    _responses,
)

KEYS = (None, b"wrong key", PWD.encode())  # absent, wrong, ours instead of the peer's


def _forged(check: Message, key: bytes | None, attrs: dict[int, object], cls: Class) -> bytes:
    return Message(Method.BINDING, cls, check.transaction_id, attrs).encode(integrity_key=key)


def _connected() -> tuple[ice.Agent, ice.CandidatePair]:
    agent, check = _agent_with_check(controlling=True)
    _answer(agent, check, PEER, 0.01)
    agent.handle_timeout(0.1)
    (nominate,) = _responses(agent)
    _answer(agent, nominate, PEER, 0.12)
    pair = agent.selected_pair
    assert pair is not None and agent.state is ice.IceState.CONNECTED
    return agent, pair


def test_forged_responses_change_no_pair_or_role() -> None:
    agent, check = _agent_with_check(controlling=True)
    pair = agent.checklist.pairs[0]
    for key in KEYS:
        ok = {Attr.XOR_MAPPED_ADDRESS: LOCAL}
        agent.receive(_forged(check, key, ok, Class.SUCCESS), PEER, 0.01, LOCAL)
        conflict = {Attr.ERROR_CODE: (487, "Role Conflict")}
        agent.receive(_forged(check, key, conflict, Class.ERROR), PEER, 0.01, LOCAL)
        bad = {Attr.ERROR_CODE: (400, "Bad Request")}
        agent.receive(_forged(check, key, bad, Class.ERROR), PEER, 0.01, LOCAL)
    assert agent.stats["bad_integrity_responses"] == 3 * len(KEYS)
    assert pair.state is ice.PairState.IN_PROGRESS and not pair.valid
    assert agent.controlling and agent.stats["role_conflicts"] == 0
    _answer(agent, check, PEER, 0.02)  # the genuine response still counts
    assert pair.state is ice.PairState.SUCCEEDED


def test_forged_requests_change_no_role_nomination_or_selection() -> None:
    agent, pair = _connected()
    while agent.next_event() is not None:
        pass
    other = ("10.0.0.77", 7000)
    for key in (b"wrong key", R_PWD.encode()):  # the peer's password is not ours
        for src in (PEER, other):
            request = _request(
                key=key, extra={Attr.USE_CANDIDATE: True, Attr.ICE_CONTROLLING: 2**64 - 1}
            )
            agent.receive(request, src, 1.0, LOCAL)
    assert agent.stats["bad_integrity"] == 4
    assert agent.datagrams_to_send() == []  # nothing answered: no reflection either
    assert agent.controlling and agent.selected_pair is pair
    assert len(agent.remote_candidates) == 1 and len(agent.checklist) == 1
    assert agent.next_event() is None


def test_forged_consent_responses_do_not_keep_consent() -> None:
    """RFC 7675 §5.1: only an authenticated response refreshes consent; forged ones to every
    consent check still let it expire (FAILED 30 s after the last genuine response)."""
    agent, _pair = _connected()
    now = 0.12
    while now < 40.0:
        due = agent.next_timeout()
        assert due is not None
        now = due
        agent.handle_timeout(now)
        for data, _, dest in agent.datagrams_to_send():
            msg = Message.parse(data)
            if msg.message_class is Class.REQUEST and dest == PEER:
                ok = {Attr.XOR_MAPPED_ADDRESS: LOCAL}
                agent.receive(_forged(msg, b"wrong", ok, Class.SUCCESS), PEER, now, LOCAL)
                agent.receive(_forged(msg, None, ok, Class.SUCCESS), PEER, now, LOCAL)
        if agent.state is ice.IceState.FAILED:
            break
    assert agent.state is ice.IceState.FAILED
    assert 30.0 <= now <= 30.2
    assert agent.stats["bad_integrity_responses"] >= 10
    assert agent.stats["consent_expired"] == 1


def test_username_for_another_agent_is_not_ours() -> None:
    agent, _pair = _connected()
    forged = _request(username=f"{R_UFRAG}:{UFRAG}", key=R_PWD.encode())  # mirrored credentials
    agent.receive(forged, PEER, 1.0, LOCAL)
    assert agent.stats["bad_username"] == 1 and agent.datagrams_to_send() == []


def _snapshot(agent: ice.Agent) -> tuple[object, ...]:
    pairs = tuple(
        (p.state, p.nominated, p.valid, p.use_candidate, p.nominate_on_success, p.peer_seen_at)
        for p in agent.checklist.pairs
    )
    return (
        agent.controlling,
        agent.selected_pair,
        agent.state,
        pairs,
        len(agent.remote_candidates),
        len(agent.local_candidates),
        agent._consent_last_ok,
        agent._nominating,
    )


_attribute = st.sampled_from(
    [
        (Attr.USE_CANDIDATE, True),
        (Attr.ICE_CONTROLLING, 2**64 - 1),
        (Attr.ICE_CONTROLLED, 2**64 - 1),
        (Attr.PRIORITY, 2**31 - 1),
        (Attr.XOR_MAPPED_ADDRESS, LOCAL),
        (Attr.ERROR_CODE, (487, "Role Conflict")),
        (Attr.ERROR_CODE, (400, "Bad Request")),
        (Attr.USERNAME, f"{UFRAG}:{R_UFRAG}"),
    ]
)


@settings(max_examples=80)
@given(
    messages=st.lists(
        st.tuples(
            st.sampled_from(list(Class)),
            st.lists(_attribute, max_size=6),
            st.sampled_from([None, b"wrong key", PWD.encode(), R_PWD.encode()]),
            st.booleans(),  # reuse the transaction id of a real outstanding check
        ),
        min_size=1,
        max_size=8,
    ),
    connected=st.booleans(),
)
def test_no_unauthenticated_stun_changes_agent_state(
    messages: list[tuple[Class, list[tuple[int, object]], bytes | None, bool]], connected: bool
) -> None:
    """Binding messages of every class from the peer's address, with any of the attributes that
    steer ICE, signed with no key or a key that is wrong for them (a request must carry our
    password, a response the peer's): the agent's role, pairs, nomination, consent and selection
    do not move."""
    agent, check = _agent_with_check(controlling=True)
    if connected:  # a real outstanding check: the consent check sent at 6 s
        _answer(agent, check, PEER, 0.01)
        agent.handle_timeout(0.1)
        (nominate,) = _responses(agent)
        _answer(agent, nominate, PEER, 0.12)
        agent.handle_timeout(agent.next_timeout() or 6.0)
        (check,) = _responses(agent)
        assert agent.selected_pair is not None
    now = 6.5
    before = _snapshot(agent)
    for cls, attributes, key, reuse in messages:
        attrs = dict(attributes)
        right = PWD.encode() if cls is Class.REQUEST else R_PWD.encode()
        if key == right:
            key = b"wrong key"
        tid = check.transaction_id if reuse else b"F" * 12
        raw = Message(Method.BINDING, cls, tid, attrs).encode(integrity_key=key)
        agent.receive(raw, PEER, now, LOCAL)
    assert _snapshot(agent) == before
    assert agent.datagrams_to_send() == []
