"""The remote candidate table and the check list are bounded, and a trickled candidate costs a
pairing per local candidate, not a re-pairing of everything (a hostile signaling peer can send
any number of candidates)."""

from __future__ import annotations

import random

import ice
import sdp
from ice.agent import DEFAULT_MAX_REMOTE_CANDIDATES
from ice.checklist import DEFAULT_MAX_PAIRS, CandidatePair, CheckList
from ice.stun import Attr, Class, Message, Method
from tests.ice.test_agent_security import LOCAL, PEER, PWD, R_PWD, R_UFRAG, UFRAG, _request

LOCALS = [("10.0.0.1", 5000), ("10.0.0.2", 5000), ("10.0.0.3", 5000)]


def _candidate(i: int, priority: int = 2130706431) -> sdp.Candidate:
    host = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    return sdp.Candidate.parse(f"candidate:{i} 1 udp {priority} {host} {1024 + i % 60000} typ host")


def _agent(**kwargs: object) -> ice.Agent:
    return ice.Agent(controlling=True, rng=random.Random(3), **kwargs)  # type: ignore[arg-type]


class _CountingCheckList(CheckList):
    def __init__(self, max_pairs: int) -> None:
        super().__init__(max_pairs)
        self.adds = 0

    def add(self, pair: CandidatePair, controlling: bool) -> CandidatePair | None:
        self.adds += 1
        return super().add(pair, controlling)


def _count_pairings(agent: ice.Agent) -> _CountingCheckList:
    counting = _CountingCheckList(agent.checklist.max_pairs)
    counting.on_remove = agent.checklist.on_remove
    agent.checklist = counting
    return counting


def test_remote_candidate_table_is_bounded_and_refusals_counted() -> None:
    agent = _agent()
    agent.gather(LOCALS, 0.0)
    agent.set_remote_credentials("ufrg", "p" * 22)
    n = 5 * DEFAULT_MAX_REMOTE_CANDIDATES
    for i in range(n):
        agent.add_remote_candidate(_candidate(i))
    assert len(agent.remote_candidates) == DEFAULT_MAX_REMOTE_CANDIDATES == 100
    assert agent.stats["remote_candidates_refused"] == n - DEFAULT_MAX_REMOTE_CANDIDATES
    assert len(agent.checklist) <= DEFAULT_MAX_PAIRS
    # a candidate already known is not a refusal, and end-of-candidates still works
    agent.add_remote_candidate(_candidate(0))
    agent.add_remote_candidate(None)
    assert agent.stats["remote_candidates_refused"] == n - DEFAULT_MAX_REMOTE_CANDIDATES


def test_candidates_before_gathering_are_paired_within_the_bound() -> None:
    """Candidates signalled before gather() are paired when the sockets appear: at most the
    table's worth, not every candidate the peer ever sent."""
    agent = _agent()
    counting = _count_pairings(agent)
    for i in range(2000):
        agent.add_remote_candidate(_candidate(i))
    agent.gather(LOCALS, 0.0)
    assert counting.adds <= DEFAULT_MAX_REMOTE_CANDIDATES * len(LOCALS)
    assert len(agent.checklist) <= DEFAULT_MAX_PAIRS


def test_trickled_candidate_pairs_once_per_local_candidate() -> None:
    agent = _agent(max_remote_candidates=30)
    agent.gather(LOCALS, 0.0)
    counting = _count_pairings(agent)
    for i in range(25):
        before = counting.adds
        agent.add_remote_candidate(_candidate(i))
        assert counting.adds - before == len(LOCALS)
    assert len(agent.remote_candidates) == 25
    for i in range(25, 40):
        agent.add_remote_candidate(_candidate(i))
    assert len(agent.remote_candidates) == 30
    assert agent.stats["remote_candidates_refused"] == 10


def test_check_list_kept_in_priority_order_by_insertion() -> None:
    agent = _agent()
    agent.gather(LOCALS[:1], 0.0)
    rng = random.Random(9)
    for i in range(80):
        agent.add_remote_candidate(_candidate(i, priority=rng.randrange(1, 2**31)))
    pairs = agent.checklist.pairs
    assert len(pairs) == 80
    keys = [(-p.priority, p.order) for p in pairs]
    assert keys == sorted(keys)


def test_prflx_candidates_do_not_use_the_signalled_budget() -> None:
    """Peer-reflexive candidates have their own bound (max_prflx_remote); the signalled table
    counts only signalled ones, and a full table refuses the signalled twin of a prflx one."""
    agent = _agent(max_remote_candidates=2)
    agent.gather(LOCALS[:1], 0.0)
    prflx = sdp.Candidate.parse("candidate:p 1 udp 1 10.9.9.9 9 typ prflx")
    agent._prflx_remote[("10.9.9.9", 9)] = prflx
    agent._remote_by_address[("10.9.9.9", 9)] = prflx
    agent.remote_candidates.append(prflx)
    agent.add_remote_candidate(_candidate(1))
    agent.add_remote_candidate(_candidate(2))
    assert len(agent.remote_candidates) == 3
    agent.add_remote_candidate(sdp.Candidate.parse("candidate:s 1 udp 9 10.9.9.9 9 typ host"))
    assert agent.stats["remote_candidates_refused"] == 1
    assert agent._remote_by_address[("10.9.9.9", 9)] is prflx


def test_peer_reflexive_local_candidates_bounded() -> None:
    """An (authenticated) peer answering every check with a new XOR-MAPPED-ADDRESS: the pair
    fails (400) and is re-triggered by the peer's next check, over and over; the learned
    peer-reflexive local candidates stay within the pair limit."""
    agent = ice.Agent(
        controlling=False,
        rng=random.Random(5),
        local_ufrag=UFRAG,
        local_pwd=PWD,
        max_pairs=4,
    )
    agent.gather([LOCAL], 0.0)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    now = 0.0
    for i in range(30):
        now += 1.0
        agent.receive(_request(tid=bytes([i]) * 12), PEER, now, LOCAL)  # triggers a check
        agent.handle_timeout(now)
        checks = [
            m
            for m in (Message.parse(d) for d, _, _ in agent.datagrams_to_send())
            if m.message_class is Class.REQUEST
        ]
        for check in checks:
            mapped = {Attr.XOR_MAPPED_ADDRESS: ("203.0.113.1", 10000 + i)}
            ok = Message(Method.BINDING, Class.SUCCESS, check.transaction_id, mapped)
            agent.receive(ok.encode(integrity_key=R_PWD.encode()), PEER, now, LOCAL)
        # as after a failed re-check (e.g. a 400 to a nomination): the peer's next check re-triggers
        agent.checklist.pairs[0].state = ice.PairState.FAILED
    prflx = [lc for lc in agent.local_candidates if lc.type == "prflx"]
    assert len(prflx) == 4
    assert agent.stats["prflx_local_learned"] == 4
    assert agent.stats["prflx_local_not_kept"] >= 20
