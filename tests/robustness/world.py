"""Thin wrappers over tests/webrtc/simnet.py for the robustness tests.

What simnet lacks and this adds: a NAT-rebinding `Network` that also translates the reverse
direction (and forgets the old mapping), a driver with an application timer (periodic sends on
virtual time), connection-state histories, and helpers to find a peer's bound address.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.netsim import Address, Impairment, Network, VirtualClock
from tests.webrtc.helpers import Pair
from tests.webrtc.simnet import NetsimTransport, wire
from webrtc import ConnectionState, Error, WebRTCPeerConnection

PC = WebRTCPeerConnection
CS = ConnectionState


class NatNetwork(Network):
    """`Network` whose `nat_rebind(old, new)` models a NAT that picked a new external port.

    After it, datagrams from `old` appear to come from `new`, datagrams sent to `new` reach the
    socket bound at `old`, and datagrams sent to `old` are dropped (the old mapping expired).
    `source_change(old, new)`: source rewritten and replies to `new` reach `old`, old mapping kept.
    """

    def __init__(self, default: Impairment | None = None, seed: int = 0) -> None:
        super().__init__(default, seed=seed)
        self._nat_in: dict[Address, Address] = {}  # external -> internal
        self._nat_dead: set[Address] = set()
        self.nat_dropped = 0
        self.tap: list[tuple[bytes, Address, Address]] | None = None  # set a list to record

    def inject(self, data: bytes, src: Address, dst: Address, now: float) -> None:
        """A datagram from anywhere (a rogue address need not be bound; no NAT, no tap)."""
        Network.send(self, data, src, dst, now)

    def nat_rebind(self, old: Address, new: Address) -> None:
        self.source_change(old, new)
        self._nat_dead.add(old)

    def source_change(self, old: Address, new: Address) -> None:
        """Datagrams from `old` now come from `new`; replies to `new` reach `old`'s socket."""
        super().rebind(old, new)
        self._nat_in[new] = old

    def send(self, data: bytes, src: Address, dst: Address, now: float) -> None:
        if dst in self._nat_dead:
            self.nat_dropped += 1
            return
        dst = self._nat_in.get(dst, dst)
        if self.tap is not None:
            self.tap.append((data, src, dst))
        super().send(data, src, dst, now)


class WorldTransport(NetsimTransport):
    """simnet's transport with ports from the World's own counter: every World numbers its
    sockets alike, so a test's outcome does not depend on which tests ran before it."""

    def __init__(self, world: World, host: str) -> None:
        super().__init__(world.net, [host], world.clock)
        self._world_ports = world.ports

    def bind(self, host: str) -> Address:
        addr = (host, next(self._world_ports))
        self.network.bind(addr)
        self.bound.append(addr)
        return addr


@dataclass
class History:
    """Connection-state sequence of one peer (consecutive duplicates collapsed)."""

    pc: WebRTCPeerConnection
    states: list[CS] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def record(self, now: float) -> None:
        s = self.pc.get_connection_state()
        if not self.states or self.states[-1] != s:
            self.states.append(s)
            self.times.append(now)

    def first(self, state: CS) -> float | None:
        for s, t in zip(self.states, self.times):
            if s == state:
                return t
        return None


class World:
    """One simulated network + virtual clock holding any number of peer pairs."""

    def __init__(self, impairment: Impairment | None = None, seed: int = 0) -> None:
        self.net = NatNetwork(impairment, seed=seed)
        self.clock = VirtualClock()
        self.peers: list[WebRTCPeerConnection] = []
        self.histories: dict[int, History] = {}
        self.tickers: list[Ticker] = []
        self.poll_errors: list[tuple[int, Error]] = []
        self.ports = itertools.count(40000)

    def peer(self, host: str, seed: int, *, large_records: bool = True) -> WebRTCPeerConnection:
        pc = WebRTCPeerConnection(
            transport_factory=lambda: WorldTransport(self, host),
            clock=self.clock,
            rng=random.Random(seed),
            large_records=large_records,
        )
        self.peers.append(pc)
        self.histories[id(pc)] = History(pc)
        self.histories[id(pc)].record(self.clock.now)
        return pc

    def pair(
        self,
        host_a: str = "10.0.0.1",
        host_b: str = "10.0.0.2",
        seed: int = 1,
        *,
        large_records: bool = True,
    ) -> Pair:
        a = self.peer(host_a, seed * 2 + 1, large_records=large_records)
        p = Pair(a, self.peer(host_b, seed * 2 + 2, large_records=large_records))
        p.a.data_channel_received.connect(p.received_a.append)
        p.b.data_channel_received.connect(p.received_b.append)
        wire(p.a, p.b)
        return p

    def history(self, pc: WebRTCPeerConnection) -> History:
        return self.histories[id(pc)]

    def every(self, period: float, fn: Callable[[float], None]) -> Ticker:
        """Call `fn(now)` every `period` virtual seconds from now on (while driving)."""
        t = Ticker(period, fn, self.clock.now)
        self.tickers.append(t)
        return t

    def run(self, until: Callable[[], bool], max_time: float = 60.0) -> bool:
        """Poll every peer, fire tickers, jump to the next event; stop when `until()` holds."""
        clock, net = self.clock, self.net
        deadline = clock.now + max_time
        for _ in range(5_000_000):
            for pc in self.peers:
                err = pc.poll()
                if err not in (Error.OK, Error.ERR_UNCONFIGURED):
                    self.poll_errors.append((id(pc), err))
                self.histories[id(pc)].record(clock.now)
            for tk in self.tickers:
                tk.fire(clock.now)
            if until():
                return True
            times = [t for t in (pc.next_timeout() for pc in self.peers) if t is not None]
            times += [tk.next for tk in self.tickers if tk.active]
            arrival = net.next_arrival()
            if arrival is not None:
                times.append(arrival)
            if not times:
                return until()
            t = max(min(times), clock.now)
            if t > deadline:
                clock.advance_to(deadline)
                return until()
            clock.advance_to(t)
            net.deliver_due(clock.now)
        return until()

    def idle(self, seconds: float) -> None:
        """Let `seconds` of virtual time pass while driving everything."""
        end = self.clock.now + seconds
        self.run(lambda: self.clock.now >= end, max_time=seconds)


class Ticker:
    def __init__(self, period: float, fn: Callable[[float], None], start: float) -> None:
        self.period, self.fn, self.next, self.active = period, fn, start, True

    def fire(self, now: float) -> None:
        if self.active and now >= self.next:
            self.fn(now)
            self.next = max(self.next + self.period, now)

    def stop(self) -> None:
        self.active = False


def bound_address(pc: WebRTCPeerConnection) -> Address:
    """The simulated socket address a peer gathered on."""
    transport = pc._transport
    assert isinstance(transport, NetsimTransport), transport
    return transport.bound[0]


def binomial_upper(n: int, p: float, sigmas: float = 4.0) -> float:
    """Mean + `sigmas` standard deviations of Binomial(n, p)."""
    return n * p + sigmas * math.sqrt(max(n * p * (1 - p), 1.0))


def rng(seed: int) -> random.Random:
    return random.Random(seed)
