"""The fragmented-ClientHello workaround (webrtc.dtls_compat) against the real dtls package."""

from __future__ import annotations

import random

import dtls
from webrtc.dtls_compat import ClientHelloReassembler


def client_hello() -> bytes:
    cert = dtls.Certificate.generate()
    client = dtls.Connection(is_client=True, certificate=cert, rng=random.Random(1))
    client.start(0.0)
    (datagram,) = client.datagrams_to_send()
    return datagram


def fragment(datagram: bytes, cut: int) -> list[bytes]:
    """Split the single ClientHello record into two records carrying two fragments."""
    header, body = datagram[:13], datagram[13:]
    hs, msg = body[:12], body[12:]
    total = int.from_bytes(hs[1:4], "big")
    assert total == len(msg)
    out = []
    for i, (off, part) in enumerate(((0, msg[:cut]), (cut, msg[cut:]))):
        frag = hs[:6] + off.to_bytes(3, "big") + len(part).to_bytes(3, "big") + part
        rec = header[:5] + (i + 1).to_bytes(6, "big") + len(frag).to_bytes(2, "big") + frag
        out.append(rec)
    return out


def server() -> dtls.Connection:
    return dtls.Connection(is_client=False, certificate=dtls.Certificate.generate())


def test_unfragmented_passes_through() -> None:
    hello = client_hello()
    assert ClientHelloReassembler().feed(hello) is hello


def test_fragmented_hello_is_reassembled_and_answered() -> None:
    hello = client_hello()
    first, second = fragment(hello, 40)
    r = ClientHelloReassembler()
    assert r.feed(first) is None
    whole = r.feed(second)
    assert whole is not None
    assert whole[13:] == hello[13:]  # same handshake message, unfragmented
    srv = server()
    srv.receive(whole, 0.0)
    assert srv.datagrams_to_send()  # HelloVerifyRequest (RFC 6347 §4.2.1)


def test_out_of_order_fragments_and_other_records() -> None:
    hello = client_hello()
    first, second = fragment(hello, 77)
    other = bytes([21, 0xFE, 0xFD]) + bytes(8) + (2).to_bytes(2, "big") + b"\x01\x00"
    r = ClientHelloReassembler()
    assert r.feed(second + other) == other  # other records pass through
    whole = r.feed(first)
    assert whole is not None and whole[13:] == hello[13:]


def test_dtls_alone_ignores_fragmented_hello() -> None:
    """Documents the dtls limitation this module works around (flip when dtls reassembles)."""
    first, second = fragment(client_hello(), 40)
    srv = server()
    srv.receive(first, 0.0)
    srv.receive(second, 0.0)
    assert srv.datagrams_to_send() == []
