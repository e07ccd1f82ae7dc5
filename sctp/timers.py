"""Retransmission timeout estimation, path error counting and the association's timer set
(RFC 9260 §6.3, §8.1-§8.3)."""

from __future__ import annotations

# RFC 9260 §16 protocol parameters
RTO_ALPHA = 0.125
RTO_BETA = 0.25
ASSOCIATION_MAX_RETRANS = 10


class Rto:
    """RTO estimation (RFC 9260 §6.3.1) and timer back-off (§6.3.3).

    `value` is the current RTO (backed off by expiries), `base` the RTO computed from the last
    measurement (what a successful transfer returns to)."""

    __slots__ = ("base", "max", "max_backoff", "min", "rttvar", "srtt", "value")

    def __init__(
        self, initial: float, minimum: float, maximum: float, max_backoff: float | None
    ) -> None:
        self.min = minimum
        self.max = maximum
        self.max_backoff = max_backoff  # cap on a backed-off timer; None = RTO.Max
        self.value = initial
        self.base = initial
        self.srtt: float | None = None
        self.rttvar = 0.0

    def sample(self, r: float) -> None:
        """Take a round-trip measurement of `r` seconds (RFC 9260 §6.3.1 C1-C3)."""
        if r < 0:
            return
        srtt = self.srtt
        if srtt is None:
            srtt = r  # C1
            rttvar = r / 2
        else:
            rttvar = (1 - RTO_BETA) * self.rttvar + RTO_BETA * abs(srtt - r)  # C2
            srtt = (1 - RTO_ALPHA) * srtt + RTO_ALPHA * r
        self.srtt = srtt
        self.rttvar = rttvar
        rto = srtt + 4 * rttvar
        # C6/C7: min(max(rto, RTO.Min), RTO.Max) without the two builtin calls
        lo = self.min
        if rto < lo:
            rto = lo
        hi = self.max
        if rto > hi:
            rto = hi
        self.value = self.base = rto

    def backoff(self, t: float) -> float:
        """Double a timer value (RFC 9260 §6.3.3 E2), capped by RTO.Max and `max_backoff`."""
        limit = self.max if self.max_backoff is None else min(self.max, self.max_backoff)
        return max(t, min(t * 2, limit))


class PathErrors:
    """Consecutive unanswered retransmissions and heartbeats (RFC 9260 §8.1, §8.2).

    With `failure_timeout` the peer counts as unreachable once an error streak is that many
    seconds old, instead of after Association.Max.Retrans errors."""

    __slots__ = ("count", "failure_timeout", "since")

    def __init__(self, failure_timeout: float | None) -> None:
        self.failure_timeout = failure_timeout
        self.count = 0
        self.since = 0.0  # first timer expiry of the current streak

    def record(self, now: float) -> bool:
        """Count one error; True once the peer counts as unreachable."""
        self.count += 1
        if self.count == 1:
            self.since = now
        if self.failure_timeout is None:
            return self.count > ASSOCIATION_MAX_RETRANS
        return now - self.since >= self.failure_timeout


class Timers:
    """Every timer of an association: the time it expires, or None when stopped.

    t1: INIT / COOKIE ECHO (RFC 9260 §5.1), t2: SHUTDOWN (§9.2), t3: T3-rtx (§6.3), sack:
    delayed SACK (§6.2), reconfig: RE-CONFIG request (RFC 6525 §5.1.1), hb: HEARTBEAT (§8.3),
    pl: PLPMTUD PROBE_TIMER / PMTU_RAISE_TIMER (RFC 8899 §5.1.1). A new timer is a slot here,
    a line in `next_timeout` and an entry in the association's expiry table."""

    __slots__ = ("hb", "pl", "reconfig", "sack", "t1", "t2", "t3")

    def __init__(self) -> None:
        self.t1: float | None = None
        self.t2: float | None = None
        self.t3: float | None = None
        self.sack: float | None = None
        self.reconfig: float | None = None
        self.hb: float | None = None
        self.pl: float | None = None

    def next_timeout(self) -> float | None:
        """The earliest expiry, or None."""
        # unrolled: most timers are stopped at any time
        best = self.t3
        t = self.hb
        if t is not None and (best is None or t < best):
            best = t
        t = self.sack
        if t is not None and (best is None or t < best):
            best = t
        t = self.pl
        if t is not None and (best is None or t < best):
            best = t
        t = self.t1
        if t is not None and (best is None or t < best):
            best = t
        t = self.reconfig
        if t is not None and (best is None or t < best):
            best = t
        t = self.t2
        if t is not None and (best is None or t < best):
            best = t
        return best

    def stop_all(self) -> None:
        self.t1 = self.t2 = self.t3 = self.sack = self.reconfig = self.hb = self.pl = None
