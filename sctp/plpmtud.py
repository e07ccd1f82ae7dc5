"""Datagram Packetization Layer PMTU Discovery for SCTP (RFC 8899 §4-§6.2, RFC 4820)."""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Any

from .chunks import CHUNK_HEADER, COMMON_HEADER_SIZE, ChunkType, HeartbeatChunk, ParamType
from .events import Event, PathMtuChanged
from .packet import PacketWriter
from .stats import AssociationStats
from .timers import Rto, Timers

# RFC 8899 §5.1.2 constants, §6.2 probes for SCTP
MAX_PROBES = 3
PMTU_RAISE_TIMER = 600.0
PROBE_TIMER_MIN = 1.0  # RFC 8899 §5.1.1: PROBE_TIMER MUST NOT be smaller than 1 second
PROBE_TIMER_MAX = 3.0  # cap of the RTO-based probe timer, so a search ends within seconds
# Probe sizes (whole SCTP packet, multiples of 4) tried upwards once MAX_PLPMTU failed (RFC 8899
# §5.3.2 table of common sizes): 1500-byte Ethernet minus IPv6/IPv4 + UDP + DTLS 1.2 AES-GCM
# (37 bytes) overhead, two steps, 9000-byte jumbo frames (IPv6), the largest DTLS record (2^14).
PROBE_SIZES = (1412, 1432, 2048, 4096, 8912, 16384)
_PROBE_INFO = struct.Struct("!8sI")  # HEARTBEAT info of a probe: nonce, probed size
_MAX_PROBE_RECORDS = 8


class PlpmtudState(Enum):
    """Datagram PLPMTUD states (RFC 8899 §5.2)."""

    DISABLED = "disabled"
    BASE = "base"
    SEARCHING = "searching"
    SEARCH_COMPLETE = "search_complete"
    ERROR = "error"


class Plpmtud:
    """The PLPMTUD state machine; inert while `max` is 0 (disabled, the default).

    The packet size in use is max(BASE_PLPMTU, the largest size a probe confirmed); `apply_mtu`
    installs it. Probes are a HEARTBEAT plus a PAD chunk, answered by HEARTBEAT ACK."""

    __slots__ = (
        "_apply_mtu",
        "_events",
        "_rng",
        "_rto",
        "_stats",
        "_timers",
        "_writer",
        "alive",
        "base",
        "check",
        "check_cum",
        "count",
        "high",
        "low",
        "max",
        "probed",
        "probes",
        "state",
    )

    def __init__(
        self,
        base: int,
        writer: PacketWriter,
        timers: Timers,
        rto: Rto,
        rng: Any,
        events: deque[Event],
        stats: AssociationStats,
        apply_mtu: Callable[[int], None],
    ) -> None:
        self._writer = writer
        self._timers = timers
        self._rto = rto
        self._rng = rng
        self._events = events
        self._stats = stats
        self._apply_mtu = apply_mtu
        self.base = base  # BASE_PLPMTU: the size of set_max_packet_size()
        self.max = 0  # MAX_PLPMTU: the largest packet the peer declared it accepts
        self.state = PlpmtudState.DISABLED
        self.count = 0  # PROBE_COUNT (RFC 8899 §5.1.3)
        self.probed = 0  # PROBED_SIZE
        self.high = 0  # smallest size that failed in this search (MAX_PLPMTU + 1: none)
        self.low = 0  # largest size confirmed by a probe (0: none, BASE_PLPMTU applies)
        self.probes: dict[bytes, int] = {}  # HEARTBEAT info of unanswered probes -> size
        self.check = False  # confirming the PLPMTU after a T3-rtx expiry (§4.3)
        self.alive = False  # the small HEARTBEAT of this check round was answered
        self.check_cum = -1  # cumulative TSN ack when the last check started

    def enable(self, max_packet_size: int, established: bool, now: float) -> None:
        """Probe up to `max_packet_size` (see Association.enable_plpmtud)."""
        if not 256 <= max_packet_size <= 65535:
            raise ValueError("max_packet_size out of range")
        old = self.max
        self.max = max_packet_size & ~3  # every chunk is padded to 4 bytes (RFC 9260 §3.2)
        lowered = self.low > self.max
        if lowered:
            self.low = 0
            self.apply()
        if not established:
            return
        if self.state is PlpmtudState.DISABLED:
            self.enter_base(now)
        elif (
            self.state is PlpmtudState.SEARCH_COMPLETE
            and (self.max > old or lowered)
            and not self.check
        ):
            self.high = self.max + 1  # a new MAX_PLPMTU: search again now
            self.search(now)

    def set_base(self, n: int) -> None:
        """A new BASE_PLPMTU (set_max_packet_size)."""
        self.base = n
        if self.max:
            self.apply()  # a size confirmed by PLPMTUD above `n` stays in use
        else:
            self._apply_mtu(n)

    def apply(self) -> None:
        """Use max(BASE_PLPMTU, confirmed PLPMTU) as the packet budget; report a change.

        The congestion window in bytes is left alone (RFC 8899 §3 item 7: a PLPMTU update
        MUST NOT increase it); only the MTU-based rules of RFC 9260 §7.2 use the new size."""
        size = max(self.base, self.low) if self.max else self.base
        if size != self._writer.mtu:
            self._apply_mtu(size)
            if self.max:
                self._events.append(PathMtuChanged(size))

    def stop(self) -> None:
        self._timers.pl = None
        self.probes.clear()
        self.check = False

    def _timer(self) -> float:
        # RFC 8899 §6.2.1.2: the heartbeat timer (RTO) serves as PROBE_TIMER, >= 1 s (§5.1.1)
        return min(max(self._rto.value, PROBE_TIMER_MIN), PROBE_TIMER_MAX)

    def send_probe(self, size: int) -> None:
        """A minimal HEARTBEAT plus a PAD chunk filling the packet to `size` bytes (RFC 8899
        §6.2, RFC 4820); `size` 0: a plain HEARTBEAT (no PAD) that only shows the peer is
        reachable. Never retransmitted, not counted in flight: probes are not limited by
        congestion or flow control (RFC 8899 §6.2, §3 items 4, 7, 8); one probe per
        PROBE_TIMER or per answer keeps them at least one RTT apart (§3 item 7)."""
        info = _PROBE_INFO.pack(self._rng.getrandbits(64).to_bytes(8, "big"), size)
        probes = self.probes
        if len(probes) >= _MAX_PROBE_RECORDS:
            del probes[next(iter(probes))]  # (late answers of older probes are still taken)
        probes[info] = size
        hb = HeartbeatChunk([(ParamType.HEARTBEAT_INFO, info)]).encode()
        if not size:
            self._writer.emit([hb])
            return
        pad = size - COMMON_HEADER_SIZE - len(hb)
        self._writer.emit([hb, CHUNK_HEADER.pack(ChunkType.PAD, 0, pad), bytes(pad - 4)])
        self._stats.plpmtud_probes_sent += 1

    def enter_base(self, now: float, high: int = 0) -> None:
        """RFC 8899 §5.2 BASE: confirm BASE_PLPMTU with a probe, then search upwards (below
        `high`, default: up to MAX_PLPMTU)."""
        self.high = high or self.max + 1
        self.state = PlpmtudState.BASE
        self.check = False
        self.count = 0
        self.probed = self.base & ~3
        self.send_probe(self.probed)
        self._timers.pl = now + self._timer()

    def search(self, now: float) -> None:
        """Probe the next size (RFC 8899 §5.3), or enter SEARCH_COMPLETE.

        MAX_PLPMTU is tried first (a loopback path takes it at once); once it failed, the
        sizes of PROBE_SIZES between the PLPMTU and the smallest failed size, upwards (§5.3.1,
        §5.3.2). A size fails after MAX_PROBES unanswered probes."""
        low = max(self.low, self.base)
        size = 0
        if self.high > self.max:
            if self.max > low:
                size = self.max
        else:
            for s in PROBE_SIZES:
                if low < s < self.high:
                    size = s
                    break
        self.count = 0
        if not size:
            self.state = PlpmtudState.SEARCH_COMPLETE
            self._timers.pl = now + PMTU_RAISE_TIMER
            return
        self.state = PlpmtudState.SEARCHING
        self.probed = size
        self.send_probe(size)
        self._timers.pl = now + self._timer()

    def on_heartbeat_ack(self, info: bytes, now: float, established: bool) -> bool:
        """A HEARTBEAT ACK's info: True if it answered one of our probes."""
        size = self.probes.pop(info, None)
        if size is None:
            return False
        self.on_ack(size, now, established)
        return True

    def on_ack(self, size: int, now: float, established: bool) -> None:
        """A probe of `size` bytes reached the peer (RFC 8899 §4.1, §5.2)."""
        if not size:
            self.alive = True  # the plain HEARTBEAT of a check round
            return
        self._stats.plpmtud_probes_acked += 1
        if not self.max or not established:
            return
        state = self.state
        if self.check:
            if size >= self._writer.mtu:
                # the PLPMTU still works: the T3-rtx expiry was congestion or an outage
                self.check = False
                if state is PlpmtudState.SEARCHING:
                    self.search(now)
                else:
                    self._timers.pl = now + PMTU_RAISE_TIMER
            return
        if state is PlpmtudState.BASE or state is PlpmtudState.ERROR:
            if size == self.probed:
                self.search(now)
            return
        if max(self.low, self.base) < size < self.high:
            # PLPMTU = PROBED_SIZE (also from a late answer to an earlier probe, §3)
            self.low = size
            self.apply()
            if state is PlpmtudState.SEARCHING and size >= self.probed:
                self.search(now)

    def on_timer(self, now: float, established: bool) -> None:
        """PROBE_TIMER or PMTU_RAISE_TIMER expiry (RFC 8899 §5.1.1, §5.2)."""
        self._timers.pl = None
        if not established:
            return
        state = self.state
        if self.check:
            if self.alive:
                # the peer answers a small HEARTBEAT but not the PLPMTU-sized probe; a lost
                # probe while the path is silent altogether is an outage, not a black hole
                self.count += 1
            self.alive = False
            if self.count >= MAX_PROBES:
                self.black_hole(now)
            else:
                self._check_round(now)
            return
        if state is PlpmtudState.SEARCH_COMPLETE:
            self.high = self.max + 1  # PMTU_RAISE_TIMER: search again, up to MAX_PLPMTU
            self.search(now)
            return
        if state is PlpmtudState.ERROR:
            self.enter_base(now)
            return
        self.count += 1  # PROBE_TIMER in BASE or SEARCHING
        if self.count < MAX_PROBES:
            self.send_probe(self.probed)
            self._timers.pl = now + self._timer()
        elif state is PlpmtudState.BASE:
            # BASE_PLPMTU unconfirmed: keep it (nothing smaller is known) and retry later
            self.state = PlpmtudState.ERROR
            self._timers.pl = now + PMTU_RAISE_TIMER
        else:
            self.high = self.probed  # PROBED_SIZE failed (§5.3.1)
            self.search(now)

    def on_t3(self, now: float, cum_acked: int) -> None:
        """A T3-rtx expired: while packets above BASE_PLPMTU are in use, confirm the PLPMTU
        with probes (black hole detection, RFC 8899 §4.3), once per stall."""
        if (
            self.max
            and self._writer.mtu > self.base
            and not self.check
            and self.check_cum != cum_acked
        ):
            self.check_cum = cum_acked
            self.check = True
            self.count = 0
            self.alive = False
            self._check_round(now)

    def _check_round(self, now: float) -> None:
        self.send_probe(self._writer.mtu & ~3)
        self.send_probe(0)  # (a small HEARTBEAT, not a probe: RFC 9260 §8.3)
        self._timers.pl = now + self._timer()

    def black_hole(self, now: float) -> None:
        """RFC 8899 §4.3/§5.2: the path no longer carries the PLPMTU: back to BASE_PLPMTU.

        DATA chunks already built for the larger size keep their TSNs and are retransmitted
        as they are (RFC 9260 §7.3: no re-fragmentation), so a chunk larger than what the path
        now carries cannot get through; chunks merely bundled together are re-packed at the
        new size. BASE is confirmed with a probe and the search resumes at once below the size
        that failed; sizes from it upwards wait for PMTU_RAISE_TIMER."""
        self._stats.plpmtud_black_holes += 1
        self.check = False
        failed = self._writer.mtu
        self.low = 0
        self.apply()
        self.enter_base(now, failed)
