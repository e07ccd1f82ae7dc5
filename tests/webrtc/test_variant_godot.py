"""Godot 4 `encode_variant`/`decode_variant` byte for byte (core/io/marshalls.cpp).

Layout used for every expected value below (marshalls.cpp, Godot 4.6-dev): a u32 LE header
`type | flags << 16` (HEADER_TYPE_MASK 0xFF; HEADER_DATA_FLAG_64 = 1 << 16; typed Array kind in
bits 16-17, typed Dictionary key kind in bits 16-17 and value kind in bits 18-19, kind 1 =
CONTAINER_TYPE_KIND_BUILTIN followed by a u32 element type), then the payload: real_t math
types as consecutive floats (single precision in a standard build), ints as int32, strings as
u32 length + UTF-8 + zero padding to 4, Color always as 4 floats.
"""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webrtc import variant
from webrtc.godot_types import (
    AABB,
    RID,
    Basis,
    Color,
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

F64 = 1 << 16


def h(kind: int, flags: int = 0) -> bytes:
    return struct.pack("<I", kind | flags)


def s(text: bytes) -> bytes:
    """u32 length, bytes, zero padding to a multiple of 4 (_encode_string)."""
    return struct.pack("<I", len(text)) + text + b"\0" * (-len(text) % 4)


# (value, exact bytes Godot writes for it) — each decoded back to an equal value.
GOLDEN = [
    (None, h(0)),
    (False, h(1) + b"\0\0\0\0"),
    (True, h(1) + b"\1\0\0\0"),
    (5, h(2) + b"\x05\0\0\0"),
    (-1, h(2) + b"\xff\xff\xff\xff"),
    (2**31 - 1, h(2) + b"\xff\xff\xff\x7f"),
    (2**31, h(2, F64) + b"\0\0\0\x80\0\0\0\0"),  # > INT_MAX: 64-bit flag
    (-(2**31) - 1, h(2, F64) + struct.pack("<q", -(2**31) - 1)),
    (0.5, h(3) + b"\0\0\0\x3f"),  # double(float(0.5)) == 0.5: 32-bit, flag clear
    (-0.0, h(3) + b"\0\0\0\x80"),
    (math.inf, h(3) + b"\0\0\x80\x7f"),
    (0.1, h(3, F64) + b"\x9a\x99\x99\x99\x99\x99\xb9\x3f"),  # not exact in 32 bits
    (1e300, h(3, F64) + struct.pack("<d", 1e300)),  # beyond float range
    ("hi", h(4) + b"\x02\0\0\0hi\0\0"),
    ("", h(4) + b"\0\0\0\0"),
    ("abcd", h(4) + b"\x04\0\0\0abcd"),
    ("é", h(4) + b"\x02\0\0\0\xc3\xa9\0\0"),
    (Vector2(1.0, -2.5), h(5) + struct.pack("<2f", 1.0, -2.5)),
    (Vector2i(-1, 7), h(6) + struct.pack("<2i", -1, 7)),
    (Rect2(Vector2(1, 2), Vector2(3, 4)), h(7) + struct.pack("<4f", 1, 2, 3, 4)),
    (Rect2i(Vector2i(1, 2), Vector2i(3, 4)), h(8) + struct.pack("<4i", 1, 2, 3, 4)),
    (Vector3(1, 2, 3), h(9) + struct.pack("<3f", 1, 2, 3)),
    (Vector3i(1, -2, 3), h(10) + struct.pack("<3i", 1, -2, 3)),
    # Transform2D: columns[i][j] for i in x, y, origin
    (
        Transform2D(Vector2(1, 2), Vector2(3, 4), Vector2(5, 6)),
        h(11) + struct.pack("<6f", 1, 2, 3, 4, 5, 6),
    ),
    (Vector4(1, 2, 3, 4), h(12) + struct.pack("<4f", 1, 2, 3, 4)),
    (Vector4i(1, 2, 3, -4), h(13) + struct.pack("<4i", 1, 2, 3, -4)),
    (Plane(Vector3(0, 1, 0), 2.5), h(14) + struct.pack("<4f", 0, 1, 0, 2.5)),
    (Quaternion(0, 0, 0, 1), h(15) + struct.pack("<4f", 0, 0, 0, 1)),
    (AABB(Vector3(1, 2, 3), Vector3(4, 5, 6)), h(16) + struct.pack("<6f", 1, 2, 3, 4, 5, 6)),
    # Basis: rows[i][j] row-major; Basis.x is column 0, so row 0 = (x.x, y.x, z.x)
    (
        Basis(Vector3(1, 2, 3), Vector3(4, 5, 6), Vector3(7, 8, 9)),
        h(17) + struct.pack("<9f", 1, 4, 7, 2, 5, 8, 3, 6, 9),
    ),
    (
        Transform3D(
            Basis(Vector3(1, 2, 3), Vector3(4, 5, 6), Vector3(7, 8, 9)), Vector3(10, 11, 12)
        ),
        h(18) + struct.pack("<12f", 1, 4, 7, 2, 5, 8, 3, 6, 9, 10, 11, 12),
    ),
    # Projection: columns[i][j], column x first
    (
        Projection(
            Vector4(1, 2, 3, 4),
            Vector4(5, 6, 7, 8),
            Vector4(9, 10, 11, 12),
            Vector4(13, 14, 15, 16),
        ),
        h(19) + struct.pack("<16f", *range(1, 17)),
    ),
    (Color(1, 0.5, 0.25, 1), h(20) + struct.pack("<4f", 1, 0.5, 0.25, 1)),
    (StringName("jump"), h(21) + s(b"jump")),
    # NodePath: u32 name count | 0x80000000, u32 subname count, u32 flags (1 = absolute), strings
    (
        NodePath.from_string("/root/Main:position:x"),
        h(22)
        + struct.pack("<3I", 2 | 0x80000000, 2, 1)
        + s(b"root")
        + s(b"Main")
        + s(b"position")
        + s(b"x"),
    ),
    (NodePath.from_string("Player"), h(22) + struct.pack("<3I", 0x80000001, 0, 0) + s(b"Player")),
    (RID(0x0102030405060708), h(23) + struct.pack("<Q", 0x0102030405060708)),
    ({}, h(27) + b"\0\0\0\0"),
    ({"a": None}, h(27) + b"\1\0\0\0" + h(4) + s(b"a") + h(0)),
    ([], h(28) + b"\0\0\0\0"),
    ([1, "x"], h(28) + b"\2\0\0\0" + h(2) + b"\1\0\0\0" + h(4) + s(b"x")),
    # Array[int]: kind BUILTIN (1) in bits 16-17, then the element type, count, elements
    (
        TypedArray(VariantType.INT, [7]),
        bytes.fromhex("1c000100") + b"\2\0\0\0\1\0\0\0" + h(2) + b"\7\0\0\0",
    ),
    (TypedArray(VariantType.STRING, []), h(28, 1 << 16) + struct.pack("<2I", 4, 0)),
    # Dictionary[String, int]: key kind bits 16-17, value kind bits 18-19, key type, value type
    (
        TypedDictionary(VariantType.STRING, VariantType.INT, {"k": 3}),
        h(27, 1 << 16 | 1 << 18)
        + struct.pack("<3I", 4, 2, 1)
        + h(4)
        + s(b"k")
        + h(2)
        + b"\3\0\0\0",
    ),
    # Dictionary[Variant, float]: only the value is typed
    (
        TypedDictionary(VariantType.NIL, VariantType.FLOAT, {1: 0.5}),
        h(27, 1 << 18) + struct.pack("<2I", 3, 1) + h(2) + b"\1\0\0\0" + h(3) + b"\0\0\0\x3f",
    ),
    (b"\x01\x02\x03", h(29) + b"\x03\0\0\0\x01\x02\x03\0"),
    (b"", h(29) + b"\0\0\0\0"),
    (PackedInt32Array([1, -1]), h(30) + struct.pack("<I2i", 2, 1, -1)),
    (PackedInt64Array([2**40]), h(31) + struct.pack("<Iq", 1, 2**40)),
    (PackedFloat32Array([0.5, 2]), h(32) + struct.pack("<I2f", 2, 0.5, 2)),
    (PackedFloat64Array([0.1]), h(33) + struct.pack("<Id", 1, 0.1)),
    # PackedStringArray: each length counts the NUL terminator Godot writes (utf8.length() + 1)
    (PackedStringArray(["ab", "abc"]), h(34) + struct.pack("<I", 2) + s(b"ab\0") + s(b"abc\0")),
    (PackedVector2Array([Vector2(1, 2)]), h(35) + struct.pack("<I2f", 1, 1, 2)),
    (PackedVector3Array([Vector3(1, 2, 3)]), h(36) + struct.pack("<I3f", 1, 1, 2, 3)),
    (PackedColorArray([Color(1, 0, 0, 1)]), h(37) + struct.pack("<I4f", 1, 1, 0, 0, 1)),
    (PackedVector4Array([Vector4(1, 2, 3, 4)]), h(38) + struct.pack("<I4f", 1, 1, 2, 3, 4)),
]


@pytest.mark.parametrize(("value", "wire"), GOLDEN, ids=lambda v: type(v).__name__)
def test_golden_bytes(value: object, wire: bytes) -> None:
    assert variant.encode(value) == wire
    decoded = variant.decode(wire)
    assert decoded == value
    assert type(decoded) is type(value) or isinstance(value, float | str | bytes)


def test_spec_examples() -> None:
    # MULTIPLAYER.md §5.1 examples of encode_variant
    assert variant.encode(0.5) == bytes.fromhex("0300000000 00003f".replace(" ", ""))
    assert variant.encode("hi") == bytes.fromhex("04000000 02000000 68690000".replace(" ", ""))
    assert variant.encode(TypedArray(VariantType.INT, [])).startswith(
        bytes.fromhex("1c000100 02000000")
    )


def test_str_and_string_name() -> None:
    # A str goes as STRING, a StringName as STRING_NAME; they compare equal as in Godot.
    assert variant.encode("a")[0] == 4
    assert variant.encode(StringName("a"))[0] == 21
    assert StringName("a") == "a" and hash(StringName("a")) == hash("a")
    assert type(variant.decode(variant.encode("a"))) is str


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        # double-precision (REAL_T_IS_DOUBLE) builds set HEADER_DATA_FLAG_64 on real types
        (h(5, F64) + struct.pack("<2d", 1.5, -2), Vector2(1.5, -2)),
        (h(7, F64) + struct.pack("<4d", 1, 2, 3, 4), Rect2(Vector2(1, 2), Vector2(3, 4))),
        (h(9, F64) + struct.pack("<3d", 1, 2, 3), Vector3(1, 2, 3)),
        (h(11, F64) + struct.pack("<6d", 1, 0, 0, 1, 5, 6), Transform2D(origin=Vector2(5, 6))),
        (h(12, F64) + struct.pack("<4d", 1, 2, 3, 4), Vector4(1, 2, 3, 4)),
        (h(14, F64) + struct.pack("<4d", 0, 1, 0, 3), Plane(Vector3(0, 1, 0), 3)),
        (h(15, F64) + struct.pack("<4d", 0, 0, 0, 1), Quaternion()),
        (
            h(16, F64) + struct.pack("<6d", 1, 2, 3, 4, 5, 6),
            AABB(Vector3(1, 2, 3), Vector3(4, 5, 6)),
        ),
        (h(17, F64) + struct.pack("<9d", 1, 0, 0, 0, 1, 0, 0, 0, 1), Basis()),
        (
            h(18, F64) + struct.pack("<12d", 1, 0, 0, 0, 1, 0, 0, 0, 1, 7, 8, 9),
            Transform3D(origin=Vector3(7, 8, 9)),
        ),
        (
            h(19, F64) + struct.pack("<16d", 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1),
            Projection(),
        ),
        (h(35, F64) + struct.pack("<I2d", 1, 1, 2), PackedVector2Array([Vector2(1, 2)])),
        (h(36, F64) + struct.pack("<I3d", 1, 1, 2, 3), PackedVector3Array([Vector3(1, 2, 3)])),
        (
            h(38, F64) + struct.pack("<I4d", 1, 1, 2, 3, 4),
            PackedVector4Array([Vector4(1, 2, 3, 4)]),
        ),
        (h(20, F64) + struct.pack("<4f", 1, 1, 1, 1), Color(1, 1, 1, 1)),  # Color ignores the flag
        (h(2, F64) + struct.pack("<q", 5), 5),  # a 64-bit int that fits 32 bits still decodes
        (h(1) + b"\x02\0\0\0", True),  # any non-zero u32 is true
        (h(28) + struct.pack("<I", 0x80000000), []),  # bit 31 of a count: old "shared" flag
        (h(4) + s(b"\xef\xbb\xbfok"), "ok"),  # UTF-8 parser skips a BOM
        (h(4) + s(b"ab\0cd"), "ab"),  # ... and stops at NUL
        (
            h(22) + struct.pack("<3I", 0x80000001, 0, 2) + s(b"A") + s(b"prop"),
            NodePath(("A",), ("prop",)),
        ),
        (h(29) + b"\x01\0\0\0\x09", b"\x09"),  # byte array padding is not checked (Godot)
        (
            h(28, 1 << 16) + struct.pack("<2I", 3, 1) + h(2) + b"\1\0\0\0",
            TypedArray(VariantType.FLOAT, [1.0]),
        ),
    ],
)
def test_decodes_other_forms(wire: bytes, value: object) -> None:
    assert variant.decode(wire) == value


def test_real_types_hold_single_precision() -> None:
    # A standard Godot build stores real_t as float: what we hold is what Godot holds.
    assert Vector2(0.1, 0).x == f32(0.1) != 0.1
    assert variant.decode(variant.encode(Vector3(0.1, 0.2, 0.3))) == Vector3(0.1, 0.2, 0.3)
    assert f32(1e300) == math.inf and f32(-1e300) == -math.inf
    nan = variant.encode(math.nan)
    assert nan[:4] == h(3, F64) and math.isnan(variant.decode(nan))  # NaN != NaN: 64-bit


@pytest.mark.parametrize(
    "value",
    [
        object(),
        2**63,
        -(2**63) - 1,
        {1, 2},
        "\ud800",  # lone surrogate: not UTF-8
        "a\0b",  # a Godot String cannot hold NUL
        PackedStringArray(["\udfff"]),
        StringName("\ud800"),
        TypedArray(VariantType.INT, ["x"]),
        TypedArray(VariantType.INT, [True]),
        TypedArray(VariantType.OBJECT, []),
        TypedDictionary(VariantType.STRING, VariantType.NIL, {1: 2}),
        {"k": object()},
    ],
    ids=repr,
)
def test_unencodable_values_raise_variant_error(value: object) -> None:
    with pytest.raises(variant.VariantError):
        variant.encode(value)


def test_nesting_limit() -> None:
    deep: list[object] = []
    for _ in range(variant.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(variant.VariantError):
        variant.encode(deep)
    wire = (h(28) + b"\1\0\0\0") * (variant.MAX_DEPTH + 2) + h(0)
    with pytest.raises(variant.VariantError):
        variant.decode(wire)


@pytest.mark.parametrize(
    "wire",
    [
        h(24, F64) + b"\1\0\0\0\0\0\0\0",  # object as id
        h(24, F64) + b"\0" * 8,  # null object id
        h(24) + s(b"Node") + b"\0\0\0\0",  # full object (needs allow_objects)
        h(25),  # Callable
        h(26) + s(b"sig") + b"\0" * 8,  # Signal
        h(28, 2 << 16) + s(b"Node") + b"\0\0\0\0",  # Array[Node] (class name kind)
        h(28, 3 << 16) + s(b"res://a.gd") + b"\0\0\0\0",  # Array[MyScript]
        h(28, 1 << 16) + struct.pack("<2I", 24, 0),  # Array[Object]
        h(27, 1 << 18) + struct.pack("<2I", 99, 0),  # invalid element type
        h(39),  # beyond VARIANT_MAX
        h(4) + struct.pack("<I", 3) + b"\xff\xfe\0\0",  # invalid UTF-8
        h(4) + struct.pack("<I", 3) + b"\xed\xa0\x80\0",  # UTF-8-encoded surrogate
        h(4) + struct.pack("<I", 3) + b"abc",  # missing string padding
        h(22) + struct.pack("<I", 1) + b"A\0\0\0",  # old NodePath format
        h(28) + struct.pack("<I", 1000),  # count larger than the data
        h(27) + struct.pack("<I", 0x7FFFFFFF),
        h(30) + struct.pack("<I", 0x40000000),  # count * 4 overflows int32 in C
        h(34) + struct.pack("<I", 0x80000000),  # negative count
        h(29) + struct.pack("<I", 0xFFFFFFFF),
        h(27) + b"\1\0\0\0" + h(27) + b"\0\0\0\0" + h(0),  # a Dictionary as key
        h(28, 1 << 16) + struct.pack("<2I", 2, 1) + h(4) + s(b"x"),  # "x" in Array[int]
        h(2),  # truncated int
        h(2, F64) + b"\0\0\0\0",
        b"\0\0",
        b"",
        h(2) + b"\0\0\0\0" + b"\0",  # trailing byte
    ],
    ids=lambda w: w.hex()[:24],
)
def test_refused_bytes_raise_variant_error(wire: bytes) -> None:
    with pytest.raises(variant.VariantError):
        variant.decode(wire)


def test_array_keys_become_tuples() -> None:
    wire = h(27) + b"\1\0\0\0" + variant.encode([1, 2]) + h(0)
    assert variant.decode(wire) == {(1, 2): None}
    assert variant.encode({(1, 2): None}) == wire


def test_node_path_text_form() -> None:
    path = NodePath.from_string("/root/Main/Player:position:x")
    assert path == NodePath(("root", "Main", "Player"), ("position", "x"), True)
    assert str(path) == "/root/Main/Player:position:x"
    assert str(NodePath.from_string("Main/Player")) == "Main/Player"
    assert NodePath.from_string("//A//B/:x:") == NodePath(("A", "B"), ("x",), True)
    assert NodePath.from_string("A:x::y") == NodePath()  # invalid in Godot: empty path


# -- property tests -------------------------------------------------------------------------------

reals = st.floats(width=32, allow_nan=False)
int32s = st.integers(-(2**31), 2**31 - 1)
texts = st.text(max_size=8).filter(lambda t: "\0" not in t and not t.startswith("\ufeff"))
v2 = st.builds(Vector2, reals, reals)
v3 = st.builds(Vector3, reals, reals, reals)
v4 = st.builds(Vector4, reals, reals, reals, reals)
colors = st.builds(Color, reals, reals, reals, reals)
basis = st.builds(Basis, v3, v3, v3)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    texts,
    texts.map(StringName),
    st.binary(max_size=9),
    v2,
    st.builds(Vector2i, int32s, int32s),
    st.builds(Rect2, v2, v2),
    st.builds(Rect2i, st.builds(Vector2i, int32s, int32s), st.builds(Vector2i, int32s, int32s)),
    v3,
    st.builds(Vector3i, int32s, int32s, int32s),
    st.builds(Transform2D, v2, v2, v2),
    v4,
    st.builds(Vector4i, int32s, int32s, int32s, int32s),
    st.builds(Plane, v3, reals),
    st.builds(Quaternion, reals, reals, reals, reals),
    st.builds(AABB, v3, v3),
    basis,
    st.builds(Transform3D, basis, v3),
    st.builds(Projection, v4, v4, v4, v4),
    colors,
    st.builds(
        NodePath,
        st.lists(texts, max_size=3).map(tuple),
        st.lists(texts, max_size=2).map(tuple),
        st.booleans(),
    ),
    st.builds(RID, st.integers(0, 2**64 - 1)),
    st.lists(int32s, max_size=4).map(PackedInt32Array),
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=4).map(PackedInt64Array),
    st.lists(reals, max_size=4).map(PackedFloat32Array),
    st.lists(st.floats(allow_nan=False), max_size=4).map(PackedFloat64Array),
    st.lists(texts, max_size=4).map(PackedStringArray),
    st.lists(v2, max_size=3).map(PackedVector2Array),
    st.lists(v3, max_size=3).map(PackedVector3Array),
    st.lists(colors, max_size=3).map(PackedColorArray),
    st.lists(v4, max_size=3).map(PackedVector4Array),
    st.lists(st.integers(-5, 5), max_size=4).map(lambda xs: TypedArray(VariantType.INT, xs)),
    st.dictionaries(texts, reals, max_size=3).map(
        lambda d: TypedDictionary(VariantType.STRING, VariantType.FLOAT, d)
    ),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(texts | st.integers(-(2**63), 2**63 - 1), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=400)
@given(values)
def test_roundtrip_every_type(value: object) -> None:
    wire = variant.encode(value)
    assert len(wire) % 4 == 0  # encode_variant output is always 4-byte aligned
    assert variant.decode(wire) == value
    assert variant.encode(variant.decode(wire)) == wire


@settings(max_examples=400)
@given(values, st.integers(0, 200), st.binary(max_size=8))
def test_decode_is_total_on_corrupted_values(value: object, cut: int, insert: bytes) -> None:
    wire = variant.encode(value)
    cut %= len(wire) + 1
    for mutated in (
        wire[:cut],
        wire[:cut] + insert + wire[cut:],
        wire[:cut] + insert + wire[cut + len(insert) :],
    ):
        try:
            again = variant.encode(variant.decode(mutated))
        except variant.VariantError:
            continue
        assert variant.encode(variant.decode(again)) == again


# -- Godot's own vectors (tests/core/io/test_marshalls.h, Godot 4.6-dev) ---------------------------

GODOT_INT64 = 0xF123456789ABCDEF - 2**64  # Variant(uint64_t(0x0f123456789abcdef)) as int64
GODOT_INT64_WIRE = bytes.fromhex("efcdab89674523f1")


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (None, bytes.fromhex("00000000")),
        (0x12345678, bytes.fromhex("02000000 78563412".replace(" ", ""))),
        (GODOT_INT64, bytes.fromhex("02000100") + GODOT_INT64_WIRE),
        (0.15625, bytes.fromhex("03000000 0000203e".replace(" ", ""))),
        (0.33333333333333333, bytes.fromhex("03000100 555555555555d53f".replace(" ", ""))),
        (
            TypedArray(VariantType.INT, [GODOT_INT64]),
            bytes.fromhex("1c000100 02000000 01000000 02000100".replace(" ", ""))
            + GODOT_INT64_WIRE,
        ),
        (
            TypedDictionary(VariantType.INT, VariantType.INT, {GODOT_INT64: GODOT_INT64}),
            bytes.fromhex("1b000500 02000000 02000000 01000000".replace(" ", ""))
            + bytes.fromhex("02000100")
            + GODOT_INT64_WIRE
            + bytes.fromhex("02000100")
            + GODOT_INT64_WIRE,
        ),
    ],
    ids=["nil", "int32", "int64", "float32", "float64", "typed_array", "typed_dictionary"],
)
def test_godot_test_marshalls_vectors(value: object, wire: bytes) -> None:
    assert variant.encode(value) == wire
    assert variant.decode(wire) == value


def test_put_var_refuses_what_godot_cannot_hold_with_invalid_parameter() -> None:
    from webrtc import Error, WebRTCMultiplayerPeer, WebRTCPeerConnection

    pc = WebRTCPeerConnection()
    assert pc.initialize() == Error.OK
    channel = pc.create_data_channel("vars")
    assert channel is not None
    for value in ("\ud800", {"k": "\udfff"}, object(), [1, object()], "a\0b"):
        assert channel.put_var(value) == Error.ERR_INVALID_PARAMETER  # never an exception
        assert WebRTCMultiplayerPeer().put_var(value) == Error.ERR_INVALID_PARAMETER
    pc.close()
