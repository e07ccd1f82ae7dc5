"""Hypothesis strategies for SCTP (RFC 9260, RFC 3758, RFC 6525) chunks and packets and for
DCEP (RFC 8832) messages.

Needs `pip install '.[testing]'`. Valid by default: `chunks()` (the `sctp.chunks` dataclasses;
encoding then `decode_chunks` gives them back), `packets()` (whole packets with a correct
CRC32c, RFC 9260 Appendix A), `dcep_messages()`. Near-valid mutations:
`mutated_packets()` (a checksum off by one bit, a chunk length past the end or below 4, a
truncated common header or chunk, a fixed-size chunk with a wrong length; all but the first with
a correct checksum so the chunk parser is reached) make `sctp.decode_packet` raise
`sctp.ParseError` (`sctp.ChecksumError` for the checksum); `mutated_dcep()` (a label/protocol
length past the end, an unknown channel or message type, an ACK with trailing bytes, a label
that is not UTF-8) makes `sctp.decode_dcep` raise `sctp.ParseError`. Shrinks towards DATA
chunks with small TSNs and short payloads.

Not imported by `sctp/__init__`: the package works without hypothesis.
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from . import chunks as c
from .chunks import ChunkType, encode_packet
from .dcep import ChannelType, DataChannelAck, DataChannelOpen

__all__ = [
    "PACKET_MUTATIONS",
    "chunks",
    "data_chunks",
    "dcep_messages",
    "dcep_opens",
    "mutated_dcep",
    "mutated_packets",
    "packets",
]

_U32 = st.integers(0, 2**32 - 1)
_U16 = st.integers(0, 0xFFFF)
_PPIDS = (50, 51, 53, 56, 57)
_KNOWN = frozenset(int(t) for t in ChunkType)


def _params() -> st.SearchStrategy[list[tuple[int, bytes]]]:
    return st.lists(st.tuples(_U16, st.binary(max_size=12)), max_size=3)


def data_chunks() -> st.SearchStrategy[c.DataChunk]:
    """DATA chunks (RFC 9260 §3.3.1) with WebRTC PPIDs (RFC 8831 §8)."""
    return st.builds(
        c.DataChunk,
        flags=st.sampled_from((3, 1, 2, 0, 7, 4, 11)),  # B|E, E, B, middle, with U / I bits
        tsn=_U32,
        stream_id=_U16,
        ssn=_U16,
        ppid=st.sampled_from(_PPIDS),
        user_data=st.binary(min_size=1, max_size=64),
    )


def _reconfig_params() -> st.SearchStrategy[c.ReconfigParam]:
    streams = st.lists(_U16, max_size=4).map(tuple)
    return st.one_of(
        st.builds(c.OutgoingSsnResetRequest, _U32, _U32, _U32, streams),
        st.builds(c.IncomingSsnResetRequest, _U32, streams),
        st.builds(c.SsnTsnResetRequest, _U32),
        st.builds(c.ReconfigResponse, _U32, st.integers(0, 6)),
        st.builds(c.ReconfigResponse, _U32, st.integers(0, 6), _U32, _U32),
        st.builds(c.AddStreamsRequest, st.booleans(), _U32, _U16),
    )


def chunks() -> st.SearchStrategy[c.Chunk]:
    """Every chunk type `sctp.chunks` knows, plus unknown types kept verbatim."""
    unknown_types = st.integers(0, 255).filter(lambda t: t not in _KNOWN)
    return st.one_of(
        data_chunks(),
        st.builds(c.InitChunk, _U32, _U32, _U16, _U16, _U32, _params()),
        st.builds(c.InitAckChunk, _U32, _U32, _U16, _U16, _U32, _params()),
        st.builds(
            c.SackChunk,
            _U32,
            _U32,
            st.lists(st.tuples(_U16, _U16), max_size=4),
            st.lists(_U32, max_size=4),
        ),
        st.builds(c.HeartbeatChunk, _params()),
        st.builds(c.HeartbeatAckChunk, _params()),
        st.builds(c.AbortChunk, st.booleans(), _params()),
        st.builds(c.ErrorChunk, _params()),
        st.builds(c.ShutdownChunk, _U32),
        st.builds(c.ShutdownAckChunk),
        st.builds(c.ShutdownCompleteChunk, st.booleans()),
        st.builds(c.CookieEchoChunk, st.binary(max_size=64)),
        st.builds(c.CookieAckChunk),
        st.builds(c.ForwardTsnChunk, _U32, st.lists(st.tuples(_U16, _U16), max_size=4)),
        st.builds(c.ReconfigChunk, st.lists(_reconfig_params(), max_size=2)),
        st.builds(c.UnknownChunk, unknown_types, st.integers(0, 255), st.binary(max_size=16)),
    )


@st.composite
def packets(
    draw: st.DrawFn, chunk_strategy: st.SearchStrategy[c.Chunk] | None = None
) -> tuple[bytes, list[c.Chunk]]:
    """`(packet bytes, its chunks)`: 1-4 chunks behind a common header with a correct CRC32c."""
    items = draw(st.lists(chunk_strategy or chunks(), min_size=1, max_size=4))
    packet = encode_packet(draw(_U16), draw(_U16), draw(_U32), [x.encode() for x in items])
    return packet, items


def dcep_opens() -> st.SearchStrategy[DataChannelOpen]:
    """DATA_CHANNEL_OPEN messages (RFC 8832 §5.1)."""
    return st.builds(
        DataChannelOpen,
        channel_type=st.sampled_from(list(ChannelType)),
        priority=st.sampled_from((256, 128, 512, 1024, 0)),
        reliability=st.integers(0, 2**32 - 1),
        label=st.text(max_size=16),
        protocol=st.text(max_size=8),
    )


def dcep_messages() -> st.SearchStrategy[DataChannelOpen | DataChannelAck]:
    return st.one_of(dcep_opens(), st.just(DataChannelAck()))


PACKET_MUTATIONS = (
    "checksum",
    "chunk-overrun",
    "chunk-too-short",
    "short-header",
    "truncated-chunk",
    "fixed-length",
)


@st.composite
def mutated_packets(draw: st.DrawFn, mutation: str | None = None) -> bytes:
    """Packets `sctp.decode_packet` must reject with `sctp.ParseError` (`PACKET_MUTATIONS`)."""
    packet, _ = draw(packets())
    kind = mutation or draw(st.sampled_from(PACKET_MUTATIONS))
    header = packet[:12]
    ports_tag = struct.unpack("!HHI", header[:8])
    body = bytearray(packet[12:])
    if kind == "checksum":
        raw = bytearray(packet)
        raw[8 + draw(st.integers(0, 3))] ^= 1 << draw(st.integers(0, 7))
        return bytes(raw)
    if kind == "short-header":
        return packet[: draw(st.integers(0, 11))]
    if kind == "chunk-overrun":  # the first chunk's length runs past the packet
        body[2:4] = min(0xFFFF, len(body) + draw(st.integers(1, 64))).to_bytes(2, "big")
    elif kind == "chunk-too-short":
        body[2:4] = draw(st.integers(0, 3)).to_bytes(2, "big")
    elif kind == "truncated-chunk":  # 1-3 bytes of a chunk header after the last chunk
        body += bytes(draw(st.integers(1, 3)))
    elif kind == "fixed-length":  # a SHUTDOWN whose length says 5..7 or 9..12 bytes
        n = draw(st.sampled_from((5, 6, 7, 9, 10, 11, 12)))
        chunk = struct.pack("!BBH", ChunkType.SHUTDOWN, 0, n) + bytes(n - 4)
        body = bytearray(chunk + bytes(-len(chunk) % 4))
    else:
        raise ValueError(f"unknown mutation {kind!r} (one of {PACKET_MUTATIONS})")
    return encode_packet(ports_tag[0], ports_tag[1], ports_tag[2], bytes(body))


@st.composite
def mutated_dcep(draw: st.DrawFn) -> bytes:
    """DCEP payloads `sctp.decode_dcep` must reject with `sctp.ParseError`."""
    kind = draw(st.sampled_from(("overrun", "channel-type", "msg-type", "ack", "utf8", "short")))
    raw = bytearray(draw(dcep_opens()).encode())
    if kind == "overrun":  # label length past the end
        label_len = int.from_bytes(raw[8:10], "big")
        raw[8:10] = (label_len + len(raw) + draw(st.integers(1, 64))).to_bytes(2, "big")
        return bytes(raw)
    if kind == "channel-type":
        valid = {int(t) for t in ChannelType}
        raw[1] = draw(st.integers(0, 255).filter(lambda v: v not in valid))
        return bytes(raw)
    if kind == "msg-type":
        raw[0] = draw(st.integers(0, 255).filter(lambda v: v not in (2, 3)))
        return bytes(raw)
    if kind == "ack":
        return b"\x02" + draw(st.binary(min_size=1, max_size=8))
    if kind == "utf8":
        bad = draw(st.sampled_from((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80abc")))
        raw[8:10] = len(bad).to_bytes(2, "big")
        raw[10:12] = b"\x00\x00"
        return bytes(raw[:12]) + bad
    return bytes(raw[: draw(st.integers(0, 11))])
