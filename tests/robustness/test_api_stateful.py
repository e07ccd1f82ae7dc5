"""Random use of the public API of two peers (hypothesis stateful), on the simulated network.

Every call must return a documented `webrtc.Error` member (or None/a channel for
`create_data_channel`), never raise; after every step the three state enums must hold their
documented meaning (API.md): SIGNALING_STATE_CLOSED iff close() was called (and not undone by
initialize()), STATE_CLOSED after close(), STATE_NEW/GATHERING_STATE_NEW/STABLE after initialize(),
every call after close() -> ERR_UNCONFIGURED.
"""

from __future__ import annotations

from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.netsim import Impairment
from webrtc import (
    ChannelState,
    ConnectionState,
    Error,
    GatheringState,
    SignalingState,
    WebRTCDataChannel,
)

from .matrix import FULL
from .world import World

SCALE = 20 if FULL else 1

ERRORS = set(Error)
PEERS = st.sampled_from([0, 1])
TYPES = st.sampled_from(["offer", "answer", "pranswer", "rollback", "OFFER", "", "bogus", "\ud800"])

VALID_OPTIONS: list[dict[str, Any]] = [
    {},
    {"ordered": False},
    {"maxRetransmits": 0},
    {"maxPacketLifeTime": 100},
    {"maxPacketLifetime": 100},
    {"protocol": "chat"},
    {"negotiated": True, "id": 1},
    {"negotiated": True, "id": 2},
    {"negotiated": True, "id": 65534},
]
INVALID_OPTIONS: list[Any] = [
    {"id": 3},  # id without negotiated
    {"negotiated": True},  # negotiated without id
    {"negotiated": True, "id": 65535},
    {"negotiated": True, "id": -1},
    {"maxRetransmits": 1, "maxPacketLifeTime": 1},
    {"maxRetransmits": -1},
    {"maxRetransmits": 70000},
    {"maxPacketLifeTime": "x"},
    {"ordered": "yes"},
    {"negotiated": 1, "id": 1},
    {"protocol": 5},
    {"maxPacketLifeTime": 10, "maxPacketLifetime": 20},
    "not a dict",
]
CONFIGS: list[Any] = [
    {},
    {"iceServers": []},
    {"unknown": 1},
    {"iceServers": [{"urls": ["stun:10.9.9.9:3478"]}]},
    {"iceServers": "x"},
    {"iceServers": [{"urls": ["http://x"]}]},
    {"iceServers": [{"urls": ["turn:10.9.9.9"]}]},  # TURN without credentials
    {"iceServers": [5]},
    "nope",
    {"iceServers": [{"urls": "stun:\ud800.example"}]},  # issue 13: lone surrogates
    {"iceServers": [{"urls": ["turn:10.9.9.9"], "username": "\udfff", "credential": "x"}]},
]
# text that UTF-8 cannot carry (lone surrogates) mixed in (issue 13, defect 3)
HOSTILE_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    ),
    max_size=30,
)
GARBAGE_SDP = st.one_of(
    st.text(max_size=40),
    HOSTILE_TEXT,
    st.sampled_from(
        [
            "",
            "v=0\r\n",
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP "
            "webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n",
            "\x00\xff",
        ]
    ),
)
CANDIDATE_TEXT = st.one_of(
    st.sampled_from(
        [
            "",
            "end-of-candidates",
            "candidate:",
            "candidate:1 1 udp 1 10.0.0.77 9 typ host",
            "a=candidate:1 1 UDP 2130706431 10.0.0.78 5000 typ host",
            "candidate:1 1 tcp 1 10.0.0.79 9 typ host tcptype active",
            "candidate:1 1 udp 1 abcd.local 9 typ host",
            "candidate:1 2 udp 1 10.0.0.80 9 typ host",
            "candidate:x y z",
            "candidate:1 1 udp 1 \ud800.local 9 typ host",
        ]
    ),
    st.text(max_size=30),
    HOSTILE_TEXT,
)
PAYLOADS = st.one_of(
    st.binary(max_size=64), st.sampled_from([b"", "héllo".encode(), b"\xff\xfe", bytes(70000)])
)


def _is_error(value: object) -> bool:
    return isinstance(value, Error) and value in ERRORS


class TwoPeers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = World(Impairment(delay=0.01, seed=7), seed=7)
        self.pcs = [self.w.peer("10.0.0.1", 101), self.w.peer("10.0.0.2", 202)]
        self.closed = [False, False]
        self.created: list[list[tuple[str, str]]] = [[], []]  # descriptions each peer created
        self.candidates: list[list[tuple[str, int, str]]] = [[], []]
        self.channels: list[WebRTCDataChannel] = []
        for i, pc in enumerate(self.pcs):
            pc.session_description_created.connect(lambda t, s, i=i: self.created[i].append((t, s)))
            pc.ice_candidate_created.connect(
                lambda m, x, n, i=i: self.candidates[i].append((m, x, n))
            )
            pc.data_channel_received.connect(self.channels.append)

    def _check(self, i: int, ret: object) -> None:
        assert _is_error(ret), ret
        if self.closed[i]:
            assert ret == Error.ERR_UNCONFIGURED, ret

    # -- peer connection ------------------------------------------------------------------------

    @rule(
        i=PEERS,
        label=st.sampled_from(["a", "", "ü" * 3, "\ud800", "x\udcff"]),
        valid=st.booleans(),
        k=st.integers(),
    )
    def create_channel(self, i: int, label: str, valid: bool, k: int) -> None:
        pool = VALID_OPTIONS if valid else INVALID_OPTIONS
        options = pool[k % len(pool)]
        pc = self.pcs[i]
        ch = pc.create_data_channel(label, options)
        assert _is_error(pc.last_error)
        if ch is None:
            assert pc.last_error != Error.OK
            if self.closed[i]:
                assert pc.last_error == Error.ERR_UNCONFIGURED
            return
        assert isinstance(ch, WebRTCDataChannel) and pc.last_error == Error.OK
        assert valid and not self.closed[i], options
        self.channels.append(ch)

    @rule(i=PEERS)
    def create_offer(self, i: int) -> None:
        self._check(i, self.pcs[i].create_offer())

    @rule(i=PEERS)
    def start_offer(self, i: int) -> None:
        """Macro step to reach deeper states: a channel, an offer, one poll."""
        pc = self.pcs[i]
        ch = pc.create_data_channel("m")
        if ch is not None:
            self.channels.append(ch)
        self._check(i, pc.create_offer())
        self.poll(0.0)

    @rule(i=PEERS, src=PEERS, k=st.integers(0, 10), kind=TYPES, own_type=st.booleans())
    def set_local(self, i: int, src: int, k: int, kind: str, own_type: bool) -> None:
        """Apply a description created by `src` (ours, or the wrong peer's) as local."""
        descs = self.created[src]
        if not descs:
            return
        t, text = descs[k % len(descs)]
        before = self.pcs[i].get_signaling_state()
        ret = self.pcs[i].set_local_description(t if own_type else kind, text)
        self._check(i, ret)
        if ret != Error.OK:
            assert self.pcs[i].get_signaling_state() == before  # API.md: state unchanged

    @rule(i=PEERS, src=PEERS, k=st.integers(0, 10), kind=TYPES, own_type=st.booleans())
    def set_remote(self, i: int, src: int, k: int, kind: str, own_type: bool) -> None:
        descs = self.created[src]
        if not descs:
            return
        t, text = descs[k % len(descs)]
        before = self.pcs[i].get_signaling_state()
        ret = self.pcs[i].set_remote_description(t if own_type else kind, text)
        self._check(i, ret)
        if ret != Error.OK:
            assert self.pcs[i].get_signaling_state() == before

    @rule(src=PEERS, remote_first=st.booleans())
    def deliver(self, src: int, remote_first: bool) -> None:
        """The right thing: the oldest description `src` created, applied on both ends."""
        if not self.created[src]:
            return
        t, text = self.created[src].pop(0)
        dst = 1 - src
        if remote_first:  # the remote end may learn it before the local end applies it
            self._check(dst, self.pcs[dst].set_remote_description(t, text))
            self._check(src, self.pcs[src].set_local_description(t, text))
        else:
            self._check(src, self.pcs[src].set_local_description(t, text))
            self._check(dst, self.pcs[dst].set_remote_description(t, text))

    @rule(src=PEERS)
    def deliver_candidates(self, src: int) -> None:
        dst = 1 - src
        while self.candidates[src]:
            m, x, n = self.candidates[src].pop(0)
            self._check(dst, self.pcs[dst].add_ice_candidate(m, x, n))

    @rule(rounds=st.integers(1, 30))
    def signal_everything(self, rounds: int) -> None:
        """Macro step: relay descriptions and candidates both ways while time passes."""
        for _ in range(rounds):
            for src in (0, 1):
                while self.created[src]:
                    self.deliver(src, remote_first=False)
                self.deliver_candidates(src)
            self.poll(0.02)

    @rule(i=PEERS, kind=TYPES, text=GARBAGE_SDP, local=st.booleans())
    def garbage_description(self, i: int, kind: str, text: str, local: bool) -> None:
        pc = self.pcs[i]
        before = pc.get_signaling_state()
        if local:
            ret = pc.set_local_description(kind, text)
        else:
            ret = pc.set_remote_description(kind, text)
        self._check(i, ret)
        if kind != "rollback":
            assert ret != Error.OK, (kind, text)
            assert pc.get_signaling_state() == before

    @rule(i=PEERS, k=st.integers(0, 50), mid=st.sampled_from(["0", "", "x", "1"]))
    def relay_candidate(self, i: int, k: int, mid: str) -> None:
        """A candidate the other peer gathered (possibly again: duplicates), maybe re-labelled."""
        cands = self.candidates[1 - i]
        if not cands:
            return
        m, index, name = cands[k % len(cands)]
        self._check(i, self.pcs[i].add_ice_candidate(mid if k % 3 == 0 else m, index, name))

    @rule(
        i=PEERS,
        mid=st.sampled_from(["0", "", "x", "\ud800"]),
        index=st.integers(-2, 3),
        name=CANDIDATE_TEXT,
    )
    def odd_candidate(self, i: int, mid: str, index: int, name: str) -> None:
        self._check(i, self.pcs[i].add_ice_candidate(mid, index, name))

    @rule(i=PEERS)
    def close(self, i: int) -> None:
        pc = self.pcs[i]
        pc.close()
        self.closed[i] = True
        assert pc.get_connection_state() == ConnectionState.STATE_CLOSED
        assert pc.get_signaling_state() == SignalingState.SIGNALING_STATE_CLOSED
        for ch in self.channels:
            if ch._owner is pc:
                assert ch.get_ready_state() == ChannelState.STATE_CLOSED

    @rule(i=PEERS, k=st.integers(0, len(CONFIGS) - 1))
    def initialize(self, i: int, k: int) -> None:
        pc = self.pcs[i]
        before = (pc.get_connection_state(), pc.get_signaling_state())
        ret = pc.initialize(CONFIGS[k])
        assert _is_error(ret), ret
        if ret == Error.OK:
            self.closed[i] = False
            assert pc.get_connection_state() == ConnectionState.STATE_NEW
            assert pc.get_signaling_state() == SignalingState.SIGNALING_STATE_STABLE
            assert pc.get_gathering_state() == GatheringState.GATHERING_STATE_NEW
            self.created[i].clear()
            self.candidates[i].clear()
        else:
            assert k >= 4, CONFIGS[k]  # only the malformed ones are refused
            assert (pc.get_connection_state(), pc.get_signaling_state()) == before

    @rule(dt=st.sampled_from([0.0, 0.005, 0.05, 0.5, 3.0]))
    def poll(self, dt: float) -> None:
        w = self.w
        w.clock.advance_to(w.clock.now + dt)
        w.net.deliver_due(w.clock.now)
        for i, pc in enumerate(self.pcs):
            ret = pc.poll()
            self._check(i, ret)
            assert ret in (Error.OK, Error.ERR_UNCONFIGURED), ret

    # -- channels -------------------------------------------------------------------------------

    @precondition(lambda self: bool(self.channels))
    @rule(k=st.integers(0, 50), data=PAYLOADS, text=st.booleans())
    def put_packet(self, k: int, data: bytes, text: bool) -> None:
        ch = self.channels[k % len(self.channels)]
        ch.write_mode = ch.WRITE_MODE_TEXT if text else ch.WRITE_MODE_BINARY
        ret = ch.put_packet(data)
        assert _is_error(ret), ret
        if ch.get_ready_state() != ChannelState.STATE_OPEN:
            assert ret == Error.ERR_UNAVAILABLE, ret

    @precondition(lambda self: bool(self.channels))
    @rule(k=st.integers(0, 50))
    def get_packet(self, k: int) -> None:
        ch = self.channels[k % len(self.channels)]
        n = ch.get_available_packet_count()
        data = ch.get_packet()
        assert isinstance(data, bytes)
        assert ch.get_packet_error() == (Error.OK if n else Error.ERR_UNAVAILABLE)
        assert ch.get_available_packet_count() == max(n - 1, 0)

    @precondition(lambda self: bool(self.channels))
    @rule(k=st.integers(0, 50))
    def close_channel(self, k: int) -> None:
        ch = self.channels[k % len(self.channels)]
        ch.close()
        assert ch.get_ready_state() in (ChannelState.STATE_CLOSING, ChannelState.STATE_CLOSED)

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def states_hold_their_meaning(self) -> None:
        for i, pc in enumerate(self.pcs):
            c, g, s = pc.get_connection_state(), pc.get_gathering_state(), pc.get_signaling_state()
            event(f"reached {c.name} {s.name}")
            assert isinstance(c, ConnectionState) and isinstance(g, GatheringState)
            assert isinstance(s, SignalingState)
            assert (s == SignalingState.SIGNALING_STATE_CLOSED) == self.closed[i], (s, i)
            if self.closed[i]:
                assert c == ConnectionState.STATE_CLOSED
            if c == ConnectionState.STATE_NEW:
                assert not self.closed[i]
        for ch in self.channels:
            assert isinstance(ch.get_ready_state(), ChannelState)
            assert isinstance(ch.get_buffered_amount(), int) and ch.get_buffered_amount() >= 0
            assert _is_error(ch.get_packet_error())

    def teardown(self) -> None:
        for pc in self.pcs:
            pc.close()


TwoPeers.TestCase.settings = settings(
    max_examples=60 * SCALE, stateful_step_count=50, deadline=None
)
test_two_peers = TwoPeers.TestCase


class ConnectedPeers(TwoPeers):
    """Same rules, but starting from an established connection with open channels."""

    def __init__(self) -> None:
        super().__init__()
        a, _b = self.pcs
        ch = a.create_data_channel("base")
        assert ch is not None and a.create_offer() == Error.OK
        self.channels.append(ch)
        for _ in range(200):
            self.poll(0.0)
            for src, dst in ((0, 1), (1, 0)):
                while self.created[src]:
                    t, text = self.created[src].pop(0)
                    assert self.pcs[src].set_local_description(t, text) == Error.OK
                    assert self.pcs[dst].set_remote_description(t, text) == Error.OK
                while self.candidates[src]:
                    m, x, n = self.candidates[src].pop(0)
                    assert self.pcs[dst].add_ice_candidate(m, x, n) == Error.OK
            if ch.get_ready_state() == ChannelState.STATE_OPEN and len(self.channels) > 1:
                break
            self.poll(0.01)
        assert ch.get_ready_state() == ChannelState.STATE_OPEN


ConnectedPeers.TestCase.settings = settings(
    max_examples=60 * SCALE, stateful_step_count=40, deadline=None
)
test_connected_peers = ConnectedPeers.TestCase
