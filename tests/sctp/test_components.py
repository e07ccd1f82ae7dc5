"""The association's parts on their own, in the style of dcsctp's unit tests: a Sender fed
synthetic SACKs, a Receiver fed DATA and FORWARD TSN chunks, the Scheduler, the RTO estimator
and the timer set. No association, no network.
"""

from __future__ import annotations

import random
from collections import deque

import pytest

from sctp import chunks as c
from sctp.channels import Channel, ChannelConfig, Channels, ChannelState
from sctp.errors import ChannelError
from sctp.events import Event, MessageReceived
from sctp.packet import PacketWriter
from sctp.plpmtud import Plpmtud
from sctp.rx import RECEIVE_MIN_CHARGE, Receiver
from sctp.stats import AssociationStats
from sctp.timers import ASSOCIATION_MAX_RETRANS, PathErrors, Rto, Timers
from sctp.tx import OutMessage, Scheduler, Sender

TSN0 = 1000  # our initial TSN
SID = 1


class Parts:
    """The shared pieces a Sender or Receiver is built from."""

    def __init__(self) -> None:
        self.stats = AssociationStats()
        self.events: deque[Event] = deque()
        self.timers = Timers()
        self.rto = Rto(1.0, 1.0, 60.0, None)
        self.errors = PathErrors(None)
        self.writer = PacketWriter(5000, 5000, 1200)
        self.writer.tag = 0x1234
        self.channels = Channels(True, self.events, self.stats)
        ch = Channel(SID, ChannelConfig("c", negotiated=True, id=SID), False)
        ch.state = ChannelState.OPEN
        self.channels.by_id[SID] = ch
        self.aborts: list[tuple[str, int]] = []
        self.pl = Plpmtud(
            1200,
            self.writer,
            self.timers,
            self.rto,
            random.Random(1),
            self.events,
            self.stats,
            self.writer.set_mtu,
        )

    def abort(self, reason: str, cause: int) -> None:
        self.aborts.append((reason, cause))

    def sender(self) -> Sender:
        tx = Sender(
            initial_tsn=TSN0,
            max_send_buffer=1 << 20,
            send_max=1 << 16,
            by_id=self.channels.by_id,
            stats=self.stats,
            timers=self.timers,
            rto=self.rto,
            errors=self.errors,
            writer=self.writer,
            pl=self.pl,
            abort=self.abort,
            after_sack=lambda: None,
        )
        tx.start(peer_rwnd=1 << 20, peer_forward_tsn=True)
        return tx

    def receiver(self, peer_tsn: int = 1, window: int = 1 << 16) -> Receiver:
        rx = Receiver(
            receive_window=window,
            local_tag=0x4321,
            local_port=5000,
            remote_port=5000,
            accept_zero_checksum=True,
            max_message_size=1 << 16,
            channels=self.channels,
            events=self.events,
            stats=self.stats,
            timers=self.timers,
            writer=self.writer,
            abort=self.abort,
            after_packet=lambda had_data, now: None,
            new_channel=lambda ch: None,
            general=lambda packet, now: None,
        )
        rx.start(peer_tsn, 65535)
        rx.data_state = rx.established = True
        return rx


# ---------------------------------------------------------------------------- sender


def _sent(n: int, size: int = 100) -> tuple[Parts, Sender]:
    parts = Parts()
    tx = parts.sender()
    for i in range(n):
        tx.send(SID, bytes([i]) * size)
    tx.transmit([], 0.0)
    assert [ch.tsn & 0xFFFFFFFF for ch in tx.sent] == list(range(TSN0, TSN0 + n))
    return parts, tx


def _state(tx: Sender) -> list[str]:
    """Per outstanding TSN: acked, in flight, marked for retransmission, with its misses."""
    out = []
    for ch in tx.sent[tx.sent_head :]:
        s = "acked" if ch.acked else ("rtx" if ch.rtx_pending else "flight")
        out.append(f"{s}{ch.miss}" if not ch.acked else s)
    return out


def test_sack_with_gap_blocks_sets_each_tsn() -> None:
    """RFC 9260 §6.2.1, §7.2.4: the cumulative ack retires TSNs 1000-1001; gap blocks (+3..+4)
    and (+7) acknowledge 1004, 1005, 1008; the TSNs below the highest newly acked one (1008)
    that are still missing get one miss indication each; 1009 gets none."""
    parts, tx = _sent(10)
    tx.on_sack(TSN0 + 1, 1 << 20, [(3, 4), (7, 7)], 0.1)
    assert tx.cum_acked & 0xFFFFFFFF == TSN0 + 1
    assert _state(tx) == [
        "flight1",  # 1002
        "flight1",  # 1003
        "acked",  # 1004
        "acked",  # 1005
        "flight1",  # 1006
        "flight1",  # 1007
        "acked",  # 1008
        "flight0",  # 1009
    ]
    assert tx.flight == 5 * 100
    assert parts.stats.fast_retransmits == 0


def test_third_miss_indication_fast_retransmits_and_halves_cwnd() -> None:
    """Each SACK that newly acknowledges a higher TSN adds a miss; the third marks the chunk
    for fast retransmission and enters fast recovery (RFC 9260 §7.2.3, §7.2.4)."""
    parts, tx = _sent(10)
    cwnd = tx.cwnd
    tx.on_sack(TSN0 + 1, 1 << 20, [(3, 4), (7, 7)], 0.1)
    tx.on_sack(TSN0 + 1, 1 << 20, [(3, 4), (7, 8)], 0.1)
    tx.send(SID, b"more")
    tx.transmit([], 0.1)
    parts.writer.take()
    assert not tx.fast_recovery
    tx.on_sack(TSN0 + 1, 1 << 20, [(3, 4), (7, 9)], 0.1)
    assert _state(tx) == ["rtx3", "rtx3", "acked", "acked", "rtx3", "rtx3"] + ["acked"] * 3
    assert parts.stats.fast_retransmits == 4
    assert tx.fast_recovery and tx.ssthresh == max(cwnd // 2, 4 * 1200)
    assert tx.cwnd == tx.ssthresh and tx.recover_tsn & 0xFFFFFFFF == TSN0 + 10
    tx.transmit([], 0.2)  # the marked chunks go first, in TSN order
    (packet,) = parts.writer.take()
    rtx = c.decode_packet(packet).chunks
    assert [ch.tsn for ch in rtx if isinstance(ch, c.DataChunk)] == [1002, 1003, 1006, 1007]
    assert parts.stats.retransmissions == 4


def test_sack_beyond_what_was_sent_aborts_and_stale_sack_is_ignored() -> None:
    parts, tx = _sent(3)
    tx.on_sack(TSN0 - 5, 1 << 20, [], 0.1)  # below the cumulative ack: out of order (§6.2.1)
    assert tx.cum_acked & 0xFFFFFFFF == TSN0 - 1 and not parts.aborts
    tx.on_sack(TSN0 + 3, 1 << 20, [], 0.1)
    assert parts.aborts and parts.aborts[0][1] == c.CauseCode.PROTOCOL_VIOLATION


def test_abandoned_chunks_move_the_ack_point_and_forward_tsn_names_their_streams() -> None:
    """RFC 3758 §3.5: max_retransmits 0 abandons a lost chunk at its first retransmission;
    Advanced.Peer.Ack.Point passes it and FORWARD TSN carries the stream's SSN."""
    parts = Parts()
    pr = Channel(3, ChannelConfig("pr", max_retransmits=0, negotiated=True, id=3), False)
    pr.state = ChannelState.OPEN
    parts.channels.by_id[3] = pr
    tx = parts.sender()
    tx.send(3, b"lost")
    tx.send(3, b"arrives")
    tx.transmit([], 0.0)
    tx.on_t3_expiry(1.0)  # both outstanding: neither may be retransmitted
    assert parts.stats.abandoned_messages == 2 and tx.forward_tsn_due
    assert tx.adv_peer_ack & 0xFFFFFFFF == TSN0 + 1
    fwd = c.decode_chunks(tx.forward_tsn_chunk(), 0)
    assert fwd == [c.ForwardTsnChunk(TSN0 + 1, [(3, 1)])]


# ---------------------------------------------------------------------------- receiver


def _frag(rx: Receiver, tsn: int, flags: int, data: bytes, ssn: int = 0, ppid: int = 53) -> None:
    assert rx.on_data(flags, tsn, SID, ssn, ppid, data)


def _messages(parts: Parts) -> list[bytes]:
    return [e.data for e in parts.events if isinstance(e, MessageReceived)]


def test_reassembly_with_a_hole_and_a_duplicate() -> None:
    """RFC 9260 §6.9: B (TSN 1) and E (TSN 3) wait for the middle; the SACK reports the gap
    and the duplicate; the middle completes the message."""
    parts = Parts()
    rx = parts.receiver(peer_tsn=1)
    _frag(rx, 1, c.FLAG_BEGIN, b"ab")
    _frag(rx, 3, c.FLAG_END, b"ef")
    _frag(rx, 3, c.FLAG_END, b"ef")  # duplicate
    assert _messages(parts) == []
    assert rx.held == 2 * RECEIVE_MIN_CHARGE
    sack = c.decode_chunks(rx.sack_chunk(), 0)[0]
    assert isinstance(sack, c.SackChunk)
    assert (sack.cumulative_tsn, sack.gaps, sack.duplicates) == (1, [(2, 2)], [3])
    _frag(rx, 2, 0, b"cd")
    assert _messages(parts) == [b"abcdef"] and rx.held == 0 and not rx.frags
    assert rx.cum & 0xFFFFFFFF == 3 and not rx.above


def _fragments(messages: list[bytes], size: int, tsn: int) -> list[tuple[int, int, int, bytes]]:
    """(tsn, flags, ssn, data) of each fragment of ordered `messages`, from TSN `tsn` on."""
    out = []
    for ssn, msg in enumerate(messages):
        pieces = [msg[i : i + size] for i in range(0, len(msg), size)]
        for i, piece in enumerate(pieces):
            flags = (c.FLAG_BEGIN if i == 0 else 0) | (c.FLAG_END if i == len(pieces) - 1 else 0)
            out.append((tsn, flags, ssn, piece))
            tsn += 1
    return out


@pytest.mark.parametrize("seed", range(8))
def test_fragments_in_any_order_with_duplicates_reassemble_exactly(seed: int) -> None:
    """RFC 9260 §6.9: in-sequence fragments (kept without the general checks) and fragments
    around holes or repeated give the same messages, in SSN order, and free the whole window."""
    rng = random.Random(seed)
    messages = [bytes([i]) * rng.randrange(1, 3000) for i in range(6)]
    frags = _fragments(messages, 700, 1)
    order = list(frags) if seed == 0 else rng.sample(frags, len(frags))
    order += rng.sample(frags, 3)  # duplicates, after everything arrived
    parts = Parts()
    rx = parts.receiver(peer_tsn=1, window=1 << 20)
    for tsn, flags, ssn, data in order:
        _frag(rx, tsn, flags, data, ssn=ssn)
    assert _messages(parts) == messages
    assert rx.held == 0 and not rx.frags and not rx.above
    assert rx.cum & 0xFFFFFFFF == len(frags)
    assert parts.stats.duplicate_tsns == 3 and parts.stats.data_chunks_dropped == 0


def test_in_sequence_fragment_at_the_window_edge() -> None:
    """RFC 9260 §6.2: with the window full, the next fragment of the message being reassembled
    is still taken (so a message larger than the window completes); a new message is not."""
    parts = Parts()
    rx = parts.receiver(peer_tsn=1, window=3 * RECEIVE_MIN_CHARGE)
    for tsn, flags, ssn, data in _fragments([b"a" * 400, b"b" * 200], 100, 1):
        _frag(rx, tsn, flags, data, ssn=ssn)
    # the 4 fragments of the first message are taken (the last two beyond the window) and
    # delivered; the second message's fragments find the window taken by the undrained first
    assert _messages(parts) == [b"a" * 400]
    assert rx.cum & 0xFFFFFFFF == 4 and parts.stats.data_chunks_dropped == 2


def test_forward_tsn_drops_a_partial_message_and_releases_the_stream() -> None:
    """RFC 3758 §3.6: the first fragments of an abandoned message are dropped, the cumulative
    TSN moves, and an ordered message held behind the skipped SSN is delivered."""
    parts = Parts()
    rx = parts.receiver(peer_tsn=1)
    _frag(rx, 1, c.FLAG_BEGIN, b"x" * 10, ssn=0)  # SSN 0: abandoned after this fragment
    _frag(rx, 4, 3, b"next", ssn=1)  # SSN 1 complete, waits for SSN 0 (and TSNs 2-3)
    assert _messages(parts) == [] and rx.held > 0
    rx.on_forward_tsn(c.ForwardTsnChunk(3, [(SID, 0)]))
    assert _messages(parts) == [b"next"]
    assert rx.cum & 0xFFFFFFFF == 4 and rx.held == 0 and not rx.frags and not rx.above
    assert rx.in_ssn[SID] == 2
    rx.on_forward_tsn(c.ForwardTsnChunk(2, []))  # behind the cumulative TSN: nothing
    assert rx.cum & 0xFFFFFFFF == 4


def test_unordered_fragments_and_window_accounting() -> None:
    parts = Parts()
    rx = parts.receiver(peer_tsn=10, window=4 * RECEIVE_MIN_CHARGE)
    flags_u = c.FLAG_UNORDERED
    _frag(rx, 11, flags_u | c.FLAG_END, b"2")
    _frag(rx, 10, flags_u | c.FLAG_BEGIN, b"1")
    assert _messages(parts) == [b"12"]
    assert rx.event_bytes == RECEIVE_MIN_CHARGE
    for tsn in (12, 13, 14):
        _frag(rx, tsn, 3, b"\x00", ssn=tsn - 12, ppid=57)  # empty messages (RFC 8831 §6.6)
    assert _messages(parts) == [b"12", b"", b"", b""]
    _frag(rx, 15, 3, b"\x00", ssn=3, ppid=57)
    assert parts.stats.data_chunks_dropped == 1  # the window holds four messages
    assert rx.next_event() is not None and rx.event_bytes == 3 * RECEIVE_MIN_CHARGE


# ---------------------------------------------------------------------------- scheduler


def test_scheduler_shares_by_weight() -> None:
    """RFC 8831 §6.4: weighted fair queueing: with weights 1:4 and equal messages the heavier
    stream gets four turns per turn of the lighter one, whatever the queue lengths."""
    sched = Scheduler()
    for _ in range(100):
        sched.push(OutMessage.make(0, 53, bytes(100), False, None, None, True), 256)
        sched.push(OutMessage.make(2, 53, bytes(100), False, None, None, True), 1024)
    order = []
    for _ in range(50):
        msg = sched.next()
        assert msg is not None
        sched.current = None
        order.append(msg.stream_id)
    assert order.count(2) == 40 and order.count(0) == 10
    assert all(order[i : i + 5].count(0) == 1 for i in range(0, 50, 5))


def test_scheduler_front_push_and_drop() -> None:
    sched = Scheduler()
    first = OutMessage.make(0, 53, b"a", False, None, None, True)
    dcep_open = OutMessage.make(0, 50, b"o", False, None, None, False)
    sched.push(first, 256)
    sched.push(dcep_open, 256, front=True)  # DCEP OPEN goes before queued data
    assert sched.next() is dcep_open
    sched.current = None
    assert sched.drop_stream(0) == [first] and not sched


# ---------------------------------------------------------------------------- RTO and timers


def test_rto_arithmetic_of_rfc_9260_6_3_1() -> None:
    rto = Rto(3.0, 0.1, 60.0, None)
    rto.sample(0.5)  # C2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 * RTTVAR
    assert (rto.srtt, rto.rttvar, rto.value) == (0.5, 0.25, 1.5)
    rto.sample(0.3)  # C3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, SRTT = 7/8 SRTT + 1/8 R'
    assert rto.rttvar == pytest.approx(0.75 * 0.25 + 0.25 * 0.2)
    assert rto.srtt == pytest.approx(0.875 * 0.5 + 0.125 * 0.3)
    assert rto.srtt is not None
    assert rto.value == pytest.approx(rto.srtt + 4 * rto.rttvar)
    assert rto.base == rto.value
    for _ in range(50):
        rto.sample(0.001)  # C6: never below RTO.Min
    assert rto.value == 0.1
    rto.sample(500.0)  # C7: never above RTO.Max
    assert rto.value == 60.0
    rto.sample(-1.0)  # (a clock going backwards gives no sample)
    assert rto.value == 60.0


def test_backoff_doubles_up_to_the_caps() -> None:
    """RFC 9260 §6.3.3 E2: RTO = RTO * 2, at most RTO.Max (or `max_backoff`)."""
    assert Rto(1.0, 1.0, 60.0, None).backoff(1.0) == 2.0
    assert Rto(1.0, 1.0, 60.0, None).backoff(40.0) == 60.0
    assert Rto(1.0, 1.0, 60.0, 5.0).backoff(4.0) == 5.0
    assert Rto(1.0, 1.0, 60.0, 5.0).backoff(7.0) == 7.0  # (never shortened)


def test_path_errors_by_count_or_by_time() -> None:
    count = PathErrors(None)
    assert [count.record(float(t)) for t in range(ASSOCIATION_MAX_RETRANS + 1)][-2:] == [
        False,
        True,
    ]
    timed = PathErrors(10.0)
    assert not timed.record(100.0) and not timed.record(105.0) and timed.record(110.0)


def test_timer_set_next_timeout_is_the_earliest() -> None:
    timers = Timers()
    assert timers.next_timeout() is None
    timers.hb, timers.t2, timers.sack = 30.0, 5.0, 0.2
    assert timers.next_timeout() == 0.2
    timers.sack = None
    timers.pl = 4.0
    assert timers.next_timeout() == 4.0
    timers.stop_all()
    assert timers.next_timeout() is None


def test_channel_config_round_trips_through_open_and_events() -> None:
    """One ChannelConfig: what open() takes, what ChannelOpened reports, what DCEP carries."""
    config = ChannelConfig("chat", "p", False, None, 150, 512)
    config.check()
    ch = Channel(4, config, False)
    assert ch.opened_event().config == config
    assert ChannelConfig.from_open(config.open_message()) == config
    negotiated = ChannelConfig("n", negotiated=True, id=7)
    assert Channel(7, negotiated, False).opened_event().config == negotiated
    for bad in (
        ChannelConfig(max_retransmits=1, max_packet_lifetime=1),
        ChannelConfig(priority=1 << 16),
        ChannelConfig(max_retransmits=-1),
    ):
        with pytest.raises(ChannelError):
            bad.check()
