"""Heartbeats on an idle path (RFC 9260 §8.3)."""

from __future__ import annotations

import hmac
import struct
from collections.abc import Callable
from typing import Any

from .chunks import HeartbeatChunk, Param, ParamType
from .packet import PacketWriter
from .timers import PathErrors, Rto, Timers

HB_INTERVAL = 30.0  # RFC 9260 §16 HB.interval
_HB_INFO = struct.Struct("!d")  # send time, then an 8-byte nonce


class Heartbeat:
    """One HEARTBEAT in flight at a time; `pending` is its info until the ACK echoes it."""

    __slots__ = ("_errors", "_rng", "_rto", "_timers", "_writer", "pending")

    def __init__(
        self, rng: Any, timers: Timers, rto: Rto, errors: PathErrors, writer: PacketWriter
    ) -> None:
        self._rng = rng
        self._timers = timers
        self._rto = rto
        self._errors = errors
        self._writer = writer
        self.pending: bytes | None = None

    def arm(self, now: float) -> None:
        # RFC 9260 §8.3: HB.interval plus RTO with jitter of +-50% of the RTO
        self._timers.hb = now + HB_INTERVAL + self._rto.value * (0.5 + self._rng.random())

    def expire(
        self, now: float, outstanding: Callable[[], bool], path_error: Callable[[float], bool]
    ) -> None:
        """The heartbeat timer expired: an unanswered HEARTBEAT counts as a path error
        (`path_error` True: the association ended); probe again unless DATA is in flight."""
        rto = self._rto
        if self.pending is not None:
            if path_error(now):
                return
            rto.value = rto.backoff(rto.value)  # back off like T3-rtx (§6.3.3)
        if outstanding():
            self.pending = None  # data in flight: T3-rtx watches the path
        else:
            nonce = self._rng.getrandbits(64).to_bytes(8, "big")
            self.pending = _HB_INFO.pack(now) + nonce
            info: list[Param] = [(ParamType.HEARTBEAT_INFO, self.pending)]
            self._writer.ctrl.append(HeartbeatChunk(info).encode())
        self.arm(now)
        if self.pending is not None:
            # an unanswered probe is retried after one RTO rather than a whole interval
            self._timers.hb = now + rto.value

    def on_ack(self, params: list[Param], now: float) -> None:
        """HEARTBEAT ACK: the path works; its echoed send time is an RTT sample (§8.3)."""
        pending = self.pending
        if pending is None:
            return
        for ptype, value in params:
            if ptype == ParamType.HEARTBEAT_INFO and hmac.compare_digest(value, pending):
                self.pending = None
                self._errors.count = 0
                self._rto.sample(now - _HB_INFO.unpack_from(value)[0])
                self.arm(now)
                return
