"""SCTP over DTLS (RFC 9260, RFC 8261) with WebRTC data channels (RFC 8831, RFC 8832).

Sans-I/O: `Association` takes and returns SCTP packets as bytes; time is passed in.

Implemented: RFC 9260 packet/chunk formats (§3), handshake with HMAC-signed, time-stamped
state cookie (§5.1), INIT collision (§5.2.1, §5.2.4 actions B/D), verification tags (§8.5,
§8.5.1), data transfer with TSN/SACK bookkeeping, delayed SACK (§6.2), RTO (§6.3), bundling and
fragmentation (§6.9, §6.10), congestion control with slow start, congestion avoidance, fast
retransmit/fast recovery (§7.2) with spurious fast retransmit undo (RFC 3708), heartbeats and
path failure (§8.1-§8.3), graceful SHUTDOWN and ABORT (§9); path MTU changes at any time (§7.3,
`set_max_packet_size`), an optional cap on timer back-off and time-based path failure
(`max_backoff`, `failure_timeout`); opt-in Datagram PLPMTUD with HEARTBEAT + PAD probes and
black hole fall-back (RFC 8899 §4-§6.2, RFC 4820, `enable_plpmtud`); PR-SCTP FORWARD TSN
(RFC 3758); outgoing/incoming SSN reset (RFC 6525 §5.1.2, §5.2.2); zero checksum (RFC 9653);
DCEP (RFC 8832); PPIDs and channel close (RFC 8831).
Not implemented: association restart (§5.2.4 actions A/C), Max.Burst (§6.1 D), multi-homing,
ECN, AUTH (RFC 4895), I-DATA (RFC 8260), SSN/TSN reset and add-streams requests (denied).
"""

from .association import Association, State
from .channels import ChannelConfig, ChannelState
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
    PathMtuChanged,
)
from .plpmtud import PlpmtudState
from .stats import AssociationStats

__all__ = [
    "Association",
    "AssociationClosed",
    "AssociationEstablished",
    "AssociationStats",
    "ChannelClosed",
    "ChannelConfig",
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
    "PathMtuChanged",
    "PlpmtudState",
    "SctpError",
    "SendBufferFull",
    "State",
    "decode_dcep",
    "decode_packet",
    "encode_packet",
]
