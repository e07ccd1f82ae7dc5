"""The 1200-byte path through real loopback sockets with batched output: a poll's SCTP packets
are sealed in one DTLS call and handed to the transport in one send_many call (UDP GSO where
the kernel has it, one sendto each without); every message arrives whole and in order either
way. Bounded poll rounds, no wall-clock assertions."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Sequence

import pytest

from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection
from webrtc.net import Address, UdpTransport

MAX_ROUNDS = 200_000


def _kernel_has_gso() -> bool:
    """Whether this kernel segments UDP (Linux 4.18+: the UDP_SEGMENT option reads)."""
    if not sys.platform.startswith("linux"):
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.getsockopt(17, 103)  # SOL_UDP, UDP_SEGMENT
        except OSError:
            return False
    return True


class CountingTransport(UdpTransport):
    """UdpTransport that records the size of each batch handed to send_many."""

    def __init__(self, *, udp_offload: bool) -> None:
        super().__init__(hosts=["127.0.0.1"], udp_offload=udp_offload)
        self.batches: list[int] = []

    def send_many(self, datagrams: Sequence[tuple[bytes, Address, Address]]) -> None:
        self.batches.append(len(datagrams))
        super().send_many(datagrams)


def _run(peers: list[WebRTCPeerConnection], until: object, rounds: int = MAX_ROUNDS) -> bool:
    assert callable(until)
    for i in range(rounds):
        for pc in peers:
            assert pc.poll() in (Error.OK, Error.ERR_UNCONFIGURED)
        if until():
            return True
        if i % 64 == 63:
            time.sleep(0.0005)  # let the kernel deliver; correctness never depends on it
    return bool(until())


@pytest.mark.parametrize("udp_offload", [True, False])
def test_bulk_transfer_in_order_through_batched_output(udp_offload: bool) -> None:
    transports: list[CountingTransport] = []

    def factory() -> CountingTransport:
        t = CountingTransport(udp_offload=udp_offload)
        transports.append(t)
        return t

    # large_records=False: 1200-byte datagrams, as with third-party peers
    a = WebRTCPeerConnection(transport_factory=factory, large_records=False)
    b = WebRTCPeerConnection(transport_factory=factory, large_records=False)
    remote: list[WebRTCDataChannel] = []
    b.data_channel_received.connect(remote.append)
    for src, dst in ((a, b), (b, a)):
        src.session_description_created.connect(
            lambda t, s, src=src, dst=dst: (
                src.set_local_description(t, s),
                dst.set_remote_description(t, s),
            )
        )
        src.ice_candidate_created.connect(lambda m, i, n, dst=dst: dst.add_ice_candidate(m, i, n))
    ch = a.create_data_channel("bulk")
    assert ch is not None and a.create_offer() == Error.OK
    assert _run(
        [a, b],
        lambda: (
            ch.get_ready_state() == ChannelState.STATE_OPEN
            and bool(remote)
            and remote[0].get_ready_state() == ChannelState.STATE_OPEN
        ),
    )
    sent = [bytes([i % 256]) * 16384 + i.to_bytes(4, "big") for i in range(64)]
    got: list[bytes] = []
    pending = list(sent)

    def step() -> bool:
        while pending and ch.get_buffered_amount() < 256 * 1024:
            assert ch.put_packet(pending.pop(0)) == Error.OK
        while remote[0].get_available_packet_count():
            got.append(remote[0].get_packet())
        return len(got) == len(sent)

    assert _run([a, b], step)
    assert got == sent
    # the data went out in batches: a poll's datagrams in one send_many call
    assert max(n for t in transports for n in t.batches) > 1
    gso = any(t._gso for t in transports)
    assert gso == (udp_offload and _kernel_has_gso())
    a.close()
    b.close()
