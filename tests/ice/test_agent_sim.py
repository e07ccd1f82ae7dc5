"""Two agents on the simulated network (virtual time, seeded)."""

from __future__ import annotations

import itertools
import random

import pytest

import ice
import sdp
from tests.ice.harness import Peer, Sim, make_pair
from tests.netsim import Impairment, Network

CONNECTED = (ice.IceState.CONNECTED, ice.IceState.COMPLETED)


def _exchange_data(sim: Sim, a: Peer, b: Peer, n: int = 5) -> None:
    a.app_data.clear()
    b.app_data.clear()
    for i in range(n):
        assert a.agent.send(b"\x17a%d" % i)
        assert b.agent.send(b"\x17b%d" % i)
    assert sim.run(lambda: len(a.app_data) >= n and len(b.app_data) >= n, 5)
    assert set(a.app_data) == {b"\x17b%d" % i for i in range(n)}
    assert set(b.app_data) == {b"\x17a%d" % i for i in range(n)}


class _ConsentSendTimes:
    """Records when `peer` sends a new consent check (an `on_step` hook for `Sim.run`)."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.last = peer.agent.stats["consent_checks_sent"]
        self.times: list[float] = []

    def watch(self, now: float) -> None:
        n = self.peer.agent.stats["consent_checks_sent"]
        if n != self.last:
            self.last = n
            self.times.append(now)


def _same_selected(a: Peer, b: Peer) -> None:
    pa, pb = a.agent.selected_pair, b.agent.selected_pair
    assert pa is not None and pb is not None
    assert pa.remote_address == pb.local.base and pb.remote_address == pa.local.base
    assert pa.nominated and pb.nominated


@pytest.mark.parametrize("a_controlling", [True, False])
def test_connect_both_role_assignments(a_controlling: bool) -> None:
    sim, a, b = make_pair(a_controlling=a_controlling, b_controlling=not a_controlling)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    assert sim.clock.now < 1.0
    _same_selected(a, b)
    for p in (a, b):
        assert p.states[0] is ice.IceState.CHECKING and p.states[-1] is ice.IceState.COMPLETED
        assert len(p.selected) == 1
        assert p.agent.gathering_state is ice.GatheringState.COMPLETE
    _exchange_data(sim, a, b)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_connect_with_loss_jitter_duplication(seed: int) -> None:
    net = Network(Impairment(loss=0.3, delay=0.02, jitter=0.03, duplicate=0.1), seed=seed)
    sim, a, b = make_pair(net=net, seed=seed)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.connected, 30)
    assert sim.run(lambda: a.agent.selected_pair is not None and b.agent.selected_pair is not None)
    _same_selected(a, b)


def test_multihomed_prefers_ipv6_and_checks_all_pairs() -> None:
    sim, a, b = make_pair(
        a_addrs=[("10.0.0.1", 5000), ("2001:db8::1", 5000), ("10.0.1.1", 5001)],
        b_addrs=[("10.0.0.2", 6000), ("2001:db8::2", 6000)],
    )
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    _same_selected(a, b)
    sel = a.agent.selected_pair
    assert sel is not None and sel.local.base == ("2001:db8::1", 5000)
    # IPv4 locals never pair with IPv6 remotes: 2 v4 x 1 v4 + 1 v6 x 1 v6
    assert len(a.agent.checklist) == 3
    _exchange_data(sim, a, b)


@pytest.mark.parametrize("both_controlling", [True, False])
def test_role_conflict_resolved(both_controlling: bool) -> None:
    sim, a, b = make_pair(a_controlling=both_controlling, b_controlling=both_controlling)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    assert a.agent.controlling != b.agent.controlling
    # RFC 8445 §7.3.1.1: the agent with the larger tie-breaker ends controlling.
    winner = a if a.agent.tie_breaker > b.agent.tie_breaker else b
    assert winner.agent.controlling
    assert a.agent.stats["role_conflicts"] + b.agent.stats["role_conflicts"] >= 1
    _same_selected(a, b)
    _exchange_data(sim, a, b)


def test_role_conflict_tie_breaker_both_directions() -> None:
    # Force the conflict to be detected via a 487 response as well as a role switch.
    for ta, tb in ((5, 7), (7, 5)):
        sim = Sim(Network(seed=4))
        a = sim.add(
            "a",
            ice.Agent(controlling=True, tie_breaker=ta, rng=random.Random(1)),
            [("10.0.0.1", 1)],
        )
        b = sim.add(
            "b",
            ice.Agent(controlling=True, tie_breaker=tb, rng=random.Random(2)),
            [("10.0.0.2", 2)],
        )
        sim.exchange_credentials()
        sim.gather()
        assert sim.run(sim.completed, 10)
        assert a.agent.controlling is (ta > tb) and b.agent.controlling is (tb > ta)


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_trickle_random_order_credentials_late(seed: int) -> None:
    """Candidates arrive shuffled, some before the credentials (RFC 8838)."""
    net = Network(Impairment(delay=0.01, jitter=0.02), seed=seed)
    sim, a, b = make_pair(
        net=net,
        seed=seed,
        a_addrs=[("10.0.0.1", 5000), ("10.0.1.1", 5001)],
        b_addrs=[("10.0.0.2", 6000), ("10.0.2.2", 6001)],
        shuffle_seed=seed,
    )
    sim.gather()  # candidates start trickling before anyone knows the credentials
    rng = random.Random(seed)
    sim.later(
        rng.uniform(0, 0.8),
        lambda: a.agent.set_remote_credentials(b.agent.local_ufrag, b.agent.local_pwd),
    )
    sim.later(
        rng.uniform(0, 0.8),
        lambda: b.agent.set_remote_credentials(a.agent.local_ufrag, a.agent.local_pwd),
    )
    assert sim.run(sim.completed, 20)
    _same_selected(a, b)
    _exchange_data(sim, a, b)


def test_checks_before_remote_credentials_answered_and_learned_as_prflx() -> None:
    sim, a, b = make_pair()
    sim.gather()
    # only A knows the peer; B learns A's credentials 2 s later
    a.agent.set_remote_credentials(b.agent.local_ufrag, b.agent.local_pwd)
    sim.later(2.0, lambda: b.agent.set_remote_credentials(a.agent.local_ufrag, a.agent.local_pwd))
    sim.run(lambda: False, 1.5)
    assert b.agent.stats["requests_answered"] >= 1
    assert b.agent.stats["checks_sent"] == 0  # cannot check without A's password
    assert a.agent.stats["checks_sent"] >= 1
    assert sim.run(sim.completed, 10)
    _same_selected(a, b)


def test_prflx_when_one_side_never_signals() -> None:
    """B signals nothing; A learns B as peer-reflexive from B's checks (RFC 8445 §7.3.1.3)."""
    sim, a, b = make_pair()
    b.signal_candidates = False
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.connected, 10)
    sel = a.agent.selected_pair
    assert sel is not None and sel.remote.type == "prflx"
    assert a.agent.stats["prflx_remote_learned"] == 1
    _same_selected(a, b)
    _exchange_data(sim, a, b)


def test_mdns_candidates_ignored_connection_via_prflx() -> None:
    sim, a, b = make_pair()
    b.signal_candidates = False
    sim.exchange_credentials()
    sim.gather()
    a.agent.add_remote_candidate(
        sdp.Candidate.parse(
            "candidate:1 1 udp 2113937151 5f2a1c9e-1234-4a6b-9c1d-0123456789ab.local 6000 typ host"
        )
    )
    a.agent.add_remote_candidate(None)
    assert a.agent.stats["mdns_candidates_ignored"] == 1
    assert sim.run(sim.connected, 10)
    sel = a.agent.selected_pair
    assert sel is not None and sel.remote.type == "prflx"


def test_prflx_local_learned_from_response_behind_nat() -> None:
    """A sits behind a NAT: B sees A's checks from the public address (RFC 8445 §7.2.5.3.1)."""
    net = Network(seed=5)
    sim = Sim(net)
    a = sim.add("a", ice.Agent(controlling=True, rng=random.Random(1)), [("192.168.1.2", 5000)])
    b = sim.add("b", ice.Agent(controlling=False, rng=random.Random(2)), [("10.0.0.2", 6000)])
    public = ("203.0.113.7", 40000)
    net.rebind(("192.168.1.2", 5000), public)
    a.inbox_map[public] = ("192.168.1.2", 5000)
    a.signal_candidates = False  # A's private address is useless to B anyway
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.connected, 10)
    assert a.agent.stats["prflx_local_learned"] == 1
    assert a.selected[-1].local.type == "prflx"
    assert (a.selected[-1].local.address, a.selected[-1].local.port) == public
    sel_b = b.agent.selected_pair
    assert sel_b is not None and sel_b.remote_address == public
    _exchange_data(sim, a, b)


def test_srflx_gathering_through_stun_server_and_nat() -> None:
    net = Network(seed=6)
    sim = Sim(net)
    server = sim.add_stun_server(("198.51.100.1", 3478))
    agent_a = ice.Agent(
        controlling=True, rng=random.Random(1), stun_servers=[("198.51.100.1", 3478)]
    )
    a = sim.add("a", agent_a, [("192.168.1.2", 5000)])
    b = sim.add("b", ice.Agent(controlling=False, rng=random.Random(2)), [("10.0.0.2", 6000)])
    public = ("203.0.113.7", 40000)
    net.rebind(("192.168.1.2", 5000), public)
    a.inbox_map[public] = ("192.168.1.2", 5000)
    sim.exchange_credentials()
    sim.gather()
    assert agent_a.gathering_state is ice.GatheringState.GATHERING
    assert sim.run(sim.completed, 10)
    assert server.requests == 1
    srflx = [
        e.candidate
        for e in a.events
        if isinstance(e, ice.CandidateGathered) and e.candidate.type == "srflx"
    ]
    assert len(srflx) == 1
    c = srflx[0]
    assert (c.address, c.port) == public
    assert (c.related_address, c.related_port) == ("192.168.1.2", 5000)
    assert c.priority == ice.candidate_priority(100, 32767)
    gathered = [type(e).__name__ for e in a.events if not isinstance(e, ice.StateChanged)]
    assert gathered.index("GatheringComplete") > gathered.index("CandidateGathered")
    _exchange_data(sim, a, b)


def test_stun_server_unreachable_gathering_completes() -> None:
    _sim, _a, _b = make_pair()
    agent = ice.Agent(controlling=True, stun_servers=[("198.51.100.9", 3478)], rng=random.Random(3))
    agent.gather([("10.0.0.1", 5000)], 0.0)
    assert agent.gathering_state is ice.GatheringState.GATHERING
    t = 0.0
    while agent.gathering_state is ice.GatheringState.GATHERING:
        nt = agent.next_timeout()
        assert nt is not None
        t = nt
        agent.handle_timeout(t)
    assert 5.0 <= t <= 6.0  # sends at 0, .5, 1.5, 3.5; gives up 2 s later
    assert agent.stats["gather_timeouts"] == 1
    assert len(agent.datagrams_to_send()) == 4


def test_failed_only_after_end_of_candidates_and_pac() -> None:
    """The peer is unreachable: FAILED after end-of-candidates, all pairs failed, PAC 39.5 s."""
    net = Network(seed=7)
    sim, a, _b = make_pair(net=net)
    net.partition("10.0.0.1", "10.0.0.2")
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(lambda: a.agent.state is ice.IceState.FAILED, 120)
    assert 39.5 <= sim.clock.now < 45
    assert ice.IceState.CONNECTED not in a.states


def test_not_failed_without_end_of_candidates() -> None:
    net = Network(seed=7)
    sim, a, b = make_pair(net=net)
    b.signal_candidates = False
    a.signal_candidates = False
    a.agent.add_remote_candidate(sdp.Candidate.parse("candidate:9 1 udp 1 10.0.0.99 9 typ host"))
    sim.exchange_credentials()
    sim.gather()
    net.partition("10.0.0.1", "10.0.0.2")
    sim.run(lambda: False, 100)
    assert a.agent.state is ice.IceState.CHECKING
    a.agent.add_remote_candidate(None)
    a.agent.handle_timeout(sim.clock.now)
    assert a.agent.state.value == "failed"


def test_consent_lost_disconnected_then_failed() -> None:
    net = Network(seed=8)
    sim, a, b = make_pair(net=net)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    sim.run(lambda: False, 20)  # consent keeps the pair alive
    assert sim.completed()
    assert a.agent.stats["consent_checks_sent"] >= 3
    t0 = sim.clock.now
    net.partition("10.0.0.1", "10.0.0.2")
    sent = _ConsentSendTimes(a)
    assert sim.run(lambda: a.agent.state is ice.IceState.DISCONNECTED, 20, on_step=sent.watch)
    # one consent check unanswered through its retransmissions (0, .5, 1.5, 3.5 s; given up at 4)
    assert sim.clock.now == pytest.approx(sent.times[0] + 4.0, abs=1e-9)
    assert 4.0 <= sim.clock.now - t0 <= 10.0 + 1e-9
    last_ok = a.agent._consent_last_ok
    assert last_ok < t0
    assert sim.run(lambda: a.agent.state is ice.IceState.FAILED, 40)
    assert sim.clock.now == pytest.approx(last_ok + 30.0, abs=1e-9)  # RFC 7675 §5.1
    assert sim.run(lambda: b.agent.state is ice.IceState.FAILED, 10)
    assert not a.agent.send(b"\x17late")
    assert a.agent.stats["send_dropped"] == 1
    assert a.agent.next_timeout() is None or a.agent.next_timeout() is not None  # no crash
    net.heal("10.0.0.1", "10.0.0.2")
    sim.run(lambda: False, 20)
    assert a.agent.state is ice.IceState.FAILED  # consent loss is final (RFC 7675 §5.1)


def test_consent_recovers_before_expiry() -> None:
    net = Network(seed=9)
    sim, a, b = make_pair(net=net)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    t0 = sim.clock.now
    net.partition("10.0.0.1", "10.0.0.2")
    assert sim.run(lambda: a.agent.state is ice.IceState.DISCONNECTED, 20)
    sim.run(lambda: False, t0 + 15 - sim.clock.now)
    net.heal("10.0.0.1", "10.0.0.2")
    assert sim.run(sim.completed, 10)
    sim.run(lambda: False, 40)
    assert sim.completed()
    assert a.states.count(ice.IceState.DISCONNECTED) == 1
    _exchange_data(sim, a, b)


def test_consent_interval_jitter() -> None:
    sim, a, _b = make_pair()
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    sent = []
    last = a.agent.stats["consent_checks_sent"]

    def watch(now: float) -> None:
        nonlocal last
        if a.agent.stats["consent_checks_sent"] != last:
            last = a.agent.stats["consent_checks_sent"]
            sent.append(now)

    sim.run(lambda: False, 60, on_step=watch)
    gaps = [y - x for x, y in itertools.pairwise(sent)]
    assert len(gaps) >= 8
    assert all(4.0 <= g <= 6.0 for g in gaps)  # RFC 7675 §5.1: [0.8, 1.2] x 5 s
    assert max(gaps) - min(gaps) > 0.2


def test_ice_restart_keeps_old_pair_until_new_selected() -> None:
    sim, a, b = make_pair()
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    old_ufrag = a.agent.local_ufrag
    old_pair = a.agent.selected_pair
    a.agent.restart()
    b.agent.restart()
    assert a.agent.local_ufrag != old_ufrag
    assert a.agent.gathering_state is ice.GatheringState.COMPLETE
    # still usable before the new credentials arrive
    assert a.agent.send(b"\x17during-restart")
    assert a.agent.state in CONNECTED
    n_selected = len(a.selected)
    sim.later(0.3, sim.exchange_credentials)
    assert sim.run(lambda: len(a.selected) > n_selected and len(b.selected) > 1, 10)
    assert sim.run(sim.completed, 10)
    assert a.agent.selected_pair is not old_pair
    _same_selected(a, b)
    assert b"\x17during-restart" in b.app_data
    _exchange_data(sim, a, b)
    assert ice.IceState.FAILED not in a.states + b.states


def test_remote_restart_first_then_local() -> None:
    """JSEP answerer order: new remote credentials first, then our restart()."""
    sim, a, b = make_pair()
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    a.agent.restart()
    b.agent.set_remote_credentials(a.agent.local_ufrag, a.agent.local_pwd)
    b.agent.restart()
    a.agent.set_remote_credentials(b.agent.local_ufrag, b.agent.local_pwd)
    assert sim.run(lambda: len(a.selected) > 1 and len(b.selected) > 1, 10)
    assert sim.run(sim.completed, 10)
    _same_selected(a, b)


def test_send_without_selected_pair() -> None:
    agent = ice.Agent(controlling=True)
    assert agent.send(b"\x17x") is False
    assert agent.stats["send_dropped"] == 1
    assert agent.datagrams_to_send() == []


def test_close() -> None:
    sim, a, _b = make_pair()
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    a.agent.close()
    assert a.agent.state is ice.IceState.CLOSED
    sim.run(lambda: True)  # drains the events
    assert a.states[-1] is ice.IceState.CLOSED
    assert a.agent.next_timeout() is None
    assert not a.agent.send(b"\x17x")
    assert a.agent.receive(b"\x00\x01", ("10.0.0.2", 6000), sim.clock.now) is None


def test_application_data_from_unproven_source_dropped() -> None:
    """Non-STUN data needs a proven pair (tests/ice/test_data_source.py has the rest)."""
    agent = ice.Agent(controlling=True)
    for first in (20, 63, 128, 191, 64, 255):
        data = bytes([first]) + b"payload"
        assert agent.receive(data, ("10.0.0.2", 1), 0.0) is None
    assert agent.receive(b"", ("10.0.0.2", 1), 0.0) is None
    assert agent.stats["data_from_unknown_source"] == 6


def test_restart_after_consent_failure_reconnects() -> None:
    net = Network(seed=10)
    sim, a, b = make_pair(net=net)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    net.partition("10.0.0.1", "10.0.0.2")
    assert sim.run(lambda: a.agent.state is ice.IceState.FAILED, 40)
    assert sim.run(lambda: b.agent.state is ice.IceState.FAILED, 10)
    net.heal("10.0.0.1", "10.0.0.2")
    a.agent.restart()
    b.agent.restart()
    assert a.agent.selected_pair is None and not a.agent.send(b"\x17x")
    sim.exchange_credentials()
    assert sim.run(sim.completed, 10)
    _same_selected(a, b)
    _exchange_data(sim, a, b)


def test_driver_without_local_address() -> None:
    """`local=None`: the agent picks the host candidate of the source's family."""
    sim, a, b = make_pair(
        a_addrs=[("10.0.0.1", 5000), ("2001:db8::1", 5000)],
        b_addrs=[("10.0.0.2", 6000)],
    )
    sim.pass_local = False
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    _same_selected(a, b)
    _exchange_data(sim, a, b)


@pytest.mark.parametrize("seed", range(20, 32))
def test_random_networks_always_connect(seed: int) -> None:
    rng = random.Random(seed)
    imp = Impairment(
        loss=rng.uniform(0, 0.4),
        delay=rng.uniform(0.001, 0.15),
        jitter=rng.uniform(0, 0.05),
        duplicate=rng.uniform(0, 0.2),
        reorder=rng.uniform(0, 0.3),
        seed=seed,
    )
    n_a, n_b = rng.randint(1, 3), rng.randint(1, 3)
    sim, a, b = make_pair(
        net=Network(imp, seed=seed),
        seed=seed,
        a_controlling=rng.random() < 0.5,
        b_controlling=rng.random() < 0.5,
        a_addrs=[(f"10.0.{i}.1", 5000 + i) for i in range(n_a)],
        b_addrs=[(f"10.1.{i}.2", 6000 + i) for i in range(n_b)],
        shuffle_seed=seed,
    )
    sim.gather()
    sim.later(rng.uniform(0, 1), sim.exchange_credentials)
    assert sim.run(
        lambda: a.agent.selected_pair is not None and b.agent.selected_pair is not None, 60
    ), (a.agent.stats, b.agent.stats)
    assert sim.run(sim.connected, 30)
    _same_selected(a, b)
    assert a.agent.controlling != b.agent.controlling
