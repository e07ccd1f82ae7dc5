"""`VirtualClock`: simulated time for a whole simulation (seconds, from 0 by default)."""

from __future__ import annotations

__all__ = ["VirtualClock"]


class VirtualClock:
    """A clock that only moves when told to; pass it as `WebRTCPeerConnection(clock=...)`.

    Calling it returns `now`. Time never goes backwards: `advance_to` an earlier time is a no-op.
    """

    __slots__ = ("now",)

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance_to(self, t: float) -> None:
        """Move to `t` (if later than now)."""
        if t > self.now:
            self.now = t

    def advance(self, seconds: float) -> None:
        """Move forward by `seconds` (negative values are ignored)."""
        self.advance_to(self.now + seconds)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.now!r})"
