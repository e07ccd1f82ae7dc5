"""STUN message codec (RFC 8489) with the ICE (RFC 8445 §16) and TURN (RFC 8656 §18) attributes.

Public surface (pinned in docs/LAYERS.md, "ice.stun"):

- `Message(method, message_class, transaction_id, attributes)`; `Message.parse(data)` raises only
  `StunError`; `msg.encode(*, integrity_key=None, fingerprint=True)`; `msg.check_integrity(key)`,
  `msg.check_fingerprint()`; typed getters `get_str/get_int/get_bytes/get_address/get_error`.
- Attribute values are typed: addresses `(host, port)`; USERNAME/REALM/NONCE/SOFTWARE `str`;
  PRIORITY/LIFETIME/CHANNEL_NUMBER/REQUESTED_TRANSPORT/REQUESTED_ADDRESS_FAMILY/FINGERPRINT `int`;
  ICE_CONTROLLING/ICE_CONTROLLED `int` (64-bit); USE_CANDIDATE/DONT_FRAGMENT `True`; EVEN_PORT
  `bool` (the R bit); ERROR_CODE `(code, reason)`; UNKNOWN_ATTRIBUTES `tuple[int, ...]`; DATA,
  RESERVATION_TOKEN, MESSAGE_INTEGRITY(_SHA256) and every other attribute raw `bytes`.
- `is_stun(data)`, `long_term_key(username, realm, password)`, `random_transaction_id(rng)`,
  `error_response(request, code, reason)`, `unknown_attributes_response(request)`.
- `ClientTransaction`: RFC 8489 §6.2.1 retransmission timer on virtual time.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import ipaddress
import random
import struct
import unicodedata
from collections.abc import Callable
from enum import IntEnum
from typing import Protocol

__all__ = [
    "COOKIE",
    "Attr",
    "Class",
    "ClientTransaction",
    "Message",
    "Method",
    "RandomLike",
    "StunError",
    "error_response",
    "is_stun",
    "long_term_key",
    "random_transaction_id",
    "unknown_attributes_response",
]


class StunError(ValueError):
    """Malformed STUN/TURN input (the one error type of the `ice` codec)."""


class RandomLike(Protocol):
    """The part of `random.Random` this package uses."""

    def getrandbits(self, k: int, /) -> int: ...

    def random(self) -> float: ...


class Method(IntEnum):
    """STUN methods (RFC 8489 §18.2, RFC 8656 §17)."""

    BINDING = 0x001
    ALLOCATE = 0x003
    REFRESH = 0x004
    SEND = 0x006
    DATA = 0x007
    CREATE_PERMISSION = 0x008
    CHANNEL_BIND = 0x009


class Class(IntEnum):
    """STUN message classes (RFC 8489 §5)."""

    REQUEST = 0
    INDICATION = 1
    SUCCESS = 2
    ERROR = 3


class Attr(IntEnum):
    """STUN attribute types (RFC 8489 §18.3, RFC 8445 §16.1, RFC 8656 §18)."""

    MAPPED_ADDRESS = 0x0001
    USERNAME = 0x0006
    MESSAGE_INTEGRITY = 0x0008
    ERROR_CODE = 0x0009
    UNKNOWN_ATTRIBUTES = 0x000A
    CHANNEL_NUMBER = 0x000C
    LIFETIME = 0x000D
    XOR_PEER_ADDRESS = 0x0012
    DATA = 0x0013
    REALM = 0x0014
    NONCE = 0x0015
    XOR_RELAYED_ADDRESS = 0x0016
    REQUESTED_ADDRESS_FAMILY = 0x0017
    EVEN_PORT = 0x0018
    REQUESTED_TRANSPORT = 0x0019
    DONT_FRAGMENT = 0x001A
    MESSAGE_INTEGRITY_SHA256 = 0x001C
    PASSWORD_ALGORITHM = 0x001D
    USERHASH = 0x001E
    XOR_MAPPED_ADDRESS = 0x0020
    RESERVATION_TOKEN = 0x0022
    PRIORITY = 0x0024
    USE_CANDIDATE = 0x0025
    PASSWORD_ALGORITHMS = 0x8002
    ALTERNATE_DOMAIN = 0x8003
    SOFTWARE = 0x8022
    ALTERNATE_SERVER = 0x8023
    FINGERPRINT = 0x8028
    ICE_CONTROLLED = 0x8029
    ICE_CONTROLLING = 0x802A


COOKIE = 0x2112A442
_COOKIE_BYTES = COOKIE.to_bytes(4, "big")
_FINGERPRINT_XOR = 0x5354554E  # RFC 8489 §14.7: "STUN"
_HEADER = struct.Struct("!HHI12s")
_TLV = struct.Struct("!HH")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_U64 = struct.Struct("!Q")
_ADDR_HEAD = struct.Struct("!xBH")
_KNOWN_ATTRS = frozenset(int(a) for a in Attr)

Address = tuple[str, int]


def _msg_type(method: int, cls: int) -> int:
    # RFC 8489 §5: M11..M7 C1 M6..M4 C0 M3..M0
    return (
        (method & 0x000F)
        | ((method & 0x0070) << 1)
        | ((method & 0x0F80) << 2)
        | ((cls & 1) << 4)
        | ((cls & 2) << 7)
    )


_TYPE_TABLE: dict[int, tuple[Method, Class]] = {
    _msg_type(m, c): (m, c) for m in Method for c in Class
}


def is_stun(data: bytes) -> bool:
    """Cheap check: RFC 7983 first byte 0..3, magic cookie, sane length (RFC 8489 §5)."""
    return (
        len(data) >= 20
        and data[0] < 4
        and data[4:8] == _COOKIE_BYTES
        and (data[2] << 8 | data[3]) + 20 == len(data)
    )


def _opaque(text: str) -> bytes:
    # RFC 8265 OpaqueString (simplified): non-ASCII spaces -> U+0020, then NFC.
    mapped = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text)
    return unicodedata.normalize("NFC", mapped).encode("utf-8")


def long_term_key(username: str, realm: str, password: str) -> bytes:
    """MD5(username ":" realm ":" password), RFC 8489 §9.2.2 (PASSWORD-ALGORITHM MD5)."""
    data = username.encode("utf-8") + b":" + _opaque(realm) + b":" + _opaque(password)
    return hashlib.md5(data, usedforsecurity=False).digest()


def random_transaction_id(rng: RandomLike | None = None) -> bytes:
    """A 96-bit transaction id (RFC 8489 §5) from `rng` (a fresh OS-seeded one by default)."""
    source = rng if rng is not None else random.Random()
    return source.getrandbits(96).to_bytes(12, "big")


# ---------------------------------------------------------------------------------------------
# Attribute value codecs


def _decode_address(value: bytes, tid: bytes, xor: bool) -> Address:
    n = len(value)
    if n < 4:
        raise StunError("address attribute too short")
    family, port = _ADDR_HEAD.unpack_from(value)
    if xor:
        port ^= 0x2112
    if family == 1:
        if n != 8:
            raise StunError("bad IPv4 address length")
        if xor:
            a = _U32.unpack_from(value, 4)[0] ^ COOKIE
            return (f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}", port)
        return (f"{value[4]}.{value[5]}.{value[6]}.{value[7]}", port)
    if family == 2:
        if n != 20:
            raise StunError("bad IPv6 address length")
        raw = int.from_bytes(value[4:20], "big")
        if xor:
            raw ^= int.from_bytes(_COOKIE_BYTES + tid, "big")
        return (ipaddress.IPv6Address(raw).compressed, port)
    raise StunError(f"unknown address family {family}")


def _encode_address(value: object, tid: bytes, xor: bool) -> bytes:
    if not (isinstance(value, tuple) and len(value) == 2):
        raise StunError("address must be (host, port)")
    host, port = value
    if not isinstance(host, str) or not isinstance(port, int) or not 0 <= port <= 0xFFFF:
        raise StunError("address must be (host: str, port: int)")
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError as exc:
        raise StunError(f"not an IP address: {host!r}") from exc
    raw = int(ip)
    if xor:
        port ^= 0x2112
    if ip.version == 4:
        if xor:
            raw ^= COOKIE
        return struct.pack("!xBHI", 1, port, raw)
    if xor:
        raw ^= int.from_bytes(_COOKIE_BYTES + tid, "big")
    return struct.pack("!xBH", 2, port) + raw.to_bytes(16, "big")


def _decode_text(value: bytes, limit: int) -> str:
    if len(value) > limit:
        raise StunError("text attribute too long")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StunError("text attribute is not UTF-8") from exc


def _decode_u32(value: bytes) -> int:
    if len(value) != 4:
        raise StunError("expected a 32-bit value")
    return int(_U32.unpack(value)[0])


def _decode_u64(value: bytes) -> int:
    if len(value) != 8:
        raise StunError("expected a 64-bit value")
    return int(_U64.unpack(value)[0])


def _decode_channel(value: bytes) -> int:
    if len(value) != 4:
        raise StunError("bad CHANNEL-NUMBER length")
    return int(_U16.unpack_from(value)[0])


def _decode_first_byte(value: bytes) -> int:
    if len(value) != 4:
        raise StunError("expected a 4-byte value")
    return value[0]


def _decode_flag(value: bytes) -> bool:
    if value:
        raise StunError("flag attribute must be empty")
    return True


def _decode_even_port(value: bytes) -> bool:
    if len(value) != 1:
        raise StunError("bad EVEN-PORT length")
    return bool(value[0] & 0x80)


def _decode_error(value: bytes) -> tuple[int, str]:
    if len(value) < 4:
        raise StunError("ERROR-CODE too short")
    code = (value[2] & 7) * 100 + value[3]
    if not 300 <= code <= 699:
        raise StunError(f"bad error code {code}")
    return (code, _decode_text(value[4:], 763))


def _decode_unknown(value: bytes) -> tuple[int, ...]:
    if len(value) % 2:
        raise StunError("bad UNKNOWN-ATTRIBUTES length")
    return struct.unpack(f"!{len(value) // 2}H", value)


def _decode_mi(value: bytes) -> bytes:
    if len(value) != 20:
        raise StunError("bad MESSAGE-INTEGRITY length")
    return value


def _decode_mi256(value: bytes) -> bytes:
    # RFC 8489 §14.6: 16..32 bytes, multiple of 4
    if not 16 <= len(value) <= 32 or len(value) % 4:
        raise StunError("bad MESSAGE-INTEGRITY-SHA256 length")
    return value


def _raw(value: bytes) -> bytes:
    return value


_SIMPLE_DECODERS: dict[int, Callable[[bytes], object]] = {
    Attr.USERNAME: lambda v: _decode_text(v, 513),
    Attr.REALM: lambda v: _decode_text(v, 763),
    Attr.NONCE: lambda v: _decode_text(v, 763),
    Attr.SOFTWARE: lambda v: _decode_text(v, 763),
    Attr.ALTERNATE_DOMAIN: lambda v: _decode_text(v, 255),
    Attr.PRIORITY: _decode_u32,
    Attr.LIFETIME: _decode_u32,
    Attr.FINGERPRINT: _decode_u32,
    Attr.ICE_CONTROLLED: _decode_u64,
    Attr.ICE_CONTROLLING: _decode_u64,
    Attr.CHANNEL_NUMBER: _decode_channel,
    Attr.REQUESTED_TRANSPORT: _decode_first_byte,
    Attr.REQUESTED_ADDRESS_FAMILY: _decode_first_byte,
    Attr.USE_CANDIDATE: _decode_flag,
    Attr.DONT_FRAGMENT: _decode_flag,
    Attr.EVEN_PORT: _decode_even_port,
    Attr.ERROR_CODE: _decode_error,
    Attr.UNKNOWN_ATTRIBUTES: _decode_unknown,
    Attr.MESSAGE_INTEGRITY: _decode_mi,
    Attr.MESSAGE_INTEGRITY_SHA256: _decode_mi256,
}
_XOR_ADDRESS = frozenset({Attr.XOR_MAPPED_ADDRESS, Attr.XOR_PEER_ADDRESS, Attr.XOR_RELAYED_ADDRESS})
_PLAIN_ADDRESS = frozenset({Attr.MAPPED_ADDRESS, Attr.ALTERNATE_SERVER})
_TEXT = frozenset({Attr.USERNAME, Attr.REALM, Attr.NONCE, Attr.SOFTWARE, Attr.ALTERNATE_DOMAIN})
_U32_ATTRS = frozenset({Attr.PRIORITY, Attr.LIFETIME})
_U64_ATTRS = frozenset({Attr.ICE_CONTROLLED, Attr.ICE_CONTROLLING})
_FLAGS = frozenset({Attr.USE_CANDIDATE, Attr.DONT_FRAGMENT})
_COMPUTED = frozenset({Attr.MESSAGE_INTEGRITY, Attr.MESSAGE_INTEGRITY_SHA256, Attr.FINGERPRINT})


def _encode_value(attr: int, value: object, tid: bytes) -> bytes:
    if attr in _XOR_ADDRESS:
        return _encode_address(value, tid, True)
    if attr in _PLAIN_ADDRESS:
        return _encode_address(value, tid, False)
    if isinstance(value, bool):
        if attr in _FLAGS:
            return b""
        if attr == Attr.EVEN_PORT:
            return b"\x80" if value else b"\x00"
        raise StunError(f"attribute 0x{attr:04x} is not a flag")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int):
        if attr in _U64_ATTRS:
            return _U64.pack(value)
        if attr == Attr.CHANNEL_NUMBER:
            return _U16.pack(value) + b"\x00\x00"
        if attr in (Attr.REQUESTED_TRANSPORT, Attr.REQUESTED_ADDRESS_FAMILY):
            return bytes((value, 0, 0, 0))
        return _U32.pack(value)
    if attr == Attr.ERROR_CODE and isinstance(value, tuple) and len(value) == 2:
        code, reason = value
        if not isinstance(code, int) or not isinstance(reason, str) or not 300 <= code <= 699:
            raise StunError("ERROR-CODE must be (300..699, reason)")
        return bytes((0, 0, code // 100, code % 100)) + reason.encode("utf-8")
    if attr == Attr.UNKNOWN_ATTRIBUTES and isinstance(value, tuple):
        return struct.pack(f"!{len(value)}H", *value)
    raise StunError(f"cannot encode attribute 0x{attr:04x} value {value!r}")


# ---------------------------------------------------------------------------------------------
# Message


class Message:
    """One STUN message. `attributes` keeps wire order; only the first duplicate is kept."""

    __slots__ = (
        "_fp_offset",
        "_mi256_offset",
        "_mi_offset",
        "attributes",
        "message_class",
        "method",
        "raw",
        "transaction_id",
    )

    def __init__(
        self,
        method: Method,
        message_class: Class,
        transaction_id: bytes,
        attributes: dict[int, object] | None = None,
    ) -> None:
        if len(transaction_id) != 12:
            raise StunError("transaction id must be 12 bytes")
        self.method = method
        self.message_class = message_class
        self.transaction_id = bytes(transaction_id)
        self.attributes: dict[int, object] = {} if attributes is None else attributes
        self.raw = b""
        self._mi_offset = -1
        self._mi256_offset = -1
        self._fp_offset = -1

    def __repr__(self) -> str:
        attrs = ", ".join(
            f"{Attr(k).name if k in _KNOWN_ATTRS else hex(k)}={v!r}"
            for k, v in self.attributes.items()
        )
        return (
            f"Message({self.method.name}, {self.message_class.name}, "
            f"{self.transaction_id.hex()}, {{{attrs}}})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (
            self.method == other.method
            and self.message_class == other.message_class
            and self.transaction_id == other.transaction_id
            and self.attributes == other.attributes
        )

    __hash__ = None  # type: ignore[assignment]

    # -- decoding ------------------------------------------------------------------------------

    @classmethod
    def parse(cls, data: bytes) -> Message:
        """Decode one STUN message; raises `StunError` on anything malformed (RFC 8489 §5, §14)."""
        data = bytes(data)
        n = len(data)
        if n < 20:
            raise StunError("shorter than a STUN header")
        msg_type, length, cookie, tid = _HEADER.unpack_from(data)
        if msg_type & 0xC000:
            raise StunError("first two bits must be zero")
        if cookie != COOKIE:
            raise StunError("bad magic cookie")
        if length & 3 or length + 20 != n:
            raise StunError("bad message length")
        kind = _TYPE_TABLE.get(msg_type)
        if kind is None:
            raise StunError(f"unknown message type 0x{msg_type:04x}")
        msg = cls(kind[0], kind[1], tid)
        attrs = msg.attributes
        decoders = _SIMPLE_DECODERS
        offset = 20
        after_mi = False
        while offset < n:
            if offset + 4 > n:
                raise StunError("truncated attribute header")
            attr, alen = _TLV.unpack_from(data, offset)
            start = offset + 4
            end = start + alen
            if end > n:
                raise StunError("attribute value overruns the message")
            next_offset = end + (-alen & 3)  # RFC 8489 §14: padding bytes are ignored
            if next_offset > n:
                raise StunError("attribute padding overruns the message")
            if msg._fp_offset >= 0:
                raise StunError("attribute after FINGERPRINT")  # RFC 8489 §14.7
            if attr == Attr.FINGERPRINT:
                msg._fp_offset = offset
            elif attr == Attr.MESSAGE_INTEGRITY_SHA256:
                if msg._mi256_offset >= 0:
                    offset = next_offset
                    continue
                msg._mi256_offset = offset
                after_mi = True
            elif after_mi:
                # RFC 8489 §14.5: ignore everything after M-I except M-I-SHA256 and FINGERPRINT
                offset = next_offset
                continue
            elif attr == Attr.MESSAGE_INTEGRITY:
                msg._mi_offset = offset
                after_mi = True
            if attr not in attrs:
                value = data[start:end]
                decoder = decoders.get(attr)
                if decoder is not None:
                    attrs[attr] = decoder(value)
                elif attr in _XOR_ADDRESS:
                    attrs[attr] = _decode_address(value, tid, True)
                elif attr in _PLAIN_ADDRESS:
                    attrs[attr] = _decode_address(value, tid, False)
                else:
                    attrs[attr] = value
            offset = next_offset
        msg.raw = data
        return msg

    # -- encoding ------------------------------------------------------------------------------

    def encode(
        self,
        *,
        integrity_key: bytes | None = None,
        fingerprint: bool = True,
        integrity_sha256_key: bytes | None = None,
        padding: bytes = b"\x00",
    ) -> bytes:
        """Encode; MESSAGE-INTEGRITY(-SHA256) then FINGERPRINT are appended last (RFC 8489 §14.5-7).

        Values of MESSAGE-INTEGRITY/-SHA256/FINGERPRINT in `attributes` are ignored (computed).
        `padding` is the pad byte (RFC 5769 vectors use b" ").
        """
        tid = self.transaction_id
        parts: list[bytes] = []
        for attr, value in self.attributes.items():
            if attr in _COMPUTED:
                continue
            if not 0 <= attr <= 0xFFFF:
                raise StunError(f"bad attribute type {attr}")
            body = _encode_value(attr, value, tid)
            if len(body) > 0xFFFF:
                raise StunError("attribute value too long")
            parts.append(_TLV.pack(attr, len(body)))
            parts.append(body)
            pad = -len(body) & 3
            if pad:
                parts.append(padding * pad)
        payload = b"".join(parts)
        msg_type = _msg_type(self.method, self.message_class)
        if integrity_key is not None:
            head = _HEADER.pack(msg_type, len(payload) + 24, COOKIE, tid)
            mac = hmac.new(integrity_key, head + payload, hashlib.sha1).digest()
            payload += _TLV.pack(Attr.MESSAGE_INTEGRITY, 20) + mac
        if integrity_sha256_key is not None:
            head = _HEADER.pack(msg_type, len(payload) + 36, COOKIE, tid)
            mac = hmac.new(integrity_sha256_key, head + payload, hashlib.sha256).digest()
            payload += _TLV.pack(Attr.MESSAGE_INTEGRITY_SHA256, 32) + mac
        if fingerprint:
            head = _HEADER.pack(msg_type, len(payload) + 8, COOKIE, tid)
            crc = binascii.crc32(payload, binascii.crc32(head)) ^ _FINGERPRINT_XOR
            payload += _TLV.pack(Attr.FINGERPRINT, 4) + _U32.pack(crc)
        if len(payload) > 0xFFFF:
            raise StunError("message too long")
        return _HEADER.pack(msg_type, len(payload), COOKIE, tid) + payload

    # -- integrity -----------------------------------------------------------------------------

    def _mac_input(self, offset: int, attr_size: int) -> bytes:
        raw = self.raw
        # RFC 8489 §14.5: the length field counts up to the end of the integrity attribute
        return raw[:2] + _U16.pack(offset - 20 + attr_size) + raw[4:offset]

    def check_integrity(self, key: bytes) -> bool:
        """Verify MESSAGE-INTEGRITY (HMAC-SHA1) of a parsed message; False when absent."""
        if self._mi_offset < 0:
            return False
        expected = hmac.new(key, self._mac_input(self._mi_offset, 24), hashlib.sha1).digest()
        value = self.attributes.get(Attr.MESSAGE_INTEGRITY)
        return isinstance(value, bytes) and hmac.compare_digest(expected, value)

    def check_integrity_sha256(self, key: bytes) -> bool:
        """Verify MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6); False when absent."""
        value = self.attributes.get(Attr.MESSAGE_INTEGRITY_SHA256)
        if self._mi256_offset < 0 or not isinstance(value, bytes):
            return False
        data = self._mac_input(self._mi256_offset, 4 + len(value))
        expected = hmac.new(key, data, hashlib.sha256).digest()[: len(value)]
        return hmac.compare_digest(expected, value)

    def check_fingerprint(self) -> bool:
        """Verify FINGERPRINT (CRC-32 xor 0x5354554E, RFC 8489 §14.7); False when absent."""
        if self._fp_offset < 0:
            return False
        crc = binascii.crc32(self.raw[: self._fp_offset]) ^ _FINGERPRINT_XOR
        return crc == self.attributes.get(Attr.FINGERPRINT)

    # -- typed getters -------------------------------------------------------------------------

    def get_str(self, attr: int) -> str | None:
        value = self.attributes.get(attr)
        return value if isinstance(value, str) else None

    def get_int(self, attr: int) -> int | None:
        value = self.attributes.get(attr)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def get_bytes(self, attr: int) -> bytes | None:
        value = self.attributes.get(attr)
        return value if isinstance(value, bytes) else None

    def get_address(self, attr: int) -> Address | None:
        value = self.attributes.get(attr)
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], int):
            host = value[0]
            if isinstance(host, str):
                return (host, value[1])
        return None

    def get_error(self) -> tuple[int, str] | None:
        value = self.attributes.get(Attr.ERROR_CODE)
        if isinstance(value, tuple) and len(value) == 2:
            code, reason = value
            if isinstance(code, int) and isinstance(reason, str):
                return (code, reason)
        return None

    def unknown_comprehension_required(self) -> tuple[int, ...]:
        """Unknown attributes in 0x0000-0x7FFF (RFC 8489 §14: comprehension-required)."""
        return tuple(a for a in self.attributes if a < 0x8000 and a not in _KNOWN_ATTRS)


def error_response(
    request: Message, code: int, reason: str, attributes: dict[int, object] | None = None
) -> Message:
    """An error response to `request` with ERROR-CODE (RFC 8489 §6.3.4)."""
    attrs: dict[int, object] = {Attr.ERROR_CODE: (code, reason)}
    if attributes:
        attrs.update(attributes)
    return Message(request.method, Class.ERROR, request.transaction_id, attrs)


def unknown_attributes_response(request: Message) -> Message | None:
    """A 420 response listing unknown comprehension-required attributes, or None (§6.3.1)."""
    unknown = request.unknown_comprehension_required()
    if not unknown or request.message_class != Class.REQUEST:
        return None
    return error_response(request, 420, "Unknown Attribute", {Attr.UNKNOWN_ATTRIBUTES: unknown})


# ---------------------------------------------------------------------------------------------
# Client transaction


class ClientTransaction:
    """RFC 8489 §6.2.1 UDP retransmission: Rc sends at RTO doubling, then wait Rm*RTO.

    With rto=0.5: sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; times out at 39.5 s.
    `datagrams_to_send()` returns the request bytes due for `destination`.
    """

    __slots__ = (
        "_deadline",
        "_interval",
        "_out",
        "_sent",
        "destination",
        "done",
        "rc",
        "request",
        "response",
        "rm",
        "rto",
        "timed_out",
        "transaction_id",
    )

    def __init__(
        self,
        request_bytes: bytes,
        transaction_id: bytes,
        destination: Address,
        now: float,
        *,
        rto: float = 0.5,
        rc: int = 7,
        rm: int = 16,
    ) -> None:
        self.request = request_bytes
        self.transaction_id = transaction_id
        self.destination = destination
        self.rto = rto
        self.rc = rc
        self.rm = rm
        self.done = False
        self.timed_out = False
        self.response: Message | None = None
        self._out: list[bytes] = [request_bytes]
        self._sent = 1
        self._interval = rto
        self._deadline: float | None = now + (rto if rc > 1 else rm * rto)

    def handle_timeout(self, now: float) -> None:
        """Retransmit or time out when due (one step per call)."""
        if self.done or self._deadline is None or now < self._deadline:
            return
        if self._sent < self.rc:
            self._out.append(self.request)
            self._sent += 1
            self._interval *= 2
            if self._sent < self.rc:
                self._deadline += self._interval
            else:
                self._deadline += self.rm * self.rto  # RFC 8489 §6.2.1: Rm * RTO after the last
        else:
            self.timed_out = True
            self.done = True
            self._deadline = None

    def next_timeout(self) -> float | None:
        return None if self.done else self._deadline

    def datagrams_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def handle_response(self, msg: Message) -> bool:
        """Accept a response with our transaction id; True when it completed the transaction."""
        if self.done or msg.transaction_id != self.transaction_id:
            return False
        if msg.message_class not in (Class.SUCCESS, Class.ERROR):
            return False
        self.response = msg
        self.done = True
        self._deadline = None
        self._out = []
        return True
