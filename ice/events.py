"""ICE agent states and events (RFC 8445 §6.1.3, W3C RTCIceTransportState / RTCIceGathererState)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sdp


class IceState(enum.Enum):
    """ICE transport state, with the W3C meanings of the RFC 8445 check-list states."""

    NEW = "new"
    CHECKING = "checking"
    CONNECTED = "connected"
    COMPLETED = "completed"
    DISCONNECTED = "disconnected"
    FAILED = "failed"
    CLOSED = "closed"


class GatheringState(enum.Enum):
    """Candidate gathering state (W3C RTCIceGathererState)."""

    NEW = "new"
    GATHERING = "gathering"
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class CandidateGathered:
    """A local candidate to signal to the peer (RFC 8838 trickle)."""

    candidate: sdp.Candidate


@dataclass(frozen=True, slots=True)
class GatheringComplete:
    """All local candidates have been gathered (signal end-of-candidates, RFC 8838 §13)."""


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The agent's `IceState` changed."""

    state: IceState


@dataclass(frozen=True, slots=True)
class SelectedPairChanged:
    """A (new) candidate pair carries application data."""

    local: sdp.Candidate
    remote: sdp.Candidate


Event = CandidateGathered | GatheringComplete | StateChanged | SelectedPairChanged
