"""The per-message fast paths of the association behave exactly like the general paths.

* receive: every packet is also fed to a shadow copy of the receiver that bypasses the fast
  parser (Receiver.receive) through Association.receive_general, so it decodes chunk objects
  and runs the chunk dispatch table; both must produce the same events, the same packets byte
  for byte and the same counters;
* the scheduler (heapreplace, the inlined push in send()) against a model of the plain
  weighted-fair-queueing algorithm (RFC 8831 §6.4);
* the cached maximum message size;
* the nothing-to-send shortcut of datagrams_to_send() against the full _flush pass.
"""

from __future__ import annotations

import copy
import dataclasses
import heapq
import random
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sctp
from sctp.timers import Rto
from sctp.tx import SEND_MESSAGE_OVERHEAD, OutMessage, Scheduler


def _established(seed: int, **kwargs: object) -> tuple[sctp.Association, sctp.Association]:
    a = sctp.Association(is_client=True, rng=random.Random(seed), **kwargs)  # type: ignore[arg-type]
    b = sctp.Association(is_client=False, rng=random.Random(seed + 1), **kwargs)  # type: ignore[arg-type]
    a.connect(0.0)
    b.connect(0.0)
    for _ in range(10):
        for x, y in ((a, b), (b, a)):
            for p in x.datagrams_to_send():
                y.receive(p, 0.0)
    assert a.state is sctp.State.ESTABLISHED and b.state is sctp.State.ESTABLISHED
    return a, b


@dataclass
class Shadowed:
    """A receiver plus a copy of it that always takes the general (chunk object) path."""

    real: sctp.Association
    shadow: sctp.Association = field(init=False)
    events: list[sctp.Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.shadow = copy.deepcopy(self.real)
        self.shadow.receive = self.shadow.receive_general

    def receive(self, packet: bytes, now: float) -> None:
        self.real.receive(packet, now)
        self.shadow.receive(packet, now)

    def send(self, sid: int, data: bytes) -> None:
        self.real.send(sid, data)
        self.shadow.send(sid, data)

    def handle_timeout(self, now: float) -> None:
        self.real.handle_timeout(now)
        self.shadow.handle_timeout(now)

    def next_timeout(self) -> float | None:
        t = self.real.next_timeout()
        assert t == self.shadow.next_timeout()
        return t

    def drain(self, limit: int | None = None) -> list[sctp.Event]:
        out: list[sctp.Event] = []
        while limit is None or len(out) < limit:
            ev = self.real.next_event()
            assert ev == self.shadow.next_event()
            if ev is None:
                break
            out.append(ev)
        self.events += out
        return out

    def datagrams_to_send(self) -> list[bytes]:
        out = self.real.datagrams_to_send()
        assert out == self.shadow.datagrams_to_send()
        assert self.real.stats == self.shadow.stats
        assert self.real.buffered_amount(0) == self.shadow.buffered_amount(0)
        return out


def _scenario(seed: int, *, window: int, loss: float, big: bool) -> None:
    rng = random.Random(seed)
    a, b0 = _established(seed, receive_window=window, max_packet_size=1200)
    if big:
        a.set_max_packet_size(16384)  # many messages bundled per packet
        b0.set_max_packet_size(16384)
    sids = [a.open_channel("c0"), a.open_channel("c1", ordered=False)]
    neg = a.open_channel("neg", negotiated_id=10)
    b0.open_channel("neg", negotiated_id=10)
    b = Shadowed(b0)
    now = 0.0
    expect: dict[int, list[bytes]] = {}
    got: dict[int, list[bytes]] = {}
    to_b: list[bytes] = []
    for step in range(120):
        if step < 80:
            for _ in range(rng.choice((0, 1, 3, 20))):
                sid = rng.choice((*sids, neg))
                msg = rng.randbytes(rng.choice((0, 1, 64, 1000, 3000)))
                a.send(sid, msg)
                expect.setdefault(sid, []).append(msg)
            if rng.random() < 0.3 and b.real.buffered_amount(neg) == 0:
                # the receiver answers: its DATA gets bundled with SACKs both ways
                b.send(neg, b"pong")
        to_b += a.datagrams_to_send()
        if rng.random() < 0.1:
            rng.shuffle(to_b)
        for p in to_b:
            if rng.random() >= loss:
                b.receive(p, now)
        to_b = []
        for ev in b.drain(limit=rng.choice((None, 0, 5))):
            if isinstance(ev, sctp.MessageReceived):
                got.setdefault(ev.stream_id, []).append(ev.data)
        for p in b.datagrams_to_send():
            if rng.random() >= loss:
                a.receive(p, now)
        while a.next_event() is not None:
            pass
        now += rng.choice((0.001, 0.05, 0.3))
        for x in (a, b):
            t = x.next_timeout()
            if t is not None and t <= now:
                x.handle_timeout(now)
    for _ in range(400):  # finish without loss
        now += 0.25
        for x in (a, b):
            t = x.next_timeout()
            if t is not None and t <= now:
                x.handle_timeout(now)
        for p in a.datagrams_to_send():
            b.receive(p, now)
        for ev in b.drain():
            if isinstance(ev, sctp.MessageReceived):
                got.setdefault(ev.stream_id, []).append(ev.data)
        for p in b.datagrams_to_send():
            a.receive(p, now)
        while a.next_event() is not None:
            pass
        if all(len(got.get(s, [])) == len(m) for s, m in expect.items()):
            break
    for sid, msgs in expect.items():
        if sid == sids[1]:
            assert sorted(got.get(sid, [])) == sorted(msgs)
        else:
            assert got.get(sid, []) == msgs


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("window", "loss", "big"),
    [(1 << 20, 0.0, True), (1 << 20, 0.1, True), (6000, 0.0, True), (6000, 0.05, False)],
)
def test_fast_receive_matches_the_general_path(
    seed: int, window: int, loss: float, big: bool
) -> None:
    _scenario(seed, window=window, loss=loss, big=big)


def _ping_pong(seed: int, rounds: int) -> tuple[Shadowed, Shadowed]:
    a0, b0 = _established(seed)
    sa = a0.open_channel("p", negotiated_id=4)
    b0.open_channel("p", negotiated_id=4)
    a, b = Shadowed(a0), Shadowed(b0)
    now = 0.0
    for i in range(rounds):
        a.send(sa, b"ping %d" % i)
        for p in a.datagrams_to_send():
            b.receive(p, now)
        for ev in b.drain():
            if isinstance(ev, sctp.MessageReceived):
                b.send(ev.stream_id, ev.data)
        for p in b.datagrams_to_send():
            a.receive(p, now)
        a.drain()
        now += 0.001
        for x in (a, b):
            t = x.next_timeout()
            if t is not None and t <= now:
                x.handle_timeout(now)
    return a, b


def test_ping_pong_sack_plus_data_path() -> None:
    """The SACK + one DATA packet of a ping-pong takes the combined path, like the loop."""
    a, _ = _ping_pong(3, 50)
    got = [e.data for e in a.events if isinstance(e, sctp.MessageReceived)]
    assert got == [b"ping %d" % i for i in range(50)]
    # most replies carried a SACK bundled with the DATA
    assert a.real.stats.packets_received < 2 * 50


def test_sack_plus_data_with_gap_blocks_is_not_the_combined_path() -> None:
    """A SACK with gap blocks followed by DATA goes through the general loop (and still works)."""
    a0, b0 = _established(7)
    sid = a0.open_channel("x", negotiated_id=2)
    b0.open_channel("x", negotiated_id=2)
    b = Shadowed(b0)
    for i in range(3):
        b.send(sid, b"b%d" % i)
    pkts = b.datagrams_to_send()
    assert len(pkts) == 1
    # drop the first of three messages from b: make a SACK with a gap block
    for i in range(3):
        b.send(sid, b"c%d" % i)
    a0.receive(pkts[0], 0.0)
    a0.send(sid, b"from a")
    out = a0.datagrams_to_send()
    for p in out:
        b.receive(p, 0.0)
    assert [e.data for e in b.drain() if isinstance(e, sctp.MessageReceived)] == [b"from a"]


# ---------------------------------------------------------------------------- scheduler


class _ModelScheduler:
    """The weighted fair queueing algorithm as first written (pop + push per message)."""

    def __init__(self) -> None:
        self.queues: dict[int, deque[OutMessage]] = {}
        self.heap: list[tuple[float, int, int]] = []
        self.active: set[int] = set()
        self.passed: dict[int, float] = {}
        self.weight: dict[int, int] = {}
        self.vtime = 0.0
        self.seq = 0

    def push(self, msg: OutMessage, weight: int, front: bool) -> None:
        sid = msg.stream_id
        q = self.queues.setdefault(sid, deque())
        if front:
            q.appendleft(msg)
        else:
            q.append(msg)
        self.weight[sid] = weight
        if sid not in self.active:
            self.active.add(sid)
            self.seq += 1
            heapq.heappush(self.heap, (max(self.passed.get(sid, 0.0), self.vtime), self.seq, sid))

    def next(self) -> OutMessage | None:
        while self.heap:
            start, _, sid = heapq.heappop(self.heap)
            q = self.queues.get(sid)
            if not q:
                self.active.discard(sid)
                continue
            msg = q.popleft()
            self.vtime = start
            finish = start + (len(msg.data) + 64) / self.weight.get(sid, 256)
            self.passed[sid] = finish
            if q:
                self.seq += 1
                heapq.heappush(self.heap, (finish, self.seq, sid))
            else:
                self.active.discard(sid)
                del self.queues[sid]
            return msg
        return None

    def drop_stream(self, sid: int) -> list[OutMessage]:
        q = self.queues.pop(sid, None)
        self.active.discard(sid)
        return list(q) if q else []


_op = st.one_of(
    st.tuples(
        st.just("push"),
        st.integers(0, 3),
        st.sampled_from((1, 100, 1000, 5000)),
        st.sampled_from((1, 256, 1024)),
        st.booleans(),
    ),
    st.tuples(st.just("next"), st.integers(1, 6)),
    st.tuples(st.just("drop"), st.integers(0, 3)),
)


@given(st.lists(_op, max_size=80))
def test_scheduler_order_matches_the_model(ops: list[tuple[object, ...]]) -> None:
    sched, model = Scheduler(), _ModelScheduler()
    for op in ops:
        if op[0] == "push":
            _, sid, size, weight, front = op
            assert isinstance(sid, int) and isinstance(size, int) and isinstance(weight, int)
            msg = OutMessage.make(sid, 53, bytes(size), False, None, None, True)
            sched.push(msg, weight, front=bool(front))
            model.push(msg, weight, bool(front))
        elif op[0] == "next":
            for _ in range(int(op[1])):  # type: ignore[call-overload]
                got = sched.next()
                sched.current = None
                assert got is model.next()
        else:
            sid = int(op[1])  # type: ignore[call-overload]
            assert sched.drop_stream(sid) == model.drop_stream(sid)
        assert bool(sched) == bool(model.active)


def test_send_queues_like_the_model_scheduler() -> None:
    """send() (which inlines push() for a stream with messages queued) queues in the exact
    weighted-fair order of the model (RFC 8831 §6.4)."""
    a, _ = _established(11, max_packet_size=1200)
    bulk = a.open_channel("bulk", negotiated_id=0, priority=256)
    fast = a.open_channel("fast", negotiated_id=2, priority=1024)
    model = _ModelScheduler()
    for i in range(40):
        sid, prio = (fast, 1024) if i % 3 == 2 else (bulk, 256)
        data = bytes([i]) * (100 + 37 * i)
        a.send(sid, data)
        model.push(OutMessage.make(sid, 53, data, False, None, None, True), prio, False)
    sent: list[bytes] = []
    sched = a.tx.sched
    while (msg := sched.next()) is not None:
        sched.current = None
        sent.append(msg.data)
    expected = []
    while (m := model.next()) is not None:
        expected.append(m.data)
    assert sent == expected and len(sent) == 40


def test_fairness_on_the_wire_after_a_stream_joins_mid_transfer() -> None:
    """Two streams on a live association: a stream joining late gets its weighted share."""
    a, b = _established(12, max_packet_size=1200)
    bulk = a.open_channel("bulk", negotiated_id=0, priority=256)
    fast = a.open_channel("fast", negotiated_id=2, priority=1024)
    b.open_channel("bulk", negotiated_id=0)
    b.open_channel("fast", negotiated_id=2)
    for i in range(100):
        a.send(bulk, bytes([i]) * 1000)
    order: list[int] = []
    now = 0.0
    joined = False
    for _ in range(500):
        for p in a.datagrams_to_send():
            b.receive(p, now)
        while (ev := b.next_event()) is not None:
            if isinstance(ev, sctp.MessageReceived):
                order.append(ev.stream_id)
        for p in b.datagrams_to_send():
            a.receive(p, now)
        while a.next_event() is not None:
            pass
        if not joined and len(order) >= 10:
            joined = True
            for i in range(20):
                a.send(fast, bytes([i]) * 1000)
        if len(order) == 120:
            break
        now += 0.01
        t = a.next_timeout()
        if t is not None and t <= now:
            a.handle_timeout(now)
        t = b.next_timeout()
        if t is not None and t <= now:
            b.handle_timeout(now)
    assert len(order) == 120
    after = order[order.index(fast) :]
    # weights 1024 : 256 -> four "fast" messages per "bulk" message while both are queued
    first25 = after[:25]
    assert first25.count(fast) == 20 and first25.count(bulk) == 5


# ---------------------------------------------------------------------------- send limit


def test_cached_send_limit_follows_both_sizes() -> None:
    a, _ = _established(5, max_message_size=1000)
    sid = a.open_channel("x", negotiated_id=0)
    a.send(sid, bytes(1000))
    with pytest.raises(sctp.MessageTooLarge):
        a.send(sid, bytes(1001))
    a.set_remote_max_message_size(500)
    a.send(sid, bytes(500))
    with pytest.raises(sctp.MessageTooLarge):
        a.send(sid, bytes(501))
    a.max_message_size = 300
    assert a.max_message_size == 300
    with pytest.raises(sctp.MessageTooLarge):
        a.send(sid, bytes(301))
    a.set_remote_max_message_size(0)  # no remote limit: the local one applies
    a.send(sid, bytes(300))
    a.max_message_size = 0  # no limit at all
    a.send(sid, bytes(70000))


def test_empty_message_counts_its_byte_in_the_send_buffer() -> None:
    per = SEND_MESSAGE_OVERHEAD
    a, _ = _established(6, max_send_buffer=10 + 2 * per)
    sid = a.open_channel("x", negotiated_id=0)
    a.send(sid, b"")  # sent as one byte (RFC 8831 §6.6)
    a.send(sid, bytes(9))
    with pytest.raises(sctp.SendBufferFull):
        a.send(sid, b"x")


# ---------------------------------------------------------------------------- events


def test_received_message_events_are_ordinary_frozen_dataclasses() -> None:
    """MessageReceived events filled through the slot descriptors equal constructed ones."""
    a, b = _established(8)
    sid = a.open_channel("x", negotiated_id=0)
    b.open_channel("x", negotiated_id=0)
    a.send(sid, b"one")
    a.send(sid, b"two", binary=False)
    for p in a.datagrams_to_send():
        b.receive(p, 0.0)
    got = [e for e in iter(b.next_event, None) if isinstance(e, sctp.MessageReceived)]
    want = [sctp.MessageReceived(sid, b"one", True), sctp.MessageReceived(sid, b"two", False)]
    assert got == want
    assert [hash(e) for e in got] == [hash(e) for e in want]
    assert [repr(e) for e in got] == [repr(e) for e in want]
    with pytest.raises(dataclasses.FrozenInstanceError):
        got[0].data = b""  # type: ignore[misc]


# ---------------------------------------------------------------------------- RTT samples


def test_rtt_sample_from_the_timed_chunk_when_the_cumulative_ack_covers_it() -> None:
    """RFC 9260 §6.3.1: one timed chunk per round trip; the sample is taken when a SACK acks
    it, whichever chunk of a run it is, and never twice."""
    a, b = _established(21, rto_min=0.01)
    sid = a.open_channel("x", negotiated_id=0)
    b.open_channel("x", negotiated_id=0)
    a.send(sid, b"first")  # timed (sent at 1.0)
    pkts = a.datagrams_to_send()
    for i in range(3):
        a.send(sid, b"more %d" % i)
    a.tx.now = 1.0
    pkts = [*pkts, *a.datagrams_to_send()]
    assert a.tx.rtt_chunk is not None and a.tx.rtt_chunk.tsn == a.tx.cum_acked + 1
    samples: list[float] = []

    class Recording(Rto):
        __slots__ = ()

        def sample(self, r: float) -> None:
            samples.append(r)
            super().sample(r)

    a.rto.__class__ = Recording
    for p in pkts:
        b.receive(p, 1.25)
    b.handle_timeout(2.0)  # SACK.Delay
    for p in b.datagrams_to_send():
        a.receive(p, 1.5)
    assert samples == [1.5] and a.tx.rtt_chunk is None and a.rto.srtt == 1.5
    # a SACK not covering the timed chunk takes no sample
    a.send(sid, b"next")
    a.tx.now = 3.0
    timed = a.datagrams_to_send()
    received = a.stats.packets_received
    a.receive(_plain_sack(b), 3.5)
    assert a.stats.packets_received == received + 1 and a.stats.bad_checksum == 0
    assert samples == [1.5] and a.tx.rtt_chunk is not None
    for p in timed:
        b.receive(p, 3.6)
    b.handle_timeout(4.0)
    for p in b.datagrams_to_send():
        a.receive(p, 4.0)
    assert samples == [1.5, 4.0 - 3.0]


def _plain_sack(b: sctp.Association) -> bytes:
    """A duplicate of b's last SACK (cumulative TSN unchanged), as a packet to a."""
    header = struct.pack("!HHI", b.local_port, b.remote_port, b.writer.tag)
    return header + b"\x00\x00\x00\x00" + b.rx.sack_chunk()


# ---------------------------------------------------------------------------- random packets

_U16 = st.integers(0, 0xFFFF)
_data_chunk = st.one_of(
    # the next whole message on the open channel (the inline path's case) ...
    st.tuples(
        st.just(0),
        st.just(3),
        st.just(0),
        st.just(2),
        st.just(0),
        st.sampled_from((51, 53)),
        st.sampled_from((1, 4, 700)),
        st.just(0),
    ),
    # ... or anything near it
    st.tuples(
        st.just(0),
        st.sampled_from((0, 1, 2, 3, 4, 7, 11)),  # flags: B/E/U/I combinations
        st.integers(-3, 6),  # TSN relative to the receiver's next expected one
        st.sampled_from((0, 1, 2, 3, 4, 9, 70)),  # stream id
        st.integers(-1, 3),  # SSN relative to the expected one
        st.sampled_from((0, 50, 51, 53, 54, 56, 57)),  # PPID
        st.sampled_from((0, 1, 3, 4, 700)),  # user data length
        st.integers(-2, 3),  # chunk length error (0 mostly: see below)
    ),
)
_sack_chunk = st.tuples(
    st.just(3),
    st.integers(-2, 1),  # cumulative TSN ack relative to ours
    st.integers(0, 1 << 20),
    st.lists(st.tuples(_U16, _U16), max_size=2),
    st.lists(st.integers(0, 3), max_size=2),
    st.integers(-4, 4),  # chunk length error
)


def _build(
    b: sctp.Association, a: sctp.Association, items: list[tuple[Any, ...]], tail: bytes
) -> bytes:
    body = b""
    next_tsn = b.rx.cum + 1  # as the packet's earlier chunks would advance it
    next_ssn = dict(b.rx.in_ssn)
    for it in items:
        if it[0] == 0:
            _, flags, dtsn, sid, dssn, ppid, size, err = it
            tsn = (next_tsn + dtsn) & 0xFFFFFFFF
            ssn = (next_ssn.get(sid, 0) + dssn) & 0xFFFF
            if not dtsn:
                next_tsn += 1
                if not dssn and flags & 3 == 3:
                    next_ssn[sid] = (ssn + 1) & 0xFFFF
            length = 16 + size + (err if err in (-1, 1) else 0)
            chunk = struct.pack("!BBHIHHI", 0, flags, length, tsn, sid, ssn, ppid)
            chunk += bytes(size)
        else:
            _, dcum, a_rwnd, gaps, dups, err = it
            cum = (a.tx.cum_acked + dcum) & 0xFFFFFFFF
            chunk = struct.pack("!BBHIIHH", 3, 0, 0, cum, a_rwnd, len(gaps), len(dups))
            for g in gaps:
                chunk += struct.pack("!HH", *g)
            for d in dups:
                chunk += struct.pack("!I", (cum + d) & 0xFFFFFFFF)
            length = len(chunk) + (err if abs(err) <= 2 else 0)
            chunk = chunk[:2] + struct.pack("!H", length & 0xFFFF) + chunk[4:]
        body += chunk + bytes(-len(chunk) & 3)
    return struct.pack("!HHI", 5000, 5000, b.handshake.local_tag) + bytes(4) + body + tail


_packet = st.tuples(
    st.lists(st.one_of(_data_chunk, _sack_chunk), min_size=1, max_size=5),
    st.one_of(st.just(b""), st.binary(max_size=20)),  # trailing bytes
)


@given(st.lists(_packet, max_size=6))
def test_random_data_and_sack_packets_match_the_general_path(
    packets: list[tuple[list[tuple[Any, ...]], bytes]],
) -> None:
    a, b0 = _established(31, receive_window=3000)
    sid = a.open_channel("x", negotiated_id=2)
    b0.open_channel("x", negotiated_id=2)
    a.send(sid, bytes(3000))  # outstanding data for the SACKs to acknowledge
    pending = a.datagrams_to_send()
    b = Shadowed(b0)
    for p in pending[:1]:
        b.receive(p, 0.0)
    for i, (items, tail) in enumerate(packets):
        b.receive(_build(b.real, a, items, tail), 0.1 * i)
        b.drain(limit=1 if i % 2 else None)
        b.datagrams_to_send()
        assert b.real.state == b.shadow.state
    b.handle_timeout(5.0)
    b.drain()
    b.datagrams_to_send()


def test_inline_path_honours_the_receive_window() -> None:
    """Bundled whole messages beyond the receive window are dropped (not acknowledged) by the
    inline path exactly as by the general one (RFC 9260 §6.2), until the application drains."""
    a, b0 = _established(41, receive_window=2000)
    b0.open_channel("x", negotiated_id=2)
    b = Shadowed(b0)
    msg = (0, 3, 0, 2, 0, 53, 700, 0)  # the next whole message on stream 2, 700 bytes
    b.receive(_build(b.real, a, [msg] * 5, b""), 0.0)
    assert b.real.stats.data_chunks_dropped == 3  # 2 x 700 fit in 2000, the rest do not
    assert b.real.rx.cum == b.shadow.rx.cum
    sack = b.datagrams_to_send()
    assert len(sack) == 1
    assert [len(e.data) for e in b.drain() if isinstance(e, sctp.MessageReceived)] == [700] * 2
    b.receive(_build(b.real, a, [msg] * 5, b""), 0.1)  # room again after the drain
    assert b.real.stats.data_chunks_dropped == 3 + 3
    assert [len(e.data) for e in b.drain() if isinstance(e, sctp.MessageReceived)] == [700] * 2


def _general_drain(x: sctp.Association) -> list[bytes]:
    """datagrams_to_send() without its nothing-to-send shortcut."""
    x.flush(x.tx.now)
    x.rx.sack_burst = False
    out = x.writer.take()
    x.stats.packets_sent += len(out)
    return out


_DRAIN_STATE = (
    "rx.sack_due",
    "rx.sack_immediate",
    "timers.sack",
    "rx.sack_burst",
    "tx.cwnd_full",
    "tx.cwnd",
    "tx.flight",
    "timers.t3",
    "tx.last_data_sent",
)


def _get(x: object, path: str) -> object:
    for name in path.split("."):
        x = getattr(x, name)
    return x


@pytest.mark.parametrize("seed", [1, 2])
def test_idle_drain_shortcut_matches_the_general_drain(seed: int) -> None:
    """Every drain (with data, a held delayed SACK, or nothing) gives the same packets and
    state as the full _flush pass, on a deep copy taken just before it."""
    rng = random.Random(seed)
    a, b = _established(seed)
    sid = a.open_channel("p", negotiated_id=4)
    b.open_channel("p", negotiated_id=4)
    now = 0.0
    empty = 0

    def drain(x: sctp.Association) -> list[bytes]:
        nonlocal empty
        twin = copy.deepcopy(x)
        got = x.datagrams_to_send()
        want = _general_drain(twin)
        assert got == want
        for name in _DRAIN_STATE:
            assert _get(x, name) == _get(twin, name), name
        empty += not got
        return got

    for _ in range(120):
        if rng.random() < 0.6:
            a.send(sid, rng.randbytes(rng.choice((1, 64, 1000))))
        for _ in range(rng.choice((1, 2, 3))):  # extra polls find nothing (or a held SACK)
            for p in drain(a):
                b.receive(p, now)
            for p in drain(b):
                a.receive(p, now)
        for x in (a, b):
            while (ev := x.next_event()) is not None:
                if isinstance(ev, sctp.MessageReceived) and x is b and rng.random() < 0.3:
                    b.send(ev.stream_id, b"r")
        now += rng.choice((0.0005, 0.05, 0.3))
        for x in (a, b):
            t = x.next_timeout()
            if t is not None and t <= now:
                x.handle_timeout(now)
    assert empty > 50  # drains with nothing to send happened (the shortcut)
