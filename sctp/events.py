"""Events produced by `sctp.Association.next_event()`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .channels import ChannelConfig


@dataclass(frozen=True, slots=True)
class AssociationEstablished:
    """The four-way handshake completed (RFC 9260 §5.1)."""


@dataclass(frozen=True, slots=True)
class ChannelOpened:
    """A data channel is usable: ours after DATA_CHANNEL_ACK, theirs on DATA_CHANNEL_OPEN."""

    stream_id: int
    label: str
    protocol: str
    ordered: bool
    max_retransmits: int | None
    max_packet_lifetime: int | None
    priority: int
    negotiated: bool
    remote: bool

    @property
    def config(self) -> ChannelConfig:
        """The channel's settings as one value."""
        from .channels import ChannelConfig

        return ChannelConfig(
            self.label,
            self.protocol,
            self.ordered,
            self.max_retransmits,
            self.max_packet_lifetime,
            self.priority,
            self.negotiated,
            self.stream_id if self.negotiated else None,
        )


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A complete user message arrived on `stream_id`."""

    stream_id: int
    data: bytes
    binary: bool


@dataclass(frozen=True, slots=True)
class ChannelClosed:
    """Both directions of the stream were reset (RFC 8831 §6.7)."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class AssociationClosed:
    """The association ended: `error` is None after a graceful SHUTDOWN."""

    error: str | None


@dataclass(frozen=True, slots=True)
class PathMtuChanged:
    """The largest SCTP packet sent to the peer changed (RFC 8899 PLPMTUD, when enabled)."""

    size: int


Event = (
    AssociationEstablished
    | ChannelOpened
    | MessageReceived
    | ChannelClosed
    | AssociationClosed
    | PathMtuChanged
)
