"""Fuzz target: arbitrary datagrams into a DTLS client and server at different handshake states.

The first byte picks the state (fresh, after the cookie exchange, mid-handshake, established),
the endpoint (client or server) and how the rest is delivered: as a raw datagram, wrapped in an
epoch-0 handshake record, as a handshake fragment with the expected message_seq, or wrapped in a
correctly encrypted epoch-1 record. Only `dtls.DtlsError` may escape from the API.
"""

from __future__ import annotations

import sys

from dtls import Certificate, Connection, DtlsError, fingerprint
from dtls.messages import encode_fragment
from dtls.record import EpochState

_CLIENT_CERT = Certificate.generate()
_SERVER_CERT = Certificate.generate()


def _pair() -> tuple[Connection, Connection]:
    client = Connection(
        is_client=True,
        certificate=_CLIENT_CERT,
        remote_fingerprints=[("sha-256", fingerprint(_SERVER_CERT.der, "sha-256"))],
        srtp_profiles=(1, 7),
        mtu=300,
    )
    server = Connection(
        is_client=False,
        certificate=_SERVER_CERT,
        remote_fingerprints=[("sha-256", fingerprint(_CLIENT_CERT.der, "sha-256"))],
        srtp_profiles=(7,),
        mtu=300,
    )
    return client, server


def pair_at(stage: int) -> tuple[Connection, Connection]:
    """0 fresh; 1 cookie exchanged; 2 flight 4 delivered; 3 flight 5 delivered; 4 established."""
    client, server = _pair()
    client.start(0.0)
    steps = [(client, server), (server, client), (client, server), (server, client)]
    steps += [(client, server), (server, client)]
    for sender, receiver in steps[: 1 + 2 * stage]:
        for d in sender.datagrams_to_send():
            receiver.receive(d, 0.0)
    return client, server


def test_one_input(data: bytes) -> None:
    if not data:
        return
    mode = data[0]
    payload = data[1:]
    client, server = pair_at(mode % 5)
    target, peer = (client, server) if (mode >> 3) & 1 else (server, client)
    wrap = (mode >> 4) & 3
    if wrap == 0:
        datagram = payload
    elif wrap == 1:
        datagram = EpochState(0).seal(22, payload)
    elif wrap == 2:
        msg_type = payload[0] if payload else 0
        body = payload[1:]
        seq = target._recv_seq
        datagram = EpochState(0).seal(22, encode_fragment(msg_type, len(body), seq, 0, body))
    else:
        write = peer._write.get(1)
        if write is None:
            datagram = payload
        else:
            content_type = 20 + (payload[0] % 4 if payload else 0)
            datagram = write.seal(content_type, payload[1:])
    target.receive(datagram, 1.0)
    target.handle_timeout(2.0)
    target.datagrams_to_send()
    while target.next_event() is not None:
        pass
    try:
        target.send(b"x")
    except DtlsError:
        pass


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
