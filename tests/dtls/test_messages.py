"""Handshake message codecs: round trips and totality (only DtlsError on bad input)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dtls import DtlsError
from dtls import messages as m

DECODERS: list[Callable[[bytes], object]] = [
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
]


@pytest.mark.parametrize("decode", DECODERS, ids=lambda f: getattr(f, "__qualname__", "f"))
@given(data=st.binary(max_size=300))
def test_decoders_are_total(decode: Callable[[bytes], object], data: bytes) -> None:
    try:
        decode(data)
    except DtlsError:
        pass


def test_client_hello_round_trip() -> None:
    hello = m.ClientHello(
        0xFEFD,
        bytes(range(32)),
        b"",
        b"cookie",
        (0xC02B, 0xC02F),
        b"\x00",
        (
            (m.ExtensionType.extended_master_secret, b""),
            (m.ExtensionType.use_srtp, b"\x00\x02\x00\x01\x00"),
        ),
    )
    assert m.ClientHello.parse(hello.encode()) == hello
    assert b"cookie" not in hello.cookie_input()


@given(
    st.builds(
        m.ServerHello,
        st.integers(0, 0xFFFF),
        st.binary(min_size=32, max_size=32),
        st.binary(max_size=32),
        st.integers(0, 0xFFFF),
        st.integers(0, 255),
        st.lists(
            st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=20)),
            unique_by=lambda t: t[0],
            min_size=1,
            max_size=4,
        ).map(tuple),
    )
)
def test_server_hello_round_trip(hello: m.ServerHello) -> None:
    assert m.ServerHello.parse(hello.encode()) == hello


def test_duplicate_extension_rejected() -> None:
    hello = m.ServerHello(0xFEFD, bytes(32), b"", 0xC02B, 0, ((23, b""), (23, b"")))
    with pytest.raises(DtlsError):
        m.ServerHello.parse(hello.encode())


@given(
    st.integers(0, 255),
    st.integers(0, 0xFFFF),
    st.binary(max_size=600),
    st.integers(1, 200),
)
def test_fragments_reassemble(msg_type: int, seq: int, body: bytes, size: int) -> None:
    chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    record = b""
    offset = 0
    for c in chunks:
        record += m.encode_fragment(msg_type, len(body), seq, offset, c)
        offset += len(c)
    frags = m.parse_fragments(record)
    assert b"".join(f.body for f in frags) == body
    assert all(f.msg_type == msg_type and f.message_seq == seq for f in frags)
    assert [f.offset for f in frags] == [
        sum(len(c) for c in chunks[:i]) for i in range(len(chunks))
    ]


def test_fragment_bounds_checked() -> None:
    bad = m.encode_fragment(1, 10, 0, 8, b"abcd")  # offset + length > message length
    with pytest.raises(DtlsError):
        m.parse_fragments(bad)
    with pytest.raises(DtlsError):
        m.parse_fragments(m.encode_fragment(1, 10, 0, 0, b"abcd")[:-1])


def test_other_messages_round_trip() -> None:
    ske = m.ServerKeyExchange(29, b"\x01" * 32, 0x0403, b"sig")
    assert m.ServerKeyExchange.parse(ske.encode()) == ske
    cr = m.CertificateRequest(b"\x40", (0x0403, 0x0804))
    assert m.CertificateRequest.parse(cr.encode()) == cr
    cert = m.CertificateMessage((b"a", b"bc"))
    assert m.CertificateMessage.parse(cert.encode()) == cert
    cv = m.CertificateVerify(0x0403, b"sig")
    assert m.CertificateVerify.parse(cv.encode()) == cv
    assert m.parse_use_srtp(m.encode_use_srtp((1, 7), b"m")) == ((1, 7), b"m")
    hvr = m.HelloVerifyRequest(0xFEFF, b"c" * 20)
    assert m.HelloVerifyRequest.parse(hvr.encode()) == hvr
