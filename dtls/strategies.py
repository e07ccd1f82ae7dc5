"""Hypothesis strategies for DTLS 1.2 (RFC 6347) records, handshake messages and fragments.

Needs `pip install '.[testing]'`. Valid by default: `client_hellos()`, `server_hellos()`,
`hello_verify_requests()` (the `dtls.messages` dataclasses; `X.parse(x.encode()) == x`),
`handshake_messages()` (whole messages with their 12-byte header, RFC 6347 §4.2.2),
`fragmented()` (a message split into fragments that `dtls.messages.parse_fragments` reads back),
`records()` / `datagrams()` (plaintext records with correct headers, RFC 6347 §4.1).
Near-valid mutations: `mutated_handshake()` (a fragment header whose length or offset overruns,
a truncated header) makes `parse_fragments` raise `dtls.DecodeError`; `mutated_client_hellos()`
(truncated, a vector length out of range, trailing bytes, a duplicate extension) makes
`ClientHello.parse` raise `dtls.DecodeError`; `mutated_records()` (a record length that does not
match, a truncated header) is dropped by `dtls.Connection.receive` and counted in
`stats.malformed`, never raised. Shrinks towards empty vectors and small numbers.

Not imported by `dtls/__init__`: the package works without hypothesis.
"""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

from .messages import (
    ClientHello,
    HandshakeType,
    HelloVerifyRequest,
    ServerHello,
    encode_extensions,
    encode_fragment,
    encode_message,
)
from .record import DTLS_1_2, HEADER, HEADER_LEN, SEQ_MASK, ContentType

__all__ = [
    "HANDSHAKE_MUTATIONS",
    "client_hellos",
    "datagrams",
    "fragmented",
    "handshake_messages",
    "hello_verify_requests",
    "mutated_client_hellos",
    "mutated_handshake",
    "mutated_records",
    "record",
    "records",
    "server_hellos",
]

_SUITES = (0xC02B, 0xC02F, 0xC00A, 0xC014, 0xCCA9, 0x00FF)  # the WebRTC ones + SCSV


def _extensions() -> st.SearchStrategy[tuple[tuple[int, bytes], ...]]:
    """Extensions with distinct types (RFC 5246 §7.4.1.4)."""
    return st.lists(
        st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=16)),
        max_size=4,
        unique_by=lambda e: e[0],
    ).map(tuple)


def client_hellos() -> st.SearchStrategy[ClientHello]:
    """ClientHello bodies (RFC 6347 §4.2.1: with a cookie of 0-255 bytes)."""
    return st.builds(
        ClientHello,
        version=st.just(DTLS_1_2),
        random=st.binary(min_size=32, max_size=32),
        session_id=st.binary(max_size=32),
        cookie=st.binary(max_size=255),
        cipher_suites=st.lists(st.sampled_from(_SUITES), min_size=1, max_size=6).map(tuple),
        compression_methods=st.just(b"\x00"),
        extensions=_extensions(),
    )


def server_hellos() -> st.SearchStrategy[ServerHello]:
    return st.builds(
        ServerHello,
        version=st.just(DTLS_1_2),
        random=st.binary(min_size=32, max_size=32),
        session_id=st.binary(max_size=32),
        cipher_suite=st.sampled_from(_SUITES[:5]),
        compression_method=st.just(0),
        extensions=_extensions(),
    )


def hello_verify_requests() -> st.SearchStrategy[HelloVerifyRequest]:
    return st.builds(HelloVerifyRequest, st.just(DTLS_1_2), st.binary(max_size=255))


@st.composite
def handshake_messages(draw: st.DrawFn) -> bytes:
    """A whole handshake message (header + body) with message_seq 0..5."""
    body = draw(st.one_of(client_hellos(), server_hellos(), hello_verify_requests()))
    msg_type = {
        ClientHello: HandshakeType.client_hello,
        ServerHello: HandshakeType.server_hello,
        HelloVerifyRequest: HandshakeType.hello_verify_request,
    }[type(body)]
    return encode_message(msg_type, draw(st.integers(0, 5)), body.encode())


@st.composite
def fragmented(draw: st.DrawFn, message: bytes | None = None) -> tuple[bytes, list[bytes]]:
    """`(message, fragments)`: a handshake message cut at random offsets (RFC 6347 §4.2.3)."""
    msg = message if message is not None else draw(handshake_messages())
    msg_type, seq, body = msg[0], int.from_bytes(msg[4:6], "big"), msg[12:]
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(body) - 1)), max_size=4))))
    bounds = [0, *[c for c in cuts if c < len(body)], len(body)]
    frags = [
        encode_fragment(msg_type, len(body), seq, a, body[a:b])
        for a, b in itertools.pairwise(bounds)
    ]
    return msg, frags


def record(content_type: int, epoch: int, sequence: int, fragment: bytes) -> bytes:
    """One DTLS 1.2 record (RFC 6347 §4.1)."""
    return HEADER.pack(content_type, DTLS_1_2, (epoch << 48) | sequence, len(fragment)) + fragment


@st.composite
def records(draw: st.DrawFn, content_type: int | None = None, epoch: int = 0) -> bytes:
    """A plaintext record: handshake fragments, an alert, ChangeCipherSpec or opaque data."""
    ct = content_type if content_type is not None else draw(st.sampled_from(list(ContentType)))
    if ct == ContentType.handshake:
        payload = b"".join(draw(fragmented())[1])
    elif ct == ContentType.alert:
        payload = bytes([draw(st.sampled_from((1, 2))), draw(st.integers(0, 255))])
    elif ct == ContentType.change_cipher_spec:
        payload = b"\x01"
    else:
        payload = draw(st.binary(max_size=64))
    return record(ct, epoch, draw(st.integers(0, SEQ_MASK)), payload)


def datagrams(epoch: int = 0) -> st.SearchStrategy[bytes]:
    """1-3 records in one datagram (RFC 6347 §4.1.1)."""
    return st.lists(records(epoch=epoch), min_size=1, max_size=3).map(b"".join)


HANDSHAKE_MUTATIONS = ("fragment-length", "fragment-offset", "truncated-header")


@st.composite
def mutated_handshake(draw: st.DrawFn) -> bytes:
    """Handshake record payloads `parse_fragments` must reject with `dtls.DecodeError`."""
    msg = bytearray(draw(handshake_messages()))
    kind = draw(st.sampled_from(HANDSHAKE_MUTATIONS))
    if kind == "fragment-length":  # fragment_length past the end of the payload
        body_len = len(msg) - 12
        msg[9:12] = (body_len + draw(st.integers(1, 1000))).to_bytes(3, "big")
    elif kind == "fragment-offset":  # offset + fragment_length > length
        msg[6:9] = draw(st.integers(1, 0xFFFF)).to_bytes(3, "big")
    else:
        msg = msg[: draw(st.integers(1, 11))]
    return bytes(msg)


@st.composite
def mutated_client_hellos(draw: st.DrawFn) -> bytes:
    """ClientHello bodies `ClientHello.parse` must reject with `dtls.DecodeError`."""
    hello = draw(client_hellos())
    raw = bytearray(hello.encode())
    kind = draw(st.sampled_from(("truncated", "session-id", "suites", "trailing", "dup-ext")))
    if kind == "truncated":
        # any cut but the one right before the (optional) extensions block, which would leave a
        # valid ClientHello without extensions
        optional = len(raw) - len(encode_extensions(hello.extensions))
        cut = draw(st.integers(0, len(raw) - 1).filter(lambda n: n != optional))
        return bytes(raw[:cut])
    if kind == "session-id":  # RFC 5246 §7.4.1.2: at most 32 bytes
        return bytes(raw[:34]) + bytes([draw(st.integers(33, 255))]) + bytes(raw[35:])
    if kind == "suites":  # no cipher suites at all (minimum 2 bytes)
        pos = 34 + 1 + len(hello.session_id)
        pos += 1 + len(hello.cookie)
        n = len(hello.cipher_suites) * 2
        return bytes(raw[:pos]) + b"\x00\x00" + bytes(raw[pos + 2 + n :])
    if kind == "trailing":
        return bytes(raw) + draw(st.binary(min_size=1, max_size=1))
    ext = (0x000A, b"")
    dup = ClientHello(
        hello.version,
        hello.random,
        hello.session_id,
        hello.cookie,
        hello.cipher_suites,
        hello.compression_methods,
        (ext, ext),
    )
    return dup.encode()


@st.composite
def mutated_records(draw: st.DrawFn) -> bytes:
    """A datagram whose (last) record has a wrong length or a truncated header."""
    good = draw(records())
    if draw(st.booleans()):
        return good[: draw(st.integers(1, HEADER_LEN - 1))]
    length = int.from_bytes(good[11:13], "big")
    raw = bytearray(good)
    raw[11:13] = (length + draw(st.integers(1, 1000))).to_bytes(2, "big")
    return bytes(raw)
