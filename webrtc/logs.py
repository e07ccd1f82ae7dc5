"""Bounded quoting of peer- or user-supplied text in log lines.

Every log line in `webrtc` that quotes input (an SDP line, a candidate, a URL, a label, an
exception message built from input) passes it through `clip`, so a line is never much larger
than `MAX_QUOTED` characters whatever the input was.
"""

from __future__ import annotations

MAX_QUOTED = 200  # characters of input a log line quotes


def clip(value: object, limit: int = MAX_QUOTED) -> str:
    """`value` quoted for a log line: repr() of at most `limit` characters (or bytes) of it,
    then how many were left out. Never raises (lone surrogates are escaped by repr)."""
    if isinstance(value, str | bytes | bytearray):
        n = len(value)
        head = value[:limit]
        text = repr(head if not isinstance(head, bytearray) else bytes(head))
        return text if n <= limit else f"{text}... ({n - limit} more)"
    try:
        text = repr(value) if not isinstance(value, BaseException) else str(value)
    except Exception:  # a hostile __repr__ must not break logging
        return f"<unprintable {type(value).__name__}>"
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more)"
