"""Two peers in one process over real UDP sockets on 127.0.0.1 (bounded loops, no wall-clock
assertions: every wait is a bounded number of poll rounds)."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.webrtc.helpers import Bulk, all_of, payload
from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection
from webrtc.testing import wire

PC = WebRTCPeerConnection
MAX_ROUNDS = 200_000


def run(peers: list[PC], until: Callable[[], bool], rounds: int = MAX_ROUNDS) -> bool:
    for i in range(rounds):
        for pc in peers:
            assert pc.poll() in (Error.OK, Error.ERR_UNCONFIGURED)
        if until():
            return True
        if i % 64 == 63:
            time.sleep(0.0005)  # let the kernel deliver; correctness never depends on it
    return until()


def connected_pair() -> tuple[PC, PC, list[WebRTCDataChannel]]:
    a = WebRTCPeerConnection(loopback_only=True)
    b = WebRTCPeerConnection()
    assert b.initialize({"x-loopback-only": True}) == Error.OK
    received: list[WebRTCDataChannel] = []
    b.data_channel_received.connect(received.append)
    wire(a, b)
    return a, b, received


def test_loopback_connect_channels_bulk_and_close() -> None:
    a, b, received = connected_pair()
    bulk = a.create_data_channel("bulk")
    neg_a = a.create_data_channel("neg", {"negotiated": True, "id": 10, "ordered": False})
    neg_b = b.create_data_channel("neg", {"negotiated": True, "id": 10, "ordered": False})
    assert bulk is not None and neg_a is not None and neg_b is not None
    assert a.create_offer() == Error.OK
    assert run(
        [a, b],
        lambda: (
            bulk.get_ready_state() == ChannelState.STATE_OPEN
            and neg_a.get_ready_state() == ChannelState.STATE_OPEN
            and neg_b.get_ready_state() == ChannelState.STATE_OPEN
            and len(received) == 1
        ),
    )
    assert a.get_connection_state() == PC.STATE_CONNECTED
    assert b.get_connection_state() == PC.STATE_CONNECTED
    remote = received[0]
    assert neg_a.put_packet(b"ping") == Error.OK
    assert run([a, b], lambda: neg_b.get_available_packet_count() == 1)
    assert neg_b.get_packet() == b"ping"
    n = 8 << 20
    up = Bulk(bulk, remote, payload(n, 1), chunk=32768)
    down = Bulk(remote, bulk, payload(n, 2), chunk=32768)
    assert run([a, b], all_of(up.step, down.step), rounds=2_000_000)
    assert up.result() == up.data
    assert down.result() == down.data
    a.close()
    assert run(
        [a, b],
        lambda: (
            remote.get_ready_state() == ChannelState.STATE_CLOSED
            and neg_b.get_ready_state() == ChannelState.STATE_CLOSED
            and b.get_connection_state() == PC.STATE_CLOSED
        ),
    )
    b.close()


def test_demo_runs() -> None:
    from webrtc import demo

    lines: list[str] = []
    assert demo.run(megabytes=0.25, timeout=60, out=lines.append) == 0
    text = "\n".join(lines)
    for expected in (
        "[A] connection state -> STATE_CONNECTING",
        "[A] connection state -> STATE_CONNECTED",
        "[B] connection state -> STATE_CONNECTED",
        "gathering state -> GATHERING_STATE_COMPLETE",
        "signaling state -> SIGNALING_STATE_HAVE_LOCAL_OFFER",
        "[B] got b'Hello from A' (text=True)",
        "[A] got b'Hello from B' (text=False)",
        "MiB in",
        "[B] connection state -> STATE_CLOSED",
    ):
        assert expected in text, (expected, text)


def test_cli_parses() -> None:
    import pytest

    from webrtc.__main__ import main

    with pytest.raises(SystemExit):
        main(["--help"])
