"""Sans-I/O SCTP association (RFC 9260) with PR-SCTP (RFC 3758), stream reconfiguration
(RFC 6525), zero checksum (RFC 9653) and WebRTC data channels (RFC 8831, RFC 8832).

Takes and returns whole SCTP packets as bytes; the caller carries them over DTLS (RFC 8261).
This module is the control plane: the public API, the association state (changed only by
`_set_state`), verification tags, the chunk dispatch table, handshake, heartbeat, shutdown and
abort. The data plane lives in its parts: `rx` (Receiver), `tx` (Sender), `writer`
(PacketWriter); beside them `timers`, `handshake`, `heartbeat`, `reset` (RFC 6525), `pl`
(RFC 8899) and `channels`. docs/LAYERS.md ("sctp inside") maps them.
"""

from __future__ import annotations

import random
import struct
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Any

from . import dcep
from .channels import MAX_STREAMS, Channel, ChannelConfig, Channels, ChannelState
from .chunks import (
    AbortChunk,
    CauseCode,
    ChunkType,
    CookieAckChunk,
    CookieEchoChunk,
    DataChunk,
    ErrorChunk,
    ForwardTsnChunk,
    HeartbeatAckChunk,
    HeartbeatChunk,
    InitAckChunk,
    InitChunk,
    Packet,
    Param,
    ParamType,
    ReconfigChunk,
    SackChunk,
    ShutdownAckChunk,
    ShutdownChunk,
    ShutdownCompleteChunk,
    UnknownChunk,
    decode_packet,
    encode_tlv,
)
from .errors import ChannelError, ChecksumError, ParseError
from .events import AssociationClosed, AssociationEstablished, ChannelClosed, Event
from .handshake import (
    CAP_FORWARD_TSN,
    CAP_RECONFIG,
    CAP_ZERO_CHECKSUM,
    TSN_MOD,
    VALID_COOKIE_LIFE,
    Handshake,
    filter_params,
    peer_caps,
    stale_cookie_error,
)
from .heartbeat import Heartbeat
from .packet import PacketWriter
from .plpmtud import Plpmtud, PlpmtudState
from .reconfig import StreamReset
from .rx import Receiver, error_chunk
from .stats import AssociationStats
from .timers import ASSOCIATION_MAX_RETRANS, PathErrors, Rto, Timers
from .tx import DEFAULT_SEND_BUFFER, OutMessage, Sender

MAX_INIT_RETRANSMITS = 8  # RFC 9260 §16 Max.Init.Retransmits

PACKET_BUDGET = 1200  # default bytes per SCTP packet including the common header
DEFAULT_RWND = 1 << 20


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


# states in which DATA is received and SACKs sent (RFC 9260 §4, §9.2)
_DATA_STATES = frozenset(
    {State.ESTABLISHED, State.SHUTDOWN_PENDING, State.SHUTDOWN_SENT, State.SHUTDOWN_RECEIVED}
)
# states in which new DATA is transmitted
_TX_STATES = frozenset({State.ESTABLISHED, State.SHUTDOWN_PENDING, State.SHUTDOWN_RECEIVED})
# states in which the application may queue messages
_SEND_STATES = frozenset({State.CLOSED, State.COOKIE_WAIT, State.COOKIE_ECHOED, State.ESTABLISHED})
_HANDSHAKE_STATES = frozenset({State.CLOSED, State.COOKIE_WAIT, State.COOKIE_ECHOED})

# what a chunk handler tells the dispatch loop
_NEXT = 0  # go on with the next chunk
_HAD_DATA = 1  # go on; the packet carried DATA (or FORWARD TSN): SACK bookkeeping applies
_STOP = 2  # drop the rest of the packet, no after-packet bookkeeping
_BREAK = 3  # drop the rest of the packet (RFC 9260 §3.2 upper bits 00/01)


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
        if max_backoff is not None and max_backoff <= 0:
            raise ValueError("max_backoff must be positive")
        if failure_timeout is not None and failure_timeout <= 0:
            raise ValueError("failure_timeout must be positive")
        self.is_client = is_client
        self.local_port = local_port
        self.remote_port = remote_port
        self._max_message_size = max_message_size
        self._remote_mms: int | None = None
        self._rng = rng if rng is not None else random.SystemRandom()
        self._zero_checksum_local = zero_checksum
        self.rto_initial = rto_initial
        self.state = State.CLOSED
        self._closed_for_good = False
        self.stats = AssociationStats()
        self._events: deque[Event] = deque()
        self.timers = Timers()
        self.rto = Rto(rto_initial, rto_min, rto_max, max_backoff)
        self.errors = PathErrors(failure_timeout)
        self.writer = PacketWriter(local_port, remote_port, max_packet_size)
        self.handshake = Handshake(self._rng, receive_window, zero_checksum, rto_initial)
        self.channels = Channels(is_client, self._events, self.stats)
        self.pl = Plpmtud(
            self.writer.mtu,
            self.writer,
            self.timers,
            self.rto,
            self._rng,
            self._events,
            self.stats,
            self._apply_mtu,
        )
        self.tx = Sender(
            initial_tsn=self.handshake.local_tsn,
            max_send_buffer=max_send_buffer,
            send_max=self._send_limit(),
            by_id=self.channels.by_id,
            stats=self.stats,
            timers=self.timers,
            rto=self.rto,
            errors=self.errors,
            writer=self.writer,
            pl=self.pl,
            abort=self._abort_protocol,
            after_sack=self._maybe_shutdown,
        )
        self.rx = Receiver(
            receive_window=receive_window,
            local_tag=self.handshake.local_tag,
            local_port=local_port,
            remote_port=remote_port,
            accept_zero_checksum=zero_checksum,
            max_message_size=max_message_size,
            channels=self.channels,
            events=self._events,
            stats=self.stats,
            timers=self.timers,
            writer=self.writer,
            abort=self._abort_protocol,
            after_packet=self._after_packet,
            new_channel=self._on_remote_channel,
            general=self._receive_chunks,
        )
        self.rx.attach(self.tx)
        self.reset = StreamReset(
            self.handshake.local_tsn,
            self.channels,
            self.rx,
            self.tx,
            self.writer,
            self.timers,
            self.rto,
        )
        self._outbound_streams = MAX_STREAMS
        self.heartbeat = Heartbeat(self._rng, self.timers, self.rto, self.errors, self.writer)
        self._t2_count = 0
        self._packet_had_data = False  # a DATA chunk of the packet being processed was seen
        # the data plane's entry points, bound without a wrapper frame:
        # send(stream_id, data, *, binary=True): queue one user message (Sender.send)
        self.send = self.tx.send
        # next_event() -> Event | None: pop the next event (Receiver.next_event)
        self.next_event = self.rx.next_event
        # next_timeout() -> float | None: the earliest timer (Timers.next_timeout)
        self.next_timeout = self.timers.next_timeout
        # receive(packet, now): one SCTP packet (Receiver.receive; else _receive_chunks)
        self.receive: Callable[[bytes, float], None] = self.rx.receive
        self._set_state(State.CLOSED)

    # ------------------------------------------------------------------ state

    def _set_state(self, state: State) -> None:
        """The one place the state changes; the parts copy what their hot paths test."""
        self.state = state
        self.rx.data_state = state in _DATA_STATES
        self.rx.established = state is State.ESTABLISHED
        self.tx.can_send = state in _SEND_STATES and not self._closed_for_good
        self.tx.shutdown_pending = state is State.SHUTDOWN_PENDING

    # ------------------------------------------------------------------ public API

    def connect(self, now: float) -> None:
        """Send INIT (RFC 9260 §5.1). Both WebRTC ends do; collisions resolve per §5.2."""
        self.tx.now = now
        if self.state is not State.CLOSED or self.writer.tag or self._closed_for_good:
            return
        self._set_state(State.COOKIE_WAIT)
        self.handshake.t1_count = 0
        self.handshake.rto = self.rto_initial
        self._send_init(now)

    @property
    def idle(self) -> bool:
        """True when no DATA is in flight (a new message may go out at once, unbundled)."""
        tx = self.tx
        return tx.flight == 0 and tx.sent_head >= len(tx.sent)

    @property
    def plpmtu(self) -> int:
        """The current largest SCTP packet sent to the peer (PLPMTU, RFC 8899 §2)."""
        return self.writer.mtu

    @property
    def plpmtud_state(self) -> PlpmtudState:
        return self.pl.state

    def enable_plpmtud(self, max_packet_size: int) -> None:
        """Enable Datagram PLPMTUD (RFC 8899 §6.2) up to `max_packet_size` (MAX_PLPMTU).

        `max_packet_size` is the largest SCTP packet (incl. common header) the peer declared it
        accepts; the value of `set_max_packet_size()` is BASE_PLPMTU. Probing starts once the
        association is established; `PathMtuChanged` reports every change of `plpmtu`.
        Without this call no packet ever exceeds the `set_max_packet_size()` budget."""
        self.pl.enable(max_packet_size, self.state is State.ESTABLISHED, self.tx.now)

    @property
    def max_message_size(self) -> int:
        """The largest message we accept and send (0: no limit)."""
        return self._max_message_size

    @max_message_size.setter
    def max_message_size(self, n: int) -> None:
        self._max_message_size = n
        self.rx.max_message_size = n
        self.tx.send_max = self._send_limit()

    def set_remote_max_message_size(self, n: int) -> None:
        """Remote a=max-message-size (RFC 8841 §6); 0 means no limit."""
        self._remote_mms = n
        self.tx.send_max = self._send_limit()

    def set_max_packet_size(self, n: int) -> None:
        """Set the path MTU budget: the largest SCTP packet incl. common header (RFC 9260 §7.3).

        Callable at any time. Packets already built keep their size and DATA already
        fragmented keeps its TSNs (RFC 9260 §7.3); later packing and fragmentation use `n`."""
        if not 256 <= n <= 65535:
            raise ValueError("max_packet_size out of range")
        self.pl.set_base(n)
        if self.tx.next_tsn == self.handshake.local_tsn + TSN_MOD:
            # nothing sent yet: initial cwnd from the new MTU (RFC 9260 §7.2.1)
            self.tx.cwnd = min(4 * n, max(2 * n, 4380))

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
        return self.open(
            ChannelConfig(
                label,
                protocol,
                ordered,
                max_retransmits,
                max_packet_lifetime,
                priority,
                negotiated_id is not None,
                negotiated_id,
            )
        )

    def open(self, config: ChannelConfig) -> int:
        """Create the data channel `config` describes and return its stream id."""
        config.check()
        if config.negotiated != (config.id is not None):
            raise ChannelError("a negotiated channel is opened with its stream id")
        reserved = self.reset.wanted
        if config.id is not None:
            sid = config.id
            if not 0 <= sid < min(MAX_STREAMS, self._outbound_streams):
                raise ChannelError(f"stream id {sid} out of range")
            if sid in self.channels.by_id or sid in reserved:
                raise ChannelError(f"stream id {sid} in use")
        else:
            sid = self.channels.free_stream_id(min(MAX_STREAMS, self._outbound_streams), reserved)
        ch = Channel(sid, config, False)
        self.channels.by_id[sid] = ch
        if self.state in _DATA_STATES:
            self._start_channel(ch)
        return sid

    def close_channel(self, stream_id: int) -> None:
        """Close a channel by resetting its outgoing stream (RFC 8831 §6.7, RFC 6525 §5.1.2)."""
        ch = self.channels.by_id.get(stream_id)
        if ch is None or ch.state is ChannelState.CLOSING:
            return
        ch.state = ChannelState.CLOSING
        if self.state not in _DATA_STATES:
            # nothing reached the peer yet: drop queued messages and forget the channel
            self.tx.drop_stream(stream_id)
            self.channels.forget(stream_id)
            self._events.append(ChannelClosed(stream_id))
            return
        if not ch.reset_out:
            self.reset.wanted.add(stream_id)

    def buffered_amount(self, stream_id: int) -> int:
        """Bytes queued on the stream and not yet handed out by datagrams_to_send()."""
        ch = self.channels.by_id.get(stream_id)
        return ch.buffered if ch is not None else 0

    @property
    def send_buffer_used(self) -> int:
        """What the send buffer holds: payload plus a per-message cost (see `max_send_buffer`)."""
        return self.tx.queued_bytes

    @property
    def max_send_buffer(self) -> int:
        return self.tx.max_send_buffer

    @max_send_buffer.setter
    def max_send_buffer(self, n: int) -> None:
        self.tx.max_send_buffer = n

    @property
    def receive_buffer_used(self) -> int:
        """What reassembly and stream ordering hold (counted as the receive window counts)."""
        return self.rx.held

    @property
    def receive_buffer_limit(self) -> int:
        """Beyond this reassembly aborts the association (RFC 9260 §9.1, out of resource)."""
        return self.rx.hard_limit()

    def close(self) -> None:
        """Graceful SHUTDOWN once everything queued is acknowledged (RFC 9260 §9.2)."""
        if self.state is State.ESTABLISHED:
            self._set_state(State.SHUTDOWN_PENDING)
            self._maybe_shutdown()
        elif self.state in (State.COOKIE_WAIT, State.COOKIE_ECHOED):
            self.abort()

    def abort(self) -> None:
        """Send ABORT with a User-Initiated Abort cause (RFC 9260 §9.1)."""
        if self.state is State.CLOSED:
            return
        if self.writer.tag:
            self._send_abort(self.writer.tag, False, [(CauseCode.USER_INITIATED_ABORT, b"")])
        self._terminate("aborted locally")

    def receive_general(self, packet: bytes, now: float) -> None:
        """receive() through chunk objects only (the reference for the in-place parser)."""
        self.tx.now = now
        self.stats.packets_received += 1
        self._receive_chunks(packet, now, False)

    def _receive_chunks(self, packet: bytes, now: float, rx: bool = True) -> None:
        """A packet decoded into chunk objects, each to its handler (RFC 9260 §6.10, §8.5)."""
        self.rx.count_zero_checksum(packet, rx)
        try:
            pkt = decode_packet(packet, allow_zero_checksum=self._zero_checksum_local)
        except ParseError as exc:
            self.stats.undecodable(packet, isinstance(exc, ChecksumError))
            return
        if pkt.destination_port != self.local_port or pkt.source_port != self.remote_port:
            self.stats.malformed += 1
            return
        if not pkt.chunks:
            return
        if not self._check_vtag(pkt):
            self.stats.bad_vtag += 1
            return
        self._process_chunks(pkt, now)

    def handle_timeout(self, now: float) -> None:
        """Fire every timer due at `now`."""
        self.tx.now = now
        timers = self.timers
        if (first := timers.next_timeout()) is None or now < first:
            return  # nothing due (most calls: the peer connection tells the time every poll)
        for slot, expire in _TIMER_TABLE:
            t = getattr(timers, slot)
            if t is not None and now >= t:
                expire(self, now)

    def datagrams_to_send(self) -> list[bytes]:
        """Drain whole SCTP packets (each within `max_packet_size`) to hand to DTLS."""
        tx = self.tx
        rx = self.rx
        sched = tx.sched
        writer = self.writer
        if (
            not writer.ctrl
            and sched.current is None
            and not sched.active
            and not tx.rtx_heap
            and not rx.sack_immediate
            and (not rx.sack_due or (not rx.sack_burst and self.timers.sack is not None))
            and not tx.forward_tsn_due
            and not self.reset.wanted
            and self.state is State.ESTABLISHED
        ):
            # nothing to send (no SACK, or one held back by SACK.Delay, RFC 9260 §6.2): what
            # flush() would conclude, without the calls
            tx.cwnd_full = False
        else:
            self.flush(tx.now)
        rx.sack_burst = False
        out = writer.outbox
        writer.outbox = []
        self.stats.packets_sent += len(out)
        return out

    # ------------------------------------------------------------------ helpers

    def _apply_mtu(self, n: int) -> None:
        self.writer.set_mtu(n)
        self.rx.gap_cum = -1  # gap lists are bounded by the packet size: recompute

    def _send_limit(self) -> int:
        local = self._max_message_size or (1 << 30)
        if self._remote_mms:
            return min(local, self._remote_mms)
        return local

    def _start_channel(self, ch: Channel) -> None:
        """Association is up: send DCEP OPEN, or announce a negotiated channel."""
        if ch.stream_id >= self._outbound_streams:
            self.channels.forget(ch.stream_id)
            self._events.append(ChannelClosed(ch.stream_id))
            return
        if ch.config.negotiated:
            ch.state = ChannelState.OPEN
            self._events.append(ch.opened_event())
            return
        if ch.remote:
            return
        data = ch.config.open_message().encode()
        # queued messages on this channel must follow the OPEN: put it in front of them
        msg = OutMessage.make(ch.stream_id, dcep.PPID_DCEP, data, False, None, None, False)
        self.tx.enqueue(msg, ch, front=True)

    def _on_remote_channel(self, ch: Channel) -> None:
        """The peer opened `ch` (RFC 8832 §6): answer with DATA_CHANNEL_ACK."""
        ack = OutMessage.make(
            ch.stream_id, dcep.PPID_DCEP, dcep.ACK_BYTES, False, None, None, False
        )
        self.tx.enqueue(ack, ch)

    def _send_init(self, now: float) -> None:
        self.writer.send_alone(0, self.handshake.init.encode())
        self.timers.t1 = now + self.handshake.rto

    def _send_abort(self, vtag: int, t_bit: bool, causes: list[Param]) -> None:
        self.stats.aborts_sent += 1
        self.writer.send_alone(vtag, AbortChunk(t_bit, causes).encode())

    def _terminate(self, error: str | None) -> None:
        if self.state is State.CLOSED and self.writer.tag == 0 and error is None:
            return
        self._closed_for_good = True
        self._set_state(State.CLOSED)
        self.timers.stop_all()
        self.pl.stop()
        self.tx.clear()
        self.writer.ctrl.clear()
        self.rx.clear()
        self.writer.tag = 0
        self._events.append(AssociationClosed(error))

    def _abort_protocol(self, reason: str, cause: int = CauseCode.PROTOCOL_VIOLATION) -> None:
        """We abort the association because the peer misbehaved (RFC 9260 §9.1)."""
        if self.writer.tag:
            self._send_abort(self.writer.tag, False, [(cause, reason.encode()[:200])])
        self._terminate(reason)

    def _path_error(self, now: float) -> bool:
        """Count an unanswered retransmission or heartbeat (RFC 9260 §8.1-§8.2); True (after
        terminating) once the peer counts as unreachable."""
        if self.errors.record(now):
            self._terminate("peer unreachable (Association.Max.Retrans exceeded)")
            return True
        return False

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
        return vtag == self.handshake.local_tag

    def _tag_matches(self, t_bit: bool, vtag: int) -> bool:
        """RFC 9260 §8.5.1 (B)/(C): the tag an ABORT or SHUTDOWN COMPLETE must carry."""
        if t_bit:
            return self.writer.tag != 0 and vtag == self.writer.tag
        return vtag == self.handshake.local_tag

    # ------------------------------------------------------------------ chunk dispatch

    def _process_chunks(self, pkt: Packet, now: float) -> None:
        """Each chunk to its handler, if legal in the current state (RFC 9260 §6.10)."""
        if self._closed_for_good:
            self._out_of_the_blue(pkt)
            return
        had_data = self._packet_had_data = False
        for chunk in pkt.chunks:
            if self._closed_for_good:
                return
            handler, states = _DISPATCH.get(type(chunk), _UNKNOWN)
            if states is not None and self.state not in states:
                continue
            action = handler(self, pkt, chunk, now)
            if action == _HAD_DATA:
                had_data = True
            elif action == _STOP:
                return
            elif action == _BREAK:
                break
        self._after_packet(had_data, now)

    def _out_of_the_blue(self, pkt: Packet) -> None:
        """A packet with our tag after the association ended (RFC 9260 §8.4): a SHUTDOWN ACK
        (ours was lost) is answered with SHUTDOWN COMPLETE, T bit set (§8.4 item 5)."""
        if any(type(chunk) is ShutdownAckChunk for chunk in pkt.chunks):
            self.writer.send_alone(pkt.verification_tag, ShutdownCompleteChunk(True).encode())

    def _after_packet(self, had_data: bool, now: float) -> None:
        if had_data:
            self.rx.after_data_packet(now)
        if self.state is State.SHUTDOWN_RECEIVED:
            self._maybe_shutdown_ack(now)
        elif self.state is State.SHUTDOWN_PENDING:
            self._maybe_shutdown()

    def _chunk_data(self, pkt: Packet, chunk: DataChunk, now: float) -> int:
        rx = self.rx
        if not self._packet_had_data:
            self._packet_had_data = True
            rx.flush_owed_sack()
        ok = rx.on_data(
            chunk.flags, chunk.tsn, chunk.stream_id, chunk.ssn, chunk.ppid, chunk.user_data
        )
        return _HAD_DATA if ok else _STOP

    def _chunk_sack(self, pkt: Packet, chunk: SackChunk, now: float) -> int:
        self.tx.on_sack(chunk.cumulative_tsn, chunk.a_rwnd, chunk.gaps, now, chunk.duplicates)
        return _NEXT

    def _chunk_init(self, pkt: Packet, chunk: InitChunk, now: float) -> int:
        if chunk is not pkt.chunks[0]:
            self.stats.bad_vtag += 1  # §8.5.1 (A): INIT only alone, with tag 0
            return _STOP
        self._on_init(chunk, now)
        return _STOP

    def _chunk_init_ack(self, pkt: Packet, chunk: InitAckChunk, now: float) -> int:
        self._on_init_ack(chunk, now)
        return _STOP

    def _chunk_cookie_echo(self, pkt: Packet, chunk: CookieEchoChunk, now: float) -> int:
        return _NEXT if self._on_cookie_echo(pkt, chunk, now) else _STOP

    def _chunk_cookie_ack(self, pkt: Packet, chunk: CookieAckChunk, now: float) -> int:
        self.timers.t1 = None
        self._establish(now)
        return _NEXT

    def _chunk_forward_tsn(self, pkt: Packet, chunk: ForwardTsnChunk, now: float) -> int:
        self._packet_had_data = True
        self.rx.on_forward_tsn(chunk)
        return _HAD_DATA

    def _chunk_reconfig(self, pkt: Packet, chunk: ReconfigChunk, now: float) -> int:
        self.reset.on_chunk(chunk, now)
        return _NEXT

    def _chunk_heartbeat(self, pkt: Packet, chunk: HeartbeatChunk, now: float) -> int:
        if self.writer.tag:
            self.writer.ctrl.append(HeartbeatAckChunk(chunk.params).encode())  # RFC 9260 §8.3
        return _NEXT

    def _chunk_heartbeat_ack(self, pkt: Packet, chunk: HeartbeatAckChunk, now: float) -> int:
        self._on_heartbeat_ack(chunk, now)
        return _NEXT

    def _chunk_abort(self, pkt: Packet, chunk: AbortChunk, now: float) -> int:
        if not self._tag_matches(chunk.t_bit, pkt.verification_tag):
            self.stats.bad_vtag += 1  # §8.5.1 (B), for an ABORT behind other chunks
            return _STOP
        self.stats.aborts_received += 1
        self._terminate(chunk.describe())
        return _STOP

    def _chunk_error(self, pkt: Packet, chunk: ErrorChunk, now: float) -> int:
        for code, _ in chunk.causes:
            if code == CauseCode.STALE_COOKIE and self.state is State.COOKIE_ECHOED:
                # RFC 9260 §5.2.6: start over with a new INIT
                self._set_state(State.COOKIE_WAIT)
                self.writer.tag = 0
                self.handshake.t1_count = 0
                self._send_init(now)
                break
        return _NEXT

    def _chunk_shutdown(self, pkt: Packet, chunk: ShutdownChunk, now: float) -> int:
        """RFC 9260 §9.2."""
        tx = self.tx
        # the SHUTDOWN's cumulative TSN acts like a SACK without gaps
        tx.on_sack(chunk.cumulative_tsn, tx.peer_rwnd + tx.flight, (), now)
        if self.state is State.SHUTDOWN_SENT:
            # §9.2: SHUTDOWN in SHUTDOWN-SENT -> send SHUTDOWN ACK
            self._set_state(State.SHUTDOWN_ACK_SENT)
            self._t2_count = 0
            self._send_shutdown_ack(now)
            return _NEXT
        if self.state in _DATA_STATES:
            self._set_state(State.SHUTDOWN_RECEIVED)
            self._maybe_shutdown_ack(now)
        return _NEXT

    def _chunk_shutdown_ack(self, pkt: Packet, chunk: ShutdownAckChunk, now: float) -> int:
        self.writer.send_alone(self.writer.tag, ShutdownCompleteChunk(False).encode())
        self._terminate(None)
        return _STOP

    def _chunk_shutdown_complete(
        self, pkt: Packet, chunk: ShutdownCompleteChunk, now: float
    ) -> int:
        if chunk is not pkt.chunks[0]:
            self.stats.bad_vtag += 1  # never bundled (§6.10); its tag rule is §8.5.1 (C)
            return _STOP
        if self.state is State.SHUTDOWN_ACK_SENT:
            self._terminate(None)
            return _STOP
        return _NEXT

    def _chunk_unknown(self, pkt: Packet, chunk: UnknownChunk, now: float) -> int:
        if chunk.chunk_type == ChunkType.PAD:
            return _NEXT  # RFC 4820 §3: padding only (PLPMTUD probes, RFC 8899 §6.2)
        self.stats.unknown_chunks += 1
        action = chunk.chunk_type >> 6  # RFC 9260 §3.2
        if action in (1, 3) and self.writer.tag and len(chunk.value) <= 512:
            # (a large unknown chunk is not echoed back: no amplification)
            cause = encode_tlv(CauseCode.UNRECOGNIZED_CHUNK_TYPE, chunk.encode())
            self.writer.ctrl.append(error_chunk(cause))
        return _BREAK if action in (0, 1) else _NEXT

    # ------------------------------------------------------------------ handshake

    def _on_init(self, init: InitChunk, now: float) -> None:
        if self._closed_for_good:
            return
        if init.initiate_tag == 0 or init.outbound_streams == 0 or init.inbound_streams == 0:
            # RFC 9260 §3.3.2: invalid mandatory parameter -> ABORT
            if init.initiate_tag:
                self._send_abort(
                    init.initiate_tag, False, [(CauseCode.INVALID_MANDATORY_PARAMETER, b"")]
                )
            self.stats.malformed += 1
            return
        if self.state is State.SHUTDOWN_ACK_SENT:
            return
        # RFC 9260 §5.2.1/§5.2.2: INIT ACK always carries our (single) tag and initial TSN
        ack = self.handshake.init_ack(init, now, self.rx.rwnd_max)
        self.writer.send_alone(init.initiate_tag, ack)

    def _on_init_ack(self, ack: InitAckChunk, now: float) -> None:
        if self.state is not State.COOKIE_WAIT:
            return  # RFC 9260 §5.2.3: discard
        cookie = ack.param(ParamType.STATE_COOKIE)
        if ack.initiate_tag == 0 or ack.outbound_streams == 0 or ack.inbound_streams == 0:
            if ack.initiate_tag:
                why = [(int(CauseCode.PROTOCOL_VIOLATION), b"invalid INIT ACK")]
                self._send_abort(ack.initiate_tag, False, why)
            self._terminate("invalid INIT ACK")
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
        _, unrecognized = filter_params(ack.params)
        self._adopt_peer(
            ack.initiate_tag,
            ack.initial_tsn,
            ack.a_rwnd,
            min(MAX_STREAMS, ack.inbound_streams),
            min(MAX_STREAMS, ack.outbound_streams),
            peer_caps(ack),
        )
        echo = CookieEchoChunk(cookie).encode()
        if unrecognized:
            causes = [encode_tlv(CauseCode.UNRECOGNIZED_PARAMETERS, p) for p in unrecognized]
            echo += error_chunk(*causes)
        self.handshake.cookie_echo = echo
        self._set_state(State.COOKIE_ECHOED)
        self.handshake.t1_count = 0
        self._send_cookie_echo(now)

    def _send_cookie_echo(self, now: float) -> None:
        echo = self.handshake.cookie_echo
        assert echo is not None
        self.writer.send_alone(self.writer.tag, echo)
        self.timers.t1 = now + self.handshake.rto

    def _on_cookie_echo(self, pkt: Packet, chunk: CookieEchoChunk, now: float) -> bool:
        """RFC 9260 §5.1 (D), §5.2.4. Returns whether to keep processing the packet."""
        fields = None if self._closed_for_good else self.handshake.open_cookie(chunk.cookie)
        if fields is None or pkt.verification_tag != self.handshake.local_tag:
            self.stats.cookies_rejected += 1
            return False
        if self.state not in _HANDSHAKE_STATES and fields.peer_tag == self.writer.tag:
            # §5.2.4 action D: duplicate COOKIE ECHO for this very association, re-acknowledge
            # (no lifespan check: nothing is created or changed)
            self.writer.ctrl.insert(0, CookieAckChunk().encode())
            return True
        if now - fields.time > VALID_COOKIE_LIFE:
            # RFC 9260 §5.1.5 / §3.3.10.3: Stale Cookie error with the staleness in µs
            self.stats.stale_cookies += 1
            self.writer.send_alone(fields.peer_tag, stale_cookie_error(now - fields.time))
            return False
        if self.state in _HANDSHAKE_STATES:
            # §5.2.4 action B/D while still handshaking: adopt the peer from the cookie
            self._adopt_peer(
                fields.peer_tag,
                fields.peer_tsn,
                fields.peer_rwnd,
                fields.outbound_streams,
                fields.inbound_streams,
                fields.caps,
            )
            self.timers.t1 = None
            self.writer.ctrl.insert(0, CookieAckChunk().encode())
            self._establish(now)
            return True
        # peer restart (§5.2.4 action A) is not supported: drop
        self.stats.cookies_rejected += 1
        return False

    def _adopt_peer(
        self, peer_tag: int, peer_tsn: int, peer_rwnd: int, os_: int, mis: int, caps: int
    ) -> None:
        self.writer.tag = peer_tag
        self._outbound_streams = os_
        self.rx.start(peer_tsn, mis)
        self.tx.start(peer_rwnd, bool(caps & CAP_FORWARD_TSN))
        self.reset.peer_reconfig = bool(caps & CAP_RECONFIG)
        self.reset.peer_seq = peer_tsn
        # RFC 9653 §5.2: zero checksum only when both sides advertised it
        self.writer.zero_checksum = self._zero_checksum_local and bool(caps & CAP_ZERO_CHECKSUM)

    def _establish(self, now: float) -> None:
        self._set_state(State.ESTABLISHED)
        self._events.append(AssociationEstablished())
        self.heartbeat.arm(now)
        if self.pl.max:
            self.pl.enter_base(now)
        for ch in list(self.channels.by_id.values()):
            self._start_channel(ch)

    # ------------------------------------------------------------------ timers

    def _on_t1(self, now: float) -> None:
        """INIT / COOKIE ECHO retransmission (RFC 9260 §5.1 (A), (C))."""
        self.timers.t1 = None
        if self.state is not State.COOKIE_WAIT and self.state is not State.COOKIE_ECHOED:
            return
        hs = self.handshake
        hs.t1_count += 1
        if hs.t1_count > MAX_INIT_RETRANSMITS:
            self._terminate("handshake timed out")
            return
        hs.rto = self.rto.backoff(hs.rto)
        if self.state is State.COOKIE_WAIT:
            self._send_init(now)
        else:
            self._send_cookie_echo(now)

    def _on_t3(self, now: float) -> None:
        """RFC 9260 §6.3.3 T3-rtx expiry."""
        self.timers.t3 = None
        if not self.tx.outstanding() or self.state not in _DATA_STATES:
            return
        self.stats.t3_expirations += 1
        if self._path_error(now):
            return  # RFC 9260 §8.2/§8.1: peer unreachable
        if self.state is State.ESTABLISHED:
            self.pl.on_t3(now, self.tx.cum_acked)  # RFC 8899 §4.3: maybe a black hole
        self.tx.on_t3_expiry(now)

    def _on_sack_timer(self, now: float) -> None:
        """SACK.Delay expired (RFC 9260 §6.2)."""
        self.timers.sack = None
        self.rx.sack_immediate = True

    def _on_reconfig_timer(self, now: float) -> None:
        self.timers.reconfig = None
        if self.reset.inflight is not None and self.state in _DATA_STATES:
            # RFC 6525 §5.1.1: an unanswered request counts like a T3-rtx expiry
            if self._path_error(now):
                return
            self.reset.resend(now)

    def _on_t2(self, now: float) -> None:
        """SHUTDOWN / SHUTDOWN ACK retransmission (RFC 9260 §9.2)."""
        self.timers.t2 = None
        self._t2_count += 1
        if self._t2_count > ASSOCIATION_MAX_RETRANS:
            self._terminate("shutdown timed out")
            return
        self.rto.value = self.rto.backoff(self.rto.value)
        if self.state is State.SHUTDOWN_SENT:
            self._send_shutdown(now)
        elif self.state is State.SHUTDOWN_ACK_SENT:
            self._send_shutdown_ack(now)

    def _on_pl_timer(self, now: float) -> None:
        self.pl.on_timer(now, self.state is State.ESTABLISHED)

    # ------------------------------------------------------------------ heartbeat

    def _on_heartbeat_timer(self, now: float) -> None:
        """RFC 9260 §8.3: probe an idle path."""
        self.timers.hb = None
        if self.state in _DATA_STATES:
            self.heartbeat.expire(now, self.tx.outstanding, self._path_error)

    def _on_heartbeat_ack(self, chunk: HeartbeatAckChunk, now: float) -> None:
        established = self.state is State.ESTABLISHED
        if self.pl.probes:
            for ptype, value in chunk.params:
                # (no reset of the error count: a probe answered while DATA is lost does not
                # make the association usable, RFC 9260 §8.1 stays in charge)
                if ptype == ParamType.HEARTBEAT_INFO and self.pl.on_heartbeat_ack(
                    value, now, established
                ):
                    return
        self.heartbeat.on_ack(chunk.params, now)

    # ------------------------------------------------------------------ shutdown

    def _maybe_shutdown(self) -> None:
        if self.state is State.SHUTDOWN_PENDING and self.tx.all_sent_and_acked():
            self._set_state(State.SHUTDOWN_SENT)
            self._t2_count = 0
            self._send_shutdown(self.tx.now)

    def _send_shutdown(self, now: float) -> None:
        self.writer.ctrl.append(ShutdownChunk(self.rx.cum & 0xFFFFFFFF).encode())
        self.timers.t2 = now + self.rto.value

    def _send_shutdown_ack(self, now: float) -> None:
        self.writer.send_alone(self.writer.tag, ShutdownAckChunk().encode())
        self.timers.t2 = now + self.rto.value

    def _maybe_shutdown_ack(self, now: float) -> None:
        if self.state is State.SHUTDOWN_RECEIVED and self.tx.all_sent_and_acked():
            self._set_state(State.SHUTDOWN_ACK_SENT)
            self._t2_count = 0
            self.timers.t3 = None
            self._send_shutdown_ack(now)

    # ------------------------------------------------------------------ transmission

    def flush(self, now: float) -> None:
        """Control chunks, a due SACK, FORWARD TSN and DATA into packets (RFC 9260 §6.10)."""
        writer = self.writer
        if self.state not in _DATA_STATES:
            if self.state is not State.SHUTDOWN_ACK_SENT:
                if writer.ctrl and writer.tag:
                    writer.emit_chunks(writer.ctrl)
                writer.ctrl = []
                return
        elif self.reset.wanted and self.reset.inflight is None:
            self.reset.maybe_send(now)
        rx = self.rx
        tx = self.tx
        chunks: list[bytes] = []
        if rx.sack_due and (
            rx.sack_immediate
            or rx.sack_burst  # the tail of a burst is not held back by SACK.Delay either
            or self.timers.sack is None
            or tx.sched.current is not None  # bool(tx.sched) without the __bool__ call
            or tx.sched.active
            or tx.rtx_heap
        ):
            # bundle a pending SACK with outgoing data (RFC 9260 §6.2)
            chunks.append(rx.sack_chunk())
        elif rx.sack_immediate:
            rx.sack_immediate = False
        if writer.ctrl:
            chunks.extend(writer.ctrl)
            writer.ctrl = []
        if tx.forward_tsn_due and tx.adv_peer_ack > tx.cum_acked:
            self.stats.forward_tsn_sent += 1
            chunks.append(tx.forward_tsn_chunk())
        tx.forward_tsn_due = False
        if self.state in _TX_STATES:
            tx.transmit(chunks, now)
        elif chunks:
            writer.emit_chunks(chunks)


# chunk type -> (handler, states in which it is processed; None: the handler decides)
_ANY_DATA_STATE = _DATA_STATES | {State.SHUTDOWN_ACK_SENT}
_Handler = Callable[[Association, Packet, Any, float], int]
_DISPATCH: dict[type, tuple[_Handler, frozenset[State] | None]] = {
    DataChunk: (Association._chunk_data, _ANY_DATA_STATE),
    SackChunk: (Association._chunk_sack, _ANY_DATA_STATE),
    InitChunk: (Association._chunk_init, None),
    InitAckChunk: (Association._chunk_init_ack, None),
    CookieEchoChunk: (Association._chunk_cookie_echo, None),
    CookieAckChunk: (Association._chunk_cookie_ack, frozenset({State.COOKIE_ECHOED})),
    ForwardTsnChunk: (Association._chunk_forward_tsn, _DATA_STATES),
    ReconfigChunk: (Association._chunk_reconfig, _DATA_STATES),
    HeartbeatChunk: (Association._chunk_heartbeat, None),
    HeartbeatAckChunk: (Association._chunk_heartbeat_ack, None),
    AbortChunk: (Association._chunk_abort, None),
    ErrorChunk: (Association._chunk_error, None),
    ShutdownChunk: (Association._chunk_shutdown, _DATA_STATES),
    ShutdownAckChunk: (
        Association._chunk_shutdown_ack,
        frozenset({State.SHUTDOWN_SENT, State.SHUTDOWN_ACK_SENT}),
    ),
    ShutdownCompleteChunk: (Association._chunk_shutdown_complete, None),
}
_UNKNOWN: tuple[_Handler, frozenset[State] | None] = (Association._chunk_unknown, None)

# timer slot -> expiry handler, in the order they fire when due together
_TIMER_TABLE: tuple[tuple[str, Callable[[Association, float], None]], ...] = (
    ("t1", Association._on_t1),
    ("t3", Association._on_t3),
    ("sack", Association._on_sack_timer),
    ("reconfig", Association._on_reconfig_timer),
    ("t2", Association._on_t2),
    ("hb", Association._on_heartbeat_timer),
    ("pl", Association._on_pl_timer),
)
