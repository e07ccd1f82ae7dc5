"""Message codec for Godot's WebRTC signaling demo protocol.

Every frame is a WebSocket text frame holding one JSON object
``{"type": int, "id": int, "data": string}``. :func:`decode_message` is total: any
``str``/``bytes`` input gives a :class:`Message` or raises :class:`ProtocolError`.
"""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass
from typing import NoReturn

__all__ = [
    "CLOSE_PROTOCOL_ERROR",
    "MAX_PEER_ID",
    "Message",
    "MessageType",
    "ProtocolError",
    "close_reason",
    "decode_candidate",
    "decode_message",
    "encode_candidate",
    "encode_message",
]

#: Largest peer id; Godot peer ids are positive 32-bit signed integers.
MAX_PEER_ID = 2**31 - 1

#: WebSocket close code the demo server uses for every protocol violation.
CLOSE_PROTOCOL_ERROR = 4000

# Close frame reasons are limited to 123 bytes of UTF-8 (RFC 6455 §5.5: control frame
# payload <= 125 bytes, 2 of which carry the code).
_MAX_REASON_BYTES = 123


class ProtocolError(ValueError):
    """A signaling message or candidate string that does not follow the protocol."""


class MessageType(enum.IntEnum):
    """Values of the ``type`` field."""

    JOIN = 0
    ID = 1
    PEER_CONNECT = 2
    PEER_DISCONNECT = 3
    OFFER = 4
    ANSWER = 5
    CANDIDATE = 6
    SEAL = 7


@dataclass(frozen=True, slots=True)
class Message:
    """One signaling frame."""

    type: MessageType
    id: int = 0
    data: str = ""


def _reject_constant(name: str) -> NoReturn:
    raise ProtocolError(f"Invalid message format: {name} is not JSON")


def _as_int(obj: dict[str, object], key: str) -> int:
    if key not in obj:
        raise ProtocolError(f"Invalid message format: missing {key!r}")
    value = obj[key]
    if isinstance(value, bool):
        raise ProtocolError(f"Invalid message format: {key!r} must be an integer")
    if isinstance(value, float):
        # Godot's JSON parser turns every number into a float; accept integral ones.
        if not math.isfinite(value) or not value.is_integer():
            raise ProtocolError(f"Invalid message format: {key!r} must be an integer")
        value = int(value)
    if not isinstance(value, int):
        raise ProtocolError(f"Invalid message format: {key!r} must be an integer")
    return value


def decode_message(text: str | bytes) -> Message:
    """Parse one frame; raise :class:`ProtocolError` on anything malformed."""
    if isinstance(text, bytes | bytearray | memoryview):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("Invalid message format: not UTF-8") from None
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except ProtocolError:
        raise
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and over-long integer literals.
        raise ProtocolError("Invalid message format: not JSON") from None
    if not isinstance(obj, dict):
        raise ProtocolError("Invalid message format: not a JSON object")
    type_value = _as_int(obj, "type")
    peer_id = _as_int(obj, "id")
    data = obj.get("data", "")
    if not isinstance(data, str):
        raise ProtocolError("Invalid message format: 'data' must be a string")
    if not _is_unicode(data):
        # A JSON escape such as "\ud800" decodes to a lone surrogate, which no UTF-8 frame
        # can carry onwards (RFC 8259 §8.2: such a string is not interoperable).
        raise ProtocolError("Invalid message format: 'data' is not valid Unicode")
    if not 0 <= peer_id <= MAX_PEER_ID:
        raise ProtocolError(f"Invalid message format: 'id' out of range: {peer_id}")
    try:
        msg_type = MessageType(type_value)
    except ValueError:
        raise ProtocolError(f"Invalid command: unknown type {type_value}") from None
    return Message(msg_type, peer_id, data)


def _is_unicode(text: str) -> bool:
    """Whether ``text`` can be sent as UTF-8 (no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def encode_message(message: Message) -> str:
    """Serialise ``message`` as the JSON text of one frame; :class:`ProtocolError` when its
    ``data`` cannot be sent as UTF-8 (a lone surrogate)."""
    if not _is_unicode(message.data):
        raise ProtocolError("Invalid message format: 'data' is not valid Unicode")
    return json.dumps(
        {"type": int(message.type), "id": message.id, "data": message.data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def encode_candidate(mid: str, index: int, candidate: str) -> str:
    """Build CANDIDATE ``data``: ``"\\n{mid}\\n{index}\\n{candidate}"`` as Godot's demo does."""
    for name, part in (("mid", mid), ("candidate", candidate)):
        if not part or "\n" in part:
            raise ProtocolError(f"candidate {name} must be non-empty and contain no newline")
    if index < 0:
        raise ProtocolError("candidate index must be >= 0")
    return f"\n{mid}\n{index}\n{candidate}"


def decode_candidate(data: str) -> tuple[str, int, str]:
    """Split CANDIDATE ``data`` into ``(mid, index, candidate)``.

    Like Godot's client: split on newlines, skip empty parts, expect exactly three.
    """
    parts = [p for p in data.split("\n") if p]
    if len(parts) != 3:
        raise ProtocolError(f"candidate data must have 3 non-empty lines, got {len(parts)}")
    mid, index_text, candidate = parts
    if not index_text.isascii() or not index_text.isdigit() or len(index_text) > 9:
        raise ProtocolError(f"candidate index is not a small integer: {index_text[:20]!r}")
    return mid, int(index_text), candidate


def close_reason(text: str) -> str:
    """Truncate ``text`` to fit a WebSocket close frame (RFC 6455 §5.5); characters UTF-8
    cannot carry (lone surrogates) are written as escapes."""
    raw = text.encode("utf-8", errors="backslashreplace")
    if len(raw) <= _MAX_REASON_BYTES and _is_unicode(text):
        return text
    return raw[:_MAX_REASON_BYTES].decode("utf-8", errors="ignore")
