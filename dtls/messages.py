"""Handshake message codecs (RFC 5246 §7.4, RFC 6347 §4.2, RFC 8422, RFC 5764, RFC 7627).

Every decoder raises only `DecodeError` (a `DtlsError`) on malformed input.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from .errors import DecodeError


class HandshakeType(IntEnum):
    """RFC 5246 §7.4 + RFC 6347 §4.2.1."""

    hello_request = 0
    client_hello = 1
    server_hello = 2
    hello_verify_request = 3
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    finished = 20


class ExtensionType(IntEnum):
    supported_groups = 10
    ec_point_formats = 11
    signature_algorithms = 13
    use_srtp = 14
    extended_master_secret = 23
    renegotiation_info = 0xFF01


TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF  # RFC 5746 §3.3
HS_HEADER_LEN = 12
# msg_type u8 | length u24 (one u32) | message_seq u16 | fragment_offset u24 | fragment_length u24
_HS = struct.Struct("!IHHI")
_U16 = struct.Struct("!H")


@dataclass(frozen=True)
class Fragment:
    msg_type: int
    length: int
    message_seq: int
    offset: int
    body: bytes


def encode_fragment(msg_type: int, length: int, seq: int, offset: int, body: bytes) -> bytes:
    """A handshake header (RFC 6347 §4.2.2) followed by the fragment body."""
    return (
        _HS.pack((msg_type << 24) | length, seq, offset >> 8, ((offset & 0xFF) << 24) | len(body))
        + body
    )


def encode_message(msg_type: int, seq: int, body: bytes) -> bytes:
    """An unfragmented handshake message, as hashed into the transcript (RFC 6347 §4.2.6)."""
    return encode_fragment(msg_type, len(body), seq, 0, body)


def parse_fragments(data: bytes) -> list[Fragment]:
    """All handshake fragments in one record payload."""
    out = []
    pos = 0
    n = len(data)
    while pos < n:
        if n - pos < HS_HEADER_LEN:
            raise DecodeError("truncated handshake header")
        a, seq, off_hi, b = _HS.unpack_from(data, pos)
        msg_type, length = a >> 24, a & 0xFFFFFF
        offset = (off_hi << 8) | (b >> 24)
        frag_len = b & 0xFFFFFF
        pos += HS_HEADER_LEN
        if frag_len > n - pos or offset + frag_len > length:
            raise DecodeError("bad handshake fragment bounds")
        out.append(Fragment(msg_type, length, seq, offset, data[pos : pos + frag_len]))
        pos += frag_len
    return out


class Reader:
    """Bounds-checked reader; raises DecodeError."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError("truncated")
        b = self.data[self.pos : self.pos + n]
        self.pos += n
        return b

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int, minimum: int = 0, maximum: int | None = None) -> bytes:
        n = self.uint(length_size)
        if n < minimum or (maximum is not None and n > maximum):
            raise DecodeError("vector length out of range")
        return self.take(n)

    def eof(self) -> bool:
        return self.pos >= len(self.data)

    def done(self) -> None:
        if self.pos != len(self.data):
            raise DecodeError("trailing bytes")


def vec(length_size: int, data: bytes) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def u16_list(data: bytes) -> tuple[int, ...]:
    if len(data) % 2:
        raise DecodeError("odd u16 list")
    return tuple(v for (v,) in _U16.iter_unpack(data))


def encode_u16_list(values: tuple[int, ...] | list[int]) -> bytes:
    return b"".join(_U16.pack(v) for v in values)


Extensions = tuple[tuple[int, bytes], ...]


def parse_extensions(r: Reader) -> Extensions:
    if r.eof():
        return ()
    inner = Reader(r.vector(2))
    out: list[tuple[int, bytes]] = []
    seen = set()
    while not inner.eof():
        ext_type = inner.uint(2)
        if ext_type in seen:
            raise DecodeError("duplicate extension")  # RFC 5246 §7.4.1.4
        seen.add(ext_type)
        out.append((ext_type, inner.vector(2)))
    return tuple(out)


def encode_extensions(extensions: Extensions) -> bytes:
    if not extensions:
        return b""
    return vec(2, b"".join(_U16.pack(t) + vec(2, d) for t, d in extensions))


def find_extension(extensions: Extensions, ext_type: int) -> bytes | None:
    for t, d in extensions:
        if t == ext_type:
            return d
    return None


@dataclass(frozen=True)
class ClientHello:
    version: int
    random: bytes
    session_id: bytes
    cookie: bytes
    cipher_suites: tuple[int, ...]
    compression_methods: bytes
    extensions: Extensions

    def encode(self) -> bytes:
        return (
            _U16.pack(self.version)
            + self.random
            + vec(1, self.session_id)
            + vec(1, self.cookie)
            + vec(2, encode_u16_list(self.cipher_suites))
            + vec(1, self.compression_methods)
            + encode_extensions(self.extensions)
        )

    def cookie_input(self) -> bytes:
        """The fields a stateless cookie binds (everything but the cookie itself)."""
        return (
            _U16.pack(self.version)
            + self.random
            + vec(1, self.session_id)
            + encode_u16_list(self.cipher_suites)
            + vec(1, self.compression_methods)
            + encode_extensions(self.extensions)
        )

    @classmethod
    def parse(cls, data: bytes) -> ClientHello:
        r = Reader(data)
        version = r.uint(2)
        random = r.take(32)
        session_id = r.vector(1, 0, 32)
        cookie = r.vector(1, 0, 255)
        suites = u16_list(r.vector(2, 2))
        compression = r.vector(1, 1)
        extensions = parse_extensions(r)
        r.done()
        return cls(version, random, session_id, cookie, suites, compression, extensions)


@dataclass(frozen=True)
class HelloVerifyRequest:
    version: int
    cookie: bytes

    def encode(self) -> bytes:
        return _U16.pack(self.version) + vec(1, self.cookie)

    @classmethod
    def parse(cls, data: bytes) -> HelloVerifyRequest:
        r = Reader(data)
        v = cls(r.uint(2), r.vector(1, 0, 255))
        r.done()
        return v


@dataclass(frozen=True)
class ServerHello:
    version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int
    extensions: Extensions

    def encode(self) -> bytes:
        return (
            _U16.pack(self.version)
            + self.random
            + vec(1, self.session_id)
            + _U16.pack(self.cipher_suite)
            + bytes([self.compression_method])
            + encode_extensions(self.extensions)
        )

    @classmethod
    def parse(cls, data: bytes) -> ServerHello:
        r = Reader(data)
        v = cls(
            r.uint(2), r.take(32), r.vector(1, 0, 32), r.uint(2), r.uint(1), parse_extensions(r)
        )
        r.done()
        return v


@dataclass(frozen=True)
class CertificateMessage:
    certificates: tuple[bytes, ...]

    def encode(self) -> bytes:
        return vec(3, b"".join(vec(3, c) for c in self.certificates))

    @classmethod
    def parse(cls, data: bytes) -> CertificateMessage:
        r = Reader(data)
        inner = Reader(r.vector(3))
        r.done()
        certs = []
        while not inner.eof():
            certs.append(inner.vector(3, 1))
        return cls(tuple(certs))


@dataclass(frozen=True)
class ServerKeyExchange:
    """ECDHE ServerKeyExchange (RFC 8422 §5.4), named curves only."""

    group: int
    public: bytes
    scheme: int
    signature: bytes

    def params(self) -> bytes:
        """ServerECDHParams: curve_type named_curve(3) | named_curve | public<1..255>."""
        return b"\x03" + _U16.pack(self.group) + vec(1, self.public)

    def encode(self) -> bytes:
        return self.params() + _U16.pack(self.scheme) + vec(2, self.signature)

    @classmethod
    def parse(cls, data: bytes) -> ServerKeyExchange:
        r = Reader(data)
        if r.uint(1) != 3:
            raise DecodeError("only named_curve ECDH parameters are supported")
        v = cls(r.uint(2), r.vector(1, 1), r.uint(2), r.vector(2))
        r.done()
        return v


@dataclass(frozen=True)
class CertificateRequest:
    certificate_types: bytes
    signature_schemes: tuple[int, ...]
    authorities: bytes = b""

    def encode(self) -> bytes:
        return (
            vec(1, self.certificate_types)
            + vec(2, encode_u16_list(self.signature_schemes))
            + vec(2, self.authorities)
        )

    @classmethod
    def parse(cls, data: bytes) -> CertificateRequest:
        r = Reader(data)
        v = cls(r.vector(1, 1), u16_list(r.vector(2, 2)), r.vector(2))
        r.done()
        return v


@dataclass(frozen=True)
class ClientKeyExchange:
    """ECDHE ClientKeyExchange (RFC 8422 §5.7): ecdh_Yc<1..255>."""

    public: bytes

    def encode(self) -> bytes:
        return vec(1, self.public)

    @classmethod
    def parse(cls, data: bytes) -> ClientKeyExchange:
        r = Reader(data)
        v = cls(r.vector(1, 1))
        r.done()
        return v


@dataclass(frozen=True)
class CertificateVerify:
    scheme: int
    signature: bytes

    def encode(self) -> bytes:
        return _U16.pack(self.scheme) + vec(2, self.signature)

    @classmethod
    def parse(cls, data: bytes) -> CertificateVerify:
        r = Reader(data)
        v = cls(r.uint(2), r.vector(2))
        r.done()
        return v


# --- extension bodies ---------------------------------------------------------------------------


def parse_u16_vector_ext(data: bytes) -> tuple[int, ...]:
    """supported_groups / signature_algorithms body: u16 list with a u16 length."""
    r = Reader(data)
    v = u16_list(r.vector(2))
    r.done()
    return v


def encode_u16_vector_ext(values: tuple[int, ...] | list[int]) -> bytes:
    return vec(2, encode_u16_list(values))


def parse_use_srtp(data: bytes) -> tuple[tuple[int, ...], bytes]:
    """RFC 5764 §4.1.1: (profiles, mki)."""
    r = Reader(data)
    profiles = u16_list(r.vector(2, 2))
    mki = r.vector(1)
    r.done()
    return profiles, mki


def encode_use_srtp(profiles: tuple[int, ...] | list[int], mki: bytes = b"") -> bytes:
    return vec(2, encode_u16_list(profiles)) + vec(1, mki)
