"""Association behaviour: handshake, INIT collision, cookies, tags, checksums, channels."""

from __future__ import annotations

import random

import pytest

import sctp
from sctp import chunks as c
from sctp import dcep
from sctp.tx import Sender
from tests.netsim import Impairment, Link, VirtualClock

from .util import Peer, connect, links, make_pair, run


def established_pair(**kwargs: object) -> tuple[Peer, Peer, VirtualClock]:
    a, b = make_pair(**kwargs)  # type: ignore[arg-type]
    clock = VirtualClock()
    connect(a, b, clock)
    return a, b, clock


def deliver(src: Peer, dst: Peer, now: float) -> list[bytes]:
    pkts = src.assoc.datagrams_to_send()
    for p in pkts:
        dst.assoc.receive(p, now)
    return pkts


def data_packet(dst: Peer, *chunk_bytes: bytes, vtag: int | None = None) -> bytes:
    tag = dst.assoc.handshake.local_tag if vtag is None else vtag
    return c.encode_packet(5000, 5000, tag, b"".join(chunk_bytes))


def next_peer_tsn(dst: Peer) -> int:
    return (dst.assoc.rx.cum + 1) & 0xFFFFFFFF


# ---------------------------------------------------------------- handshake


def test_one_sided_connect() -> None:
    a, b = make_pair()
    clock = VirtualClock()
    connect(a, b, clock, both=False)
    assert a.assoc.state is sctp.State.ESTABLISHED and b.assoc.state is sctp.State.ESTABLISHED
    assert a.assoc.writer.tag == b.assoc.handshake.local_tag
    assert b.assoc.writer.tag == a.assoc.handshake.local_tag


@pytest.mark.parametrize("offset", [0.0, 0.002, 0.005, 0.007, 0.01, 0.012, 0.03])
def test_init_collision(offset: float) -> None:
    """Both ends send INIT (RFC 9260 §5.2.1/§5.2.4), at any relative timing."""
    a, b = make_pair(seed=int(offset * 1000))
    clock = VirtualClock()
    a.assoc.connect(0.0)
    started = [False]

    def step(now: float) -> None:
        if not started[0] and (now >= offset or b.established):
            started[0] = True
            b.assoc.connect(now)

    assert run(a, b, clock, lambda: a.established and b.established and started[0], on_step=step)
    assert a.assoc.writer.tag == b.assoc.handshake.local_tag
    assert b.assoc.writer.tag == a.assoc.handshake.local_tag
    # exactly one AssociationEstablished each
    for p in (a, b):
        assert sum(isinstance(e, sctp.AssociationEstablished) for e in p.events) == 1
    sid = a.assoc.open_channel("x")
    a.assoc.send(sid, b"after collision")
    sid_b = b.assoc.open_channel("y")
    b.assoc.send(sid_b, b"other way")
    assert run(a, b, clock, lambda: bool(b.messages.get(sid)) and bool(a.messages.get(sid_b)))
    assert b.messages[sid] == [b"after collision"] and a.messages[sid_b] == [b"other way"]


def test_simultaneous_init_exact_crossing() -> None:
    """Both INITs cross on the wire; each side answers the other's INIT from COOKIE-WAIT."""
    a, b = make_pair()
    a.assoc.connect(0.0)
    b.assoc.connect(0.0)
    ia, ib = a.assoc.datagrams_to_send(), b.assoc.datagrams_to_send()
    assert c.decode_packet(ia[0]).verification_tag == 0
    for p in ia:
        b.assoc.receive(p, 0.01)
    for p in ib:
        a.assoc.receive(p, 0.01)
    assert a.assoc.state is sctp.State.COOKIE_WAIT and b.assoc.state is sctp.State.COOKIE_WAIT
    # INIT ACKs: each carries the same tag the INIT did (RFC 9260 §5.2.1)
    for _ in range(4):
        deliver(a, b, 0.02)
        deliver(b, a, 0.02)
    a.drain()
    b.drain()
    assert a.established and b.established


@pytest.mark.parametrize("seed", range(6))
def test_handshake_under_loss(seed: int) -> None:
    a, b = make_pair(seed=seed)
    clock = VirtualClock()
    lab, lba = links(Impairment(loss=0.4, duplicate=0.2, reorder=0.3, seed=seed), seed)
    a.assoc.connect(0.0)
    b.assoc.connect(0.0)
    assert run(
        a, b, clock, lambda: a.established and b.established, link_ab=lab, link_ba=lba, max_time=900
    )
    assert a.assoc.writer.tag == b.assoc.handshake.local_tag


def test_handshake_gives_up() -> None:
    a, b = make_pair()
    clock = VirtualClock()
    lab = Link()
    lab.down = True
    a.assoc.connect(0.0)
    run(a, b, clock, lambda: a.assoc_closed is not None, link_ab=lab, max_time=1000)
    assert a.assoc_closed is not None and a.assoc_closed.error is not None


def _handshake_until_cookie_echo(a: Peer, b: Peer) -> bytes:
    a.assoc.connect(0.0)
    (init,) = a.assoc.datagrams_to_send()
    b.assoc.receive(init, 0.001)
    (init_ack,) = b.assoc.datagrams_to_send()
    a.assoc.receive(init_ack, 0.002)
    (echo,) = a.assoc.datagrams_to_send()
    assert isinstance(c.decode_packet(echo).chunks[0], c.CookieEchoChunk)
    return echo


def test_forged_cookie_rejected() -> None:
    a, b = make_pair()
    echo = _handshake_until_cookie_echo(a, b)
    pkt = c.decode_packet(echo)
    chunk = pkt.chunks[0]
    assert isinstance(chunk, c.CookieEchoChunk)
    for i in (0, 9, len(chunk.cookie) - 1):
        forged = bytearray(chunk.cookie)
        forged[i] ^= 0x40
        b.assoc.receive(
            c.encode_packet(
                5000, 5000, pkt.verification_tag, c.CookieEchoChunk(bytes(forged)).encode()
            ),
            0.003,
        )
    b.assoc.receive(
        c.encode_packet(5000, 5000, pkt.verification_tag, c.CookieEchoChunk(b"short").encode()),
        0.003,
    )
    assert b.assoc.stats.cookies_rejected == 4
    assert b.assoc.state is sctp.State.CLOSED and b.assoc.datagrams_to_send() == []
    # the genuine cookie still works
    b.assoc.receive(echo, 0.004)
    b.drain()
    assert b.established


def test_cookie_from_other_association_rejected() -> None:
    a, b = make_pair()
    echo = _handshake_until_cookie_echo(a, b)
    other = sctp.Association(is_client=False, rng=random.Random(99))
    other.receive(echo, 0.003)
    assert other.stats.cookies_rejected == 1 and other.next_event() is None


def test_stale_cookie_rejected_and_handshake_restarts() -> None:
    a, b = make_pair()
    echo = _handshake_until_cookie_echo(a, b)
    b.assoc.receive(echo, 61.0)  # Valid.Cookie.Life is 60 s (RFC 9260 §16)
    assert b.assoc.stats.stale_cookies == 1
    b.drain()
    assert not b.established
    (err,) = b.assoc.datagrams_to_send()
    chunk = c.decode_packet(err).chunks[0]
    assert isinstance(chunk, c.ErrorChunk) and chunk.causes[0][0] == c.CauseCode.STALE_COOKIE
    a.assoc.receive(err, 61.0)
    assert a.assoc.state is sctp.State.COOKIE_WAIT
    clock = VirtualClock(61.0)
    assert run(a, b, clock, lambda: a.established and b.established)


def test_init_with_zero_tag_is_aborted() -> None:
    _a, b = make_pair()
    bad = c.InitChunk(0, 1000, 10, 10, 1).encode()
    b.assoc.receive(c.encode_packet(5000, 5000, 0, bad), 0.0)
    assert b.assoc.stats.malformed == 1 and b.assoc.datagrams_to_send() == []


def test_init_unrecognized_params_reported() -> None:
    _a, b = make_pair()
    init = c.InitChunk(
        0x1234, 100000, 10, 10, 5, [(0x4321, b"stop+report"), (0x7777, b"never seen")]
    )
    b.assoc.receive(c.encode_packet(5000, 5000, 0, init.encode()), 0.0)
    (pkt,) = b.assoc.datagrams_to_send()
    ack = c.decode_packet(pkt).chunks[0]
    assert isinstance(ack, c.InitAckChunk)
    unrec = [v for t, v in ack.params if t == c.ParamType.UNRECOGNIZED_PARAMETER]
    assert len(unrec) == 1 and unrec[0][:2] == b"\x43\x21"
    init2 = c.InitChunk(0x1234, 100000, 10, 10, 5, [(0xC123, b"skip+report"), (0x8FFF, b"skip")])
    b.assoc.receive(c.encode_packet(5000, 5000, 0, init2.encode()), 0.0)
    (pkt,) = b.assoc.datagrams_to_send()
    ack = c.decode_packet(pkt).chunks[0]
    assert isinstance(ack, c.InitAckChunk)
    unrec = [v for t, v in ack.params if t == c.ParamType.UNRECOGNIZED_PARAMETER]
    assert len(unrec) == 1 and unrec[0][:2] == b"\xc1\x23"


# ---------------------------------------------------------------- tags and checksums


def test_wrong_tag_bad_crc_truncated_are_dropped_and_counted() -> None:
    a, b, clock = established_pair()
    sid = a.assoc.open_channel("c")
    assert run(a, b, clock, lambda: sid in a.opened)
    a.assoc.send(sid, b"payload")
    (good,) = a.assoc.datagrams_to_send()
    pkt = c.decode_packet(good, allow_zero_checksum=True)
    body = b"".join(ch.encode() for ch in pkt.chunks)
    # wrong verification tag (RFC 9260 §8.5)
    b.assoc.receive(data_packet(b, body, vtag=b.assoc.handshake.local_tag ^ 1), clock.now)
    assert b.assoc.stats.bad_vtag == 1
    # bad CRC
    bad = bytearray(data_packet(b, body))
    bad[-3] ^= 0xFF
    b.assoc.receive(bytes(bad), clock.now)
    assert b.assoc.stats.bad_checksum == 1
    # truncated chunks (valid checksum)
    b.assoc.receive(data_packet(b, body[:10]), clock.now)
    b.assoc.receive(data_packet(b, body[:20]), clock.now)
    assert b.assoc.stats.malformed == 2
    # INIT with a non-zero tag is discarded (§8.5.1)
    b.assoc.receive(data_packet(b, c.InitChunk(5, 1, 1, 1, 1).encode()), clock.now)
    assert b.assoc.stats.bad_vtag == 2
    # ports that do not match the association
    b.assoc.receive(c.encode_packet(5001, 5000, b.assoc.handshake.local_tag, body), clock.now)
    assert b.assoc.stats.malformed == 3
    b.drain()
    assert b.messages.get(sid) is None
    # the association keeps serving
    b.assoc.receive(good, clock.now)
    b.drain()
    assert b.messages[sid] == [b"payload"]
    a.assoc.send(sid, b"still fine")
    assert run(a, b, clock, lambda: len(b.messages[sid]) == 2)


def test_abort_tag_rules() -> None:
    _a, b, clock = established_pair()
    # T bit set but our own tag -> not accepted
    b.assoc.receive(
        data_packet(b, c.AbortChunk(True).encode(), vtag=b.assoc.handshake.local_tag), clock.now
    )
    assert b.assoc.state is sctp.State.ESTABLISHED
    # T bit set with the peer's tag -> accepted (RFC 9260 §8.5.1 B)
    b.assoc.receive(data_packet(b, c.AbortChunk(True).encode(), vtag=b.assoc.writer.tag), clock.now)
    b.drain()
    assert b.assoc.state is sctp.State.CLOSED and b.assoc_closed is not None


def _checksums(pkts: list[bytes]) -> list[int]:
    return [c.decode_packet(p, check_crc=False).checksum for p in pkts]


def test_zero_checksum_negotiated() -> None:
    a, b, clock = established_pair()
    assert a.assoc.writer.zero_checksum and b.assoc.writer.zero_checksum
    sid = a.assoc.open_channel("z")
    pkts = a.assoc.datagrams_to_send()
    assert pkts and _checksums(pkts) == [0] * len(pkts)
    for p in pkts:
        b.assoc.receive(p, clock.now)
    # a correct non-zero checksum is accepted too, a wrong non-zero one is not
    chunk = c.DataChunk(3, next_peer_tsn(b), sid, 1, 51, b"crc").encode()
    b.assoc.receive(data_packet(b, chunk), clock.now)
    bad = bytearray(data_packet(b, chunk))
    bad[8] ^= 1
    b.assoc.receive(bytes(bad), clock.now)
    assert b.assoc.stats.bad_checksum == 1
    b.drain()
    assert b.messages[sid] == [b"crc"]


@pytest.mark.parametrize(("za", "zb"), [(False, True), (True, False), (False, False)])
def test_zero_checksum_not_negotiated(za: bool, zb: bool) -> None:
    a = Peer(sctp.Association(is_client=True, rng=random.Random(1), zero_checksum=za))
    b = Peer(sctp.Association(is_client=False, rng=random.Random(2), zero_checksum=zb))
    clock = VirtualClock()
    connect(a, b, clock)
    assert not a.assoc.writer.zero_checksum and not b.assoc.writer.zero_checksum
    sid = a.assoc.open_channel("z")
    pkts = a.assoc.datagrams_to_send()
    assert all(c.verify_checksum(p) for p in pkts)
    zero = [p[:8] + b"\0\0\0\0" + p[12:] for p in pkts]
    for p in zero:
        b.assoc.receive(p, clock.now)
    b.drain()
    if not zb:
        assert b.assoc.stats.bad_checksum == len(pkts) and sid not in b.opened
    assert run(a, b, clock, lambda: sid in b.opened)


# ---------------------------------------------------------------- chunks we do not know


def test_unknown_chunk_upper_bits() -> None:
    a, b, _clock = established_pair()
    sid = a.assoc.open_channel("u", negotiated_id=4)
    b.assoc.open_channel("u", negotiated_id=4)
    base = b.assoc.stats.unknown_chunks

    def data(ssn: int, payload: bytes) -> bytes:
        return c.DataChunk(3, next_peer_tsn(b), sid, ssn, 53, payload).encode()

    # 00: stop processing, discard silently
    b.assoc.receive(data_packet(b, c.UnknownChunk(0x3F, 0, b"x").encode(), data(0, b"A")), 1.0)
    assert b.assoc.datagrams_to_send() == []
    # 01: stop and report
    b.assoc.receive(data_packet(b, c.UnknownChunk(0x41, 0, b"y").encode(), data(0, b"B")), 1.0)
    reports = [
        ch for p in b.assoc.datagrams_to_send() for ch in c.decode_packet(p, check_crc=False).chunks
    ]
    assert any(
        isinstance(ch, c.ErrorChunk) and ch.causes[0][0] == c.CauseCode.UNRECOGNIZED_CHUNK_TYPE
        for ch in reports
    )
    # 10: skip silently, 11: skip and report; DATA after them is processed
    b.assoc.receive(data_packet(b, c.UnknownChunk(0x81, 0, b"").encode(), data(0, b"C")), 1.0)
    b.assoc.receive(data_packet(b, c.UnknownChunk(0xC3, 0, b"zz").encode(), data(1, b"D")), 1.0)
    b.drain()
    assert b.messages[sid] == [b"C", b"D"]
    assert b.assoc.stats.unknown_chunks == base + 4


def test_heartbeat_is_echoed() -> None:
    _a, b, clock = established_pair()
    info = [(1, b"opaque heartbeat info")]
    b.assoc.receive(data_packet(b, c.HeartbeatChunk(info).encode()), clock.now)
    chunks = [
        ch for p in b.assoc.datagrams_to_send() for ch in c.decode_packet(p, check_crc=False).chunks
    ]
    assert c.HeartbeatAckChunk(info) in chunks


# ---------------------------------------------------------------- channels and messages


def test_stream_id_parity_and_negotiated() -> None:
    a, b, clock = established_pair()
    assert [a.assoc.open_channel(f"a{i}") for i in range(3)] == [0, 2, 4]
    assert [b.assoc.open_channel(f"b{i}") for i in range(3)] == [1, 3, 5]
    with pytest.raises(sctp.ChannelError):
        a.assoc.open_channel("dup", negotiated_id=2)
    with pytest.raises(sctp.ChannelError):
        a.assoc.open_channel("bad", negotiated_id=70000)
    with pytest.raises(sctp.ChannelError):
        a.assoc.open_channel("bad", max_retransmits=1, max_packet_lifetime=1)
    na = a.assoc.open_channel("neg", negotiated_id=100, ordered=False, max_retransmits=2)
    nb = b.assoc.open_channel("neg", negotiated_id=100, ordered=False, max_retransmits=2)
    assert na == nb == 100
    a.drain()
    b.drain()
    assert a.opened[100].negotiated and b.opened[100].negotiated
    a.assoc.send(100, b"n")
    assert run(a, b, clock, lambda: len(a.opened) == 7 and len(b.opened) == 7)
    assert run(a, b, clock, lambda: b.messages.get(100) == [b"n"])
    assert a.opened[0].remote is False and b.opened[0].remote is True
    assert b.opened[0].label == "a0" and a.opened[1].label == "b0"


def test_channel_options_reach_the_peer() -> None:
    a, b, clock = established_pair()
    s1 = a.assoc.open_channel(
        "t", protocol="json", ordered=False, max_packet_lifetime=1500, priority=512
    )
    s2 = a.assoc.open_channel("r", max_retransmits=3, priority=128)
    assert run(a, b, clock, lambda: s1 in b.opened and s2 in b.opened and s2 in a.opened)
    o = b.opened[s1]
    assert (
        o.label,
        o.protocol,
        o.ordered,
        o.max_packet_lifetime,
        o.max_retransmits,
        o.priority,
    ) == (
        "t",
        "json",
        False,
        1500,
        None,
        512,
    )
    assert (b.opened[s2].max_retransmits, b.opened[s2].ordered, b.opened[s2].priority) == (
        3,
        True,
        128,
    )


def test_channel_before_association_and_send_before_ack() -> None:
    a, b = make_pair()
    clock = VirtualClock()
    sid = a.assoc.open_channel("early")
    a.assoc.send(sid, b"queued before connect")
    a.assoc.send(sid, b"")
    a.assoc.send(sid, b"text", binary=False)
    a.assoc.connect(0.0)
    b.assoc.connect(0.0)
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == 3)
    assert b.messages[sid] == [b"queued before connect", b"", b"text"]
    binary = [e.binary for e in b.events if isinstance(e, sctp.MessageReceived)]
    assert binary == [True, True, False]


def test_empty_messages_on_the_wire() -> None:
    a, _b, _clock = established_pair()
    sid = a.assoc.open_channel("e", negotiated_id=0)
    a.assoc.send(sid, b"", binary=False)
    a.assoc.send(sid, b"", binary=True)
    wire = [
        ch for p in a.assoc.datagrams_to_send() for ch in c.decode_packet(p, check_crc=False).chunks
    ]
    data = [ch for ch in wire if isinstance(ch, c.DataChunk)]
    assert [(d.ppid, d.user_data) for d in data] == [(56, b"\x00"), (57, b"\x00")]


def test_message_size_limits() -> None:
    a, b, clock = established_pair()
    sid = a.assoc.open_channel("m")
    with pytest.raises(sctp.MessageTooLarge):
        a.assoc.send(sid, bytes(262145))
    a.assoc.send(sid, bytes(262144))
    a.assoc.set_remote_max_message_size(1000)
    with pytest.raises(sctp.MessageTooLarge):
        a.assoc.send(sid, bytes(1001))
    a.assoc.send(sid, bytes(1000))
    a.assoc.set_remote_max_message_size(0)
    a.assoc.send(sid, bytes(262144))
    with pytest.raises(sctp.ChannelNotOpen):
        a.assoc.send(777, b"x")
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == 3)
    assert [len(m) for m in b.messages[sid]] == [262144, 1000, 262144]


def test_buffered_amount_tracks_handed_out_bytes() -> None:
    a, b, clock = established_pair()
    sid = a.assoc.open_channel("b", negotiated_id=2)
    b.assoc.open_channel("b", negotiated_id=2)
    a.assoc.send(sid, bytes(100000))
    a.assoc.send(sid, b"")
    assert a.assoc.buffered_amount(sid) == 100000
    pkts = a.assoc.datagrams_to_send()
    handed = sum(
        len(ch.user_data)
        for p in pkts
        for ch in c.decode_packet(p, check_crc=False).chunks
        if isinstance(ch, c.DataChunk)
    )
    assert 0 < handed < 100000  # limited by the congestion window
    assert a.assoc.buffered_amount(sid) == 100000 - handed
    for p in pkts:
        b.assoc.receive(p, clock.now)
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == 2)
    assert a.assoc.buffered_amount(sid) == 0


def test_send_buffer_is_bounded() -> None:
    a = sctp.Association(is_client=True, rng=random.Random(1), max_send_buffer=10000)
    sid = a.open_channel("x")
    a.send(sid, bytes(9000))
    with pytest.raises(sctp.SendBufferFull):
        a.send(sid, bytes(2000))


def test_dcep_open_on_stream_in_use_is_ignored() -> None:
    a, b, clock = established_pair()
    sid = a.assoc.open_channel("one")
    assert run(a, b, clock, lambda: sid in a.opened)
    before = len(b.opened)
    # a second OPEN on the same stream (ordered SSN 1) is a DCEP error
    open2 = dcep.DataChannelOpen.for_channel(
        "two", "", ordered=True, max_retransmits=None, max_packet_lifetime=None, priority=256
    ).encode()
    chunk = c.DataChunk(3, next_peer_tsn(b), sid, 1, 50, open2).encode()
    b.assoc.receive(data_packet(b, chunk), clock.now)
    b.drain()
    assert b.assoc.stats.dcep_errors == 1 and len(b.opened) == before
    # garbage on PPID 50
    chunk = c.DataChunk(3, next_peer_tsn(b), sid, 2, 50, b"\x09garbage").encode()
    b.assoc.receive(data_packet(b, chunk), clock.now)
    assert b.assoc.stats.dcep_errors == 2


def test_data_before_ack_is_accepted() -> None:
    """Chromium may send DATA before it sees our DATA_CHANNEL_ACK: OPEN and DATA bundled."""
    _a, b, clock = established_pair()
    sid = 2
    open_msg = dcep.DataChannelOpen.for_channel(
        "c", "", ordered=False, max_retransmits=None, max_packet_lifetime=None, priority=256
    ).encode()
    t = next_peer_tsn(b)
    pkt = data_packet(
        b,
        c.DataChunk(3, t, sid, 0, 50, open_msg).encode(),
        c.DataChunk(3, (t + 1) & 0xFFFFFFFF, sid, 1, 51, b"hi").encode(),
    )
    b.assoc.receive(pkt, clock.now)
    b.drain()
    assert b.opened[sid].remote and b.messages[sid] == [b"hi"]


def test_ssn_wraps() -> None:
    a, b, clock = established_pair()
    sid = a.assoc.open_channel("w", negotiated_id=6)
    b.assoc.open_channel("w", negotiated_id=6)
    a.assoc.tx.out_ssn[sid] = 65533
    b.assoc.rx.in_ssn[sid] = 65533
    msgs = [bytes([i]) * (i + 1) for i in range(8)]
    for m in msgs:
        a.assoc.send(sid, m)
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == 8)
    assert b.messages[sid] == msgs


class _FixedRng(random.Random):
    def __init__(self, values: list[int]) -> None:
        super().__init__(5)
        self._values = list(values)

    def randint(self, a: int, b: int) -> int:
        return self._values.pop(0) if self._values else super().randint(a, b)


def test_tsn_wraps_around() -> None:
    a = Peer(sctp.Association(is_client=True, rng=_FixedRng([0x1111, 0xFFFFFFF0])))
    b = Peer(sctp.Association(is_client=False, rng=_FixedRng([0x2222, 0xFFFFFFFE])))
    clock = VirtualClock()
    lab, lba = links(Impairment(loss=0.1, reorder=0.1, seed=3), 3)
    connect(a, b, clock, link_ab=lab, link_ba=lba)
    sa = a.assoc.open_channel("w", ordered=False)
    sb = b.assoc.open_channel("v")
    msgs = [bytes([i % 256]) * (i * 37 % 3000 + 1) for i in range(60)]
    for m in msgs:
        a.assoc.send(sa, m)
        b.assoc.send(sb, m)
    assert run(
        a,
        b,
        clock,
        lambda: len(b.messages.get(sa, [])) == 60 and len(a.messages.get(sb, [])) == 60,
        link_ab=lab,
        link_ba=lba,
    )
    assert sorted(b.messages[sa]) == sorted(msgs) and a.messages[sb] == msgs
    assert a.assoc.tx.next_tsn > (1 << 32) + (1 << 32) - 1  # really wrapped


# ---------------------------------------------------------------- close, shutdown, abort


def test_close_channel_both_sides_and_reuse() -> None:
    a, b, clock = established_pair()
    s1 = a.assoc.open_channel("keep")
    s2 = a.assoc.open_channel("close-me")
    for i in range(20):
        a.assoc.send(s1, b"k%d" % i)
        a.assoc.send(s2, b"c%d" % i)
    a.assoc.close_channel(s2)
    with pytest.raises(sctp.ChannelNotOpen):
        a.assoc.send(s2, b"late")
    for i in range(20, 40):
        a.assoc.send(s1, b"k%d" % i)
    assert run(
        a, b, clock, lambda: s2 in a.closed and s2 in b.closed and len(b.messages.get(s1, [])) == 40
    )
    assert b.messages[s1] == [b"k%d" % i for i in range(40)]
    assert b.messages[s2] == [b"c%d" % i for i in range(20)]
    # the id is reusable and SSNs restarted
    s3 = a.assoc.open_channel("again")
    assert s3 == s2
    a.assoc.send(s3, b"fresh")
    assert run(a, b, clock, lambda: b.messages[s2][-1:] == [b"fresh"])
    assert b.opened[s3].label == "again"


def test_remote_close_channel() -> None:
    a, b, clock = established_pair()
    sid = a.assoc.open_channel("x")
    assert run(a, b, clock, lambda: sid in b.opened)
    b.assoc.close_channel(sid)
    assert run(a, b, clock, lambda: sid in a.closed and sid in b.closed)
    with pytest.raises(sctp.ChannelNotOpen):
        a.assoc.send(sid, b"gone")


def test_shutdown_delivers_pending_data_first() -> None:
    a, b, clock = established_pair()
    sid = a.assoc.open_channel("s")
    msgs = [bytes(5000 + i) for i in range(30)]
    for m in msgs:
        a.assoc.send(sid, m)
    a.assoc.close()
    assert run(a, b, clock, lambda: a.assoc_closed is not None and b.assoc_closed is not None)
    assert a.assoc_closed == sctp.AssociationClosed(None)
    assert b.assoc_closed == sctp.AssociationClosed(None)
    assert b.messages[sid] == msgs
    with pytest.raises(sctp.ChannelNotOpen):
        a.assoc.send(sid, b"x")


def test_abort() -> None:
    a, b, clock = established_pair()
    a.assoc.abort()
    assert a.assoc_closed is None
    a.drain()
    assert a.assoc_closed is not None and a.assoc_closed.error
    assert run(a, b, clock, lambda: b.assoc_closed is not None)
    assert b.assoc_closed is not None and "user initiated abort" in (b.assoc_closed.error or "")
    assert b.assoc.stats.aborts_received == 1


def test_path_failure_closes_with_error() -> None:
    a, b, clock = established_pair()
    lab, lba = links()
    lab.down = True
    sid = a.assoc.open_channel("p", negotiated_id=0)
    a.assoc.send(sid, b"into the void")
    assert run(
        a, b, clock, lambda: a.assoc_closed is not None, link_ab=lab, link_ba=lba, max_time=2000
    )
    assert a.assoc_closed is not None and "unreachable" in (a.assoc_closed.error or "")
    assert a.assoc.stats.t3_expirations == 11


# ---------------------------------------------------------------- abuse


def test_huge_message_is_aborted() -> None:
    a = Peer(sctp.Association(is_client=True, rng=random.Random(1), max_message_size=200000))
    b = Peer(sctp.Association(is_client=False, rng=random.Random(2), max_message_size=20000))
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("big", negotiated_id=0)
    b.assoc.open_channel("big", negotiated_id=0)
    a.assoc.send(sid, bytes(19000))
    a.assoc.send(sid, bytes(150000))
    assert run(a, b, clock, lambda: a.assoc_closed is not None and b.assoc_closed is not None)
    assert b.messages[sid] == [bytes(19000)]
    assert b.assoc.stats.aborts_sent == 1
    assert "max-message-size" in (b.assoc_closed.error or "")  # type: ignore[union-attr]


def test_data_far_beyond_window_dropped() -> None:
    a, b, clock = established_pair()
    sid = a.assoc.open_channel("w", negotiated_id=0)
    b.assoc.open_channel("w", negotiated_id=0)
    base = next_peer_tsn(b)
    for k in range(1, 50):
        far = (base + (1 << 17) + k) & 0xFFFFFFFF
        b.assoc.receive(
            data_packet(b, c.DataChunk(2, far, sid, 0, 53, bytes(1000)).encode()), clock.now
        )
    assert b.assoc.stats.data_chunks_dropped == 49
    assert b.assoc.rx.held == 0 and not b.assoc.rx.above
    a.assoc.send(sid, b"ok")
    assert run(a, b, clock, lambda: b.messages.get(sid) == [b"ok"])


def test_unacknowledged_fragment_flood_aborts_not_unbounded() -> None:
    """A peer that sends B-fragments without ever finishing them gets ABORTed."""
    _a, b, clock = established_pair(receive_window=65536)
    b.assoc.open_channel("f", negotiated_id=0)
    for i in range(2000):
        if b.assoc.state is not sctp.State.ESTABLISHED:
            break
        # fragments that never complete, each on its own stream (no message can finish)
        chunk = c.DataChunk(c.FLAG_BEGIN, next_peer_tsn(b), i, 0, 53, bytes(1100)).encode()
        b.assoc.receive(data_packet(b, chunk), clock.now)
        assert b.assoc.rx.held <= b.assoc.rx.hard_limit()
    b.drain()
    assert b.assoc_closed is not None and b.assoc.stats.aborts_sent == 1


def test_receive_window_respected_when_app_does_not_drain() -> None:
    a, b = make_pair(receive_window=20000)
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("w", negotiated_id=0)
    b.assoc.open_channel("w", negotiated_id=0)
    for _ in range(50):
        a.assoc.send(sid, bytes(3000))
    from tests.netsim import run_pair

    run_pair(a.assoc, b.assoc, clock=clock, until=lambda: False, max_time=5.0)
    # b's application never drained: what b holds stays near its window
    assert b.assoc.rx.event_bytes + b.assoc.rx.held <= 20000 + 3000
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == 50, max_time=200)


# ---------------------------------------------------------------- hostile but well-formed peers

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_gap = st.tuples(st.integers(0, 80), st.integers(0, 80))
_hostile_chunk = st.one_of(
    st.builds(
        lambda cum, rwnd, gaps, dups: c.SackChunk(cum, rwnd, gaps, dups),
        st.integers(-5, 60),
        st.integers(0, 1 << 20),
        st.lists(_gap, max_size=5),
        st.lists(st.integers(0, 100), max_size=3),
    ),
    st.builds(
        lambda d, streams: c.ForwardTsnChunk(d, streams),
        st.integers(-5, 80),
        st.lists(st.tuples(st.integers(0, 4), st.integers(0, 0xFFFF)), max_size=3),
    ),
    st.builds(
        lambda flags, d, sid, ssn, ppid, data: c.DataChunk(flags, d, sid, ssn, ppid, data),
        st.integers(0, 15),
        st.integers(-3, 40),
        st.integers(0, 5),
        st.integers(0, 5),
        st.sampled_from([50, 51, 52, 53, 54, 56, 57, 99]),
        st.binary(min_size=0, max_size=50),
    ),
    st.builds(
        lambda seq, d, streams: c.ReconfigChunk([c.OutgoingSsnResetRequest(seq, 0, d, streams)]),
        st.integers(0, 3),
        st.integers(-3, 40),
        st.lists(st.integers(0, 6), max_size=3).map(tuple),
    ),
    st.builds(
        lambda seq, res: c.ReconfigChunk([c.ReconfigResponse(seq, res)]),
        st.integers(0, 3),
        st.integers(0, 7),
    ),
    st.just(c.ShutdownChunk(0)),
    st.just(c.CookieAckChunk()),
)


def _relative(chunk: c.Chunk, a: Peer, b: Peer) -> c.Chunk:
    """Make TSN-like fields relative to the real association state so they matter."""
    if isinstance(chunk, c.SackChunk):
        chunk.cumulative_tsn = (a.assoc.tx.cum_acked + chunk.cumulative_tsn) & 0xFFFFFFFF
    elif isinstance(chunk, c.ForwardTsnChunk):
        chunk.new_cumulative_tsn = (a.assoc.rx.cum + chunk.new_cumulative_tsn) & 0xFFFFFFFF
    elif isinstance(chunk, c.DataChunk):
        chunk.tsn = (a.assoc.rx.cum + chunk.tsn) & 0xFFFFFFFF
    elif isinstance(chunk, c.ReconfigChunk):
        p = chunk.params[0]
        if isinstance(p, c.OutgoingSsnResetRequest):
            chunk.params[0] = c.OutgoingSsnResetRequest(
                (a.assoc.reset.peer_seq + p.request_seq) & 0xFFFFFFFF,
                0,
                (a.assoc.rx.cum + p.last_tsn) & 0xFFFFFFFF,
                p.streams,
            )
        elif isinstance(p, c.ReconfigResponse):
            chunk.params[0] = c.ReconfigResponse(
                (a.assoc.reset.seq + p.response_seq) & 0xFFFFFFFF, p.result
            )
    return chunk


@settings(max_examples=60)
@given(st.lists(st.lists(_hostile_chunk, min_size=1, max_size=4), min_size=1, max_size=12))
def test_hostile_well_formed_chunks_never_break_invariants(packets: list[list[c.Chunk]]) -> None:
    a, b, clock = established_pair()
    s = a.assoc.open_channel("h", negotiated_id=0)
    a.assoc.open_channel("h2")
    for i in range(30):
        a.assoc.send(s, bytes([i]) * 900)
    for p in a.assoc.datagrams_to_send()[:3]:
        b.assoc.receive(p, clock.now)
    now = clock.now
    for pkt in packets:
        now += 0.05
        body = b"".join(_relative(ch, a, b).encode() for ch in pkt)
        a.assoc.receive(c.encode_packet(5000, 5000, a.assoc.handshake.local_tag, body), now)
        a.assoc.datagrams_to_send()
        a.assoc.handle_timeout(now + 2)
        a.assoc.datagrams_to_send()
        a.drain()
        A = a.assoc
        assert A.tx.flight >= 0 and A.rx.held >= 0 and A.rx.event_bytes >= 0
        assert A.send_buffer_used >= 0
        assert all(ch.buffered >= 0 and ch.queued >= 0 for ch in A.channels.by_id.values())
        assert A.tx.sent_head <= len(A.tx.sent)


def test_user_data_before_ack_counts_as_ack() -> None:
    a, _b, clock = established_pair()
    sid = a.assoc.open_channel("x")
    a.assoc.datagrams_to_send()  # the OPEN is "lost"; the peer answers with data only
    chunk = c.DataChunk(3, next_peer_tsn(a), sid, 0, 51, b"hello").encode()
    a.assoc.receive(data_packet(a, chunk), clock.now)
    a.drain()
    assert sid in a.opened and a.opened[sid].remote is False
    assert a.messages[sid] == [b"hello"]


def _ctrl_chunks(p: Peer) -> list[c.Chunk]:
    return [
        ch
        for pkt in p.assoc.datagrams_to_send()
        for ch in c.decode_packet(pkt, allow_zero_checksum=True).chunks
    ]


def test_forward_tsn_receiver_skips_and_delivers() -> None:
    """RFC 3758 §3.6: move the cumulative TSN, deliver what became deliverable, drop fragments."""
    _a, b, clock = established_pair()
    sid = 8
    b.assoc.open_channel("pr", negotiated_id=sid)
    t0 = b.assoc.rx.cum
    now = clock.now

    def data(k: int, ssn: int, payload: bytes, flags: int = 3) -> bytes:
        return c.DataChunk(flags, (t0 + k) & 0xFFFFFFFF, sid, ssn, 53, payload).encode()

    b.assoc.receive(data_packet(b, data(1, 0, b"m0")), now)
    b.assoc.receive(data_packet(b, data(3, 2, b"m2")), now)  # TSN +2 (SSN 1) lost
    b.assoc.receive(data_packet(b, data(4, 3, b"m3-head", c.FLAG_BEGIN)), now)  # never finished
    b.drain()
    assert b.messages[sid] == [b"m0"]
    sack = [ch for ch in _ctrl_chunks(b) if isinstance(ch, c.SackChunk)][-1]
    assert sack.cumulative_tsn == (t0 + 1) & 0xFFFFFFFF and sack.gaps == [(2, 3)]
    fwd = c.ForwardTsnChunk((t0 + 2) & 0xFFFFFFFF, [(sid, 1)])
    b.assoc.receive(data_packet(b, fwd.encode()), now)
    b.drain()
    assert b.messages[sid] == [b"m0", b"m2"]
    assert b.assoc.rx.cum == t0 + 4  # +3 and +4 were already there
    # abandon the unfinished message 3 as well: its head fragment is dropped
    fwd = c.ForwardTsnChunk((t0 + 5) & 0xFFFFFFFF, [(sid, 3)])
    b.assoc.receive(data_packet(b, fwd.encode()), now)
    assert b.assoc.rx.held == 0 and not b.assoc.rx.frags
    b.assoc.receive(data_packet(b, data(6, 4, b"m4")), now)
    b.drain()
    assert b.messages[sid] == [b"m0", b"m2", b"m4"]
    assert b.assoc.stats.forward_tsn_received == 2
    # an old FORWARD TSN changes nothing
    b.assoc.receive(data_packet(b, c.ForwardTsnChunk(t0 & 0xFFFFFFFF, []).encode()), now)
    assert b.assoc.rx.cum == t0 + 6


def test_incoming_stream_reset_in_progress_and_sequence_numbers() -> None:
    """RFC 6525 §5.2.2: a request whose last TSN has not arrived yet is answered In progress."""
    _a, b, clock = established_pair()
    sid = 10
    b.assoc.open_channel("r", negotiated_id=sid)
    t0 = b.assoc.rx.cum
    seq = b.assoc.reset.peer_seq
    now = clock.now
    req = c.OutgoingSsnResetRequest(seq, 0, (t0 + 1) & 0xFFFFFFFF, (sid,))
    b.assoc.receive(data_packet(b, c.ReconfigChunk([req]).encode()), now)
    resp = next(ch for ch in _ctrl_chunks(b) if isinstance(ch, c.ReconfigChunk)).params[0]
    assert resp == c.ReconfigResponse(seq, c.ReconfigResult.IN_PROGRESS)
    b.assoc.receive(
        data_packet(b, c.DataChunk(3, (t0 + 1) & 0xFFFFFFFF, sid, 0, 53, b"last").encode()), now
    )
    b.assoc.receive(data_packet(b, c.ReconfigChunk([req]).encode()), now)
    seen = _ctrl_chunks(b)
    resp = next(ch for ch in seen if isinstance(ch, c.ReconfigChunk)).params[0]
    assert resp == c.ReconfigResponse(seq, c.ReconfigResult.SUCCESS_PERFORMED)
    # the retransmitted request gets the same answer; a wrong sequence number an error
    b.assoc.receive(data_packet(b, c.ReconfigChunk([req]).encode()), now)
    b.assoc.receive(
        data_packet(
            b,
            c.ReconfigChunk(
                [c.OutgoingSsnResetRequest(seq + 7, 0, t0 & 0xFFFFFFFF, (sid,))]
            ).encode(),
        ),
        now,
    )
    seen += _ctrl_chunks(b)
    params = [p for ch in seen if isinstance(ch, c.ReconfigChunk) for p in ch.params]
    assert c.ReconfigResponse(seq, c.ReconfigResult.SUCCESS_PERFORMED) in params
    assert c.ReconfigResponse(seq + 7, c.ReconfigResult.ERROR_BAD_SEQUENCE_NUMBER) in params
    # RFC 8831 §6.7: b reset its own outgoing stream too
    assert any(isinstance(p, c.OutgoingSsnResetRequest) and p.streams == (sid,) for p in params)
    b.drain()
    assert b.messages[sid] == [b"last"]


def test_idle_heartbeat_keeps_association_and_detects_dead_peer() -> None:
    """RFC 9260 §8.3: HEARTBEATs probe an idle path; unanswered ones lead to path failure."""
    a, b, clock = established_pair()
    start = clock.now
    assert run(a, b, clock, lambda: clock.now > start + 200, max_time=300)
    assert a.assoc_closed is None and b.assoc_closed is None
    assert a.assoc.errors.count == 0 and a.assoc.rto.srtt is not None  # heartbeats answered
    lab, lba = links()
    lba.down = True
    lab.down = True
    assert run(
        a, b, clock, lambda: a.assoc_closed is not None, link_ab=lab, link_ba=lba, max_time=5000
    )
    assert "unreachable" in (a.assoc_closed.error or "")  # type: ignore[union-attr]


def _abort_causes(p: Peer) -> list[int]:
    return [code for ch in _ctrl_chunks(p) if isinstance(ch, c.AbortChunk) for code, _ in ch.causes]


def test_protocol_violations_are_aborted() -> None:
    # DATA without user data (RFC 9260 §6.2)
    a, b, clock = established_pair()
    chunk = c.DataChunk(3, next_peer_tsn(b), 0, 0, 53, b"").encode()
    b.assoc.receive(data_packet(b, chunk), clock.now)
    assert _abort_causes(b) == [c.CauseCode.NO_USER_DATA]
    b.drain()
    assert b.assoc_closed is not None
    # SACK for a TSN never sent (RFC 9260 §6.2.1)
    a, b, clock = established_pair()
    bogus = (a.assoc.tx.next_tsn + 5) & 0xFFFFFFFF
    a.assoc.receive(data_packet(a, c.SackChunk(bogus, 1000).encode()), clock.now)
    assert _abort_causes(a) == [c.CauseCode.PROTOCOL_VIOLATION]


def test_init_ack_without_cookie_is_aborted() -> None:
    a, _ = make_pair()
    a.assoc.connect(0.0)
    a.assoc.datagrams_to_send()
    ack = c.InitAckChunk(0x5555, 100000, 10, 10, 1, [])
    a.assoc.receive(data_packet(a, ack.encode()), 0.01)
    assert _abort_causes(a) == [c.CauseCode.MISSING_MANDATORY_PARAMETER]
    a.drain()
    assert a.assoc_closed is not None


def test_invalid_stream_identifier_reported() -> None:
    a = Peer(sctp.Association(is_client=True, rng=random.Random(1)))
    b = Peer(sctp.Association(is_client=False, rng=random.Random(2)))
    clock = VirtualClock()
    connect(a, b, clock)
    b.assoc.rx.inbound_streams = 16  # as if we had offered only 16 inbound streams
    chunk_tsn = next_peer_tsn(b)
    chunk = c.DataChunk(3, chunk_tsn, 20, 0, 53, b"x").encode()
    b.assoc.receive(data_packet(b, chunk), clock.now)
    chunks = _ctrl_chunks(b)
    errors = [ch for ch in chunks if isinstance(ch, c.ErrorChunk)]
    assert errors and errors[0].causes[0][0] == c.CauseCode.INVALID_STREAM_IDENTIFIER
    assert b.assoc.rx.cum & 0xFFFFFFFF == chunk_tsn  # acknowledged anyway (RFC 9260 §6.5)
    assert b.assoc.stats.invalid_stream == 1 and b.assoc.state is sctp.State.ESTABLISHED


def test_init_amplification_is_bounded() -> None:
    _, b = make_pair()
    params = [(0xFF00 + i, bytes(200)) for i in range(20)]  # skip + report, 4000 bytes
    init = c.InitChunk(0x1234, 100000, 10, 10, 5, params)
    b.assoc.receive(c.encode_packet(5000, 5000, 0, init.encode()), 0.0)
    (pkt,) = b.assoc.datagrams_to_send()
    assert len(pkt) <= 1200


def test_sparse_tsn_flood_is_bounded() -> None:
    """Out-of-order TSNs tracked above the cumulative TSN are capped (cheap SACKs, bounded set)."""
    from sctp.rx import MAX_OUT_OF_ORDER

    _a, b, clock = established_pair()
    b.assoc.open_channel("f", negotiated_id=0)
    base = b.assoc.rx.cum
    k = 2
    while k < 2 * MAX_OUT_OF_ORDER + 200:
        chunks = b"".join(
            c.DataChunk(3, (base + k + 2 * i) & 0xFFFFFFFF, 0, 0, 53, b"x").encode()
            for i in range(50)
        )
        k += 100
        b.assoc.receive(data_packet(b, chunks), clock.now)
        b.assoc.datagrams_to_send()
    assert len(b.assoc.rx.above) <= MAX_OUT_OF_ORDER
    assert b.assoc.stats.data_chunks_dropped > 0
    assert b.assoc.state is sctp.State.ESTABLISHED


def test_delayed_sack_timing() -> None:
    """RFC 9260 §6.2: SACK every second packet, otherwise after SACK.Delay (200 ms)."""
    a, b, clock = established_pair()
    sid = a.assoc.open_channel("d", negotiated_id=0)
    b.assoc.open_channel("d", negotiated_id=0)
    t = clock.now + 0.001
    a.assoc.send(sid, b"one")
    (p1,) = a.assoc.datagrams_to_send()
    b.assoc.receive(p1, t)
    assert b.assoc.datagrams_to_send() == []  # delayed
    assert b.assoc.next_timeout() == pytest.approx(t + 0.2)
    b.assoc.handle_timeout(t + 0.2)
    sacks = [ch for ch in _ctrl_chunks(b) if isinstance(ch, c.SackChunk)]
    assert len(sacks) == 1
    a.assoc.send(sid, b"two")
    (p2,) = a.assoc.datagrams_to_send()
    a.assoc.send(sid, b"three")
    (p3,) = a.assoc.datagrams_to_send()
    b.assoc.receive(p2, t + 1)
    assert b.assoc.datagrams_to_send() == []
    b.assoc.receive(p3, t + 1)
    assert any(isinstance(ch, c.SackChunk) for ch in _ctrl_chunks(b))  # second packet


def test_congestion_window_rules() -> None:
    """RFC 9260 §7.2.1-§7.2.3: initial cwnd, slow-start growth, collapse on T3-rtx."""
    a, b, clock = established_pair()
    mtu = 1200
    assert a.assoc.tx.cwnd == min(4 * mtu, max(2 * mtu, 4380))
    sid = a.assoc.open_channel("c", negotiated_id=0)
    b.assoc.open_channel("c", negotiated_id=0)
    for _ in range(200):
        a.assoc.send(sid, bytes(1100))
    lab, lba = links(Impairment(delay=0.01))
    before = a.assoc.tx.cwnd
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) >= 100, link_ab=lab, link_ba=lba)
    assert a.assoc.tx.cwnd > before  # slow start grew the window
    at_t3: list[int] = []

    class Spy(Sender):
        __slots__ = ()

        def on_t3_expiry(self, now: float) -> None:
            at_t3.append(self.cwnd)
            super().on_t3_expiry(now)

    a.assoc.tx.__class__ = Spy
    lab.down = True
    rto = a.assoc.rto.value
    assert run(a, b, clock, lambda: a.assoc.stats.t3_expirations == 1, link_ab=lab, link_ba=lba)
    assert a.assoc.tx.cwnd == mtu
    assert a.assoc.tx.ssthresh == max(at_t3[0] // 2, 4 * mtu)
    assert a.assoc.rto.value == min(2 * rto, 60.0)
    lab.down = False
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == 200, link_ab=lab, link_ba=lba)
