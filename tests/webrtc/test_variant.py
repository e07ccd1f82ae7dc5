"""put_var/get_var encoding: Godot 4 Variant bytes, basic types (every type: test_variant_godot)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webrtc import variant

# A Godot String holds no NUL, and its UTF-8 parser drops a leading BOM.
godot_text = st.text().filter(lambda s: "\0" not in s and not s.startswith("\ufeff"))
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | godot_text
    | st.binary(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            godot_text.filter(lambda s: len(s) <= 4) | st.integers(-(2**63), 2**63 - 1),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(values)
def test_roundtrip(value: object) -> None:
    assert variant.decode(variant.encode(value)) == value


@given(st.binary(max_size=64))
def test_decode_is_total(data: bytes) -> None:
    try:
        variant.decode(data)
    except variant.VariantError:
        pass


def test_known_encodings() -> None:
    # marshalls.cpp: header u32 = type | flags << 16; strings padded to 4 bytes
    assert variant.encode(None) == struct.pack("<I", 0)
    assert variant.encode(True) == struct.pack("<II", 1, 1)
    assert variant.encode(7) == struct.pack("<Ii", 2, 7)
    assert variant.encode(2**40) == struct.pack("<Iq", 2 | 1 << 16, 2**40)
    assert variant.encode(1.5) == struct.pack("<If", 3, 1.5)  # exact in 32 bits: flag clear
    assert variant.encode(0.1) == struct.pack("<Id", 3 | 1 << 16, 0.1)
    assert variant.encode("abc") == struct.pack("<II", 4, 3) + b"abc\0"
    assert variant.encode(b"\x01") == struct.pack("<II", 29, 1) + b"\x01\0\0\0"
    assert variant.encode([1]) == struct.pack("<II", 28, 1) + struct.pack("<Ii", 2, 1)
    assert variant.encode({"a": None}) == (
        struct.pack("<II", 27, 1) + struct.pack("<II", 4, 1) + b"a\0\0\0" + struct.pack("<I", 0)
    )
    assert variant.decode(struct.pack("<If", 3, 0.5)) == 0.5  # 32-bit float from Godot


@pytest.mark.parametrize("value", [object(), 2**64, {1, 2}])
def test_unencodable(value: object) -> None:
    with pytest.raises(variant.VariantError):
        variant.encode(value)


def test_trailing_and_unhashable() -> None:
    with pytest.raises(variant.VariantError):
        variant.decode(variant.encode(1) + b"\0")
    bad_dict = struct.pack("<II", 27, 1) + variant.encode({}) + variant.encode(None)
    with pytest.raises(variant.VariantError):
        variant.decode(bad_dict)
