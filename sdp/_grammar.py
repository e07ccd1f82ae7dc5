"""Small lexical helpers shared by the sdp modules (RFC 8866 §9 core rules)."""

from __future__ import annotations

import re

from .errors import ParseError

# RFC 8866 §9: token-char = %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E
TOKEN = re.compile(r"[!#-'*+\-.0-9A-Z^-~]+")
# RFC 8839 §5.1: ice-char = ALPHA / DIGIT / "+" / "/"
ICE_CHARS = re.compile(r"[A-Za-z0-9+/]+")
# RFC 5234: VCHAR = %x21-7E (visible ASCII, no space)
VCHARS = re.compile(r"[!-~]+")
# Non-whitespace string (RFC 8866 non-ws-string = 1*(VCHAR/%x80-FF)), as decoded text.
NON_WS = re.compile(r"[^\x00-\x20\x7f]+")
_DIGITS = re.compile(r"[0-9]+")


def parse_int(text: str, what: str, maximum: int) -> int:
    """Parse an ASCII decimal integer in [0, maximum]; ParseError otherwise."""
    # int() alone would accept "+1", " 1", "1_0" and non-ASCII digits.
    if len(text) > 20 or _DIGITS.fullmatch(text) is None:
        raise ParseError(f"{what} is not a decimal number: {text!r}")
    value = int(text)
    if value > maximum:
        raise ParseError(f"{what} out of range: {value}")
    return value


def check(pattern: re.Pattern[str], text: str, what: str) -> str:
    """Return `text` if it fully matches `pattern`, else raise ParseError."""
    if pattern.fullmatch(text) is None:
        raise ParseError(f"invalid {what}: {text!r}")
    return text


def fields(text: str, what: str, count: int | None = None, minimum: int = 1) -> list[str]:
    """Split on single spaces; empty fields (double/leading/trailing spaces) are errors."""
    parts = text.split(" ")
    if "" in parts:
        raise ParseError(f"{what}: fields must be separated by exactly one space")
    if count is not None and len(parts) != count:
        raise ParseError(f"{what}: expected {count} fields, got {len(parts)}")
    if len(parts) < minimum:
        raise ParseError(f"{what}: expected at least {minimum} fields, got {len(parts)}")
    return parts
