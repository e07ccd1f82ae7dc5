"""Simulated datagram network: seeded impairments per direction, partitions, NAT rebinding.

Two shapes share one impairment model (`Impairment`, applied by the same code):

* `Link`: one direction of a point-to-point path, for sans-I/O endpoints driven by
  `webrtc.testing.run_pair`.
* `Network`: address-aware; hosts bind `(host, port)` addresses, datagrams carry source and
  destination, impairments are looked up per direction `(source host, destination host)`.

Every random choice comes from one `random.Random` seeded at construction, drawn in a fixed
order per datagram (loss, then duplication, then per copy jitter and reordering), so a seed
reproduces the same fates, arrival times and order. A knob left at zero draws nothing.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

__all__ = [
    "Address",
    "Drop",
    "Impairment",
    "Link",
    "Network",
    "NetworkObserver",
]

Address = tuple[str, int]
_INF = math.inf
FIRST_PORT = 40000  # ports handed out by `Network.allocate`


@dataclass
class Impairment:
    """What a path does to datagrams. Probabilities are 0..1, times in seconds.

    `loss`: probability a datagram is lost. `duplicate`: probability it arrives twice.
    `reorder`: probability a copy is held back by an extra `reorder_delay` (later datagrams
    overtake it). `delay`: one-way latency; `jitter`: extra latency uniform in [0, jitter].
    `mtu`: largest UDP payload carried (larger datagrams are dropped, as a path with "don't
    fragment" does). `bandwidth`: bits per second of UDP payload (0 = unlimited); datagrams
    wait for their turn on the link in a drop-tail queue holding at most `queue` bytes not yet
    fully sent (the datagram being transmitted included).
    `seed`: the seed a `Link` uses (a `Network` has its own seed for all its paths).
    """

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_delay: float = 0.02
    delay: float = 0.005
    jitter: float = 0.0
    mtu: int = 1500
    seed: int = 0
    bandwidth: float = 0.0
    queue: int = 64 * 1024


class Drop(Enum):
    """Why a datagram did not arrive."""

    LOSS = "loss"  # random loss (`Impairment.loss`)
    MTU = "mtu"  # larger than `Impairment.mtu`
    QUEUE = "queue"  # the bandwidth-limited link's queue was full
    PARTITION = "partition"  # the two hosts were partitioned
    DOWN = "down"  # `Link.down`
    NAT = "nat"  # sent to an expired NAT mapping (`Network.nat_rebind`)
    UNBOUND = "unbound"  # nobody is bound at the destination when it arrives


class _Shaper:
    """Serialisation of one direction at `bandwidth` with a drop-tail queue."""

    __slots__ = ("busy_until",)

    def __init__(self) -> None:
        self.busy_until = 0.0

    def admit(self, imp: Impairment, size: int, now: float) -> float | None:
        """When the datagram has left the link, or None when the queue is full."""
        rate = imp.bandwidth / 8.0  # bytes per second
        start = self.busy_until if self.busy_until > now else now
        backlog = (start - now) * rate  # bytes not yet fully sent ahead of this one
        if backlog + size > imp.queue:
            return None
        self.busy_until = start + size / rate
        return self.busy_until


def _fate(
    imp: Impairment, rng: random.Random, size: int, now: float, shaper: _Shaper | None
) -> list[float] | Drop:
    """Arrival times of a datagram's copies, or why it is dropped (draw order is fixed)."""
    if size > imp.mtu:
        return Drop.MTU
    departs = now
    if imp.bandwidth > 0 and shaper is not None:
        left = shaper.admit(imp, size, now)
        if left is None:
            return Drop.QUEUE
        departs = left
    if rng.random() < imp.loss:
        return Drop.LOSS
    copies = 2 if rng.random() < imp.duplicate else 1
    out = []
    for _ in range(copies):
        t = departs + imp.delay + (rng.uniform(0, imp.jitter) if imp.jitter else 0.0)
        if imp.reorder and rng.random() < imp.reorder:
            t += imp.reorder_delay
        out.append(t)
    return out


class Link:
    """One direction of a point-to-point path (seeded from `impairment.seed` unless `seed`)."""

    def __init__(self, impairment: Impairment | None = None, seed: int | None = None) -> None:
        self.impairment = impairment or Impairment()
        self.rng = random.Random(self.impairment.seed if seed is None else seed)
        self._queue: list[tuple[float, int, bytes]] = []
        self._seq = itertools.count()
        self._shaper = _Shaper()
        self.sent = 0
        self.dropped = 0
        self.delivered = 0
        self.drops: Counter[Drop] = Counter()
        self.down = False

    def send(self, data: bytes, now: float) -> None:
        self.sent += 1
        fate = (
            Drop.DOWN
            if self.down
            else _fate(self.impairment, self.rng, len(data), now, self._shaper)
        )
        if isinstance(fate, Drop):
            self.dropped += 1
            self.drops[fate] += 1
            return
        data = bytes(data)
        for t in fate:
            heapq.heappush(self._queue, (t, next(self._seq), data))

    def next_arrival(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def pop_due(self, now: float) -> list[bytes]:
        """Every datagram arrived by `now`, in arrival order."""
        out = []
        queue = self._queue
        while queue and queue[0][0] <= now:
            out.append(heapq.heappop(queue)[2])
        self.delivered += len(out)
        return out


class NetworkObserver(Protocol):
    """Told about every datagram (`webrtc.testing.Recorder` is one)."""

    def on_send(
        self,
        number: int,
        now: float,
        src: Address,
        dst: Address,
        data: bytes,
        fate: list[float] | Drop,
    ) -> None:
        """Datagram `number` sent at `now`: its arrival times, or why it is dropped."""
        ...

    def on_arrive(
        self, number: int, now: float, src: Address, dst: Address, data: bytes, delivered: bool
    ) -> None:
        """A copy of datagram `number` arrived at `dst` (`delivered`: someone was bound)."""
        ...


class Network:
    """Address-aware simulated network. Datagrams to addresses nobody binds vanish.

    Impairment per direction: `set_link(src_host, dst_host, imp)`, else `default`.
    `partition(a, b, start=, end=)` drops everything sent between two hosts in that span of
    time (default: from now on, until `heal(a, b)`). Address changes:
    `rebind(old, new)` rewrites the source of datagrams from `old` (replies to `new` reach
    whoever binds `new`); `source_change(old, new)` also sends replies to `new` to the socket
    at `old` (a NAT picked a new external port, old mapping kept); `nat_rebind(old, new)` also
    drops datagrams sent to `old` afterwards (the old mapping expired).
    """

    def __init__(self, default: Impairment | None = None, seed: int = 0) -> None:
        self.default = default or Impairment()
        self.seed = seed
        self.rng = random.Random(seed)
        self.links: dict[tuple[str, str], Impairment] = {}
        self._shapers: dict[tuple[str, str], _Shaper] = {}
        self._queue: list[tuple[float, int, int, Address, Address, bytes]] = []
        self._seq = itertools.count()
        self._inboxes: dict[Address, list[tuple[bytes, Address]]] = {}
        # (src host, dst host) -> spans of time in which that direction is cut
        self._partitions: dict[tuple[str, str], list[tuple[float, float]]] = {}
        self._rebind: dict[Address, Address] = {}
        self._nat_in: dict[Address, Address] = {}  # external -> internal
        self._nat_dead: set[Address] = set()
        self._ports = itertools.count(FIRST_PORT)
        self.sent = 0
        self.dropped = 0
        self.delivered = 0
        self.nat_dropped = 0
        self.drops: Counter[Drop] = Counter()
        self.tap: list[tuple[bytes, Address, Address]] | None = None  # set a list to record
        self.observers: list[NetworkObserver] = []

    # -- topology -----------------------------------------------------------------------------

    def set_link(self, src_host: str, dst_host: str, impairment: Impairment) -> None:
        """Impair datagrams from `src_host` to `dst_host` (one direction) with `impairment`."""
        self.links[(src_host, dst_host)] = impairment

    def link(self, src_host: str, dst_host: str) -> Impairment:
        return self.links.get((src_host, dst_host), self.default)

    def bind(self, addr: Address) -> None:
        self._inboxes.setdefault(addr, [])

    def unbind(self, addr: Address) -> None:
        self._inboxes.pop(addr, None)

    def allocate(self, host: str) -> Address:
        """Bind a fresh port on `host` (numbered from 40000 per network: reproducible)."""
        addr = (host, next(self._ports))
        while addr in self._inboxes:
            addr = (host, next(self._ports))
        self.bind(addr)
        return addr

    def is_bound(self, addr: Address) -> bool:
        return addr in self._inboxes

    def partition(
        self,
        a: str,
        b: str,
        *,
        start: float = -_INF,
        end: float = _INF,
        one_way: bool = False,
    ) -> None:
        """Drop datagrams sent between hosts `a` and `b` at times in [start, end): both ways,
        or with `one_way` only from `a` to `b`."""
        for key in [(a, b)] if one_way else [(a, b), (b, a)]:
            self._partitions.setdefault(key, []).append((start, end))

    def heal(self, a: str, b: str) -> None:
        """End every partition between `a` and `b` (both directions)."""
        self._partitions.pop((a, b), None)
        self._partitions.pop((b, a), None)

    def partitioned(self, src: str, dst: str, now: float) -> bool:
        """Whether datagrams from host `src` to host `dst` are cut at `now`."""
        spans = self._partitions.get((src, dst))
        return spans is not None and any(s <= now < e for s, e in spans)

    def rebind(self, old: Address, new: Address) -> None:
        """Datagrams from `old` now appear to come from `new` (source rewritten only)."""
        self._rebind[old] = new
        self.bind(new)

    def source_change(self, old: Address, new: Address) -> None:
        """Datagrams from `old` now come from `new`; datagrams to `new` reach `old`'s socket."""
        self.rebind(old, new)
        self._nat_in[new] = old

    def nat_rebind(self, old: Address, new: Address) -> None:
        """`source_change`, and datagrams sent to `old` are dropped (the old mapping expired)."""
        self.source_change(old, new)
        self._nat_dead.add(old)

    # -- datagrams ------------------------------------------------------------------------------

    def send(self, data: bytes, src: Address, dst: Address, now: float) -> None:
        """A host's datagram: through NAT mappings and the tap, then the path."""
        if dst in self._nat_dead:
            self.nat_dropped += 1
            self.drops[Drop.NAT] += 1
            return
        dst = self._nat_in.get(dst, dst)
        if self.tap is not None:
            self.tap.append((data, src, dst))
        self._transmit(data, src, dst, now)

    def inject(self, data: bytes, src: Address, dst: Address, now: float) -> None:
        """A datagram from anywhere (`src` need not be bound): no NAT mapping, no tap."""
        self._transmit(data, src, dst, now)

    def _transmit(self, data: bytes, src: Address, dst: Address, now: float) -> None:
        self.sent += 1
        number = self.sent
        src_seen = self._rebind.get(src, src)
        key = (src[0], dst[0])
        imp = self.links.get(key, self.default)
        fate: list[float] | Drop
        if self._partitions and self.partitioned(src[0], dst[0], now):
            fate = Drop.PARTITION
        else:
            shaper = None
            if imp.bandwidth > 0:
                shaper = self._shapers.get(key)
                if shaper is None:
                    shaper = self._shapers[key] = _Shaper()
            fate = _fate(imp, self.rng, len(data), now, shaper)
        for obs in self.observers:
            obs.on_send(number, now, src_seen, dst, bytes(data), fate)
        if isinstance(fate, Drop):
            self.dropped += 1
            self.drops[fate] += 1
            return
        data = bytes(data)
        for t in fate:
            heapq.heappush(self._queue, (t, next(self._seq), number, src_seen, dst, data))

    def next_arrival(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def deliver_due(self, now: float) -> None:
        """Move every datagram due by `now` into its destination's inbox."""
        queue, inboxes = self._queue, self._inboxes
        while queue and queue[0][0] <= now:
            at, _, number, src, dst, data = heapq.heappop(queue)
            inbox = inboxes.get(dst)
            for obs in self.observers:
                obs.on_arrive(number, at, src, dst, data, inbox is not None)
            if inbox is None:
                self.dropped += 1
                self.drops[Drop.UNBOUND] += 1
                continue
            self.delivered += 1
            inbox.append((data, src))

    def recv_all(self, addr: Address) -> list[tuple[bytes, Address]]:
        """Drain what has arrived at `addr`: `(data, source)` pairs."""
        inbox = self._inboxes.get(addr)
        if not inbox:
            return []
        out = list(inbox)
        inbox.clear()
        return out

    # the loop's view (`webrtc.testing.loop.Actor`)

    def next_time(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def step(self, now: float) -> None:
        self.deliver_due(now)
