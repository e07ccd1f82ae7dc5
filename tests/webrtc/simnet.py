"""Re-exports of `webrtc.testing` under the names the full-stack tests use.

`NetsimTransport` is the kit's `SimTransport` (ports numbered per network from 40000);
`drive` polls peers on the kit's one virtual-time loop (see `webrtc/testing/loop.py`).
"""

from __future__ import annotations

import random

from webrtc import WebRTCPeerConnection
from webrtc.testing import Network, SimTransport, VirtualClock, drive, wire

NetsimTransport = SimTransport
Address = tuple[str, int]

__all__ = ["Address", "NetsimTransport", "drive", "make_peer", "wire"]


def make_peer(network: Network, clock: VirtualClock, host: str, seed: int) -> WebRTCPeerConnection:
    return WebRTCPeerConnection(
        transport_factory=lambda: SimTransport(network, [host], clock),
        clock=clock,
        rng=random.Random(seed),
    )
