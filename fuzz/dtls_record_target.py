"""Fuzz target: DTLS record layer and handshake message decoders.

Arbitrary bytes go (1) through every handshake message decoder and the fragment parser, which may
raise only `dtls.DtlsError`, and (2) as a datagram into an established server connection, whose
`receive` must never raise.
"""

from __future__ import annotations

import sys

from dtls import Certificate, Connection, DtlsError, State, fingerprint
from dtls import messages as m

_CLIENT_CERT = Certificate.generate()
_SERVER_CERT = Certificate.generate()

_DECODERS = (
    m.ClientHello.parse,
    m.ServerHello.parse,
    m.HelloVerifyRequest.parse,
    m.CertificateMessage.parse,
    m.ServerKeyExchange.parse,
    m.CertificateRequest.parse,
    m.ClientKeyExchange.parse,
    m.CertificateVerify.parse,
    m.parse_fragments,
    m.parse_use_srtp,
    m.parse_u16_vector_ext,
)


def _established() -> Connection:
    client = Connection(
        is_client=True,
        certificate=_CLIENT_CERT,
        remote_fingerprints=[("sha-256", fingerprint(_SERVER_CERT.der, "sha-256"))],
    )
    server = Connection(
        is_client=False,
        certificate=_SERVER_CERT,
        remote_fingerprints=[("sha-256", fingerprint(_CLIENT_CERT.der, "sha-256"))],
    )
    client.start(0.0)
    for _ in range(4):
        for d in client.datagrams_to_send():
            server.receive(d, 0.0)
        for d in server.datagrams_to_send():
            client.receive(d, 0.0)
    assert server.state is State.ESTABLISHED
    return server


_SERVER = _established()


def test_one_input(data: bytes) -> None:
    global _SERVER
    for decode in _DECODERS:
        try:
            decode(data)
        except DtlsError:
            pass
    if _SERVER.state is not State.ESTABLISHED:
        _SERVER = _established()
    _SERVER.receive(data, 1.0)
    _SERVER.datagrams_to_send()
    while _SERVER.next_event() is not None:
        pass


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
