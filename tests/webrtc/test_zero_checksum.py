"""WebRTCPeerConnection(zero_checksum=...) (RFC 9653 §5.2) between two of our peers, and the
association's counters of zero-checksum packets accepted and refused (RFC 9653 §5.4)."""

from __future__ import annotations

import random

import pytest

import sctp
from tests.netsim import Impairment, Network, VirtualClock
from tests.sctp.util import connect, make_pair
from tests.webrtc.helpers import Pair
from tests.webrtc.simnet import NetsimTransport, drive, wire
from webrtc import ChannelState, Error, WebRTCPeerConnection

N = 8  # messages each way


def _exchange(za: bool, zb: bool) -> tuple[sctp.Association, sctp.Association]:
    """Two peers (`zero_checksum` za, zb) open a channel and move N messages each way."""
    net = Network(Impairment(), seed=5)
    clock = VirtualClock()

    def peer(host: str, seed: int, zc: bool) -> WebRTCPeerConnection:
        return WebRTCPeerConnection(
            transport_factory=lambda: NetsimTransport(net, [host], clock),
            clock=clock,
            rng=random.Random(seed),
            zero_checksum=zc,
        )

    p = Pair(peer("10.0.0.1", 1, za), peer("10.0.0.2", 2, zb))
    p.b.data_channel_received.connect(p.received_b.append)
    wire(p.a, p.b)
    ch = p.a.create_data_channel("z")
    assert ch is not None and p.a.create_offer() == Error.OK
    opened = lambda: ch.get_ready_state() == ChannelState.STATE_OPEN and bool(p.received_b)  # noqa: E731
    assert drive(net, clock, [p.a, p.b], opened)
    rx = p.received_b[0]
    for i in range(N):
        assert ch.put_packet(b"a%d" % i) == Error.OK
        assert rx.put_packet(b"b%d" % i) == Error.OK
    got: dict[str, list[bytes]] = {"a": [], "b": []}

    def done() -> bool:
        while ch.get_available_packet_count():
            got["a"].append(ch.get_packet())
        while rx.get_available_packet_count():
            got["b"].append(rx.get_packet())
        return len(got["a"]) == N and len(got["b"]) == N

    assert drive(net, clock, [p.a, p.b], done)
    assert got == {"a": [b"b%d" % i for i in range(N)], "b": [b"a%d" % i for i in range(N)]}
    assert p.a._sctp is not None and p.b._sctp is not None
    return p.a._sctp, p.b._sctp


@pytest.mark.parametrize(("za", "zb"), [(False, True), (True, False), (False, False)])
def test_off_on_either_side_means_no_zero_checksum_either_way(za: bool, zb: bool) -> None:
    a, b = _exchange(za, zb)
    for assoc in (a, b):
        assert not assoc.writer.zero_checksum
        assert assoc.stats.packets_received > 2
        assert assoc.stats.zero_checksum_received == 0
        assert assoc.stats.zero_checksum_refused == assoc.stats.bad_checksum == 0


def test_on_on_both_sides_zero_checksums_flow_both_ways() -> None:
    a, b = _exchange(True, True)
    for assoc in (a, b):
        assert assoc.writer.zero_checksum
        # all but the handshake's first packets (INIT, INIT ACK, COOKIE ECHO: RFC 9653 §5.2)
        st = assoc.stats
        assert (
            st.zero_checksum_received > 0 and st.zero_checksum_received >= st.packets_received - 3
        )
        assert assoc.stats.zero_checksum_refused == assoc.stats.bad_checksum == 0


def test_a_zero_checksum_we_did_not_advertise_is_refused_and_counted() -> None:
    a, b = make_pair(zero_checksum=False)
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("z")
    pkts = a.assoc.datagrams_to_send()
    before = b.assoc.stats.packets_received
    for p in pkts:
        b.assoc.receive(p[:8] + b"\0\0\0\0" + p[12:], clock.now)  # RFC 9653 §5.4
    b.drain()
    st = b.assoc.stats
    assert st.packets_received == before + len(pkts) and sid not in b.opened
    assert st.zero_checksum_refused == len(pkts) == st.bad_checksum
    assert st.zero_checksum_received == 0


def test_accepted_zero_checksums_are_counted_once_on_either_receive_path() -> None:
    a, b = make_pair()  # both advertise: zero checksums in use
    clock = VirtualClock()
    connect(a, b, clock)
    counted = b.assoc.stats.zero_checksum_received
    a.assoc.open_channel("z")  # DCEP OPEN: a DATA chunk the in-place parser hands on
    pkts = a.assoc.datagrams_to_send()
    assert pkts and all(p[8:12] == b"\0\0\0\0" for p in pkts)
    for p in pkts:
        b.assoc.receive(p, clock.now)
    b.assoc.receive_general(pkts[0], clock.now)  # (a duplicate, through the reference path)
    b.assoc.receive(bytearray(pkts[0]), clock.now)  # not bytes: the general path checks it
    assert b.assoc.stats.zero_checksum_received == counted + len(pkts) + 2
