"""`WebRTCDataChannel`: Godot's PacketPeer over one SCTP stream (RFC 8831 / RFC 8832)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import sctp

from . import states as st
from .errors import Error
from .packet_peer import DEFAULT_ENCODE_BUFFER_MAX_SIZE, PacketPeer
from .states import ChannelState, WriteMode

if TYPE_CHECKING:
    from .peer_connection import WebRTCPeerConnection

# What one received message queued in a channel costs beyond its payload, counted against the
# peer connection's receive limit so that empty or tiny messages cannot queue without bound:
# the (data, binary) tuple, its deque slot and the bytes header.
RX_MESSAGE_OVERHEAD = 96
UNSET_RELIABILITY = 65535  # Godot reports 65535 for an unset maxRetransmits/maxPacketLifeTime


_BUFFERS = (bytes, bytearray, memoryview)


class ReceiveBudget:
    """What received messages queued in one peer connection's channels cost (payload +
    RX_MESSAGE_OVERHEAD each). The peer connection adds to it as it delivers and sets `blocked`
    when it stops draining SCTP at its limit; a channel subtracts as its messages are read and,
    if the peer connection was blocked, calls `unblock()`, which tells it to drain again."""

    __slots__ = ("_unblocked", "blocked", "queued")

    def __init__(self, unblocked: Callable[[], None]) -> None:
        self.queued = 0
        self.blocked = False
        self._unblocked = unblocked

    def unblock(self) -> None:
        self.blocked = False
        self._unblocked()


class WebRTCDataChannel(PacketPeer):
    """One data channel (a Godot `PacketPeer`). Created by
    `WebRTCPeerConnection.create_data_channel` or received."""

    ChannelState = ChannelState
    WriteMode = WriteMode
    STATE_CONNECTING = ChannelState.STATE_CONNECTING
    STATE_OPEN = ChannelState.STATE_OPEN
    STATE_CLOSING = ChannelState.STATE_CLOSING
    STATE_CLOSED = ChannelState.STATE_CLOSED
    WRITE_MODE_TEXT = WriteMode.WRITE_MODE_TEXT
    WRITE_MODE_BINARY = WriteMode.WRITE_MODE_BINARY

    def __init__(
        self,
        owner: WebRTCPeerConnection | None,
        config: sctp.ChannelConfig,
        *,
        stream_id: int | None = None,
        budget: ReceiveBudget | None = None,
    ) -> None:
        self._owner = owner
        self._budget = budget  # the owner's receive budget, charged for what _queue holds
        self._config = config
        # the SCTP stream id: a negotiated channel's own, an announced one's from the peer,
        # ours -1 until the DTLS role fixes its parity (RFC 8832 §6)
        if stream_id is None:
            stream_id = -1 if config.id is None else config.id
        self._id = stream_id
        self._state = ChannelState.STATE_CONNECTING
        self._write_mode = WriteMode.WRITE_MODE_BINARY
        self._queue: deque[tuple[bytes, bool]] = deque()
        self._rx_bytes = 0  # what _queue holds, as charged to the budget
        self._last_was_string = False
        self._packet_error = Error.OK
        self._encode_buffer_max_size = DEFAULT_ENCODE_BUFFER_MAX_SIZE

    @property
    def config(self) -> sctp.ChannelConfig:
        """What the channel is (label, protocol, reliability, ...), as SCTP opens it."""
        return self._config

    # -- PacketPeer ---------------------------------------------------------------------------

    def put_packet(self, data: bytes) -> Error:
        """Send one message: text (PPID 51/56) in WRITE_MODE_TEXT, else binary (PPID 53/57)."""
        if type(data) is not bytes and not isinstance(data, _BUFFERS):
            return Error.ERR_INVALID_PARAMETER
        if self._state is not ChannelState.STATE_OPEN or self._owner is None:
            return Error.ERR_UNAVAILABLE
        return self._owner._channel_send(
            self._id, bytes(data), self._write_mode is WriteMode.WRITE_MODE_BINARY
        )

    def get_packet(self) -> bytes:
        """The oldest received message (b"" and ERR_UNAVAILABLE from get_packet_error if none)."""
        if not self._queue:
            self._packet_error = Error.ERR_UNAVAILABLE
            return b""
        data, binary = self._queue.popleft()
        self._last_was_string = not binary
        self._packet_error = Error.OK
        if self._rx_bytes:
            budget = self._budget
            if budget is not None:
                n = min(len(data) + RX_MESSAGE_OVERHEAD, self._rx_bytes)
                self._rx_bytes -= n
                budget.queued -= n
                if budget.blocked:
                    budget.unblock()  # the owner's poll() drains SCTP again
        return data

    def get_available_packet_count(self) -> int:
        return len(self._queue)

    def get_packet_error(self) -> Error:
        return self._packet_error

    def _set_packet_error(self, err: Error) -> None:
        self._packet_error = err

    # -- WebRTCDataChannel --------------------------------------------------------------------

    def poll(self) -> Error:
        """Nothing to do: the owning peer connection's poll() moves this channel's data."""
        return Error.OK

    def close(self) -> None:
        """Close the channel (RFC 8831 §6.7: outgoing stream reset); STATE_CLOSING until done."""
        if self._state in (ChannelState.STATE_CLOSING, ChannelState.STATE_CLOSED):
            return
        if self._owner is None:
            self._state = ChannelState.STATE_CLOSED
        else:
            self._owner._channel_close(self)

    def was_string_packet(self) -> bool:
        return self._last_was_string

    def get_write_mode(self) -> st.WriteMode:
        return self._write_mode

    def set_write_mode(self, write_mode: int) -> None:
        try:
            self._write_mode = WriteMode(write_mode)
        except ValueError:
            return

    write_mode = property(get_write_mode, set_write_mode)

    def get_ready_state(self) -> st.ChannelState:
        return self._state

    def get_label(self) -> str:
        return self._config.label

    def get_protocol(self) -> str:
        return self._config.protocol

    def get_id(self) -> int:
        """The SCTP stream id; -1 until the DTLS role (hence the id parity) is known."""
        return self._id

    def is_ordered(self) -> bool:
        return self._config.ordered

    def is_negotiated(self) -> bool:
        return self._config.negotiated

    def get_max_retransmits(self) -> int:
        rtx = self._config.max_retransmits
        return UNSET_RELIABILITY if rtx is None else rtx

    def get_max_packet_life_time(self) -> int:
        lifetime = self._config.max_packet_lifetime
        return UNSET_RELIABILITY if lifetime is None else lifetime

    def get_buffered_amount(self) -> int:
        """Bytes queued locally and not yet sent."""
        if self._owner is None or self._id < 0 or self._state is ChannelState.STATE_CLOSED:
            return 0  # a closed channel's stream id may already belong to a new channel
        return self._owner._channel_buffered(self._id)

    def get_max_packet_size(self) -> int:
        """The largest message put_packet accepts: the smaller of our a=max-message-size and
        the peer's (RFC 8841 §6.1; 0 on a side = no limit there, 0 here = none on either)."""
        if self._owner is None:
            return 0
        return self._owner._max_message_size()

    # -- the owning peer connection's side (only it calls these) -------------------------------

    def _set_state(self, state: st.ChannelState) -> None:
        self._state = state

    def _assign_id(self, stream_id: int) -> None:
        """The SCTP stream id, once the DTLS role fixes its parity (RFC 8832 §6)."""
        self._id = stream_id

    def _deliver(self, data: bytes, binary: bool) -> int:
        """Queue a received message; return its cost, which the owner adds to the budget."""
        self._queue.append((data, binary))
        cost = len(data) + RX_MESSAGE_OVERHEAD
        self._rx_bytes += cost
        return cost

    def _release_receive_charge(self) -> int:
        """The channel closed: what it holds stays readable but is no longer charged to the
        budget; return the charge the owner takes off."""
        n, self._rx_bytes = self._rx_bytes, 0
        return n

    def __repr__(self) -> str:
        return (
            f"<WebRTCDataChannel {self._config.label!r} id={self._id} {self._state.name}"
            f" queued={len(self._queue)}>"
        )
