"""The Godot API surface and the situation -> Error table (API.md), without a real network."""

from __future__ import annotations

import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sctp
from tests.netsim import Network, VirtualClock
from tests.webrtc.simnet import make_peer
from webrtc import (
    ChannelState,
    Error,
    WebRTCDataChannel,
    WebRTCPeerConnection,
    WebRTCPeerConnectionExtension,
)

SAMPLES = pathlib.Path("/work/shared/samples/sdp")
PC = WebRTCPeerConnection


@pytest.fixture
def pc() -> WebRTCPeerConnection:
    return make_peer(Network(), VirtualClock(), "10.0.0.1", seed=1)


def offer_of(pc: WebRTCPeerConnection) -> str:
    got: list[tuple[str, str]] = []
    pc.session_description_created.connect(lambda t, s: got.append((t, s)))
    assert pc.create_offer() == Error.OK
    assert got == []  # signals only from poll()
    assert pc.poll() == Error.OK
    assert len(got) == 1 and got[0][0] == "offer"
    return got[0][1]


def remote_offer() -> str:
    """An offer from another of our peers (not `pc`'s own)."""
    other = make_peer(Network(), VirtualClock(), "10.0.0.2", seed=2)
    other.create_data_channel("x")
    return offer_of(other)


# -- Error, enums, signals -----------------------------------------------------------------------


def test_error_values_are_godots() -> None:
    assert len(Error) == 49
    expected = {
        "OK": 0, "FAILED": 1, "ERR_UNAVAILABLE": 2, "ERR_UNCONFIGURED": 3, "ERR_UNAUTHORIZED": 4,
        "ERR_PARAMETER_RANGE_ERROR": 5, "ERR_OUT_OF_MEMORY": 6, "ERR_FILE_NOT_FOUND": 7,
        "ERR_FILE_EOF": 18, "ERR_CANT_OPEN": 19, "ERR_CANT_CREATE": 20, "ERR_ALREADY_IN_USE": 22,
        "ERR_TIMEOUT": 24, "ERR_CANT_CONNECT": 25, "ERR_CANT_RESOLVE": 26,
        "ERR_CONNECTION_ERROR": 27, "ERR_INVALID_DATA": 30, "ERR_INVALID_PARAMETER": 31,
        "ERR_ALREADY_EXISTS": 32, "ERR_DOES_NOT_EXIST": 33, "ERR_PARSE_ERROR": 43, "ERR_BUSY": 44,
        "ERR_BUG": 47, "ERR_PRINTER_ON_FIRE": 48,
    }  # fmt: skip
    for name, value in expected.items():
        assert Error[name] == value
    assert sorted(e.value for e in Error) == list(range(49))


def test_enums_nested_and_on_class() -> None:
    assert PC.STATE_CONNECTED is PC.ConnectionState.STATE_CONNECTED
    assert [int(s) for s in PC.ConnectionState] == [0, 1, 2, 3, 4, 5]
    assert PC.STATE_CLOSED == 5 and PC.STATE_FAILED == 4 and PC.STATE_DISCONNECTED == 3
    assert PC.GATHERING_STATE_COMPLETE is PC.GatheringState.GATHERING_STATE_COMPLETE == 2
    assert PC.SIGNALING_STATE_HAVE_REMOTE_PRANSWER is (
        PC.SignalingState.SIGNALING_STATE_HAVE_REMOTE_PRANSWER
    )
    assert [int(s) for s in PC.SignalingState] == [0, 1, 2, 3, 4, 5]
    DC = WebRTCDataChannel
    assert DC.STATE_OPEN is DC.ChannelState.STATE_OPEN == 1
    assert DC.STATE_CLOSING == 2 and DC.STATE_CONNECTING == 0 and DC.STATE_CLOSED == 3
    assert DC.WRITE_MODE_TEXT is DC.WriteMode.WRITE_MODE_TEXT == 0
    assert DC.WRITE_MODE_BINARY == 1


def test_signal_object(pc: WebRTCPeerConnection) -> None:
    calls: list[tuple[str, str]] = []

    def cb(t: str, s: str) -> None:
        calls.append((t, s))

    sig = pc.session_description_created
    assert not sig.is_connected(cb)
    assert sig.connect(cb) == Error.OK
    assert sig.connect(cb) == Error.ERR_INVALID_PARAMETER
    assert sig.is_connected(cb)
    sig.emit("a", "b")
    sig.disconnect(cb)
    assert not sig.is_connected(cb)
    sig.emit("c", "d")
    assert calls == [("a", "b")]


def test_fresh_object_states(pc: WebRTCPeerConnection) -> None:
    assert pc.get_connection_state() == PC.STATE_NEW
    assert pc.get_gathering_state() == PC.GATHERING_STATE_NEW
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE
    assert pc.poll() == Error.OK


# -- initialize ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        "not a dict",
        {"iceServers": "stun:x"},
        {"iceServers": [42]},
        {"iceServers": [{"urls": []}]},
        {"iceServers": [{"urls": [7]}]},
        {"iceServers": [{"urls": ["http://example.com"]}]},
        {"iceServers": [{"urls": ["stun:"]}]},
        {"iceServers": [{"urls": ["stun:127.0.0.1:99999"]}]},
        {"iceServers": [{"urls": ["turn:127.0.0.1:3478"]}]},  # no credentials
        {"iceServers": [{"urls": ["turn:127.0.0.1"], "username": 1, "credential": "x"}]},
        {"x-loopback-only": "yes"},
    ],
)
def test_initialize_invalid(pc: WebRTCPeerConnection, config: object) -> None:
    assert pc.initialize(config) == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]


def test_initialize_valid_and_resets(pc: WebRTCPeerConnection) -> None:
    config = {
        "iceServers": [
            {"urls": "stun:127.0.0.1:3478"},
            {"urls": ["turn:[::1]:3478?transport=udp"], "username": "u", "credential": "p"},
            {"urls": ["turns:127.0.0.1"], "username": "u", "credential": "p"},  # ignored
        ],
        "unknownKey": 1,
    }
    assert pc.initialize(config) == Error.OK
    assert pc._stun_servers == [("127.0.0.1", 3478)]
    assert len(pc._turn_servers) == 1
    pc.create_data_channel("a")
    offer_of(pc)
    pc.close()
    assert pc.get_connection_state() == PC.STATE_CLOSED
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_CLOSED
    assert pc.initialize() == Error.OK
    assert pc.get_connection_state() == PC.STATE_NEW
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE
    assert pc.create_offer() == Error.FAILED  # channels went with the old connection


# -- create_data_channel -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"id": 1},  # id without negotiated
        {"negotiated": True},  # negotiated without id
        {"negotiated": True, "id": 65535},
        {"negotiated": True, "id": -1},
        {"negotiated": True, "id": True},
        {"negotiated": "yes", "id": 1},
        {"maxRetransmits": 1, "maxPacketLifeTime": 100},
        {"maxRetransmits": 1, "maxPacketLifetime": 100},
        {"maxPacketLifeTime": 1, "maxPacketLifetime": 2},
        {"maxRetransmits": -1},
        {"maxRetransmits": 70000},
        {"maxPacketLifeTime": "100"},
        {"ordered": 1},
        {"protocol": 5},
    ],
)
def test_create_data_channel_invalid_options(pc: WebRTCPeerConnection, options: dict) -> None:
    assert pc.create_data_channel("x", options) is None
    assert pc.last_error == Error.ERR_INVALID_PARAMETER


def test_create_data_channel_bad_arguments(pc: WebRTCPeerConnection) -> None:
    assert pc.create_data_channel(5) is None  # type: ignore[arg-type]
    assert pc.create_data_channel("x", "opts") is None  # type: ignore[arg-type]
    assert pc.last_error == Error.ERR_INVALID_PARAMETER


def test_create_data_channel_getters(pc: WebRTCPeerConnection) -> None:
    ch = pc.create_data_channel("chat")
    assert ch is not None
    assert ch.get_label() == "chat" and ch.get_protocol() == ""
    assert ch.get_id() == -1 and not ch.is_negotiated() and ch.is_ordered()
    assert ch.get_max_retransmits() == 65535 and ch.get_max_packet_life_time() == 65535
    assert ch.get_ready_state() == ch.STATE_CONNECTING
    assert ch.write_mode == ch.WRITE_MODE_BINARY
    ch.write_mode = ch.WRITE_MODE_TEXT
    assert ch.get_write_mode() == ch.WRITE_MODE_TEXT
    u = pc.create_data_channel(
        "u", {"negotiated": True, "id": 7, "maxPacketLifetime": 150, "ordered": False,
              "protocol": "p"}
    )  # fmt: skip
    assert u is not None
    assert u.get_id() == 7 and u.is_negotiated() and not u.is_ordered()
    assert u.get_max_packet_life_time() == 150 and u.get_max_retransmits() == 65535
    assert u.get_protocol() == "p"
    r = pc.create_data_channel("r", {"maxRetransmits": 0})
    assert r is not None and r.get_max_retransmits() == 0
    assert u.config == sctp.ChannelConfig(
        "u", "p", ordered=False, max_packet_lifetime=150, negotiated=True, id=7
    )
    assert ch.config == sctp.ChannelConfig("chat") and r.config.max_retransmits == 0


def test_negotiated_id_taken(pc: WebRTCPeerConnection) -> None:
    assert pc.create_data_channel("a", {"negotiated": True, "id": 3}) is not None
    assert pc.create_data_channel("b", {"negotiated": True, "id": 3}) is None
    assert pc.last_error == Error.ERR_ALREADY_IN_USE


def test_channel_not_open(pc: WebRTCPeerConnection) -> None:
    ch = pc.create_data_channel("a")
    assert ch is not None
    assert ch.put_packet(b"x") == Error.ERR_UNAVAILABLE
    assert ch.put_packet("text") == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]
    assert ch.get_packet() == b""
    assert ch.get_packet_error() == Error.ERR_UNAVAILABLE
    assert ch.get_available_packet_count() == 0
    assert ch.poll() == Error.OK
    assert ch.get_buffered_amount() == 0
    ch.close()
    assert ch.get_ready_state() == ch.STATE_CLOSED


# -- create_offer / descriptions -----------------------------------------------------------------


def test_create_offer_without_channel_fails(pc: WebRTCPeerConnection) -> None:
    assert pc.create_offer() == Error.FAILED


def test_offer_shape(pc: WebRTCPeerConnection) -> None:
    pc.create_data_channel("a")
    text = offer_of(pc)
    assert text.endswith("\r\n")
    lines = text.split("\r\n")
    assert "m=application 9 UDP/DTLS/SCTP webrtc-datachannel" in lines
    assert "a=group:BUNDLE 0" in lines and "a=mid:0" in lines
    assert "a=setup:actpass" in lines and "a=ice-options:trickle" in lines
    assert "a=sctp-port:5000" in lines and "a=max-message-size:262144" in lines
    assert any(x.startswith("a=fingerprint:sha-256 ") for x in lines)
    assert any(x.startswith("a=ice-ufrag:") for x in lines)
    assert any(x.startswith("a=ice-pwd:") for x in lines)
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE


@pytest.mark.parametrize("kind", ["", "OFFER", "bogus", 3])
def test_description_type_invalid(pc: WebRTCPeerConnection, kind: object) -> None:
    assert pc.set_local_description(kind, "v=0") == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]
    assert pc.set_remote_description(kind, "v=0") == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]


def test_local_description_must_be_ours(pc: WebRTCPeerConnection) -> None:
    pc.create_data_channel("a")
    offer_of(pc)
    assert pc.set_local_description("offer", remote_offer()) == Error.ERR_INVALID_PARAMETER


def test_local_offer_applies_and_reapplies(pc: WebRTCPeerConnection) -> None:
    pc.create_data_channel("a")
    text = offer_of(pc)
    cands: list[tuple[str, int, str]] = []
    pc.ice_candidate_created.connect(lambda m, i, n: cands.append((m, i, n)))
    assert pc.set_local_description("offer", text) == Error.OK
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_HAVE_LOCAL_OFFER
    assert pc.set_local_description("offer", text) == Error.OK
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_HAVE_LOCAL_OFFER
    assert cands == []
    pc.poll()
    assert cands and cands[0][0] == "0" and cands[0][1] == 0
    assert cands[0][2].startswith("candidate:") and "10.0.0.1" in cands[0][2]
    assert pc.get_gathering_state() == PC.GATHERING_STATE_COMPLETE


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: "garbage",
        lambda s: "\r\n".join(x for x in s.split("\r\n") if not x.startswith("a=fingerprint")),
        lambda s: "\r\n".join(x for x in s.split("\r\n") if not x.startswith("a=ice-ufrag")),
        lambda s: "\r\n".join(x for x in s.split("\r\n") if not x.startswith("a=ice-pwd")),
        lambda s: "\r\n".join(x for x in s.split("\r\n") if not x.startswith("m=")),
        lambda s: s.replace("a=fingerprint:sha-256 ", "a=fingerprint:sha-256 ZZ"),
    ],
)
def test_remote_description_invalid_data(pc: WebRTCPeerConnection, mutate: object) -> None:
    text = mutate(remote_offer())  # type: ignore[operator]
    assert pc.set_remote_description("offer", text) == Error.ERR_INVALID_DATA
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE


def test_answer_while_stable(pc: WebRTCPeerConnection) -> None:
    assert pc.set_remote_description("answer", remote_offer()) == Error.ERR_INVALID_PARAMETER
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE


def test_offer_glare(pc: WebRTCPeerConnection) -> None:
    pc.create_data_channel("a")
    pc.set_local_description("offer", offer_of(pc))
    assert pc.set_remote_description("offer", remote_offer()) == Error.ERR_INVALID_PARAMETER
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_HAVE_LOCAL_OFFER


def test_rollback_local_offer(pc: WebRTCPeerConnection) -> None:
    pc.create_data_channel("a")
    assert pc.set_local_description("rollback", "") == Error.ERR_INVALID_PARAMETER
    pc.set_local_description("offer", offer_of(pc))
    assert pc.set_remote_description("rollback", "") == Error.ERR_INVALID_PARAMETER
    assert pc.set_local_description("rollback", "") == Error.OK
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE


def test_remote_offer_creates_answer_and_rollback(pc: WebRTCPeerConnection) -> None:
    got: list[tuple[str, str]] = []
    pc.session_description_created.connect(lambda t, s: got.append((t, s)))
    assert pc.set_remote_description("offer", remote_offer()) == Error.OK
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_HAVE_REMOTE_OFFER
    pc.poll()
    assert [t for t, _ in got] == ["answer"]
    assert "a=setup:active" in got[0][1]
    assert pc.set_remote_description("rollback", "") == Error.OK
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE


def test_pranswer_then_answer(pc: WebRTCPeerConnection) -> None:
    got: list[tuple[str, str]] = []
    pc.session_description_created.connect(lambda t, s: got.append((t, s)))
    pc.set_remote_description("offer", remote_offer())
    pc.poll()
    answer = got[0][1]
    assert pc.set_local_description("pranswer", answer) == Error.OK
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_HAVE_LOCAL_PRANSWER
    assert pc.set_local_description("answer", answer) == Error.OK
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE
    assert pc.set_local_description("answer", answer) == Error.OK  # re-applying is harmless


@pytest.mark.parametrize("sample", ["chromium_offer.sdp", "aiortc_offer.sdp"])
def test_answers_real_offers(pc: WebRTCPeerConnection, sample: str) -> None:
    got: list[tuple[str, str]] = []
    pc.session_description_created.connect(lambda t, s: got.append((t, s)))
    assert pc.set_remote_description("offer", (SAMPLES / sample).read_text()) == Error.OK
    pc.poll()
    assert got[0][0] == "answer"
    assert "a=setup:active" in got[0][1] and "a=mid:0" in got[0][1]


def test_remote_pranswer_then_answer(pc: WebRTCPeerConnection) -> None:
    pc.create_data_channel("a")
    pc.set_local_description("offer", offer_of(pc))
    answer = (SAMPLES / "chromium_answer.sdp").read_text()
    assert pc.set_remote_description("pranswer", answer) == Error.OK
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_HAVE_REMOTE_PRANSWER
    assert pc.set_remote_description("answer", answer) == Error.OK
    assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE


# -- add_ice_candidate ---------------------------------------------------------------------------

CAND = "candidate:1 1 udp 2130706431 10.0.0.2 5000 typ host"


def test_candidate_errors(pc: WebRTCPeerConnection) -> None:
    assert pc.add_ice_candidate("0", 0, "candidate:garbage") == Error.ERR_INVALID_DATA
    assert pc.add_ice_candidate(0, 0, CAND) == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]
    assert pc.add_ice_candidate("0", "0", CAND) == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]
    assert pc.add_ice_candidate("0", -1, CAND) == Error.ERR_INVALID_PARAMETER
    assert pc.add_ice_candidate("0", 0, None) == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]


def test_candidates_buffered_before_remote_description(pc: WebRTCPeerConnection) -> None:
    assert pc.add_ice_candidate("0", 0, CAND) == Error.OK
    assert pc.add_ice_candidate("0", 0, "a=" + CAND) == Error.OK
    assert pc.add_ice_candidate("0", 0, "") == Error.OK
    assert pc.set_remote_description("offer", remote_offer()) == Error.OK
    agent = pc._agent
    assert agent is not None
    assert [c.address for c in agent.remote_candidates].count("10.0.0.2") >= 1


def test_candidate_unknown_mid(pc: WebRTCPeerConnection) -> None:
    pc.set_remote_description("offer", remote_offer())
    assert pc.add_ice_candidate("7", 0, CAND) == Error.ERR_INVALID_PARAMETER
    assert pc.add_ice_candidate("", 3, CAND) == Error.ERR_INVALID_PARAMETER
    assert pc.add_ice_candidate("", 0, CAND) == Error.OK
    assert pc.add_ice_candidate("0", 5, CAND) == Error.OK  # Godot native always sends index 0
    assert pc.add_ice_candidate("0", 0, "") == Error.OK


# -- close ---------------------------------------------------------------------------------------


def test_calls_after_close_are_unconfigured(pc: WebRTCPeerConnection) -> None:
    ch = pc.create_data_channel("a")
    assert ch is not None
    pc.close()
    pc.close()  # harmless
    assert ch.get_ready_state() == ChannelState.STATE_CLOSED
    assert pc.poll() == Error.ERR_UNCONFIGURED
    assert pc.create_offer() == Error.ERR_UNCONFIGURED
    assert pc.set_local_description("offer", "v=0") == Error.ERR_UNCONFIGURED
    assert pc.set_remote_description("offer", "v=0") == Error.ERR_UNCONFIGURED
    assert pc.add_ice_candidate("0", 0, CAND) == Error.ERR_UNCONFIGURED
    assert pc.create_data_channel("b") is None
    assert pc.last_error == Error.ERR_UNCONFIGURED
    assert pc.get_gathering_state() == PC.GATHERING_STATE_NEW


def test_reentrant_poll_is_ok(pc: WebRTCPeerConnection) -> None:
    """As Godot: poll() from a handler returns OK (see test_godot_gaps.py for the order)."""
    results: list[Error] = []
    pc.create_data_channel("a")
    pc.session_description_created.connect(lambda t, s: results.append(pc.poll()))
    pc.create_offer()
    assert pc.poll() == Error.OK
    assert results == [Error.OK]


# -- extension -----------------------------------------------------------------------------------


class LoggingExtension(WebRTCPeerConnectionExtension):
    calls: list[str] = []

    def _create_offer(self) -> Error:
        LoggingExtension.calls.append("create_offer")
        return super()._create_offer()

    def _get_signaling_state(self) -> PC.SignalingState:
        LoggingExtension.calls.append("get_signaling_state")
        return super()._get_signaling_state()


def test_default_extension() -> None:
    try:
        PC.set_default_extension(LoggingExtension)
        pc = PC(transport_factory=None)
        assert type(pc) is LoggingExtension
        pc.create_data_channel("a")
        assert pc.create_offer() == Error.OK
        assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE
        assert LoggingExtension.calls == ["create_offer", "get_signaling_state"]
        PC.set_default_extension(None)
        assert type(PC()) is PC
        PC.set_default_extension("LoggingExtension")  # Godot passes a class name
        assert type(PC()) is LoggingExtension
        PC.set_default_extension(None)
        PC.set_default_extension(int)  # rejected (logged)
        assert type(PC()) is PC
    finally:
        PC.set_default_extension(None)


# -- totality: arbitrary input never raises -------------------------------------------------------

_OFFER_LINES = remote_offer().split("\r\n")


@settings(max_examples=60)
@given(
    st.lists(st.sampled_from(_OFFER_LINES) | st.text(max_size=40), max_size=25),
    st.sampled_from(["offer", "answer", "pranswer", "rollback", "x"]),
)
def test_remote_description_never_raises(lines: list[str], kind: str) -> None:
    pc = make_peer(Network(), VirtualClock(), "10.0.0.1", seed=3)
    assert pc.set_remote_description(kind, "\r\n".join(lines)) in Error


@settings(max_examples=60)
@given(st.text(max_size=120), st.text(max_size=3), st.integers(-3, 3))
def test_add_ice_candidate_never_raises(name: str, media: str, index: int) -> None:
    pc = make_peer(Network(), VirtualClock(), "10.0.0.1", seed=4)
    assert pc.add_ice_candidate(media, index, name) in Error
    pc.set_remote_description("offer", "\r\n".join(_OFFER_LINES))
    assert pc.add_ice_candidate(media, index, "candidate:" + name) in Error
