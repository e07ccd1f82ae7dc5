"""Data channels of an association: configuration, records, stream ids and DCEP
(RFC 8831, RFC 8832)."""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from enum import Enum

from . import dcep
from .errors import ChannelError, ParseError
from .events import ChannelClosed, ChannelOpened, Event
from .stats import AssociationStats

MAX_STREAMS = 65535


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """What a data channel is (RFC 8831 §6.4, RFC 8832 §5.1); `id` only for negotiated ones."""

    label: str = ""
    protocol: str = ""
    ordered: bool = True
    max_retransmits: int | None = None
    max_packet_lifetime: int | None = None
    priority: int = 256
    negotiated: bool = False
    id: int | None = None

    def check(self) -> None:
        """Raise ChannelError for settings no channel can have."""
        if self.max_retransmits is not None and self.max_packet_lifetime is not None:
            raise ChannelError("max_retransmits and max_packet_lifetime are exclusive")
        for v in (self.max_retransmits, self.max_packet_lifetime):
            if v is not None and not 0 <= v <= 0xFFFFFFFF:
                raise ChannelError("reliability parameter out of range")
        if not 0 <= self.priority <= 0xFFFF:
            raise ChannelError("priority out of range")

    def open_message(self) -> dcep.DataChannelOpen:
        """The DATA_CHANNEL_OPEN announcing this channel (RFC 8832 §5.1)."""
        return dcep.DataChannelOpen.for_channel(
            self.label,
            self.protocol,
            ordered=self.ordered,
            max_retransmits=self.max_retransmits,
            max_packet_lifetime=self.max_packet_lifetime,
            priority=self.priority,
        )

    @staticmethod
    def from_open(msg: dcep.DataChannelOpen) -> ChannelConfig:
        """The configuration a peer's DATA_CHANNEL_OPEN describes."""
        return ChannelConfig(
            msg.label,
            msg.protocol,
            msg.ordered,
            msg.max_retransmits,
            msg.max_packet_lifetime,
            msg.priority,
        )


class ChannelState(Enum):
    """Data channel life cycle inside the association."""

    OPENING = "opening"
    OPEN = "open"
    CLOSING = "closing"


class Channel:
    """One data channel: its configuration, state and send-side counters."""

    __slots__ = (
        "ack_received",
        "buffered",
        "config",
        "max_packet_lifetime",
        "max_retransmits",
        "ordered",
        "priority",
        "queued",
        "remote",
        "reset_in",
        "reset_out",
        "state",
        "stream_id",
    )

    def __init__(self, stream_id: int, config: ChannelConfig, remote: bool) -> None:
        self.stream_id = stream_id
        self.config = config
        # (copies of the fields the send path reads per message)
        self.ordered = config.ordered
        self.max_retransmits = config.max_retransmits
        self.max_packet_lifetime = config.max_packet_lifetime
        self.priority = config.priority
        self.remote = remote
        self.state = ChannelState.OPENING
        self.ack_received = config.negotiated or remote
        self.buffered = 0  # bytes not yet handed to datagrams_to_send()
        self.queued = 0  # messages not yet fully assigned TSNs
        self.reset_out = False
        self.reset_in = False

    def opened_event(self) -> ChannelOpened:
        c = self.config
        return ChannelOpened(
            self.stream_id,
            c.label,
            c.protocol,
            c.ordered,
            c.max_retransmits,
            c.max_packet_lifetime,
            c.priority,
            c.negotiated,
            self.remote,
        )


class Channels:
    """The channels by stream id, our stream id allocation and DCEP (RFC 8832 §6)."""

    __slots__ = ("_events", "_free", "_free_set", "_next", "_stats", "by_id")

    def __init__(self, is_client: bool, events: deque[Event], stats: AssociationStats) -> None:
        self.by_id: dict[int, Channel] = {}
        self._events = events
        self._stats = stats
        # Our stream ids (RFC 8832 §6: the DTLS client uses even ids, the server odd): every id
        # below _next was handed out or found taken; released ones wait in a heap (+ its set)
        # so the lowest is reused first, and opening a channel costs O(log n).
        self._next = 0 if is_client else 1
        self._free: list[int] = []
        self._free_set: set[int] = set()

    def free_stream_id(self, limit: int, reserved: set[int]) -> int:
        """The lowest stream id of our parity below `limit` not in use nor in `reserved`."""
        by_id = self.by_id
        free, free_set = self._free, self._free_set
        while free and free[0] < limit:
            sid = heapq.heappop(free)
            free_set.discard(sid)
            if sid not in by_id and sid not in reserved:
                return sid  # else taken again meanwhile (negotiated): its release re-adds it
        while self._next < limit:
            sid = self._next
            self._next += 2
            if sid not in by_id and sid not in reserved:
                return sid
        raise ChannelError("no free stream id")

    def forget(self, sid: int) -> None:
        """Drop channel `sid`; an id of our parity becomes free for `free_stream_id`."""
        del self.by_id[sid]
        if sid < self._next and sid & 1 == self._next & 1 and sid not in self._free_set:
            self._free_set.add(sid)
            heapq.heappush(self._free, sid)

    def on_dcep(self, sid: int, data: bytes) -> Channel | None:
        """A DCEP message on `sid` (RFC 8832 §6). Returns the channel a DATA_CHANNEL_OPEN
        created (its DATA_CHANNEL_ACK is due), else None."""
        try:
            msg = dcep.decode_dcep(data)
        except ParseError:
            self._stats.dcep_errors += 1
            return None
        ch = self.by_id.get(sid)
        if isinstance(msg, dcep.DataChannelOpen):
            if ch is not None:
                # RFC 8832 §6: an OPEN for a stream already in use is an error: ignore it.
                # (A peer using the wrong stream-id parity is tolerated while the id is free.)
                self._stats.dcep_errors += 1
                return None
            ch = Channel(sid, ChannelConfig.from_open(msg), True)
            ch.state = ChannelState.OPEN
            self.by_id[sid] = ch
            self._events.append(ch.opened_event())
            return ch
        if ch is None or ch.remote or ch.config.negotiated or ch.ack_received:
            self._stats.dcep_errors += 1
            return None
        self.acknowledged(ch)
        return None

    def acknowledged(self, ch: Channel) -> None:
        """The peer accepted our channel: DATA_CHANNEL_ACK, or user data on it (RFC 8832 §6)."""
        ch.ack_received = True
        if ch.state is ChannelState.OPENING:
            ch.state = ChannelState.OPEN
            self._events.append(ch.opened_event())

    def maybe_closed(self, ch: Channel) -> None:
        """Both directions of the stream were reset (RFC 8831 §6.7): the channel is gone."""
        if ch.reset_in and ch.reset_out and self.by_id.get(ch.stream_id) is ch:
            self.forget(ch.stream_id)
            self._events.append(ChannelClosed(ch.stream_id))
