"""Fuzz target: Godot Variant decoding behind `WebRTCDataChannel.get_var` (webrtc.variant)."""

from __future__ import annotations

import sys

from webrtc.variant import VariantError, decode, decode_prefix, encode


def test_one_input(data: bytes) -> None:
    try:
        value, end = decode_prefix(data)
    except VariantError:
        return
    assert 4 <= end <= len(data)
    try:
        again = encode(value)  # whatever decodes must encode again, and round-trip exactly
    except VariantError:
        raise AssertionError(f"decoded value does not encode: {value!r}") from None
    assert len(again) % 4 == 0
    assert encode(decode(again)) == again


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
