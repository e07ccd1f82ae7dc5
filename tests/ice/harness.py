"""ICE agents on the kit's simulated network (`webrtc.testing`), with in-test signalling.

`Sim` is an actor on the kit's one virtual-time loop (`webrtc.testing.run`); `StunServer` is the
kit's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import ice
import sdp
from webrtc.testing import Address, Network, StunServer, VirtualClock, run


@dataclass
class Peer:
    name: str
    agent: ice.Agent
    addresses: list[Address]
    # inbox address -> the socket address the agent sees it on (NAT public -> private)
    inbox_map: dict[Address, Address] = field(default_factory=dict)
    events: list[ice.Event] = field(default_factory=list)
    app_data: list[bytes] = field(default_factory=list)
    states: list[ice.IceState] = field(default_factory=list)
    selected: list[ice.SelectedPairChanged] = field(default_factory=list)
    signal_candidates: bool = True


class Sim:
    """Two (or more) agents, a network, a clock and a signalling channel with optional delay."""

    def __init__(
        self,
        net: Network | None = None,
        *,
        signal_delay: float = 0.0,
        shuffle_seed: int | None = None,
    ) -> None:
        self.net = net or Network(seed=1)
        self.clock = VirtualClock()
        self.peers: list[Peer] = []
        self.servers: list[StunServer] = []
        self.signal_delay = signal_delay
        self.shuffle = random.Random(shuffle_seed) if shuffle_seed is not None else None
        self._signals: list[tuple[float, int, Callable[[], None]]] = []
        self.pass_local = True
        self._seq = 0
        self._on_step: Callable[[float], None] | None = None

    def add(self, name: str, agent: ice.Agent, addresses: list[Address]) -> Peer:
        peer = Peer(name, agent, addresses)
        for a in addresses:
            self.net.bind(a)
            peer.inbox_map[a] = a
        self.peers.append(peer)
        return peer

    def add_stun_server(self, address: Address) -> StunServer:
        server = StunServer(address, self.net)
        self.servers.append(server)
        return server

    def other(self, peer: Peer) -> Peer:
        return next(p for p in self.peers if p is not peer)

    def exchange_credentials(self) -> None:
        a, b = self.peers
        a.agent.set_remote_credentials(b.agent.local_ufrag, b.agent.local_pwd)
        b.agent.set_remote_credentials(a.agent.local_ufrag, a.agent.local_pwd)

    def gather(self) -> None:
        for p in self.peers:
            p.agent.gather(p.addresses, self.clock.now)

    def later(self, delay: float, fn: Callable[[], None]) -> None:
        self._seq += 1
        self._signals.append((self.clock.now + delay, self._seq, fn))

    def _signal(self, peer: Peer, ev: ice.Event) -> None:
        if not peer.signal_candidates:
            return
        other = self.other(peer)
        if isinstance(ev, ice.CandidateGathered):
            cand = sdp.Candidate.parse(str(ev.candidate))  # through the SDP text form
            delay = self.signal_delay
            if self.shuffle is not None:
                delay += self.shuffle.uniform(0, 0.5)
            self.later(delay, lambda: other.agent.add_remote_candidate(cand))
        elif isinstance(ev, ice.GatheringComplete):
            delay = self.signal_delay + (0.6 if self.shuffle is not None else 0.0)
            self.later(delay, lambda: other.agent.add_remote_candidate(None))

    def _drain(self) -> None:
        now = self.clock.now
        for p in self.peers:
            while (ev := p.agent.next_event()) is not None:
                p.events.append(ev)
                if isinstance(ev, ice.StateChanged):
                    p.states.append(ev.state)
                elif isinstance(ev, ice.SelectedPairChanged):
                    p.selected.append(ev)
                self._signal(p, ev)
            for data, local, remote in p.agent.datagrams_to_send():
                assert local in p.addresses, (local, p.addresses)
                self.net.send(data, local, remote, now)

    def step(self, now: float) -> None:
        """Actor step: signals due, arrivals to servers and agents, timers, then outputs."""
        if self._signals:
            due = sorted(s for s in self._signals if s[0] <= now)
            if due:
                self._signals = [s for s in self._signals if s[0] > now]
                for _, _, fn in due:
                    fn()
        for server in self.servers:
            server.serve(self.net, now)
        for p in self.peers:
            for inbox, local in p.inbox_map.items():
                for data, src in self.net.recv_all(inbox):
                    out = p.agent.receive(data, src, now, local if self.pass_local else None)
                    if out is not None:
                        p.app_data.append(out)
        for p in self.peers:
            t2 = p.agent.next_timeout()
            if t2 is not None and t2 <= now:
                p.agent.handle_timeout(now)
                t3 = p.agent.next_timeout()
                # a timer that stays due after firing would make a real driver spin
                assert t3 is None or t3 > now, (p.name, t3, now)
        self._drain()
        if self._on_step is not None:
            self._on_step(now)
            self._drain()

    def next_time(self) -> float | None:
        times = [t for t in (p.agent.next_timeout() for p in self.peers) if t is not None]
        if self._signals:
            times.append(min(s[0] for s in self._signals))
        return min(times) if times else None

    def run(
        self,
        until: Callable[[], bool],
        max_time: float = 60.0,
        on_step: Callable[[float], None] | None = None,
    ) -> bool:
        self._on_step = on_step
        try:
            return run(self.clock, [self.net, self], until, max_time=max_time)
        finally:
            self._on_step = None

    def connected(self) -> bool:
        return all(
            p.agent.state in (ice.IceState.CONNECTED, ice.IceState.COMPLETED) for p in self.peers
        )

    def completed(self) -> bool:
        return all(p.agent.state is ice.IceState.COMPLETED for p in self.peers)


def make_pair(
    *,
    a_controlling: bool = True,
    b_controlling: bool = False,
    seed: int = 1,
    net: Network | None = None,
    a_addrs: list[Address] | None = None,
    b_addrs: list[Address] | None = None,
    **sim_kw: object,
) -> tuple[Sim, Peer, Peer]:
    sim = Sim(net or Network(seed=seed), **sim_kw)  # type: ignore[arg-type]
    a = ice.Agent(controlling=a_controlling, rng=random.Random(seed * 2 + 1))
    b = ice.Agent(controlling=b_controlling, rng=random.Random(seed * 2 + 2))
    pa = sim.add("a", a, a_addrs or [("10.0.0.1", 5000)])
    pb = sim.add("b", b, b_addrs or [("10.0.0.2", 6000)])
    return sim, pa, pb
