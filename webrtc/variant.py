"""`put_var`/`get_var` encoding: Godot 4's Variant binary format (`encode_variant`), basic types.

Supported: None (NIL=0), bool (BOOL=1), int (INT=2, 32-bit or 64-bit with flag 1<<16),
float (FLOAT=3, always 64-bit here), str (STRING=4), dict (DICTIONARY=27), list/tuple
(ARRAY=28), bytes/bytearray (PACKED_BYTE_ARRAY=29). Every value starts with a little-endian uint32
header `type | flags << 16`; strings and byte arrays are length-prefixed and padded to 4 bytes.
Never pickle: decoding arbitrary bytes yields a value or `VariantError`.
"""

from __future__ import annotations

import struct
from typing import Any

NIL, BOOL, INT, FLOAT, STRING = 0, 1, 2, 3, 4
DICTIONARY, ARRAY, PACKED_BYTE_ARRAY = 27, 28, 29
FLAG_64 = 1 << 16
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")
_F32 = struct.Struct("<f")
MAX_DEPTH = 64


class VariantError(ValueError):
    """The bytes are not a supported Godot Variant, or the value cannot be encoded."""


def _pad(n: int) -> int:
    return (4 - n % 4) % 4


def encode(value: Any) -> bytes:
    out = bytearray()
    _encode(value, out, 0)
    return bytes(out)


def _encode(value: Any, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise VariantError("nesting too deep")
    if value is None:
        out += _U32.pack(NIL)
    elif isinstance(value, bool):
        out += _U32.pack(BOOL) + _U32.pack(int(value))
    elif isinstance(value, int):
        if -(2**31) <= value < 2**31:
            out += _U32.pack(INT) + _I32.pack(value)
        elif -(2**63) <= value < 2**63:
            out += _U32.pack(INT | FLAG_64) + _I64.pack(value)
        else:
            raise VariantError("int out of 64-bit range")
    elif isinstance(value, float):
        out += _U32.pack(FLOAT | FLAG_64) + _F64.pack(value)
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        out += _U32.pack(STRING) + _U32.pack(len(raw)) + raw + b"\0" * _pad(len(raw))
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        out += _U32.pack(PACKED_BYTE_ARRAY) + _U32.pack(len(raw)) + raw + b"\0" * _pad(len(raw))
    elif isinstance(value, list | tuple):
        out += _U32.pack(ARRAY) + _U32.pack(len(value))
        for item in value:
            _encode(item, out, depth + 1)
    elif isinstance(value, dict):
        out += _U32.pack(DICTIONARY) + _U32.pack(len(value))
        for k, v in value.items():
            _encode(k, out, depth + 1)
            _encode(v, out, depth + 1)
    else:
        raise VariantError(f"cannot encode {type(value).__name__}")


def decode(data: bytes) -> Any:
    """Decode one Variant occupying all of `data`."""
    value, end = _decode(memoryview(data), 0, 0)
    if end != len(data):
        raise VariantError("trailing bytes")
    return value


def _u32(buf: memoryview, pos: int) -> int:
    if pos + 4 > len(buf):
        raise VariantError("truncated")
    return int(_U32.unpack_from(buf, pos)[0])


def _decode(buf: memoryview, pos: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise VariantError("nesting too deep")
    header = _u32(buf, pos)
    pos += 4
    kind, flags = header & 0xFF, header >> 16
    if kind == NIL:
        return None, pos
    if kind == BOOL:
        return _u32(buf, pos) != 0, pos + 4
    if kind == INT:
        if flags & 1:
            if pos + 8 > len(buf):
                raise VariantError("truncated")
            return int(_I64.unpack_from(buf, pos)[0]), pos + 8
        if pos + 4 > len(buf):
            raise VariantError("truncated")
        return int(_I32.unpack_from(buf, pos)[0]), pos + 4
    if kind == FLOAT:
        if flags & 1:
            if pos + 8 > len(buf):
                raise VariantError("truncated")
            return float(_F64.unpack_from(buf, pos)[0]), pos + 8
        if pos + 4 > len(buf):
            raise VariantError("truncated")
        return float(_F32.unpack_from(buf, pos)[0]), pos + 4
    if kind in (STRING, PACKED_BYTE_ARRAY):
        n = _u32(buf, pos)
        pos += 4
        end = pos + n
        if end + _pad(n) > len(buf):
            raise VariantError("truncated")
        raw = bytes(buf[pos:end])
        if kind == PACKED_BYTE_ARRAY:
            return raw, end + _pad(n)
        try:
            return raw.decode("utf-8"), end + _pad(n)
        except UnicodeDecodeError as exc:
            raise VariantError("string is not UTF-8") from exc
    if kind == ARRAY:
        n = _u32(buf, pos) & 0x7FFFFFFF  # bit 31: shared flag
        pos += 4
        if n > len(buf) - pos:  # each element takes at least 4 bytes
            raise VariantError("truncated")
        items = []
        for _ in range(n):
            item, pos = _decode(buf, pos, depth + 1)
            items.append(item)
        return items, pos
    if kind == DICTIONARY:
        n = _u32(buf, pos) & 0x7FFFFFFF
        pos += 4
        if n > len(buf) - pos:
            raise VariantError("truncated")
        result: dict[Any, Any] = {}
        for _ in range(n):
            key, pos = _decode(buf, pos, depth + 1)
            value, pos = _decode(buf, pos, depth + 1)
            try:
                result[key] = value
            except TypeError as exc:  # unhashable key such as a list
                raise VariantError("unhashable dictionary key") from exc
        return result, pos
    raise VariantError(f"unsupported Variant type {kind}")
