"""SCTP over DTLS (RFC 9260, RFC 8261) with WebRTC data channels (RFC 8831, RFC 8832).

Sans-I/O: `Association` takes and returns SCTP packets as bytes; time is passed in.
"""

from .association import Association, AssociationStats, ChannelState, State
from .chunks import decode_packet, encode_packet
from .dcep import DataChannelAck, DataChannelOpen, decode_dcep
from .errors import (
    ChannelError,
    ChannelNotOpen,
    ChecksumError,
    MessageTooLarge,
    ParseError,
    SctpError,
    SendBufferFull,
)
from .events import (
    AssociationClosed,
    AssociationEstablished,
    ChannelClosed,
    ChannelOpened,
    Event,
    MessageReceived,
)

__all__ = [
    "Association",
    "AssociationClosed",
    "AssociationEstablished",
    "AssociationStats",
    "ChannelClosed",
    "ChannelError",
    "ChannelNotOpen",
    "ChannelOpened",
    "ChannelState",
    "ChecksumError",
    "DataChannelAck",
    "DataChannelOpen",
    "Event",
    "MessageReceived",
    "MessageTooLarge",
    "ParseError",
    "SctpError",
    "SendBufferFull",
    "State",
    "decode_dcep",
    "decode_packet",
    "encode_packet",
]
