"""Sans-I/O SCTP association (RFC 9260) with PR-SCTP (RFC 3758), stream reconfiguration
(RFC 6525), zero checksum (RFC 9653) and WebRTC data channels (RFC 8831, RFC 8832).

Takes and returns whole SCTP packets as bytes; the caller carries them over DTLS (RFC 8261).
TSNs are kept internally as unwrapped integers (serial arithmetic only at the wire boundary).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import os
import random
import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import crc32c

from . import dcep
from .chunks import (
    CHECKSUM,
    CHUNK_HEADER,
    COMMON_HEADER,
    COMMON_HEADER_SIZE,
    DATA_HEADER,
    FLAG_BEGIN,
    FLAG_END,
    FLAG_IMMEDIATE,
    FLAG_UNORDERED,
    U32,
    ZERO_CHECKSUM_EDMID_DTLS,
    AbortChunk,
    AddStreamsRequest,
    CauseCode,
    ChunkType,
    CookieAckChunk,
    CookieEchoChunk,
    DataChunk,
    ErrorChunk,
    ForwardTsnChunk,
    HeartbeatAckChunk,
    HeartbeatChunk,
    IncomingSsnResetRequest,
    InitAckChunk,
    InitChunk,
    OutgoingSsnResetRequest,
    Packet,
    Param,
    ParamType,
    ReconfigChunk,
    ReconfigParam,
    ReconfigResponse,
    ReconfigResult,
    SackChunk,
    ShutdownAckChunk,
    ShutdownChunk,
    ShutdownCompleteChunk,
    SsnTsnResetRequest,
    UnknownChunk,
    compute_checksum,
    decode_packet,
    encode_packet,
    encode_tlv,
    encode_tlv_chunk,
)
from .errors import (
    ChannelError,
    ChannelNotOpen,
    ChecksumError,
    MessageTooLarge,
    ParseError,
    SendBufferFull,
)
from .events import (
    AssociationClosed,
    AssociationEstablished,
    ChannelClosed,
    ChannelOpened,
    Event,
    MessageReceived,
    PathMtuChanged,
)

# RFC 9260 §16 protocol parameters
MAX_BURST = 4
RTO_ALPHA = 0.125
RTO_BETA = 0.25
VALID_COOKIE_LIFE = 60.0
ASSOCIATION_MAX_RETRANS = 10
MAX_INIT_RETRANSMITS = 8
SACK_DELAY = 0.2
HB_INTERVAL = 30.0

PACKET_BUDGET = 1200  # default bytes per SCTP packet including the common header
MIN_FRAGMENT = 64  # do not start a fragment smaller than this at the end of a packet
DEFAULT_RWND = 1 << 20
MAX_STREAMS = 65535
MAX_TSN_AHEAD = 1 << 16  # receiver never tracks TSNs further ahead than this
MAX_OUT_OF_ORDER = 1 << 14  # nor more than this many TSNs above the cumulative TSN
MAX_DUPS_REPORTED = 32
MAX_GAPS_REPORTED = 128
MAX_OUTSTANDING_CHUNKS = 1 << 15
MAX_DUPTHRESH = 16  # cap of the reordering-adapted miss threshold (RFC 9260 §7.2.4 uses 3)
DEFAULT_SEND_BUFFER = 64 << 20
# Memory a queued message holds besides its payload bytes (its record, queue slot and the payload
# object's header): the send buffer counts it, so the limit bounds memory, not only payload.
SEND_MESSAGE_OVERHEAD = 160
# A received message or fragment held for the application or for reassembly counts against the
# receive window as at least this many bytes (its event or queue entry costs memory even when
# the message is empty), so what a peer can make us hold stays proportional to the window.
RECEIVE_MIN_CHARGE = 128

_TSN_MOD = 1 << 32
_HALF = 1 << 31
_COOKIE = struct.Struct("!dIIIIIHHB")  # time, local tag, peer tag, local TSN, peer TSN, ...
_COOKIE_MAC = 32
_HB_INFO = struct.Struct("!d")
_CAP_FORWARD_TSN = 1
_CAP_RECONFIG = 2
_CAP_ZERO_CHECKSUM = 4

# Datagram PLPMTUD (RFC 8899 §5.1.2 constants, §6.2 probes for SCTP)
MAX_PROBES = 3
PMTU_RAISE_TIMER = 600.0
PROBE_TIMER_MIN = 1.0  # RFC 8899 §5.1.1: PROBE_TIMER MUST NOT be smaller than 1 second
PROBE_TIMER_MAX = 3.0  # cap of the RTO-based probe timer, so a search ends within seconds
# Probe sizes (whole SCTP packet, multiples of 4) tried upwards once MAX_PLPMTU failed (RFC 8899
# §5.3.2 table of common sizes): 1500-byte Ethernet minus IPv6/IPv4 + UDP + DTLS 1.2 AES-GCM
# (37 bytes) overhead, two steps, 9000-byte jumbo frames (IPv6), the largest DTLS record (2^14).
PROBE_SIZES = (1412, 1432, 2048, 4096, 8912, 16384)
_PROBE_INFO = struct.Struct("!8sI")  # HEARTBEAT info of a probe: nonce, probed size
_MAX_PROBE_RECORDS = 8


class PlpmtudState(Enum):
    """Datagram PLPMTUD states (RFC 8899 §5.2)."""

    DISABLED = "disabled"
    BASE = "base"
    SEARCHING = "searching"
    SEARCH_COMPLETE = "search_complete"
    ERROR = "error"


class State(Enum):
    """Association states (RFC 9260 §4)."""

    CLOSED = "closed"
    COOKIE_WAIT = "cookie-wait"
    COOKIE_ECHOED = "cookie-echoed"
    ESTABLISHED = "established"
    SHUTDOWN_PENDING = "shutdown-pending"
    SHUTDOWN_SENT = "shutdown-sent"
    SHUTDOWN_RECEIVED = "shutdown-received"
    SHUTDOWN_ACK_SENT = "shutdown-ack-sent"

    __hash__ = object.__hash__  # C-level identity hash: state checks are on the hot path


_DATA_STATES = frozenset(
    {State.ESTABLISHED, State.SHUTDOWN_PENDING, State.SHUTDOWN_SENT, State.SHUTDOWN_RECEIVED}
)


class ChannelState(Enum):
    """Data channel life cycle inside the association."""

    OPENING = "opening"
    OPEN = "open"
    CLOSING = "closing"


@dataclass
class AssociationStats:
    """Counters for what the association saw and did (drops are never silent)."""

    packets_received: int = 0
    packets_sent: int = 0
    bad_checksum: int = 0
    bad_vtag: int = 0
    malformed: int = 0
    unknown_chunks: int = 0
    data_chunks_received: int = 0
    data_chunks_dropped: int = 0
    duplicate_tsns: int = 0
    invalid_stream: int = 0
    data_chunks_sent: int = 0
    retransmissions: int = 0
    spurious_retransmits: int = 0
    fast_retransmits: int = 0
    t3_expirations: int = 0
    abandoned_messages: int = 0
    forward_tsn_sent: int = 0
    forward_tsn_received: int = 0
    cookies_rejected: int = 0
    stale_cookies: int = 0
    aborts_sent: int = 0
    aborts_received: int = 0
    dcep_errors: int = 0
    messages_sent: int = 0
    messages_received: int = 0
    plpmtud_probes_sent: int = 0
    plpmtud_probes_acked: int = 0
    plpmtud_black_holes: int = 0


class _Channel:
    __slots__ = (
        "ack_received",
        "buffered",
        "label",
        "max_packet_lifetime",
        "max_retransmits",
        "negotiated",
        "ordered",
        "priority",
        "protocol",
        "queued",
        "remote",
        "reset_in",
        "reset_out",
        "state",
        "stream_id",
    )

    def __init__(
        self,
        stream_id: int,
        label: str,
        protocol: str,
        ordered: bool,
        max_retransmits: int | None,
        max_packet_lifetime: int | None,
        priority: int,
        negotiated: bool,
        remote: bool,
    ) -> None:
        self.stream_id = stream_id
        self.label = label
        self.protocol = protocol
        self.ordered = ordered
        self.max_retransmits = max_retransmits
        self.max_packet_lifetime = max_packet_lifetime
        self.priority = priority
        self.negotiated = negotiated
        self.remote = remote
        self.state = ChannelState.OPENING
        self.ack_received = negotiated or remote
        self.buffered = 0  # bytes not yet handed to datagrams_to_send()
        self.queued = 0  # messages not yet fully assigned TSNs
        self.reset_out = False
        self.reset_in = False

    def opened_event(self) -> ChannelOpened:
        return ChannelOpened(
            self.stream_id,
            self.label,
            self.protocol,
            self.ordered,
            self.max_retransmits,
            self.max_packet_lifetime,
            self.priority,
            self.negotiated,
            self.remote,
        )


class _OutMessage:
    __slots__ = (
        "abandoned",
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

    # (Association.send fills the slots itself without this call: keep the two in step)
    def __init__(
        self,
        stream_id: int,
        ppid: int,
        data: bytes,
        unordered: bool,
        max_rtx: int | None,
        expires: float | None,
        counted: bool,
    ) -> None:
        self.stream_id = stream_id
        self.ppid = ppid
        self.data = data
        self.unordered = unordered
        self.max_rtx = max_rtx
        self.expires = expires
        self.counted = counted  # whether the bytes count towards buffered_amount
        self.offset = 0
        self.ssn = -1
        self.abandoned = False
        # the chunks sent, kept only for PR-SCTP abandonment (RFC 3758 §3.5): a reliable
        # message never needs them (one list allocation less per message)
        self.chunks: list[_OutChunk] | None = (
            [] if max_rtx is not None or expires is not None else None
        )


_Wire = tuple[bytes | memoryview, ...]


class _OutChunk:
    __slots__ = (
        "abandoned",
        "acked",
        "fast_rtx",
        "in_flight",
        "miss",
        "msg",
        "retransmits",
        "rtx_pending",
        "sent_time",
        "size",
        "tsn",
        "wire",
    )

    # Built in one place only, _transmit_data, which fills every slot directly (no __init__
    # frame: ~1,000 instructions less per message). `wire` is the encoded chunk as parts
    # (header, user data as a view of the message, padding), joined only into the packet: one
    # copy of the user data instead of three; its length is (16 + size) rounded up to 4.
    tsn: int
    msg: _OutMessage
    wire: _Wire
    size: int
    sent_time: float
    retransmits: int
    acked: bool
    abandoned: bool
    in_flight: bool
    miss: int
    fast_rtx: bool
    rtx_pending: bool


class _Scheduler:
    """Weighted fair queueing of whole messages across streams (RFC 8831 §6.4).

    Fragments of one DATA message need consecutive TSNs (RFC 9260 §6.9), so the unit of
    scheduling is the message: `current` is the message being fragmented.
    """

    __slots__ = ("_active", "_heap", "_pass", "_queues", "_seq", "_vtime", "_weight", "current")

    def __init__(self) -> None:
        self._queues: dict[int, deque[_OutMessage]] = {}  # non-empty exactly while active
        self._heap: list[tuple[float, int, int]] = []
        self._active: set[int] = set()
        self._pass: dict[int, float] = {}
        self._weight: dict[int, int] = {}
        self._vtime = 0.0
        self._seq = 0
        self.current: _OutMessage | None = None

    def __bool__(self) -> bool:
        return self.current is not None or bool(self._active)

    def push(self, msg: _OutMessage, weight: int, *, front: bool = False) -> None:
        sid = msg.stream_id
        q = self._queues.get(sid)
        if q is None:
            q = self._queues[sid] = deque()
        if front:
            q.appendleft(msg)
        else:
            q.append(msg)
        self._weight[sid] = weight
        if sid not in self._active:
            self._active.add(sid)
            start = max(self._pass.get(sid, 0.0), self._vtime)
            self._seq += 1
            heapq.heappush(self._heap, (start, self._seq, sid))

    def next(self) -> _OutMessage | None:
        """The message to fragment next (the current one until it is finished)."""
        if self.current is not None:
            return self.current
        heap = self._heap
        queues = self._queues
        while heap:
            start, _, sid = heap[0]
            q = queues.get(sid)
            if not q:
                heapq.heappop(heap)
                self._active.discard(sid)
                continue
            msg = q.popleft()
            self._vtime = start
            finish = start + (len(msg.data) + 64) / self._weight[sid]
            self._pass[sid] = finish
            if q:
                # the stream's next turn replaces this one: one sift instead of pop + push
                seq = self._seq + 1
                self._seq = seq
                _heapreplace(heap, (finish, seq, sid))
            else:
                # (the empty deque stays for the stream's next message: no deque built and
                # dropped per message when one message at a time is queued, as in ping-pong)
                heapq.heappop(heap)
                self._active.discard(sid)
            self.current = msg
            return msg
        return None

    def drop_stream(self, sid: int) -> list[_OutMessage]:
        """Remove and return every queued (not yet started) message of a stream."""
        q = self._queues.pop(sid, None)
        self._active.discard(sid)
        return list(q) if q else []

    def clear(self) -> None:
        self._queues.clear()
        self._heap.clear()
        self._active.clear()
        self.current = None


class Association:
    """One SCTP association carrying WebRTC data channels. See docs/LAYERS.md ("sctp")."""

    def __init__(
        self,
        *,
        is_client: bool,
        local_port: int = 5000,
        remote_port: int = 5000,
        max_message_size: int = 262144,
        rng: Any = None,
        rto_initial: float = 1.0,
        rto_min: float = 1.0,
        rto_max: float = 60.0,
        receive_window: int = DEFAULT_RWND,
        zero_checksum: bool = True,
        max_send_buffer: int = DEFAULT_SEND_BUFFER,
        max_packet_size: int = PACKET_BUDGET,
        max_backoff: float | None = None,
        failure_timeout: float | None = None,
    ) -> None:
        self.is_client = is_client
        self.local_port = local_port
        self.remote_port = remote_port
        self._max_message_size = max_message_size
        self._send_max = max_message_size or (1 << 30)  # _send_limit(), kept current
        self._rng = rng if rng is not None else random.SystemRandom()
        self.rto_initial = rto_initial
        self.rto_min = rto_min
        self.rto_max = rto_max
        if max_backoff is not None and max_backoff <= 0:
            raise ValueError("max_backoff must be positive")
        if failure_timeout is not None and failure_timeout <= 0:
            raise ValueError("failure_timeout must be positive")
        # cap on a backed-off timer (T1, T2, T3-rtx, heartbeat); None = RTO.Max (RFC 9260 §6.3.3)
        self.max_backoff = max_backoff
        # path failure measured in time instead of Association.Max.Retrans (RFC 9260 §8.2)
        self.failure_timeout = failure_timeout
        self._mtu = self._chunk_budget = self._max_fragment = 0
        self._set_mtu(max_packet_size)
        self._base_mtu = self._mtu  # BASE_PLPMTU (RFC 8899 §5.1.2): set_max_packet_size()
        # PLPMTUD (RFC 8899): all inert while `_pl_max` is 0 (disabled, the default)
        self._pl_max = 0  # MAX_PLPMTU: the largest packet the peer declared it accepts
        self.plpmtud_state = PlpmtudState.DISABLED
        self._pl_at: float | None = None  # PROBE_TIMER or PMTU_RAISE_TIMER
        self._pl_count = 0  # PROBE_COUNT (RFC 8899 §5.1.3)
        self._pl_probed = 0  # PROBED_SIZE
        self._pl_high = 0  # smallest size that failed in this search (MAX_PLPMTU + 1: none)
        self._pl_low = 0  # largest size confirmed by a probe (0: none, BASE_PLPMTU applies)
        self._pl_probes: dict[bytes, int] = {}  # HEARTBEAT info of unanswered probes -> size
        self._pl_check = False  # confirming the PLPMTU after a T3-rtx expiry (§4.3)
        self._pl_alive = False  # the small HEARTBEAT of this check round was answered
        self._pl_check_cum = -1  # cumulative TSN ack when the last check started
        self.stats = AssociationStats()
        self.state = State.CLOSED
        self._now = 0.0
        self._events: deque[Event] = deque()
        self._outbox: list[bytes] = []
        self._cookie_key = os.urandom(32)
        self._zero_checksum_local = zero_checksum
        self._zero_checksum_tx = False
        self._max_send_buffer = max_send_buffer

        # Our side of the association is fixed for its lifetime, so every cookie we hand out
        # (INIT collision, RFC 9260 §5.2.1) names the same local tag and initial TSN.
        self._local_vtag = self._rng.randint(1, _TSN_MOD - 1)
        self._local_initial_tsn = self._rng.randint(0, _TSN_MOD - 1)
        self._peer_vtag = 0
        self._init_chunk = InitChunk(
            self._local_vtag,
            receive_window,
            MAX_STREAMS,
            MAX_STREAMS,
            self._local_initial_tsn,
            self._local_params(),
        )
        self._cookie_echo: bytes | None = None
        self._t1_at: float | None = None
        self._t1_count = 0
        self._init_rto = rto_initial

        # negotiated
        self._outbound_streams = MAX_STREAMS
        self._inbound_streams = MAX_STREAMS
        self._peer_forward_tsn = False
        self._peer_reconfig = False

        # sender (RFC 9260 §6, §7)
        self._next_tsn = self._local_initial_tsn + _TSN_MOD
        self._cum_acked = self._next_tsn - 1
        self._adv_peer_ack = self._cum_acked  # RFC 3758 §3.5 Advanced.Peer.Ack.Point
        self._sent: list[_OutChunk] = []
        self._sent_head = 0
        self._rtx_heap: list[tuple[int, _OutChunk]] = []
        self._fast_rtx_now = False
        self._sched = _Scheduler()
        self._queued_bytes = 0
        self._out_ssn: dict[int, int] = {}
        self._flight = 0
        self._cwnd = min(4 * self._mtu, max(2 * self._mtu, 4380))  # RFC 9260 §7.2.1
        self._ssthresh = 1 << 30
        self._pba = 0  # partial_bytes_acked
        self._cwnd_full = False  # the last transmission stopped at cwnd (RFC 7661 cwnd-limited)
        self._fast_recovery = False
        self._recover_tsn = 0
        self._dupthresh = 3  # miss indications that trigger fast retransmit (RFC 9260 §7.2.4)
        self._undo: tuple[int, int] | None = None  # cwnd, ssthresh before the last reduction
        self._frtx: dict[int, _OutChunk] = {}  # fast-retransmitted chunks by wire TSN
        self._peer_rwnd = 0
        self._rto = rto_initial
        self._rto_base = rto_initial  # RTO before any back-off (RFC 9260 §6.3.1)
        self._srtt: float | None = None
        self._rttvar = 0.0
        self._rtt_chunk: _OutChunk | None = None
        self._t3_at: float | None = None
        self._error_count = 0
        self._error_since = 0.0  # first timer expiry of the current error streak
        self._forward_tsn_due = False
        self._last_data_sent = 0.0

        # receiver (RFC 9260 §6.2)
        self._rwnd_max = receive_window
        self._rwnd_low = receive_window // 4  # a_rwnd below this: window update on drain
        self._rx_cum = 0
        self._rx_above: set[int] = set()
        # gap blocks of the last SACK, extended in place while only TSNs above `_gap_top` arrive
        self._gaps: list[tuple[int, int]] = []
        self._gap_cum = -1  # cumulative TSN the cached blocks are relative to (-1: invalid)
        self._gap_top = 0
        self._gap_full = False  # the cached list hit its size limit
        self._gap_new: list[int] = []
        self._rx_max = 0
        self._dups: list[int] = []
        self._sack_due = False
        self._sack_immediate = False
        self._sack_at: float | None = None
        self._data_packets_unacked = 0
        self._sack_burst = False  # a SACK went out mid-batch since the last drain
        # fragments awaiting reassembly; user data may be a view into the received packet
        self._frags: dict[int, tuple[int, int, int, int, bytes | memoryview]] = {}
        self._in_ssn: dict[int, int] = {}
        self._in_pending: dict[int, dict[int, tuple[int, bytes]]] = {}
        self._rx_bytes = 0  # bytes held in reassembly / ordering queues
        self._event_bytes = 0  # bytes of MessageReceived events not yet drained
        self._partial: dict[int, bytes] = {}  # deprecated partial PPIDs 52/54

        # common header for packets to the peer (rebuilt when the peer's tag changes)
        self._hdr_tag = -1
        self._hdr = b""
        self._hdr_crc = 0

        # control chunks to bundle into the next packet
        self._ctrl: list[bytes] = []

        # stream reconfiguration (RFC 6525)
        self._reconfig_seq = self._local_initial_tsn
        self._peer_reconfig_seq = 0
        self._peer_last_result: ReconfigResponse | None = None
        self._reset_wanted: set[int] = set()
        self._reset_inflight: OutgoingSsnResetRequest | None = None
        self._reconfig_at: float | None = None

        # shutdown (RFC 9260 §9)
        self._t2_at: float | None = None
        self._t2_count = 0

        # heartbeats on an idle path (RFC 9260 §8.3)
        self._hb_at: float | None = None
        self._hb_pending: bytes | None = None

        # channels (RFC 8832)
        self._channels: dict[int, _Channel] = {}
        # Our stream ids (RFC 8832 §6 parity): every id below _sid_next was handed out or found
        # taken; released ones wait in a heap (+ its set) so the lowest is reused first, and
        # opening a channel costs O(log n) instead of a search from 0.
        self._sid_next = 0 if is_client else 1
        self._sid_free: list[int] = []
        self._sid_free_set: set[int] = set()
        self._remote_mms: int | None = None
        self._closed_for_good = False
        self._last_a_rwnd = receive_window

    # ------------------------------------------------------------------ public API

    def connect(self, now: float) -> None:
        """Send INIT (RFC 9260 §5.1). Both WebRTC ends do; collisions resolve per §5.2."""
        self._now = now
        if self.state is not State.CLOSED or self._peer_vtag or self._closed_for_good:
            return
        self.state = State.COOKIE_WAIT
        self._t1_count = 0
        self._init_rto = self.rto_initial
        self._send_init(now)

    @property
    def idle(self) -> bool:
        """True when no DATA is in flight (a new message may go out at once, unbundled)."""
        return self._flight == 0 and self._sent_head >= len(self._sent)  # (_outstanding())

    @property
    def plpmtu(self) -> int:
        """The current largest SCTP packet sent to the peer (PLPMTU, RFC 8899 §2)."""
        return self._mtu

    def enable_plpmtud(self, max_packet_size: int) -> None:
        """Enable Datagram PLPMTUD (RFC 8899 §6.2) up to `max_packet_size` (MAX_PLPMTU).

        `max_packet_size` is the largest SCTP packet (incl. common header) the peer declared it
        accepts; the value of `set_max_packet_size()` is BASE_PLPMTU. Probing starts once the
        association is established; `PathMtuChanged` reports every change of `plpmtu`.
        Without this call no packet ever exceeds the `set_max_packet_size()` budget.
        """
        if not 256 <= max_packet_size <= 65535:
            raise ValueError("max_packet_size out of range")
        old = self._pl_max
        self._pl_max = max_packet_size & ~3  # every chunk is padded to 4 bytes (RFC 9260 §3.2)
        lowered = self._pl_low > self._pl_max
        if lowered:
            self._pl_low = 0
            self._pl_apply()
        if self.state is not State.ESTABLISHED:
            return
        if self.plpmtud_state is PlpmtudState.DISABLED:
            self._pl_enter_base(self._now)
        elif (
            self.plpmtud_state is PlpmtudState.SEARCH_COMPLETE
            and (self._pl_max > old or lowered)
            and not self._pl_check
        ):
            self._pl_high = self._pl_max + 1  # a new MAX_PLPMTU: search again now
            self._pl_search(self._now)

    @property
    def max_message_size(self) -> int:
        """The largest message we accept and send (0: no limit)."""
        return self._max_message_size

    @max_message_size.setter
    def max_message_size(self, n: int) -> None:
        self._max_message_size = n
        self._send_max = self._send_limit()

    def set_remote_max_message_size(self, n: int) -> None:
        """Remote a=max-message-size (RFC 8841 §6); 0 means no limit."""
        self._remote_mms = n
        self._send_max = self._send_limit()

    def set_max_packet_size(self, n: int) -> None:
        """Set the path MTU budget: the largest SCTP packet incl. common header (RFC 9260 §7.3).

        Callable at any time. Packets already built keep their size and DATA already
        fragmented keeps its TSNs (RFC 9260 §7.3); later packing and fragmentation use `n`.
        """
        if not 256 <= n <= 65535:
            raise ValueError("max_packet_size out of range")
        self._base_mtu = n
        if self._pl_max:
            self._pl_apply()  # a size confirmed by PLPMTUD above `n` stays in use
        else:
            self._set_mtu(n)
        if self._next_tsn == self._local_initial_tsn + _TSN_MOD:
            # nothing sent yet: initial cwnd from the new MTU (RFC 9260 §7.2.1)
            self._cwnd = min(4 * n, max(2 * n, 4380))

    def open_channel(
        self,
        label: str,
        *,
        protocol: str = "",
        ordered: bool = True,
        max_retransmits: int | None = None,
        max_packet_lifetime: int | None = None,
        priority: int = 256,
        negotiated_id: int | None = None,
    ) -> int:
        """Create a data channel and return its stream id (RFC 8832 §6)."""
        if max_retransmits is not None and max_packet_lifetime is not None:
            raise ChannelError("max_retransmits and max_packet_lifetime are exclusive")
        for v in (max_retransmits, max_packet_lifetime):
            if v is not None and not 0 <= v <= 0xFFFFFFFF:
                raise ChannelError("reliability parameter out of range")
        if not 0 <= priority <= 0xFFFF:
            raise ChannelError("priority out of range")
        if negotiated_id is not None:
            if not 0 <= negotiated_id < min(MAX_STREAMS, self._outbound_streams):
                raise ChannelError(f"stream id {negotiated_id} out of range")
            if negotiated_id in self._channels or negotiated_id in self._reset_wanted:
                raise ChannelError(f"stream id {negotiated_id} in use")
            sid = negotiated_id
        else:
            sid = self._free_stream_id()
        ch = _Channel(
            sid,
            label,
            protocol,
            ordered,
            max_retransmits,
            max_packet_lifetime,
            priority,
            negotiated_id is not None,
            False,
        )
        self._channels[sid] = ch
        if self.state in _DATA_STATES:
            self._start_channel(ch)
        return sid

    def send(self, stream_id: int, data: bytes, *, binary: bool = True) -> None:
        """Queue one user message: PPID 53/51, or 57/56 for empty (RFC 8831 §6.6, §8)."""
        ch = self._channels.get(stream_id)
        if (
            ch is None
            or ch.state is ChannelState.CLOSING
            or self.state not in _SEND_STATES
            or self._closed_for_good
        ):
            raise ChannelNotOpen(f"stream {stream_id} has no open channel")
        n = len(data)
        if n > self._send_max:
            raise MessageTooLarge(f"{n} bytes exceeds the maximum message size")
        queued = self._queued_bytes + n + SEND_MESSAGE_OVERHEAD
        if queued > self._max_send_buffer:
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
        expires = self._now + lifetime / 1000.0 if lifetime is not None else None
        max_rtx = ch.max_retransmits
        # _OutMessage.__init__ inlined (the slots filled without the type call and __init__
        # frame; keep the two in step)
        msg = _new_object(_OutMessage)
        msg.stream_id = stream_id
        msg.ppid = ppid
        msg.data = payload
        msg.unordered = unordered
        msg.max_rtx = max_rtx
        msg.expires = expires
        msg.counted = n > 0
        msg.offset = 0
        msg.ssn = -1
        msg.abandoned = False
        msg.chunks = [] if max_rtx is not None or expires is not None else None
        # _enqueue() inlined, and _Scheduler.push() too while the stream has messages queued
        # already (then it is only an append); with the cached send limit, heapreplace in
        # _Scheduler.next and the locals of _transmit_data: 6,300 instructions less per 1 KiB
        # message (both peers, 16 KiB packets)
        sched = self._sched
        q = sched._queues.get(stream_id)
        prio = ch.priority if ch.priority > 0 else 256
        if q:  # (a stream with messages queued is active: its turn is in the heap already)
            q.append(msg)
            sched._weight[stream_id] = prio
        else:
            # _Scheduler.push() inlined for an idle stream too (ping-pong: one message at a
            # time); an idle stream's deque is empty or absent and it is not in the heap
            if q is None:
                q = sched._queues[stream_id] = deque()
            q.append(msg)
            sched._weight[stream_id] = prio
            sched._active.add(stream_id)
            start = sched._pass.get(stream_id, 0.0)
            vtime = sched._vtime
            if vtime > start:
                start = vtime
            seq = sched._seq = sched._seq + 1
            heapq.heappush(sched._heap, (start, seq, stream_id))
        self._queued_bytes = queued
        ch.queued += 1
        ch.buffered += n
        self.stats.messages_sent += 1

    def close_channel(self, stream_id: int) -> None:
        """Close a channel by resetting its outgoing stream (RFC 8831 §6.7, RFC 6525 §5.1.2)."""
        ch = self._channels.get(stream_id)
        if ch is None or ch.state is ChannelState.CLOSING:
            return
        ch.state = ChannelState.CLOSING
        if self.state not in _DATA_STATES:
            # nothing reached the peer yet: drop queued messages and forget the channel
            for m in self._sched.drop_stream(stream_id):
                self._queued_bytes -= len(m.data) + SEND_MESSAGE_OVERHEAD
            self._forget_channel(stream_id)
            self._events.append(ChannelClosed(stream_id))
            return
        if not ch.reset_out:
            self._reset_wanted.add(stream_id)

    def buffered_amount(self, stream_id: int) -> int:
        """Bytes queued on the stream and not yet handed out by datagrams_to_send()."""
        ch = self._channels.get(stream_id)
        return ch.buffered if ch is not None else 0

    def close(self) -> None:
        """Graceful SHUTDOWN once everything queued is acknowledged (RFC 9260 §9.2)."""
        if self.state is State.ESTABLISHED:
            self.state = State.SHUTDOWN_PENDING
            self._maybe_shutdown()
        elif self.state in (State.COOKIE_WAIT, State.COOKIE_ECHOED):
            self.abort()

    def abort(self) -> None:
        """Send ABORT with a User-Initiated Abort cause (RFC 9260 §9.1)."""
        if self.state is State.CLOSED:
            return
        if self._peer_vtag:
            self._send_abort(self._peer_vtag, False, [(CauseCode.USER_INITIATED_ABORT, b"")])
        self._terminate("aborted locally")

    def receive(self, packet: bytes, now: float) -> None:
        """Feed one SCTP packet (the payload of one DTLS record)."""
        self._now = now
        self.stats.packets_received += 1
        if self.state in _DATA_STATES and self._receive_fast(packet, now):
            return
        try:
            pkt = decode_packet(packet, allow_zero_checksum=self._zero_checksum_local)
        except ChecksumError:
            self.stats.bad_checksum += 1
            return
        except ParseError:
            self.stats.malformed += 1
            return
        if pkt.destination_port != self.local_port or pkt.source_port != self.remote_port:
            self.stats.malformed += 1
            return
        chunks = pkt.chunks
        if not chunks:
            return
        if not self._check_vtag(pkt):
            self.stats.bad_vtag += 1
            return
        self._process_chunks(pkt, now)

    def _receive_fast(self, packet: bytes, now: float) -> bool:
        """A packet holding only DATA and SACK chunks, parsed in place (no chunk objects).

        Returns False, having changed nothing, for anything else (the generic path decides)."""
        n = len(packet)
        if n < 16 or type(packet) is not bytes:
            return False
        src, dst, vtag, checksum = _HEADER.unpack_from(packet)
        if vtag != self._local_vtag or dst != self.local_port or src != self.remote_port:
            return False
        if not (checksum == _ZERO4 and self._zero_checksum_local) and (
            CHECKSUM.unpack(checksum)[0] != compute_checksum(packet)
        ):
            return False  # (counted by the generic path)
        unpack_hdr = _CHUNK_HEADER_UNPACK
        ctype, flags, length = unpack_hdr(packet, 12)
        off = 0  # of the only DATA chunk, if that is all that is left to process
        if length >= 16 and 0 <= n - 12 - length <= (-length & 3):
            # one chunk (the common case): DATA or SACK
            if ctype == 0:
                off = 12
        elif ctype == 3 and length == 16 and n >= 44:
            # a plain SACK and one DATA chunk (the ping-pong case): processed as the loop below
            # would, without its bookkeeping; with the lone DATA chunk taken inline too: 22,000
            # instructions less per ping-pong round trip
            ctype2, flags2, length2 = unpack_hdr(packet, 28)
            if ctype2 == 0 and length2 >= 16 and 0 <= n - 28 - length2 <= (-length2 & 3):
                cum, a_rwnd, ngaps, ndups = _SACK_FIELDS.unpack_from(packet, 16)
                if not ngaps and not ndups:
                    self._on_sack(cum, a_rwnd, (), now, ())
                    if self.state not in _DATA_STATES:
                        return True
                    off = 28
                    flags = flags2
                    length = length2
        if off:
            if self._sack_immediate and self._sack_due:
                self._emit([self._sack_chunk()])
                self._sack_burst = True
            tsn, sid, ssn, ppid = _DATA_FIELDS.unpack_from(packet, off + 4)
            size = length - 16
            cum = self._rx_cum
            # the inline path of the loop below for a lone DATA chunk (see there)
            if (
                flags == 3
                and size > 0
                and not self._rx_above
                and (tsn - cum) & 0xFFFFFFFF == 1
                and ppid in _USER_PPIDS
                and self._rx_bytes
                + self._event_bytes
                + (size if size > RECEIVE_MIN_CHARGE else RECEIVE_MIN_CHARGE)
                <= self._rwnd_max
                and ssn == self._in_ssn.get(sid, 0)
                and sid not in self._in_pending
                and sid not in self._partial
                and sid < self._inbound_streams
                and (ch := self._channels.get(sid)) is not None
                and ch.ack_received
            ):
                self._sack_due = True
                cum += 1
                self._rx_cum = cum
                if cum > self._rx_max:
                    self._rx_max = cum
                self._in_ssn[sid] = (ssn + 1) & 0xFFFF
                stats = self.stats
                stats.data_chunks_received += 1
                stats.messages_received += 1
                self._event_bytes += size if size > RECEIVE_MIN_CHARGE else RECEIVE_MIN_CHARGE
                ev = _message_event(sid, packet[off + 16 : off + length], ppid == _PPID_BINARY)
                self._events.append(ev)
                ok = True
            else:
                view = memoryview(packet)[off + 16 : off + length]
                ok = self._on_data(flags, tsn, sid, ssn, ppid, view)
            if ok:
                if self.state is State.ESTABLISHED:
                    # _after_packet(True, now) for the common state, inlined
                    self._data_packets_unacked += 1
                    if self._data_packets_unacked >= 2:
                        self._sack_immediate = True  # RFC 9260 §6.2
                    elif self._sack_at is None and self._sack_due:
                        self._sack_at = now + SACK_DELAY
                else:
                    self._after_packet(True, now)
            return True
        if length >= 16 and 0 <= n - 12 - length <= (-length & 3):
            if ctype == 3:
                cum, a_rwnd, ngaps, ndups = _SACK_FIELDS.unpack_from(packet, 16)
                if length < 16 + 4 * (ngaps + ndups):
                    return False
                gaps: Sequence[tuple[int, int]] = ()
                if ngaps:
                    gaps = [_GAP.unpack_from(packet, 28 + 4 * i) for i in range(ngaps)]
                dups: Sequence[int] = ()
                if ndups:
                    base = 28 + 4 * ngaps
                    dups = [U32.unpack_from(packet, base + 4 * i)[0] for i in range(ndups)]
                self._on_sack(cum, a_rwnd, gaps, now, dups)
                if self.state is not State.ESTABLISHED:
                    self._after_packet(False, now)
                return True
            return False
        # validate every chunk header first, exactly as decode_chunks would (RFC 9260 §3.2)
        items: list[int] = []  # chunk offsets
        off = 12
        while off < n:
            if n - off < 16:  # (shorter than any DATA or SACK chunk)
                return False
            ctype, flags, length = unpack_hdr(packet, off)
            if length < 16 or off + length > n:
                return False
            if ctype == 3:
                ngaps, ndups = _SACK_COUNTS.unpack_from(packet, off + 12)
                if length < 16 + 4 * (ngaps + ndups):
                    return False
            elif ctype != 0:
                return False
            items.append(off)
            off += length + (-length & 3)
        # RFC 9260 §6.2 DATA / §6.2.1 SACK processing, as _process_chunks does
        had_data = False
        unpack_chunk = _DATA_CHUNK.unpack_from
        view = memoryview(packet)
        in_ssn, in_pending, partial = self._in_ssn, self._in_pending, self._partial
        channels, events = self._channels, self._events
        inbound = self._inbound_streams
        # What the inline path below reads and writes lives in locals between general-path
        # calls (which may change any of it; `_inline_sync` writes it back first, `reload`
        # reads it again after), and the per-stream checks are made once per run of chunks of
        # one stream (`ok_sid`): 3,400 instructions less per bundled 1 KiB message.
        cum = ev_bytes = room = ok_sid = ninline = 0
        min_charge = RECEIVE_MIN_CHARGE
        no_gaps = False
        reload = True  # the locals need (re)loading before the next DATA chunk
        dirty = False  # a general-path call ran since the last state check
        for off in items:
            # the header and DATA fields at once (a SACK's other fields are not used)
            ctype, flags, length, tsn, sid, ssn, ppid = unpack_chunk(packet, off)
            if dirty:
                if self.state not in _DATA_STATES:
                    return True
                dirty = False
            if ctype == 0:
                if not had_data:
                    had_data = True
                    if self._sack_immediate and self._sack_due:  # (no inline chunk yet)
                        self._emit([self._sack_chunk()])
                        self._sack_burst = True
                if reload:
                    cum = self._rx_cum
                    ev_bytes = self._event_bytes
                    room = self._rwnd_max - self._rx_bytes
                    no_gaps = not self._rx_above
                    ok_sid = -1
                    reload = False
                # Inline _on_data/_on_message/_deliver for the common case of bundled small
                # messages: the next TSN, no gaps, a whole ordered user message with the expected
                # SSN on an acknowledged channel, with room in the window (1 KiB messages in
                # PLPMTUD packets: -5 % instructions per message). Anything else takes the general
                # path.
                size = length - 16
                cost = size if size > min_charge else min_charge
                if (
                    flags == 3
                    and size > 0
                    and no_gaps
                    and (tsn - cum) & 0xFFFFFFFF == 1
                    and ppid in _USER_PPIDS
                    and ev_bytes + cost <= room
                    and ssn == in_ssn.get(sid, 0)
                    and (
                        sid == ok_sid
                        or (
                            sid not in in_pending
                            and sid not in partial
                            and sid < inbound
                            and (ch := channels.get(sid)) is not None
                            and ch.ack_received
                        )
                    )
                ):
                    ok_sid = sid
                    cum += 1
                    in_ssn[sid] = (ssn + 1) & 0xFFFF
                    ev_bytes += cost
                    ninline += 1
                    ev = _message_event(sid, packet[off + 16 : off + length], ppid == _PPID_BINARY)
                    events.append(ev)
                    continue
                if ninline:
                    self._inline_sync(cum, ev_bytes, ninline)
                    ninline = 0
                reload = dirty = True
                user_data = view[off + 16 : off + length]
                if not self._on_data(flags, tsn, sid, ssn, ppid, user_data):
                    return True
            else:
                if ninline:
                    self._inline_sync(cum, ev_bytes, ninline)
                    ninline = 0
                reload = dirty = True
                sack_cum, a_rwnd, ngaps, ndups = _SACK_FIELDS.unpack_from(packet, off + 4)
                gaps = ()
                if ngaps:
                    gaps = [_GAP.unpack_from(packet, off + 16 + 4 * i) for i in range(ngaps)]
                dups = ()
                if ndups:
                    base = off + 16 + 4 * ngaps
                    dups = [U32.unpack_from(packet, base + 4 * i)[0] for i in range(ndups)]
                self._on_sack(sack_cum, a_rwnd, gaps, now, dups)
        if ninline:
            self._inline_sync(cum, ev_bytes, ninline)
        self._after_packet(had_data, now)
        return True

    def _inline_sync(self, cum: int, event_bytes: int, n: int) -> None:
        """Write back the state of `n` messages taken by the inline path of _receive_fast."""
        self._sack_due = True
        self._rx_cum = cum
        if cum > self._rx_max:
            self._rx_max = cum
        self._event_bytes = event_bytes
        stats = self.stats
        stats.data_chunks_received += n
        stats.messages_received += n

    def handle_timeout(self, now: float) -> None:
        """Fire every timer due at `now`."""
        self._now = now
        if self._t1_at is not None and now >= self._t1_at:
            self._on_t1(now)
        if self._t3_at is not None and now >= self._t3_at:
            self._on_t3(now)
        if self._sack_at is not None and now >= self._sack_at:
            self._sack_at = None
            self._sack_immediate = True
        if self._reconfig_at is not None and now >= self._reconfig_at:
            self._reconfig_at = None
            if self._reset_inflight is not None and self.state in _DATA_STATES:
                # RFC 6525 §5.1.1: an unanswered request counts like a T3-rtx expiry
                if self._path_error(now):
                    return
                self._ctrl.append(ReconfigChunk([self._reset_inflight]).encode())
                self._reconfig_at = now + self._rto
        if self._t2_at is not None and now >= self._t2_at:
            self._on_t2(now)
        if self._hb_at is not None and now >= self._hb_at:
            self._on_heartbeat_timer(now)
        if self._pl_at is not None and now >= self._pl_at:
            self._pl_on_timer(now)

    def next_timeout(self) -> float | None:
        """Earliest pending timer, or None."""
        # unrolled (most timers are off): ~40 % fewer bytecodes than a loop over a tuple
        best = self._t3_at
        t = self._hb_at
        if t is not None and (best is None or t < best):
            best = t
        t = self._sack_at
        if t is not None and (best is None or t < best):
            best = t
        t = self._pl_at
        if t is not None and (best is None or t < best):
            best = t
        t = self._t1_at
        if t is not None and (best is None or t < best):
            best = t
        t = self._reconfig_at
        if t is not None and (best is None or t < best):
            best = t
        t = self._t2_at
        if t is not None and (best is None or t < best):
            best = t
        return best

    def next_event(self) -> Event | None:
        """Pop the next event, or None."""
        events = self._events
        if not events:
            return None
        ev = events.popleft()
        if type(ev) is MessageReceived:
            n = len(ev.data)
            self._event_bytes -= n if n > RECEIVE_MIN_CHARGE else RECEIVE_MIN_CHARGE
            if self._last_a_rwnd < self._rwnd_low and self.state in _DATA_STATES:
                free = self._rwnd_max - self._rx_bytes - self._event_bytes
                if free >= self._rwnd_max // 2:
                    # window update after the application drained (RFC 9260 §6.2)
                    self._sack_due = self._sack_immediate = True
        return ev

    def datagrams_to_send(self) -> list[bytes]:
        """Drain whole SCTP packets (each within `max_packet_size`) to hand to DTLS."""
        sched = self._sched
        if (
            not self._ctrl
            and sched.current is None
            and not sched._active
            and not self._rtx_heap
            and not self._sack_immediate
            and (not self._sack_due or (not self._sack_burst and self._sack_at is not None))
            and not self._forward_tsn_due
            and not self._reset_wanted
            and self.state is State.ESTABLISHED
        ):
            # nothing to send (no SACK, or one held back by SACK.Delay, RFC 9260 §6.2): what
            # _flush and _transmit_data would conclude, without the two calls (an established
            # peer polls with nothing queued every other time)
            self._cwnd_full = False
        else:
            self._flush(self._now)
        self._sack_burst = False
        out = self._outbox
        self._outbox = []
        self.stats.packets_sent += len(out)
        return out

    # ------------------------------------------------------------------ helpers

    def _local_params(self) -> list[Param]:
        params: list[Param] = [
            # RFC 5061 §4.2.7 Supported Extensions: RE-CONFIG and FORWARD TSN
            (ParamType.SUPPORTED_EXTENSIONS, bytes([ChunkType.RECONFIG, ChunkType.FORWARD_TSN])),
            (ParamType.FORWARD_TSN_SUPPORTED, b""),  # RFC 3758 §3.1
        ]
        if self._zero_checksum_local:
            # RFC 9653 §5.1
            params.append((ParamType.ZERO_CHECKSUM_ACCEPTABLE, U32.pack(ZERO_CHECKSUM_EDMID_DTLS)))
        return params

    def _set_mtu(self, n: int) -> None:
        if not 256 <= n <= 65535:
            raise ValueError("max_packet_size out of range")
        self._mtu = n  # whole SCTP packet incl. common header (the PMTU budget)
        self._chunk_budget = n - COMMON_HEADER_SIZE
        # user data per DATA chunk: the padded chunk must fit the packet (RFC 9260 §3.2, §6.9)
        self._max_fragment = (self._chunk_budget - 16) & ~3
        self._gap_cum = -1  # gap lists are bounded by the packet size: recompute

    # ------------------------------------------------------------------ PLPMTUD (RFC 8899)

    def _pl_apply(self) -> None:
        """Use max(BASE_PLPMTU, confirmed PLPMTU) as the packet budget; report a change.

        The congestion window in bytes is left alone (RFC 8899 §3 item 7: a PLPMTU update
        MUST NOT increase it); only the MTU-based rules of RFC 9260 §7.2 use the new size."""
        size = max(self._base_mtu, self._pl_low) if self._pl_max else self._base_mtu
        if size != self._mtu:
            self._set_mtu(size)
            if self._pl_max:
                self._events.append(PathMtuChanged(size))

    def _pl_timer(self) -> float:
        # RFC 8899 §6.2.1.2: the heartbeat timer (RTO) serves as PROBE_TIMER, >= 1 s (§5.1.1)
        return min(max(self._rto, PROBE_TIMER_MIN), PROBE_TIMER_MAX)

    def _pl_send_probe(self, size: int) -> None:
        """A minimal HEARTBEAT plus a PAD chunk filling the packet to `size` bytes (RFC 8899
        §6.2, RFC 4820); `size` 0: a plain HEARTBEAT (no PAD) that only shows the peer is
        reachable. Never retransmitted, not counted in flight: probes are not limited by
        congestion or flow control (RFC 8899 §6.2, §3 items 4, 7, 8); one probe per
        PROBE_TIMER or per answer keeps them at least one RTT apart (§3 item 7)."""
        info = _PROBE_INFO.pack(self._rng.getrandbits(64).to_bytes(8, "big"), size)
        probes = self._pl_probes
        if len(probes) >= _MAX_PROBE_RECORDS:
            del probes[next(iter(probes))]  # (late answers of older probes are still taken)
        probes[info] = size
        hb = HeartbeatChunk([(ParamType.HEARTBEAT_INFO, info)]).encode()
        if not size:
            self._emit([hb])
            return
        pad = size - COMMON_HEADER_SIZE - len(hb)
        self._emit([hb, CHUNK_HEADER.pack(ChunkType.PAD, 0, pad), bytes(pad - 4)])
        self.stats.plpmtud_probes_sent += 1

    def _pl_enter_base(self, now: float, high: int = 0) -> None:
        """RFC 8899 §5.2 BASE: confirm BASE_PLPMTU with a probe, then search upwards (below
        `high`, default: up to MAX_PLPMTU)."""
        self._pl_high = high or self._pl_max + 1
        self.plpmtud_state = PlpmtudState.BASE
        self._pl_check = False
        self._pl_count = 0
        self._pl_probed = self._base_mtu & ~3
        self._pl_send_probe(self._pl_probed)
        self._pl_at = now + self._pl_timer()

    def _pl_search(self, now: float) -> None:
        """Probe the next size (RFC 8899 §5.3), or enter SEARCH_COMPLETE.

        MAX_PLPMTU is tried first (a loopback path takes it at once); once it failed, the
        sizes of PROBE_SIZES between the PLPMTU and the smallest failed size, upwards (§5.3.1,
        §5.3.2). A size fails after MAX_PROBES unanswered probes."""
        low = max(self._pl_low, self._base_mtu)
        size = 0
        if self._pl_high > self._pl_max:
            if self._pl_max > low:
                size = self._pl_max
        else:
            for s in PROBE_SIZES:
                if low < s < self._pl_high:
                    size = s
                    break
        self._pl_count = 0
        if not size:
            self.plpmtud_state = PlpmtudState.SEARCH_COMPLETE
            self._pl_at = now + PMTU_RAISE_TIMER
            return
        self.plpmtud_state = PlpmtudState.SEARCHING
        self._pl_probed = size
        self._pl_send_probe(size)
        self._pl_at = now + self._pl_timer()

    def _pl_on_ack(self, size: int, now: float) -> None:
        """A probe of `size` bytes reached the peer (RFC 8899 §4.1, §5.2)."""
        if not size:
            self._pl_alive = True  # the plain HEARTBEAT of a check round
            return
        self.stats.plpmtud_probes_acked += 1
        if not self._pl_max or self.state is not State.ESTABLISHED:
            return
        state = self.plpmtud_state
        if self._pl_check:
            if size >= self._mtu:
                # the PLPMTU still works: the T3-rtx expiry was congestion or an outage
                self._pl_check = False
                if state is PlpmtudState.SEARCHING:
                    self._pl_search(now)
                else:
                    self._pl_at = now + PMTU_RAISE_TIMER
            return
        if state is PlpmtudState.BASE or state is PlpmtudState.ERROR:
            if size == self._pl_probed:
                self._pl_search(now)
            return
        if max(self._pl_low, self._base_mtu) < size < self._pl_high:
            # PLPMTU = PROBED_SIZE (also from a late answer to an earlier probe, §3)
            self._pl_low = size
            self._pl_apply()
            if state is PlpmtudState.SEARCHING and size >= self._pl_probed:
                self._pl_search(now)

    def _pl_on_timer(self, now: float) -> None:
        """PROBE_TIMER or PMTU_RAISE_TIMER expiry (RFC 8899 §5.1.1, §5.2)."""
        self._pl_at = None
        if self.state is not State.ESTABLISHED:
            return
        state = self.plpmtud_state
        if self._pl_check:
            if self._pl_alive:
                # the peer answers a small HEARTBEAT but not the PLPMTU-sized probe; a lost
                # probe while the path is silent altogether is an outage, not a black hole
                self._pl_count += 1
            self._pl_alive = False
            if self._pl_count >= MAX_PROBES:
                self._pl_black_hole(now)
            else:
                self._pl_check_round(now)
            return
        if state is PlpmtudState.SEARCH_COMPLETE:
            self._pl_high = self._pl_max + 1  # PMTU_RAISE_TIMER: search again, up to MAX_PLPMTU
            self._pl_search(now)
            return
        if state is PlpmtudState.ERROR:
            self._pl_enter_base(now)
            return
        self._pl_count += 1  # PROBE_TIMER in BASE or SEARCHING
        if self._pl_count < MAX_PROBES:
            self._pl_send_probe(self._pl_probed)
            self._pl_at = now + self._pl_timer()
        elif state is PlpmtudState.BASE:
            # BASE_PLPMTU unconfirmed: keep it (nothing smaller is known) and retry later
            self.plpmtud_state = PlpmtudState.ERROR
            self._pl_at = now + PMTU_RAISE_TIMER
        else:
            self._pl_high = self._pl_probed  # PROBED_SIZE failed (§5.3.1)
            self._pl_search(now)

    def _pl_start_check(self, now: float) -> None:
        """A T3-rtx expired while packets above BASE_PLPMTU were in use: confirm the PLPMTU
        with probes (black hole detection, RFC 8899 §4.3)."""
        self._pl_check = True
        self._pl_count = 0
        self._pl_alive = False
        self._pl_check_round(now)

    def _pl_check_round(self, now: float) -> None:
        self._pl_send_probe(self._mtu & ~3)
        self._pl_send_probe(0)  # (a small HEARTBEAT, not a probe: RFC 9260 §8.3)
        self._pl_at = now + self._pl_timer()

    def _pl_black_hole(self, now: float) -> None:
        """RFC 8899 §4.3/§5.2: the path no longer carries the PLPMTU: back to BASE_PLPMTU.

        DATA chunks already built for the larger size keep their TSNs and are retransmitted
        as they are (RFC 9260 §7.3: no re-fragmentation), so a chunk larger than what the path
        now carries cannot get through; chunks merely bundled together are re-packed at the
        new size. BASE is confirmed with a probe and the search resumes at once below the size
        that failed; sizes from it upwards wait for PMTU_RAISE_TIMER."""
        self.stats.plpmtud_black_holes += 1
        self._pl_check = False
        failed = self._mtu
        self._pl_low = 0
        self._pl_apply()
        self._pl_enter_base(now, failed)

    def _backoff(self, rto: float) -> float:
        """Double a timer value (RFC 9260 §6.3.3 E2), capped by RTO.Max and `max_backoff`."""
        limit = self.rto_max if self.max_backoff is None else min(self.rto_max, self.max_backoff)
        return max(rto, min(rto * 2, limit))

    def _path_error(self, now: float) -> bool:
        """Count an unanswered retransmission or heartbeat (RFC 9260 §8.1-§8.2).

        Returns True (after terminating) once the peer counts as unreachable: more than
        Association.Max.Retrans errors in a row, or, with `failure_timeout`, an error streak
        whose first expiry is at least that many seconds old."""
        self._error_count += 1
        if self._error_count == 1:
            self._error_since = now
        if self.failure_timeout is None:
            failed = self._error_count > ASSOCIATION_MAX_RETRANS
        else:
            failed = now - self._error_since >= self.failure_timeout
        if failed:
            self._terminate("peer unreachable (Association.Max.Retrans exceeded)")
        return failed

    def _send_limit(self) -> int:
        local = self._max_message_size or (1 << 30)
        if self._remote_mms:
            return min(local, self._remote_mms)
        return local

    def _free_stream_id(self) -> int:
        # RFC 8832 §6: DTLS client uses even stream ids, server odd; the lowest free one
        limit = min(MAX_STREAMS, self._outbound_streams)
        free, free_set = self._sid_free, self._sid_free_set
        while free and free[0] < limit:
            sid = heapq.heappop(free)
            free_set.discard(sid)
            if sid not in self._channels and sid not in self._reset_wanted:
                return sid  # else taken again meanwhile (negotiated): its release re-adds it
        while self._sid_next < limit:
            sid = self._sid_next
            self._sid_next += 2
            if sid not in self._channels and sid not in self._reset_wanted:
                return sid
        raise ChannelError("no free stream id")

    def _forget_channel(self, sid: int) -> None:
        """Drop channel `sid`; an id of our parity becomes free for _free_stream_id."""
        del self._channels[sid]
        if sid < self._sid_next and sid & 1 == self._sid_next & 1 and sid not in self._sid_free_set:
            self._sid_free_set.add(sid)
            heapq.heappush(self._sid_free, sid)

    def _enqueue(self, msg: _OutMessage, ch: _Channel | None, *, front: bool = False) -> None:
        prio = ch.priority if ch is not None and ch.priority > 0 else 256
        self._sched.push(msg, prio, front=front)
        self._queued_bytes += len(msg.data) + SEND_MESSAGE_OVERHEAD
        if ch is not None:
            ch.queued += 1

    def _start_channel(self, ch: _Channel) -> None:
        """Association is up: send DCEP OPEN, or announce a negotiated channel."""
        if ch.stream_id >= self._outbound_streams:
            self._forget_channel(ch.stream_id)
            self._events.append(ChannelClosed(ch.stream_id))
            return
        if ch.negotiated:
            ch.state = ChannelState.OPEN
            self._events.append(ch.opened_event())
            return
        if ch.remote:
            return
        msg = dcep.DataChannelOpen.for_channel(
            ch.label,
            ch.protocol,
            ordered=ch.ordered,
            max_retransmits=ch.max_retransmits,
            max_packet_lifetime=ch.max_packet_lifetime,
            priority=ch.priority,
        )
        # queued messages on this channel must follow the OPEN: put it in front of them
        open_msg = _OutMessage(ch.stream_id, dcep.PPID_DCEP, msg.encode(), False, None, None, False)
        self._enqueue(open_msg, ch, front=True)

    def _send_init(self, now: float) -> None:
        self._outbox.append(
            encode_packet(self.local_port, self.remote_port, 0, self._init_chunk.encode())
        )
        self._t1_at = now + self._init_rto

    def _send_abort(self, vtag: int, t_bit: bool, causes: list[Param]) -> None:
        self.stats.aborts_sent += 1
        self._outbox.append(
            encode_packet(
                self.local_port, self.remote_port, vtag, AbortChunk(t_bit, causes).encode()
            )
        )

    def _terminate(self, error: str | None) -> None:
        if self.state is State.CLOSED and self._peer_vtag == 0 and error is None:
            return
        self.state = State.CLOSED
        self._t1_at = self._t3_at = self._sack_at = self._reconfig_at = self._t2_at = None
        self._hb_at = self._pl_at = None
        self._pl_probes.clear()
        self._pl_check = False
        self._sched.clear()
        self._queued_bytes = 0
        self._ctrl.clear()
        self._sent = []
        self._sent_head = 0
        self._rtx_heap = []
        self._frags.clear()
        self._in_pending.clear()
        self._rx_above.clear()
        self._partial.clear()
        self._rx_bytes = 0
        self._peer_vtag = 0
        self._closed_for_good = True
        self._events.append(AssociationClosed(error))

    def _abort_protocol(self, reason: str, cause: int = CauseCode.PROTOCOL_VIOLATION) -> None:
        """We abort the association because the peer misbehaved (RFC 9260 §9.1)."""
        if self._peer_vtag:
            self._send_abort(self._peer_vtag, False, [(cause, reason.encode()[:200])])
        self._terminate(reason)

    # ------------------------------------------------------------------ verification tags

    def _check_vtag(self, pkt: Packet) -> bool:
        """RFC 9260 §8.5 / §8.5.1 verification tag rules."""
        first = pkt.chunks[0]
        vtag = pkt.verification_tag
        if type(first) is InitChunk:
            # §8.5.1 (A): INIT must be alone and carry tag 0
            return vtag == 0 and len(pkt.chunks) == 1
        if type(first) is AbortChunk or type(first) is ShutdownCompleteChunk:
            # §8.5.1 (B)/(C): T bit means the peer's tag is reflected; SHUTDOWN COMPLETE is
            # never bundled (§6.10)
            if type(first) is ShutdownCompleteChunk and len(pkt.chunks) > 1:
                return False
            return self._tag_matches(first.t_bit, vtag)
        if type(first) is CookieEchoChunk:
            return True  # checked against the cookie (§5.2.4)
        return vtag == self._local_vtag

    def _tag_matches(self, t_bit: bool, vtag: int) -> bool:
        """RFC 9260 §8.5.1 (B)/(C): the tag an ABORT or SHUTDOWN COMPLETE must carry."""
        if t_bit:
            return self._peer_vtag != 0 and vtag == self._peer_vtag
        return vtag == self._local_vtag

    # ------------------------------------------------------------------ chunk dispatch

    def _process_chunks(self, pkt: Packet, now: float) -> None:
        had_data = False
        for chunk in pkt.chunks:
            if self.state is State.CLOSED and self._closed():
                return
            if type(chunk) is DataChunk:
                if self.state in _DATA_STATES or self.state is State.SHUTDOWN_ACK_SENT:
                    if not had_data and self._sack_immediate and self._sack_due:
                        # RFC 9260 §6.2/§6.7: the SACK owed for earlier packets goes out before
                        # this one is taken in (one SACK per 2 packets / per packet with gaps,
                        # even when the caller drains only after a whole batch)
                        self._emit([self._sack_chunk()])
                        self._sack_burst = True
                    had_data = True
                    if not self._on_data(
                        chunk.flags,
                        chunk.tsn,
                        chunk.stream_id,
                        chunk.ssn,
                        chunk.ppid,
                        chunk.user_data,
                    ):
                        return
            elif type(chunk) is SackChunk:
                if self.state in _DATA_STATES or self.state is State.SHUTDOWN_ACK_SENT:
                    self._on_sack(
                        chunk.cumulative_tsn, chunk.a_rwnd, chunk.gaps, now, chunk.duplicates
                    )
            elif type(chunk) is InitChunk:
                if chunk is not pkt.chunks[0]:
                    self.stats.bad_vtag += 1  # §8.5.1 (A): INIT only alone, with tag 0
                    return
                self._on_init(chunk, now)
                return
            elif type(chunk) is InitAckChunk:
                self._on_init_ack(chunk, now)
                return
            elif type(chunk) is CookieEchoChunk:
                if not self._on_cookie_echo(pkt, chunk, now):
                    return
            elif type(chunk) is CookieAckChunk:
                if self.state is State.COOKIE_ECHOED:
                    self._t1_at = None
                    self._establish(now)
            elif type(chunk) is ForwardTsnChunk:
                if self.state in _DATA_STATES:
                    had_data = True
                    self._on_forward_tsn(chunk)
            elif type(chunk) is ReconfigChunk:
                if self.state in _DATA_STATES:
                    self._on_reconfig(chunk, now)
            elif type(chunk) is HeartbeatChunk:
                if self._peer_vtag:
                    self._ctrl.append(HeartbeatAckChunk(chunk.params).encode())
            elif type(chunk) is HeartbeatAckChunk:
                self._on_heartbeat_ack(chunk, now)
            elif type(chunk) is AbortChunk:
                if not self._tag_matches(chunk.t_bit, pkt.verification_tag):
                    self.stats.bad_vtag += 1  # §8.5.1 (B), for an ABORT behind other chunks
                    return
                self.stats.aborts_received += 1
                self._terminate(_describe_abort(chunk))
                return
            elif type(chunk) is ErrorChunk:
                self._on_error(chunk, now)
            elif type(chunk) is ShutdownChunk:
                self._on_shutdown(chunk, now)
            elif type(chunk) is ShutdownAckChunk:
                if self.state in (State.SHUTDOWN_SENT, State.SHUTDOWN_ACK_SENT):
                    self._outbox.append(
                        encode_packet(
                            self.local_port,
                            self.remote_port,
                            self._peer_vtag,
                            ShutdownCompleteChunk(False).encode(),
                        )
                    )
                    self._terminate(None)
                    return
            elif type(chunk) is ShutdownCompleteChunk:
                if chunk is not pkt.chunks[0]:
                    self.stats.bad_vtag += 1  # never bundled (§6.10); its tag rule is §8.5.1 (C)
                    return
                if self.state is State.SHUTDOWN_ACK_SENT:
                    self._terminate(None)
                    return
            else:
                assert isinstance(chunk, UnknownChunk)
                if chunk.chunk_type == ChunkType.PAD:
                    continue  # RFC 4820 §3: padding only (PLPMTUD probes, RFC 8899 §6.2)
                self.stats.unknown_chunks += 1
                action = chunk.chunk_type >> 6  # RFC 9260 §3.2
                if action in (1, 3) and self._peer_vtag and len(chunk.value) <= 512:
                    # (a large unknown chunk is not echoed back: no amplification)
                    cause = encode_tlv(CauseCode.UNRECOGNIZED_CHUNK_TYPE, chunk.encode())
                    self._ctrl.append(_error_chunk(cause))
                if action in (0, 1):
                    break
        self._after_packet(had_data, now)

    def _after_packet(self, had_data: bool, now: float) -> None:
        if had_data:
            self._data_packets_unacked += 1
            # RFC 9260 §6.2: SACK at least every second packet, else within SACK.Delay
            if self._data_packets_unacked >= 2:
                self._sack_immediate = True
            elif self._sack_at is None and self._sack_due:
                self._sack_at = now + SACK_DELAY
        if self.state is State.SHUTDOWN_RECEIVED:
            self._maybe_shutdown_ack(now)
        elif self.state is State.SHUTDOWN_PENDING:
            self._maybe_shutdown()

    def _closed(self) -> bool:
        return self._closed_for_good

    # ------------------------------------------------------------------ handshake

    def _make_cookie(self, init: InitChunk, now: float) -> bytes:
        caps = _peer_caps(init)
        body = _COOKIE.pack(
            now,
            self._local_vtag,
            init.initiate_tag,
            self._local_initial_tsn,
            init.initial_tsn,
            init.a_rwnd,
            min(MAX_STREAMS, init.inbound_streams),
            min(MAX_STREAMS, init.outbound_streams),
            caps,
        )
        return body + hmac.new(self._cookie_key, body, hashlib.sha256).digest()

    def _on_init(self, init: InitChunk, now: float) -> None:
        if self._closed():
            return
        if init.initiate_tag == 0 or init.outbound_streams == 0 or init.inbound_streams == 0:
            # RFC 9260 §3.3.2: invalid mandatory parameter -> ABORT
            if init.initiate_tag:
                self._send_abort(
                    init.initiate_tag, False, [(CauseCode.INVALID_MANDATORY_PARAMETER, b"")]
                )
            self.stats.malformed += 1
            return
        if self.state in (State.SHUTDOWN_ACK_SENT,):
            return
        _, unrecognized = _filter_params(init.params)
        ack_params: list[Param] = [(ParamType.STATE_COOKIE, self._make_cookie(init, now))]
        ack_params.extend(self._local_params())
        if unrecognized:
            ack_params.extend((ParamType.UNRECOGNIZED_PARAMETER, p) for p in unrecognized)
        # RFC 9260 §5.2.1/§5.2.2: INIT ACK always carries our (single) tag and initial TSN
        ack = InitAckChunk(
            self._local_vtag,
            self._rwnd_max,
            MAX_STREAMS,
            MAX_STREAMS,
            self._local_initial_tsn,
            ack_params,
        )
        self._outbox.append(
            encode_packet(self.local_port, self.remote_port, init.initiate_tag, ack.encode())
        )

    def _on_init_ack(self, ack: InitAckChunk, now: float) -> None:
        if self.state is not State.COOKIE_WAIT:
            return  # RFC 9260 §5.2.3: discard
        cookie = ack.param(ParamType.STATE_COOKIE)
        if ack.initiate_tag == 0 or ack.outbound_streams == 0 or ack.inbound_streams == 0:
            self._abort_protocol_raw(ack.initiate_tag, "invalid INIT ACK")
            return
        if cookie is None:
            # RFC 9260 §5.1 (C): missing mandatory parameter
            self._send_abort(
                ack.initiate_tag,
                False,
                [(CauseCode.MISSING_MANDATORY_PARAMETER, struct.pack("!IH", 1, 7) + b"\0\0")],
            )
            self._terminate("INIT ACK without state cookie")
            return
        _, unrecognized = _filter_params(ack.params)
        self._adopt_peer(
            ack.initiate_tag,
            ack.initial_tsn,
            ack.a_rwnd,
            min(MAX_STREAMS, ack.inbound_streams),
            min(MAX_STREAMS, ack.outbound_streams),
            _peer_caps(ack),
        )
        self._cookie_echo = CookieEchoChunk(cookie).encode()
        if unrecognized:
            causes = [encode_tlv(CauseCode.UNRECOGNIZED_PARAMETERS, p) for p in unrecognized]
            self._cookie_echo += _error_chunk(*causes)
        self.state = State.COOKIE_ECHOED
        self._t1_count = 0
        self._send_cookie_echo(now)

    def _send_cookie_echo(self, now: float) -> None:
        assert self._cookie_echo is not None
        self._outbox.append(
            encode_packet(self.local_port, self.remote_port, self._peer_vtag, self._cookie_echo)
        )
        self._t1_at = now + self._init_rto

    def _abort_protocol_raw(self, vtag: int, reason: str) -> None:
        if vtag:
            self._send_abort(vtag, False, [(CauseCode.PROTOCOL_VIOLATION, reason.encode())])
        self._terminate(reason)

    def _on_cookie_echo(self, pkt: Packet, chunk: CookieEchoChunk, now: float) -> bool:
        """RFC 9260 §5.1 (D), §5.2.4. Returns whether to keep processing the packet."""
        cookie = chunk.cookie
        if self._closed() or len(cookie) != _COOKIE.size + _COOKIE_MAC:
            self.stats.cookies_rejected += 1
            return False
        body, mac = cookie[: _COOKIE.size], cookie[_COOKIE.size :]
        if not hmac.compare_digest(mac, hmac.new(self._cookie_key, body, hashlib.sha256).digest()):
            self.stats.cookies_rejected += 1
            return False
        ts, local_tag, peer_tag, _local_tsn, peer_tsn, peer_rwnd, os_, mis, caps = _COOKIE.unpack(
            body
        )
        if local_tag != self._local_vtag or pkt.verification_tag != local_tag:
            self.stats.cookies_rejected += 1
            return False
        if self.state not in (State.CLOSED, State.COOKIE_WAIT, State.COOKIE_ECHOED) and (
            peer_tag == self._peer_vtag
        ):
            # §5.2.4 action D: duplicate COOKIE ECHO for this very association, re-acknowledge
            # (no lifespan check: nothing is created or changed)
            self._ctrl.insert(0, CookieAckChunk().encode())
            return True
        age = now - ts
        if age > VALID_COOKIE_LIFE:
            # RFC 9260 §5.1.5 / §3.3.10.3: Stale Cookie error with the staleness in µs
            self.stats.stale_cookies += 1
            staleness = min(int((age - VALID_COOKIE_LIFE) * 1e6), 0xFFFFFFFF)
            self._outbox.append(
                encode_packet(
                    self.local_port,
                    self.remote_port,
                    peer_tag,
                    _error_chunk(encode_tlv(CauseCode.STALE_COOKIE, U32.pack(staleness))),
                )
            )
            return False
        if self.state in (State.CLOSED, State.COOKIE_WAIT, State.COOKIE_ECHOED):
            # §5.2.4 action B/D while still handshaking: adopt the peer from the cookie
            self._adopt_peer(peer_tag, peer_tsn, peer_rwnd, os_, mis, caps)
            self._t1_at = None
            self._ctrl.insert(0, CookieAckChunk().encode())
            self._establish(now)
            return True
        # peer restart (§5.2.4 action A) is not supported: drop
        self.stats.cookies_rejected += 1
        return False

    def _adopt_peer(
        self, peer_tag: int, peer_tsn: int, peer_rwnd: int, os_: int, mis: int, caps: int
    ) -> None:
        self._peer_vtag = peer_tag
        self._outbound_streams = os_
        self._inbound_streams = mis
        self._peer_rwnd = peer_rwnd
        self._peer_forward_tsn = bool(caps & _CAP_FORWARD_TSN)
        self._peer_reconfig = bool(caps & _CAP_RECONFIG)
        # RFC 9653 §5.2: zero checksum only when both sides advertised it
        self._zero_checksum_tx = self._zero_checksum_local and bool(caps & _CAP_ZERO_CHECKSUM)
        self._rx_cum = peer_tsn - 1 + _TSN_MOD
        self._rx_max = self._rx_cum
        self._peer_reconfig_seq = peer_tsn

    def _establish(self, now: float) -> None:
        self.state = State.ESTABLISHED
        self._events.append(AssociationEstablished())
        self._arm_heartbeat(now)
        if self._pl_max:
            self._pl_enter_base(now)
        for ch in list(self._channels.values()):
            self._start_channel(ch)

    def _on_t1(self, now: float) -> None:
        self._t1_at = None
        if self.state not in (State.COOKIE_WAIT, State.COOKIE_ECHOED):
            return
        self._t1_count += 1
        if self._t1_count > MAX_INIT_RETRANSMITS:
            self._terminate("handshake timed out")
            return
        self._init_rto = self._backoff(self._init_rto)
        if self.state is State.COOKIE_WAIT:
            self._send_init(now)
        else:
            self._send_cookie_echo(now)

    def _on_error(self, chunk: ErrorChunk, now: float) -> None:
        for code, _ in chunk.causes:
            if code == CauseCode.STALE_COOKIE and self.state is State.COOKIE_ECHOED:
                # RFC 9260 §5.2.6: start over with a new INIT
                self.state = State.COOKIE_WAIT
                self._peer_vtag = 0
                self._t1_count = 0
                self._send_init(now)
                return

    # ------------------------------------------------------------------ receiving DATA

    def _on_data(
        self,
        flags: int,
        wire_tsn: int,
        sid: int,
        ssn: int,
        ppid: int,
        user_data: bytes | memoryview,
    ) -> bool:
        """RFC 9260 §6.2. Returns False if the association was aborted."""
        stats = self.stats
        stats.data_chunks_received += 1
        if not user_data:
            # RFC 9260 §6.2: DATA without user data -> ABORT with No User Data
            self._abort_protocol("DATA chunk without user data", CauseCode.NO_USER_DATA)
            return False
        cum = self._rx_cum
        d = (wire_tsn - cum) & 0xFFFFFFFF
        if d >= _HALF:
            d -= _TSN_MOD
        tsn = cum + d
        self._sack_due = True
        if d <= 0 or tsn in self._rx_above:
            stats.duplicate_tsns += 1
            if len(self._dups) < MAX_DUPS_REPORTED:
                self._dups.append(wire_tsn)
            self._sack_immediate = True
            return True
        size = len(user_data)
        if (d > MAX_TSN_AHEAD or (d > 1 and len(self._rx_above) >= MAX_OUT_OF_ORDER)) or (
            tsn > self._rx_max
            and self._rx_bytes + self._event_bytes + _rx_charge(size) > self._rwnd_max
            # the next in-sequence fragment of a message being reassembled is still taken,
            # so a message larger than the window can complete (bounded by _hard_rx_limit)
            and not (d == 1 and self._rx_bytes > 0 and self._event_bytes <= self._rwnd_max)
        ):
            stats.data_chunks_dropped += 1  # RFC 9260 §6.2: no room, drop (not acked)
            self._sack_immediate = True
            return True
        if sid >= self._inbound_streams:
            # RFC 9260 §6.5: acknowledge, discard, report Invalid Stream Identifier
            stats.invalid_stream += 1
            self._accept_tsn(tsn, d)
            self._ctrl.append(
                _error_chunk(
                    encode_tlv(CauseCode.INVALID_STREAM_IDENTIFIER, struct.pack("!HH", sid, 0))
                )
            )
            return True
        if d == 1 and not self._rx_above:
            self._rx_cum = tsn  # in sequence, no gaps (the common case of _accept_tsn)
            if tsn > self._rx_max:
                self._rx_max = tsn
        else:
            self._accept_tsn(tsn, d)
        if flags & FLAG_IMMEDIATE:
            self._sack_immediate = True  # RFC 7053
        if flags & 3 == 3:
            self._on_message(sid, ssn, flags, ppid, bytes(user_data))
        else:
            obj = user_data.obj if type(user_data) is memoryview else None
            if obj is not None and (size < 512 or len(obj) > 2 * size):  # type: ignore[arg-type]
                # a small fragment does not keep its whole packet alive
                user_data = bytes(user_data)
            self._frags[tsn] = (flags, sid, ssn, ppid, user_data)  # joined on reassembly
            self._rx_bytes += _rx_charge(size)
            if self._rx_bytes > self._hard_rx_limit():
                self._abort_protocol("receive buffer exhausted", CauseCode.OUT_OF_RESOURCE)
                return False
            if not self._try_reassemble(tsn):
                return False
        return True

    def _accept_tsn(self, tsn: int, d: int) -> None:
        if d == 1:
            cum = tsn
            above = self._rx_above
            if above:
                self._sack_immediate = True  # RFC 9260 §6.7: a gap was (partly) filled
                while cum + 1 in above:
                    cum += 1
                    above.discard(cum)
            self._rx_cum = cum
        else:
            self._rx_above.add(tsn)
            if tsn > self._gap_top:
                self._gap_new.append(tsn)
            else:
                self._gap_cum = -1
            self._sack_immediate = True  # RFC 9260 §6.7: gap -> SACK immediately
        if tsn > self._rx_max:
            self._rx_max = tsn

    def _hard_rx_limit(self) -> int:
        return 2 * self._rwnd_max + 2 * (self._max_message_size or (1 << 24)) + 65536

    def _try_reassemble(self, tsn: int) -> bool:
        frags = self._frags
        flags, sid, ssn, ppid, _ = frags[tsn]
        unordered = flags & FLAG_UNORDERED
        # walk forward to the E fragment
        end = tsn
        f = flags
        while not f & FLAG_END:
            nxt = frags.get(end + 1)
            if nxt is None or nxt[1] != sid or (nxt[0] & FLAG_UNORDERED) != unordered:
                return True
            if nxt[0] & FLAG_BEGIN:
                return True
            end += 1
            f = nxt[0]
        start = tsn
        f = flags
        while not f & FLAG_BEGIN:
            prv = frags.get(start - 1)
            if prv is None or prv[1] != sid or (prv[0] & FLAG_UNORDERED) != unordered:
                return True
            if prv[0] & FLAG_END:
                return True
            start -= 1
            f = prv[0]
        parts = [frags.pop(t)[4] for t in range(start, end + 1)]
        data = b"".join(parts)
        self._rx_bytes -= sum(_rx_charge(len(p)) for p in parts)
        limit = self._max_message_size
        if limit and len(data) > limit:
            self._abort_protocol("message exceeds max-message-size")
            return False
        self._on_message(sid, ssn, FLAG_UNORDERED if unordered else 0, ppid, data)
        return True

    def _on_message(self, sid: int, ssn: int, flags: int, ppid: int, data: bytes) -> None:
        if flags & FLAG_UNORDERED:
            self._deliver(sid, ppid, data)
            return
        expected = self._in_ssn.get(sid, 0)
        if ssn == expected:
            self._deliver(sid, ppid, data)
            expected = (expected + 1) & 0xFFFF
            pending = self._in_pending.get(sid)
            if pending:
                while expected in pending:
                    p, d = pending.pop(expected)
                    self._rx_bytes -= _rx_charge(len(d))
                    self._deliver(sid, p, d)
                    expected = (expected + 1) & 0xFFFF
                if not pending:
                    del self._in_pending[sid]
            self._in_ssn[sid] = expected
        elif (ssn - expected) & 0xFFFF < 0x8000:
            pending = self._in_pending.setdefault(sid, {})
            if ssn not in pending:
                pending[ssn] = (ppid, data)
                self._rx_bytes += _rx_charge(len(data))
        else:
            self.stats.data_chunks_dropped += 1  # stale SSN

    def _deliver(self, sid: int, ppid: int, data: bytes) -> None:
        if ppid == dcep.PPID_DCEP:
            self._on_dcep(sid, data)
            return
        if ppid == dcep.PPID_BINARY or ppid == dcep.PPID_STRING:
            prefix = self._partial.pop(sid, None)
            if prefix is not None:
                data = prefix + data
            binary = ppid == dcep.PPID_BINARY
        elif ppid == dcep.PPID_BINARY_EMPTY or ppid == dcep.PPID_STRING_EMPTY:
            data = b""  # RFC 8831 §6.6: the single byte is ignored
            binary = ppid == dcep.PPID_BINARY_EMPTY
        elif ppid == dcep.PPID_BINARY_PARTIAL or ppid == dcep.PPID_STRING_PARTIAL:
            prev = self._partial.get(sid, b"") + data
            if self._max_message_size and len(prev) > self._max_message_size:
                self._partial.pop(sid, None)
                self.stats.data_chunks_dropped += 1
            else:
                self._partial[sid] = prev
            return
        else:
            binary = True
        ch = self._channels.get(sid)
        if ch is not None and not ch.ack_received:
            # user data on a channel we opened implies the peer accepted it (RFC 8832 §6)
            ch.ack_received = True
            if ch.state is ChannelState.OPENING:
                ch.state = ChannelState.OPEN
                self._events.append(ch.opened_event())
        self.stats.messages_received += 1
        self._event_bytes += _rx_charge(len(data))
        ev = _message_event(sid, data, binary)
        self._events.append(ev)

    # ------------------------------------------------------------------ DCEP

    def _on_dcep(self, sid: int, data: bytes) -> None:
        try:
            msg = dcep.decode_dcep(data)
        except ParseError:
            self.stats.dcep_errors += 1
            return
        ch = self._channels.get(sid)
        if isinstance(msg, dcep.DataChannelOpen):
            if ch is not None:
                # RFC 8832 §6: an OPEN for a stream already in use is an error: ignore it.
                # (A peer using the wrong stream-id parity is tolerated while the id is free.)
                self.stats.dcep_errors += 1
                return
            ch = _Channel(
                sid,
                msg.label,
                msg.protocol,
                msg.ordered,
                msg.max_retransmits,
                msg.max_packet_lifetime,
                msg.priority,
                False,
                True,
            )
            ch.state = ChannelState.OPEN
            self._channels[sid] = ch
            ack = _OutMessage(sid, dcep.PPID_DCEP, dcep.ACK_BYTES, False, None, None, False)
            self._enqueue(ack, ch)
            self._events.append(ch.opened_event())
        else:
            if ch is None or ch.remote or ch.negotiated or ch.ack_received:
                self.stats.dcep_errors += 1
                return
            ch.ack_received = True
            if ch.state is ChannelState.OPENING:
                ch.state = ChannelState.OPEN
                self._events.append(ch.opened_event())

    # ------------------------------------------------------------------ FORWARD TSN

    def _on_forward_tsn(self, chunk: ForwardTsnChunk) -> None:
        """RFC 3758 §3.6: move the cumulative TSN, drop skipped fragments, deliver."""
        self.stats.forward_tsn_received += 1
        self._sack_due = True
        self._sack_immediate = True
        cum = self._rx_cum
        d = (chunk.new_cumulative_tsn - cum) & 0xFFFFFFFF
        if d >= _HALF or d == 0:
            return
        if d > MAX_TSN_AHEAD:
            self.stats.malformed += 1
            return
        new_cum = cum + d
        # a message straddling the old cumulative TSN was abandoned: drop its head fragments
        t = cum
        while t in self._frags:
            frag = self._frags.pop(t)
            self._rx_bytes -= _rx_charge(len(frag[4]))
            if frag[0] & FLAG_BEGIN:
                break
            t -= 1
        above = self._rx_above
        frags = self._frags
        if d <= 64:
            for t in range(cum + 1, new_cum + 1):
                above.discard(t)
                skipped = frags.pop(t, None)
                if skipped is not None:
                    self._rx_bytes -= _rx_charge(len(skipped[4]))
        else:  # cost bounded by what we hold, not by how far the peer jumps
            above.difference_update([t for t in above if t <= new_cum])
            for t in [t for t in frags if t <= new_cum]:
                self._rx_bytes -= _rx_charge(len(frags.pop(t)[4]))
        while new_cum + 1 in above:
            new_cum += 1
            above.discard(new_cum)
        self._rx_cum = new_cum
        if new_cum > self._rx_max:
            self._rx_max = new_cum
        for sid, ssn in chunk.streams:
            expected = self._in_ssn.get(sid, 0)
            if (ssn - expected) & 0xFFFF >= 0x8000:
                continue  # already past it
            pending = self._in_pending.get(sid, {})
            # deliver, in SSN order, what became deliverable up to the skipped SSN
            span = (ssn - expected) & 0xFFFF
            due = sorted(off for k in pending if (off := (k - expected) & 0xFFFF) <= span)
            for off in due:
                p, dd = pending.pop((expected + off) & 0xFFFF)
                self._rx_bytes -= _rx_charge(len(dd))
                self._deliver(sid, p, dd)
            expected = (ssn + 1) & 0xFFFF
            while expected in pending:
                p, dd = pending.pop(expected)
                self._rx_bytes -= _rx_charge(len(dd))
                self._deliver(sid, p, dd)
                expected = (expected + 1) & 0xFFFF
            if sid in self._in_pending and not pending:
                del self._in_pending[sid]
            self._in_ssn[sid] = expected
            self._partial.pop(sid, None)

    # ------------------------------------------------------------------ SACK processing

    def _unwrap_out(self, tsn: int) -> int:
        d = (tsn - self._cum_acked) & 0xFFFFFFFF
        if d >= _HALF:
            d -= _TSN_MOD
        return self._cum_acked + d

    def _on_sack(
        self,
        cum_tsn: int,
        a_rwnd: int,
        gaps: Sequence[tuple[int, int]],
        now: float,
        dups: Sequence[int] = (),
    ) -> None:
        """RFC 9260 §6.2.1, §7.2: cumulative and gap acks, RTT, cwnd, fast retransmit."""
        d = (cum_tsn - self._cum_acked) & 0xFFFFFFFF  # self._unwrap_out(cum_tsn), inlined
        if d >= _HALF:
            return  # RFC 9260 §6.2.1 D i): out of order SACK (cum < self._cum_acked)
        cum = self._cum_acked + d
        if dups and self._frtx:
            self._check_spurious(dups)
        if cum >= self._next_tsn:
            self._abort_protocol("SACK acknowledges TSN never sent")
            return
        sent = self._sent
        head = self._sent_head
        flight_before = self._flight
        newly = 0
        # highest TSN newly acknowledged by a gap block: those the cumulative ack covers are all
        # below the first outstanding chunk, so they never count as miss indications and the
        # loop over them does not track it (RFC 9260 §7.2.4)
        htna = 0
        cum_advanced = cum > self._cum_acked
        rtt_chunk = self._rtt_chunk
        # cumulative ack (`sent` holds consecutive TSNs from `head` on)
        stop = head + (cum - self._cum_acked)
        flight = flight_before
        # (a for loop over a slice, and the RTT chunk checked once after it: fewer bytecodes
        # per acknowledged chunk than an indexed while loop, 200 instructions per message)
        for c in sent[head:stop]:
            if not c.acked:
                c.acked = True
                if c.in_flight:
                    flight -= c.size
                    c.in_flight = False
                if not c.abandoned:
                    newly += c.size
        if rtt_chunk is not None and self._cum_acked < rtt_chunk.tsn <= cum:
            self._rtt_sample(now - rtt_chunk.sent_time)  # RFC 9260 §6.3.1 C3
            rtt_chunk = self._rtt_chunk = None
        head = stop
        self._flight = flight
        self._cum_acked = cum
        if head > 256 and head * 2 > len(sent):
            del sent[:head]
            head = 0
        self._sent_head = head
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
                        self._flight -= c.size
                        c.in_flight = False
                    if not c.abandoned:
                        newly += c.size
                    if c.tsn > htna:
                        htna = c.tsn
                    if c is rtt_chunk:
                        self._rtt_sample(now - c.sent_time)
                        rtt_chunk = self._rtt_chunk = None
        # peer window (RFC 9260 §6.2.1)
        rwnd = a_rwnd - self._flight
        self._peer_rwnd = rwnd if rwnd > 0 else 0
        # any SACK shows the peer is alive (also while probing a zero window, RFC 9260 §6.1)
        self._error_count = 0
        # fast recovery exit (RFC 9260 §7.2.4)
        if self._fast_recovery and cum >= self._recover_tsn:
            self._fast_recovery = False
        # congestion window (RFC 9260 §7.2.1/§7.2.2)
        if cum_advanced and newly:
            # "fully utilized": the flight filled cwnd before this SACK, or the sender has been
            # held back by cwnd since (several SACKs processed in one batch)
            full = self._cwnd_full or flight_before + self._mtu >= self._cwnd
            if self._cwnd <= self._ssthresh:
                if not self._fast_recovery and full:
                    self._cwnd += min(newly, self._mtu)
            else:
                self._pba += newly
                if self._pba >= self._cwnd and full:
                    self._pba -= self._cwnd
                    self._cwnd += self._mtu
        if self._flight == 0:
            self._pba = 0
        # miss indications (RFC 9260 §7.2.4)
        if htna and head < len(sent) and sent[head].tsn < htna:
            marked = False
            for i in range(head, len(sent)):
                c = sent[i]
                if c.tsn >= htna:
                    break
                if c.acked or c.abandoned or c.fast_rtx:
                    continue
                c.miss += 1
                if c.miss >= self._dupthresh:
                    c.fast_rtx = True
                    if self._check_abandon(c, now):
                        continue
                    self.stats.fast_retransmits += 1
                    self._mark_rtx(c)
                    if c.retransmits == 0:
                        if len(self._frtx) >= 4096:
                            self._frtx.clear()
                        self._frtx[c.tsn & 0xFFFFFFFF] = c
                    marked = True
            if marked:
                if not self._fast_recovery:
                    # RFC 9260 §7.2.3/§7.2.4
                    self._undo = (self._cwnd, self._ssthresh)
                    self._ssthresh = max(self._cwnd // 2, 4 * self._mtu)
                    self._cwnd = self._ssthresh
                    self._pba = 0
                    self._fast_recovery = True
                    self._recover_tsn = self._next_tsn - 1
                self._fast_rtx_now = True
        # PR-SCTP ack point (RFC 3758 §3.5 C)
        if self._peer_forward_tsn:
            adv = self._adv_peer_ack if self._adv_peer_ack > cum else cum
            i = head + (adv - cum)
            if adv > cum or (i < len(sent) and sent[i].abandoned):
                self._advance_ack_point()
            else:
                self._adv_peer_ack = adv
        if cum_advanced and self._rto > self._rto_base:
            # the peer got data again: drop the T3-rtx back-off (as dcsctp restarts its timer).
            # RFC 9260 §6.3.3 keeps it until a new RTT sample, which Karn's rule (§6.3.1 C5)
            # never yields while only retransmitted chunks are outstanding (a stalled tail).
            self._rto = self._rto_base
        # T3-rtx (RFC 9260 §6.3.2)
        if self._sent_head < len(self._sent):  # self._outstanding()
            if cum_advanced:
                self._t3_at = now + self._rto
        else:
            self._t3_at = None
        if self.state is State.SHUTDOWN_PENDING:
            self._maybe_shutdown()

    def _check_spurious(self, dups: Sequence[int]) -> None:
        """RFC 3708 §3: a Duplicate TSN report for a chunk sent twice (original plus one fast
        retransmission) shows the original was only reordered: undo the window reduction
        (RFC 4015 style) and tolerate more reordering before the next fast retransmit."""
        for d in dups:
            c = self._frtx.pop(d, None)
            if c is None or c.retransmits != 1:
                continue
            self.stats.spurious_retransmits += 1
            self._dupthresh = min(self._dupthresh + 1, MAX_DUPTHRESH)
            if self._undo is not None:
                cwnd, ssthresh = self._undo
                self._undo = None
                self._cwnd = max(self._cwnd, cwnd)
                self._ssthresh = max(self._ssthresh, ssthresh)

    def _rtt_sample(self, r: float) -> None:
        """RFC 9260 §6.3.1."""
        if r < 0:
            return
        srtt = self._srtt
        if srtt is None:
            srtt = r
            rttvar = r / 2
        else:
            rttvar = (1 - RTO_BETA) * self._rttvar + RTO_BETA * abs(srtt - r)
            srtt = (1 - RTO_ALPHA) * srtt + RTO_ALPHA * r
        self._srtt = srtt
        self._rttvar = rttvar
        rto = srtt + 4 * rttvar
        # min(max(rto, rto_min), rto_max) without the two builtin calls
        lo = self.rto_min
        if rto < lo:
            rto = lo
        hi = self.rto_max
        if rto > hi:
            rto = hi
        self._rto = self._rto_base = rto

    def _outstanding(self) -> bool:
        return self._sent_head < len(self._sent)

    def _mark_rtx(self, c: _OutChunk) -> None:
        if c.in_flight:
            self._flight -= c.size
            c.in_flight = False
        if not c.rtx_pending:
            c.rtx_pending = True
            heapq.heappush(self._rtx_heap, (c.tsn, c))

    def _check_abandon(self, c: _OutChunk, now: float) -> bool:
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

    def _abandon(self, msg: _OutMessage) -> None:
        msg.abandoned = True
        self.stats.abandoned_messages += 1
        for c in msg.chunks or ():
            if not c.abandoned:
                c.abandoned = True
                if c.in_flight:
                    self._flight -= c.size
                    c.in_flight = False
        if msg.offset < len(msg.data):
            # RFC 3758 §3.5: the unsent rest of the message is dropped as well
            rest = len(msg.data) - msg.offset
            self._queued_bytes -= rest + SEND_MESSAGE_OVERHEAD
            ch = self._channels.get(msg.stream_id)
            if ch is not None:
                if msg.counted:
                    ch.buffered -= rest
                ch.queued -= 1
            msg.offset = len(msg.data)
            if self._sched.current is msg:
                self._sched.current = None

    def _advance_ack_point(self) -> None:
        if not self._peer_forward_tsn:
            return
        if self._adv_peer_ack < self._cum_acked:
            self._adv_peer_ack = self._cum_acked
        sent = self._sent
        i = self._sent_head + (self._adv_peer_ack - self._cum_acked)
        moved = False
        while i < len(sent) and sent[i].abandoned:
            self._adv_peer_ack = sent[i].tsn
            i += 1
            moved = True
        if moved or self._adv_peer_ack > self._cum_acked:
            self._forward_tsn_due = True

    def _forward_tsn_chunk(self) -> bytes:
        streams: dict[int, int] = {}
        sent = self._sent
        for i in range(self._sent_head, len(sent)):
            c = sent[i]
            if c.tsn > self._adv_peer_ack:
                break
            m = c.msg
            if not m.unordered and m.ssn >= 0:
                streams[m.stream_id] = m.ssn
        return ForwardTsnChunk(self._adv_peer_ack & 0xFFFFFFFF, sorted(streams.items())).encode()

    # ------------------------------------------------------------------ timers

    def _on_t3(self, now: float) -> None:
        """RFC 9260 §6.3.3 T3-rtx expiry."""
        self._t3_at = None
        if not self._outstanding() or self.state not in _DATA_STATES:
            return
        self.stats.t3_expirations += 1
        if self._path_error(now):
            return  # RFC 9260 §8.2/§8.1: peer unreachable
        if (
            self._pl_max
            and self._mtu > self._base_mtu
            and not self._pl_check
            and self._pl_check_cum != self._cum_acked  # one check per stall
            and self.state is State.ESTABLISHED
        ):
            self._pl_check_cum = self._cum_acked
            self._pl_start_check(now)  # RFC 8899 §4.3: maybe a black hole for large packets
        self._rto = self._backoff(self._rto)
        self._ssthresh = max(self._cwnd // 2, 4 * self._mtu)
        self._cwnd = self._mtu
        self._undo = None  # a timeout is not undone
        self._dupthresh = 3
        self._pba = 0
        self._fast_recovery = False
        self._rtt_chunk = None  # Karn's algorithm
        sent = self._sent
        for i in range(self._sent_head, len(sent)):
            c = sent[i]
            if c.acked or c.abandoned:
                continue
            if self._check_abandon(c, now):
                continue
            self._mark_rtx(c)
        self._flight = 0
        self._advance_ack_point()
        self._t3_at = now + self._rto

    def _arm_heartbeat(self, now: float) -> None:
        # RFC 9260 §8.3: HB.interval plus RTO with jitter of +-50% of the RTO
        self._hb_at = now + HB_INTERVAL + self._rto * (0.5 + self._rng.random())

    def _on_heartbeat_timer(self, now: float) -> None:
        """RFC 9260 §8.3: probe an idle path; an unanswered HEARTBEAT counts as an error."""
        self._hb_at = None
        if self.state not in _DATA_STATES:
            return
        if self._hb_pending is not None:
            if self._path_error(now):
                return
            self._rto = self._backoff(self._rto)  # back off like T3-rtx (§6.3.3)
        if self._outstanding():
            self._hb_pending = None  # data in flight: T3-rtx watches the path
        else:
            nonce = self._rng.getrandbits(64).to_bytes(8, "big")
            self._hb_pending = _HB_INFO.pack(now) + nonce
            info: list[Param] = [(ParamType.HEARTBEAT_INFO, self._hb_pending)]
            self._ctrl.append(HeartbeatChunk(info).encode())
        self._arm_heartbeat(now)
        if self._hb_pending is not None:
            # an unanswered probe is retried after one RTO rather than a whole interval
            self._hb_at = now + self._rto

    def _on_heartbeat_ack(self, chunk: HeartbeatAckChunk, now: float) -> None:
        if self._pl_probes:
            for ptype, value in chunk.params:
                if ptype == ParamType.HEARTBEAT_INFO:
                    size = self._pl_probes.pop(value, None)
                    if size is not None:
                        # (no reset of the error count: a probe answered while DATA is lost
                        # does not make the association usable, RFC 9260 §8.1 stays in charge)
                        self._pl_on_ack(size, now)
                        return
        pending = self._hb_pending
        if pending is None:
            return
        for ptype, value in chunk.params:
            if ptype == ParamType.HEARTBEAT_INFO and hmac.compare_digest(value, pending):
                self._hb_pending = None
                self._error_count = 0
                self._rtt_sample(now - _HB_INFO.unpack_from(value)[0])
                self._arm_heartbeat(now)
                return

    def _on_t2(self, now: float) -> None:
        self._t2_at = None
        self._t2_count += 1
        if self._t2_count > ASSOCIATION_MAX_RETRANS:
            self._terminate("shutdown timed out")
            return
        self._rto = self._backoff(self._rto)
        if self.state is State.SHUTDOWN_SENT:
            self._send_shutdown(now)
        elif self.state is State.SHUTDOWN_ACK_SENT:
            self._send_shutdown_ack(now)

    # ------------------------------------------------------------------ shutdown

    def _all_sent_and_acked(self) -> bool:
        return not self._sched and not self._outstanding()

    def _maybe_shutdown(self) -> None:
        if self.state is State.SHUTDOWN_PENDING and self._all_sent_and_acked():
            self.state = State.SHUTDOWN_SENT
            self._t2_count = 0
            self._send_shutdown(self._now)

    def _send_shutdown(self, now: float) -> None:
        self._ctrl.append(ShutdownChunk(self._rx_cum & 0xFFFFFFFF).encode())
        self._t2_at = now + self._rto

    def _send_shutdown_ack(self, now: float) -> None:
        self._outbox.append(
            encode_packet(
                self.local_port, self.remote_port, self._peer_vtag, ShutdownAckChunk().encode()
            )
        )
        self._t2_at = now + self._rto

    def _on_shutdown(self, chunk: ShutdownChunk, now: float) -> None:
        """RFC 9260 §9.2."""
        if self.state not in _DATA_STATES:
            return
        # the SHUTDOWN's cumulative TSN acts like a SACK without gaps
        self._on_sack(chunk.cumulative_tsn, self._peer_rwnd + self._flight, (), now)
        if self.state is State.SHUTDOWN_SENT:
            # §9.2: SHUTDOWN in SHUTDOWN-SENT -> send SHUTDOWN ACK
            self.state = State.SHUTDOWN_ACK_SENT
            self._t2_count = 0
            self._send_shutdown_ack(now)
            return
        self.state = State.SHUTDOWN_RECEIVED
        self._maybe_shutdown_ack(now)

    def _maybe_shutdown_ack(self, now: float) -> None:
        if self.state is State.SHUTDOWN_RECEIVED and self._all_sent_and_acked():
            self.state = State.SHUTDOWN_ACK_SENT
            self._t2_count = 0
            self._t3_at = None
            self._send_shutdown_ack(now)

    # ------------------------------------------------------------------ RE-CONFIG

    def _on_reconfig(self, chunk: ReconfigChunk, now: float) -> None:
        """RFC 6525 §5.2."""
        responses: list[ReconfigParam] = []
        for p in chunk.params:
            if isinstance(p, OutgoingSsnResetRequest):
                responses.append(self._on_outgoing_reset(p))
            elif isinstance(p, ReconfigResponse):
                self._on_reconfig_response(p, now)
            elif isinstance(p, IncomingSsnResetRequest | SsnTsnResetRequest | AddStreamsRequest):
                # requests we do not perform are denied (RFC 6525 §5.2.3-§5.2.6)
                seq = p.request_seq
                result = ReconfigResult.DENIED
                if seq == self._peer_reconfig_seq:
                    self._peer_reconfig_seq = (seq + 1) & 0xFFFFFFFF
                elif seq != (self._peer_reconfig_seq - 1) & 0xFFFFFFFF:
                    result = ReconfigResult.ERROR_BAD_SEQUENCE_NUMBER
                responses.append(ReconfigResponse(seq, result))
        if responses:
            self._ctrl.append(ReconfigChunk(responses).encode())

    def _on_outgoing_reset(self, req: OutgoingSsnResetRequest) -> ReconfigResponse:
        seq = req.request_seq
        expected = self._peer_reconfig_seq
        if seq == (expected - 1) & 0xFFFFFFFF and self._peer_last_result is not None:
            return self._peer_last_result  # retransmitted request (RFC 6525 §5.2.1)
        if seq != expected:
            return ReconfigResponse(seq, ReconfigResult.ERROR_BAD_SEQUENCE_NUMBER)
        d = (req.last_tsn - self._rx_cum) & 0xFFFFFFFF
        if 0 < d < _HALF:
            # RFC 6525 §5.2.2: data up to the last TSN not yet received -> in progress
            return ReconfigResponse(seq, ReconfigResult.IN_PROGRESS)
        streams = req.streams or tuple(self._in_ssn.keys() | self._channels.keys())
        for sid in streams:
            self._in_ssn.pop(sid, None)
            pending = self._in_pending.pop(sid, None)
            if pending:
                self._rx_bytes -= sum(_rx_charge(len(v[1])) for v in pending.values())
            self._partial.pop(sid, None)
            ch = self._channels.get(sid)
            if ch is not None:
                ch.reset_in = True
                if ch.state is not ChannelState.CLOSING:
                    # RFC 8831 §6.7: reset our outgoing stream as well
                    ch.state = ChannelState.CLOSING
                    if not ch.reset_out:
                        self._reset_wanted.add(sid)
                self._maybe_channel_closed(ch)
        self._peer_reconfig_seq = (seq + 1) & 0xFFFFFFFF
        result = ReconfigResponse(seq, ReconfigResult.SUCCESS_PERFORMED)
        self._peer_last_result = result
        return result

    def _on_reconfig_response(self, resp: ReconfigResponse, now: float) -> None:
        req = self._reset_inflight
        if req is None or resp.response_seq != req.request_seq:
            return
        if resp.result == ReconfigResult.IN_PROGRESS:
            self._reconfig_at = now + self._rto  # retry the same request later
            return
        self._reset_inflight = None
        self._reconfig_at = None
        self._reconfig_seq = (self._reconfig_seq + 1) & 0xFFFFFFFF
        ok = resp.result in (
            ReconfigResult.SUCCESS_PERFORMED,
            ReconfigResult.SUCCESS_NOTHING_TO_DO,
        )
        for sid in req.streams:
            self._out_ssn.pop(sid, None)
            ch = self._channels.get(sid)
            if ch is not None:
                ch.reset_out = True
                if not ok:
                    ch.reset_in = True  # the peer refused: give up on a clean close
                self._maybe_channel_closed(ch)

    def _maybe_channel_closed(self, ch: _Channel) -> None:
        if ch.reset_in and ch.reset_out and self._channels.get(ch.stream_id) is ch:
            self._forget_channel(ch.stream_id)
            self._events.append(ChannelClosed(ch.stream_id))

    def _maybe_send_reset(self, now: float) -> None:
        if self._reset_inflight is not None or not self._reset_wanted:
            return
        ready = []
        for sid in self._reset_wanted:
            ch = self._channels.get(sid)
            if ch is None or ch.queued == 0:
                ready.append(sid)
        if not ready:
            return
        ready.sort()
        ready = ready[:256]
        for sid in ready:
            self._reset_wanted.discard(sid)
        if not self._peer_reconfig:
            # peer cannot reset streams: close locally (RFC 8831 §6.7 needs RFC 6525)
            for sid in ready:
                ch = self._channels.get(sid)
                if ch is not None:
                    ch.reset_in = ch.reset_out = True
                    self._maybe_channel_closed(ch)
            return
        req = OutgoingSsnResetRequest(
            self._reconfig_seq,
            (self._peer_reconfig_seq - 1) & 0xFFFFFFFF,
            (self._next_tsn - 1) & 0xFFFFFFFF,
            tuple(ready),
        )
        self._reset_inflight = req
        self._ctrl.append(ReconfigChunk([req]).encode())
        self._reconfig_at = now + self._rto

    # ------------------------------------------------------------------ transmission

    def _sack_chunk(self) -> bytes:
        cum = self._rx_cum
        if not self._rx_above and not self._dups:
            # no gaps, no duplicates (the common case, all of the work below skipped)
            a_rwnd = self._rwnd_max - self._rx_bytes - self._event_bytes
            if a_rwnd < 0:
                a_rwnd = 0
            self._last_a_rwnd = a_rwnd
            self._sack_due = self._sack_immediate = False
            self._sack_at = None
            self._data_packets_unacked = 0
            return _SACK_PLAIN.pack(ChunkType.SACK, 0, 16, cum & 0xFFFFFFFF, a_rwnd, 0, 0)
        gaps: list[tuple[int, int]] = []
        max_gaps = min(MAX_GAPS_REPORTED, (self._chunk_budget - 16) // 4)
        if self._rx_above and self._gap_cum == cum:
            # same cumulative TSN: only TSNs above the cached blocks arrived since (cheap)
            gaps = self._gaps
            new = self._gap_new
            if new:
                new.sort()
                for t in new:
                    off = t - cum
                    if self._gap_full or off > 0xFFFF:
                        self._gap_full = True
                        break
                    if gaps and off == gaps[-1][1] + 1:
                        gaps[-1] = (gaps[-1][0], off)
                    elif len(gaps) >= max_gaps:
                        self._gap_full = True
                        break
                    else:
                        gaps.append((off, off))
                self._gap_top = new[-1]
                new.clear()
        elif self._rx_above:
            start = prev = -1
            full = False
            for t in sorted(self._rx_above):
                off = t - cum
                if off > 0xFFFF:
                    full = True
                    break
                if off == prev + 1:
                    prev = off
                    continue
                if start >= 0:
                    gaps.append((start, prev))
                    if len(gaps) >= max_gaps:
                        start = -1
                        full = True
                        break
                start = prev = off
            if start >= 0:
                gaps.append((start, prev))
            self._gaps = gaps
            self._gap_cum = cum
            self._gap_top = max(self._rx_above)
            self._gap_full = full
            self._gap_new.clear()
        a_rwnd = max(0, self._rwnd_max - self._rx_bytes - self._event_bytes)
        self._last_a_rwnd = a_rwnd
        dups = self._dups
        room = (self._chunk_budget - 16) // 4 - len(gaps)  # the SACK fits one packet
        if len(dups) > room:
            dups = dups[: max(room, 0)]
        self._dups = []
        self._sack_due = False
        self._sack_immediate = False
        self._sack_at = None
        self._data_packets_unacked = 0
        if not gaps and not dups:
            return _SACK_PLAIN.pack(ChunkType.SACK, 0, 16, cum & 0xFFFFFFFF, a_rwnd, 0, 0)
        return SackChunk(cum & 0xFFFFFFFF, a_rwnd, gaps, dups).encode()

    def _flush(self, now: float) -> None:
        if self.state not in _DATA_STATES:
            if self.state is not State.SHUTDOWN_ACK_SENT:
                if self._ctrl and self._peer_vtag:
                    self._emit_chunks(self._ctrl)
                self._ctrl = []
                return
        elif self._reset_wanted and self._reset_inflight is None:  # (its early exit, inlined)
            self._maybe_send_reset(now)
        chunks: list[bytes] = []
        if self._sack_due and (
            self._sack_immediate
            or self._sack_burst  # the tail of a burst is not held back by SACK.Delay either
            or self._sack_at is None
            or self._sched.current is not None  # bool(self._sched) without the __bool__ call
            or self._sched._active
            or self._rtx_heap
        ):
            # bundle a pending SACK with outgoing data (RFC 9260 §6.2)
            chunks.append(self._sack_chunk())
        elif self._sack_immediate:
            self._sack_immediate = False
        if self._ctrl:
            chunks.extend(self._ctrl)
            self._ctrl = []
        if self._forward_tsn_due and self._adv_peer_ack > self._cum_acked:
            self.stats.forward_tsn_sent += 1
            chunks.append(self._forward_tsn_chunk())
        self._forward_tsn_due = False
        if self.state in _TX_STATES:
            self._transmit_data(chunks, now)
        elif chunks:
            self._emit_chunks(chunks)

    def _emit_chunks(self, chunks: list[bytes]) -> None:
        """Pack control chunks into packets (no DATA)."""
        parts: list[bytes | memoryview] = []
        size = 0
        for c in chunks:
            if size + len(c) > self._chunk_budget and parts:
                self._emit(parts)
                parts = []
                size = 0
            parts.append(c)
            size += len(c)
        if parts:
            self._emit(parts)

    def _emit(self, parts: list[bytes | memoryview]) -> None:
        """One packet to the peer from encoded chunks (RFC 9260 §3.1, §6.8; RFC 9653).
        `parts` is consumed; the packet is joined once (the only copy of the user data)."""
        if self._hdr_tag != self._peer_vtag:
            self._hdr_tag = self._peer_vtag
            self._hdr = COMMON_HEADER.pack(self.local_port, self.remote_port, self._peer_vtag)
            self._hdr_crc = crc32c.crc32c(self._hdr + _ZERO4)
        if self._zero_checksum_tx:
            parts.insert(0, self._hdr + _ZERO4)
        else:
            crc = self._hdr_crc
            for part in parts:
                crc = crc32c.crc32c(part, crc)
            parts.insert(0, self._hdr + CHECKSUM.pack(crc))
        self._outbox.append(b"".join(parts))

    def _transmit_data(self, ctrl: list[bytes], now: float) -> None:
        sched = self._sched
        active = sched._active
        if (
            not ctrl
            and not self._rtx_heap
            and sched.current is None  # (`not sched` without the __bool__ call)
            and not active
            and not self._forward_tsn_due
        ):
            self._cwnd_full = False  # nothing to send: what the full pass below would conclude
            return  # (an idle poll() ran this whole pass every time: 1.3 -> 0.5 us)
        parts: list[bytes | memoryview] = []
        size = 0
        for raw in ctrl:
            if size + len(raw) > self._chunk_budget and parts:
                self._emit(parts)
                parts = []
                size = 0
            parts.append(raw)
            size += len(raw)
        sent_data = False
        cwnd_full = False  # stopped by cwnd (not by the application or the peer's window)
        # retransmissions first (RFC 9260 §6.1 / §7.2.4)
        heap = self._rtx_heap
        fast = self._fast_rtx_now
        self._fast_rtx_now = False
        fast_budget = self._chunk_budget - size if fast else 0
        while heap:
            c = heap[0][1]
            if c.acked or c.abandoned or not c.rtx_pending:
                heapq.heappop(heap)
                c.rtx_pending = False
                continue
            n = (c.size + 19) & ~3  # len of c.wire: padded DATA chunk (RFC 9260 §3.3.1)
            in_fast = fast_budget >= n
            if not in_fast and self._flight >= self._cwnd:
                cwnd_full = True
                break
            if self._check_abandon(c, now):
                heapq.heappop(heap)
                c.rtx_pending = False
                continue
            heapq.heappop(heap)
            if in_fast:
                fast_budget -= n
            if size + n > self._chunk_budget and parts:
                # (a chunk built for a larger MTU than the current one goes out alone)
                self._emit(parts)
                parts = []
                size = 0
            parts += c.wire
            size += n
            c.rtx_pending = False
            c.retransmits += 1
            c.sent_time = now
            c.in_flight = True
            self._flight += c.size
            self.stats.retransmissions += 1
            if c is self._rtt_chunk:
                self._rtt_chunk = None
            sent_data = True
        if self._forward_tsn_due:
            # abandonment while retransmitting moved the ack point
            self._advance_ack_point()
            if self._adv_peer_ack > self._cum_acked:
                fwd = self._forward_tsn_chunk()
                self.stats.forward_tsn_sent += 1
                if size + len(fwd) > self._chunk_budget and parts:
                    self._emit(parts)
                    parts = []
                    size = 0
                parts.append(fwd)
                size += len(fwd)
            self._forward_tsn_due = False
        # new data (RFC 9260 §6.1 A/B)
        sent_list = self._sent
        channels = self._channels
        stats = self.stats
        if (
            self._flight == 0
            and self._sent_head >= len(sent_list)  # not self._outstanding()
            and (sched.current is not None or active)  # bool(sched)
        ):
            # RFC 9260 §7.2.1: after an idle period, halve cwnd once per RTO (floor 4*MTU)
            idle = now - self._last_data_sent
            if idle > self._rto:
                for _ in range(min(int(idle / self._rto), 8)):
                    self._cwnd = max(self._cwnd // 2, 4 * self._mtu)
        budget = self._chunk_budget
        max_frag = self._max_fragment
        cwnd = self._cwnd
        big = self._mtu > self._base_mtu  # PLPMTUD raised the packet size (off by default)
        flight = self._flight
        peer_rwnd = self._peer_rwnd
        next_tsn = self._next_tsn
        out_ssn = self._out_ssn
        pack_hdr = DATA_HEADER.pack
        emit = self._emit
        sent_limit = self._sent_head + MAX_OUTSTANDING_CHUNKS
        full_at = budget - 16 - MIN_FRAGMENT
        rtt_chunk = self._rtt_chunk
        queued_bytes = self._queued_bytes
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
                if offset == 0 and msg.expires is not None and now >= msg.expires:
                    # RFC 3758 §3.5: never sent and already expired: drop it silently
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
                    wire: _Wire = (hdr, piece, _PADS[n & 3])
                    n += -n & 3
                else:
                    wire = (hdr, piece)
                c = new_obj(_OutChunk)  # every slot set here (see _OutChunk)
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
                c.fast_rtx = False
                c.rtx_pending = False
                if msg.chunks is not None:
                    msg.chunks.append(c)
                sent_list.append(c)
                flight += frag
                peer_rwnd = peer_rwnd - frag if peer_rwnd > frag else 0
                if rtt_chunk is None:
                    rtt_chunk = self._rtt_chunk = c
                parts += wire
                size += n
                nsent += 1
                if size >= full_at:
                    emit(parts)
                    parts = []
                    size = 0
        self._queued_bytes = queued_bytes
        self._flight = flight
        self._peer_rwnd = peer_rwnd
        self._next_tsn = next_tsn
        if nsent:
            stats.data_chunks_sent += nsent
            sent_data = True
        if parts:
            self._emit(parts)
        self._cwnd_full = cwnd_full
        if sent_data:
            self._last_data_sent = now
            if self._t3_at is None:
                self._t3_at = now + self._rto


_PADS = (b"", b"\x00\x00\x00", b"\x00\x00", b"\x00")
_heapreplace = heapq.heapreplace
# A frozen slots dataclass's __init__ sets each field through object.__setattr__ (700 ns per
# MessageReceived); filling the slots through their descriptors makes the same object in
# 370 ns (~2,500 instructions less per received message). Fails at import if the fields change.
_new_event = object.__new__
_new_object = object.__new__  # (an _OutChunk or _OutMessage without its __init__ call)
_set_sid = vars(MessageReceived)["stream_id"].__set__
_set_data = vars(MessageReceived)["data"].__set__
_set_binary = vars(MessageReceived)["binary"].__set__
if MessageReceived.__slots__ != ("stream_id", "data", "binary"):
    raise ImportError("sctp.events.MessageReceived fields changed: update _set_* here")


def _message_event(stream_id: int, data: bytes, binary: bool) -> MessageReceived:
    """MessageReceived(stream_id, data, binary), its slots filled directly: the frozen
    dataclass __init__ (object.__setattr__ per field) costs ~700 ns, this ~250 ns."""
    ev = _new_event(MessageReceived)
    _set_sid(ev, stream_id)
    _set_data(ev, data)
    _set_binary(ev, binary)
    return ev


_PPID_BINARY = dcep.PPID_BINARY
_PPID_STRING = dcep.PPID_STRING
_USER_PPIDS = (_PPID_BINARY, _PPID_STRING)
_HEADER = struct.Struct("!HHI4s")  # common header, checksum as raw bytes (RFC 9260 §3.1)
_ZERO4 = b"\x00\x00\x00\x00"
_CHUNK_HEADER_UNPACK = CHUNK_HEADER.unpack_from
_DATA_CHUNK = struct.Struct("!BBHIHHI")  # chunk header and DATA fields (RFC 9260 §3.3.1)
_DATA_FIELDS = struct.Struct("!IHHI")  # TSN, stream id, SSN, PPID (RFC 9260 §3.3.1)
_SACK_FIELDS = struct.Struct("!IIHH")  # cumulative TSN ack, a_rwnd, #gaps, #dups (§3.3.4)
_SACK_COUNTS = struct.Struct("!HH")
_GAP = struct.Struct("!HH")
_SACK_PLAIN = struct.Struct("!BBHIIHH")  # a SACK without gap blocks or duplicates
_TX_STATES = frozenset({State.ESTABLISHED, State.SHUTDOWN_PENDING, State.SHUTDOWN_RECEIVED})
_SEND_STATES = frozenset({State.CLOSED, State.COOKIE_WAIT, State.COOKIE_ECHOED, State.ESTABLISHED})


def _rx_charge(n: int) -> int:
    """What `n` bytes of received user data count against the receive window."""
    return n if n > RECEIVE_MIN_CHARGE else RECEIVE_MIN_CHARGE


def _error_chunk(*causes: bytes) -> bytes:
    """An ERROR chunk around already-encoded error causes (RFC 9260 §3.3.10)."""
    return encode_tlv_chunk(ChunkType.ERROR, 0, b"", list(causes))


def _peer_caps(init: InitChunk) -> int:
    caps = 0
    for ptype, value in init.params:
        if ptype == ParamType.FORWARD_TSN_SUPPORTED:
            caps |= _CAP_FORWARD_TSN
        elif ptype == ParamType.SUPPORTED_EXTENSIONS:
            if ChunkType.FORWARD_TSN in value:
                caps |= _CAP_FORWARD_TSN
            if ChunkType.RECONFIG in value:
                caps |= _CAP_RECONFIG
        elif (
            ptype == ParamType.ZERO_CHECKSUM_ACCEPTABLE
            and len(value) == 4
            and U32.unpack(value)[0] == ZERO_CHECKSUM_EDMID_DTLS
        ):
            caps |= _CAP_ZERO_CHECKSUM
    return caps


_KNOWN_INIT_PARAMS = frozenset(
    {
        ParamType.STATE_COOKIE,
        ParamType.COOKIE_PRESERVATIVE,
        ParamType.SUPPORTED_ADDRESS_TYPES,
        ParamType.ECN_CAPABLE,
        ParamType.ZERO_CHECKSUM_ACCEPTABLE,
        ParamType.SUPPORTED_EXTENSIONS,
        ParamType.FORWARD_TSN_SUPPORTED,
        5,  # IPv4 address
        6,  # IPv6 address
        11,  # host name (deprecated)
        0x8002,  # Random (RFC 4895)
        0x8003,  # Chunk List (RFC 4895)
        0x8004,  # Requested HMAC Algorithm (RFC 4895)
        0x8005,  # Padding (RFC 4820)
        0xC006,  # Adaptation Layer Indication (RFC 5061)
    }
)


def _filter_params(params: list[Param]) -> tuple[list[Param], list[bytes]]:
    """RFC 9260 §3.2.1: act on the upper two bits of unrecognized parameter types.

    Returns (params processed, encoded unrecognized params to report). Types with upper bits
    00/01 stop processing of the remaining parameters; 01/11 are reported."""
    kept: list[Param] = []
    report: list[bytes] = []
    for ptype, value in params:
        if ptype in _KNOWN_INIT_PARAMS:
            kept.append((ptype, value))
            continue
        action = ptype >> 14
        if action in (1, 3) and sum(map(len, report)) + len(value) <= 512:
            report.append(encode_tlv(ptype, value))
        if action in (0, 1):
            break
    return kept, report


def _describe_abort(chunk: AbortChunk) -> str:
    if not chunk.causes:
        return "peer aborted the association"
    names = []
    for code, value in chunk.causes:
        try:
            name = CauseCode(code).name.lower().replace("_", " ")
        except ValueError:
            name = f"cause {code}"
        if code in (CauseCode.PROTOCOL_VIOLATION, CauseCode.USER_INITIATED_ABORT) and value:
            name += ": " + value.decode("utf-8", "replace")
        names.append(name)
    return "peer aborted the association (" + "; ".join(names) + ")"


__all__ = ["Association", "AssociationStats", "ChannelState", "State"]
