"""`put_var`/`get_var` bytes: Godot 4's `encode_variant`/`decode_variant` (core/io/marshalls.cpp).

Every value starts with a little-endian u32 header: byte 0 = `Variant::Type`, bits 16+ = flags
(`HEADER_DATA_FLAG_64`, or the container type kinds of typed Arrays/Dictionaries, Godot ≥ 4.4).
Python mapping: see `webrtc.godot_types`. What we emit, and why:

- int: 32-bit unless it does not fit, then 64-bit with `FLAG_64` (as Godot).
- float: 32-bit when `float(f32(x)) == x` (header flag clear), else 64-bit — NaN is never
  equal to itself so it goes 64-bit, as in Godot.
- Vector2/3/4, Rect2, Transform2D/3D, Plane, Quaternion, AABB, Basis, Projection and the
  Packed Vector arrays: single precision, flag clear — what a standard (`real_t` = float)
  Godot build emits. The 64-bit form of a double-precision build decodes too.
- Color and PackedColorArray: always single precision (the flag is ignored, as in Godot).
- Strings: UTF-8, u32 length, zero padding to 4 bytes. A `str` that is not valid Unicode (lone
  surrogates) or holds NUL (which a Godot String cannot) is refused. On decode, as Godot's
  UTF-8 parser: a leading BOM is skipped and the text stops at the first NUL byte.
- PackedStringArray elements carry their NUL terminator in the length (as Godot writes them).
- Objects are refused both ways (OBJECT, object ids, and Callable/Signal, which refer to
  objects), as Godot does without `allow_objects`; so are typed containers of classes/scripts.

Decoding is total: a value or `VariantError`. Deviations: nesting is limited to `MAX_DEPTH`
(Godot: 1024); `decode` requires the value to fill the buffer (Godot's `get_var` ignores
trailing bytes); elements that do not match a typed container's type are refused (Godot drops
them with an error print), except ints in a float container, which become floats as in Godot.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from .godot_types import (
    AABB,
    RID,
    Basis,
    Color,
    GodotValueError,
    NodePath,
    PackedColorArray,
    PackedFloat32Array,
    PackedFloat64Array,
    PackedInt32Array,
    PackedInt64Array,
    PackedStringArray,
    PackedVector2Array,
    PackedVector3Array,
    PackedVector4Array,
    Plane,
    Projection,
    Quaternion,
    Rect2,
    Rect2i,
    StringName,
    Transform2D,
    Transform3D,
    TypedArray,
    TypedDictionary,
    VariantType,
    Vector2,
    Vector2i,
    Vector3,
    Vector3i,
    Vector4,
    Vector4i,
    f32,
)

V = VariantType
NIL, BOOL, INT, FLOAT, STRING = V.NIL, V.BOOL, V.INT, V.FLOAT, V.STRING
DICTIONARY, ARRAY, PACKED_BYTE_ARRAY = V.DICTIONARY, V.ARRAY, V.PACKED_BYTE_ARRAY
HEADER_TYPE_MASK = 0xFF
FLAG_64 = 1 << 16  # HEADER_DATA_FLAG_64
ARRAY_TYPE_SHIFT = 16  # HEADER_DATA_FIELD_TYPED_ARRAY_SHIFT (bits 16-17)
DICT_KEY_SHIFT, DICT_VALUE_SHIFT = 16, 18  # ..._TYPED_DICTIONARY_KEY/VALUE_SHIFT
KIND_NONE, KIND_BUILTIN, KIND_CLASS_NAME, KIND_SCRIPT = 0, 1, 2, 3  # ContainerTypeKind
MAX_DEPTH = 256
_BOM = b"\xef\xbb\xbf"
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")
_U64 = struct.Struct("<Q")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_REFUSED = {V.OBJECT: "objects", V.CALLABLE: "Callables", V.SIGNAL: "Signals"}


class VariantError(ValueError):
    """The bytes are not a Godot Variant we accept, or the value cannot be encoded."""


# -- per-type layouts (marshalls.cpp `encode_variant` component order) ----------------------------

Flatten = Callable[[Any], tuple[float, ...]]
Build = Callable[[tuple[Any, ...]], Any]


def _basis_rows(b: Basis) -> tuple[float, ...]:
    # Basis is stored as rows; encode_variant writes rows[i][j] row-major.
    return (b.x.x, b.y.x, b.z.x, b.x.y, b.y.y, b.z.y, b.x.z, b.y.z, b.z.z)


def _basis_from_rows(c: tuple[Any, ...]) -> Basis:
    return Basis(Vector3(c[0], c[3], c[6]), Vector3(c[1], c[4], c[7]), Vector3(c[2], c[5], c[8]))


def _v4(v: Vector4) -> tuple[float, ...]:
    return (v.x, v.y, v.z, v.w)


# type -> (Variant type, component count, flatten, build); components are real_t.
_REAL: dict[type, tuple[VariantType, int, Flatten, Build]] = {
    Vector2: (V.VECTOR2, 2, lambda v: (v.x, v.y), lambda c: Vector2(*c)),
    Rect2: (
        V.RECT2,
        4,
        lambda r: (r.position.x, r.position.y, r.size.x, r.size.y),
        lambda c: Rect2(Vector2(c[0], c[1]), Vector2(c[2], c[3])),
    ),
    Vector3: (V.VECTOR3, 3, lambda v: (v.x, v.y, v.z), lambda c: Vector3(*c)),
    Transform2D: (
        V.TRANSFORM2D,
        6,  # columns[i][j]: x, y, origin
        lambda t: (t.x.x, t.x.y, t.y.x, t.y.y, t.origin.x, t.origin.y),
        lambda c: Transform2D(Vector2(c[0], c[1]), Vector2(c[2], c[3]), Vector2(c[4], c[5])),
    ),
    Vector4: (V.VECTOR4, 4, _v4, lambda c: Vector4(*c)),
    Plane: (
        V.PLANE,
        4,
        lambda p: (p.normal.x, p.normal.y, p.normal.z, p.d),
        lambda c: Plane(Vector3(c[0], c[1], c[2]), c[3]),
    ),
    Quaternion: (V.QUATERNION, 4, lambda q: (q.x, q.y, q.z, q.w), lambda c: Quaternion(*c)),
    AABB: (
        V.AABB,
        6,
        lambda a: (a.position.x, a.position.y, a.position.z, a.size.x, a.size.y, a.size.z),
        lambda c: AABB(Vector3(c[0], c[1], c[2]), Vector3(c[3], c[4], c[5])),
    ),
    Basis: (V.BASIS, 9, _basis_rows, _basis_from_rows),
    Transform3D: (
        V.TRANSFORM3D,
        12,  # basis rows, then origin
        lambda t: (*_basis_rows(t.basis), t.origin.x, t.origin.y, t.origin.z),
        lambda c: Transform3D(_basis_from_rows(c[:9]), Vector3(c[9], c[10], c[11])),
    ),
    Projection: (
        V.PROJECTION,
        16,  # columns[i][j]: x, y, z, w
        lambda p: _v4(p.x) + _v4(p.y) + _v4(p.z) + _v4(p.w),
        lambda c: Projection(
            Vector4(*c[0:4]), Vector4(*c[4:8]), Vector4(*c[8:12]), Vector4(*c[12:16])
        ),
    ),
}
# type -> (Variant type, component count, flatten, build); components are int32.
_INT: dict[type, tuple[VariantType, int, Flatten, Build]] = {
    Vector2i: (V.VECTOR2I, 2, lambda v: (v.x, v.y), lambda c: Vector2i(*c)),
    Rect2i: (
        V.RECT2I,
        4,
        lambda r: (r.position.x, r.position.y, r.size.x, r.size.y),
        lambda c: Rect2i(Vector2i(c[0], c[1]), Vector2i(c[2], c[3])),
    ),
    Vector3i: (V.VECTOR3I, 3, lambda v: (v.x, v.y, v.z), lambda c: Vector3i(*c)),
    Vector4i: (V.VECTOR4I, 4, lambda v: (v.x, v.y, v.z, v.w), lambda c: Vector4i(*c)),
}
_REAL_BY_TYPE = {entry[0]: entry for entry in _REAL.values()}
_INT_BY_TYPE = {entry[0]: entry for entry in _INT.values()}

# Packed arrays of fixed-size numbers: class -> (Variant type, struct code, element size).
_PACKED_NUMBERS: dict[type, tuple[VariantType, str, int]] = {
    PackedInt32Array: (V.PACKED_INT32_ARRAY, "i", 4),
    PackedInt64Array: (V.PACKED_INT64_ARRAY, "q", 8),
    PackedFloat32Array: (V.PACKED_FLOAT32_ARRAY, "f", 4),
    PackedFloat64Array: (V.PACKED_FLOAT64_ARRAY, "d", 8),
}
_PACKED_NUMBERS_BY_TYPE = {
    entry[0]: (cls, entry[1], entry[2]) for cls, entry in _PACKED_NUMBERS.items()
}
# Packed arrays of real vectors: class -> (Variant type, element class).
_PACKED_VECTORS: dict[type, tuple[VariantType, type]] = {
    PackedVector2Array: (V.PACKED_VECTOR2_ARRAY, Vector2),
    PackedVector3Array: (V.PACKED_VECTOR3_ARRAY, Vector3),
    PackedVector4Array: (V.PACKED_VECTOR4_ARRAY, Vector4),
}
_PACKED_VECTORS_BY_TYPE = {entry[0]: (cls, entry[1]) for cls, entry in _PACKED_VECTORS.items()}

_SIMPLE_TYPES: dict[type, VariantType] = {
    Color: V.COLOR,
    NodePath: V.NODE_PATH,
    RID: V.RID,
    PackedStringArray: V.PACKED_STRING_ARRAY,
    PackedColorArray: V.PACKED_COLOR_ARRAY,
    TypedArray: V.ARRAY,
    TypedDictionary: V.DICTIONARY,
}


def type_of(value: Any) -> VariantType:
    """The Variant type `encode(value)` writes; `VariantError` if it has none."""
    if value is None:
        return NIL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, StringName):
        return V.STRING_NAME
    if isinstance(value, str):
        return STRING
    if isinstance(value, bytes | bytearray | memoryview):
        return PACKED_BYTE_ARRAY
    if isinstance(value, list | tuple):
        return ARRAY
    if isinstance(value, dict):
        return DICTIONARY
    kind = type(value)
    for table in (_REAL, _INT):
        if kind in table:
            return table[kind][0]
    if kind in _PACKED_NUMBERS:
        return _PACKED_NUMBERS[kind][0]
    if kind in _PACKED_VECTORS:
        return _PACKED_VECTORS[kind][0]
    if kind in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[kind]
    raise VariantError(f"cannot encode {kind.__name__} as a Godot Variant")


# -- encoding -------------------------------------------------------------------------------------


def encode(value: Any) -> bytes:
    """Godot's `encode_variant(value, full_objects=false)` bytes."""
    out = bytearray()
    try:
        _encode(value, out, 0)
    except (GodotValueError, struct.error) as exc:
        raise VariantError(str(exc)) from exc
    return bytes(out)


def _utf8(text: str) -> bytes:
    if "\0" in text:
        raise VariantError("a Godot String cannot hold NUL")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise VariantError("string is not valid Unicode (lone surrogate)") from exc


def _put_string(text: str, out: bytearray, terminator: bytes = b"") -> None:
    raw = _utf8(text) + terminator
    out += _U32.pack(len(raw)) + raw + b"\0" * (-len(raw) % 4)


def _element_check(value: Any, wanted: VariantType) -> Any:
    """Coerce `value` into a typed container of `wanted` (ContainerTypeValidate), or refuse."""
    got = type_of(value)
    if got == wanted:
        return value
    if wanted == FLOAT and got == INT:
        return float(value)
    raise VariantError(f"{got.name} value in a container typed {wanted.name}")


def _container_kind(element: VariantType) -> int:
    if element in _REFUSED:
        raise VariantError(f"containers of {_REFUSED[element]} are not supported")
    return KIND_NONE if element == NIL else KIND_BUILTIN


def _encode(value: Any, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise VariantError("nesting too deep")
    kind = type_of(value)
    if kind == NIL:
        out += _U32.pack(NIL)
    elif kind == BOOL:
        out += _U32.pack(BOOL) + _U32.pack(int(value))
    elif kind == INT:
        if -(2**31) <= value < 2**31:
            out += _U32.pack(INT) + _I32.pack(value)
        elif -(2**63) <= value < 2**63:
            out += _U32.pack(INT | FLAG_64) + _I64.pack(value)
        else:
            raise VariantError("int out of 64-bit range")
    elif kind == FLOAT:
        if f32(value) == value:  # exactly representable in single precision
            out += _U32.pack(FLOAT) + _F32.pack(value)
        else:
            out += _U32.pack(FLOAT | FLAG_64) + _F64.pack(value)
    elif kind in (STRING, V.STRING_NAME):
        out += _U32.pack(kind)
        _put_string(value, out)
    elif kind == PACKED_BYTE_ARRAY:
        raw = bytes(value)
        out += _U32.pack(kind) + _U32.pack(len(raw)) + raw + b"\0" * (-len(raw) % 4)
    elif kind == ARRAY:
        _encode_array(value, out, depth)
    elif kind == DICTIONARY:
        _encode_dictionary(value, out, depth)
    elif kind == V.NODE_PATH:
        out += _U32.pack(kind)
        out += _U32.pack(len(value.names) | 0x80000000)  # new format marker
        out += _U32.pack(len(value.subnames)) + _U32.pack(1 if value.absolute else 0)
        for name in (*value.names, *value.subnames):
            _put_string(name, out)
    elif kind == V.COLOR:
        out += _U32.pack(kind) + struct.pack("<4f", value.r, value.g, value.b, value.a)
    elif kind == V.RID:
        out += _U32.pack(kind) + _U64.pack(value.id)
    elif kind == V.PACKED_STRING_ARRAY:
        out += _U32.pack(kind) + _U32.pack(len(value))
        for text in value:
            _put_string(text, out, b"\0")  # length counts the terminator
    elif kind == V.PACKED_COLOR_ARRAY:
        out += _U32.pack(kind) + _U32.pack(len(value))
        for c in value:
            out += struct.pack("<4f", c.r, c.g, c.b, c.a)
    elif type(value) in _REAL:
        _, count, flatten, _ = _REAL[type(value)]
        out += _U32.pack(kind) + struct.pack(f"<{count}f", *flatten(value))
    elif type(value) in _INT:
        _, count, flatten, _ = _INT[type(value)]
        out += _U32.pack(kind) + struct.pack(f"<{count}i", *flatten(value))
    elif type(value) in _PACKED_NUMBERS:
        _, code, _ = _PACKED_NUMBERS[type(value)]
        out += _U32.pack(kind) + _U32.pack(len(value)) + struct.pack(f"<{len(value)}{code}", *value)
    else:  # packed real vectors
        _, element = _PACKED_VECTORS[type(value)]
        count, flatten = _REAL[element][1], _REAL[element][2]
        out += _U32.pack(kind) + _U32.pack(len(value))
        for item in value:
            out += struct.pack(f"<{count}f", *flatten(item))


def _encode_array(value: Any, out: bytearray, depth: int) -> None:
    element = value.element_type if isinstance(value, TypedArray) else NIL
    type_kind = _container_kind(element)
    out += _U32.pack(ARRAY | type_kind << ARRAY_TYPE_SHIFT)
    if type_kind == KIND_BUILTIN:
        out += _U32.pack(element)
    out += _U32.pack(len(value))
    for item in value:
        _encode(item if element == NIL else _element_check(item, element), out, depth + 1)


def _encode_dictionary(value: Any, out: bytearray, depth: int) -> None:
    if isinstance(value, TypedDictionary):
        key_type, value_type, items = value.key_type, value.value_type, value.items
    else:
        key_type, value_type, items = NIL, NIL, value
    key_kind, value_kind = _container_kind(key_type), _container_kind(value_type)
    out += _U32.pack(DICTIONARY | key_kind << DICT_KEY_SHIFT | value_kind << DICT_VALUE_SHIFT)
    if key_kind == KIND_BUILTIN:
        out += _U32.pack(key_type)
    if value_kind == KIND_BUILTIN:
        out += _U32.pack(value_type)
    out += _U32.pack(len(items))
    for k, v in items.items():
        _encode(k if key_type == NIL else _element_check(k, key_type), out, depth + 1)
        _encode(v if value_type == NIL else _element_check(v, value_type), out, depth + 1)


# -- decoding -------------------------------------------------------------------------------------


def decode(data: bytes | bytearray | memoryview) -> Any:
    """Decode one Variant occupying all of `data` (`VariantError` otherwise)."""
    buf = bytes(data)
    value, end = decode_prefix(buf, 0)
    if end != len(buf):
        raise VariantError("trailing bytes")
    return value


def decode_prefix(data: bytes, offset: int = 0) -> tuple[Any, int]:
    """Decode the Variant starting at `offset`; return it and the offset just past it."""
    try:
        return _decode(data, offset, 0)
    except GodotValueError as exc:
        raise VariantError(str(exc)) from exc


def _u32(buf: bytes, pos: int) -> int:
    if pos < 0 or pos + 4 > len(buf):
        raise VariantError("truncated")
    return int(_U32.unpack_from(buf, pos)[0])


def _count(buf: bytes, pos: int, min_size: int) -> int:
    """An element count (int32 on the wire) that the remaining bytes can hold."""
    n = _u32(buf, pos)
    if n >= 2**31 or n * min_size > len(buf) - pos - 4:
        raise VariantError("count exceeds the data")
    return n


def _unpack(buf: bytes, pos: int, fmt: str) -> tuple[Any, ...]:
    size = struct.calcsize(fmt)
    if pos + size > len(buf):
        raise VariantError("truncated")
    return struct.unpack_from(fmt, buf, pos)


def _read_string(buf: bytes, pos: int) -> tuple[str, int]:
    n = _u32(buf, pos)
    pos += 4
    end = pos + n
    if n >= 2**31 or end + (-n % 4) > len(buf):  # _decode_string: strlen + pad > len
        raise VariantError("truncated string")
    raw = buf[pos:end]
    if raw.startswith(_BOM):  # String::append_utf8 skips a BOM
        raw = raw[3:]
    nul = raw.find(b"\0")  # ... and stops at NUL
    if nul >= 0:
        raw = raw[:nul]
    try:
        return raw.decode("utf-8"), end + (-n % 4)
    except UnicodeDecodeError as exc:
        raise VariantError("string is not UTF-8") from exc


def _hashable(key: Any) -> Any:
    """Array keys become tuples (which encode as Arrays again); dicts cannot be keys in Python."""
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    try:
        hash(key)
    except TypeError as exc:
        raise VariantError("unhashable dictionary key") from exc
    return key


def _container_type(buf: bytes, pos: int, type_kind: int) -> tuple[VariantType, int]:
    if type_kind == KIND_NONE:
        return NIL, pos
    if type_kind != KIND_BUILTIN:  # class name or script: an Object type
        raise VariantError("containers typed with a class or script hold objects")
    raw = _u32(buf, pos)
    if raw >= len(VariantType):
        raise VariantError("invalid container element type")
    element = VariantType(raw)
    if element in _REFUSED:
        raise VariantError(f"containers of {_REFUSED[element]} are not supported")
    return element, pos + 4


def _decode(buf: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise VariantError("nesting too deep")
    header = _u32(buf, pos)
    pos += 4
    raw_type = header & HEADER_TYPE_MASK
    if raw_type >= len(VariantType):
        raise VariantError(f"unknown Variant type {raw_type}")
    kind = VariantType(raw_type)
    wide = bool(header & FLAG_64)
    if kind == NIL:
        return None, pos
    if kind == BOOL:
        return _u32(buf, pos) != 0, pos + 4
    if kind == INT:
        fmt = "<q" if wide else "<i"
        return int(_unpack(buf, pos, fmt)[0]), pos + struct.calcsize(fmt)
    if kind == FLOAT:
        fmt = "<d" if wide else "<f"
        return float(_unpack(buf, pos, fmt)[0]), pos + struct.calcsize(fmt)
    if kind == STRING:
        return _read_string(buf, pos)
    if kind == V.STRING_NAME:
        text, pos = _read_string(buf, pos)
        return StringName(text), pos
    if kind in _REAL_BY_TYPE:
        _, count, _, build = _REAL_BY_TYPE[kind]
        fmt = f"<{count}{'d' if wide else 'f'}"
        return build(_unpack(buf, pos, fmt)), pos + struct.calcsize(fmt)
    if kind in _INT_BY_TYPE:
        _, count, _, build = _INT_BY_TYPE[kind]
        return build(_unpack(buf, pos, f"<{count}i")), pos + 4 * count
    if kind == V.COLOR:  # always single precision
        return Color(*_unpack(buf, pos, "<4f")), pos + 16
    if kind == V.NODE_PATH:
        return _decode_node_path(buf, pos)
    if kind == V.RID:
        return RID(int(_unpack(buf, pos, "<Q")[0])), pos + 8
    if kind in _REFUSED:
        raise VariantError(f"{_REFUSED[kind]} are not allowed")
    if kind == DICTIONARY:
        return _decode_dictionary(buf, pos, header, depth)
    if kind == ARRAY:
        return _decode_array(buf, pos, header, depth)
    if kind == PACKED_BYTE_ARRAY:
        n = _u32(buf, pos)
        pos += 4
        if n >= 2**31 or pos + n > len(buf):
            raise VariantError("truncated byte array")
        # Godot checks the bytes but not their padding, which it still skips.
        return buf[pos : pos + n], min(pos + n + (-n % 4), len(buf))
    if kind in _PACKED_NUMBERS_BY_TYPE:
        cls, code, size = _PACKED_NUMBERS_BY_TYPE[kind]
        n = _count(buf, pos, size)
        return cls(struct.unpack_from(f"<{n}{code}", buf, pos + 4)), pos + 4 + n * size
    if kind == V.PACKED_STRING_ARRAY:
        n = _count(buf, pos, 4)
        pos += 4
        texts = []
        for _ in range(n):
            text, pos = _read_string(buf, pos)
            texts.append(text)
        return PackedStringArray(texts), pos
    if kind == V.PACKED_COLOR_ARRAY:  # always single precision
        n = _count(buf, pos, 16)
        flat = struct.unpack_from(f"<{4 * n}f", buf, pos + 4)
        colors = [Color(*flat[i : i + 4]) for i in range(0, len(flat), 4)]
        return PackedColorArray(colors), pos + 4 + 16 * n
    cls, element = _PACKED_VECTORS_BY_TYPE[kind]
    count, build = _REAL[element][1], _REAL[element][3]
    size = count * (8 if wide else 4)
    n = _count(buf, pos, size)
    flat = struct.unpack_from(f"<{count * n}{'d' if wide else 'f'}", buf, pos + 4)
    items = [build(flat[i : i + count]) for i in range(0, len(flat), count)]
    return cls(items), pos + 4 + size * n


def _decode_node_path(buf: bytes, pos: int) -> tuple[NodePath, int]:
    name_count = _u32(buf, pos)
    if not name_count & 0x80000000:
        raise VariantError("old NodePath format")  # Godot 4 refuses it too
    name_count &= 0x7FFFFFFF
    sub_count, flags = _u32(buf, pos + 4), _u32(buf, pos + 8)
    pos += 12
    if flags & 2:  # obsolete format: the property is one more subname
        sub_count += 1
    if (name_count + sub_count) * 4 > len(buf) - pos:
        raise VariantError("NodePath count exceeds the data")
    parts = []
    for _ in range(name_count + sub_count):
        text, pos = _read_string(buf, pos)
        parts.append(text)
    return NodePath(tuple(parts[:name_count]), tuple(parts[name_count:]), bool(flags & 1)), pos


def _decode_array(buf: bytes, pos: int, header: int, depth: int) -> tuple[Any, int]:
    element, pos = _container_type(buf, pos, header >> ARRAY_TYPE_SHIFT & 3)
    n = _u32(buf, pos) & 0x7FFFFFFF  # bit 31: the old "shared" flag
    pos += 4
    if n * 4 > len(buf) - pos:  # every element takes at least 4 bytes
        raise VariantError("array count exceeds the data")
    items = []
    for _ in range(n):
        item, pos = _decode(buf, pos, depth + 1)
        items.append(item if element == NIL else _element_check(item, element))
    return (items if element == NIL else TypedArray(element, items)), pos


def _decode_dictionary(buf: bytes, pos: int, header: int, depth: int) -> tuple[Any, int]:
    key_type, pos = _container_type(buf, pos, header >> DICT_KEY_SHIFT & 3)
    value_type, pos = _container_type(buf, pos, header >> DICT_VALUE_SHIFT & 3)
    n = _u32(buf, pos) & 0x7FFFFFFF
    pos += 4
    if n * 8 > len(buf) - pos:  # a key and a value take at least 8 bytes
        raise VariantError("dictionary count exceeds the data")
    items: dict[Any, Any] = {}
    for _ in range(n):
        key, pos = _decode(buf, pos, depth + 1)
        value, pos = _decode(buf, pos, depth + 1)
        if key_type != NIL:
            key = _element_check(key, key_type)
        if value_type != NIL:
            value = _element_check(value, value_type)
        items[_hashable(key)] = value
    if key_type == NIL and value_type == NIL:
        return items, pos
    return TypedDictionary(key_type, value_type, items), pos
