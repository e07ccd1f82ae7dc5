"""Fuzz target: SCTP packet decoder and the association state machine.

Only `sctp.SctpError` may escape the decoder; `Association.receive` must never raise.
"""

from __future__ import annotations

import random
import sys

import sctp
from sctp import chunks


def _established_pair() -> tuple[sctp.Association, sctp.Association]:
    a = sctp.Association(is_client=True, rng=random.Random(1))
    b = sctp.Association(is_client=False, rng=random.Random(2))
    a.connect(0.0)
    b.connect(0.0)
    for _ in range(10):
        for p in a.datagrams_to_send():
            b.receive(p, 0.01)
        for p in b.datagrams_to_send():
            a.receive(p, 0.01)
    sid = a.open_channel("fuzz")
    b.open_channel("neg", negotiated_id=1)
    a.send(sid, b"x" * 3000)
    for p in a.datagrams_to_send():
        b.receive(p, 0.02)
    return a, b


def test_one_input(data: bytes) -> None:
    try:
        chunks.decode_packet(data, check_crc=False)
    except sctp.SctpError:
        pass
    # stateful: feed the bytes (with our tag and a valid checksum) to a fresh association
    _a, b = _established_pair()
    body = data[12:] if len(data) >= 12 else data
    tag = b.handshake.local_tag if not data or data[0] & 1 else 0
    pkt = chunks.encode_packet(5000, 5000, tag, body)
    b.receive(pkt, 0.03)
    b.receive(data, 0.03)
    b.datagrams_to_send()
    b.handle_timeout(5.0)
    b.datagrams_to_send()
    while b.next_event() is not None:
        pass
    closed = sctp.Association(is_client=False, rng=random.Random(3))
    closed.receive(chunks.encode_packet(5000, 5000, 0, body), 0.0)
    closed.datagrams_to_send()


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
