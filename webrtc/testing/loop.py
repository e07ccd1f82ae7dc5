"""The virtual-time loop: every simulation in the kit (and the project's tests) runs on it.

`run(clock, actors, until)` repeats: let every actor do what is due at `clock.now` (`step`),
stop if `until()` holds, else jump the clock to the earliest `next_time()` of any actor.

The deadline rule (one rule for every caller): the loop stops when `until()` holds or when
nothing is due up to `clock.now + max_time`. On the second, the clock is left *at the deadline*
(it never passes it, and it moves there even when nothing at all is scheduled), so
`run(..., until=lambda: False, max_time=s)` always lets exactly `s` virtual seconds pass and a
sequence of bounded runs adds up. Events due exactly at the deadline are processed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .clock import VirtualClock
from .network import Link

__all__ = ["Actor", "CallbackActor", "Endpoint", "PairActor", "Ticker", "run", "run_pair"]

MAX_STEPS = 5_000_000


class Actor(Protocol):
    """Anything the loop drives: it does its due work in `step` and says when it next has any."""

    def step(self, now: float) -> None: ...

    def next_time(self) -> float | None: ...


def run(
    clock: VirtualClock,
    actors: Iterable[Actor],
    until: Callable[[], bool],
    *,
    max_time: float = 60.0,
    max_steps: int = MAX_STEPS,
) -> bool:
    """Drive `actors` on `clock` until `until()` (True) or the deadline (`until()` then)."""
    actors = list(actors)
    deadline = clock.now + max_time
    for _ in range(max_steps):
        now = clock.now
        for actor in actors:
            actor.step(now)
        if until():
            return True
        nxt: float | None = None
        for actor in actors:
            t = actor.next_time()
            if t is not None and (nxt is None or t < nxt):
                nxt = t
        if nxt is None or nxt > deadline:
            clock.advance_to(deadline)
            return until()
        clock.advance_to(nxt)
    return until()


class CallbackActor:
    """An actor made of two functions: `step(now)` and `next_time()`."""

    def __init__(
        self, step: Callable[[float], None], next_time: Callable[[], float | None]
    ) -> None:
        self.step = step
        self.next_time = next_time


class Ticker:
    """Calls `fn(now)` every `period` virtual seconds from `start` (an `Actor`)."""

    def __init__(self, period: float, fn: Callable[[float], None], start: float) -> None:
        self.period, self.fn, self.next, self.active = period, fn, start, True

    def fire(self, now: float) -> None:
        if self.active and now >= self.next:
            self.fn(now)
            self.next = max(self.next + self.period, now)

    step = fire

    def next_time(self) -> float | None:
        return self.next if self.active else None

    def stop(self) -> None:
        self.active = False


class Endpoint(Protocol):
    """A sans-I/O endpoint with the common verbs (dtls.Connection, sctp.Association...)."""

    def receive(self, data: bytes, now: float) -> Any: ...
    def datagrams_to_send(self) -> list[bytes]: ...
    def next_timeout(self) -> float | None: ...
    def handle_timeout(self, now: float) -> Any: ...


class PairActor:
    """Two endpoints joined by two `Link`s: delivers, fires timers, sends (an `Actor`)."""

    def __init__(
        self,
        a: Endpoint,
        b: Endpoint,
        link_ab: Link | None = None,
        link_ba: Link | None = None,
        on_step: Callable[[float], None] | None = None,
    ) -> None:
        self.a, self.b = a, b
        self.ab = link_ab or Link()
        self.ba = link_ba or Link()
        self.on_step = on_step

    def _flush(self, now: float) -> None:
        for d in self.a.datagrams_to_send():
            self.ab.send(d, now)
        for d in self.b.datagrams_to_send():
            self.ba.send(d, now)

    def step(self, now: float) -> None:
        a, b = self.a, self.b
        for d in self.ab.pop_due(now):
            b.receive(d, now)
        for d in self.ba.pop_due(now):
            a.receive(d, now)
        ta = a.next_timeout()
        if ta is not None and ta <= now:
            a.handle_timeout(now)
        tb = b.next_timeout()
        if tb is not None and tb <= now:
            b.handle_timeout(now)
        self._flush(now)
        if self.on_step is not None:
            self.on_step(now)
            self._flush(now)

    def next_time(self) -> float | None:
        times = [
            t
            for t in (
                self.a.next_timeout(),
                self.b.next_timeout(),
                self.ab.next_arrival(),
                self.ba.next_arrival(),
            )
            if t is not None
        ]
        return min(times) if times else None


def run_pair(
    a: Endpoint,
    b: Endpoint,
    *,
    clock: VirtualClock,
    until: Callable[[], bool],
    link_ab: Link | None = None,
    link_ba: Link | None = None,
    max_time: float = 120.0,
    max_steps: int = MAX_STEPS,
    on_step: Callable[[float], None] | None = None,
) -> bool:
    """Drive two sans-I/O endpoints over two links until `until()` or `max_time` (see `run`).

    `on_step(now)` runs after every step (drain events there, push application data...); what
    the endpoints send in it goes out at once.
    """
    actor = PairActor(a, b, link_ab, link_ba, on_step)
    return run(clock, [actor], until, max_time=max_time, max_steps=max_steps)
