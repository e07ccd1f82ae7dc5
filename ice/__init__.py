"""ICE for WebRTC: STUN codec, TURN client and a sans-I/O RFC 8445 agent (with RFC 8838 trickle
and RFC 7675 consent freshness)."""

from . import stun, turn
from .agent import Agent, TurnServer
from .candidates import (
    candidate_priority,
    compute_foundation,
    local_interface_addresses,
    local_preference,
    pair_priority,
)
from .checklist import CandidatePair, LocalCandidate, PairState
from .events import (
    CandidateGathered,
    Event,
    GatheringComplete,
    GatheringState,
    IceState,
    SelectedPairChanged,
    StateChanged,
)
from .stun import StunError
from .turn import TurnClient

__all__ = [
    "Agent",
    "CandidateGathered",
    "CandidatePair",
    "Event",
    "GatheringComplete",
    "GatheringState",
    "IceState",
    "LocalCandidate",
    "PairState",
    "SelectedPairChanged",
    "StateChanged",
    "StunError",
    "TurnClient",
    "TurnServer",
    "candidate_priority",
    "compute_foundation",
    "local_interface_addresses",
    "local_preference",
    "pair_priority",
    "stun",
    "turn",
]
