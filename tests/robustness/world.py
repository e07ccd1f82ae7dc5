"""The robustness tests' names over the public kit (`webrtc.testing.Simulation`).

`World` is the kit's `Simulation` (its `pair()` gives a `PeerPair` = tests.webrtc.helpers.Pair);
`NatNetwork` is the kit's `Network` (NAT rebinding, source changes, `inject` and `tap` are built
in).
"""

from __future__ import annotations

import math
import random

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


def binomial_upper(n: int, p: float, sigmas: float = 4.0) -> float:
    """Mean + `sigmas` standard deviations of Binomial(n, p)."""
    return n * p + sigmas * math.sqrt(max(n * p * (1 - p), 1.0))


def rng(seed: int) -> random.Random:
    return random.Random(seed)
