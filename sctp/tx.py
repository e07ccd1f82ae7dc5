"""The sending side of an association: per-stream queues with a fair scheduler (RFC 8831 §6.4),
fragmentation (RFC 9260 §6.9), outstanding chunks and SACK processing (§6.2.1), congestion
control and fast recovery (§7.2), T3-rtx handling (§6.3.3), PR-SCTP abandonment and FORWARD TSN
(RFC 3758 §3.5).

TSNs are unwrapped integers; serial arithmetic (RFC 1982) only where a wire TSN comes in.
"""

from __future__ import annotations

import bisect
import heapq
import operator
from collections import deque
from collections.abc import Callable, Sequence

from . import dcep
from .channels import Channel, ChannelState
from .chunks import (
    DATA_HEADER,
    FLAG_BEGIN,
    FLAG_END,
    FLAG_IMMEDIATE,
    FLAG_UNORDERED,
    CauseCode,
    ForwardTsnChunk,
)
from .errors import ChannelNotOpen, MessageTooLarge, SendBufferFull
from .packet import PacketWriter
from .plpmtud import Plpmtud
from .stats import AssociationStats
from .timers import PathErrors, Rto, Timers

DEFAULT_SEND_BUFFER = 64 << 20
# Memory a queued message holds besides its payload bytes (its record, queue slot and the payload
# object's header): the send buffer counts it, so the limit bounds memory, not only payload.
SEND_MESSAGE_OVERHEAD = 160
MIN_FRAGMENT = 64  # do not start a fragment smaller than this at the end of a packet
MAX_OUTSTANDING_CHUNKS = 1 << 15
MAX_DUPTHRESH = 16  # cap of the reordering-adapted miss threshold (RFC 9260 §7.2.4 uses 3)
MAX_BLOCKED_PASSES = 4096  # transmission passes remembered for the lifetime rule
DEFAULT_PRIORITY = 256

_TSN_MOD = 1 << 32
_HALF = 1 << 31
_PADS = (b"", b"\x00\x00\x00", b"\x00\x00", b"\x00")
_PPID_BINARY = dcep.PPID_BINARY
_PPID_STRING = dcep.PPID_STRING
_bisect_right = bisect.bisect_right
_pass_number = operator.itemgetter(0)
_heapreplace = heapq.heapreplace
_heappush = heapq.heappush
_new_object = object.__new__  # (an OutChunk or OutMessage built without an __init__ frame)


class OutMessage:
    """A queued user or DCEP message; `offset` is how much of it has TSNs."""

    __slots__ = (
        "abandoned",
        "born",
        "chunks",
        "counted",
        "data",
        "expires",
        "max_rtx",
        "offset",
        "ppid",
        "ssn",
        "stream_id",
        "unordered",
    )

    stream_id: int
    ppid: int
    data: bytes
    unordered: bool
    max_rtx: int | None
    expires: float | None
    born: int  # the Sender's transmission pass count when it was queued
    counted: bool  # whether the bytes count towards the channel's buffered amount
    offset: int
    ssn: int
    abandoned: bool
    # the chunks sent, kept only for PR-SCTP abandonment (RFC 3758 §3.5)
    chunks: list[OutChunk] | None

    @staticmethod
    def make(
        stream_id: int,
        ppid: int,
        data: bytes,
        unordered: bool,
        max_rtx: int | None,
        expires: float | None,
        counted: bool,
    ) -> OutMessage:
        """A new message (Sender.send builds its messages the same way, inline)."""
        msg: OutMessage = _new_object(OutMessage)
        msg.stream_id = stream_id
        msg.ppid = ppid
        msg.data = data
        msg.unordered = unordered
        msg.max_rtx = max_rtx
        msg.expires = expires
        msg.born = 0
        msg.counted = counted
        msg.offset = 0
        msg.ssn = -1
        msg.abandoned = False
        msg.chunks = [] if max_rtx is not None or expires is not None else None
        return msg


Wire = tuple[bytes | memoryview, ...]


class OutChunk:
    """A DATA chunk sent and not yet acknowledged (or abandoned).

    Built only in Sender.transmit, which fills every slot. `wire` is the encoded chunk as parts
    (header, user data as a view of the message, padding), joined only into the packet; its
    length is (16 + size) rounded up to 4."""

    __slots__ = (
        "abandoned",
        "acked",
        "in_flight",
        "miss",
        "msg",
        "retransmits",
        "rtx_pending",
        "sent_time",
        "size",
        "strike_from",
        "tsn",
        "wire",
    )

    tsn: int
    msg: OutMessage
    wire: Wire
    size: int
    sent_time: float
    retransmits: int
    acked: bool
    abandoned: bool
    in_flight: bool
    miss: int
    strike_from: int  # misses count from SACKs newly acking a TSN >= this (next TSN at rtx)
    rtx_pending: bool


class Scheduler:
    """Weighted fair queueing of whole messages across streams (RFC 8831 §6.4).

    Fragments of one DATA message need consecutive TSNs (RFC 9260 §6.9), so the unit of
    scheduling is the message: `current` is the message being fragmented. A stream with
    messages queued is `active` and has exactly one turn in the heap."""

    __slots__ = ("active", "current", "heap", "pass_", "queues", "seq", "vtime", "weight")

    def __init__(self) -> None:
        self.queues: dict[int, deque[OutMessage]] = {}  # non-empty exactly while active
        self.heap: list[tuple[float, int, int]] = []
        self.active: set[int] = set()
        self.pass_: dict[int, float] = {}
        self.weight: dict[int, int] = {}
        self.vtime = 0.0
        self.seq = 0
        self.current: OutMessage | None = None

    def __bool__(self) -> bool:
        return self.current is not None or bool(self.active)

    def push(self, msg: OutMessage, weight: int, *, front: bool = False) -> None:
        sid = msg.stream_id
        q = self.queues.get(sid)
        if q is None:
            q = self.queues[sid] = deque()
        if front:
            q.appendleft(msg)
        else:
            q.append(msg)
        self.weight[sid] = weight
        if sid not in self.active:
            self.active.add(sid)
            start = self.pass_.get(sid, 0.0)
            if self.vtime > start:
                start = self.vtime
            self.seq += 1
            _heappush(self.heap, (start, self.seq, sid))

    def next(self) -> OutMessage | None:
        """The message to fragment next (the current one until it is finished)."""
        if self.current is not None:
            return self.current
        heap = self.heap
        queues = self.queues
        while heap:
            start, _, sid = heap[0]
            q = queues.get(sid)
            if not q:
                heapq.heappop(heap)
                self.active.discard(sid)
                continue
            msg = q.popleft()
            self.vtime = start
            finish = start + (len(msg.data) + 64) / self.weight[sid]
            self.pass_[sid] = finish
            if q:
                # the stream's next turn replaces this one: one sift instead of pop + push
                seq = self.seq + 1
                self.seq = seq
                _heapreplace(heap, (finish, seq, sid))
            else:
                # (the empty deque stays for the stream's next message)
                heapq.heappop(heap)
                self.active.discard(sid)
            self.current = msg
            return msg
        return None

    def drop_stream(self, sid: int) -> list[OutMessage]:
        """Remove and return every queued (not yet started) message of a stream."""
        q = self.queues.pop(sid, None)
        self.active.discard(sid)
        return list(q) if q else []

    def clear(self) -> None:
        self.queues.clear()
        self.heap.clear()
        self.active.clear()
        self.current = None


class Sender:
    """Queues, TSN assignment, retransmission and congestion control towards the peer.

    `can_send` / `shutdown_pending` mirror the association's state (set where it changes);
    `now` is the time the association was last told."""

    __slots__ = (
        "_abort",
        "_after_sack",
        "_errors",
        "_pl",
        "_rto",
        "_stats",
        "_timers",
        "_writer",
        "adv_peer_ack",
        "blocked",
        "by_id",
        "can_send",
        "cum_acked",
        "cwnd",
        "cwnd_full",
        "dupthresh",
        "fast_recovery",
        "fast_rtx_now",
        "flight",
        "forward_tsn_due",
        "frtx",
        "last_data_sent",
        "max_send_buffer",
        "next_tsn",
        "now",
        "out_ssn",
        "passes",
        "pba",
        "peer_forward_tsn",
        "peer_rwnd",
        "queued_bytes",
        "recover_tsn",
        "rtt_chunk",
        "rtx_heap",
        "sched",
        "send_max",
        "sent",
        "sent_head",
        "shutdown_pending",
        "ssthresh",
        "undo",
    )

    def __init__(
        self,
        *,
        initial_tsn: int,
        max_send_buffer: int,
        send_max: int,
        by_id: dict[int, Channel],
        stats: AssociationStats,
        timers: Timers,
        rto: Rto,
        errors: PathErrors,
        writer: PacketWriter,
        pl: Plpmtud,
        abort: Callable[[str, int], None],
        after_sack: Callable[[], None],
    ) -> None:
        self.by_id = by_id
        self._stats = stats
        self._timers = timers
        self._rto = rto
        self._errors = errors
        self._writer = writer
        self._pl = pl
        self._abort = abort
        self._after_sack = after_sack  # SHUTDOWN-PENDING: everything may be acknowledged now
        self.can_send = True
        self.shutdown_pending = False
        self.now = 0.0
        self.max_send_buffer = max_send_buffer
        self.send_max = send_max  # the largest message, kept current by the association
        self.next_tsn = initial_tsn + _TSN_MOD
        self.cum_acked = self.next_tsn - 1
        self.adv_peer_ack = self.cum_acked  # RFC 3758 §3.5 Advanced.Peer.Ack.Point
        self.sent: list[OutChunk] = []  # consecutive TSNs from `sent_head` on are outstanding
        self.sent_head = 0
        self.rtx_heap: list[tuple[int, OutChunk]] = []
        self.fast_rtx_now = False
        self.sched = Scheduler()
        self.queued_bytes = 0  # payload + SEND_MESSAGE_OVERHEAD per message not yet sent
        self.out_ssn: dict[int, int] = {}
        self.flight = 0
        mtu = writer.mtu
        self.cwnd = min(4 * mtu, max(2 * mtu, 4380))  # RFC 9260 §7.2.1
        self.ssthresh = 1 << 30
        self.pba = 0  # partial_bytes_acked
        self.cwnd_full = False  # the last transmission stopped at cwnd (RFC 7661 cwnd-limited)
        self.fast_recovery = False
        self.recover_tsn = 0
        self.dupthresh = 3  # miss indications that trigger fast retransmit (RFC 9260 §7.2.4)
        self.undo: tuple[int, int] | None = None  # cwnd, ssthresh before the last reduction
        self.frtx: dict[int, OutChunk] = {}  # fast-retransmitted chunks by wire TSN
        self.peer_rwnd = 0
        self.peer_forward_tsn = False
        self.rtt_chunk: OutChunk | None = None
        self.forward_tsn_due = False
        self.last_data_sent = 0.0
        # (number, time) of the transmission passes that left messages queued (cwnd, the
        # peer's window), numbered by `passes`
        self.passes = 0
        self.blocked: deque[tuple[int, float]] = deque(maxlen=MAX_BLOCKED_PASSES)

    # ------------------------------------------------------------------ queueing

    def send(self, stream_id: int, data: bytes, *, binary: bool = True) -> None:
        """Queue one user message: PPID 53/51, or 57/56 for empty (RFC 8831 §6.6, §8)."""
        ch = self.by_id.get(stream_id)
        if ch is None or ch.state is ChannelState.CLOSING or not self.can_send:
            raise ChannelNotOpen(f"stream {stream_id} has no open channel")
        n = len(data)
        if n > self.send_max:
            raise MessageTooLarge(f"{n} bytes exceeds the maximum message size")
        queued = self.queued_bytes + n + SEND_MESSAGE_OVERHEAD
        if queued > self.max_send_buffer:
            raise SendBufferFull("send buffer full")
        if n:
            ppid = _PPID_BINARY if binary else _PPID_STRING
            payload = data if type(data) is bytes else bytes(data)
        else:
            ppid = dcep.PPID_BINARY_EMPTY if binary else dcep.PPID_STRING_EMPTY
            payload = b"\x00"
            queued += 1
        # RFC 8832 §6: until the ACK arrives, messages are sent ordered
        unordered = not ch.ordered and ch.ack_received
        lifetime = ch.max_packet_lifetime
        expires = self.now + lifetime / 1000.0 if lifetime is not None else None
        max_rtx = ch.max_retransmits
        # OutMessage.make and Scheduler.push without their frames (the hot path of send)
        msg: OutMessage = _new_object(OutMessage)
        msg.stream_id = stream_id
        msg.ppid = ppid
        msg.data = payload
        msg.unordered = unordered
        msg.max_rtx = max_rtx
        msg.expires = expires
        msg.born = self.passes
        msg.counted = n > 0
        msg.offset = 0
        msg.ssn = -1
        msg.abandoned = False
        msg.chunks = [] if max_rtx is not None or expires is not None else None
        sched = self.sched
        q = sched.queues.get(stream_id)
        prio = ch.priority if ch.priority > 0 else DEFAULT_PRIORITY
        if q:  # (a stream with messages queued is active: its turn is in the heap already)
            q.append(msg)
            sched.weight[stream_id] = prio
        else:
            # an idle stream's deque is empty or absent and it is not in the heap
            if q is None:
                q = sched.queues[stream_id] = deque()
            q.append(msg)
            sched.weight[stream_id] = prio
            sched.active.add(stream_id)
            start = sched.pass_.get(stream_id, 0.0)
            vtime = sched.vtime
            if vtime > start:
                start = vtime
            seq = sched.seq = sched.seq + 1
            _heappush(sched.heap, (start, seq, stream_id))
        self.queued_bytes = queued
        ch.queued += 1
        ch.buffered += n
        self._stats.messages_sent += 1

    def enqueue(self, msg: OutMessage, ch: Channel | None, *, front: bool = False) -> None:
        """Queue a message built by the association (DCEP)."""
        prio = ch.priority if ch is not None and ch.priority > 0 else DEFAULT_PRIORITY
        self.sched.push(msg, prio, front=front)
        self.queued_bytes += len(msg.data) + SEND_MESSAGE_OVERHEAD
        if ch is not None:
            ch.queued += 1

    def drop_stream(self, sid: int) -> None:
        """Forget every queued (not yet started) message of a stream."""
        for m in self.sched.drop_stream(sid):
            self.queued_bytes -= len(m.data) + SEND_MESSAGE_OVERHEAD

    def clear(self) -> None:
        """The association ended: drop everything queued or outstanding."""
        self.sched.clear()
        self.queued_bytes = 0
        self.sent = []
        self.sent_head = 0
        self.rtx_heap = []

    def outstanding(self) -> bool:
        """Whether DATA awaits acknowledgement (or abandonment) by the peer."""
        return self.sent_head < len(self.sent)

    def all_sent_and_acked(self) -> bool:
        return not self.sched and self.sent_head >= len(self.sent)

    def start(self, peer_rwnd: int, peer_forward_tsn: bool) -> None:
        """The peer's window and PR-SCTP support are known (RFC 9260 §5.1, RFC 3758 §3.1)."""
        self.peer_rwnd = peer_rwnd
        self.peer_forward_tsn = peer_forward_tsn

    # ------------------------------------------------------------------ SACK

    def on_sack(
        self,
        cum_tsn: int,
        a_rwnd: int,
        gaps: Sequence[tuple[int, int]],
        now: float,
        dups: Sequence[int] = (),
    ) -> None:
        """RFC 9260 §6.2.1, §7.2: cumulative and gap acks, RTT, cwnd, fast retransmit."""
        d = (cum_tsn - self.cum_acked) & 0xFFFFFFFF
        if d >= _HALF:
            return  # RFC 9260 §6.2.1 D i): out of order SACK (cum < cum_acked)
        cum = self.cum_acked + d
        if dups and self.frtx:
            self._check_spurious(dups)
        if cum >= self.next_tsn:
            self._abort("SACK acknowledges TSN never sent", CauseCode.PROTOCOL_VIOLATION)
            return
        sent = self.sent
        head = self.sent_head
        flight_before = self.flight
        newly = 0
        # highest TSN newly acknowledged by a gap block: those the cumulative ack covers are all
        # below the first outstanding chunk, so they never count as miss indications and the
        # loop over them does not track it (RFC 9260 §7.2.4)
        htna = 0
        cum_advanced = cum > self.cum_acked
        rtt_chunk = self.rtt_chunk
        # cumulative ack (`sent` holds consecutive TSNs from `head` on)
        stop = head + (cum - self.cum_acked)
        flight = flight_before
        for c in sent[head:stop]:
            if not c.acked:
                c.acked = True
                if c.in_flight:
                    flight -= c.size
                    c.in_flight = False
                if not c.abandoned:
                    newly += c.size
        if rtt_chunk is not None and self.cum_acked < rtt_chunk.tsn <= cum:
            self._rto.sample(now - rtt_chunk.sent_time)  # RFC 9260 §6.3.1 C3
            rtt_chunk = self.rtt_chunk = None
        head = stop
        self.flight = flight
        self.cum_acked = cum
        if head > 256 and head * 2 > len(sent):
            del sent[:head]
            head = 0
        self.sent_head = head
        # gap ack blocks
        if gaps and head < len(sent):
            base = sent[head].tsn
            n = len(sent)
            for start, end in gaps:
                if start > end:
                    continue
                lo = max(cum + start, base)
                hi = cum + end
                i = head + (lo - base)
                j = min(head + (hi - base), n - 1)
                while i <= j:
                    c = sent[i]
                    i += 1
                    if c.acked:
                        continue
                    c.acked = True
                    if c.in_flight:
                        self.flight -= c.size
                        c.in_flight = False
                    if not c.abandoned:
                        newly += c.size
                    if c.tsn > htna:
                        htna = c.tsn
                    if c is rtt_chunk:
                        self._rto.sample(now - c.sent_time)
                        rtt_chunk = self.rtt_chunk = None
        # peer window (RFC 9260 §6.2.1)
        rwnd = a_rwnd - self.flight
        self.peer_rwnd = rwnd if rwnd > 0 else 0
        # any SACK shows the peer is alive (also while probing a zero window, RFC 9260 §6.1)
        self._errors.count = 0
        # fast recovery exit (RFC 9260 §7.2.4)
        if self.fast_recovery and cum >= self.recover_tsn:
            self.fast_recovery = False
        # congestion window (RFC 9260 §7.2.1/§7.2.2)
        mtu = self._writer.mtu
        if cum_advanced and newly:
            # "fully utilized": the flight filled cwnd before this SACK, or the sender has been
            # held back by cwnd since (several SACKs processed in one batch)
            full = self.cwnd_full or flight_before + mtu >= self.cwnd
            if self.cwnd <= self.ssthresh:
                if not self.fast_recovery and full:
                    self.cwnd += min(newly, mtu)
            else:
                self.pba += newly
                if self.pba >= self.cwnd and full:
                    self.pba -= self.cwnd
                    self.cwnd += mtu
        if self.flight == 0:
            self.pba = 0
        # miss indications (RFC 9260 §7.2.4): for TSNs below the highest TSN newly acknowledged,
        # or, in Fast Recovery when the cumulative TSN advanced, for every TSN reported missing
        limit = htna
        if self.fast_recovery and cum_advanced and gaps:
            limit = max(limit, cum + max(end for _, end in gaps))
        if limit and head < len(sent) and sent[head].tsn < limit:
            marked = False
            for i in range(head, len(sent)):
                c = sent[i]
                if c.tsn >= limit:
                    break
                # a retransmitted chunk is struck only by acks of data sent after it: a lost
                # retransmission is fast-retransmitted again, not left to T3-rtx (usrsctp)
                if c.acked or c.abandoned or c.rtx_pending or htna < c.strike_from:
                    continue
                c.miss += 1
                if c.miss >= self.dupthresh:
                    if self.check_abandon(c, now):
                        continue
                    self._stats.fast_retransmits += 1
                    self._mark_rtx(c)
                    if c.retransmits == 0:
                        if len(self.frtx) >= 4096:
                            self.frtx.clear()
                        self.frtx[c.tsn & 0xFFFFFFFF] = c
                    marked = True
            if marked:
                if not self.fast_recovery:
                    # RFC 9260 §7.2.3/§7.2.4
                    self.undo = (self.cwnd, self.ssthresh)
                    self.ssthresh = max(self.cwnd // 2, 4 * mtu)
                    self.cwnd = self.ssthresh
                    self.pba = 0
                    self.fast_recovery = True
                    self.recover_tsn = self.next_tsn - 1
                self.fast_rtx_now = True
        # PR-SCTP ack point (RFC 3758 §3.5 C)
        if self.peer_forward_tsn:
            adv = self.adv_peer_ack if self.adv_peer_ack > cum else cum
            i = head + (adv - cum)
            if adv > cum or (i < len(sent) and sent[i].abandoned):
                self.advance_ack_point()
            else:
                self.adv_peer_ack = adv
        rto = self._rto
        if cum_advanced and rto.value > rto.base:
            # the peer got data again: drop the T3-rtx back-off (as dcsctp restarts its timer).
            # RFC 9260 §6.3.3 keeps it until a new RTT sample, which Karn's rule (§6.3.1 C5)
            # never yields while only retransmitted chunks are outstanding (a stalled tail).
            rto.value = rto.base
        # T3-rtx (RFC 9260 §6.3.2)
        if self.sent_head < len(self.sent):
            if cum_advanced:
                self._timers.t3 = now + rto.value
        else:
            self._timers.t3 = None
        if self.shutdown_pending:
            self._after_sack()

    def _check_spurious(self, dups: Sequence[int]) -> None:
        """RFC 3708 §3: a Duplicate TSN report for a chunk sent twice (original plus one fast
        retransmission) shows the original was only reordered: undo the window reduction
        (RFC 4015 style) and tolerate more reordering before the next fast retransmit."""
        for d in dups:
            c = self.frtx.pop(d, None)
            if c is None or c.retransmits != 1:
                continue
            self._stats.spurious_retransmits += 1
            self.dupthresh = min(self.dupthresh + 1, MAX_DUPTHRESH)
            if self.undo is not None:
                cwnd, ssthresh = self.undo
                self.undo = None
                self.cwnd = max(self.cwnd, cwnd)
                self.ssthresh = max(self.ssthresh, ssthresh)

    def _mark_rtx(self, c: OutChunk) -> None:
        if c.in_flight:
            self.flight -= c.size
            c.in_flight = False
        if not c.rtx_pending:
            c.rtx_pending = True
            heapq.heappush(self.rtx_heap, (c.tsn, c))

    # ------------------------------------------------------------------ PR-SCTP

    def check_abandon(self, c: OutChunk, now: float) -> bool:
        """RFC 3758 §3.5 A: abandon per the message's PR policy. True if abandoned."""
        msg = c.msg
        if msg.abandoned:
            return True
        if (msg.max_rtx is not None and c.retransmits >= msg.max_rtx) or (
            msg.expires is not None and now >= msg.expires
        ):
            self._abandon(msg)
            return True
        return False

    def _abandon(self, msg: OutMessage) -> None:
        msg.abandoned = True
        self._stats.abandoned_messages += 1
        for c in msg.chunks or ():
            if not c.abandoned:
                c.abandoned = True
                if c.in_flight:
                    self.flight -= c.size
                    c.in_flight = False
        if msg.offset < len(msg.data):
            # RFC 3758 §3.5: the unsent rest of the message is dropped as well
            rest = len(msg.data) - msg.offset
            self.queued_bytes -= rest + SEND_MESSAGE_OVERHEAD
            ch = self.by_id.get(msg.stream_id)
            if ch is not None:
                if msg.counted:
                    ch.buffered -= rest
                ch.queued -= 1
            msg.offset = len(msg.data)
            if self.sched.current is msg:
                self.sched.current = None

    def advance_ack_point(self) -> None:
        """RFC 3758 §3.5 C: move Advanced.Peer.Ack.Point over abandoned chunks."""
        if not self.peer_forward_tsn:
            return
        if self.adv_peer_ack < self.cum_acked:
            self.adv_peer_ack = self.cum_acked
        sent = self.sent
        i = self.sent_head + (self.adv_peer_ack - self.cum_acked)
        moved = False
        while i < len(sent) and sent[i].abandoned:
            self.adv_peer_ack = sent[i].tsn
            i += 1
            moved = True
        if moved or self.adv_peer_ack > self.cum_acked:
            self.forward_tsn_due = True

    def forward_tsn_chunk(self) -> bytes:
        """FORWARD TSN to Advanced.Peer.Ack.Point with the skipped ordered streams (§3.2)."""
        streams: dict[int, int] = {}
        sent = self.sent
        for i in range(self.sent_head, len(sent)):
            c = sent[i]
            if c.tsn > self.adv_peer_ack:
                break
            m = c.msg
            if not m.unordered and m.ssn >= 0:
                streams[m.stream_id] = m.ssn
        return ForwardTsnChunk(self.adv_peer_ack & 0xFFFFFFFF, sorted(streams.items())).encode()

    def _held_back(self, msg: OutMessage) -> bool:
        """Whether a transmission pass during `msg`'s lifetime left it queued.

        The lifetime rule for unsent messages (RFC 3758 §3.5 leaves them to the sender): a
        message is dropped unsent only if the sender had a chance to send it in time and
        congestion control or the peer's window held it back; one whose lifetime ended before
        any pass (a lifetime shorter than the application's polling interval) is transmitted
        once, its lifetime then limiting retransmission only."""
        blocked = self.blocked
        i = _bisect_right(blocked, msg.born, key=_pass_number)
        expires = msg.expires
        if i == len(blocked) or expires is None:
            return False
        # every pass since it was queued left it queued: if the first (number born + 1) was
        # forgotten, it waited through MAX_BLOCKED_PASSES passes
        return blocked[i][0] > msg.born + 1 or blocked[i][1] < expires

    # ------------------------------------------------------------------ T3-rtx

    def on_t3_expiry(self, now: float) -> None:
        """RFC 9260 §6.3.3 E1-E3 (after the path error was counted): back off, collapse cwnd,
        mark every outstanding chunk for retransmission."""
        rto = self._rto
        rto.value = rto.backoff(rto.value)
        mtu = self._writer.mtu
        self.ssthresh = max(self.cwnd // 2, 4 * mtu)
        self.cwnd = mtu
        self.undo = None  # a timeout is not undone
        self.dupthresh = 3
        self.pba = 0
        self.fast_recovery = False
        self.rtt_chunk = None  # Karn's algorithm
        sent = self.sent
        for i in range(self.sent_head, len(sent)):
            c = sent[i]
            if c.acked or c.abandoned:
                continue
            if self.check_abandon(c, now):
                continue
            self._mark_rtx(c)
        self.flight = 0
        self.advance_ack_point()
        self._timers.t3 = now + rto.value

    # ------------------------------------------------------------------ transmission

    def has_work(self) -> bool:
        """Anything to send: queued or current messages, retransmissions, a FORWARD TSN."""
        sched = self.sched
        return bool(
            sched.current is not None or sched.active or self.rtx_heap or self.forward_tsn_due
        )

    def transmit(self, ctrl: list[bytes], now: float) -> None:
        """Packets of `ctrl` chunks, retransmissions, a FORWARD TSN and new DATA, as far as
        cwnd and the peer's window allow (RFC 9260 §6.1, §7.2)."""
        sched = self.sched
        active = sched.active
        if (
            not ctrl
            and not self.rtx_heap
            and sched.current is None  # (`not sched` without the __bool__ call)
            and not active
            and not self.forward_tsn_due
        ):
            self.cwnd_full = False  # nothing to send: what the full pass below would conclude
            return
        writer = self._writer
        emit = writer.emit
        budget = writer.chunk_budget
        parts: list[bytes | memoryview] = []
        size = 0
        for raw in ctrl:
            if size + len(raw) > budget and parts:
                emit(parts)
                parts = []
                size = 0
            parts.append(raw)
            size += len(raw)
        sent_data = False
        cwnd_full = False  # stopped by cwnd (not by the application or the peer's window)
        stats = self._stats
        # retransmissions first (RFC 9260 §6.1 / §7.2.4)
        heap = self.rtx_heap
        fast = self.fast_rtx_now
        self.fast_rtx_now = False
        fast_budget = budget - size if fast else 0
        while heap:
            c = heap[0][1]
            if c.acked or c.abandoned or not c.rtx_pending:
                heapq.heappop(heap)
                c.rtx_pending = False
                continue
            n = (c.size + 19) & ~3  # len of c.wire: padded DATA chunk (RFC 9260 §3.3.1)
            in_fast = fast_budget >= n
            if not in_fast and self.flight >= self.cwnd:
                cwnd_full = True
                break
            if self.check_abandon(c, now):
                heapq.heappop(heap)
                c.rtx_pending = False
                continue
            heapq.heappop(heap)
            if in_fast:
                fast_budget -= n
            if size + n > budget and parts:
                # (a chunk built for a larger MTU than the current one goes out alone)
                emit(parts)
                parts = []
                size = 0
            parts += c.wire
            size += n
            c.rtx_pending = False
            c.retransmits += 1
            c.miss = 0
            c.strike_from = self.next_tsn
            c.sent_time = now
            c.in_flight = True
            self.flight += c.size
            stats.retransmissions += 1
            if c is self.rtt_chunk:
                self.rtt_chunk = None
            sent_data = True
        if self.forward_tsn_due:
            # abandonment while retransmitting moved the ack point
            self.advance_ack_point()
            if self.adv_peer_ack > self.cum_acked:
                fwd = self.forward_tsn_chunk()
                stats.forward_tsn_sent += 1
                if size + len(fwd) > budget and parts:
                    emit(parts)
                    parts = []
                    size = 0
                parts.append(fwd)
                size += len(fwd)
            self.forward_tsn_due = False
        # new data (RFC 9260 §6.1 A/B)
        sent_list = self.sent
        channels = self.by_id
        mtu = writer.mtu
        if (
            self.flight == 0
            and self.sent_head >= len(sent_list)  # (nothing outstanding)
            and (sched.current is not None or active)  # bool(sched)
        ):
            # RFC 9260 §7.2.1: after an idle period, halve cwnd once per RTO (floor 4*MTU)
            rto = self._rto.value
            idle = now - self.last_data_sent
            if idle > rto:
                for _ in range(min(int(idle / rto), 8)):
                    self.cwnd = max(self.cwnd // 2, 4 * mtu)
        max_frag = writer.max_fragment
        cwnd = self.cwnd
        big = mtu > self._pl.base  # PLPMTUD raised the packet size (off by default)
        flight = self.flight
        peer_rwnd = self.peer_rwnd
        next_tsn = self.next_tsn
        out_ssn = self.out_ssn
        pack_hdr = DATA_HEADER.pack
        sent_limit = self.sent_head + MAX_OUTSTANDING_CHUNKS
        full_at = budget - 16 - MIN_FRAGMENT
        rtt_chunk = self.rtt_chunk
        queued_bytes = self.queued_bytes
        new_obj = _new_object
        nsent = 0
        if not heap:  # (no new data while retransmissions wait)
            max_new = sent_limit - len(sent_list)  # MAX_OUTSTANDING_CHUNKS
            # (`sched.current is not None or active` is bool(sched) without a call per chunk)
            while sched.current is not None or active:
                if flight >= cwnd:
                    cwnd_full = True
                    break
                if nsent >= max_new:
                    break
                msg = sched.current
                if msg is None:
                    msg = sched.next()
                    if msg is None:
                        break
                if msg.abandoned:
                    sched.current = None
                    continue
                data = msg.data
                dlen = len(data)
                offset = msg.offset
                # An expired unsent message is dropped only if a pass during its lifetime held
                # it back (RFC 3758 §3.5); if no pass came before its expiry (the application
                # polled later than its lifetime) it goes out once (MULTIPLAYER.md D1).
                if (
                    offset == 0
                    and msg.expires is not None
                    and now >= msg.expires
                    and self._held_back(msg)
                ):
                    sched.current = None
                    queued_bytes -= dlen + SEND_MESSAGE_OVERHEAD
                    ch = channels.get(msg.stream_id)
                    if ch is not None:
                        if msg.counted:
                            ch.buffered -= dlen
                        ch.queued -= 1
                    stats.abandoned_messages += 1
                    continue
                space = budget - size - 16
                remaining = dlen - offset
                # a message that fits one chunk is not split just to fill this packet (fewer
                # fragments: less header overhead and less exposure to loss for PR channels); a
                # larger one fills the packet (fewer packets: the per-packet cost dominates)
                if space < remaining and (
                    space < MIN_FRAGMENT or (offset == 0 and remaining <= max_frag)
                ):
                    emit(parts)
                    parts = []
                    size = 0
                    space = max_frag
                space &= ~3  # the padded chunk must fit too (max_frag is aligned already)
                frag = remaining if remaining <= space else space
                if peer_rwnd < frag and flight > 0:
                    break
                sid = msg.stream_id
                if offset == 0:
                    if msg.unordered:
                        flags = FLAG_BEGIN | FLAG_UNORDERED
                        ssn = 0
                    else:
                        flags = FLAG_BEGIN
                        ssn = out_ssn.get(sid, 0)
                        msg.ssn = ssn
                        out_ssn[sid] = (ssn + 1) & 0xFFFF
                else:
                    flags = FLAG_UNORDERED if msg.unordered else 0
                    ssn = msg.ssn if msg.ssn > 0 else 0
                if big and flight + frag >= cwnd:
                    # RFC 7053 §5.1 (RFC 9260 §3.3.1 I bit): this chunk fills cwnd; with PLPMTUD
                    # packets a window of 4 KiB..2 packets would otherwise wait for SACK.Delay
                    flags |= FLAG_IMMEDIATE
                piece = data if frag == dlen else memoryview(data)[offset : offset + frag]
                offset += frag
                msg.offset = offset
                if offset >= dlen:
                    flags |= FLAG_END
                    sched.current = None
                    queued_bytes -= SEND_MESSAGE_OVERHEAD
                    ch = channels.get(sid)
                    if ch is not None:
                        ch.queued -= 1
                        if msg.counted:
                            ch.buffered -= frag
                elif msg.counted:
                    ch = channels.get(sid)
                    if ch is not None:
                        ch.buffered -= frag
                queued_bytes -= frag
                tsn = next_tsn
                next_tsn += 1
                n = 16 + frag
                hdr = pack_hdr(0, flags, n, tsn & 0xFFFFFFFF, sid, ssn, msg.ppid)
                if n & 3:
                    wire: Wire = (hdr, piece, _PADS[n & 3])
                    n += -n & 3
                else:
                    wire = (hdr, piece)
                c = new_obj(OutChunk)  # every slot set here (see OutChunk)
                c.tsn = tsn
                c.msg = msg
                c.wire = wire
                c.size = frag
                c.sent_time = now
                c.retransmits = 0
                c.acked = False
                c.abandoned = False
                c.in_flight = True
                c.miss = 0
                c.strike_from = 0
                c.rtx_pending = False
                if msg.chunks is not None:
                    msg.chunks.append(c)
                sent_list.append(c)
                flight += frag
                peer_rwnd = peer_rwnd - frag if peer_rwnd > frag else 0
                if rtt_chunk is None:
                    rtt_chunk = self.rtt_chunk = c
                parts += wire
                size += n
                nsent += 1
                if size >= full_at:
                    emit(parts)
                    parts = []
                    size = 0
        self.queued_bytes = queued_bytes
        self.flight = flight
        self.peer_rwnd = peer_rwnd
        self.next_tsn = next_tsn
        self.passes += 1
        if sched.current is not None or active:
            self.blocked.append((self.passes, now))  # this pass left messages queued
        if nsent:
            stats.data_chunks_sent += nsent
            sent_data = True
        if parts:
            emit(parts)
        self.cwnd_full = cwnd_full
        if sent_data:
            self.last_data_sent = now
            if self._timers.t3 is None:
                self._timers.t3 = now + self._rto.value
