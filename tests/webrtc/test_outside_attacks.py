"""Issue 13: the webrtc side of the attacks from outside (hostile peers and hostile callers).

Defect 2 (empty messages and the receive limit), 3 (strings UTF-8 cannot carry), 4 (closed
channels released), 5 (stream id allocation counted in probes, not timed).
"""

from __future__ import annotations

import logging
import os
import random
import select
import socket
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sctp
from tests.netsim import Network, VirtualClock
from tests.webrtc.helpers import Pair, World
from tests.webrtc.simnet import make_peer
from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection
from webrtc.data_channel import RX_MESSAGE_OVERHEAD
from webrtc.logs import MAX_QUOTED
from webrtc.net import MAX_READ_PER_SOCKET, UdpTransport
from webrtc.peer_connection import RECEIVE_QUEUE_LIMIT

OPEN = ChannelState.STATE_OPEN
CLOSED = ChannelState.STATE_CLOSED
CONNECTED = WebRTCPeerConnection.STATE_CONNECTED


def connected(w: World) -> tuple[Pair, WebRTCDataChannel, WebRTCDataChannel]:
    p = w.pair()
    ch = p.a.create_data_channel("first")
    assert ch is not None
    assert p.a.create_offer() == Error.OK
    assert w.run(p, lambda: ch.get_ready_state() == OPEN and len(p.received_b) == 1)
    return p, ch, p.received_b[0]


def still_works(w: World, p: Pair, ch: WebRTCDataChannel, remote: WebRTCDataChannel) -> None:
    assert p.a.get_connection_state() == CONNECTED and p.b.get_connection_state() == CONNECTED
    assert ch.put_packet(b"still here") == Error.OK
    assert w.run(p, lambda: remote.get_available_packet_count() > 0)
    assert remote.get_packet() == b"still here"


# -- defect 2: empty messages count against the receive limit --------------------------------------


def test_empty_messages_cannot_queue_past_the_receive_limit() -> None:
    """A peer floods empty messages at an application that does not read: the queue stops at
    RECEIVE_QUEUE_LIMIT / RX_MESSAGE_OVERHEAD messages (SCTP's window then holds the rest
    back), and nothing is lost once the application reads."""
    w = World()
    p, ch, remote = connected(w)
    total = RECEIVE_QUEUE_LIMIT // RX_MESSAGE_OVERHEAD + 8000
    sent = [0]

    def push() -> bool:
        while sent[0] < total and ch.put_packet(b"") == Error.OK:
            sent[0] += 1
        return False

    w.run(p, push, max_time=30)  # until nothing moves any more
    queued = remote.get_available_packet_count()
    assert queued <= RECEIVE_QUEUE_LIMIT // RX_MESSAGE_OVERHEAD + 1
    assert queued >= RECEIVE_QUEUE_LIMIT // RX_MESSAGE_OVERHEAD // 2  # it did fill up
    got = [0]

    def pull() -> bool:
        push()
        while remote.get_available_packet_count():
            assert remote.get_packet() == b""
            got[0] += 1
        return got[0] == total

    assert w.run(p, pull, max_time=120)
    assert p.b._budget.queued == 0


def test_receive_overhead_matches_what_a_queued_message_costs() -> None:
    """RX_MESSAGE_OVERHEAD stays near the measured cost of one queued entry."""
    import tracemalloc
    from collections import deque

    src = bytes(10_000)
    q: deque[tuple[bytes, bool]] = deque()
    tracemalloc.start()
    for i in range(5000):
        q.append((src[i : i + 40], True))
    used, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per_message = used / 5000 - 40
    assert 0.7 * RX_MESSAGE_OVERHEAD <= per_message <= 1.5 * RX_MESSAGE_OVERHEAD, per_message


# -- defect 3: strings that UTF-8 cannot carry ---------------------------------------------------


@pytest.mark.parametrize(
    ("label", "options"),
    [
        ("\ud800", {}),
        ("ok", {"protocol": "\udfff"}),
        ("x\udc80y", {"negotiated": True, "id": 40}),
    ],
)
def test_lone_surrogate_channel_is_refused_and_the_connection_lives(
    label: str, options: dict[str, Any]
) -> None:
    w = World()
    p, ch, remote = connected(w)
    assert p.a.create_data_channel(label, options) is None
    assert p.a.last_error == Error.ERR_INVALID_PARAMETER
    assert p.a.poll() == Error.OK
    still_works(w, p, ch, remote)
    # before connecting too
    fresh = make_peer(Network(), VirtualClock(), "10.0.0.9", 9)
    assert fresh.create_data_channel(label, options) is None
    assert fresh.last_error == Error.ERR_INVALID_PARAMETER


def test_lone_surrogates_elsewhere_in_the_api_give_error_codes() -> None:
    pc = make_peer(Network(), VirtualClock(), "10.0.0.9", 9)
    cand = "candidate:1 1 udp 2122260223 10.0.0.2 40000 typ host"
    assert pc.add_ice_candidate("\ud800", 0, cand) == Error.ERR_INVALID_PARAMETER
    assert pc.add_ice_candidate("0", 0, cand.replace("10.0.0.2", "\ud800.local")) == (
        Error.ERR_INVALID_DATA
    )
    offer = _offer_text()
    assert pc.set_remote_description(
        "offer", offer.replace("a=ice-ufrag:", "a=ice-ufrag:\ud800")
    ) == (Error.ERR_INVALID_DATA)
    assert pc.set_local_description("offer", "\ud800") == Error.ERR_INVALID_PARAMETER
    bad_configs: list[dict[str, Any]] = [
        {"iceServers": [{"urls": "stun:\ud800.example"}]},
        {"iceServers": [{"urls": ["turn:127.0.0.1"], "username": "\ud800", "credential": "x"}]},
        {"iceServers": [{"urls": ["turn:127.0.0.1"], "username": "u", "credential": "\udfff"}]},
    ]
    for config in bad_configs:
        assert pc.initialize(config) == Error.ERR_INVALID_PARAMETER
    # an over-long host name fails to resolve, it does not raise (IDNA: labels <= 63)
    long_name = {"iceServers": [{"urls": "stun:" + "a" * 70 + ".example"}]}
    assert pc.initialize(long_name) == Error.ERR_CANT_RESOLVE
    ch = WebRTCDataChannel(None, sctp.ChannelConfig("x"))
    assert ch.put_var("\ud800") != Error.OK  # never raises


def _offer_text() -> str:
    other = make_peer(Network(), VirtualClock(), "10.0.0.2", seed=2)
    got: list[str] = []
    other.session_description_created.connect(lambda t, s: got.append(s))
    other.create_data_channel("x")
    other.create_offer()
    other.poll()
    return got[0]


_hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_hostile_text, _hostile_text, st.integers(-2, 3))
def test_no_str_argument_makes_the_api_raise(text: str, other: str, index: int) -> None:
    pc = make_peer(Network(), VirtualClock(), "10.0.0.9", 9)
    results: list[object] = [
        pc.create_data_channel(text, {"protocol": other}),
        pc.add_ice_candidate(text, index, other),
        pc.add_ice_candidate("0", 0, "candidate:" + text),
        pc.set_remote_description("offer", text),
        pc.set_remote_description(text, other),
        pc.set_local_description(text, other),
        pc.initialize({"iceServers": [{"urls": text, "username": other, "credential": text}]}),
        pc.initialize({"iceServers": [{"urls": "stun:" + text}]}),
    ]
    for r in results:
        assert r is None or isinstance(r, WebRTCDataChannel | Error)
    assert pc.poll() in (Error.OK, Error.ERR_UNCONFIGURED)


# -- defect 4: closed channels are released -------------------------------------------------------


def _state_is(state: ChannelState, *channels: WebRTCDataChannel) -> Callable[[], bool]:
    return lambda: all(c.get_ready_state() == state for c in channels)


def test_open_close_cycles_leave_no_entries() -> None:
    w = World()
    p, ch, remote = connected(w)
    kept: list[WebRTCDataChannel] = []
    for i in range(150):
        c = p.a.create_data_channel(f"c{i}")
        assert c is not None
        assert w.run(p, _state_is(OPEN, c))
        theirs = p.received_b[-1]
        c.close()
        assert w.run(p, _state_is(CLOSED, c, theirs))
        kept.append(c)
    assert list(p.a._channels) == [ch] and list(p.b._channels) == [remote]
    assert list(p.a._by_sid.values()) == [ch] and list(p.b._by_sid.values()) == [remote]
    # a channel the user kept is simply CLOSED
    old = kept[0]
    assert old.get_ready_state() == CLOSED
    assert old.put_packet(b"x") == Error.ERR_UNAVAILABLE
    assert old.get_buffered_amount() == 0
    old.close()
    assert old.get_ready_state() == CLOSED
    still_works(w, p, ch, remote)


def test_closed_channel_keeps_its_unread_messages_after_release() -> None:
    w = World()
    p, _, _ = connected(w)
    c = p.a.create_data_channel("talk")
    assert c is not None
    assert w.run(p, lambda: len(p.received_b) == 2 and c.get_ready_state() == OPEN)
    theirs = p.received_b[1]
    for i in range(3):
        assert c.put_packet(b"m%d" % i) == Error.OK
    assert w.run(p, lambda: theirs.get_available_packet_count() == 3)
    c.close()
    assert w.run(p, lambda: theirs.get_ready_state() == CLOSED)
    assert theirs not in p.b._channels
    assert [theirs.get_packet() for _ in range(3)] == [b"m0", b"m1", b"m2"]
    assert p.b._budget.queued == 0


def test_channel_closed_before_connecting_is_released() -> None:
    pc = make_peer(Network(), VirtualClock(), "10.0.0.9", 9)
    a = pc.create_data_channel("a")
    b = pc.create_data_channel("b", {"negotiated": True, "id": 7})
    assert a is not None and b is not None
    assert pc.create_data_channel("dup", {"negotiated": True, "id": 7}) is None
    assert pc.last_error == Error.ERR_ALREADY_IN_USE
    b.close()
    assert b.get_ready_state() == CLOSED and b not in pc._channels
    again = pc.create_data_channel("again", {"negotiated": True, "id": 7})  # its id is free
    assert again is not None
    a.close()
    assert list(pc._channels) == [again]


# -- defect 5: stream id allocation, counted ------------------------------------------------------


_SCTP_DIR = os.path.dirname(os.path.abspath(sctp.__file__))


def _sctp_lines(work: Callable[[], object]) -> int:
    """How many lines of the `sctp` package `work()` executes (a deterministic cost measure:
    a search from stream id 0 shows up as lines growing with the number of channels)."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def global_(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename.startswith(_SCTP_DIR) else None

    sys.settrace(global_)
    try:
        work()
    finally:
        sys.settrace(None)
    return count


def test_opening_many_channels_costs_the_same_late_as_early() -> None:
    """Opening the 30,000th channel costs what opening the 100th did (a search from 0 made
    55,000 opens take 153 s), and once ids run out a refused call costs no search."""
    w = World()
    p, first, _ = connected(w)
    parity = first.get_id()  # RFC 8832 §6: a is the DTLS server here, so odd ids
    assert parity in (0, 1)
    free_ids = list(range(parity + 2, 65535, 2))  # stream 65535 is reserved
    made: list[WebRTCDataChannel | None] = []

    def open_some(k: int) -> None:
        made.extend(p.a.create_data_channel(f"c{len(made)}") for _ in range(k))

    early = _sctp_lines(lambda: open_some(100))
    open_some(30_000 - len(made))
    late = _sctp_lines(lambda: open_some(100))
    assert late <= early * 1.5 + 200, (early, late)
    open_some(len(free_ids) - len(made))
    assert all(c is not None for c in made)
    assert [c.get_id() for c in made if c is not None] == free_ids
    refused = _sctp_lines(lambda: [p.a.create_data_channel("refused") for _ in range(100)])
    assert p.a.create_data_channel("refused") is None
    assert refused <= early, (early, refused)
    # a closed channel's id is reused, lowest first
    for i in (10, 3):
        ch = made[i]
        assert ch is not None
        ch.close()
        assert w.run(p, _state_is(CLOSED, ch), max_time=600)
    reuse1 = p.a.create_data_channel("reuse1")
    reuse2 = p.a.create_data_channel("reuse2")
    assert reuse1 is not None and reuse2 is not None
    assert (reuse1.get_id(), reuse2.get_id()) == (free_ids[3], free_ids[10])
    assert p.a.create_data_channel("full again") is None


def _open_before_connecting(n: int) -> int:
    """Lines of sctp run by the set_remote_description that opens `n` channels made before."""
    w = World()
    p = w.pair()
    chans = [p.a.create_data_channel(f"c{i}") for i in range(n)]
    assert all(c is not None for c in chans)
    descriptions: dict[str, str] = {}
    for pc in (p.a, p.b):
        (handler,) = pc.session_description_created.get_connections()
        pc.session_description_created.disconnect(handler)
        pc.session_description_created.connect(lambda t, s: descriptions.__setitem__(t, s))
    assert p.a.create_offer() == Error.OK and p.a.poll() == Error.OK
    assert p.a.set_local_description("offer", descriptions["offer"]) == Error.OK
    assert p.b.set_remote_description("offer", descriptions["offer"]) == Error.OK
    assert p.b.poll() == Error.OK
    lines = _sctp_lines(lambda: p.a.set_remote_description("answer", descriptions["answer"]))
    ids = sorted(c.get_id() for c in chans if c is not None)
    assert ids in (list(range(0, 2 * n, 2)), list(range(1, 2 * n, 2)))
    return lines


def test_channels_made_before_connecting_open_in_linear_time() -> None:
    """16,000 channels created before connecting took 12.8 s to open."""
    small, large = _open_before_connecting(200), _open_before_connecting(6000)
    assert large / 6000 <= 1.5 * small / 200 + 20, (small, large)


# -- limits: remote candidates ---------------------------------------------------------------------


def _candidate(i: int) -> str:
    return f"candidate:{i} 1 udp 2122260223 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} 9 typ host"


def test_remote_candidates_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    from webrtc.peer_connection import MAX_BUFFERED_CANDIDATES

    handed: list[object] = []
    original = __import__("ice").Agent.add_remote_candidate

    def counting(self: Any, cand: Any) -> None:
        handed.append(cand)
        original(self, cand)

    monkeypatch.setattr(__import__("ice").Agent, "add_remote_candidate", counting)
    pc = make_peer(Network(), VirtualClock(), "10.0.0.9", 9)
    for i in range(MAX_BUFFERED_CANDIDATES):
        assert pc.add_ice_candidate("0", 0, _candidate(i)) == Error.OK
    assert pc.add_ice_candidate("0", 0, _candidate(99999)) == Error.ERR_OUT_OF_MEMORY
    # the offer carries 3,000 more: only the agent's bound in all reach ICE
    lines = _offer_text().split("\r\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("a=ice-ufrag"))
    lines[at:at] = [f"a={_candidate(5000 + i)}" for i in range(3000)]
    assert pc.set_remote_description("offer", "\r\n".join(lines)) == Error.OK
    agent = pc._agent
    assert agent is not None
    assert len([c for c in handed if c is not None]) == agent.max_remote_candidates
    assert len(agent.remote_candidates) <= agent.max_remote_candidates
    assert pc.add_ice_candidate("0", 0, _candidate(123456)) == Error.ERR_OUT_OF_MEMORY
    assert pc.poll() == Error.OK


def test_oversized_candidate_and_mid_are_refused() -> None:
    pc = make_peer(Network(), VirtualClock(), "10.0.0.9", 9)
    long_cand = _candidate(1) + " generation 0" + " x y" * 1000
    assert pc.add_ice_candidate("0", 0, long_cand) == Error.ERR_INVALID_DATA
    assert pc.add_ice_candidate("m" * 100_000, 0, _candidate(1)) == Error.ERR_INVALID_PARAMETER
    assert pc._buffered_candidates == []


# -- limits: datagrams per socket per poll() ----------------------------------------------------


class _CountingUdp(UdpTransport):
    def __init__(self) -> None:
        super().__init__(loopback_only=True)
        self.batches: list[int] = []

    def receive(self) -> list[tuple[bytes, tuple[str, int], tuple[str, int]]]:
        out = super().receive()
        self.batches.append(len(out))
        return out


def _flood(port: int, count: int) -> None:
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(count):
            sender.sendto(b"\x00\x01\x00\x00garbage%d" % i, ("127.0.0.1", port))
    finally:
        sender.close()


def _wait_readable(sock: socket.socket) -> None:
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    assert poller.poll(5000)  # a hang guard, never an assertion on time


def test_udp_transport_reads_at_most_the_cap_per_socket() -> None:
    t = UdpTransport(loopback_only=True)
    try:
        local = t.bind("127.0.0.1")
        _flood(local[1], MAX_READ_PER_SOCKET * 3 + 10)
        _wait_readable(t._sockets[local])
        got = t.receive()
        assert len(got) == MAX_READ_PER_SOCKET and t.backlog
        batches = []
        for _ in range(10):
            if not t.backlog:
                break
            batches.append(len(t.receive()))
        assert not t.backlog and batches and max(batches) <= MAX_READ_PER_SOCKET
        # (a small socket buffer may drop some of the flood: the count is not asserted)
        assert len(got) + sum(batches) <= MAX_READ_PER_SOCKET * 3 + 10
    finally:
        t.close()


def test_a_flood_is_read_over_several_polls_and_next_timeout_says_now() -> None:
    clock = VirtualClock()
    holder: list[_CountingUdp] = []

    def factory() -> _CountingUdp:
        holder.append(_CountingUdp())
        return holder[-1]

    pc = WebRTCPeerConnection(transport_factory=factory, clock=clock, rng=random.Random(4))
    pc.session_description_created.connect(lambda t, s: pc.set_local_description(t, s))
    assert pc.create_data_channel("x") is not None
    assert pc.create_offer() == Error.OK
    assert pc.poll() == Error.OK  # the offer is applied: sockets bound
    transport = holder[0]
    (local, sock), *_ = transport._sockets.items()
    n = MAX_READ_PER_SOCKET * 4 + 17
    _flood(local[1], n)
    _wait_readable(sock)
    transport.batches.clear()
    assert pc.poll() == Error.OK
    assert transport.batches == [MAX_READ_PER_SOCKET]
    assert pc.next_timeout() == clock.now  # more is waiting: poll again at once
    for _ in range(10):
        if transport.batches[-1] < MAX_READ_PER_SOCKET:
            break
        assert pc.poll() == Error.OK
    assert transport.batches[-1] < MAX_READ_PER_SOCKET  # the backlog was read
    assert max(transport.batches) <= MAX_READ_PER_SOCKET and len(transport.batches) >= 2
    assert sum(transport.batches) <= n  # (a small socket buffer may drop part of the flood)
    pc.close()


# -- limits: what a log line quotes ---------------------------------------------------------------


def test_log_lines_quote_bounded_excerpts_of_input(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    huge = "x" * 5_000_000
    pc = make_peer(Network(), VirtualClock(), "10.0.0.9", 9)
    offer = _offer_text()
    assert pc.set_remote_description(
        "offer", offer.replace("a=ice-ufrag:", "a=" + huge + "\r\na=ice-ufrag:")
    ) in (Error.OK, Error.ERR_INVALID_DATA)
    assert pc.set_remote_description("offer", "v=0\r\n" + huge) == Error.ERR_INVALID_DATA
    assert pc.set_remote_description("answer", "x" + huge) == Error.ERR_INVALID_DATA
    url = "stun:" + "h" * 100_000
    assert pc.initialize({"iceServers": [{"urls": url}]}) != Error.OK
    assert pc.initialize({"iceServers": [{"urls": "turn:" + huge}]}) != Error.OK
    assert pc.initialize({"iceServers": [{"urls": "stuns:x" + huge[:100_000]}]}) == Error.OK
    WebRTCPeerConnection.set_default_extension("E" * 100_000)
    assert pc.create_data_channel(huge[:70_000]) is None
    ch = WebRTCDataChannel(None, sctp.ChannelConfig("x"))
    ch.set_encode_buffer_max_size(huge)  # type: ignore[arg-type]
    assert caplog.records
    longest = max(len(r.getMessage()) for r in caplog.records)
    assert longest <= 2 * MAX_QUOTED + 200, longest
