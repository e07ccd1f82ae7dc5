"""Memory bounds a peer or the application cannot push past (issue 13, defects 2 and 8).

The send buffer and the receive window count what a message costs in memory, not only its
payload: an empty or 1-byte message is never free.
"""

from __future__ import annotations

import random
import tracemalloc

import pytest

import sctp
from sctp import chunks as c
from sctp.rx import RECEIVE_MIN_CHARGE
from sctp.tx import SEND_MESSAGE_OVERHEAD
from tests.netsim import VirtualClock, run_pair
from tests.sctp.util import Peer, connect, make_pair

LIMIT = 1 << 20


@pytest.mark.parametrize("payload", [b"", b"x"])
def test_send_buffer_counts_per_message_cost(payload: bytes) -> None:
    """Tiny messages hit ERR_BUSY (SendBufferFull) at a count proportional to memory."""
    a = sctp.Association(is_client=True, rng=random.Random(1), max_send_buffer=LIMIT)
    sid = a.open_channel("x")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        count = 0
        with pytest.raises(sctp.SendBufferFull):
            while count < LIMIT:  # (payload-only accounting would queue a million here)
                a.send(sid, payload)
                count += 1
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    per = max(len(payload), 1) + SEND_MESSAGE_OVERHEAD
    assert count == (LIMIT - per) // per + 1
    assert held <= LIMIT  # the limit bounds the memory the queue really holds
    assert a.buffered_amount(sid) == len(payload) * count  # (the API figure stays payload)


def test_send_buffer_cost_released_when_sent_and_on_close() -> None:
    a, b = make_pair(3, max_send_buffer=4 * (SEND_MESSAGE_OVERHEAD + 10))
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("x", negotiated_id=0)
    b.assoc.open_channel("x", negotiated_id=0)
    for _ in range(4):
        a.assoc.send(sid, bytes(10))
    with pytest.raises(sctp.SendBufferFull):
        a.assoc.send(sid, b"")
    a.assoc.datagrams_to_send()  # handed out: the buffer is free again
    for _ in range(4):
        a.assoc.send(sid, bytes(10))


def test_empty_messages_count_against_the_receive_window() -> None:
    """A peer sending empty messages to an application that does not read fills the window:
    the receiver holds at most window / RECEIVE_MIN_CHARGE messages, and nothing is lost."""
    window = 64 * 1024
    a, b = make_pair(5, receive_window=window)
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("x", negotiated_id=0)
    b.assoc.open_channel("x", negotiated_id=0)
    total = 4000
    for _ in range(total):
        a.assoc.send(sid, b"")
    # b does not read its events for 5 s of virtual time
    run_pair(a.assoc, b.assoc, clock=clock, until=lambda: False, max_time=5.0)
    held = Peer(b.assoc)
    held.drain()
    got = len(held.messages.get(sid, []))
    assert 0 < got <= window // RECEIVE_MIN_CHARGE
    assert b.assoc.stats.data_chunks_dropped > 0  # the rest was refused, not queued
    # once the application reads, the rest arrives (reliable channel: nothing is lost)

    def all_in() -> bool:
        held.drain()
        return len(held.messages.get(sid, [])) >= total

    assert run_pair(a.assoc, b.assoc, clock=clock, until=all_in, max_time=120.0)
    assert held.messages[sid] == [b""] * total


def test_small_fragments_do_not_pin_their_packets() -> None:
    """A fragment held for reassembly is copied out of a much larger packet: a peer padding
    each 1-byte fragment with a large duplicate DATA chunk cannot make us hold the packet."""
    a, b = make_pair(7)
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("x", negotiated_id=0)
    b.assoc.open_channel("x", negotiated_id=0)
    a.assoc.send(sid, b"first")
    (pkt,) = a.assoc.datagrams_to_send()
    b.assoc.receive(pkt, clock.now)
    vtag = int.from_bytes(pkt[4:8], "big")
    (data,) = c.decode_packet(pkt, allow_zero_checksum=True).chunks
    assert isinstance(data, c.DataChunk)
    n = 2000
    dup = c.encode_data(3, data.tsn, sid, 0, 53, bytes(1100))  # (already received)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(1, n + 1):
            # a first fragment (B bit only) of message i, never completed
            frag = c.encode_data(c.FLAG_BEGIN, data.tsn + i, sid, i, 53, b"\xab")
            b.assoc.receive(c.encode_packet(5000, 5000, vtag, [frag, dup]), clock.now)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert b.assoc.stats.data_chunks_received == 2 * n + 1
    assert held < n * 400  # (a view per fragment would keep every 1,136-byte packet)
