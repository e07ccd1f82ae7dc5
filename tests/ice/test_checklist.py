"""Check-list ordering, pruning and freezing (RFC 8445 §6.1.2)."""

from __future__ import annotations

import sdp
from ice.candidates import candidate_priority, pair_priority
from ice.checklist import CandidatePair, CheckList, LocalCandidate, PairState


def _cand(addr: str, port: int, typ: str, pref: int, foundation: str = "f") -> sdp.Candidate:
    tp = {"host": 126, "srflx": 100, "prflx": 110, "relay": 0}[typ]
    return sdp.Candidate(foundation, 1, "udp", candidate_priority(tp, pref), addr, port, typ)


def _local(addr: str, port: int, typ: str = "host", pref: int = 65535) -> LocalCandidate:
    return LocalCandidate(_cand(addr, port, typ, pref, foundation=f"L{addr}{typ}"), (addr, port))


def _pair(local: LocalCandidate, remote: sdp.Candidate) -> CandidatePair:
    return CandidatePair(local, remote, (remote.address, remote.port))


def test_sorted_by_pair_priority_and_role() -> None:
    cl = CheckList()
    host = _local("10.0.0.1", 1)
    relay = LocalCandidate(_cand("10.9.9.9", 7, "relay", 65535, "R"), ("10.0.0.1", 1), ("s", 1))
    r_host = _cand("10.0.0.2", 2, "host", 65535, "A")
    r_srflx = _cand("192.0.2.1", 3, "srflx", 65535, "B")
    for lc in (relay, host):
        for rc in (r_srflx, r_host):
            cl.add(_pair(lc, rc), controlling=True)
    prios = [p.priority for p in cl.pairs]
    assert prios == sorted(prios, reverse=True)
    assert cl.pairs[0].local is host and cl.pairs[0].remote is r_host
    assert cl.pairs[0].priority == pair_priority(host.candidate.priority, r_host.priority)
    cl.recompute_priorities(controlling=False)
    assert cl.pairs[0].priority == pair_priority(r_host.priority, host.candidate.priority)


def test_redundant_pairs_pruned_keeping_higher_priority() -> None:
    cl = CheckList()
    host = _local("10.0.0.1", 1)
    low = _cand("10.0.0.2", 2, "prflx", 100, "P")
    high = _cand("10.0.0.2", 2, "host", 65535, "H")
    first = cl.add(_pair(host, low), controlling=True)
    second = cl.add(_pair(host, high), controlling=True)
    assert first is second and len(cl) == 1
    assert cl.pairs[0].remote is high
    third = cl.add(_pair(host, _cand("10.0.0.2", 2, "srflx", 1, "S")), controlling=True)
    assert third is first and cl.pairs[0].remote is high


def test_same_foundation_frozen_then_unfrozen() -> None:
    cl = CheckList()
    l1 = _local("10.0.0.1", 1)
    # two remotes with the same foundation -> the second pair starts frozen (§6.1.2.6)
    p1 = cl.add(_pair(l1, _cand("10.0.0.2", 2, "host", 65535, "X")), controlling=True)
    p2 = cl.add(_pair(l1, _cand("10.0.0.3", 3, "host", 65534, "X")), controlling=True)
    p3 = cl.add(_pair(l1, _cand("10.0.0.4", 4, "host", 65533, "Y")), controlling=True)
    assert p1 is not None and p2 is not None and p3 is not None
    assert (p1.state, p2.state, p3.state) == (
        PairState.WAITING,
        PairState.FROZEN,
        PairState.WAITING,
    )
    assert cl.next_pair() is p1
    p1.state = PairState.SUCCEEDED
    cl.unfreeze_foundation(p1.foundation)
    assert p2.state is PairState.WAITING


def test_next_pair_prefers_triggered_then_unfreezes() -> None:
    cl = CheckList()
    l1 = _local("10.0.0.1", 1)
    p1 = cl.add(_pair(l1, _cand("10.0.0.2", 2, "host", 65535, "X")), controlling=True)
    p2 = cl.add(_pair(l1, _cand("10.0.0.3", 3, "host", 100, "X")), controlling=True)
    assert p1 is not None and p2 is not None
    cl.trigger(p2)
    assert cl.next_pair() is p2
    p2.state = PairState.IN_PROGRESS
    assert cl.next_pair() is p1
    p1.state = PairState.FAILED
    p2.state = PairState.FAILED
    assert cl.next_pair() is None and not cl.has_pending()


def test_frozen_pair_unfrozen_when_nothing_waits() -> None:
    cl = CheckList()
    l1 = _local("10.0.0.1", 1)
    p1 = cl.add(_pair(l1, _cand("10.0.0.2", 2, "host", 65535, "X")), controlling=True)
    p2 = cl.add(_pair(l1, _cand("10.0.0.3", 3, "host", 100, "X")), controlling=True)
    assert p1 is not None and p2 is not None
    p1.state = PairState.IN_PROGRESS
    assert p2.state is PairState.FROZEN
    assert cl.next_pair() is p2  # RFC 8445 §6.1.4.2
    assert p2.state.value == "waiting"


def test_limit_drops_lowest_priority() -> None:
    cl = CheckList(max_pairs=3)
    l1 = _local("10.0.0.1", 1)
    for i in range(5):
        cl.add(_pair(l1, _cand(f"10.0.1.{i}", 9, "host", 1000 + i, f"F{i}")), controlling=True)
    assert len(cl) == 3
    assert sorted(p.remote.address for p in cl.pairs) == ["10.0.1.2", "10.0.1.3", "10.0.1.4"]
