"""A testing kit for code built on this stack: simulated network, virtual clock, hostile peers.

Everything runs on virtual time and is reproducible from seeds; no sockets, no pytest needed.

* `VirtualClock`, `Network` (per-direction `Impairment`: loss, duplication, reordering, delay,
  jitter, MTU, bandwidth with a bounded queue; partitions for a time span; NAT rebinding and
  address changes), `Link` + `run_pair` for sans-I/O endpoints.
* `Simulation`: real `WebRTCPeerConnection`s on a `Network`; `connect()` gives an open pair in
  one call, `run(until)` / `loop(frame, every=...)` drive it.
* `webrtc.testing.hostile`: scripted attackers (replayed/tampered DTLS, forged STUN, stray SCTP
  INITs and wrong verification tags, a peer that never acknowledges, floods).
* `ScriptedMultiplayerPeer`: a `MultiplayerPeer` whose received packets the test queues and
  whose sends it reads, for `webrtc.scene.SceneMultiplayer` code without a network.
* `Recorder`: every datagram with virtual times and decoded layers, saved as JSON lines or pcap.
* `webrtc.testing.properties`: round-trip property helpers (needs hypothesis; not imported here).

The virtual-time rules are in `webrtc.testing.loop`; a guide with examples is docs/TESTING.md.
"""

from .clock import VirtualClock
from .loop import Actor, CallbackActor, Endpoint, PairActor, Ticker, run, run_pair
from .multiplayer import ScriptedMultiplayerPeer
from .network import Address, Drop, Impairment, Link, Network, NetworkObserver
from .peers import (
    Connected,
    History,
    PeerPair,
    PeersActor,
    SimTransport,
    Simulation,
    SimulationTimeout,
    StunServer,
    bound_address,
    drive,
    wire,
)
from .recorder import Datagram, Recorder, pcap_bytes

__all__ = [
    "Actor",
    "Address",
    "CallbackActor",
    "Connected",
    "Datagram",
    "Drop",
    "Endpoint",
    "History",
    "Impairment",
    "Link",
    "Network",
    "NetworkObserver",
    "PairActor",
    "PeerPair",
    "PeersActor",
    "Recorder",
    "ScriptedMultiplayerPeer",
    "SimTransport",
    "Simulation",
    "SimulationTimeout",
    "StunServer",
    "Ticker",
    "VirtualClock",
    "bound_address",
    "drive",
    "pcap_bytes",
    "run",
    "run_pair",
    "wire",
]
