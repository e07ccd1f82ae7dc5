"""The receiving side of an association: TSN tracking and SACKs (RFC 9260 §6.2, §6.7),
reassembly and stream ordering (§6.5, §6.9), delivery of messages (RFC 8831 §6.6), FORWARD TSN
(RFC 3758 §3.6), incoming stream resets (RFC 6525 §5.2.2) and the receive window.

TSNs are unwrapped integers; serial arithmetic (RFC 1982) only where a wire TSN comes in.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from . import dcep
from .channels import Channel, Channels
from .chunks import (
    CHECKSUM,
    CHUNK_HEADER,
    FLAG_BEGIN,
    FLAG_END,
    FLAG_IMMEDIATE,
    FLAG_UNORDERED,
    U32,
    CauseCode,
    ChunkType,
    ForwardTsnChunk,
    SackChunk,
    compute_checksum,
    encode_tlv,
    encode_tlv_chunk,
)
from .events import Event, MessageReceived
from .packet import PacketWriter
from .stats import AssociationStats
from .timers import Timers

if TYPE_CHECKING:
    from .tx import Sender

SACK_DELAY = 0.2  # RFC 9260 §16 SACK.Delay
MAX_TSN_AHEAD = 1 << 16  # receiver never tracks TSNs further ahead than this
MAX_OUT_OF_ORDER = 1 << 14  # nor more than this many TSNs above the cumulative TSN
MAX_DUPS_REPORTED = 32
MAX_GAPS_REPORTED = 128
# A received message or fragment held for the application or for reassembly counts against the
# receive window as at least this many bytes (its event or queue entry costs memory even when
# the message is empty), so what a peer can make us hold stays proportional to the window.
RECEIVE_MIN_CHARGE = 128

_TSN_MOD = 1 << 32
_HALF = 1 << 31
_PPID_BINARY = dcep.PPID_BINARY
_USER_PPIDS = (dcep.PPID_BINARY, dcep.PPID_STRING)
# common header (checksum as raw bytes) and the first chunk's header (RFC 9260 §3.1, §3.2)
_HEADER_CHUNK = struct.Struct("!HHI4sBBH")
_ZERO4 = b"\x00\x00\x00\x00"
_CHUNK_HEADER_UNPACK = CHUNK_HEADER.unpack_from
_DATA_CHUNK = struct.Struct("!BBHIHHI")  # chunk header and DATA fields (RFC 9260 §3.3.1)
_DATA_FIELDS = struct.Struct("!IHHI")  # TSN, stream id, SSN, PPID (RFC 9260 §3.3.1)
_SACK_FIELDS = struct.Struct("!IIHH")  # cumulative TSN ack, a_rwnd, #gaps, #dups (§3.3.4)
_SACK_COUNTS = struct.Struct("!HH")
_GAP = struct.Struct("!HH")
_SACK_PLAIN = struct.Struct("!BBHIIHH")  # a SACK without gap blocks or duplicates

# A frozen slots dataclass's __init__ sets each field through object.__setattr__; filling the
# slots through their descriptors makes the same object at a third of the cost. Fails at
# import if the fields change.
_new_event = object.__new__
_set_sid = vars(MessageReceived)["stream_id"].__set__
_set_data = vars(MessageReceived)["data"].__set__
_set_binary = vars(MessageReceived)["binary"].__set__
if MessageReceived.__slots__ != ("stream_id", "data", "binary"):
    raise ImportError("sctp.events.MessageReceived fields changed: update _set_* here")


def message_event(stream_id: int, data: bytes, binary: bool) -> MessageReceived:
    """MessageReceived(stream_id, data, binary), its slots filled directly."""
    ev = _new_event(MessageReceived)
    _set_sid(ev, stream_id)
    _set_data(ev, data)
    _set_binary(ev, binary)
    return ev


def _sack_lists(
    packet: bytes, off: int, ngaps: int, ndups: int
) -> tuple[Sequence[tuple[int, int]], Sequence[int]]:
    """The gap blocks and duplicate TSNs of the SACK chunk at `off` (RFC 9260 §3.3.4)."""
    gaps: Sequence[tuple[int, int]] = ()
    if ngaps:
        gaps = [_GAP.unpack_from(packet, off + 16 + 4 * i) for i in range(ngaps)]
    dups: Sequence[int] = ()
    if ndups:
        base = off + 16 + 4 * ngaps
        dups = [U32.unpack_from(packet, base + 4 * i)[0] for i in range(ndups)]
    return gaps, dups


def rx_charge(n: int) -> int:
    """What `n` bytes of received user data count against the receive window."""
    return n if n > RECEIVE_MIN_CHARGE else RECEIVE_MIN_CHARGE


def error_chunk(*causes: bytes) -> bytes:
    """An ERROR chunk around already-encoded error causes (RFC 9260 §3.3.10)."""
    return encode_tlv_chunk(ChunkType.ERROR, 0, b"", list(causes))


class Receiver:
    """TSN tracking, SACK generation, reassembly, ordering and delivery.

    `cum` is the cumulative TSN (unwrapped), `above` the TSNs received above it. `held` counts
    what reassembly and ordering queues hold, `event_bytes` the MessageReceived events not yet
    taken by the application (both with `rx_charge`); together they bound the receive window.
    `data_state` / `established` mirror the association's state (set where it changes)."""

    __slots__ = (
        "_abort",
        "_after_packet",
        "_channels",
        "_events",
        "_general",
        "_new_channel",
        "_stats",
        "_timers",
        "_tx",
        "_writer",
        "above",
        "accept_zero_checksum",
        "by_id",
        "cum",
        "data_packets_unacked",
        "data_state",
        "dups",
        "established",
        "event_bytes",
        "frags",
        "gap_cum",
        "gap_full",
        "gap_new",
        "gap_top",
        "gaps",
        "held",
        "in_pending",
        "in_ssn",
        "inbound_streams",
        "last_a_rwnd",
        "local_port",
        "local_tag",
        "max",
        "max_message_size",
        "partial",
        "remote_port",
        "rwnd_low",
        "rwnd_max",
        "sack_burst",
        "sack_due",
        "sack_immediate",
    )

    def __init__(
        self,
        *,
        receive_window: int,
        local_tag: int,
        local_port: int,
        remote_port: int,
        accept_zero_checksum: bool,
        max_message_size: int,
        channels: Channels,
        events: deque[Event],
        stats: AssociationStats,
        timers: Timers,
        writer: PacketWriter,
        abort: Callable[[str, int], None],
        after_packet: Callable[[bool, float], None],
        new_channel: Callable[[Channel], None],
        general: Callable[[bytes, float], None],
    ) -> None:
        self._channels = channels
        self.by_id = channels.by_id
        self._events = events
        self._stats = stats
        self._timers = timers
        self._writer = writer
        self._abort = abort  # (reason, cause): the peer misbehaved (RFC 9260 §9.1)
        self._after_packet = after_packet  # association bookkeeping after a DATA packet
        self._new_channel = new_channel  # a DATA_CHANNEL_OPEN created a channel: ACK due
        self._general = general  # the association's chunk-object path for any other packet
        self._tx: Sender | None = None
        self.local_tag = local_tag
        self.local_port = local_port
        self.remote_port = remote_port
        self.accept_zero_checksum = accept_zero_checksum
        self.max_message_size = max_message_size
        self.data_state = False
        self.established = False
        self.inbound_streams = 65535
        self.rwnd_max = receive_window
        self.rwnd_low = receive_window // 4  # a_rwnd below this: window update on drain
        self.last_a_rwnd = receive_window
        self.cum = 0
        self.max = 0  # highest TSN received
        self.above: set[int] = set()
        # gap blocks of the last SACK, extended in place while only TSNs above `gap_top` arrive
        self.gaps: list[tuple[int, int]] = []
        self.gap_cum = -1  # cumulative TSN the cached blocks are relative to (-1: invalid)
        self.gap_top = 0
        self.gap_full = False  # the cached list hit its size limit
        self.gap_new: list[int] = []
        self.dups: list[int] = []
        self.sack_due = False
        self.sack_immediate = False
        self.data_packets_unacked = 0
        self.sack_burst = False  # a SACK went out mid-batch since the last drain
        # fragments awaiting reassembly; user data may be a view into the received packet
        self.frags: dict[int, tuple[int, int, int, int, bytes | memoryview]] = {}
        self.in_ssn: dict[int, int] = {}
        self.in_pending: dict[int, dict[int, tuple[int, bytes]]] = {}
        self.held = 0
        self.event_bytes = 0
        self.partial: dict[int, bytes] = {}  # deprecated partial PPIDs 52/54

    def attach(self, tx: Sender) -> None:
        self._tx = tx

    def start(self, peer_tsn: int, inbound_streams: int) -> None:
        """The peer's initial TSN and our inbound stream count are known (RFC 9260 §5.1)."""
        self.cum = peer_tsn - 1 + _TSN_MOD
        self.max = self.cum
        self.inbound_streams = inbound_streams

    def clear(self) -> None:
        """The association ended: release everything held."""
        self.frags.clear()
        self.in_pending.clear()
        self.above.clear()
        self.partial.clear()
        self.held = 0

    def hard_limit(self) -> int:
        """What reassembly may hold before the association is aborted (out of resource)."""
        return 2 * self.rwnd_max + 2 * (self.max_message_size or (1 << 24)) + 65536

    # ------------------------------------------------------------------ packets of DATA/SACK

    def count_zero_checksum(self, packet: bytes, rx: bool) -> None:
        """Count `packet` if its zero checksum is accepted (RFC 9653 §5.4), unless receive()
        counted it before handing it on (`rx`)."""
        if not self.accept_zero_checksum or packet[8:12] != _ZERO4:
            return
        if rx and len(packet) >= 16 and type(packet) is bytes and self.data_state:
            src, dst, vtag = _HEADER_CHUNK.unpack_from(packet)[:3]
            if vtag == self.local_tag and dst == self.local_port and src == self.remote_port:
                return  # receive() counted it
        self._stats.zero_checksum_received += 1

    def receive(self, packet: bytes, now: float) -> None:
        """Association.receive (bound to it): a packet holding only DATA and SACK chunks while
        DATA is accepted is parsed here in place (no chunk objects; SACKs go to the sender);
        anything else goes, unchanged, to the association's chunk dispatch (`general`)."""
        self._tx.now = now  # type: ignore[union-attr]
        self._stats.packets_received += 1
        n = len(packet)
        if n < 16 or type(packet) is not bytes or not self.data_state:
            self._general(packet, now)
            return
        src, dst, vtag, checksum, ctype, flags, length = _HEADER_CHUNK.unpack_from(packet)
        if vtag != self.local_tag or dst != self.local_port or src != self.remote_port:
            self._general(packet, now)
            return
        if checksum == _ZERO4 and self.accept_zero_checksum:
            self._stats.zero_checksum_received += 1  # RFC 9653 §5.4
        elif CHECKSUM.unpack(checksum)[0] != compute_checksum(packet):
            self._general(packet, now)  # (counted by the general path)
            return
        unpack_hdr = _CHUNK_HEADER_UNPACK
        off = 0  # of the only DATA chunk, if that is all that is left to process
        if length >= 16 and 0 <= n - 12 - length <= (-length & 3):
            # one chunk (the common case): DATA or SACK
            if ctype == 0:
                off = 12
        elif ctype == 3 and length == 16 and n >= 44:
            # a plain SACK and one DATA chunk (the ping-pong case), without the bookkeeping of
            # the loop below
            ctype2, flags2, length2 = unpack_hdr(packet, 28)
            if ctype2 == 0 and length2 >= 16 and 0 <= n - 28 - length2 <= (-length2 & 3):
                cum, a_rwnd, ngaps, ndups = _SACK_FIELDS.unpack_from(packet, 16)
                if not ngaps and not ndups:
                    self._tx.on_sack(cum, a_rwnd, (), now, ())  # type: ignore[union-attr]
                    if not self.data_state:
                        return
                    off = 28
                    flags = flags2
                    length = length2
        if off:
            if self.sack_immediate and self.sack_due:
                self._writer.emit([self.sack_chunk()])
                self.sack_burst = True
            tsn, sid, ssn, ppid = _DATA_FIELDS.unpack_from(packet, off + 4)
            size = length - 16
            cum = self.cum
            # an in-order whole user message (as in the loop below)
            if (
                flags == 3
                and size > 0
                and not self.above
                and (tsn - cum) & 0xFFFFFFFF == 1
                and ppid in _USER_PPIDS
                and self.held
                + self.event_bytes
                + (size if size > RECEIVE_MIN_CHARGE else RECEIVE_MIN_CHARGE)
                <= self.rwnd_max
                and ssn == self.in_ssn.get(sid, 0)
                and sid not in self.in_pending
                and sid not in self.partial
                and sid < self.inbound_streams
                and (ch := self.by_id.get(sid)) is not None
                and ch.ack_received
            ):
                self.sack_due = True
                cum += 1
                self.cum = cum
                if cum > self.max:
                    self.max = cum
                self.in_ssn[sid] = (ssn + 1) & 0xFFFF
                stats = self._stats
                stats.data_chunks_received += 1
                stats.messages_received += 1
                self.event_bytes += size if size > RECEIVE_MIN_CHARGE else RECEIVE_MIN_CHARGE
                ev = message_event(sid, packet[off + 16 : off + length], ppid == _PPID_BINARY)
                self._events.append(ev)
                ok = True
            else:
                ok = self.on_data(flags, tsn, sid, ssn, ppid, packet[off + 16 : off + length])
            if ok:
                if self.established:
                    # the association's after-packet bookkeeping for the common state
                    self.data_packets_unacked += 1
                    if self.data_packets_unacked >= 2:
                        self.sack_immediate = True  # RFC 9260 §6.2
                    elif self._timers.sack is None and self.sack_due:
                        self._timers.sack = now + SACK_DELAY
                else:
                    self._after_packet(True, now)
            return
        if length >= 16 and 0 <= n - 12 - length <= (-length & 3):
            if ctype == 3:
                cum, a_rwnd, ngaps, ndups = _SACK_FIELDS.unpack_from(packet, 16)
                if length < 16 + 4 * (ngaps + ndups):
                    self._general(packet, now)
                    return
                if ngaps or ndups:
                    gaps, dups = _sack_lists(packet, 12, ngaps, ndups)
                    self._tx.on_sack(cum, a_rwnd, gaps, now, dups)  # type: ignore[union-attr]
                else:
                    self._tx.on_sack(cum, a_rwnd, (), now, ())  # type: ignore[union-attr]
                if not self.established:
                    self._after_packet(False, now)
                return
            self._general(packet, now)
            return
        # validate every chunk header first, exactly as decode_chunks would (RFC 9260 §3.2)
        items: list[int] = []  # chunk offsets
        off = 12
        while off < n:
            if n - off < 16:  # (shorter than any DATA or SACK chunk)
                self._general(packet, now)
                return
            ctype, flags, length = unpack_hdr(packet, off)
            if length < 16 or off + length > n:
                self._general(packet, now)
                return
            if ctype == 3:
                ngaps, ndups = _SACK_COUNTS.unpack_from(packet, off + 12)
                if length < 16 + 4 * (ngaps + ndups):
                    self._general(packet, now)
                    return
            elif ctype != 0:
                self._general(packet, now)
                return
            items.append(off)
            off += length + (-length & 3)
        # RFC 9260 §6.2 DATA / §6.2.1 SACK processing, in chunk order
        had_data = False
        unpack_chunk = _DATA_CHUNK.unpack_from
        view = memoryview(packet)
        in_ssn, in_pending, partial = self.in_ssn, self.in_pending, self.partial
        channels, events = self.by_id, self._events
        inbound = self.inbound_streams
        # What the in-order path below reads and writes lives in locals between calls of the
        # general path (which may change any of it: `_sync` writes it back first, `reload`
        # reads it again after); the per-stream checks are made once per run of chunks of one
        # stream (`ok_sid`).
        cum = ev_bytes = room = ok_sid = ninline = 0
        min_charge = RECEIVE_MIN_CHARGE
        no_gaps = False
        reload = True  # the locals need (re)loading before the next DATA chunk
        dirty = False  # a general-path call ran since the last state check
        for off in items:
            # the header and DATA fields at once (a SACK's other fields are not used)
            ctype, flags, length, tsn, sid, ssn, ppid = unpack_chunk(packet, off)
            if dirty:
                if not self.data_state:
                    return
                dirty = False
            if ctype == 0:
                if not had_data:
                    had_data = True
                    if self.sack_immediate and self.sack_due:  # (no in-order chunk yet)
                        self._writer.emit([self.sack_chunk()])
                        self.sack_burst = True
                if reload:
                    cum = self.cum
                    ev_bytes = self.event_bytes
                    room = self.rwnd_max - self.held
                    no_gaps = not self.above
                    ok_sid = -1
                    reload = False
                # the next TSN, no gaps, a whole ordered user message with the expected SSN on
                # an acknowledged channel, with room in the window; anything else: on_data
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
                    ev = message_event(sid, packet[off + 16 : off + length], ppid == _PPID_BINARY)
                    events.append(ev)
                    continue
                if ninline:
                    self._sync(cum, ev_bytes, ninline)
                    ninline = 0
                reload = dirty = True
                user_data = view[off + 16 : off + length]
                if not self.on_data(flags, tsn, sid, ssn, ppid, user_data):
                    return
            else:
                if ninline:
                    self._sync(cum, ev_bytes, ninline)
                    ninline = 0
                reload = dirty = True
                sack_cum, a_rwnd, ngaps, ndups = _SACK_FIELDS.unpack_from(packet, off + 4)
                gaps, dups = _sack_lists(packet, off, ngaps, ndups)
                self._tx.on_sack(sack_cum, a_rwnd, gaps, now, dups)  # type: ignore[union-attr]
        if ninline:
            self._sync(cum, ev_bytes, ninline)
        self._after_packet(had_data, now)
        return

    def _sync(self, cum: int, event_bytes: int, n: int) -> None:
        """Write back the state of `n` messages taken by the in-order path of receive()."""
        self.sack_due = True
        self.cum = cum
        if cum > self.max:
            self.max = cum
        self.event_bytes = event_bytes
        stats = self._stats
        stats.data_chunks_received += n
        stats.messages_received += n

    def flush_owed_sack(self) -> None:
        """RFC 9260 §6.2/§6.7: the SACK owed for earlier packets goes out before a new DATA
        packet is taken in (one SACK per 2 packets / per packet with gaps, even when the
        caller drains only after a whole batch)."""
        if self.sack_immediate and self.sack_due:
            self._writer.emit([self.sack_chunk()])
            self.sack_burst = True

    def after_data_packet(self, now: float) -> None:
        """RFC 9260 §6.2: SACK at least every second DATA packet, else within SACK.Delay."""
        self.data_packets_unacked += 1
        if self.data_packets_unacked >= 2:
            self.sack_immediate = True
        elif self._timers.sack is None and self.sack_due:
            self._timers.sack = now + SACK_DELAY

    # ------------------------------------------------------------------ DATA (general path)

    def on_data(
        self,
        flags: int,
        wire_tsn: int,
        sid: int,
        ssn: int,
        ppid: int,
        user_data: bytes | memoryview,
    ) -> bool:
        """RFC 9260 §6.2. Returns False if the association was aborted."""
        stats = self._stats
        stats.data_chunks_received += 1
        cum = self.cum
        size = len(user_data)
        if (
            flags & 3 != 3
            and (wire_tsn - cum) & 0xFFFFFFFF == 1
            and not self.above
            and size
            and sid < self.inbound_streams
            and self.held
            + self.event_bytes
            + (charge := size if size > RECEIVE_MIN_CHARGE else RECEIVE_MIN_CHARGE)
            <= self.rwnd_max
        ):
            # A fragment with the next TSN, no gaps, room in the window: what the checks below
            # conclude. Kept for reassembly (within the window, so below hard_limit); with no
            # TSN above it only an E fragment can complete a message (RFC 9260 §6.9).
            tsn = cum + 1
            self.cum = tsn
            if tsn > self.max:
                self.max = tsn
            self.sack_due = True
            if flags & FLAG_IMMEDIATE:
                self.sack_immediate = True  # RFC 7053
            if type(user_data) is memoryview and (
                size < 512 or len(user_data.obj) > 2 * size  # type: ignore[arg-type]
            ):
                user_data = bytes(user_data)  # a small fragment does not keep its packet alive
            self.frags[tsn] = (flags, sid, ssn, ppid, user_data)
            self.held += charge
            if flags & FLAG_END:
                return self._try_reassemble(tsn)
            return True
        if not user_data:
            # RFC 9260 §6.2: DATA without user data -> ABORT with No User Data
            self._abort("DATA chunk without user data", CauseCode.NO_USER_DATA)
            return False
        d = (wire_tsn - cum) & 0xFFFFFFFF
        if d >= _HALF:
            d -= _TSN_MOD
        tsn = cum + d
        self.sack_due = True
        if d <= 0 or tsn in self.above:
            stats.duplicate_tsns += 1
            if len(self.dups) < MAX_DUPS_REPORTED:
                self.dups.append(wire_tsn)
            self.sack_immediate = True
            return True
        if (d > MAX_TSN_AHEAD or (d > 1 and len(self.above) >= MAX_OUT_OF_ORDER)) or (
            tsn > self.max
            and self.held + self.event_bytes + rx_charge(size) > self.rwnd_max
            # the next in-sequence fragment of a message being reassembled is still taken,
            # so a message larger than the window can complete (bounded by hard_limit)
            and not (d == 1 and self.held > 0 and self.event_bytes <= self.rwnd_max)
        ):
            stats.data_chunks_dropped += 1  # RFC 9260 §6.2: no room, drop (not acked)
            self.sack_immediate = True
            return True
        if sid >= self.inbound_streams:
            # RFC 9260 §6.5: acknowledge, discard, report Invalid Stream Identifier
            stats.invalid_stream += 1
            self._accept_tsn(tsn, d)
            self._writer.ctrl.append(
                error_chunk(
                    encode_tlv(CauseCode.INVALID_STREAM_IDENTIFIER, struct.pack("!HH", sid, 0))
                )
            )
            return True
        if d == 1 and not self.above:
            self.cum = tsn  # in sequence, no gaps (the common case of _accept_tsn)
            if tsn > self.max:
                self.max = tsn
        else:
            self._accept_tsn(tsn, d)
        if flags & FLAG_IMMEDIATE:
            self.sack_immediate = True  # RFC 7053
        if flags & 3 == 3:
            self._on_message(sid, ssn, flags, ppid, bytes(user_data))
        else:
            obj = user_data.obj if type(user_data) is memoryview else None
            if obj is not None and (size < 512 or len(obj) > 2 * size):  # type: ignore[arg-type]
                # a small fragment does not keep its whole packet alive
                user_data = bytes(user_data)
            self.frags[tsn] = (flags, sid, ssn, ppid, user_data)  # joined on reassembly
            self.held += rx_charge(size)
            if self.held > self.hard_limit():
                self._abort("receive buffer exhausted", CauseCode.OUT_OF_RESOURCE)
                return False
            if not self._try_reassemble(tsn):
                return False
        return True

    def _accept_tsn(self, tsn: int, d: int) -> None:
        if d == 1:
            cum = tsn
            above = self.above
            if above:
                self.sack_immediate = True  # RFC 9260 §6.7: a gap was (partly) filled
                while cum + 1 in above:
                    cum += 1
                    above.discard(cum)
            self.cum = cum
        else:
            self.above.add(tsn)
            if tsn > self.gap_top:
                self.gap_new.append(tsn)
            else:
                self.gap_cum = -1
            self.sack_immediate = True  # RFC 9260 §6.7: gap -> SACK immediately
        if tsn > self.max:
            self.max = tsn

    def _try_reassemble(self, tsn: int) -> bool:
        """Deliver the message `tsn` belongs to if all its fragments are here (RFC 9260 §6.9).
        Returns False if the association was aborted."""
        frags = self.frags
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
        parts = []
        freed = 0
        for t in range(start, end + 1):
            part = frags.pop(t)[4]
            parts.append(part)
            n = len(part)
            freed += n if n > RECEIVE_MIN_CHARGE else RECEIVE_MIN_CHARGE  # rx_charge(n)
        data = b"".join(parts)
        self.held -= freed
        limit = self.max_message_size
        if limit and len(data) > limit:
            self._abort("message exceeds max-message-size", CauseCode.PROTOCOL_VIOLATION)
            return False
        self._on_message(sid, ssn, FLAG_UNORDERED if unordered else 0, ppid, data)
        return True

    def _on_message(self, sid: int, ssn: int, flags: int, ppid: int, data: bytes) -> None:
        """A whole message: deliver it in stream order (RFC 9260 §6.5, §6.6)."""
        if flags & FLAG_UNORDERED:
            self._deliver(sid, ppid, data)
            return
        expected = self.in_ssn.get(sid, 0)
        if ssn == expected:
            self._deliver(sid, ppid, data)
            expected = (expected + 1) & 0xFFFF
            pending = self.in_pending.get(sid)
            if pending:
                while expected in pending:
                    p, d = pending.pop(expected)
                    self.held -= rx_charge(len(d))
                    self._deliver(sid, p, d)
                    expected = (expected + 1) & 0xFFFF
                if not pending:
                    del self.in_pending[sid]
            self.in_ssn[sid] = expected
        elif (ssn - expected) & 0xFFFF < 0x8000:
            pending = self.in_pending.setdefault(sid, {})
            if ssn not in pending:
                pending[ssn] = (ppid, data)
                self.held += rx_charge(len(data))
        else:
            self._stats.data_chunks_dropped += 1  # stale SSN

    def _deliver(self, sid: int, ppid: int, data: bytes) -> None:
        """Hand a message to the application or to DCEP by its PPID (RFC 8831 §8)."""
        if ppid == dcep.PPID_DCEP:
            ch = self._channels.on_dcep(sid, data)
            if ch is not None:
                self._new_channel(ch)
            return
        if ppid == dcep.PPID_BINARY or ppid == dcep.PPID_STRING:
            prefix = self.partial.pop(sid, None)
            if prefix is not None:
                data = prefix + data
            binary = ppid == dcep.PPID_BINARY
        elif ppid == dcep.PPID_BINARY_EMPTY or ppid == dcep.PPID_STRING_EMPTY:
            data = b""  # RFC 8831 §6.6: the single byte is ignored
            binary = ppid == dcep.PPID_BINARY_EMPTY
        elif ppid == dcep.PPID_BINARY_PARTIAL or ppid == dcep.PPID_STRING_PARTIAL:
            prev = self.partial.get(sid, b"") + data
            if self.max_message_size and len(prev) > self.max_message_size:
                self.partial.pop(sid, None)
                self._stats.data_chunks_dropped += 1
            else:
                self.partial[sid] = prev
            return
        else:
            binary = True
        ch = self.by_id.get(sid)
        if ch is not None and not ch.ack_received:
            # user data on a channel we opened implies the peer accepted it (RFC 8832 §6)
            self._channels.acknowledged(ch)
        self._stats.messages_received += 1
        self.event_bytes += rx_charge(len(data))
        ev = message_event(sid, data, binary)
        self._events.append(ev)

    def next_event(self) -> Event | None:
        """Pop the next event; a taken message frees window (update sent once half is free)."""
        events = self._events
        if not events:
            return None
        ev = events.popleft()
        if type(ev) is MessageReceived:
            n = len(ev.data)
            self.event_bytes -= n if n > RECEIVE_MIN_CHARGE else RECEIVE_MIN_CHARGE
            if self.last_a_rwnd < self.rwnd_low and self.data_state:
                free = self.rwnd_max - self.held - self.event_bytes
                if free >= self.rwnd_max // 2:
                    # window update after the application drained (RFC 9260 §6.2)
                    self.sack_due = self.sack_immediate = True
        return ev

    # ------------------------------------------------------------------ FORWARD TSN

    def on_forward_tsn(self, chunk: ForwardTsnChunk) -> None:
        """RFC 3758 §3.6: move the cumulative TSN, drop skipped fragments, deliver."""
        self._stats.forward_tsn_received += 1
        self.sack_due = True
        self.sack_immediate = True
        cum = self.cum
        d = (chunk.new_cumulative_tsn - cum) & 0xFFFFFFFF
        if d >= _HALF or d == 0:
            return
        if d > MAX_TSN_AHEAD:
            self._stats.malformed += 1
            return
        new_cum = cum + d
        # a message straddling the old cumulative TSN was abandoned: drop its head fragments
        t = cum
        while t in self.frags:
            frag = self.frags.pop(t)
            self.held -= rx_charge(len(frag[4]))
            if frag[0] & FLAG_BEGIN:
                break
            t -= 1
        above = self.above
        frags = self.frags
        if d <= 64:
            for t in range(cum + 1, new_cum + 1):
                above.discard(t)
                skipped = frags.pop(t, None)
                if skipped is not None:
                    self.held -= rx_charge(len(skipped[4]))
        else:  # cost bounded by what we hold, not by how far the peer jumps
            above.difference_update([t for t in above if t <= new_cum])
            for t in [t for t in frags if t <= new_cum]:
                self.held -= rx_charge(len(frags.pop(t)[4]))
        while new_cum + 1 in above:
            new_cum += 1
            above.discard(new_cum)
        self.cum = new_cum
        if new_cum > self.max:
            self.max = new_cum
        for sid, ssn in chunk.streams:
            expected = self.in_ssn.get(sid, 0)
            if (ssn - expected) & 0xFFFF >= 0x8000:
                continue  # already past it
            pending = self.in_pending.get(sid, {})
            # deliver, in SSN order, what became deliverable up to the skipped SSN
            span = (ssn - expected) & 0xFFFF
            due = sorted(off for k in pending if (off := (k - expected) & 0xFFFF) <= span)
            for off in due:
                p, dd = pending.pop((expected + off) & 0xFFFF)
                self.held -= rx_charge(len(dd))
                self._deliver(sid, p, dd)
            expected = (ssn + 1) & 0xFFFF
            while expected in pending:
                p, dd = pending.pop(expected)
                self.held -= rx_charge(len(dd))
                self._deliver(sid, p, dd)
                expected = (expected + 1) & 0xFFFF
            if sid in self.in_pending and not pending:
                del self.in_pending[sid]
            self.in_ssn[sid] = expected
            self.partial.pop(sid, None)

    # ------------------------------------------------------------------ stream reset

    def reset_streams(self, streams: Sequence[int]) -> None:
        """Incoming SSN reset (RFC 6525 §5.2.2): the streams start over at SSN 0."""
        for sid in streams:
            self.in_ssn.pop(sid, None)
            pending = self.in_pending.pop(sid, None)
            if pending:
                self.held -= sum(rx_charge(len(v[1])) for v in pending.values())
            self.partial.pop(sid, None)

    # ------------------------------------------------------------------ SACK

    def sack_chunk(self) -> bytes:
        """The SACK for what was received (RFC 9260 §3.3.4, §6.2); clears what it reports."""
        cum = self.cum
        if not self.above and not self.dups:
            # no gaps, no duplicates (the common case, all of the work below skipped)
            a_rwnd = self.rwnd_max - self.held - self.event_bytes
            if a_rwnd < 0:
                a_rwnd = 0
            self.last_a_rwnd = a_rwnd
            self.sack_due = self.sack_immediate = False
            self._timers.sack = None
            self.data_packets_unacked = 0
            return _SACK_PLAIN.pack(ChunkType.SACK, 0, 16, cum & 0xFFFFFFFF, a_rwnd, 0, 0)
        gaps: list[tuple[int, int]] = []
        max_gaps = min(MAX_GAPS_REPORTED, (self._writer.chunk_budget - 16) // 4)
        if self.above and self.gap_cum == cum:
            # same cumulative TSN: only TSNs above the cached blocks arrived since (cheap)
            gaps = self.gaps
            new = self.gap_new
            if new:
                new.sort()
                for t in new:
                    off = t - cum
                    if self.gap_full or off > 0xFFFF:
                        self.gap_full = True
                        break
                    if gaps and off == gaps[-1][1] + 1:
                        gaps[-1] = (gaps[-1][0], off)
                    elif len(gaps) >= max_gaps:
                        self.gap_full = True
                        break
                    else:
                        gaps.append((off, off))
                self.gap_top = new[-1]
                new.clear()
        elif self.above:
            start = prev = -1
            full = False
            for t in sorted(self.above):
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
            self.gaps = gaps
            self.gap_cum = cum
            self.gap_top = max(self.above)
            self.gap_full = full
            self.gap_new.clear()
        a_rwnd = max(0, self.rwnd_max - self.held - self.event_bytes)
        self.last_a_rwnd = a_rwnd
        dups = self.dups
        room = (self._writer.chunk_budget - 16) // 4 - len(gaps)  # the SACK fits one packet
        if len(dups) > room:
            dups = dups[: max(room, 0)]
        self.dups = []
        self.sack_due = False
        self.sack_immediate = False
        self._timers.sack = None
        self.data_packets_unacked = 0
        if not gaps and not dups:
            return _SACK_PLAIN.pack(ChunkType.SACK, 0, 16, cum & 0xFFFFFFFF, a_rwnd, 0, 0)
        return SackChunk(cum & 0xFFFFFFFF, a_rwnd, gaps, dups).encode()
