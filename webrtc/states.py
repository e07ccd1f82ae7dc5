"""The three Godot state enums, the layer phases they are derived from, and the derivations.

Each Godot enum is computed by exactly one function from the layers' states (ARCHITECTURE rule 5);
the signaling state machine is one transition table (RFC 8829 §4.1.8.1 / W3C webrtc-pc §4.3.1).
"""

from __future__ import annotations

from enum import Enum, IntEnum


class ConnectionState(IntEnum):
    STATE_NEW = 0
    STATE_CONNECTING = 1
    STATE_CONNECTED = 2
    STATE_DISCONNECTED = 3
    STATE_FAILED = 4
    STATE_CLOSED = 5


class GatheringState(IntEnum):
    GATHERING_STATE_NEW = 0
    GATHERING_STATE_GATHERING = 1
    GATHERING_STATE_COMPLETE = 2


class SignalingState(IntEnum):
    SIGNALING_STATE_STABLE = 0
    SIGNALING_STATE_HAVE_LOCAL_OFFER = 1
    SIGNALING_STATE_HAVE_REMOTE_OFFER = 2
    SIGNALING_STATE_HAVE_LOCAL_PRANSWER = 3
    SIGNALING_STATE_HAVE_REMOTE_PRANSWER = 4
    SIGNALING_STATE_CLOSED = 5


class ChannelState(IntEnum):
    STATE_CONNECTING = 0
    STATE_OPEN = 1
    STATE_CLOSING = 2
    STATE_CLOSED = 3


class WriteMode(IntEnum):
    WRITE_MODE_TEXT = 0
    WRITE_MODE_BINARY = 1


class IcePhase(Enum):
    """`ice.IceState` by name (RFC 8445 / W3C RTCIceTransportState)."""

    NEW = "new"
    CHECKING = "checking"
    CONNECTED = "connected"
    COMPLETED = "completed"
    DISCONNECTED = "disconnected"
    FAILED = "failed"
    CLOSED = "closed"


class IceGatheringPhase(Enum):
    """`ice.GatheringState` by name."""

    NEW = "new"
    GATHERING = "gathering"
    COMPLETE = "complete"


class DtlsPhase(Enum):
    """DTLS transport phase as seen from `webrtc` (from dtls events)."""

    NEW = "new"  # no DTLS connection yet (descriptions incomplete)
    CONNECTING = "connecting"  # handshake in progress
    CONNECTED = "connected"  # HandshakeCompleted (and the fingerprint matched)
    FAILED = "failed"  # fatal alert, fingerprint mismatch, handshake timeout
    CLOSED = "closed"  # close_notify received


class SctpPhase(Enum):
    """SCTP association phase as seen from `webrtc` (from sctp events)."""

    NEW = "new"
    CONNECTING = "connecting"
    ESTABLISHED = "established"
    CLOSED = "closed"  # graceful SHUTDOWN by the peer
    FAILED = "failed"  # association lost (ABORT or retransmission limit)


def connection_state(
    *, closed: bool, ice: IcePhase | None, dtls: DtlsPhase, sctp: SctpPhase
) -> ConnectionState:
    """Godot ConnectionState from the layers (W3C RTCPeerConnectionState rules, in order)."""
    if closed:
        return ConnectionState.STATE_CLOSED
    if ice is IcePhase.FAILED or dtls is DtlsPhase.FAILED or sctp is SctpPhase.FAILED:
        return ConnectionState.STATE_FAILED
    if dtls is DtlsPhase.CLOSED or sctp is SctpPhase.CLOSED or ice is IcePhase.CLOSED:
        return ConnectionState.STATE_CLOSED
    if ice is IcePhase.DISCONNECTED:
        return ConnectionState.STATE_DISCONNECTED
    if (ice is None or ice is IcePhase.NEW) and dtls is DtlsPhase.NEW:
        return ConnectionState.STATE_NEW
    if ice in (IcePhase.CONNECTED, IcePhase.COMPLETED) and dtls is DtlsPhase.CONNECTED:
        return ConnectionState.STATE_CONNECTED
    return ConnectionState.STATE_CONNECTING


def gathering_state(ice: IceGatheringPhase | None) -> GatheringState:
    """Godot GatheringState from the ICE agent's gathering state (NEW before the agent exists)."""
    if ice is IceGatheringPhase.GATHERING:
        return GatheringState.GATHERING_STATE_GATHERING
    if ice is IceGatheringPhase.COMPLETE:
        return GatheringState.GATHERING_STATE_COMPLETE
    return GatheringState.GATHERING_STATE_NEW


S = SignalingState
# (state, side, type) -> next state. side is "local" or "remote". RFC 8829 §4.1.8.1, W3C §4.3.1.
SIGNALING_TRANSITIONS: dict[tuple[SignalingState, str, str], SignalingState] = {
    (S.SIGNALING_STATE_STABLE, "local", "offer"): S.SIGNALING_STATE_HAVE_LOCAL_OFFER,
    (S.SIGNALING_STATE_STABLE, "remote", "offer"): S.SIGNALING_STATE_HAVE_REMOTE_OFFER,
    (S.SIGNALING_STATE_HAVE_LOCAL_OFFER, "local", "offer"): S.SIGNALING_STATE_HAVE_LOCAL_OFFER,
    (S.SIGNALING_STATE_HAVE_LOCAL_OFFER, "remote", "answer"): S.SIGNALING_STATE_STABLE,
    (S.SIGNALING_STATE_HAVE_LOCAL_OFFER, "remote", "pranswer"): (
        S.SIGNALING_STATE_HAVE_REMOTE_PRANSWER
    ),
    (S.SIGNALING_STATE_HAVE_LOCAL_OFFER, "local", "rollback"): S.SIGNALING_STATE_STABLE,
    (S.SIGNALING_STATE_HAVE_REMOTE_OFFER, "remote", "offer"): S.SIGNALING_STATE_HAVE_REMOTE_OFFER,
    (S.SIGNALING_STATE_HAVE_REMOTE_OFFER, "local", "answer"): S.SIGNALING_STATE_STABLE,
    (S.SIGNALING_STATE_HAVE_REMOTE_OFFER, "local", "pranswer"): (
        S.SIGNALING_STATE_HAVE_LOCAL_PRANSWER
    ),
    (S.SIGNALING_STATE_HAVE_REMOTE_OFFER, "remote", "rollback"): S.SIGNALING_STATE_STABLE,
    (S.SIGNALING_STATE_HAVE_LOCAL_PRANSWER, "local", "pranswer"): (
        S.SIGNALING_STATE_HAVE_LOCAL_PRANSWER
    ),
    (S.SIGNALING_STATE_HAVE_LOCAL_PRANSWER, "local", "answer"): S.SIGNALING_STATE_STABLE,
    (S.SIGNALING_STATE_HAVE_LOCAL_PRANSWER, "remote", "rollback"): S.SIGNALING_STATE_STABLE,
    (S.SIGNALING_STATE_HAVE_REMOTE_PRANSWER, "remote", "pranswer"): (
        S.SIGNALING_STATE_HAVE_REMOTE_PRANSWER
    ),
    (S.SIGNALING_STATE_HAVE_REMOTE_PRANSWER, "remote", "answer"): S.SIGNALING_STATE_STABLE,
    (S.SIGNALING_STATE_HAVE_REMOTE_PRANSWER, "local", "rollback"): S.SIGNALING_STATE_STABLE,
}
del S


def signaling_transition(
    state: SignalingState, side: str, sdp_type: str, *, closed: bool = False
) -> SignalingState | None:
    """The next signaling state, or None when the transition is not allowed."""
    if closed:
        return None
    return SIGNALING_TRANSITIONS.get((state, side, sdp_type))


def signaling_state(state: SignalingState, *, closed: bool) -> SignalingState:
    """Godot SignalingState: the table's state, or CLOSED after close()."""
    return SignalingState.SIGNALING_STATE_CLOSED if closed else state
