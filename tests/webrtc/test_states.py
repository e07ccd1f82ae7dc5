"""Table-driven tests of the three state derivations and the signaling transition table."""

from __future__ import annotations

import pytest

from webrtc.states import (
    SIGNALING_TRANSITIONS,
    ConnectionState,
    DtlsPhase,
    GatheringState,
    IceGatheringPhase,
    IcePhase,
    SctpPhase,
    SignalingState,
    connection_state,
    gathering_state,
    signaling_state,
    signaling_transition,
)

C = ConnectionState
Ice, D, S = IcePhase, DtlsPhase, SctpPhase

# (event that led here, closed, ice, dtls, sctp) -> expected Godot ConnectionState
CONNECTION_TABLE = [
    ("new object / initialize()", False, None, D.NEW, S.NEW, C.STATE_NEW),
    ("create_offer (agent exists)", False, Ice.NEW, D.NEW, S.NEW, C.STATE_NEW),
    ("ICE checking", False, Ice.CHECKING, D.NEW, S.NEW, C.STATE_CONNECTING),
    (
        "descriptions complete, DTLS waiting",
        False,
        Ice.CHECKING,
        D.CONNECTING,
        S.NEW,
        C.STATE_CONNECTING,
    ),
    (
        "ICE connected, DTLS handshaking",
        False,
        Ice.CONNECTED,
        D.CONNECTING,
        S.NEW,
        C.STATE_CONNECTING,
    ),
    ("DTLS connected", False, Ice.CONNECTED, D.CONNECTED, S.CONNECTING, C.STATE_CONNECTED),
    ("SCTP established", False, Ice.CONNECTED, D.CONNECTED, S.ESTABLISHED, C.STATE_CONNECTED),
    ("ICE completed", False, Ice.COMPLETED, D.CONNECTED, S.ESTABLISHED, C.STATE_CONNECTED),
    ("ICE disconnected", False, Ice.DISCONNECTED, D.CONNECTED, S.ESTABLISHED, C.STATE_DISCONNECTED),
    ("ICE failed", False, Ice.FAILED, D.CONNECTED, S.ESTABLISHED, C.STATE_FAILED),
    ("ICE failed before DTLS", False, Ice.FAILED, D.CONNECTING, S.NEW, C.STATE_FAILED),
    ("DTLS fingerprint mismatch", False, Ice.CONNECTED, D.FAILED, S.NEW, C.STATE_FAILED),
    ("DTLS failure after agent closed", False, Ice.CLOSED, D.FAILED, S.NEW, C.STATE_FAILED),
    ("SCTP association lost", False, Ice.CONNECTED, D.CONNECTED, S.FAILED, C.STATE_FAILED),
    ("peer SHUTDOWN", False, Ice.CONNECTED, D.CONNECTED, S.CLOSED, C.STATE_CLOSED),
    ("peer close_notify", False, Ice.CLOSED, D.CLOSED, S.ESTABLISHED, C.STATE_CLOSED),
    ("close()", True, Ice.CONNECTED, D.CONNECTED, S.ESTABLISHED, C.STATE_CLOSED),
    ("close() after failure", True, Ice.FAILED, D.FAILED, S.FAILED, C.STATE_CLOSED),
    ("close() before anything", True, None, D.NEW, S.NEW, C.STATE_CLOSED),
]


@pytest.mark.parametrize(
    ("event", "closed", "ice", "dtls", "sctp", "expected"),
    CONNECTION_TABLE,
    ids=[row[0] for row in CONNECTION_TABLE],
)
def test_connection_state(
    event: str,
    closed: bool,
    ice: IcePhase | None,
    dtls: DtlsPhase,
    sctp: SctpPhase,
    expected: ConnectionState,
) -> None:
    assert connection_state(closed=closed, ice=ice, dtls=dtls, sctp=sctp) is expected


def test_connection_state_total() -> None:
    """Every combination maps to some state (the function is total)."""
    for closed in (False, True):
        for ice in (None, *IcePhase):
            for dtls in DtlsPhase:
                for sctp in SctpPhase:
                    assert connection_state(closed=closed, ice=ice, dtls=dtls, sctp=sctp) in C


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (None, GatheringState.GATHERING_STATE_NEW),
        (IceGatheringPhase.NEW, GatheringState.GATHERING_STATE_NEW),
        (IceGatheringPhase.GATHERING, GatheringState.GATHERING_STATE_GATHERING),
        (IceGatheringPhase.COMPLETE, GatheringState.GATHERING_STATE_COMPLETE),
    ],
)
def test_gathering_state(phase: IceGatheringPhase | None, expected: GatheringState) -> None:
    assert gathering_state(phase) is expected


SS = SignalingState
ALLOWED = {
    (SS.SIGNALING_STATE_STABLE, "local", "offer"): SS.SIGNALING_STATE_HAVE_LOCAL_OFFER,
    (SS.SIGNALING_STATE_STABLE, "remote", "offer"): SS.SIGNALING_STATE_HAVE_REMOTE_OFFER,
    (SS.SIGNALING_STATE_HAVE_LOCAL_OFFER, "local", "offer"): SS.SIGNALING_STATE_HAVE_LOCAL_OFFER,
    (SS.SIGNALING_STATE_HAVE_LOCAL_OFFER, "remote", "answer"): SS.SIGNALING_STATE_STABLE,
    (SS.SIGNALING_STATE_HAVE_LOCAL_OFFER, "remote", "pranswer"):
        SS.SIGNALING_STATE_HAVE_REMOTE_PRANSWER,
    (SS.SIGNALING_STATE_HAVE_LOCAL_OFFER, "local", "rollback"): SS.SIGNALING_STATE_STABLE,
    (SS.SIGNALING_STATE_HAVE_REMOTE_OFFER, "remote", "offer"):
        SS.SIGNALING_STATE_HAVE_REMOTE_OFFER,
    (SS.SIGNALING_STATE_HAVE_REMOTE_OFFER, "local", "answer"): SS.SIGNALING_STATE_STABLE,
    (SS.SIGNALING_STATE_HAVE_REMOTE_OFFER, "local", "pranswer"):
        SS.SIGNALING_STATE_HAVE_LOCAL_PRANSWER,
    (SS.SIGNALING_STATE_HAVE_REMOTE_OFFER, "remote", "rollback"): SS.SIGNALING_STATE_STABLE,
    (SS.SIGNALING_STATE_HAVE_LOCAL_PRANSWER, "local", "pranswer"):
        SS.SIGNALING_STATE_HAVE_LOCAL_PRANSWER,
    (SS.SIGNALING_STATE_HAVE_LOCAL_PRANSWER, "local", "answer"): SS.SIGNALING_STATE_STABLE,
    (SS.SIGNALING_STATE_HAVE_LOCAL_PRANSWER, "remote", "rollback"): SS.SIGNALING_STATE_STABLE,
    (SS.SIGNALING_STATE_HAVE_REMOTE_PRANSWER, "remote", "pranswer"):
        SS.SIGNALING_STATE_HAVE_REMOTE_PRANSWER,
    (SS.SIGNALING_STATE_HAVE_REMOTE_PRANSWER, "remote", "answer"): SS.SIGNALING_STATE_STABLE,
    (SS.SIGNALING_STATE_HAVE_REMOTE_PRANSWER, "local", "rollback"): SS.SIGNALING_STATE_STABLE,
}  # fmt: skip


@pytest.mark.parametrize("state", list(SS))
@pytest.mark.parametrize("side", ["local", "remote"])
@pytest.mark.parametrize("kind", ["offer", "answer", "pranswer", "rollback"])
def test_signaling_transitions(state: SignalingState, side: str, kind: str) -> None:
    assert signaling_transition(state, side, kind) is ALLOWED.get((state, side, kind))
    assert signaling_transition(state, side, kind, closed=True) is None


def test_signaling_table_matches() -> None:
    assert SIGNALING_TRANSITIONS == ALLOWED


def test_signaling_state_closed() -> None:
    for state in SS:
        assert signaling_state(state, closed=True) is SS.SIGNALING_STATE_CLOSED
        assert signaling_state(state, closed=False) is state
