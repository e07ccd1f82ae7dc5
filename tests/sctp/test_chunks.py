"""SCTP packet/chunk codec: vectors, round trips, totality."""

from __future__ import annotations

import struct

import crc32c
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sctp
from sctp import chunks as c

# /work/shared/vectors/crc32c_sctp.txt §6 (self-made packets, checksums cross-checked)
VEC_OPEN = bytes.fromhex(
    "1388138801020304eb84add50003002000000001000000000000003203000100000000000004000063686174"
)
VEC_ACK = bytes.fromhex("138813880a0b0c0d2768a99a0003001110000000000000000000003202000000")
VEC_EMPTY = bytes.fromhex("138813880102030408cfa9a40003001100000002000000010000003800000000")
VEC_INIT = bytes.fromhex("1388138800000000c2bb9c97010000181122334400020000ffffffff00000001c0000004")
VEC_PION_HEADER_ONLY = bytes.fromhex("13881388000000000" + "6a900e1")


def test_crc32c_check_values() -> None:
    assert crc32c.crc32c(b"123456789") == 0xE3069283
    assert crc32c.crc32c(bytes(32)) == 0x8A9136AA


def test_header_only_packet_checksum() -> None:
    assert c.verify_checksum(VEC_PION_HEADER_ONLY)
    pkt = c.decode_packet(VEC_PION_HEADER_ONLY)
    assert (pkt.source_port, pkt.destination_port, pkt.verification_tag) == (5000, 5000, 0)
    assert pkt.chunks == []


def test_vector_data_channel_open() -> None:
    pkt = c.decode_packet(VEC_OPEN)
    assert pkt.verification_tag == 0x01020304
    assert pkt.checksum == 0xD5AD84EB
    (chunk,) = pkt.chunks
    assert isinstance(chunk, c.DataChunk)
    assert (chunk.flags, chunk.tsn, chunk.stream_id, chunk.ssn, chunk.ppid) == (3, 1, 0, 0, 50)
    msg = sctp.decode_dcep(chunk.user_data)
    assert isinstance(msg, sctp.DataChannelOpen)
    assert (msg.label, msg.protocol, msg.priority, msg.ordered) == ("chat", "", 256, True)
    assert c.encode_packet(5000, 5000, 0x01020304, chunk.encode()) == VEC_OPEN


def test_vector_ack_with_padding() -> None:
    pkt = c.decode_packet(VEC_ACK)
    (chunk,) = pkt.chunks
    assert isinstance(chunk, c.DataChunk)
    assert chunk.tsn == 0x10000000 and chunk.user_data == b"\x02"
    assert c.encode_packet(5000, 5000, 0x0A0B0C0D, chunk.encode()) == VEC_ACK


def test_vector_empty_string_message() -> None:
    (chunk,) = c.decode_packet(VEC_EMPTY).chunks
    assert isinstance(chunk, c.DataChunk)
    assert chunk.ppid == 56 and chunk.user_data == b"\x00" and chunk.ssn == 1
    assert c.encode_packet(5000, 5000, 0x01020304, chunk.encode()) == VEC_EMPTY


def test_vector_init() -> None:
    (chunk,) = c.decode_packet(VEC_INIT).chunks
    assert isinstance(chunk, c.InitChunk) and not isinstance(chunk, c.InitAckChunk)
    assert chunk.initiate_tag == 0x11223344 and chunk.a_rwnd == 131072
    assert (chunk.outbound_streams, chunk.inbound_streams, chunk.initial_tsn) == (65535, 65535, 1)
    assert chunk.params == [(0xC000, b"")]
    assert c.encode_packet(5000, 5000, 0, chunk.encode()) == VEC_INIT


def test_bad_checksum_rejected_and_zero_checksum_policy() -> None:
    bad = bytearray(VEC_OPEN)
    bad[-1] ^= 1
    with pytest.raises(sctp.ChecksumError):
        c.decode_packet(bytes(bad))
    zero = VEC_OPEN[:8] + b"\0\0\0\0" + VEC_OPEN[12:]
    with pytest.raises(sctp.ChecksumError):
        c.decode_packet(zero)
    assert c.decode_packet(zero, allow_zero_checksum=True).checksum == 0
    # a wrong non-zero checksum is still rejected when zero checksum is allowed (RFC 9653)
    with pytest.raises(sctp.ChecksumError):
        c.decode_packet(bytes(bad), allow_zero_checksum=True)
    assert c.encode_packet(1, 2, 3, b"", zero_checksum=True)[8:12] == b"\0\0\0\0"


ALL_CHUNKS: list[c.Chunk] = [
    c.DataChunk(c.FLAG_BEGIN | c.FLAG_UNORDERED, 0xFFFFFFFF, 7, 9, 53, b"abcde"),
    c.InitChunk(1, 2, 3, 4, 5, [(0x8008, bytes([130, 192])), (0xC000, b""), (0x8001, b"\0\0\0\1")]),
    c.InitAckChunk(9, 8, 7, 6, 5, [(7, b"cookie!")]),
    c.SackChunk(100, 65536, [(2, 3), (5, 9)], [98, 99]),
    c.SackChunk(100, 0, [], []),
    c.HeartbeatChunk([(1, b"hbinfo")]),
    c.HeartbeatAckChunk([(1, b"hbinfo")]),
    c.AbortChunk(True, [(12, b"bye")]),
    c.AbortChunk(False, []),
    c.ErrorChunk([(3, b"\0\0\0\1")]),
    c.ShutdownChunk(42),
    c.ShutdownAckChunk(),
    c.ShutdownCompleteChunk(True),
    c.CookieEchoChunk(b"xyz"),
    c.CookieAckChunk(),
    c.ForwardTsnChunk(77, [(1, 2), (3, 4)]),
    c.ReconfigChunk([c.OutgoingSsnResetRequest(1, 2, 3, (4, 5, 6))]),
    c.ReconfigChunk([c.IncomingSsnResetRequest(1, (2,)), c.SsnTsnResetRequest(9)]),
    c.ReconfigChunk([c.ReconfigResponse(1, 1), c.ReconfigResponse(2, 1, 3, 4)]),
    c.ReconfigChunk([c.AddStreamsRequest(False, 1, 10), c.AddStreamsRequest(True, 2, 20)]),
    c.UnknownChunk(0xC5, 0x12, b"hello"),
]


@pytest.mark.parametrize("chunk", ALL_CHUNKS, ids=lambda ch: type(ch).__name__)
def test_chunk_round_trip(chunk: c.Chunk) -> None:
    wire = chunk.encode()
    assert len(wire) % 4 == 0
    pkt = c.decode_packet(c.encode_packet(5000, 5001, 0xDEADBEEF, wire))
    assert pkt.chunks == [chunk]
    assert (pkt.source_port, pkt.destination_port) == (5000, 5001)


def test_bundled_chunks_and_unpadded_last_chunk() -> None:
    wire = c.SackChunk(1, 2).encode() + c.DataChunk(3, 1, 0, 0, 51, b"abc").encode()
    pkt = c.encode_packet(5000, 5000, 1, wire[:-1])  # last chunk without its pad byte
    assert len(c.decode_packet(pkt).chunks) == 2


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\x03\x00\x0c" + bytes(8),  # DATA shorter than its 16-byte header
        b"\x03\x00\x00\x10" + bytes(12) + b"\x00\x01\x00\x00",  # SACK gap list truncated
        b"\x01\x00\x00\x08" + bytes(4),  # INIT too short
        b"\x07\x00\x00\x0c" + bytes(8),  # SHUTDOWN with wrong length
        b"\xc0\x00\x00\x06\x00\x00",  # FORWARD TSN with odd length
        b"\x00\x03\x00\x40" + bytes(20),  # chunk length beyond packet
        b"\x0b\x00\x00\x02",  # chunk length < 4
        b"\x0b\x00",  # truncated chunk header
        b"\x06\x00\x00\x0a\x00\x0c\x00\x09\x00\x00",  # error cause overruns the chunk
        b"\x82\x00\x00\x0c\x00\x10\x00\x08\x00\x00\x00\x01",  # RE-CONFIG response bad length
    ],
)
def test_malformed_chunks_raise_parse_error(body: bytes) -> None:
    with pytest.raises(sctp.ParseError):
        c.decode_packet(c.encode_packet(5000, 5000, 1, body))


def test_short_packet() -> None:
    with pytest.raises(sctp.ParseError):
        c.decode_packet(b"\x13\x88\x13\x88")


def test_params_upper_bits_and_padding() -> None:
    params = [(0x1234, b"a"), (0x8008, b"\x82\xc0"), (0xC000, b"")]
    enc = c.encode_params(params)
    assert len(enc) == 8 + 8 + 4
    assert c.decode_params(enc) == params


@given(st.binary(max_size=400))
def test_decode_packet_total(data: bytes) -> None:
    for check in (True, False):
        try:
            c.decode_packet(data, check_crc=check)
        except sctp.SctpError:
            pass


@given(st.binary(max_size=400))
def test_decode_chunks_total_on_valid_checksum(data: bytes) -> None:
    pkt = c.encode_packet(5000, 5000, 7, data)
    try:
        c.decode_packet(pkt)
    except sctp.SctpError:
        pass


@given(
    st.lists(
        st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=40)), max_size=6
    )
)
def test_decode_structured_chunks_total(items: list[tuple[int, int, bytes]]) -> None:
    body = b"".join(
        struct.pack("!BBH", t, f, 4 + len(v)) + v + bytes(-len(v) & 3) for t, f, v in items
    )
    try:
        pkt = c.decode_packet(c.encode_packet(1, 2, 3, body))
    except sctp.SctpError:
        return
    assert len(pkt.chunks) == len(items)


# RFC 9260 §3.2: the chunk length excludes the padding of the chunk's last parameter; that
# padding still follows (issue 13, defect 6: tshark flagged these chunks as malformed).
def test_reconfig_length_excludes_last_padding() -> None:
    req = c.OutgoingSsnResetRequest(7, 6, 0x01020304, (3,))
    wire = c.ReconfigChunk([req]).encode()
    # type 130, length 4 + 18 (parameter 13, length 18: 12 fixed + one 2-byte stream id), pad 2
    assert wire == bytes.fromhex("82000016000d001200000007000000060102030400030000")
    both = c.ReconfigChunk([req, c.ReconfigResponse(9, 1)]).encode()
    assert both[:4] == bytes.fromhex("82000024")  # 4 + 20 + 12: inner padding counts
    assert c.decode_chunks(wire, 0) == [c.ReconfigChunk([req])]


def test_tlv_chunks_length_excludes_last_padding() -> None:
    hb = c.HeartbeatChunk([(c.ParamType.HEARTBEAT_INFO, b"abcde")]).encode()
    assert hb == bytes.fromhex("0400000d000100096162636465000000")
    abort = c.AbortChunk(True, [(c.CauseCode.PROTOCOL_VIOLATION, b"x")]).encode()
    assert abort == bytes.fromhex("06010009000d000578000000")
    err = c.ErrorChunk([(c.CauseCode.NO_USER_DATA, b"\x00\x00\x00\x01\x02")]).encode()
    assert err == bytes.fromhex("0900000d000900090000000102000000")
    init = c.InitChunk(1, 2, 3, 4, 5, [(0x8008, bytes([130, 192, 6]))]).encode()
    assert init == bytes.fromhex("0100001b000000010000000200030004000000058008000782c00600")
    ack = c.InitAckChunk(1, 2, 3, 4, 5, [(c.ParamType.STATE_COOKIE, b"\x01")]).encode()
    assert ack[:4] == bytes.fromhex("02000019") and len(ack) == 28
    # aligned parameters: nothing to exclude
    assert c.HeartbeatChunk([(1, b"abcd")]).encode()[:4] == bytes.fromhex("0400000c")


@pytest.mark.parametrize(
    "chunk",
    [
        c.ReconfigChunk([c.OutgoingSsnResetRequest(7, 6, 5, (3,))]),
        c.HeartbeatChunk([(c.ParamType.HEARTBEAT_INFO, b"abcde")]),
        c.AbortChunk(False, [(c.CauseCode.USER_INITIATED_ABORT, b"bye")]),
        c.ErrorChunk([(c.CauseCode.NO_USER_DATA, b"\x00\x00\x00\x01\x02")]),
        c.InitChunk(1, 2, 3, 4, 5, [(0x8008, bytes([130, 192, 6]))]),
    ],
)
def test_decoders_accept_padded_and_unpadded_lengths(chunk: c.Chunk) -> None:
    # a peer that counts the final padding in the chunk length (as this stack did) still decodes
    wire = chunk.encode()
    assert len(wire) % 4 == 0
    legacy = wire[:2] + struct.pack("!H", len(wire)) + wire[4:]
    assert c.decode_chunks(wire, 0) == [chunk]
    assert c.decode_chunks(legacy, 0) == [chunk]
    assert c.decode_chunks(wire + wire, 0) == [chunk, chunk]
    assert c.decode_chunks(legacy + wire, 0) == [chunk, chunk]
