"""Fuzz target: Godot Variant decoding behind `WebRTCDataChannel.get_var` (webrtc.variant)."""

from __future__ import annotations

import sys

from webrtc.variant import VariantError, decode, encode


def test_one_input(data: bytes) -> None:
    try:
        value = decode(data)
    except VariantError:
        return
    again = encode(value)  # whatever decodes must encode again, and round-trip exactly
    assert encode(decode(again)) == again


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
