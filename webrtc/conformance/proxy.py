"""An impairment proxy on the real wire: a UDP relay between two peers (loopback/namespace only).

Kernel netem is not available on every machine (not on ours), so impairments are applied by a
user-space relay instead. Side A (our tester) sends to `address_for_a` (the proxy's stand-in for
B); side B (the peer under test) sends to `address_for_b` (the stand-in for A). Each datagram is
given a fate by `webrtc.testing`'s impairment model (`Impairment`: loss, duplication,
reordering, delay, jitter, MTU), drawn from one seeded `random.Random` per direction in arrival
order, so a seed reproduces the same fates for the same sequence of datagrams. On top:
partitions for a time span, scripted drops (`drop_matching`), diverting a datagram through a
fresh socket (an address the receiver never validated) and injecting datagrams.

A side's real address is the one given by `set_target` (from its signalled candidate) or, until
then, the source of the first datagram it sends. The relay runs in its own thread (a select
loop), keeps at most `max_queue` datagrams in flight and `record_limit` records, and stops by
itself `lifetime` seconds after `start()`.
"""

from __future__ import annotations

import heapq
import itertools
import random
import selectors
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum

from ..testing.network import Drop, Impairment
from ..testing.network import _fate as impairment_fate

__all__ = ["Direction", "ImpairmentProxy", "ProxyRecord", "Rule"]

Address = tuple[str, int]
MAX_DATAGRAM = 65535
MAX_FRESH_SOCKETS = 16
SOCKET_BUFFER = 1 << 20  # bytes asked for each socket's kernel buffers
SELECT_SLICE = 0.02  # the loop wakes at least this often (stop flag, lifetime)


class Direction(Enum):
    """Which way a datagram travels through the proxy."""

    A_TO_B = "a->b"
    B_TO_A = "b->a"
    TO_FRESH = "b->fresh"  # B answering a datagram that came from a diverted (fresh) socket


@dataclass(frozen=True)
class ProxyRecord:
    """One datagram the proxy received, and what it did with it."""

    number: int
    time: float  # seconds since start()
    direction: Direction
    src: Address
    dst: Address | None  # where it was forwarded (None: dropped before a target was known)
    data: bytes
    fate: str  # "forwarded", "duplicated", "diverted", "injected" or "dropped:<reason>"
    arrivals: tuple[float, ...] = ()


@dataclass
class Rule:
    """A scripted action on the next matching datagrams of one direction."""

    direction: Direction
    match: Callable[[bytes], bool]
    action: str  # "drop" or "divert"
    skip: int = 0  # matching datagrams let through first
    count: int = 1  # how many to act on (then the rule is spent)
    hits: int = field(default=0)

    @property
    def spent(self) -> bool:
        return self.hits >= self.count


class ImpairmentProxy:
    """A seeded, impairing UDP relay between side A and side B (see the module docstring)."""

    def __init__(
        self,
        host_a: str = "127.0.0.1",
        host_b: str = "127.0.0.1",
        *,
        seed: int = 0,
        a_to_b: Impairment | None = None,
        b_to_a: Impairment | None = None,
        lifetime: float = 300.0,
        max_queue: int = 4096,
        record_limit: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._impairment = {
            Direction.A_TO_B: a_to_b or Impairment(delay=0.0),
            Direction.B_TO_A: b_to_a or Impairment(delay=0.0),
        }
        self._rng = {
            Direction.A_TO_B: random.Random(seed * 2 + 1),
            Direction.B_TO_A: random.Random(seed * 2 + 2),
        }
        self._sock_a = self._bind(host_a)  # A talks to this one
        self._sock_b = self._bind(host_b)  # B talks to this one
        self.address_for_a: Address = self._sock_a.getsockname()[:2]
        self.address_for_b: Address = self._sock_b.getsockname()[:2]
        self._host_b = host_b
        self._target: dict[Direction, Address | None] = {
            Direction.A_TO_B: None,
            Direction.B_TO_A: None,
        }
        self._fixed: set[Direction] = set()
        self._partitions: list[tuple[float, float, Direction | None]] = []
        self._rules: list[Rule] = []
        self._fresh: list[socket.socket] = []
        self._queue: list[tuple[float, int, socket.socket, Address, bytes]] = []
        self._seq = itertools.count()
        self.max_queue = max_queue
        self.record_limit = record_limit
        self.records: list[ProxyRecord] = []
        self.truncated = False
        self.stats: Counter[str] = Counter()
        self.lifetime = lifetime
        self._t0 = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._sock_a, selectors.EVENT_READ, Direction.A_TO_B)
        self._selector.register(self._sock_b, selectors.EVENT_READ, Direction.B_TO_A)

    @staticmethod
    def _bind(host: str) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.setblocking(False)
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):  # bursts while the relay sleeps
            s.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER)
        s.bind((host, 0))
        return s

    # -- configuration (any thread) ------------------------------------------------------------

    def set_target(self, side: str, address: Address) -> None:
        """The real address of side "a" or "b" (from its signalled candidate); fixed from now."""
        d = Direction.B_TO_A if side == "a" else Direction.A_TO_B
        with self._lock:
            self._target[d] = (address[0], int(address[1]))
            self._fixed.add(d)

    def target(self, side: str) -> Address | None:
        d = Direction.B_TO_A if side == "a" else Direction.A_TO_B
        with self._lock:
            return self._target[d]

    def set_impairment(self, direction: Direction, impairment: Impairment) -> None:
        with self._lock:
            self._impairment[direction] = impairment

    def impairment(self, direction: Direction) -> Impairment:
        with self._lock:
            return replace(self._impairment[direction])

    def partition(self, duration: float, direction: Direction | None = None) -> None:
        """Drop everything (or one direction) from now for `duration` seconds."""
        now = self.now()
        with self._lock:
            self._partitions.append((now, now + duration, direction))

    def heal(self) -> None:
        with self._lock:
            self._partitions.clear()

    def drop_matching(
        self, direction: Direction, match: Callable[[bytes], bool], *, skip: int = 0, count: int = 1
    ) -> Rule:
        """Drop the next `count` datagrams that satisfy `match` (after letting `skip` through)."""
        rule = Rule(direction, match, "drop", skip, count)
        with self._lock:
            self._rules.append(rule)
        return rule

    def divert_matching(
        self, direction: Direction, match: Callable[[bytes], bool], *, count: int = 1
    ) -> Rule:
        """Forward the next matching A->B datagrams from a fresh socket (an unvalidated source);
        what B sends back to that socket is recorded as `Direction.TO_FRESH` and not relayed."""
        rule = Rule(direction, match, "divert", 0, count)
        with self._lock:
            self._rules.append(rule)
        return rule

    def decoy(self) -> Address:
        """A fresh socket on B's side that relays nothing: what B sends to it is recorded as
        `Direction.TO_FRESH` (a candidate that gives B more pairs to check)."""
        with self._lock:
            return self._fresh_socket().getsockname()[:2]  # type: ignore[no-any-return]

    def inject(self, direction: Direction, data: bytes, *, fresh: bool = False) -> bool:
        """Send `data` to the side `direction` points at (from a fresh socket if asked)."""
        with self._lock:
            dst = self._target[direction]
            if dst is None:
                return False
            sock = self._fresh_socket() if fresh else self._out_socket(direction)
            self._record(direction, ("proxy", 0), dst, data, "injected", ())
        try:
            sock.sendto(data, dst)
        except OSError:
            self.stats["send_errors"] += 1
            return False
        return True

    # -- running ---------------------------------------------------------------------------------

    def now(self) -> float:
        return self._clock() - self._t0

    def start(self) -> ImpairmentProxy:
        self._t0 = self._clock()
        self._thread = threading.Thread(target=self._run, name="impairment-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        self._close()

    def __enter__(self) -> ImpairmentProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self._stop.is_set() and self.now() < self.lifetime:
                self.step(SELECT_SLICE)
        finally:
            self._stop.set()

    def step(self, timeout: float) -> None:
        """Wait up to `timeout` for datagrams, relay them, send whatever is due."""
        with self._lock:
            due = self._queue[0][0] - self.now() if self._queue else timeout
        wait = max(0.0, min(timeout, due))
        try:
            events = self._selector.select(wait)
        except (OSError, ValueError):
            return
        for key, _ in events:
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            for _ in range(64):
                try:
                    data, src = sock.recvfrom(MAX_DATAGRAM)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    self.stats["receive_errors"] += 1
                    break
                self._on_datagram(key.data, bytes(data), src[:2])
        self._send_due()

    def _close(self) -> None:
        with self._lock:
            socks = [self._sock_a, self._sock_b, *self._fresh]
            self._fresh = []
            self._queue.clear()
        for s in socks:
            try:
                self._selector.unregister(s)
            except (KeyError, ValueError, OSError):
                pass
            s.close()
        try:
            self._selector.close()
        except OSError:
            pass

    # -- the relay ------------------------------------------------------------------------------

    def _out_socket(self, direction: Direction) -> socket.socket:
        return self._sock_b if direction is Direction.A_TO_B else self._sock_a

    def _fresh_socket(self) -> socket.socket:
        if len(self._fresh) >= MAX_FRESH_SOCKETS:
            return self._fresh[-1]
        s = self._bind(self._host_b)
        self._fresh.append(s)
        self._selector.register(s, selectors.EVENT_READ, Direction.TO_FRESH)
        return s

    def _partitioned(self, direction: Direction, now: float) -> bool:
        return any(
            start <= now < end and (d is None or d is direction)
            for start, end, d in self._partitions
        )

    def _record(
        self,
        direction: Direction,
        src: Address,
        dst: Address | None,
        data: bytes,
        fate: str,
        arrivals: tuple[float, ...],
    ) -> None:
        self.stats[f"{direction.value} {fate}"] += 1
        if len(self.records) >= self.record_limit:
            self.truncated = True
            return
        n = len(self.records)
        self.records.append(ProxyRecord(n, self.now(), direction, src, dst, data, fate, arrivals))

    def _on_datagram(self, direction: Direction, data: bytes, src: Address) -> None:
        now = self.now()
        with self._lock:
            if direction is Direction.TO_FRESH:
                self._record(direction, src, None, data, "dropped:not-relayed", ())
                return
            if self._target[_reverse(direction)] is None:
                self._target[_reverse(direction)] = src  # the sender's address, latched
            dst = self._target[direction]
            if dst is None:
                self._record(direction, src, None, data, "dropped:no-target", ())
                return
            if self._partitioned(direction, now):
                self._record(direction, src, dst, data, "dropped:partition", ())
                return
            action = self._apply_rules(direction, data)
            if action == "drop":
                self._record(direction, src, dst, data, "dropped:rule", ())
                return
            fate = impairment_fate(
                self._impairment[direction], self._rng[direction], len(data), now, None
            )
            if isinstance(fate, Drop):
                self._record(direction, src, dst, data, f"dropped:{fate.value}", ())
                return
            if len(self._queue) + len(fate) > self.max_queue:
                self._record(direction, src, dst, data, "dropped:queue", ())
                return
            sock = self._fresh_socket() if action == "divert" else self._out_socket(direction)
            label = "diverted" if action == "divert" else "forwarded"
            if len(fate) > 1:
                label = "duplicated"
            self._record(direction, src, dst, data, label, tuple(fate))
            for at in fate:
                heapq.heappush(self._queue, (at, next(self._seq), sock, dst, data))

    def _apply_rules(self, direction: Direction, data: bytes) -> str | None:
        for rule in self._rules:
            if rule.direction is not direction or rule.spent:
                continue
            try:
                matched = rule.match(data)
            except Exception:  # a scenario's predicate must not stop the relay
                self.stats["rule_errors"] += 1
                continue
            if not matched:
                continue
            if rule.skip > 0:
                rule.skip -= 1
                continue
            rule.hits += 1
            return rule.action
        return None

    def _send_due(self) -> None:
        now = self.now()
        out: list[tuple[socket.socket, Address, bytes]] = []
        with self._lock:
            while self._queue and self._queue[0][0] <= now:
                _, _, sock, dst, data = heapq.heappop(self._queue)
                out.append((sock, dst, data))
        for sock, dst, data in out:
            try:
                sock.sendto(data, dst)
            except OSError:
                self.stats["send_errors"] += 1

    # -- reading ---------------------------------------------------------------------------------

    def snapshot(self) -> list[ProxyRecord]:
        with self._lock:
            return list(self.records)


def _reverse(direction: Direction) -> Direction:
    return Direction.B_TO_A if direction is Direction.A_TO_B else Direction.A_TO_B
