"""Fuzz target: the signaling message codec (webrtc.signaling.protocol)."""

from __future__ import annotations

import sys

from webrtc.signaling.protocol import (
    ProtocolError,
    decode_candidate,
    decode_message,
    encode_message,
)


def test_one_input(data: bytes) -> None:
    try:
        message = decode_message(data)
    except ProtocolError:
        return
    assert decode_message(encode_message(message)) == message
    try:
        decode_candidate(message.data)
    except ProtocolError:
        pass


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
