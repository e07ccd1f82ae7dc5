"""Shared helpers for the full-stack tests: connect two peers, bulk transfers, drains."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from webrtc import Error, WebRTCDataChannel, WebRTCPeerConnection


@dataclass
class Pair:
    a: WebRTCPeerConnection
    b: WebRTCPeerConnection
    received_a: list[WebRTCDataChannel] = field(default_factory=list)  # data_channel_received on a
    received_b: list[WebRTCDataChannel] = field(default_factory=list)

    def remote(self, label: str, on_b: bool = True) -> WebRTCDataChannel | None:
        for ch in self.received_b if on_b else self.received_a:
            if ch.get_label() == label:
                return ch
        return None


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
