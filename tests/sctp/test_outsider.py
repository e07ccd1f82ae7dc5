"""Packets an outsider can forge or a peer can get wrong must not change association state
(issue 13 audit; RFC 9260 §8.5, §8.5.1, §5.2, §6.10).

Tags are read off the wire: the packets `a` sends carry `b`'s tag and the other way round.
"""

from __future__ import annotations

import random
import struct

import pytest

import sctp
from sctp import chunks as c
from tests.netsim import VirtualClock
from tests.sctp.util import Peer, connect, make_pair, run

SID = 0


class Pair:
    def __init__(self, seed: int = 11) -> None:
        self.a, self.b = make_pair(seed)
        self.clock = VirtualClock()
        connect(self.a, self.b, self.clock)
        for p in (self.a, self.b):
            p.assoc.open_channel("x", negotiated_id=SID)
        self.a.assoc.send(SID, b"ping")
        (to_b,) = self.a.assoc.datagrams_to_send()
        self.b.assoc.receive(to_b, self.clock.now)
        self.b.assoc.send(SID, b"pong")
        to_a = self.b.assoc.datagrams_to_send()
        for p in to_a:
            self.a.assoc.receive(p, self.clock.now)
        self.b_tag = struct.unpack_from("!I", to_b, 4)[0]  # b's own tag
        self.a_tag = struct.unpack_from("!I", to_a[0], 4)[0]  # b's peer tag
        self.a.drain()
        self.b.drain()

    def inject(self, vtag: int, *chunks: bytes) -> list[bytes]:
        """Hand b one packet; return what b answers right away."""
        self.b.assoc.receive(c.encode_packet(5000, 5000, vtag, list(chunks)), self.clock.now)
        return self.b.assoc.datagrams_to_send()

    def still_up(self) -> None:
        assert self.b.assoc.state is sctp.State.ESTABLISHED
        self.b.drain()
        assert self.b.assoc_closed is None
        n = len(self.a.messages.get(SID, []))
        m = len(self.b.messages.get(SID, []))
        self.a.assoc.send(SID, b"still")
        self.b.assoc.send(SID, b"there")
        assert run(
            self.a,
            self.b,
            self.clock,
            lambda: len(self.a.messages.get(SID, [])) > n and len(self.b.messages.get(SID, [])) > m,
        )


def _other(tag: int) -> int:
    return tag ^ 0x5A5A5A5A or 1


ABORT = c.AbortChunk(False, [(c.CauseCode.USER_INITIATED_ABORT, b"")]).encode()
ABORT_T = c.AbortChunk(True, []).encode()


def test_abort_with_a_wrong_tag_is_dropped_and_counted() -> None:
    p = Pair()
    before = p.b.assoc.stats.bad_vtag
    p.inject(_other(p.b_tag), ABORT)  # T bit clear: must carry b's tag
    p.inject(p.b_tag, ABORT_T)  # T bit set: must carry the peer's tag, not b's own
    p.inject(_other(p.a_tag), ABORT_T)
    p.inject(0, ABORT)
    assert p.b.assoc.stats.bad_vtag == before + 4
    assert p.b.assoc.stats.aborts_received == 0
    p.still_up()


@pytest.mark.parametrize("t_bit", [False, True])
def test_abort_with_the_right_tag_ends_the_association(t_bit: bool) -> None:
    p = Pair()
    p.inject(p.a_tag if t_bit else p.b_tag, ABORT_T if t_bit else ABORT)
    p.b.drain()
    assert p.b.assoc_closed is not None and p.b.assoc.state is sctp.State.CLOSED


def test_shutdown_family_with_wrong_tags_is_dropped() -> None:
    p = Pair()
    shutdown = c.ShutdownChunk(0).encode()
    before = p.b.assoc.stats.bad_vtag
    p.inject(_other(p.b_tag), shutdown)
    p.inject(_other(p.b_tag), c.ShutdownAckChunk().encode())
    p.inject(_other(p.b_tag), c.ShutdownCompleteChunk(False).encode())
    p.inject(p.b_tag, c.ShutdownCompleteChunk(True).encode())
    assert p.b.assoc.stats.bad_vtag == before + 4
    p.still_up()


def test_t_bit_tag_only_covers_the_chunk_that_carries_the_t_bit() -> None:
    """RFC 9260 §8.5.1 (B)/(C), §6.10: a packet accepted for its reflected tag (T bit) carries
    nothing else, and an ABORT with the T bit is not taken from a packet with our own tag."""
    p = Pair()
    complete_t = c.ShutdownCompleteChunk(True).encode()
    p.inject(p.a_tag, complete_t, ABORT)  # SHUTDOWN COMPLETE must be alone
    p.inject(p.a_tag, complete_t, c.ShutdownChunk(0).encode())
    heartbeat = c.HeartbeatChunk([(c.ParamType.HEARTBEAT_INFO, b"12345678")]).encode()
    p.inject(p.b_tag, heartbeat, ABORT_T)  # our tag, then an ABORT claiming a reflected one
    p.inject(p.b_tag, heartbeat, c.ShutdownCompleteChunk(True).encode())
    assert p.b.assoc.stats.aborts_received == 0
    assert p.b.assoc.stats.bad_vtag >= 4
    p.still_up()


def test_stray_init_on_an_established_association_is_answered_without_teardown() -> None:
    """RFC 9260 §5.2.2: an unexpected INIT gets an INIT ACK; the association stays as it is."""
    p = Pair()
    init = c.InitChunk(0x12345678, 65536, 10, 10, 777, []).encode()
    out = p.inject(0, init)
    assert len(out) == 1
    pkt = c.decode_packet(out[0], allow_zero_checksum=True)
    assert pkt.verification_tag == 0x12345678
    assert isinstance(pkt.chunks[0], c.InitAckChunk)
    assert pkt.chunks[0].initiate_tag == p.b_tag  # the one tag of this association
    before = p.b.assoc.stats.bad_vtag
    assert p.inject(p.b_tag, init) == []  # INIT needs tag 0 (§8.5.1 A)
    assert p.inject(0, init, ABORT) == []  # and must be alone (§6.10)
    # bundled behind another chunk under our tag: not an INIT packet either
    heartbeat = c.HeartbeatChunk([(c.ParamType.HEARTBEAT_INFO, b"12345678")]).encode()
    out = p.inject(p.b_tag, heartbeat, init)
    assert all(
        not isinstance(ch, c.InitAckChunk)
        for raw in out
        for ch in c.decode_packet(raw, allow_zero_checksum=True).chunks
    )
    assert p.b.assoc.stats.bad_vtag >= before + 2
    bad_init = c.InitChunk(0x12345678, 65536, 0, 10, 777, []).encode()  # zero streams
    p.inject(0, bad_init)
    p.still_up()


def test_cookie_echo_on_an_established_association() -> None:
    """A forged cookie is rejected; a genuine cookie of a new association (a peer restart,
    RFC 9260 §5.2.4 action A, not supported) is dropped without touching this one."""
    p = Pair()
    before = p.b.assoc.stats.cookies_rejected
    p.inject(p.b_tag, c.CookieEchoChunk(bytes(69)).encode())
    p.inject(p.b_tag, c.CookieEchoChunk(b"short").encode())
    assert p.b.assoc.stats.cookies_rejected == before + 2
    # a second client runs a full handshake against b
    other = Peer(sctp.Association(is_client=True, rng=random.Random(99)))
    other.assoc.connect(p.clock.now)
    (init,) = other.assoc.datagrams_to_send()
    p.b.assoc.receive(init, p.clock.now)
    for raw in p.b.assoc.datagrams_to_send():
        other.assoc.receive(raw, p.clock.now)
    (echo,) = other.assoc.datagrams_to_send()
    p.b.assoc.receive(echo, p.clock.now)
    assert p.b.assoc.datagrams_to_send() == []  # no COOKIE ACK
    assert p.b.assoc.stats.cookies_rejected == before + 3
    p.still_up()


def test_malformed_and_unexpected_chunks_with_the_right_tag_change_nothing() -> None:
    p = Pair()
    before = p.b.assoc.stats.malformed
    truncated = c.CHUNK_HEADER.pack(c.ChunkType.SACK, 0, 40) + bytes(8)
    p.b.assoc.receive(c.encode_packet(5000, 5000, p.b_tag, truncated), p.clock.now)
    assert p.b.assoc.stats.malformed == before + 1
    stale = c.ErrorChunk([(c.CauseCode.STALE_COOKIE, bytes(4))]).encode()
    p.inject(p.b_tag, stale)  # only meaningful in COOKIE-ECHOED (RFC 9260 §5.2.6)
    p.inject(p.b_tag, c.CookieAckChunk().encode())
    p.inject(p.b_tag, c.ShutdownAckChunk().encode())  # not in SHUTDOWN-SENT: ignored
    p.inject(p.b_tag, c.ShutdownCompleteChunk(False).encode())
    init_ack = c.InitAckChunk(5, 65536, 10, 10, 5, [(c.ParamType.STATE_COOKIE, b"x")])
    p.inject(p.b_tag, init_ack.encode())  # §5.2.3: discarded outside COOKIE-WAIT
    p.still_up()


def test_lost_shutdown_complete_is_answered_after_close() -> None:
    """RFC 9260 §8.4 item 5: our SHUTDOWN COMPLETE was lost; the peer's retransmitted SHUTDOWN
    ACK reaches a closed association, which answers SHUTDOWN COMPLETE with the T bit."""
    p = Pair()
    a, b = p.a.assoc, p.b.assoc
    a.close()
    for raw in a.datagrams_to_send():  # SHUTDOWN
        b.receive(raw, p.clock.now)
    acks = b.datagrams_to_send()  # SHUTDOWN ACK
    for raw in acks:
        a.receive(raw, p.clock.now)
    assert a.state is sctp.State.CLOSED
    a.datagrams_to_send()  # the SHUTDOWN COMPLETE, lost
    assert b.state is sctp.State.SHUTDOWN_ACK_SENT
    t2 = b.next_timeout()
    assert t2 is not None
    b.handle_timeout(t2)  # T2-shutdown: SHUTDOWN ACK again
    again = b.datagrams_to_send()
    assert again
    for raw in again:
        a.receive(raw, t2)
    (complete,) = a.datagrams_to_send()
    pkt = c.decode_packet(complete)
    assert pkt.chunks == [c.ShutdownCompleteChunk(True)] and pkt.verification_tag == p.a_tag
    b.receive(complete, t2)
    p.b.drain()
    assert b.state is sctp.State.CLOSED and p.b.assoc_closed == sctp.AssociationClosed(None)
