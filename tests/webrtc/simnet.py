"""Adapters: tests/netsim.py `Network` + `VirtualClock` behind webrtc's injectable transport."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from tests.netsim import Network, VirtualClock
from webrtc import Error, WebRTCPeerConnection

Address = tuple[str, int]


class NetsimTransport:
    """A `webrtc.net.DatagramTransport` on a simulated `Network` host."""

    _ports = itertools.count(40000)

    def __init__(self, network: Network, hosts: list[str], clock: VirtualClock) -> None:
        self.network = network
        self.hosts = hosts
        self.clock = clock
        self.bound: list[Address] = []
        self.closed = False

    def local_hosts(self) -> list[str]:
        return list(self.hosts)

    def bind(self, host: str) -> Address:
        addr = (host, next(self._ports))
        self.network.bind(addr)
        self.bound.append(addr)
        return addr

    def send(self, data: bytes, local: Address, remote: Address) -> None:
        if not self.closed:
            self.network.send(data, local, remote, self.clock.now)

    def receive(self) -> list[tuple[bytes, Address, Address]]:
        out: list[tuple[bytes, Address, Address]] = []
        for addr in self.bound:
            for data, src in self.network.recv_all(addr):
                out.append((data, src, addr))
        return out

    def close(self) -> None:
        self.closed = True
        for addr in self.bound:
            self.network.unbind(addr)


def make_peer(network: Network, clock: VirtualClock, host: str, seed: int) -> WebRTCPeerConnection:
    import random

    return WebRTCPeerConnection(
        transport_factory=lambda: NetsimTransport(network, [host], clock),
        clock=clock,
        rng=random.Random(seed),
    )


def wire(a: WebRTCPeerConnection, b: WebRTCPeerConnection) -> None:
    """Signal each peer's descriptions and candidates to the other (synchronously, from poll)."""

    def link(src: WebRTCPeerConnection, dst: WebRTCPeerConnection) -> None:
        def on_description(kind: str, text: str) -> None:
            assert src.set_local_description(kind, text) == Error.OK
            assert dst.set_remote_description(kind, text) == Error.OK

        def on_candidate(mid: str, index: int, name: str) -> None:
            assert dst.add_ice_candidate(mid, index, name) == Error.OK

        src.session_description_created.connect(on_description)
        src.ice_candidate_created.connect(on_candidate)

    link(a, b)
    link(b, a)


def drive(
    network: Network,
    clock: VirtualClock,
    peers: list[WebRTCPeerConnection],
    until: Callable[[], bool],
    *,
    max_time: float = 60.0,
    max_steps: int = 2_000_000,
) -> bool:
    """Poll every peer, then jump the virtual clock to the next event; until `until()`."""
    deadline = clock.now + max_time
    for _ in range(max_steps):
        for pc in peers:
            err = pc.poll()
            assert err in (Error.OK, Error.ERR_UNCONFIGURED), err
        if until():
            return True
        times = [t for t in (pc.next_timeout() for pc in peers) if t is not None]
        arrival = network.next_arrival()
        if arrival is not None:
            times.append(arrival)
        if not times:
            return until()
        t = max(min(times), clock.now)
        if t > deadline:
            return until()
        clock.advance_to(t)
        network.deliver_due(clock.now)
    return until()
