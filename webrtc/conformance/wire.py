"""Reading the proxy's records: DTLS records and handshake messages, STUN requests.

Total: malformed bytes yield nothing (a peer under test may send anything).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dtls import DtlsError
from dtls import messages as hs

from .proxy import Direction, ProxyRecord

__all__ = ["Handshake", "dtls_records", "handshakes", "stun_requests"]

_RECORD = struct.Struct("!BHHHIH")  # type, version, epoch, seq hi16, seq lo32, length
RECORD_HEADER = 13
HANDSHAKE = 22


@dataclass(frozen=True)
class Handshake:
    """One plaintext (epoch 0) handshake fragment seen on the wire."""

    time: float
    direction: Direction
    msg_type: int
    message_seq: int
    offset: int
    length: int  # the whole message's length
    body: bytes  # this fragment's bytes
    datagram: int  # the record number of the datagram that carried it

    @property
    def whole(self) -> bool:
        return self.offset == 0 and len(self.body) == self.length


def dtls_records(data: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """`(content type, epoch, sequence number, fragment)` of each DTLS record in a datagram."""
    pos = 0
    while len(data) - pos >= RECORD_HEADER and 20 <= data[pos] <= 63:
        ctype, _, epoch, hi, lo, length = _RECORD.unpack_from(data, pos)
        body = data[pos + RECORD_HEADER : pos + RECORD_HEADER + length]
        if len(body) < length:
            return
        yield ctype, epoch, (hi << 32) | lo, body
        pos += RECORD_HEADER + length


def handshakes(records: Iterable[ProxyRecord], direction: Direction) -> list[Handshake]:
    """Every epoch-0 handshake fragment sent in `direction` (as received by the proxy)."""
    out: list[Handshake] = []
    for r in records:
        if r.direction is not direction or r.fate == "injected":
            continue
        for ctype, epoch, _, body in dtls_records(r.data):
            if ctype != HANDSHAKE or epoch != 0:
                continue
            try:
                frags = hs.parse_fragments(body)
            except DtlsError:
                continue
            out.extend(
                Handshake(
                    r.time,
                    direction,
                    f.msg_type,
                    f.message_seq,
                    f.offset,
                    f.length,
                    f.body,
                    r.number,
                )
                for f in frags
            )
    return out


def message(frags: list[Handshake], msg_type: int, nth: int = 0) -> bytes | None:
    """The `nth` whole message of `msg_type` (by message_seq), reassembled from fragments."""
    seqs = sorted({f.message_seq for f in frags if f.msg_type == msg_type})
    if nth >= len(seqs):
        return None
    parts = [f for f in frags if f.msg_type == msg_type and f.message_seq == seqs[nth]]
    if not parts:
        return None
    buf = bytearray(parts[0].length)
    have = [False] * parts[0].length
    for f in parts:
        if f.length != len(buf):
            continue
        buf[f.offset : f.offset + len(f.body)] = f.body
        have[f.offset : f.offset + len(f.body)] = [True] * len(f.body)
    return bytes(buf) if all(have) else None


def stun_transactions(
    records: Iterable[ProxyRecord], directions: tuple[Direction, ...]
) -> list[tuple[float, bytes]]:
    """`(first time seen, transaction id)` of each STUN request sent in `directions`, in order."""
    seen: dict[bytes, float] = {}
    for r in records:
        d = r.data
        if r.direction not in directions or r.fate == "injected" or len(d) < 20:
            continue
        if d[0] <= 1 and d[4:8] == b"\x21\x12\xa4\x42" and d[0] & 0x01 == 0 and d[1] & 0x10 == 0:
            seen.setdefault(bytes(d[8:20]), r.time)
    return sorted((t, tid) for tid, t in seen.items())


def stun_requests(records: Iterable[ProxyRecord], direction: Direction) -> list[float]:
    """Times of the STUN requests (class bits 00, RFC 8489 §5) sent in `direction`."""
    return [
        r.time
        for r in records
        if r.direction is direction
        and len(r.data) >= 20
        and r.data[0] <= 1
        and r.data[4:8] == b"\x21\x12\xa4\x42"
        and r.data[0] & 0x01 == 0
        and r.data[1] & 0x10 == 0
    ]
