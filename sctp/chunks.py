"""SCTP packet and chunk codec (RFC 9260 §3, RFC 3758, RFC 6525, RFC 9653).

Decoders are total: any input yields a value or raises `sctp.ParseError`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

import crc32c as _crc32c

from .errors import ChecksumError, ParseError

COMMON_HEADER = struct.Struct("!HHI")  # source port, destination port, verification tag
CHECKSUM = struct.Struct("<I")  # CRC32c stored little-endian (RFC 9260 Appendix A)
CHUNK_HEADER = struct.Struct("!BBH")
DATA_HEADER = struct.Struct("!BBHIHHI")  # chunk header + TSN, stream id, SSN, PPID
PARAM_HEADER = struct.Struct("!HH")
INIT_FIXED = struct.Struct("!IIHHI")  # initiate tag, a_rwnd, OS, MIS, initial TSN
SACK_FIXED = struct.Struct("!IIHH")  # cumulative TSN ack, a_rwnd, #gap blocks, #dup TSNs
U16 = struct.Struct("!H")
U32 = struct.Struct("!I")
U16U16 = struct.Struct("!HH")
U32U32 = struct.Struct("!II")
OUT_RESET_FIXED = struct.Struct("!III")
RECONFIG_RESPONSE_FULL = struct.Struct("!IIII")
_ZERO4 = b"\x00\x00\x00\x00"
_PAD = (b"", b"\x00\x00\x00", b"\x00\x00", b"\x00")

COMMON_HEADER_SIZE = 12
DATA_HEADER_SIZE = 16


class ChunkType(IntEnum):
    """Chunk type codes (RFC 9260 §3.2, RFC 3758, RFC 6525)."""

    DATA = 0
    INIT = 1
    INIT_ACK = 2
    SACK = 3
    HEARTBEAT = 4
    HEARTBEAT_ACK = 5
    ABORT = 6
    SHUTDOWN = 7
    SHUTDOWN_ACK = 8
    ERROR = 9
    COOKIE_ECHO = 10
    COOKIE_ACK = 11
    SHUTDOWN_COMPLETE = 14
    RECONFIG = 130
    PAD = 0x84  # RFC 4820 §3 (upper bits 10: skipped silently by receivers that ignore it)
    FORWARD_TSN = 192


class ParamType(IntEnum):
    """Parameter types used by this implementation (RFC 9260 §3.3.2, RFC 6525, RFC 9653)."""

    HEARTBEAT_INFO = 1
    STATE_COOKIE = 7
    UNRECOGNIZED_PARAMETER = 8
    COOKIE_PRESERVATIVE = 9
    SUPPORTED_ADDRESS_TYPES = 12
    OUTGOING_SSN_RESET = 13
    INCOMING_SSN_RESET = 14
    SSN_TSN_RESET = 15
    RECONFIG_RESPONSE = 16
    ADD_OUTGOING_STREAMS = 17
    ADD_INCOMING_STREAMS = 18
    ECN_CAPABLE = 0x8000
    ZERO_CHECKSUM_ACCEPTABLE = 0x8001
    SUPPORTED_EXTENSIONS = 0x8008
    FORWARD_TSN_SUPPORTED = 0xC000


class CauseCode(IntEnum):
    """Error cause codes (RFC 9260 §3.3.10)."""

    INVALID_STREAM_IDENTIFIER = 1
    MISSING_MANDATORY_PARAMETER = 2
    STALE_COOKIE = 3
    OUT_OF_RESOURCE = 4
    UNRESOLVABLE_ADDRESS = 5
    UNRECOGNIZED_CHUNK_TYPE = 6
    INVALID_MANDATORY_PARAMETER = 7
    UNRECOGNIZED_PARAMETERS = 8
    NO_USER_DATA = 9
    COOKIE_WHILE_SHUTTING_DOWN = 10
    RESTART_WITH_NEW_ADDRESSES = 11
    USER_INITIATED_ABORT = 12
    PROTOCOL_VIOLATION = 13


class ReconfigResult(IntEnum):
    """Re-configuration Response results (RFC 6525 §4.4)."""

    SUCCESS_NOTHING_TO_DO = 0
    SUCCESS_PERFORMED = 1
    DENIED = 2
    ERROR_WRONG_SSN = 3
    ERROR_REQUEST_ALREADY_IN_PROGRESS = 4
    ERROR_BAD_SEQUENCE_NUMBER = 5
    IN_PROGRESS = 6


# DATA chunk flags (RFC 9260 §3.3.1, RFC 7053)
FLAG_END = 0x01
FLAG_BEGIN = 0x02
FLAG_UNORDERED = 0x04
FLAG_IMMEDIATE = 0x08
# T bit of ABORT / SHUTDOWN COMPLETE (RFC 9260 §3.3.7, §3.3.13)
FLAG_T = 0x01

ZERO_CHECKSUM_EDMID_DTLS = 1  # RFC 9653 §7: "SCTP over DTLS"

Param = tuple[int, bytes]


def pad4(n: int) -> int:
    """Padding needed to reach a 4-byte boundary."""
    return -n & 3


def encode_tlv(ptype: int, value: bytes) -> bytes:
    """One parameter / error cause, padded to 4 bytes (RFC 9260 §3.2.1)."""
    n = 4 + len(value)
    return PARAM_HEADER.pack(ptype, n) + value + _PAD[n & 3]


def encode_params(params: list[Param] | tuple[Param, ...]) -> bytes:
    """Concatenate parameters (or error causes) with padding."""
    return b"".join(encode_tlv(t, v) for t, v in params)


def encode_tlv_chunk(ctype: int, flags: int, fixed: bytes, tlvs: list[bytes]) -> bytes:
    """A chunk whose value is `fixed` then padded TLVs; the chunk length excludes the last
    TLV's padding, which still follows as chunk padding (RFC 9260 §3.2)."""
    body = fixed + b"".join(tlvs)
    pad = len(tlvs[-1]) - U16.unpack_from(tlvs[-1], 2)[0] if tlvs else 0
    return CHUNK_HEADER.pack(ctype, flags, 4 + len(body) - pad) + body


def decode_params(data: bytes) -> list[Param]:
    """Split a TLV list (parameters or error causes). Padding of the last one may be absent."""
    out: list[Param] = []
    off = 0
    end = len(data)
    while off < end:
        if end - off < 4:
            raise ParseError("truncated parameter header")
        ptype, length = PARAM_HEADER.unpack_from(data, off)
        if length < 4 or off + length > end:
            raise ParseError(f"bad parameter length {length}")
        out.append((ptype, bytes(data[off + 4 : off + length])))
        off += length + pad4(length)
    return out


# --------------------------------------------------------------------------- chunks


@dataclass(slots=True)
class DataChunk:
    """DATA (RFC 9260 §3.3.1)."""

    flags: int
    tsn: int
    stream_id: int
    ssn: int
    ppid: int
    user_data: bytes

    def encode(self) -> bytes:
        n = 16 + len(self.user_data)
        return (
            DATA_HEADER.pack(0, self.flags, n, self.tsn, self.stream_id, self.ssn, self.ppid)
            + self.user_data
            + _PAD[n & 3]
        )


def encode_data(flags: int, tsn: int, stream_id: int, ssn: int, ppid: int, data: bytes) -> bytes:
    """Encode a DATA chunk without building an object (hot path)."""
    n = 16 + len(data)
    return DATA_HEADER.pack(0, flags, n, tsn, stream_id, ssn, ppid) + data + _PAD[n & 3]


@dataclass(slots=True)
class InitChunk:
    """INIT (RFC 9260 §3.3.2); `params` are the raw optional/variable parameters."""

    initiate_tag: int
    a_rwnd: int
    outbound_streams: int
    inbound_streams: int
    initial_tsn: int
    params: list[Param] = field(default_factory=list)

    chunk_type = ChunkType.INIT

    def encode(self) -> bytes:
        fixed = INIT_FIXED.pack(
            self.initiate_tag,
            self.a_rwnd,
            self.outbound_streams,
            self.inbound_streams,
            self.initial_tsn,
        )
        return encode_tlv_chunk(self.chunk_type, 0, fixed, [encode_tlv(*p) for p in self.params])

    def param(self, ptype: int) -> bytes | None:
        """Value of the first parameter of `ptype`, or None."""
        for t, v in self.params:
            if t == ptype:
                return v
        return None


@dataclass(slots=True)
class InitAckChunk(InitChunk):
    """INIT ACK (RFC 9260 §3.3.3); must carry a State Cookie parameter."""

    chunk_type = ChunkType.INIT_ACK


@dataclass(slots=True)
class SackChunk:
    """SACK (RFC 9260 §3.3.4). Gap blocks are (start, end) offsets from `cumulative_tsn`."""

    cumulative_tsn: int
    a_rwnd: int
    gaps: list[tuple[int, int]] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)

    def encode(self) -> bytes:
        n = 16 + 4 * (len(self.gaps) + len(self.duplicates))
        parts = [
            CHUNK_HEADER.pack(ChunkType.SACK, 0, n),
            SACK_FIXED.pack(self.cumulative_tsn, self.a_rwnd, len(self.gaps), len(self.duplicates)),
        ]
        parts.extend(U16U16.pack(s, e) for s, e in self.gaps)
        parts.extend(U32.pack(d) for d in self.duplicates)
        return b"".join(parts)


@dataclass(slots=True)
class HeartbeatChunk:
    """HEARTBEAT (RFC 9260 §3.3.5): carries Heartbeat Info parameters."""

    params: list[Param] = field(default_factory=list)

    chunk_type = ChunkType.HEARTBEAT

    def encode(self) -> bytes:
        return encode_tlv_chunk(self.chunk_type, 0, b"", [encode_tlv(*p) for p in self.params])


@dataclass(slots=True)
class HeartbeatAckChunk(HeartbeatChunk):
    """HEARTBEAT ACK (RFC 9260 §3.3.6): echoes the Heartbeat Info."""

    chunk_type = ChunkType.HEARTBEAT_ACK


@dataclass(slots=True)
class AbortChunk:
    """ABORT (RFC 9260 §3.3.7) with error causes."""

    t_bit: bool = False
    causes: list[Param] = field(default_factory=list)

    chunk_type = ChunkType.ABORT

    def encode(self) -> bytes:
        causes = [encode_tlv(*c) for c in self.causes]
        return encode_tlv_chunk(self.chunk_type, FLAG_T if self.t_bit else 0, b"", causes)

    def describe(self) -> str:
        """The reason this ABORT gives, for AssociationClosed.error."""
        if not self.causes:
            return "peer aborted the association"
        names = []
        for code, value in self.causes:
            try:
                name = CauseCode(code).name.lower().replace("_", " ")
            except ValueError:
                name = f"cause {code}"
            if code in (CauseCode.PROTOCOL_VIOLATION, CauseCode.USER_INITIATED_ABORT) and value:
                name += ": " + value.decode("utf-8", "replace")
            names.append(name)
        return "peer aborted the association (" + "; ".join(names) + ")"


@dataclass(slots=True)
class ErrorChunk:
    """ERROR (RFC 9260 §3.3.10) with error causes."""

    causes: list[Param] = field(default_factory=list)

    def encode(self) -> bytes:
        causes = [encode_tlv(*c) for c in self.causes]
        return encode_tlv_chunk(ChunkType.ERROR, 0, b"", causes)


@dataclass(slots=True)
class ShutdownChunk:
    """SHUTDOWN (RFC 9260 §3.3.8)."""

    cumulative_tsn: int

    def encode(self) -> bytes:
        return CHUNK_HEADER.pack(ChunkType.SHUTDOWN, 0, 8) + U32.pack(self.cumulative_tsn)


@dataclass(slots=True)
class ShutdownAckChunk:
    """SHUTDOWN ACK (RFC 9260 §3.3.9)."""

    def encode(self) -> bytes:
        return CHUNK_HEADER.pack(ChunkType.SHUTDOWN_ACK, 0, 4)


@dataclass(slots=True)
class ShutdownCompleteChunk:
    """SHUTDOWN COMPLETE (RFC 9260 §3.3.13)."""

    t_bit: bool = False

    def encode(self) -> bytes:
        return CHUNK_HEADER.pack(ChunkType.SHUTDOWN_COMPLETE, FLAG_T if self.t_bit else 0, 4)


@dataclass(slots=True)
class CookieEchoChunk:
    """COOKIE ECHO (RFC 9260 §3.3.11)."""

    cookie: bytes

    def encode(self) -> bytes:
        n = 4 + len(self.cookie)
        return CHUNK_HEADER.pack(ChunkType.COOKIE_ECHO, 0, n) + self.cookie + _PAD[n & 3]


@dataclass(slots=True)
class CookieAckChunk:
    """COOKIE ACK (RFC 9260 §3.3.12)."""

    def encode(self) -> bytes:
        return CHUNK_HEADER.pack(ChunkType.COOKIE_ACK, 0, 4)


@dataclass(slots=True)
class ForwardTsnChunk:
    """FORWARD TSN (RFC 3758 §3.2): new cumulative TSN plus (stream, SSN) pairs."""

    new_cumulative_tsn: int
    streams: list[tuple[int, int]] = field(default_factory=list)

    def encode(self) -> bytes:
        n = 8 + 4 * len(self.streams)
        return (
            CHUNK_HEADER.pack(ChunkType.FORWARD_TSN, 0, n)
            + U32.pack(self.new_cumulative_tsn)
            + b"".join(U16U16.pack(s, q) for s, q in self.streams)
        )


@dataclass(frozen=True, slots=True)
class OutgoingSsnResetRequest:
    """Outgoing SSN Reset Request parameter (RFC 6525 §4.1)."""

    request_seq: int
    response_seq: int
    last_tsn: int
    streams: tuple[int, ...] = ()

    def encode(self) -> bytes:
        return encode_tlv(
            ParamType.OUTGOING_SSN_RESET,
            OUT_RESET_FIXED.pack(self.request_seq, self.response_seq, self.last_tsn)
            + b"".join(U16.pack(s) for s in self.streams),
        )


@dataclass(frozen=True, slots=True)
class IncomingSsnResetRequest:
    """Incoming SSN Reset Request parameter (RFC 6525 §4.2)."""

    request_seq: int
    streams: tuple[int, ...] = ()

    def encode(self) -> bytes:
        return encode_tlv(
            ParamType.INCOMING_SSN_RESET,
            U32.pack(self.request_seq) + b"".join(U16.pack(s) for s in self.streams),
        )


@dataclass(frozen=True, slots=True)
class SsnTsnResetRequest:
    """SSN/TSN Reset Request parameter (RFC 6525 §4.3)."""

    request_seq: int

    def encode(self) -> bytes:
        return encode_tlv(ParamType.SSN_TSN_RESET, U32.pack(self.request_seq))


@dataclass(frozen=True, slots=True)
class ReconfigResponse:
    """Re-configuration Response parameter (RFC 6525 §4.4)."""

    response_seq: int
    result: int
    sender_next_tsn: int | None = None
    receiver_next_tsn: int | None = None

    def encode(self) -> bytes:
        if self.sender_next_tsn is not None and self.receiver_next_tsn is not None:
            value = RECONFIG_RESPONSE_FULL.pack(
                self.response_seq, self.result, self.sender_next_tsn, self.receiver_next_tsn
            )
        else:
            value = U32U32.pack(self.response_seq, self.result)
        return encode_tlv(ParamType.RECONFIG_RESPONSE, value)


@dataclass(frozen=True, slots=True)
class AddStreamsRequest:
    """Add Outgoing (17) / Add Incoming (18) Streams Request parameter (RFC 6525 §4.5/§4.6)."""

    incoming: bool
    request_seq: int
    new_streams: int

    def encode(self) -> bytes:
        ptype = ParamType.ADD_INCOMING_STREAMS if self.incoming else ParamType.ADD_OUTGOING_STREAMS
        return encode_tlv(ptype, U32.pack(self.request_seq) + U16.pack(self.new_streams) + b"\0\0")


ReconfigParam = (
    OutgoingSsnResetRequest
    | IncomingSsnResetRequest
    | SsnTsnResetRequest
    | ReconfigResponse
    | AddStreamsRequest
    | tuple[int, bytes]
)


@dataclass(slots=True)
class ReconfigChunk:
    """RE-CONFIG (RFC 6525 §3.1): one or two re-configuration parameters."""

    params: list[ReconfigParam] = field(default_factory=list)

    def encode(self) -> bytes:
        tlvs = [p.encode() if not isinstance(p, tuple) else encode_tlv(*p) for p in self.params]
        return encode_tlv_chunk(ChunkType.RECONFIG, 0, b"", tlvs)


@dataclass(slots=True)
class UnknownChunk:
    """A chunk type this implementation does not process (handled per RFC 9260 §3.2)."""

    chunk_type: int
    flags: int
    value: bytes

    def encode(self) -> bytes:
        n = 4 + len(self.value)
        return CHUNK_HEADER.pack(self.chunk_type, self.flags, n) + self.value + _PAD[n & 3]


Chunk = (
    DataChunk
    | InitChunk
    | InitAckChunk
    | SackChunk
    | HeartbeatChunk
    | HeartbeatAckChunk
    | AbortChunk
    | ErrorChunk
    | ShutdownChunk
    | ShutdownAckChunk
    | ShutdownCompleteChunk
    | CookieEchoChunk
    | CookieAckChunk
    | ForwardTsnChunk
    | ReconfigChunk
    | UnknownChunk
)


# --------------------------------------------------------------------------- decoders


def _dec_init(flags: int, body: bytes) -> InitChunk:
    if len(body) < 16:
        raise ParseError("INIT too short")
    tag, rwnd, os_, mis, tsn = INIT_FIXED.unpack_from(body)
    return InitChunk(tag, rwnd, os_, mis, tsn, decode_params(body[16:]))


def _dec_init_ack(flags: int, body: bytes) -> InitAckChunk:
    if len(body) < 16:
        raise ParseError("INIT ACK too short")
    tag, rwnd, os_, mis, tsn = INIT_FIXED.unpack_from(body)
    return InitAckChunk(tag, rwnd, os_, mis, tsn, decode_params(body[16:]))


def _dec_sack(flags: int, body: bytes) -> SackChunk:
    if len(body) < 12:
        raise ParseError("SACK too short")
    cum, rwnd, ngaps, ndups = SACK_FIXED.unpack_from(body)
    if len(body) < 12 + 4 * (ngaps + ndups):
        raise ParseError("SACK gap/dup lists truncated")
    gaps = [U16U16.unpack_from(body, 12 + 4 * i) for i in range(ngaps)]
    base = 12 + 4 * ngaps
    dups = [U32.unpack_from(body, base + 4 * i)[0] for i in range(ndups)]
    return SackChunk(cum, rwnd, gaps, dups)


def _dec_heartbeat(flags: int, body: bytes) -> HeartbeatChunk:
    return HeartbeatChunk(decode_params(body))


def _dec_heartbeat_ack(flags: int, body: bytes) -> HeartbeatAckChunk:
    return HeartbeatAckChunk(decode_params(body))


def _dec_abort(flags: int, body: bytes) -> AbortChunk:
    return AbortChunk(bool(flags & FLAG_T), decode_params(body))


def _dec_error(flags: int, body: bytes) -> ErrorChunk:
    return ErrorChunk(decode_params(body))


def _dec_shutdown(flags: int, body: bytes) -> ShutdownChunk:
    if len(body) != 4:
        raise ParseError("SHUTDOWN length")
    return ShutdownChunk(U32.unpack(body)[0])


def _dec_shutdown_ack(flags: int, body: bytes) -> ShutdownAckChunk:
    return ShutdownAckChunk()


def _dec_shutdown_complete(flags: int, body: bytes) -> ShutdownCompleteChunk:
    return ShutdownCompleteChunk(bool(flags & FLAG_T))


def _dec_cookie_echo(flags: int, body: bytes) -> CookieEchoChunk:
    return CookieEchoChunk(bytes(body))


def _dec_cookie_ack(flags: int, body: bytes) -> CookieAckChunk:
    return CookieAckChunk()


def _dec_forward_tsn(flags: int, body: bytes) -> ForwardTsnChunk:
    if len(body) < 4 or len(body) % 4:
        raise ParseError("FORWARD TSN length")
    cum = U32.unpack_from(body)[0]
    streams = [U16U16.unpack_from(body, i) for i in range(4, len(body), 4)]
    return ForwardTsnChunk(cum, streams)


def _stream_list(value: bytes, start: int) -> tuple[int, ...]:
    if (len(value) - start) % 2:
        raise ParseError("odd stream list")
    return tuple(U16.unpack_from(value, i)[0] for i in range(start, len(value), 2))


def decode_reconfig_param(ptype: int, value: bytes) -> ReconfigParam:
    """Decode one RE-CONFIG parameter (RFC 6525 §4); unknown types stay raw."""
    if ptype == ParamType.OUTGOING_SSN_RESET:
        if len(value) < 12:
            raise ParseError("Outgoing SSN Reset Request too short")
        req, resp, last = OUT_RESET_FIXED.unpack_from(value)
        return OutgoingSsnResetRequest(req, resp, last, _stream_list(value, 12))
    if ptype == ParamType.INCOMING_SSN_RESET:
        if len(value) < 4:
            raise ParseError("Incoming SSN Reset Request too short")
        return IncomingSsnResetRequest(U32.unpack_from(value)[0], _stream_list(value, 4))
    if ptype == ParamType.SSN_TSN_RESET:
        if len(value) != 4:
            raise ParseError("SSN/TSN Reset Request length")
        return SsnTsnResetRequest(U32.unpack(value)[0])
    if ptype == ParamType.RECONFIG_RESPONSE:
        if len(value) == 8:
            seq, result = U32U32.unpack(value)
            return ReconfigResponse(seq, result)
        if len(value) == 16:
            seq, result, snt, rnt = RECONFIG_RESPONSE_FULL.unpack(value)
            return ReconfigResponse(seq, result, snt, rnt)
        raise ParseError("Re-configuration Response length")
    if ptype in (ParamType.ADD_OUTGOING_STREAMS, ParamType.ADD_INCOMING_STREAMS):
        if len(value) != 8:
            raise ParseError("Add Streams Request length")
        req = U32.unpack_from(value)[0]
        n = U16.unpack_from(value, 4)[0]
        return AddStreamsRequest(ptype == ParamType.ADD_INCOMING_STREAMS, req, n)
    return (ptype, value)


def _dec_reconfig(flags: int, body: bytes) -> ReconfigChunk:
    return ReconfigChunk([decode_reconfig_param(t, v) for t, v in decode_params(body)])


_DECODERS: dict[int, Callable[[int, bytes], Chunk]] = {
    ChunkType.INIT: _dec_init,
    ChunkType.INIT_ACK: _dec_init_ack,
    ChunkType.SACK: _dec_sack,
    ChunkType.HEARTBEAT: _dec_heartbeat,
    ChunkType.HEARTBEAT_ACK: _dec_heartbeat_ack,
    ChunkType.ABORT: _dec_abort,
    ChunkType.SHUTDOWN: _dec_shutdown,
    ChunkType.SHUTDOWN_ACK: _dec_shutdown_ack,
    ChunkType.ERROR: _dec_error,
    ChunkType.COOKIE_ECHO: _dec_cookie_echo,
    ChunkType.COOKIE_ACK: _dec_cookie_ack,
    ChunkType.SHUTDOWN_COMPLETE: _dec_shutdown_complete,
    ChunkType.RECONFIG: _dec_reconfig,
    ChunkType.FORWARD_TSN: _dec_forward_tsn,
}


def decode_chunks(data: bytes, offset: int = COMMON_HEADER_SIZE) -> list[Chunk]:
    """Decode every chunk from `offset` on (RFC 9260 §3.2); the last chunk may lack padding."""
    out: list[Chunk] = []
    end = len(data)
    unpack_hdr = CHUNK_HEADER.unpack_from
    unpack_data = DATA_HEADER.unpack_from
    decoders = _DECODERS
    off = offset
    while off < end:
        if end - off < 4:
            raise ParseError("truncated chunk header")
        ctype, flags, length = unpack_hdr(data, off)
        if length < 4 or off + length > end:
            raise ParseError(f"bad chunk length {length} for type {ctype}")
        if ctype == 0:
            if length < 16:
                raise ParseError("DATA chunk too short")
            _, _, _, tsn, sid, ssn, ppid = unpack_data(data, off)
            out.append(DataChunk(flags, tsn, sid, ssn, ppid, data[off + 16 : off + length]))
        else:
            dec = decoders.get(ctype)
            body = data[off + 4 : off + length]
            if dec is None:
                out.append(UnknownChunk(ctype, flags, body))
            else:
                out.append(dec(flags, body))
        off += length + (-length & 3)
    return out


@dataclass(slots=True)
class Packet:
    """An SCTP packet: common header (RFC 9260 §3.1) and its chunks."""

    source_port: int
    destination_port: int
    verification_tag: int
    checksum: int
    chunks: list[Chunk]


def compute_checksum(packet: bytes) -> int:
    """CRC32c of `packet` with the checksum field taken as zero (RFC 9260 §6.8)."""
    return int(_crc32c.crc32c(packet[:8] + _ZERO4 + packet[12:]))


def verify_checksum(packet: bytes) -> bool:
    """Whether the stored CRC32c matches."""
    if len(packet) < COMMON_HEADER_SIZE:
        return False
    return bool(CHECKSUM.unpack_from(packet, 8)[0] == compute_checksum(packet))


def decode_packet(
    data: bytes, *, check_crc: bool = True, allow_zero_checksum: bool = False
) -> Packet:
    """Decode a whole packet. Raises `ChecksumError` on a bad CRC32c (a zero checksum is
    accepted without verification when `allow_zero_checksum`, RFC 9653 §5.4)."""
    data = bytes(data)
    if len(data) < COMMON_HEADER_SIZE:
        raise ParseError("packet shorter than the common header")
    src, dst, vtag = COMMON_HEADER.unpack_from(data)
    checksum = CHECKSUM.unpack_from(data, 8)[0]
    if (
        check_crc
        and not (allow_zero_checksum and checksum == 0)
        and checksum != compute_checksum(data)
    ):
        raise ChecksumError("CRC32c mismatch")
    return Packet(src, dst, vtag, checksum, decode_chunks(data))


def encode_packet(
    source_port: int,
    destination_port: int,
    verification_tag: int,
    chunks: bytes | list[bytes],
    *,
    zero_checksum: bool = False,
) -> bytes:
    """Build a packet from encoded chunks; checksum zero only when `zero_checksum` (RFC 9653)."""
    body = chunks if isinstance(chunks, bytes | bytearray) else b"".join(chunks)
    header = COMMON_HEADER.pack(source_port, destination_port, verification_tag)
    if zero_checksum:
        return header + _ZERO4 + body
    crc = _crc32c.crc32c(body, _crc32c.crc32c(header + _ZERO4))
    return header + CHECKSUM.pack(crc) + body
