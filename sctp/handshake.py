"""Association set-up material: our INIT parameters, the State Cookie, the peer's capabilities
(RFC 9260 §5.1, §5.2; RFC 3758 §3.1; RFC 5061 §4.2.7; RFC 9653 §5)."""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from typing import Any, NamedTuple

from .channels import MAX_STREAMS
from .chunks import (
    U32,
    ZERO_CHECKSUM_EDMID_DTLS,
    CauseCode,
    ChunkType,
    InitAckChunk,
    InitChunk,
    Param,
    ParamType,
    encode_tlv,
    encode_tlv_chunk,
)

VALID_COOKIE_LIFE = 60.0  # RFC 9260 §16
CAP_FORWARD_TSN = 1
CAP_RECONFIG = 2
CAP_ZERO_CHECKSUM = 4
TSN_MOD = 1 << 32

_COOKIE = struct.Struct("!dIIIIIHHB")  # time, local tag, peer tag, local TSN, peer TSN, ...
_COOKIE_MAC = 32
COOKIE_SIZE = _COOKIE.size + _COOKIE_MAC


class CookieFields(NamedTuple):
    """What a valid State Cookie of ours carries (RFC 9260 §5.1.3)."""

    time: float
    local_tag: int
    peer_tag: int
    local_tsn: int
    peer_tsn: int
    peer_rwnd: int
    outbound_streams: int
    inbound_streams: int
    caps: int


class Handshake:
    """Our side of the association (fixed for its lifetime) and the cookie key.

    Every cookie we hand out (also on INIT collision, RFC 9260 §5.2.1) names the same local
    tag and initial TSN. `t1_count` / `rto` drive the INIT and COOKIE ECHO retransmissions."""

    __slots__ = ("_key", "cookie_echo", "init", "local_tag", "local_tsn", "rto", "t1_count", "zc")

    def __init__(self, rng: Any, receive_window: int, zero_checksum: bool, rto: float) -> None:
        self._key = os.urandom(32)
        self.zc = zero_checksum
        self.local_tag: int = rng.randint(1, TSN_MOD - 1)
        self.local_tsn: int = rng.randint(0, TSN_MOD - 1)
        self.init = InitChunk(
            self.local_tag,
            receive_window,
            MAX_STREAMS,
            MAX_STREAMS,
            self.local_tsn,
            self.local_params(),
        )
        self.cookie_echo: bytes | None = None  # COOKIE ECHO (+ ERROR) to retransmit
        self.t1_count = 0
        self.rto = rto

    def local_params(self) -> list[Param]:
        params: list[Param] = [
            # RFC 5061 §4.2.7 Supported Extensions: RE-CONFIG and FORWARD TSN
            (ParamType.SUPPORTED_EXTENSIONS, bytes([ChunkType.RECONFIG, ChunkType.FORWARD_TSN])),
            (ParamType.FORWARD_TSN_SUPPORTED, b""),  # RFC 3758 §3.1
        ]
        if self.zc:
            # RFC 9653 §5.1
            params.append((ParamType.ZERO_CHECKSUM_ACCEPTABLE, U32.pack(ZERO_CHECKSUM_EDMID_DTLS)))
        return params

    def make_cookie(self, init: InitChunk, now: float) -> bytes:
        """A State Cookie for the peer of `init`, signed with our key (RFC 9260 §5.1.3)."""
        body = _COOKIE.pack(
            now,
            self.local_tag,
            init.initiate_tag,
            self.local_tsn,
            init.initial_tsn,
            init.a_rwnd,
            min(MAX_STREAMS, init.inbound_streams),
            min(MAX_STREAMS, init.outbound_streams),
            peer_caps(init),
        )
        return body + hmac.new(self._key, body, hashlib.sha256).digest()

    def init_ack(self, init: InitChunk, now: float, receive_window: int) -> bytes:
        """The INIT ACK answering `init` (RFC 9260 §5.1 B, §5.2.1, §5.2.2)."""
        _, unrecognized = filter_params(init.params)
        ack_params: list[Param] = [(ParamType.STATE_COOKIE, self.make_cookie(init, now))]
        ack_params.extend(self.local_params())
        if unrecognized:
            ack_params.extend((ParamType.UNRECOGNIZED_PARAMETER, p) for p in unrecognized)
        ack = InitAckChunk(
            self.local_tag, receive_window, MAX_STREAMS, MAX_STREAMS, self.local_tsn, ack_params
        )
        return ack.encode()

    def open_cookie(self, cookie: bytes) -> CookieFields | None:
        """The fields of a cookie we signed for this association, or None (RFC 9260 §5.1.5
        steps 1-2)."""
        if len(cookie) != COOKIE_SIZE:
            return None
        body, mac = cookie[: _COOKIE.size], cookie[_COOKIE.size :]
        if not hmac.compare_digest(mac, hmac.new(self._key, body, hashlib.sha256).digest()):
            return None
        fields = CookieFields(*_COOKIE.unpack(body))
        return fields if fields.local_tag == self.local_tag else None


def stale_cookie_error(age: float) -> bytes:
    """ERROR with a Stale Cookie cause giving the staleness in µs (RFC 9260 §3.3.10.3)."""
    staleness = min(int((age - VALID_COOKIE_LIFE) * 1e6), 0xFFFFFFFF)
    cause = encode_tlv(CauseCode.STALE_COOKIE, U32.pack(staleness))
    return encode_tlv_chunk(ChunkType.ERROR, 0, b"", [cause])


def peer_caps(init: InitChunk) -> int:
    """CAP_* bits of what an INIT or INIT ACK announces."""
    caps = 0
    for ptype, value in init.params:
        if ptype == ParamType.FORWARD_TSN_SUPPORTED:
            caps |= CAP_FORWARD_TSN
        elif ptype == ParamType.SUPPORTED_EXTENSIONS:
            if ChunkType.FORWARD_TSN in value:
                caps |= CAP_FORWARD_TSN
            if ChunkType.RECONFIG in value:
                caps |= CAP_RECONFIG
        elif (
            ptype == ParamType.ZERO_CHECKSUM_ACCEPTABLE
            and len(value) == 4
            and U32.unpack(value)[0] == ZERO_CHECKSUM_EDMID_DTLS
        ):
            caps |= CAP_ZERO_CHECKSUM
    return caps


_KNOWN_INIT_PARAMS = frozenset(
    {
        ParamType.STATE_COOKIE,
        ParamType.COOKIE_PRESERVATIVE,
        ParamType.SUPPORTED_ADDRESS_TYPES,
        ParamType.ECN_CAPABLE,
        ParamType.ZERO_CHECKSUM_ACCEPTABLE,
        ParamType.SUPPORTED_EXTENSIONS,
        ParamType.FORWARD_TSN_SUPPORTED,
        5,  # IPv4 address
        6,  # IPv6 address
        11,  # host name (deprecated)
        0x8002,  # Random (RFC 4895)
        0x8003,  # Chunk List (RFC 4895)
        0x8004,  # Requested HMAC Algorithm (RFC 4895)
        0x8005,  # Padding (RFC 4820)
        0xC006,  # Adaptation Layer Indication (RFC 5061)
    }
)


def filter_params(params: list[Param]) -> tuple[list[Param], list[bytes]]:
    """RFC 9260 §3.2.1: act on the upper two bits of unrecognized parameter types.

    Returns (params processed, encoded unrecognized params to report). Types with upper bits
    00/01 stop processing of the remaining parameters; 01/11 are reported."""
    kept: list[Param] = []
    report: list[bytes] = []
    for ptype, value in params:
        if ptype in _KNOWN_INIT_PARAMS:
            kept.append((ptype, value))
            continue
        action = ptype >> 14
        if action in (1, 3) and sum(map(len, report)) + len(value) <= 512:
            report.append(encode_tlv(ptype, value))
        if action in (0, 1):
            break
    return kept, report
