"""a=x-dtls-record-size-limit + SCTP PLPMTUD between two of our peers; immediate sends."""

from __future__ import annotations

import random

import sctp
from tests.netsim import Impairment, Network, VirtualClock
from tests.webrtc.helpers import Bulk, Pair, payload
from tests.webrtc.simnet import NetsimTransport, drive, wire
from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection, jsep

OPEN = ChannelState.STATE_OPEN
BASE = 1200  # datagram size of the default path (webrtc sizes SCTP packets from DTLS's MTU)


class SizeTap(NetsimTransport):
    """Records the largest datagram this peer handed to the network."""

    biggest = 0
    sends = 0

    def send(self, data: bytes, local: tuple[str, int], remote: tuple[str, int]) -> None:
        self.biggest = max(self.biggest, len(data))
        self.sends += 1
        super().send(data, local, remote)


class World:
    def __init__(self, mtu: int = 65535) -> None:
        self.net = Network(Impairment(mtu=mtu), seed=3)
        self.clock = VirtualClock()
        self.taps: dict[str, SizeTap] = {}

    def peer(self, host: str, seed: int, *, large: bool = True) -> WebRTCPeerConnection:
        def factory() -> SizeTap:
            tap = SizeTap(self.net, [host], self.clock)
            self.taps[host] = tap
            return tap

        return WebRTCPeerConnection(
            transport_factory=factory,
            clock=self.clock,
            rng=random.Random(seed),
            large_records=large,
        )

    def pair(self, *, large_a: bool = True, large_b: bool = True) -> Pair:
        a = self.peer("10.0.0.1", 1, large=large_a)
        b = self.peer("10.0.0.2", 2, large=large_b)
        p = Pair(a, b)
        b.data_channel_received.connect(p.received_b.append)
        wire(a, b)
        return p

    def connect(self, p: Pair) -> tuple[WebRTCDataChannel, WebRTCDataChannel]:
        ch = p.a.create_data_channel("bulk")
        assert ch is not None and p.a.create_offer() == Error.OK
        assert drive(
            self.net,
            self.clock,
            [p.a, p.b],
            lambda: ch.get_ready_state() == OPEN and bool(p.received_b),
        )
        return ch, p.received_b[0]

    def transfer(self, p: Pair, tx: WebRTCDataChannel, rx: WebRTCDataChannel, n: int) -> None:
        data = payload(16384 * n, n)
        bulk = Bulk(tx, rx, data)
        assert drive(self.net, self.clock, [p.a, p.b], bulk.step, max_time=120)
        assert bulk.result() == data


def test_offer_and_answer_declare_the_limit_unless_disabled() -> None:
    w = World()
    p = w.pair(large_b=False)
    ch = p.a.create_data_channel("x")
    assert ch is not None
    texts: dict[str, str] = {}
    p.a.session_description_created.connect(lambda k, t: texts.setdefault("a", t))
    p.b.session_description_created.connect(lambda k, t: texts.setdefault("b", t))
    assert p.a.create_offer() == Error.OK
    drive(w.net, w.clock, [p.a, p.b], lambda: len(texts) == 2)
    assert "a=x-dtls-record-size-limit:16384\r\n" in texts["a"]
    assert "x-dtls-record-size-limit" not in texts["b"]
    assert jsep.parse_description("offer", texts["a"]).record_size_limit == 16384
    assert jsep.parse_description("answer", texts["b"]).record_size_limit == 0


def test_unreadable_limits_are_ignored() -> None:
    base = jsep.write_description(
        jsep.LocalParameters(
            session_id=1,
            session_version=1,
            ice_ufrag="abcd",
            ice_pwd="a" * 24,
            fingerprint="sha-256 " + ":".join(["AB"] * 32),
            setup="actpass",
        )
    )
    for value in ("abc", "-5", "²", "99999999999", ""):
        text = base + f"a=x-dtls-record-size-limit:{value}\r\n"
        assert jsep.parse_description("offer", text).record_size_limit == 0


def test_two_of_our_peers_move_data_in_big_datagrams() -> None:
    w = World(mtu=65535)
    p = w.pair()
    tx, rx = w.connect(p)
    w.transfer(p, tx, rx, 64)
    assert p.a._sctp is not None and p.a._sctp.plpmtu > BASE
    assert w.taps["10.0.0.1"].biggest > 4 * BASE  # the bulk went out in big datagrams
    assert w.taps["10.0.0.1"].biggest <= 16384 + 64  # one DTLS record of at most 2^14 bytes


def test_a_peer_that_does_not_declare_gets_only_base_sized_datagrams() -> None:
    for large_a, large_b in ((True, False), (False, True)):
        w = World(mtu=65535)
        p = w.pair(large_a=large_a, large_b=large_b)
        tx, rx = w.connect(p)
        w.transfer(p, tx, rx, 16)
        assert w.taps["10.0.0.1"].biggest <= BASE
        assert w.taps["10.0.0.2"].biggest <= BASE


def test_the_search_respects_a_1500_byte_path() -> None:
    w = World(mtu=1500)
    p = w.pair()
    tx, rx = w.connect(p)
    w.transfer(p, tx, rx, 32)
    assoc = p.a._sctp
    assert assoc is not None
    done = sctp.PlpmtudState.SEARCH_COMPLETE
    assert drive(w.net, w.clock, [p.a, p.b], lambda: assoc.plpmtud_state is done, max_time=30)
    assert BASE - 37 < assoc.plpmtu <= 1500 - 37  # 37 = DTLS AES-GCM record overhead
    w.transfer(p, tx, rx, 32)  # the search did not lose data


def test_put_packet_on_an_idle_association_sends_at_once() -> None:
    w = World()
    p = w.pair()
    tx, rx = w.connect(p)
    w.transfer(p, tx, rx, 2)  # settle the probes and acknowledgements
    drive(w.net, w.clock, [p.a, p.b], lambda: False, max_time=1.0)
    tap = w.taps["10.0.0.1"]
    before = tap.sends
    assert tx.put_packet(b"ping") == Error.OK
    assert tap.sends == before + 1  # on the wire before any poll()
    assert tx.put_packet(b"second") == Error.OK
    assert tap.sends == before + 1  # data in flight: waits for poll() (bundled)
    assert drive(w.net, w.clock, [p.a, p.b], lambda: rx.get_available_packet_count() == 2)
    assert [rx.get_packet(), rx.get_packet()] == [b"ping", b"second"]


def test_first_send_after_a_long_idle_is_not_retransmitted() -> None:
    """Regression: T3-rtx started from the time of the last datagram received, not from now,
    fired at once after an idle minute (a spurious retransmission and a collapsed cwnd)."""
    w = World()
    p = w.pair()
    tx, rx = w.connect(p)
    w.transfer(p, tx, rx, 2)
    assoc = p.a._sctp
    assert assoc is not None
    drive(w.net, w.clock, [p.a, p.b], lambda: False, max_time=60.0)
    before = assoc.stats.retransmissions
    for i in range(3):
        assert tx.put_packet(b"after idle %d" % i) == Error.OK
        p.a.poll()
    assert drive(w.net, w.clock, [p.a, p.b], lambda: rx.get_available_packet_count() == 3)
    assert assoc.stats.retransmissions == before


def test_udp_transport_reads_one_or_many_pending_datagrams_in_order() -> None:
    """receive() after one datagram (poll(0) ends the read) and after a burst (read to EAGAIN)."""
    import socket

    from webrtc.net import UdpTransport

    t = UdpTransport(hosts=["127.0.0.1"])
    local = t.bind("127.0.0.1")
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.sendto(b"one", local)
        got = t.receive()
        assert [d for d, _, _ in got] == [b"one"]
        assert got[0][1][1] == sender.getsockname()[1] and got[0][2] == local
        assert t.receive() == []
        burst = [bytes([i]) * (i + 1) for i in range(20)]
        for d in burst:
            sender.sendto(d, local)
        assert [d for d, _, _ in t.receive()] == burst
        assert t.receive() == []
        big = bytes(16421)  # a PLPMTUD-sized DTLS record fits the receive buffer
        sender.sendto(big, local)
        assert [d for d, _, _ in t.receive()] == [big]
    finally:
        sender.close()
        t.close()


def test_the_peers_max_message_size_is_enforced_on_put_packet() -> None:
    """RFC 8841 §6.1: a message above the peer's a=max-message-size is refused locally."""
    w = World()
    a = w.peer("10.0.0.1", 1)
    b = w.peer("10.0.0.2", 2)
    received: list[WebRTCDataChannel] = []
    b.data_channel_received.connect(received.append)

    def on_a(kind: str, text: str) -> None:
        assert a.set_local_description(kind, text) == Error.OK
        assert b.set_remote_description(kind, text) == Error.OK

    def on_b(kind: str, text: str) -> None:
        assert b.set_local_description(kind, text) == Error.OK
        text = text.replace("a=max-message-size:262144", "a=max-message-size:1000")
        assert a.set_remote_description(kind, text) == Error.OK

    a.session_description_created.connect(on_a)
    b.session_description_created.connect(on_b)
    a.ice_candidate_created.connect(lambda m, i, n: b.add_ice_candidate(m, i, n))
    b.ice_candidate_created.connect(lambda m, i, n: a.add_ice_candidate(m, i, n))
    ch = a.create_data_channel("limited")
    assert ch is not None and a.create_offer() == Error.OK
    assert drive(w.net, w.clock, [a, b], lambda: ch.get_ready_state() == OPEN and bool(received))
    assert ch.get_max_packet_size() == 1000
    assert ch.put_packet(bytes(1001)) == Error.ERR_INVALID_PARAMETER
    assert ch.put_packet(bytes(1000)) == Error.OK
    remote = received[0]
    assert drive(w.net, w.clock, [a, b], lambda: remote.get_available_packet_count() == 1)
    assert remote.get_packet() == bytes(1000)
