"""Issue 15 §3: where we follow Godot's own behaviour (re-entrant poll, encode buffer size,
the packet-size getter)."""

from __future__ import annotations

import logging
import random

import pytest

import sctp
from tests.netsim import Network, VirtualClock
from tests.webrtc.helpers import Pair, World
from tests.webrtc.simnet import NetsimTransport, drive, make_peer, wire
from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection
from webrtc.peer_connection import MAX_NESTED_POLLS

OPEN = ChannelState.STATE_OPEN


def connected(w: World) -> tuple[Pair, WebRTCDataChannel]:
    p = w.pair()
    ch = p.a.create_data_channel("first")
    assert ch is not None
    assert p.a.create_offer() == Error.OK
    assert w.run(p, lambda: ch.get_ready_state() == OPEN and len(p.received_b) == 1)
    return p, ch


# -- poll() from a signal handler ----------------------------------------------------------------


def test_poll_from_a_handler_is_ok_and_keeps_signal_order() -> None:
    """Godot's poll() returns OK from a handler and goes on draining; every later signal is
    emitted once, in order, whichever poll() emits it."""
    w = World()
    p, _ = connected(w)
    seen: list[tuple[str, int]] = []
    inner: list[Error] = []
    depth = [0]

    def on_channel(ch: WebRTCDataChannel) -> None:
        seen.append((ch.get_label(), depth[0]))
        depth[0] += 1
        try:
            inner.append(p.b.poll())
        finally:
            depth[0] -= 1

    p.b.data_channel_received.connect(on_channel)
    labels = [f"c{i}" for i in range(20)]
    for label in labels:
        assert p.a.create_data_channel(label) is not None
    assert w.run(p, lambda: len(seen) == len(labels))
    assert [label for label, _ in seen] == labels  # in order, none twice, none lost
    assert max(d for _, d in seen) > 0  # inner polls did emit some of them
    assert inner and all(e == Error.OK for e in inner)
    assert [c.get_label() for c in p.received_b[1:]] == labels


def test_poll_from_every_handler_of_thousands_of_signals_does_not_exhaust_the_stack() -> None:
    """Each handler polls again: nesting stops at MAX_NESTED_POLLS, the enclosing calls emit
    the rest, still in order and once each."""
    w = World()
    p, _ = connected(w)
    seen: list[str] = []
    depth = [0, 0]

    def on_channel(ch: WebRTCDataChannel) -> None:
        seen.append(ch.get_label())
        depth[0] += 1
        depth[1] = max(depth[1], depth[0])
        try:
            assert p.b.poll() == Error.OK
        finally:
            depth[0] -= 1

    p.b.data_channel_received.connect(on_channel)
    labels = [f"c{i}" for i in range(1500)]
    for label in labels:
        assert p.a.create_data_channel(label) is not None
    assert w.run(p, lambda: len(seen) == len(labels))
    assert seen == labels
    assert 1 < depth[1] <= MAX_NESTED_POLLS + 1


def test_poll_from_description_handler_emits_candidates_once() -> None:
    def run(reenter: bool) -> list[tuple[str, ...]]:
        pc = make_peer(Network(), VirtualClock(), "10.0.0.1", seed=1)
        log: list[tuple[str, ...]] = []
        results: list[Error] = []

        def on_desc(kind: str, text: str) -> None:
            log.append(("desc", kind))
            assert pc.set_local_description(kind, text) == Error.OK
            if reenter:
                results.append(pc.poll())

        pc.session_description_created.connect(on_desc)
        pc.ice_candidate_created.connect(lambda m, i, n: log.append(("cand", m, str(i), n)))
        pc.create_data_channel("a")
        assert pc.create_offer() == Error.OK
        for _ in range(3):
            assert pc.poll() == Error.OK
        assert results == ([Error.OK] if reenter else [])
        return log

    plain, nested = run(False), run(True)
    kinds = [e[:3] for e in plain]
    assert [e[:3] for e in nested] == kinds and len(kinds) > 1  # ports differ between runs
    names = [e[3] for e in nested if e[0] == "cand"]
    assert len(set(names)) == len(names)


def test_poll_from_trace_callback_does_not_recurse() -> None:
    """Inside the I/O step (a trace callback), poll() returns OK without stepping again."""
    results: list[Error] = []
    holder: list[WebRTCPeerConnection] = []
    net, clock = Network(), VirtualClock()

    def trace(event: object) -> None:
        if holder and len(results) < 3:
            results.append(holder[0].poll())

    a = WebRTCPeerConnection(
        transport_factory=lambda: NetsimTransport(net, ["10.0.0.1"], clock),
        clock=clock,
        rng=random.Random(1),
        trace=trace,
    )
    holder.append(a)
    b = make_peer(net, clock, "10.0.0.2", 2)
    wire(a, b)
    ch = a.create_data_channel("t")
    assert ch is not None
    assert a.create_offer() == Error.OK
    assert drive(net, clock, [a, b], lambda: ch.get_ready_state() == OPEN)
    assert results == [Error.OK] * 3


# -- encode_buffer_max_size (Godot's PacketPeer::set_encode_buffer_max_size) -----------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1024, 1024),
        (1025, 2048),
        (5000, 8192),
        (65536, 65536),
        (256 * 1024 * 1024, 256 * 1024 * 1024),
        (100_000_000, 128 * 1024 * 1024),
    ],
)
def test_encode_buffer_max_size_rounds_up_to_a_power_of_two(value: int, expected: int) -> None:
    ch = WebRTCDataChannel(None, sctp.ChannelConfig("x"))
    ch.set_encode_buffer_max_size(value)
    assert ch.get_encode_buffer_max_size() == expected
    ch.encode_buffer_max_size = value
    assert ch.encode_buffer_max_size == expected


@pytest.mark.parametrize("value", [100, 1023, 0, -5, 256 * 1024 * 1024 + 1, 1 << 40, 2.5, "4096"])
def test_encode_buffer_max_size_refuses_out_of_range(
    value: object, caplog: pytest.LogCaptureFixture
) -> None:
    ch = WebRTCDataChannel(None, sctp.ChannelConfig("x"))
    ch.set_encode_buffer_max_size(4096)
    with caplog.at_level(logging.ERROR):
        ch.set_encode_buffer_max_size(value)  # type: ignore[arg-type]
    assert ch.get_encode_buffer_max_size() == 4096  # unchanged, as Godot's ERR_FAIL_COND
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_default_encode_buffer_max_size_is_godots() -> None:
    assert (
        WebRTCDataChannel(None, sctp.ChannelConfig("x")).get_encode_buffer_max_size()
        == 8 * 1024 * 1024
    )


# -- get_max_packet_size() == what put_packet accepts --------------------------------------------


def _with_remote_mms(w: World, mms: int | None) -> tuple[Pair, WebRTCDataChannel]:
    """A connected pair whose b advertises `mms` (None: the attribute left out) to a."""
    p = w.pair()

    def rewrite(text: str) -> str:
        lines = [ln for ln in text.split("\r\n") if not ln.startswith("a=max-message-size:")]
        if mms is not None:
            at = next(i for i, ln in enumerate(lines) if ln.startswith("a=sctp-port:"))
            lines.insert(at + 1, f"a=max-message-size:{mms}")
        return "\r\n".join(lines)

    b_desc = p.b.session_description_created
    (handler,) = b_desc.get_connections()
    b_desc.disconnect(handler)

    def on_b_desc(kind: str, text: str) -> None:
        assert p.b.set_local_description(kind, text) == Error.OK
        assert p.a.set_remote_description(kind, rewrite(text)) == Error.OK

    b_desc.connect(on_b_desc)
    ch = p.a.create_data_channel("m")
    assert ch is not None
    assert p.a.create_offer() == Error.OK
    assert w.run(p, lambda: ch.get_ready_state() == OPEN and len(p.received_b) == 1)
    return p, ch


@pytest.mark.parametrize(
    ("mms", "expected"),
    [
        (2 * 1024 * 1024, 262144),  # the peer takes more than we send: our own limit
        (1 << 30, 262144),  # Firefox advertises 1 GiB
        (0, 262144),  # the peer has no limit: ours
        (100_000, 100_000),  # the peer's is smaller
        (None, 65536),  # absent: RFC 8841 §6.1 default 64 KiB
    ],
)
def test_max_packet_size_is_what_put_packet_accepts(mms: int | None, expected: int) -> None:
    w = World()
    _, ch = _with_remote_mms(w, mms)
    assert ch.get_max_packet_size() == expected
    assert ch.put_packet(bytes(expected)) == Error.OK
    assert ch.put_packet(bytes(expected + 1)) == Error.ERR_INVALID_PARAMETER
