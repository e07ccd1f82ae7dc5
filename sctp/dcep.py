"""Data Channel Establishment Protocol messages (RFC 8832 §5) and WebRTC PPIDs (RFC 8831 §8)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from .errors import ParseError

OPEN_FIXED = struct.Struct("!BBHIHH")

PPID_DCEP = 50
PPID_STRING = 51
PPID_BINARY_PARTIAL = 52  # deprecated (RFC 8831 §8)
PPID_BINARY = 53
PPID_STRING_PARTIAL = 54  # deprecated (RFC 8831 §8)
PPID_STRING_EMPTY = 56
PPID_BINARY_EMPTY = 57

MSG_DATA_CHANNEL_ACK = 0x02
MSG_DATA_CHANNEL_OPEN = 0x03
ACK_BYTES = b"\x02"


class ChannelType(IntEnum):
    """DATA_CHANNEL_OPEN channel types (RFC 8832 §5.1)."""

    RELIABLE = 0x00
    RELIABLE_UNORDERED = 0x80
    PARTIAL_RELIABLE_REXMIT = 0x01
    PARTIAL_RELIABLE_REXMIT_UNORDERED = 0x81
    PARTIAL_RELIABLE_TIMED = 0x02
    PARTIAL_RELIABLE_TIMED_UNORDERED = 0x82


@dataclass(frozen=True, slots=True)
class DataChannelOpen:
    """DATA_CHANNEL_OPEN (RFC 8832 §5.1)."""

    channel_type: ChannelType
    priority: int
    reliability: int
    label: str
    protocol: str

    @property
    def ordered(self) -> bool:
        return not (self.channel_type & 0x80)

    @property
    def max_retransmits(self) -> int | None:
        return self.reliability if self.channel_type & 0x7F == 0x01 else None

    @property
    def max_packet_lifetime(self) -> int | None:
        return self.reliability if self.channel_type & 0x7F == 0x02 else None

    @classmethod
    def for_channel(
        cls,
        label: str,
        protocol: str,
        *,
        ordered: bool,
        max_retransmits: int | None,
        max_packet_lifetime: int | None,
        priority: int,
    ) -> DataChannelOpen:
        """Build the OPEN message describing a channel's reliability settings."""
        if max_retransmits is not None:
            base, rel = 0x01, max_retransmits
        elif max_packet_lifetime is not None:
            base, rel = 0x02, max_packet_lifetime
        else:
            base, rel = 0x00, 0
        return cls(ChannelType(base | (0 if ordered else 0x80)), priority, rel, label, protocol)

    def encode(self) -> bytes:
        label = self.label.encode("utf-8")
        protocol = self.protocol.encode("utf-8")
        return (
            OPEN_FIXED.pack(
                MSG_DATA_CHANNEL_OPEN,
                self.channel_type,
                self.priority & 0xFFFF,
                self.reliability & 0xFFFFFFFF,
                len(label),
                len(protocol),
            )
            + label
            + protocol
        )


@dataclass(frozen=True, slots=True)
class DataChannelAck:
    """DATA_CHANNEL_ACK (RFC 8832 §5.2)."""

    def encode(self) -> bytes:
        return ACK_BYTES


DcepMessage = DataChannelOpen | DataChannelAck

_CHANNEL_TYPES = {int(t): t for t in ChannelType}


def decode_dcep(data: bytes) -> DcepMessage:
    """Decode a PPID 50 payload; raises `sctp.ParseError` on anything malformed."""
    if not data:
        raise ParseError("empty DCEP message")
    mtype = data[0]
    if mtype == MSG_DATA_CHANNEL_ACK:
        # RFC 8832 §5.2: the ACK is exactly one byte.
        if len(data) != 1:
            raise ParseError("DATA_CHANNEL_ACK with trailing bytes")
        return DataChannelAck()
    if mtype != MSG_DATA_CHANNEL_OPEN:
        raise ParseError(f"unknown DCEP message type {mtype}")
    if len(data) < 12:
        raise ParseError("DATA_CHANNEL_OPEN too short")
    _, ctype, priority, reliability, llen, plen = OPEN_FIXED.unpack_from(data)
    channel_type = _CHANNEL_TYPES.get(ctype)
    if channel_type is None:
        raise ParseError(f"unknown channel type {ctype:#x}")
    if len(data) < 12 + llen + plen:
        raise ParseError("label/protocol lengths overrun the message")
    try:
        label = bytes(data[12 : 12 + llen]).decode("utf-8")
        protocol = bytes(data[12 + llen : 12 + llen + plen]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError("label/protocol is not UTF-8") from exc
    return DataChannelOpen(channel_type, priority, reliability, label, protocol)
