"""Real `WebRTCPeerConnection`s on the simulated network: no sockets, virtual time.

`Simulation` holds one `Network`, one `VirtualClock` and any number of peer connections (each
built with a `SimTransport` and the clock, which the peer connection accepts as its injectable
transport and clock). `connect()` makes a connected pair with open channels in one call;
`run(until)` drives everything on virtual time; `loop(frame, every=...)` runs a game-style loop
that polls the peers only once per frame.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ice import stun

from ..data_channel import WebRTCDataChannel
from ..errors import Error
from ..peer_connection import WebRTCPeerConnection
from ..states import ChannelState, ConnectionState
from ..trace import TraceEvent
from .clock import VirtualClock
from .loop import MAX_STEPS, Actor, Ticker, run
from .network import Address, Impairment, Network
from .recorder import Recorder

__all__ = [
    "Connected",
    "History",
    "PeerPair",
    "PeersActor",
    "SimTransport",
    "Simulation",
    "SimulationTimeout",
    "StunServer",
    "bound_address",
    "drive",
    "wire",
]

_OPEN = ChannelState.STATE_OPEN
_POLL_OK = (Error.OK, Error.ERR_UNCONFIGURED)


def _both(
    first: Callable[[TraceEvent], None], second: Callable[[TraceEvent], None]
) -> Callable[[TraceEvent], None]:
    def trace(ev: TraceEvent) -> None:
        first(ev)
        second(ev)

    return trace


class SimulationTimeout(TimeoutError):
    """A simulated goal was not reached before its virtual deadline."""


class SimTransport:
    """A `webrtc.net.DatagramTransport` on `network`: sockets on `hosts`, ports from the network."""

    def __init__(self, network: Network, hosts: list[str], clock: VirtualClock) -> None:
        self.network = network
        self.hosts = hosts
        self.clock = clock
        self.bound: list[Address] = []
        self.closed = False

    def local_hosts(self) -> list[str]:
        return list(self.hosts)

    def bind(self, host: str) -> Address:
        addr = self.network.allocate(host)
        self.bound.append(addr)
        return addr

    def send(self, data: bytes, local: Address, remote: Address) -> None:
        if not self.closed:
            self.network.send(data, local, remote, self.clock.now)

    def receive(self) -> list[tuple[bytes, Address, Address]]:
        out: list[tuple[bytes, Address, Address]] = []
        recv_all = self.network.recv_all
        for addr in self.bound:
            for data, src in recv_all(addr):
                out.append((data, src, addr))
        return out

    def close(self) -> None:
        self.closed = True
        for addr in self.bound:
            self.network.unbind(addr)


def bound_address(pc: WebRTCPeerConnection) -> Address:
    """The simulated socket address a peer gathered on (its first)."""
    transport = pc._transport
    if not isinstance(transport, SimTransport) or not transport.bound:
        raise ValueError("the peer has no simulated socket (not gathering on a Simulation?)")
    return transport.bound[0]


def wire(a: WebRTCPeerConnection, b: WebRTCPeerConnection) -> None:
    """Signal each peer's descriptions and candidates to the other, at once (from `poll`)."""

    def link(src: WebRTCPeerConnection, dst: WebRTCPeerConnection) -> None:
        def on_description(kind: str, text: str) -> None:
            err = src.set_local_description(kind, text)
            if err != Error.OK:
                raise RuntimeError(f"set_local_description({kind}) -> {err.name}")
            err = dst.set_remote_description(kind, text)
            if err != Error.OK:
                raise RuntimeError(f"set_remote_description({kind}) -> {err.name}")

        def on_candidate(mid: str, index: int, name: str) -> None:
            err = dst.add_ice_candidate(mid, index, name)
            if err != Error.OK:
                raise RuntimeError(f"add_ice_candidate -> {err.name}")

        src.session_description_created.connect(on_description)
        src.ice_candidate_created.connect(on_candidate)

    link(a, b)
    link(b, a)


@dataclass
class History:
    """Connection-state sequence of one peer (consecutive duplicates collapsed) with times."""

    pc: WebRTCPeerConnection
    states: list[ConnectionState] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def record(self, now: float) -> None:
        s = self.pc.get_connection_state()
        if not self.states or self.states[-1] != s:
            self.states.append(s)
            self.times.append(now)

    def first(self, state: ConnectionState) -> float | None:
        for s, t in zip(self.states, self.times):
            if s == state:
                return t
        return None


class PeersActor:
    """Polls peer connections at every step; wakes at their `next_timeout()` (an `Actor`).

    `poll()` results other than OK / ERR_UNCONFIGURED go to `errors` (with `strict`, they raise
    AssertionError). `histories` (by `id(pc)`) are updated after each poll.
    """

    def __init__(
        self,
        peers: list[WebRTCPeerConnection],
        *,
        strict: bool = False,
        histories: dict[int, History] | None = None,
    ) -> None:
        self.peers = peers
        self.strict = strict
        self.histories = histories
        self.errors: list[tuple[int, Error]] = []
        self.paused = False

    def poll(self, now: float) -> None:
        histories = self.histories
        for pc in self.peers:
            err = pc.poll()
            if err not in _POLL_OK:
                if self.strict:
                    raise AssertionError(f"poll() returned {err!r}")
                self.errors.append((id(pc), err))
            if histories is not None:
                histories[id(pc)].record(now)

    def step(self, now: float) -> None:
        if not self.paused:
            self.poll(now)

    def next_time(self) -> float | None:
        if self.paused:
            return None
        nxt: float | None = None
        for pc in self.peers:
            t = pc.next_timeout()
            if t is not None and (nxt is None or t < nxt):
                nxt = t
        return nxt


def drive(
    network: Network,
    clock: VirtualClock,
    peers: list[WebRTCPeerConnection],
    until: Callable[[], bool],
    *,
    max_time: float = 60.0,
    max_steps: int = MAX_STEPS,
) -> bool:
    """Poll `peers` at every event on `network` until `until()` (the `loop.run` rules).

    Raises AssertionError if a `poll()` returns an error other than ERR_UNCONFIGURED.
    """
    actor = PeersActor(peers, strict=True)
    return run(clock, [network, actor], until, max_time=max_time, max_steps=max_steps)


class StunServer:
    """A STUN Binding server (RFC 8489 §7.3) at `address` on the simulated network (an `Actor`)."""

    def __init__(self, address: Address, network: Network | None = None) -> None:
        self.address = address
        self.network = network
        self.requests = 0
        if network is not None:
            network.bind(address)

    def serve(self, net: Network, now: float) -> None:
        for data, src in net.recv_all(self.address):
            try:
                msg = stun.Message.parse(data)
            except stun.StunError:
                continue
            if msg.message_class is not stun.Class.REQUEST or msg.method is not stun.Method.BINDING:
                continue
            self.requests += 1
            resp = stun.Message(
                stun.Method.BINDING,
                stun.Class.SUCCESS,
                msg.transaction_id,
                {stun.Attr.XOR_MAPPED_ADDRESS: src},
            )
            net.send(resp.encode(), self.address, src, now)

    def step(self, now: float) -> None:
        if self.network is not None:
            self.serve(self.network, now)

    def next_time(self) -> float | None:
        return None


@dataclass
class PeerPair:
    """Two peer connections signalled to each other; channels they received, by side."""

    a: WebRTCPeerConnection
    b: WebRTCPeerConnection
    received_a: list[WebRTCDataChannel] = field(default_factory=list)
    received_b: list[WebRTCDataChannel] = field(default_factory=list)

    def remote(self, label: str, on_b: bool = True) -> WebRTCDataChannel | None:
        """The channel called `label` that b (or a, with `on_b=False`) received."""
        for ch in self.received_b if on_b else self.received_a:
            if ch.get_label() == label:
                return ch
        return None


@dataclass
class Connected:
    """A connected pair: `channels[label] = (a's channel, b's channel)`, both open."""

    pair: PeerPair
    channels: dict[str, tuple[WebRTCDataChannel, WebRTCDataChannel]]

    @property
    def a(self) -> WebRTCPeerConnection:
        return self.pair.a

    @property
    def b(self) -> WebRTCPeerConnection:
        return self.pair.b

    def channel(self, label: str) -> tuple[WebRTCDataChannel, WebRTCDataChannel]:
        return self.channels[label]


class _Tickers:
    """Every ticker of a simulation, in creation order (an `Actor`)."""

    def __init__(self, tickers: list[Ticker]) -> None:
        self.tickers = tickers

    def step(self, now: float) -> None:
        for tk in self.tickers:
            tk.fire(now)

    def next_time(self) -> float | None:
        times = [tk.next for tk in self.tickers if tk.active]
        return min(times) if times else None


class Simulation:
    """One simulated network and virtual clock holding any number of peer connections.

    Everything is seeded: `seed` for the network's impairments, and per peer for its
    `random.Random` (ICE transaction ids, tie-breakers, SCTP initial TSNs). DTLS keys and
    certificates still come from the OS (they never change what happens on the network,
    only the bytes of encrypted records).
    """

    def __init__(
        self,
        impairment: Impairment | None = None,
        seed: int = 0,
        *,
        network: Network | None = None,
        clock: VirtualClock | None = None,
    ) -> None:
        self.net = network if network is not None else Network(impairment, seed=seed)
        self.clock = clock if clock is not None else VirtualClock()
        self.peers: list[WebRTCPeerConnection] = []
        self.histories: dict[int, History] = {}
        self.tickers: list[Ticker] = []
        self.actors: list[Actor] = []  # extra actors: STUN servers, scripted peers...
        self._peers_actor = PeersActor(self.peers, histories=self.histories)
        self.poll_errors = self._peers_actor.errors
        self.names: dict[str, str] = {}  # host -> peer name (for recorders)
        self._recorder: Recorder | None = None

    @property
    def network(self) -> Network:
        return self.net

    def transport(self, host: str) -> SimTransport:
        """The transport a peer on `host` gets (override to wrap or record it)."""
        return SimTransport(self.net, [host], self.clock)

    def peer(
        self,
        host: str,
        seed: int,
        *,
        large_records: bool = True,
        name: str | None = None,
        trace: Callable[[TraceEvent], None] | None = None,
    ) -> WebRTCPeerConnection:
        """A peer connection gathering on `host` (one simulated socket). While a recorder runs
        (`record()`), its SCTP-layer events are recorded too, under `name` (default: host)."""
        if name is not None:
            self.names[host] = name
        if self._recorder is not None:
            hook = self._recorder.hook(name or self.names.get(host, host))
            trace = hook if trace is None else _both(trace, hook)
        pc = WebRTCPeerConnection(
            transport_factory=lambda: self.transport(host),
            clock=self.clock,
            rng=random.Random(seed),
            large_records=large_records,
            trace=trace,
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
    ) -> PeerPair:
        """Two peers signalled to each other (`wire`); a offers when you call `create_offer`."""
        a = self.peer(host_a, seed * 2 + 1, large_records=large_records)
        p = PeerPair(a, self.peer(host_b, seed * 2 + 2, large_records=large_records))
        p.a.data_channel_received.connect(p.received_a.append)
        p.b.data_channel_received.connect(p.received_b.append)
        wire(p.a, p.b)
        return p

    def connect(
        self,
        host_a: str = "10.0.0.1",
        host_b: str = "10.0.0.2",
        *,
        seed: int = 1,
        channels: Mapping[str, Mapping[str, Any]] | Iterable[str] = ("data",),
        large_records: bool = True,
        max_time: float = 60.0,
    ) -> Connected:
        """A pair, connected: offer/answer and candidates exchanged, every channel open.

        `channels`: labels, or label -> options as `create_data_channel` takes them. Raises
        `SimulationTimeout` when that does not happen within `max_time` virtual seconds.
        """
        specs: dict[str, Mapping[str, Any]] = (
            dict(channels) if isinstance(channels, Mapping) else {k: {} for k in channels}
        )
        p = self.pair(host_a, host_b, seed, large_records=large_records)
        ours: dict[str, WebRTCDataChannel] = {}
        for label, options in specs.items():
            ch = p.a.create_data_channel(label, dict(options))
            if ch is None:
                raise ValueError(f"create_data_channel({label!r}) -> {p.a.last_error.name}")
            ours[label] = ch
        err = p.a.create_offer()
        if err != Error.OK:
            raise RuntimeError(f"create_offer() -> {err.name}")

        def open_both() -> bool:
            for label, ch in ours.items():
                remote = p.remote(label)
                if ch.get_ready_state() != _OPEN or remote is None:
                    return False
                if remote.get_ready_state() != _OPEN:
                    return False
            return True

        if not self.run(open_both, max_time=max_time):
            raise SimulationTimeout(
                f"channels not open after {max_time} s: a={self.history(p.a).states} "
                f"b={self.history(p.b).states}"
            )
        pairs = {}
        for label, ch in ours.items():
            remote = p.remote(label)
            assert remote is not None
            pairs[label] = (ch, remote)
        return Connected(p, pairs)

    def history(self, pc: WebRTCPeerConnection) -> History:
        return self.histories[id(pc)]

    def every(self, period: float, fn: Callable[[float], None]) -> Ticker:
        """Call `fn(now)` every `period` virtual seconds from now on (while running)."""
        t = Ticker(period, fn, self.clock.now)
        self.tickers.append(t)
        return t

    def add(self, actor: Actor) -> None:
        """Drive `actor` too (after the peers and tickers)."""
        self.actors.append(actor)

    def stun_server(self, address: Address) -> StunServer:
        """A STUN Binding server at `address` (use it in `iceServers` as `stun:host:port`)."""
        server = StunServer(address, self.net)
        self.add(server)
        return server

    def partition(self, host_a: str, host_b: str, seconds: float, *, one_way: bool = False) -> None:
        """Cut `host_a` from `host_b` (both ways, or with `one_way` only a -> b) from now for
        `seconds` virtual seconds."""
        now = self.clock.now
        self.net.partition(host_a, host_b, start=now, end=now + seconds, one_way=one_way)

    def record(self, *, limit: int = 1_000_000) -> Recorder:
        """Start recording every datagram (peer names from `peer(..., name=)` or `names`), and
        the SCTP-layer events of peers created from now on."""
        self._recorder = Recorder(self.net, names=self.names, limit=limit)
        return self._recorder

    def nat_rebind(
        self, pc: WebRTCPeerConnection, new: Address | None = None, *, keep_old: bool = False
    ) -> Address:
        """The NAT in front of `pc` maps its socket to `new` (default: port + 20000) from now
        on; the old mapping expires unless `keep_old` (a source change). Returns `new`."""
        old = bound_address(pc)
        new = new if new is not None else (old[0], (old[1] + 20000) % 65536 or 1)
        if keep_old:
            self.net.source_change(old, new)
        else:
            self.net.nat_rebind(old, new)
        return new

    def _actors(self) -> list[Actor]:
        return [self.net, self._peers_actor, _Tickers(self.tickers), *self.actors]

    def run(self, until: Callable[[], bool], max_time: float = 60.0) -> bool:
        """Poll every peer at every event, fire tickers, until `until()` or the deadline."""
        return run(self.clock, self._actors(), until, max_time=max_time)

    def idle(self, seconds: float) -> None:
        """Let `seconds` of virtual time pass while driving everything."""
        self.run(lambda: False, max_time=seconds)

    def loop(
        self,
        frame: Callable[[float], None],
        *,
        every: float = 1 / 60,
        until: Callable[[], bool] = lambda: False,
        max_time: float = 60.0,
    ) -> bool:
        """A game loop: every `every` virtual seconds poll all peers, then call `frame(now)`.

        Peers are polled only there (as a game polls once per frame), so timers and arrivals
        wait for the next frame. Stops when `until()` holds (True) or after `max_time` (False).
        """

        def tick(now: float) -> None:
            self._peers_actor.poll(now)
            frame(now)

        ticker = Ticker(every, tick, self.clock.now)
        self._peers_actor.paused = True
        try:
            actors: list[Actor] = [self.net, ticker, _Tickers(self.tickers), *self.actors]
            return run(self.clock, actors, until, max_time=max_time)
        finally:
            self._peers_actor.paused = False
