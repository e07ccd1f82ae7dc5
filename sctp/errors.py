"""Exceptions raised by the sctp package (all derive from `SctpError`)."""

from __future__ import annotations


class SctpError(Exception):
    """Base class for every error raised by the sctp package."""


class ParseError(SctpError):
    """Malformed SCTP packet, chunk, parameter or DCEP message."""


class ChecksumError(ParseError):
    """The CRC32c in the common header does not match (RFC 9260 §6.8)."""


class MessageTooLarge(SctpError):
    """The user message exceeds the negotiated maximum message size (RFC 8831 §6.6)."""


class ChannelNotOpen(SctpError):
    """The stream has no open (or opening) data channel."""


class ChannelError(SctpError):
    """A data channel cannot be opened (stream id in use, no free id, bad parameters)."""


class SendBufferFull(SctpError):
    """The association's bounded send queue cannot take the message."""
