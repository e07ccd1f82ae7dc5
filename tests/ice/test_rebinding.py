"""NAT rebinding, consent-based DISCONNECTED, STUN through a TURN server (virtual time, seeded)."""

from __future__ import annotations

import random

import pytest

import ice
from ice import stun
from ice.turn import TurnClient
from tests.ice.harness import Peer, Sim, make_pair
from tests.netsim import Address, Impairment, Network

CONNECTED = (ice.IceState.CONNECTED, ice.IceState.COMPLETED)
CONSENT_GIVE_UP = 4.0  # a consent check is sent at 0, .5, 1.5, 3.5 s and given up at 4 s
RTT = 0.01  # netsim's default 5 ms each way


def _exchange_data(sim: Sim, a: Peer, b: Peer, n: int = 5) -> None:
    a.app_data.clear()
    b.app_data.clear()
    for i in range(n):
        assert a.agent.send(b"\x17a%d" % i)
        assert b.agent.send(b"\x17b%d" % i)
    assert sim.run(lambda: len(a.app_data) >= n and len(b.app_data) >= n, 5)
    assert sorted(a.app_data) == sorted(b"\x17b%d" % i for i in range(n))
    assert sorted(b.app_data) == sorted(b"\x17a%d" % i for i in range(n))


class ConsentWatch:
    """`on_step` hook: when `peer` sends consent checks and gives them up."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.sent: list[float] = []
        self.missed: list[float] = []
        self._counts = (0, 0)
        self.watch(0.0)
        self.sent.clear()
        self.missed.clear()

    def watch(self, now: float) -> None:
        stats = self.peer.agent.stats
        counts = (stats["consent_checks_sent"], stats["consent_timeouts"])
        if counts[0] != self._counts[0]:
            self.sent.append(now)
        if counts[1] != self._counts[1]:
            self.missed.append(now)
        self._counts = counts


def _connected_pair(a_controlling: bool, seed: int) -> tuple[Sim, Peer, Peer]:
    sim, a, b = make_pair(a_controlling=a_controlling, b_controlling=not a_controlling, seed=seed)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    return sim, a, b


def _quiet_point(sim: Sim, peer: Peer) -> None:
    """Run until `peer`'s consent check has just been answered: none is in flight for 3 s."""
    w = ConsentWatch(peer)
    assert sim.run(lambda: bool(w.sent), 10, on_step=w.watch)
    sim.run(lambda: False, 2 * RTT)
    assert peer.agent.stats["consent_timeouts"] == 0


def _nat_rebind(sim: Sim, peer: Peer, port: int, *, keep_old: bool = False) -> Address:
    """`peer`'s NAT picks a new external port: its datagrams come from there, replies sent there
    reach its socket; unless `keep_old`, the old mapping is dead (datagrams to it vanish)."""
    old = peer.addresses[0]
    new = (old[0], port)
    sim.net.rebind(old, new)
    if not keep_old:
        sim.net.unbind(old)
    peer.inbox_map[new] = old
    return new


@pytest.mark.parametrize("a_controlling", [True, False], ids=["a-controlling", "a-controlled"])
@pytest.mark.parametrize("moved_name", ["a", "b"])
def test_nat_rebinding_moves_the_selected_pair(a_controlling: bool, moved_name: str) -> None:
    """The peer of the rebound agent follows it to the new address (peer-reflexive, RFC 8445
    §7.3.1.3/4): controlled by selecting the new pair, controlling by nominating it again."""
    sim, a, b = _connected_pair(a_controlling, seed=40 + a_controlling)
    moved = a if moved_name == "a" else b
    other = sim.other(moved)
    _quiet_point(sim, other)
    old_remote = other.agent.selected_pair
    assert old_remote is not None
    t0 = sim.clock.now
    new = _nat_rebind(sim, moved, 25000)
    watch = ConsentWatch(other)

    def on_new_address() -> bool:
        sel = other.agent.selected_pair
        return sel is not None and sel.remote_address == new

    assert sim.run(on_new_address, 20, on_step=watch.watch)
    switched_at = sim.clock.now
    # The first consent check after the rebinding goes to the dead mapping and is given up.
    assert watch.missed and watch.missed[0] == pytest.approx(watch.sent[0] + CONSENT_GIVE_UP)
    assert watch.missed[0] - t0 <= 6.0 + CONSENT_GIVE_UP + 1e-9
    # The moved agent's checks (every 4-6 s) revealed the new address before that.
    assert other.agent.stats["prflx_remote_learned"] == 1
    if other.agent.controlling:
        # Re-nominated (USE-CANDIDATE) at the miss, selected when the response came back.
        assert other.agent.stats["renominations"] == 1
        assert switched_at == pytest.approx(watch.missed[0] + RTT)
        assert other.agent.stats["pair_switches"] == 0
        # Honest: for one round trip the pair was failing.
        assert other.states[-2:] == [ice.IceState.DISCONNECTED, ice.IceState.COMPLETED]
    else:
        assert other.agent.stats["pair_switches"] == 1
        assert switched_at == pytest.approx(watch.missed[0])
        assert other.agent.stats["renominations"] == 0
        assert ice.IceState.DISCONNECTED not in other.states  # switched at the very miss
    assert len(other.selected) == 2
    ev = other.selected[-1]
    assert ev.remote.type == "prflx" and (ev.remote.address, ev.remote.port) == new
    sel = other.agent.selected_pair
    assert sel is not None and sel.nominated and sel is not old_remote
    # The agent whose own mapping changed keeps its pair (its traffic just arrives from `new`).
    assert len(moved.selected) == 1
    assert moved.agent.stats["pair_switches"] == moved.agent.stats["renominations"] == 0
    _exchange_data(sim, a, b)
    # Past RFC 7675's 30 s consent expiry of the dead mapping: still fine, nothing else moves.
    sim.run(lambda: False, 40)
    for p in (a, b):
        assert p.agent.state is ice.IceState.COMPLETED
        assert ice.IceState.FAILED not in p.states
    assert len(other.selected) == 2 and len(moved.selected) == 1
    _exchange_data(sim, a, b)


@pytest.mark.parametrize("a_controlling", [True, False], ids=["a-controlling", "a-controlled"])
def test_source_address_change_old_mapping_kept(a_controlling: bool) -> None:
    """Only the source changes (netsim `rebind`): the old address still receives, so nothing sent
    to `a` is lost; consent responses now come from the new address (RFC 8445 §7.2.5.2.1
    rejects them) and the peer moves to the new address at its first miss. `a`'s data from the
    new address is dropped (counted) until its first authenticated check from there proves it,
    as browsers do; everything sent after that arrives."""
    sim, a, b = _connected_pair(a_controlling, seed=50 + a_controlling)
    _quiet_point(sim, b)
    new = _nat_rebind(sim, a, 26000, keep_old=True)
    sent = 0
    sent_when_proven: int | None = None

    def send_both(now: float) -> None:  # one datagram each way every 100 ms
        nonlocal sent, sent_when_proven
        if sent_when_proven is None and any(k[2] == new for k in b.agent._proven):
            sent_when_proven = sent
        while sent < 10 * (now - t0):
            assert a.agent.send(b"\x17a%d" % sent) and b.agent.send(b"\x17b%d" % sent)
            sent += 1

    a.app_data.clear()
    b.app_data.clear()
    t0 = sim.clock.now
    sel = b.agent.selected_pair
    assert sim.run(lambda: sel is not b.agent.selected_pair, 20, on_step=send_both)
    current = b.agent.selected_pair
    assert current is not None and current.remote_address == new
    assert b.agent.stats["responses_wrong_source"] >= 1
    assert sim.clock.now - t0 >= CONSENT_GIVE_UP  # moved at its first consent miss
    sim.run(lambda: False, 1.0, on_step=send_both)
    sim.run(lambda: False, 1.0)
    assert sent > 40
    assert sent_when_proven is not None and sent_when_proven < sent - 10
    dropped = b.agent.stats["data_from_unknown_source"]
    assert len(b.app_data) + dropped == sent
    assert set(b.app_data) >= {b"\x17a%d" % i for i in range(sent_when_proven, sent)}
    assert sorted(a.app_data) == sorted(b"\x17b%d" % i for i in range(sent))
    assert ice.IceState.FAILED not in a.states + b.states


@pytest.mark.parametrize("a_controlling", [True, False], ids=["a-controlling", "a-controlled"])
def test_no_switch_without_the_peer_at_a_new_address(a_controlling: bool) -> None:
    """A valid pair the peer has not used since the selected pair last answered is no reason to
    move (a lost consent check is not a rebinding)."""
    sim, a, b = make_pair(
        net=Network(Impairment(delay=0.1), seed=3),  # slow enough that both pairs get checked
        a_controlling=a_controlling,
        b_controlling=not a_controlling,
        a_addrs=[("10.0.0.1", 5000), ("10.0.1.1", 5001)],
        b_addrs=[("10.0.0.2", 6000)],
        seed=3,
    )
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    for p in (a, b):
        assert sum(1 for pair in p.agent.checklist.pairs if pair.valid) == 2
    sel_a, sel_b = a.agent.selected_pair, b.agent.selected_pair
    # Cut only the selected path; the other one still works but nobody checks over it.
    assert sel_a is not None
    sim.net.partition(sel_a.local.base[0], sel_a.remote_address[0])
    assert sim.run(lambda: a.agent.state is ice.IceState.DISCONNECTED, 15)
    sim.run(lambda: False, 5)
    assert a.agent.selected_pair is sel_a and b.agent.selected_pair is sel_b
    for p in (a, b):
        assert p.agent.stats["pair_switches"] == p.agent.stats["renominations"] == 0
    sim.net.heal(sel_a.local.base[0], sel_a.remote_address[0])
    assert sim.run(sim.completed, 10)


def test_partition_disconnected_after_one_unanswered_consent_check_then_back() -> None:
    """DISCONNECTED once one consent check is given up (4 s after it was sent); CONNECTED again
    with the first consent response after healing; FAILED only at RFC 7675's 30 s."""
    net = Network(seed=11)
    sim, a, b = make_pair(net=net)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    sim.run(lambda: False, 3)
    watches = {"a": ConsentWatch(a), "b": ConsentWatch(b)}
    changes: dict[str, list[tuple[float, ice.IceState]]] = {"a": [], "b": []}

    def watch(now: float) -> None:
        for p in (a, b):
            watches[p.name].watch(now)
            log = changes[p.name]
            if not log or log[-1][1] is not p.agent.state:
                log.append((now, p.agent.state))

    t0 = sim.clock.now
    net.partition("10.0.0.1", "10.0.0.2")
    sim.run(lambda: False, 10.0, on_step=watch)
    net.heal("10.0.0.1", "10.0.0.2")
    sim.run(lambda: False, 10.0, on_step=watch)
    for p in (a, b):
        log = changes[p.name]
        assert [s for _, s in log] == [
            ice.IceState.COMPLETED,
            ice.IceState.DISCONNECTED,
            ice.IceState.COMPLETED,
        ]
        w = watches[p.name]
        first = next(t for t in w.sent if t >= t0)
        assert log[1][0] == pytest.approx(first + CONSENT_GIVE_UP)
        assert log[1][0] - t0 <= 10.0
        # a retransmission in flight at the heal, or the next check, gets its response
        assert 10.0 < log[2][0] - t0 <= 10.0 + 6.0 + RTT
    for p in (a, b):
        assert p.states[-3:] == [
            ice.IceState.COMPLETED,
            ice.IceState.DISCONNECTED,
            ice.IceState.COMPLETED,
        ]
        assert p.agent.stats["pair_switches"] == p.agent.stats["renominations"] == 0
        assert len(p.selected) == 1
    _exchange_data(sim, a, b)


def test_disconnected_misses_is_configurable() -> None:
    """`disconnected_misses=2` restores the older, slower rule (2 unanswered checks)."""
    net = Network(seed=12)
    sim = Sim(net)
    a = sim.add(
        "a",
        ice.Agent(controlling=True, rng=random.Random(1), disconnected_misses=2),
        [("10.0.0.1", 5000)],
    )
    sim.add("b", ice.Agent(controlling=False, rng=random.Random(2)), [("10.0.0.2", 6000)])
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(sim.completed, 10)
    w = ConsentWatch(a)
    net.partition("10.0.0.1", "10.0.0.2")
    assert sim.run(lambda: a.agent.state is ice.IceState.DISCONNECTED, 20, on_step=w.watch)
    assert len(w.missed) == 2 and sim.clock.now == w.missed[1]


# -- STUN Binding through a server that is also the TURN server ------------------------------

SERVER = ("198.51.100.1", 3478)


def _binding_response(tid: bytes, mapped: Address) -> bytes:
    msg = stun.Message(
        stun.Method.BINDING, stun.Class.SUCCESS, tid, {stun.Attr.XOR_MAPPED_ADDRESS: mapped}
    )
    return msg.encode()


def test_turn_client_leaves_binding_messages_to_the_caller() -> None:
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(1))
    client.allocate(0.0)
    client.datagrams_to_send()
    assert not client.receive(_binding_response(bytes(12), ("203.0.113.9", 1)), 0.1)
    request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST, bytes(12)).encode()
    assert not client.receive(request, 0.1)
    unknown_allocate = stun.Message(stun.Method.ALLOCATE, stun.Class.SUCCESS, bytes(12))
    assert client.receive(unknown_allocate.encode(), 0.1)  # TURN traffic, not ours: dropped
    assert client.next_event() is None


def test_stun_server_that_is_also_the_turn_server() -> None:
    """Gathering's Binding response from the TURN server's address reaches the agent (the TURN
    client declines it), and a stray Binding response is counted, not swallowed."""
    agent = ice.Agent(
        controlling=True,
        rng=random.Random(4),
        stun_servers=[SERVER],
        turn_servers=[ice.TurnServer(SERVER, "user", "pass")],
    )
    base = ("192.168.1.2", 5000)
    agent.gather([base], 0.0)
    now = 0.0
    binding: bytes | None = None
    for _ in range(10):
        for data, local, remote in agent.datagrams_to_send():
            assert local == base and remote == SERVER
            msg = stun.Message.parse(data)
            if msg.method is stun.Method.BINDING:
                binding = msg.transaction_id
        if binding is not None:
            break
        t = agent.next_timeout()
        assert t is not None
        now = t
        agent.handle_timeout(now)
    assert binding is not None
    assert agent.receive(_binding_response(bytes(12), base), SERVER, now, base) is None
    assert agent.stats["unmatched_responses"] == 1
    public = ("203.0.113.7", 40000)
    assert agent.receive(_binding_response(binding, public), SERVER, now, base) is None
    srflx = [lc for lc in agent.local_candidates if lc.type == "srflx"]
    assert [lc.address for lc in srflx] == [public]
    assert agent.stats["malformed_stun"] == 0
