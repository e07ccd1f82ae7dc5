"""DtlsDecryptor opens application data of every cipher suite our DTLS negotiates, from the
CLIENT_RANDOM lines the DTLS layer writes to its key log, and nothing without them."""

from __future__ import annotations

import functools

import pytest

import dtls
from dtls import Certificate, Connection, State
from dtls.cipher import SUITES
from webrtc.ladder.capture import DtlsDecryptor, parse_keylog

CLIENT, SERVER = ("192.0.2.1", 1000), ("192.0.2.2", 2000)


@functools.cache
def _cert(kind: str, index: int) -> Certificate:
    del index
    return Certificate.generate(kind)


def _session(suite: int) -> tuple[list[tuple[bytes, tuple[str, int], tuple[str, int]]], list[str]]:
    """A handshake and one message each way; (datagram, src, dst) in order, and the key log."""
    kind = "rsa-2048" if SUITES[suite].rsa else "ecdsa-p256"
    cc, sc = _cert(kind, 0), _cert(kind, 1)
    lines: list[str] = []
    client = Connection(
        is_client=True,
        certificate=cc,
        remote_fingerprints=[("sha-256", dtls.fingerprint(sc.der, "sha-256"))],
        cipher_suites=[suite],
        keylog=lines.append,
    )
    server = Connection(
        is_client=False,
        certificate=sc,
        remote_fingerprints=[("sha-256", dtls.fingerprint(cc.der, "sha-256"))],
        cipher_suites=[suite],
    )
    wire: list[tuple[bytes, tuple[str, int], tuple[str, int]]] = []

    def pump() -> None:
        for _ in range(20):
            moved = False
            for src, dst, a, b in (
                (client, server, CLIENT, SERVER),
                (server, client, SERVER, CLIENT),
            ):
                for d in src.datagrams_to_send():
                    wire.append((d, a, b))
                    dst.receive(d, 0.0)
                    moved = True
            if not moved:
                return

    client.start(0.0)
    pump()
    assert client.state is State.ESTABLISHED and server.state is State.ESTABLISHED
    client.send(b"from the client")
    server.send(b"from the server")
    pump()
    return wire, lines


@pytest.mark.parametrize("suite", sorted(SUITES), ids=lambda s: f"{s:#06x}")
def test_every_suite_decrypts(suite: int) -> None:
    wire, lines = _session(suite)
    keys = parse_keylog(lines)
    assert len(keys) == 1
    dec = DtlsDecryptor(keys)
    opened = [p for d, s, t in wire for p in dec.records(d, s, t) if p is not None]
    assert opened == [b"from the client", b"from the server"]
    assert dec.failed == 0
    blind = DtlsDecryptor({})
    assert [p for d, s, t in wire for p in blind.records(d, s, t)] == [None, None]
    wrong = DtlsDecryptor({k: bytes(48) for k in keys})  # right random, wrong secret
    assert [p for d, s, t in wire for p in wrong.records(d, s, t)] == [None, None]
    assert wrong.failed == 2
