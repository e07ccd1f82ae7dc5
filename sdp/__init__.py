"""SDP for WebRTC data channels: parse, write and build session descriptions.

Parsing and writing (RFC 8866)::

    import sdp
    description = sdp.parse(text)          # str, or UTF-8 bytes; raises sdp.ParseError
    str(description)                       # CRLF text; byte-identical for well-formed CRLF input
    media = description.media[0]
    media.mid, media.sctp_port, media.max_message_size, media.candidates
    description.ice_ufrag_for(media)       # media-level value, else the session-level one
    description.fingerprints_for(media)    # list[sdp.Fingerprint(algorithm, value: bytes)]
    sdp.Candidate.parse("candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host")

Building (JSEP offers/answers): every field has a default, attributes are an ordered
`list[Attribute]` and `add_attribute(name, value=None)` validates the attributes it knows::

    offer = sdp.SessionDescription(origin=sdp.Origin(session_id=4611731400430051336))
    offer.add_attribute("group", "BUNDLE 0")
    offer.add_attribute("msid-semantic", " WMS")
    media = offer.add_media(sdp.MediaDescription(connections=[sdp.Connection()]))
    media.add_attribute("ice-ufrag", "Xk3q")
    media.add_attribute("ice-pwd", "qE2bH8vM4nL0sR6tY1uW9zAo")
    media.add_attribute("ice-options", "trickle")
    media.add_attribute("fingerprint", sdp.Fingerprint("sha-256", digest))
    media.add_attribute("setup", sdp.Setup.ACTPASS)
    media.add_attribute("mid", "0")
    media.add_attribute("sctp-port", 5000)
    media.add_attribute("max-message-size", 262144)
    media.add_candidate(candidate)         # a=candidate:...
    text = str(offer)

`MediaDescription()` defaults to `m=application 9 UDP/DTLS/SCTP webrtc-datachannel`;
`SessionDescription()` to `v=0`, `o=- 0 0 IN IP4 127.0.0.1`, `s=-`, `t=0 0`.
`set_attribute` replaces, `remove_attributes` deletes, `get`/`get_all`/`value`/`has` read.
"""

from .attributes import (
    Attribute,
    Direction,
    ExtMap,
    Fingerprint,
    Fmtp,
    Group,
    MsidSemantic,
    RtpMap,
    SctpMap,
    Setup,
    Ssrc,
)
from .candidate import Candidate
from .description import (
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_SCTP_PORT,
    Bandwidth,
    Connection,
    MediaDescription,
    Origin,
    SessionDescription,
    Timing,
    UnknownLine,
    parse,
)
from .errors import ParseError

Media = MediaDescription

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_SCTP_PORT",
    "Attribute",
    "Bandwidth",
    "Candidate",
    "Connection",
    "Direction",
    "ExtMap",
    "Fingerprint",
    "Fmtp",
    "Group",
    "Media",
    "MediaDescription",
    "MsidSemantic",
    "Origin",
    "ParseError",
    "RtpMap",
    "SctpMap",
    "SessionDescription",
    "Setup",
    "Ssrc",
    "Timing",
    "UnknownLine",
    "parse",
]
