"""Fuzz target: arbitrary datagrams into an `ice.Agent`'s `receive()`.

The first byte picks how the rest is used: raw datagrams (split on a marker), or as the attribute
body of a Binding request/response that carries valid MESSAGE-INTEGRITY and FINGERPRINT, so the
fuzzer reaches the checks' logic past the authentication.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import random
import struct

import ice
import sdp

LOCAL = ("10.0.0.1", 5000)
PEER = ("10.0.0.2", 6000)
UFRAG, PWD = "locl", "localpassword0123456789"
R_UFRAG, R_PWD = "remt", "remotepassword012345678"
_HEADER = struct.Struct("!HHI12s")


def _signed(msg_type: int, tid: bytes, body: bytes, key: bytes) -> bytes:
    body = body[: 0xFFFF - 64]
    body += b"\x00" * (-len(body) & 3)
    head = _HEADER.pack(msg_type, len(body) + 24, 0x2112A442, tid)
    mac = hmac.new(key, head + body, hashlib.sha1).digest()
    body += struct.pack("!HH", 0x0008, 20) + mac
    head = _HEADER.pack(msg_type, len(body) + 8, 0x2112A442, tid)
    crc = binascii.crc32(head + body) ^ 0x5354554E
    body += struct.pack("!HHI", 0x8028, 4, crc)
    return _HEADER.pack(msg_type, len(body), 0x2112A442, tid) + body


def _agent(controlling: bool) -> ice.Agent:
    agent = ice.Agent(
        controlling=controlling,
        rng=random.Random(0),
        local_ufrag=UFRAG,
        local_pwd=PWD,
        tie_breaker=1 << 62,
    )
    agent.gather([LOCAL], 0.0)
    agent.set_remote_credentials(R_UFRAG, R_PWD)
    agent.add_remote_candidate(
        sdp.Candidate.parse("candidate:1 1 udp 2130706431 10.0.0.2 6000 typ host")
    )
    return agent


def test_one_input(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0], data[1:]
    agent = _agent(controlling=bool(mode & 1))
    now = 0.0
    agent.handle_timeout(now)
    sent = agent.datagrams_to_send()
    tid = sent[0][0][8:20] if sent else b"\x00" * 12
    try:
        if mode & 6 == 0:
            for chunk in rest.split(b"\xff\xfe"):
                now += 0.01
                agent.receive(chunk, PEER, now, LOCAL)
        elif mode & 6 == 2:
            # a request with a valid USERNAME prefix in the fuzzed attributes
            agent.receive(_signed(0x0001, b"F" * 12, rest, PWD.encode()), PEER, 0.01, LOCAL)
        elif mode & 6 == 4:
            # a success or error response to our outstanding check
            msg_type = 0x0111 if mode & 8 else 0x0101
            agent.receive(_signed(msg_type, tid, rest, R_PWD.encode()), PEER, 0.01, LOCAL)
        else:
            agent.receive(rest, (rest[:4].hex(), len(rest)), 0.01, LOCAL if mode & 8 else None)
        for _ in range(5):
            t = agent.next_timeout()
            if t is None:
                break
            agent.handle_timeout(max(t, now))
            now = max(t, now)
        agent.datagrams_to_send()
        agent.send(b"\x17x")
        while agent.next_event() is not None:
            pass
    except ice.StunError:
        pass


if __name__ == "__main__":
    import sys

    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
