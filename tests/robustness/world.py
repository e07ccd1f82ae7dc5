"""The robustness tests' names over the public kit (`webrtc.testing.Simulation`).

`World` is a `Simulation` whose `pair()` returns tests.webrtc.helpers.Pair; `NatNetwork` is the
kit's `Network` (NAT rebinding, source changes, `inject` and `tap` are built in).
"""

from __future__ import annotations

import math
import random

from tests.webrtc.helpers import Pair
from webrtc import ConnectionState, WebRTCPeerConnection
from webrtc.testing import (
    Address,
    History,
    Impairment,
    Network,
    SimTransport,
    Simulation,
    Ticker,
    VirtualClock,
    bound_address,
    wire,
)

PC = WebRTCPeerConnection
CS = ConnectionState
NatNetwork = Network
WorldTransport = SimTransport

__all__ = [
    "CS",
    "PC",
    "Address",
    "History",
    "Impairment",
    "NatNetwork",
    "Ticker",
    "VirtualClock",
    "World",
    "WorldTransport",
    "binomial_upper",
    "bound_address",
    "rng",
]


class World(Simulation):
    """One simulated network + virtual clock holding any number of peer pairs."""

    def pair(  # type: ignore[override]
        self,
        host_a: str = "10.0.0.1",
        host_b: str = "10.0.0.2",
        seed: int = 1,
        *,
        large_records: bool = True,
    ) -> Pair:
        a = self.peer(host_a, seed * 2 + 1, large_records=large_records)
        p = Pair(a, self.peer(host_b, seed * 2 + 2, large_records=large_records))
        p.a.data_channel_received.connect(p.received_a.append)
        p.b.data_channel_received.connect(p.received_b.append)
        wire(p.a, p.b)
        return p


def binomial_upper(n: int, p: float, sigmas: float = 4.0) -> float:
    """Mean + `sigmas` standard deviations of Binomial(n, p)."""
    return n * p + sigmas * math.sqrt(max(n * p * (1 - p), 1.0))


def rng(seed: int) -> random.Random:
    return random.Random(seed)
