"""TURN ChannelData framing (RFC 8656 §12.4) and its demultiplexing (RFC 7983 / RFC 9443)."""

from __future__ import annotations

import struct

from .stun import StunError

__all__ = ["decode_channel_data", "encode_channel_data", "is_channel_data"]

_HEAD = struct.Struct("!HH")
MIN_CHANNEL = 0x4000
MAX_CHANNEL = 0x4FFF  # RFC 8656 §12: 0x5000-0xFFFF reserved (RFC 7983 collision avoidance)


def is_channel_data(data: bytes) -> bool:
    """First byte 0x40..0x4F (RFC 9443 range) and at least a 4-byte header."""
    return len(data) >= 4 and 0x40 <= data[0] <= 0x4F


def encode_channel_data(channel: int, payload: bytes) -> bytes:
    """Frame `payload` for `channel`; no padding (UDP, RFC 8656 §12.5)."""
    if not MIN_CHANNEL <= channel <= MAX_CHANNEL:
        raise StunError(f"channel number 0x{channel:04x} outside 0x4000-0x4FFF")
    if len(payload) > 0xFFFF:
        raise StunError("ChannelData payload too long")
    return _HEAD.pack(channel, len(payload)) + payload


def decode_channel_data(data: bytes) -> tuple[int, bytes]:
    """Return `(channel, payload)`; trailing padding is ignored (RFC 8656 §12.5)."""
    if len(data) < 4:
        raise StunError("ChannelData shorter than its header")
    channel, length = _HEAD.unpack_from(data)
    if not MIN_CHANNEL <= channel <= MAX_CHANNEL:
        raise StunError(f"channel number 0x{channel:04x} outside 0x4000-0x4FFF")
    if 4 + length > len(data):
        raise StunError("ChannelData length exceeds the datagram")  # RFC 8656 §12.5: discard
    return channel, bytes(data[4 : 4 + length])
