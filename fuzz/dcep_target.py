"""Fuzz target: DCEP message decoder (RFC 8832). Only `sctp.SctpError` may escape."""

from __future__ import annotations

import sys

import sctp


def test_one_input(data: bytes) -> None:
    try:
        msg = sctp.decode_dcep(data)
    except sctp.SctpError:
        return
    assert sctp.decode_dcep(msg.encode()) == msg


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
