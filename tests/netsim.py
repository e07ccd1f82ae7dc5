"""The project's tests run on the public kit: this module re-exports `webrtc.testing`'s network.

`Link` + `run_pair` for sans-I/O endpoints, `Network` for address-aware simulations; the one
virtual-time loop and its deadline rule live in `webrtc/testing/loop.py`.
"""

from webrtc.testing import (
    Address,
    Drop,
    Endpoint,
    Impairment,
    Link,
    Network,
    VirtualClock,
    run,
    run_pair,
)

__all__ = [
    "Address",
    "Drop",
    "Endpoint",
    "Impairment",
    "Link",
    "Network",
    "VirtualClock",
    "run",
    "run_pair",
]
