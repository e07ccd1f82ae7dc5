"""Helpers to run two sctp.Associations on the simulated network."""

from __future__ import annotations

import random
from collections.abc import Callable

import sctp
from tests.netsim import Impairment, Link, VirtualClock, run_pair


class Peer:
    """An association plus the events it produced."""

    def __init__(self, assoc: sctp.Association) -> None:
        self.assoc = assoc
        self.events: list[sctp.Event] = []
        self.messages: dict[int, list[bytes]] = {}
        self.opened: dict[int, sctp.ChannelOpened] = {}
        self.closed: list[int] = []
        self.established = False
        self.assoc_closed: sctp.AssociationClosed | None = None

    def drain(self) -> None:
        while (ev := self.assoc.next_event()) is not None:
            self.events.append(ev)
            if isinstance(ev, sctp.MessageReceived):
                self.messages.setdefault(ev.stream_id, []).append(ev.data)
            elif isinstance(ev, sctp.ChannelOpened):
                self.opened[ev.stream_id] = ev
            elif isinstance(ev, sctp.ChannelClosed):
                self.closed.append(ev.stream_id)
            elif isinstance(ev, sctp.AssociationEstablished):
                self.established = True
            elif isinstance(ev, sctp.AssociationClosed):
                self.assoc_closed = ev


def make_pair(seed: int = 1, **kwargs: object) -> tuple[Peer, Peer]:
    a = sctp.Association(is_client=True, rng=random.Random(seed), **kwargs)  # type: ignore[arg-type]
    b = sctp.Association(is_client=False, rng=random.Random(seed + 1000), **kwargs)  # type: ignore[arg-type]
    return Peer(a), Peer(b)


class CheckedLink(Link):
    """A Link that also checks every SCTP packet fits the 1200-byte budget."""

    def send(self, data: bytes, now: float) -> None:
        assert len(data) <= 1200, len(data)
        super().send(data, now)


def links(imp: Impairment | None = None, seed: int = 0) -> tuple[Link, Link]:
    imp = imp or Impairment()
    return CheckedLink(imp, seed=seed), CheckedLink(imp, seed=seed + 1)


def run(
    a: Peer,
    b: Peer,
    clock: VirtualClock,
    until: Callable[[], bool],
    *,
    link_ab: Link | None = None,
    link_ba: Link | None = None,
    max_time: float = 120.0,
    on_step: Callable[[float], None] | None = None,
) -> bool:
    def step(now: float) -> None:
        a.drain()
        b.drain()
        if on_step is not None:
            on_step(now)

    ok = run_pair(
        a.assoc,
        b.assoc,
        clock=clock,
        until=until,
        link_ab=link_ab or CheckedLink(),
        link_ba=link_ba or CheckedLink(),
        max_time=max_time,
        on_step=step,
    )
    a.drain()
    b.drain()
    return ok


def connect(
    a: Peer,
    b: Peer,
    clock: VirtualClock,
    *,
    link_ab: Link | None = None,
    link_ba: Link | None = None,
    both: bool = True,
) -> None:
    a.assoc.connect(clock.now)
    if both:
        b.assoc.connect(clock.now)
    assert run(
        a, b, clock, lambda: a.established and b.established, link_ab=link_ab, link_ba=link_ba
    )
