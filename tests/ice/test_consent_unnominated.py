"""Consent freshness (RFC 7675 §5.1) on a valid pair that carries data but is never nominated."""

from __future__ import annotations

import random

import ice
from tests.ice.harness import Peer, Sim, make_pair
from tests.netsim import Network


class _NeverNominates(ice.Agent):
    """A controlling peer whose nomination never comes (it still answers checks)."""

    def _maybe_nominate(self, now: float) -> None:
        return None


def _valid_not_nominated(seed: int) -> tuple[Sim, Network, Peer, Peer]:
    net = Network(seed=seed)
    sim = Sim(net)
    a = sim.add(
        "a", _NeverNominates(controlling=True, rng=random.Random(seed)), [("10.0.0.1", 5000)]
    )
    b = sim.add(
        "b", ice.Agent(controlling=False, rng=random.Random(seed + 1)), [("10.0.0.2", 6000)]
    )
    sim.exchange_credentials()
    sim.gather()
    # W3C "connected": a usable pair, no nomination (the agent stays CHECKING).
    assert sim.run(lambda: b.agent.can_send, 10)
    assert b.agent.selected_pair is None
    assert b.agent.state is ice.IceState.CHECKING
    return sim, net, a, b


def test_unnominated_pair_keeps_consent_while_peer_answers() -> None:
    sim, _net, a, b = _valid_not_nominated(40)
    sent = b.agent.stats["consent_checks_sent"]
    sim.run(lambda: False, 60)
    assert b.agent.selected_pair is None
    assert b.agent.can_send and b.agent.state is ice.IceState.CHECKING
    # RFC 7675 §5.1: one check every [4, 6] s on the pair data goes on
    assert 10 <= b.agent.stats["consent_checks_sent"] - sent <= 15
    assert b.agent.stats["consent_expired"] == 0
    assert b.agent.send(b"\x17still")
    assert sim.run(lambda: b"\x17still" in a.app_data, 1)


def test_unnominated_pair_consent_expires() -> None:
    sim, net, _a, b = _valid_not_nominated(41)
    sim.run(lambda: False, 12)  # consent refreshed by answered checks
    assert b.agent.stats["consent_checks_sent"] >= 2
    t0 = sim.clock.now
    net.partition("10.0.0.1", "10.0.0.2")
    # the same report as the selected pair's consent expiry: FAILED, counted, no more sending
    assert sim.run(lambda: b.agent.state is ice.IceState.FAILED, 40)
    assert t0 + 30.0 - 6.0 <= sim.clock.now <= t0 + 30.0 + 1e-9  # 30 s after the last answer
    assert b.states[-1] is ice.IceState.FAILED
    assert b.agent.stats["consent_expired"] == 1
    assert not b.agent.can_send
    assert not b.agent.send(b"\x17late")
    assert b.agent.stats["send_dropped"] == 1
    checks = b.agent.stats["consent_checks_sent"]
    net.heal("10.0.0.1", "10.0.0.2")
    sim.run(lambda: False, 20)
    assert b.agent.state is ice.IceState.FAILED  # consent loss is final (RFC 7675 §5.1)
    assert b.agent.stats["consent_checks_sent"] == checks  # no checks on the dead pair


def test_nominated_pair_gets_no_extra_consent_checks() -> None:
    """After selection only the selected pair's consent timer runs (one check per interval)."""
    sim, a, b = make_pair(seed=42)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    before = {p.name: p.agent.stats["consent_checks_sent"] for p in (a, b)}
    sim.run(lambda: False, 60)
    for p in (a, b):
        assert 10 <= p.agent.stats["consent_checks_sent"] - before[p.name] <= 15
        assert p.agent.stats["consent_expired"] == 0


def test_restart_after_unnominated_consent_loss_sends_again() -> None:
    sim, net, a, b = _valid_not_nominated(43)
    net.partition("10.0.0.1", "10.0.0.2")
    assert sim.run(lambda: b.agent.state is ice.IceState.FAILED, 40)
    net.heal("10.0.0.1", "10.0.0.2")
    a.agent.restart()
    b.agent.restart()
    sim.exchange_credentials()
    assert sim.run(lambda: b.agent.can_send, 10)
    assert b.agent.state is ice.IceState.CHECKING
    sent = b.agent.stats["consent_checks_sent"]
    sim.run(lambda: False, 40)  # consent checks resume on the new valid pair
    assert b.agent.can_send and b.agent.stats["consent_checks_sent"] - sent >= 6
    assert b.agent.stats["consent_expired"] == 1
