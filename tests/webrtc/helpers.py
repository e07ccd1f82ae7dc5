"""Shared helpers for the full-stack tests: connect two peers, bulk transfers, drains."""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.webrtc.simnet import drive, make_peer, wire
from webrtc import Error, WebRTCDataChannel
from webrtc.testing import Impairment, Network, PeerPair, VirtualClock

Pair = PeerPair  # two signalled peers and the channels each received


class World:
    """One simulated network (seeded, optionally impaired) and virtual clock; pairs of peers."""

    def __init__(self, impairment: Impairment | None = None, seed: int = 0) -> None:
        self.net = Network(impairment, seed=seed)
        self.clock = VirtualClock()

    def pair(self, *, signal: bool = True) -> Pair:
        """Peers on 10.0.0.1 and 10.0.0.2 (rng seeds 11, 22), signalled to each other unless
        `signal` is False."""
        a = make_peer(self.net, self.clock, "10.0.0.1", 11)
        b = make_peer(self.net, self.clock, "10.0.0.2", 22)
        p = Pair(a, b)
        a.data_channel_received.connect(p.received_a.append)
        b.data_channel_received.connect(p.received_b.append)
        if signal:
            wire(a, b)
        return p

    def run(self, p: Pair, until: Callable[[], bool], max_time: float = 60.0) -> bool:
        return drive(self.net, self.clock, [p.a, p.b], until, max_time=max_time)


def payload(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def drain(ch: WebRTCDataChannel) -> list[tuple[bytes, bool]]:
    out = []
    while ch.get_available_packet_count():
        data = ch.get_packet()
        assert ch.get_packet_error() == Error.OK
        out.append((data, ch.was_string_packet()))
    return out


class Bulk:
    """Push `data` through `tx` in `chunk`-sized messages, collect it from `rx`."""

    def __init__(
        self,
        tx: WebRTCDataChannel,
        rx: WebRTCDataChannel,
        data: bytes,
        chunk: int = 16384,
        window: int = 1 << 20,
    ) -> None:
        self.tx, self.rx, self.data, self.chunk, self.window = tx, rx, data, chunk, window
        self.sent = 0
        self.parts: list[bytes] = []
        self.got = 0

    def step(self) -> bool:
        tx, data = self.tx, self.data
        while self.sent < len(data) and tx.get_buffered_amount() < self.window:
            n = min(self.chunk, len(data) - self.sent)
            err = tx.put_packet(data[self.sent : self.sent + n])
            if err == Error.ERR_BUSY:
                break
            assert err == Error.OK, err
            self.sent += n
        rx = self.rx
        while rx.get_available_packet_count():
            part = rx.get_packet()
            self.parts.append(part)
            self.got += len(part)
        return self.got >= len(data)

    def result(self) -> bytes:
        return b"".join(self.parts)


def all_of(*steps: Callable[[], bool]) -> Callable[[], bool]:
    def until() -> bool:
        done = True
        for s in steps:
            done = s() and done
        return done

    return until
