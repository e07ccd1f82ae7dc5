"""Simulated network on a virtual clock: seeded loss, delay, jitter, duplication, reordering, MTU.

Two shapes are offered:

* `Link` + `run_pair`: point-to-point, for sans-I/O endpoints with the common verbs
  (`receive(data, now)`, `datagrams_to_send()`, `next_timeout()`, `handle_timeout(now)`).
* `Network`: address-aware, for ICE agents and whole peer connections (datagrams carry
  source and destination addresses; `partition` and `rebind` model outages and NAT rebinding).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Address = tuple[str, int]


class VirtualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance_to(self, t: float) -> None:
        if t > self.now:
            self.now = t


@dataclass
class Impairment:
    """What a link does to datagrams. Probabilities are 0..1, times in seconds."""

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0  # probability that a datagram gets an extra `reorder_delay`
    reorder_delay: float = 0.02
    delay: float = 0.005
    jitter: float = 0.0
    mtu: int = 1500  # datagrams larger than this are dropped (as a real path would)
    seed: int = 0


class Link:
    """One direction of a point-to-point path."""

    def __init__(self, impairment: Impairment | None = None, seed: int | None = None) -> None:
        self.impairment = impairment or Impairment()
        self.rng = random.Random(self.impairment.seed if seed is None else seed)
        self._queue: list[tuple[float, int, bytes]] = []
        self._seq = itertools.count()
        self.sent = 0
        self.dropped = 0
        self.down = False

    def send(self, data: bytes, now: float) -> None:
        imp = self.impairment
        self.sent += 1
        if self.down or len(data) > imp.mtu or self.rng.random() < imp.loss:
            self.dropped += 1
            return
        copies = 2 if self.rng.random() < imp.duplicate else 1
        for _ in range(copies):
            t = now + imp.delay + (self.rng.uniform(0, imp.jitter) if imp.jitter else 0.0)
            if imp.reorder and self.rng.random() < imp.reorder:
                t += imp.reorder_delay
            heapq.heappush(self._queue, (t, next(self._seq), bytes(data)))

    def next_arrival(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def pop_due(self, now: float) -> list[bytes]:
        out = []
        while self._queue and self._queue[0][0] <= now:
            out.append(heapq.heappop(self._queue)[2])
        return out


class Endpoint(Protocol):
    def receive(self, data: bytes, now: float) -> Any: ...
    def datagrams_to_send(self) -> list[bytes]: ...
    def next_timeout(self) -> float | None: ...
    def handle_timeout(self, now: float) -> Any: ...


def run_pair(
    a: Endpoint,
    b: Endpoint,
    *,
    clock: VirtualClock,
    until: Callable[[], bool],
    link_ab: Link | None = None,
    link_ba: Link | None = None,
    max_time: float = 120.0,
    max_steps: int = 1_000_000,
    on_step: Callable[[float], None] | None = None,
) -> bool:
    """Drive two endpoints over two links on virtual time until `until()` or `max_time`.

    Returns whether `until()` became true. `on_step(now)` runs after every step (drain events
    there, push application data, etc.).
    """
    ab = link_ab or Link()
    ba = link_ba or Link()
    deadline = clock.now + max_time
    for _ in range(max_steps):
        for d in a.datagrams_to_send():
            ab.send(d, clock.now)
        for d in b.datagrams_to_send():
            ba.send(d, clock.now)
        if on_step is not None:
            on_step(clock.now)
            for d in a.datagrams_to_send():
                ab.send(d, clock.now)
            for d in b.datagrams_to_send():
                ba.send(d, clock.now)
        if until():
            return True
        times = [
            t
            for t in (a.next_timeout(), b.next_timeout(), ab.next_arrival(), ba.next_arrival())
            if t is not None
        ]
        if not times:
            return until()
        t = max(min(times), clock.now)
        if t > deadline:
            return until()
        clock.advance_to(t)
        now = clock.now
        for d in ab.pop_due(now):
            b.receive(d, now)
        for d in ba.pop_due(now):
            a.receive(d, now)
        ta = a.next_timeout()
        if ta is not None and ta <= now:
            a.handle_timeout(now)
        tb = b.next_timeout()
        if tb is not None and tb <= now:
            b.handle_timeout(now)
    return until()


@dataclass(order=True)
class _InFlight:
    at: float
    seq: int
    src: Address = field(compare=False)
    dst: Address = field(compare=False)
    data: bytes = field(compare=False)


class Network:
    """Address-aware simulated network. Hosts bind addresses; datagrams to unbound addresses vanish.

    Per-direction impairment is looked up by (src_host, dst_host), falling back to `default`.
    `partition(a, b)` drops everything between two hosts until `heal(a, b)`.
    `rebind(old, new)` makes datagrams *from* `old` appear to come from `new` (NAT rebinding).
    """

    def __init__(self, default: Impairment | None = None, seed: int = 0) -> None:
        self.default = default or Impairment()
        self.rng = random.Random(seed)
        self.links: dict[tuple[str, str], Impairment] = {}
        self._queue: list[_InFlight] = []
        self._seq = itertools.count()
        self._inboxes: dict[Address, list[tuple[bytes, Address]]] = {}
        self._partitions: set[frozenset[str]] = set()
        self._rebind: dict[Address, Address] = {}
        self.sent = 0
        self.dropped = 0

    def bind(self, addr: Address) -> None:
        self._inboxes.setdefault(addr, [])

    def unbind(self, addr: Address) -> None:
        self._inboxes.pop(addr, None)

    def partition(self, a: str, b: str) -> None:
        self._partitions.add(frozenset((a, b)))

    def heal(self, a: str, b: str) -> None:
        self._partitions.discard(frozenset((a, b)))

    def rebind(self, old: Address, new: Address) -> None:
        self._rebind[old] = new
        self.bind(new)

    def send(self, data: bytes, src: Address, dst: Address, now: float) -> None:
        self.sent += 1
        src_seen = self._rebind.get(src, src)
        imp = self.links.get((src[0], dst[0]), self.default)
        if (
            frozenset((src[0], dst[0])) in self._partitions
            or len(data) > imp.mtu
            or self.rng.random() < imp.loss
        ):
            self.dropped += 1
            return
        copies = 2 if self.rng.random() < imp.duplicate else 1
        for _ in range(copies):
            t = now + imp.delay + (self.rng.uniform(0, imp.jitter) if imp.jitter else 0.0)
            if imp.reorder and self.rng.random() < imp.reorder:
                t += imp.reorder_delay
            heapq.heappush(self._queue, _InFlight(t, next(self._seq), src_seen, dst, bytes(data)))

    def next_arrival(self) -> float | None:
        return self._queue[0].at if self._queue else None

    def deliver_due(self, now: float) -> None:
        """Move every datagram due by `now` into its destination's inbox."""
        while self._queue and self._queue[0].at <= now:
            item = heapq.heappop(self._queue)
            inbox = self._inboxes.get(item.dst)
            if inbox is None:
                self.dropped += 1
                continue
            inbox.append((item.data, item.src))

    def recv_all(self, addr: Address) -> list[tuple[bytes, Address]]:
        """Drain what has arrived at `addr`: `(data, source)` pairs."""
        inbox = self._inboxes.get(addr)
        if not inbox:
            return []
        out = list(inbox)
        inbox.clear()
        return out
