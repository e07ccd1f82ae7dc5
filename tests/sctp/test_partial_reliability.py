"""A partially reliable message goes on the wire at least once, whatever its lifetime; the
lifetime then limits retransmission only (issue 15, decision D1 of MULTIPLAYER.md §8, as
usrsctp under Godot's native plugin behaves).
"""

from __future__ import annotations

import random

import pytest

from sctp.channels import Channel, ChannelConfig
from sctp.channels import ChannelState as SctpChannelState
from sctp.tx import MAX_BLOCKED_PASSES
from tests.netsim import Impairment, VirtualClock
from tests.sctp.test_components import SID, TSN0, Parts
from tests.sctp.util import connect, links, make_pair, run
from webrtc import ChannelState, Error
from webrtc.testing import Simulation
from webrtc.testing.hostile import sctp_of

FRAME = 0.016  # a game polling once per 60 Hz frame
BURST = 20
SIZE = 600


@pytest.mark.parametrize("lifetime", [0, 1])
def test_expired_message_is_sent_once_before_it_is_abandoned(lifetime: int) -> None:
    """Queued at t, handed out one frame later (past its lifetime): still transmitted."""
    a, b = make_pair(3)
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("u", ordered=False, max_packet_lifetime=lifetime, negotiated_id=2)
    b.assoc.open_channel("u", ordered=False, max_packet_lifetime=lifetime, negotiated_id=2)
    sent = [bytes([i]) * SIZE for i in range(BURST)]
    for data in sent:
        a.assoc.send(sid, data)
    clock.now += FRAME
    a.assoc.handle_timeout(clock.now)  # (tells the association the time)
    first = a.assoc.datagrams_to_send()
    assert a.assoc.stats.abandoned_messages == 0 and a.assoc.stats.data_chunks_sent > 0
    for p in first:
        b.assoc.receive(p, clock.now)
    # the rest follows as cwnd opens, each message long past its lifetime
    assert run(a, b, clock, lambda: len(b.messages.get(sid, [])) == BURST, max_time=5.0)
    assert b.messages[sid] == sent
    assert a.assoc.stats.abandoned_messages == 0 and a.assoc.stats.retransmissions == 0


def test_lifetime_still_limits_retransmission() -> None:
    """Lost and past its lifetime: abandoned (RFC 3758 §3.5 A) and skipped by FORWARD TSN."""
    a, b = make_pair(4)
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("u", ordered=False, max_packet_lifetime=5, negotiated_id=2)
    b.assoc.open_channel("u", ordered=False, max_packet_lifetime=5, negotiated_id=2)
    a.assoc.send(sid, b"lost")
    assert len(a.assoc.datagrams_to_send()) == 1  # sent once, never arrives
    a.assoc.send(sid, b"kept")
    lab, lba = links(Impairment(delay=0.01))
    assert run(a, b, clock, lambda: bool(b.messages.get(sid)), link_ab=lab, link_ba=lba)
    assert run(a, b, clock, lambda: a.assoc.stats.forward_tsn_sent > 0, link_ab=lab, link_ba=lba)
    assert b.messages[sid] == [b"kept"]
    assert a.assoc.stats.abandoned_messages == 1 and a.assoc.stats.retransmissions == 0


@pytest.mark.parametrize("lifetime", [1, 0])
def test_godot_channel_dictionaries_deliver_a_whole_burst(lifetime: int) -> None:
    """MULTIPLAYER.md §3 channels 2 and 3 (negotiated, Godot's `maxPacketLifetime` key) on a
    lossless simulated link, polled every 16 ms of virtual time: a 20 x 600 B burst on each
    arrives whole (before D1, 2/20 with lifetime 1 and 0/20 with lifetime 0)."""
    sim = Simulation(seed=lifetime)
    pair = sim.pair(seed=7)
    dicts = {
        "ordered": {"negotiated": True, "ordered": True, "id": 2, "maxPacketLifetime": lifetime},
        "unreliable": {
            "negotiated": True,
            "ordered": False,
            "id": 3,
            "maxPacketLifetime": lifetime,
        },
    }
    chans = {}
    for label, options in dicts.items():
        ours = pair.a.create_data_channel(label, dict(options))
        theirs = pair.b.create_data_channel(label, dict(options))
        assert ours is not None and theirs is not None
        assert ours.get_max_packet_life_time() == lifetime
        chans[label] = (ours, theirs)
    assert pair.a.create_offer() == Error.OK
    open_ = ChannelState.STATE_OPEN
    assert sim.run(
        lambda: all(x.get_ready_state() == open_ for c in chans.values() for x in c), max_time=30
    )
    rng = random.Random(lifetime)
    sent = {label: [rng.randbytes(SIZE) for _ in range(BURST)] for label in chans}
    got: dict[str, list[bytes]] = {label: [] for label in chans}
    frames = [0]

    def frame(now: float) -> None:
        if frames[0] == 0:
            for label, (ours, _) in chans.items():
                for data in sent[label]:
                    assert ours.put_packet(data) == Error.OK
        frames[0] += 1
        for label, (_, theirs) in chans.items():
            while theirs.get_available_packet_count():
                got[label].append(theirs.get_packet())

    done = lambda: all(len(v) == BURST for v in got.values())  # noqa: E731
    assert sim.loop(frame, every=FRAME, until=done, max_time=5.0), {
        k: len(v) for k, v in got.items()
    }
    assert got["ordered"] == sent["ordered"]
    assert sorted(got["unreliable"]) == sorted(sent["unreliable"])
    assert sctp_of(pair.a).stats.abandoned_messages == 0


def test_messages_held_back_by_congestion_still_expire_unsent() -> None:
    """RFC 3758 §3.5: a transmission pass during the lifetime left the rest of a burst queued
    (cwnd full); once expired those are dropped unsent, never delivered late."""
    a, b = make_pair(5)
    clock = VirtualClock()
    connect(a, b, clock)
    sid = a.assoc.open_channel("u", ordered=False, max_packet_lifetime=100, negotiated_id=2)
    b.assoc.open_channel("u", ordered=False, max_packet_lifetime=100, negotiated_id=2)
    for i in range(30):
        a.assoc.send(sid, bytes([i]) * 1000)
    first = a.assoc.datagrams_to_send()  # cwnd lets a few out, the pass leaves the rest
    sent_first = a.assoc.stats.data_chunks_sent
    assert 0 < sent_first < 30
    clock.now += 0.2  # the SACK comes back after the lifetime
    for p in first:
        b.assoc.receive(p, clock.now)
    b.assoc.handle_timeout(clock.now)
    for p in b.assoc.datagrams_to_send():
        a.assoc.receive(p, clock.now)
    assert a.assoc.datagrams_to_send() == [] or a.assoc.stats.data_chunks_sent == sent_first
    assert a.assoc.stats.abandoned_messages == 30 - sent_first
    b.drain()
    assert len(b.messages[sid]) == sent_first


def test_message_held_back_longer_than_the_pass_record_still_expires_unsent() -> None:
    """The record of passes that left messages queued is bounded (MAX_BLOCKED_PASSES): a
    message whose first passes fell out of it (cwnd full for thousands of passes, most after
    its lifetime) was held back all the same and is dropped unsent, not sent minutes late."""
    parts = Parts()
    pr = Channel(3, ChannelConfig("pr", max_packet_lifetime=100, negotiated=True, id=3), False)
    pr.state = SctpChannelState.OPEN
    parts.channels.by_id[3] = pr
    tx = parts.sender()
    for _ in range(6):
        tx.send(SID, b"r" * 1000)
    tx.transmit([], 0.0)  # cwnd lets five out
    outstanding = len(tx.sent)
    assert outstanding == 5
    tx.send(3, b"late")
    for k in range(MAX_BLOCKED_PASSES + 10):  # a few passes in its lifetime, most after it
        tx.transmit([], 0.05 if k < 5 else 1.0)
    parts.writer.take()
    assert len(tx.sent) == outstanding
    tx.on_sack(TSN0 + outstanding - 1, 1 << 20, [], 1.0)  # cwnd opens
    tx.transmit([], 1.0)
    assert [ch.msg.stream_id for ch in tx.sent[tx.sent_head :]] == [SID]
    assert parts.stats.abandoned_messages == 1 and pr.queued == 0
