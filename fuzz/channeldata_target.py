"""Fuzz target: TURN ChannelData decoder (ice.channeldata) and its round trip."""

from __future__ import annotations

import sys

from ice.channeldata import decode_channel_data, encode_channel_data, is_channel_data
from ice.stun import StunError


def test_one_input(data: bytes) -> None:
    is_channel_data(data)
    try:
        channel, payload = decode_channel_data(data)
    except StunError:
        return
    assert decode_channel_data(encode_channel_data(channel, payload)) == (channel, payload)


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
