"""One-shot mDNS resolution of ICE host-candidate names (`<uuid>.local`), sans-I/O.

Browsers hide host addresses behind mDNS names (draft-ietf-mmusic-mdns-ice-candidates §3.1.1).
We resolve them with RFC 6762 §5.1 one-shot queries sent from an ordinary (non-5353) UDP port to
224.0.0.251:5353; a responder answers such a "legacy" query by unicast to our port (§6.7), so
no socket needs to join the multicast group. Each try sends two queries, A and AAAA, of one
name. Chromium (observed, v156) answers only by multicast to 224.0.0.251:5353: a driver that
wants those answers binds a socket to port 5353 joined to the group and feeds it in too.

`parse_message()` is a total DNS message decoder: bytes -> `DnsMessage` or `MdnsError`.
`MdnsResolver` tracks outstanding names, retransmissions (virtual time) and answer matching.
"""

from __future__ import annotations

import ipaddress
import random
import struct
from dataclasses import dataclass

MDNS_ADDRESS_V4 = ("224.0.0.251", 5353)
MDNS_ADDRESS_V6 = ("ff02::fb", 5353)
MDNS_PORT = 5353

TYPE_A = 1
TYPE_AAAA = 28
CLASS_IN = 1

# Policy: queries at 0, 1 and 2 s; the name is given up at 3 s (RFC 6762 §5.1 leaves it open).
QUERY_TRIES = 3
QUERY_INTERVAL = 1.0
# Policy: outstanding resolutions per agent (a peer could signal any number of names).
MAX_PENDING = 16

_HEADER = struct.Struct("!HHHHHH")
_QUESTION = struct.Struct("!HH")
_RR = struct.Struct("!HHIH")
_MAX_POINTER_HOPS = 64  # RFC 1035 §4.1.4 pointers; bound them to refuse loops


class MdnsError(ValueError):
    """A malformed DNS message or an unusable name."""


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """One resource record; `address` is set for A/AAAA records of class IN."""

    name: str
    rtype: int
    rclass: int
    ttl: int
    rdata: bytes
    address: str | None


@dataclass(frozen=True, slots=True)
class DnsMessage:
    """A decoded DNS message (RFC 1035 §4.1): header fields, questions and all records."""

    id: int
    flags: int
    questions: tuple[tuple[str, int, int], ...]
    records: tuple[DnsRecord, ...]

    @property
    def is_response(self) -> bool:
        return bool(self.flags & 0x8000)


@dataclass(frozen=True, slots=True)
class Resolved:
    """An outstanding name answered with `address` (an IP literal)."""

    name: str
    address: str


def _encode_name(name: str) -> bytes:
    labels = name.rstrip(".").split(".")
    out = bytearray()
    for label in labels:
        raw = label.encode("ascii", "strict") if label.isascii() else b""
        if not 0 < len(raw) <= 63:  # RFC 1035 §2.3.4
            raise MdnsError(f"bad DNS label in {name!r}")
        out.append(len(raw))
        out += raw
    out.append(0)
    if len(out) > 255:
        raise MdnsError("DNS name too long")
    return bytes(out)


def build_query(name: str, qtype: int = TYPE_A, query_id: int = 0) -> bytes:
    """An RFC 6762 §5.1 one-shot query with one question: `qtype` (A or AAAA) of `name`.

    Sent from a port other than 5353, an RFC 6762 responder answers by unicast (§6.7) echoing
    `query_id`. One question per message: Chromium's responder ignores multi-question queries.
    """
    header = _HEADER.pack(query_id & 0xFFFF, 0, 1, 0, 0, 0)
    return header + _encode_name(name) + _QUESTION.pack(qtype, CLASS_IN)


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    """Decode a (possibly compressed) name at `offset`; returns (name, offset after it)."""
    labels: list[str] = []
    end = -1
    hops = 0
    total = 0
    n = len(data)
    while True:
        if offset >= n:
            raise MdnsError("truncated name")
        length = data[offset]
        if length & 0xC0 == 0xC0:  # RFC 1035 §4.1.4 compression pointer
            if offset + 1 >= n:
                raise MdnsError("truncated name pointer")
            hops += 1
            if hops > _MAX_POINTER_HOPS:
                raise MdnsError("name pointer loop")
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            continue
        if length & 0xC0:
            raise MdnsError("unsupported label type")
        offset += 1
        if length == 0:
            break
        if offset + length > n:
            raise MdnsError("truncated label")
        total += length + 1
        if total > 255:
            raise MdnsError("name too long")
        labels.append(data[offset : offset + length].decode("latin-1"))
        offset += length
    return ".".join(labels).lower(), (end if end >= 0 else offset)


def parse_message(data: bytes) -> DnsMessage:
    """Decode a DNS message (RFC 1035 §4.1); raises only MdnsError."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MdnsError("not bytes")
    data = bytes(data)
    if len(data) < _HEADER.size:
        raise MdnsError("short DNS header")
    qid, flags, qd, an, ns, ar = _HEADER.unpack_from(data)
    offset = _HEADER.size
    questions: list[tuple[str, int, int]] = []
    for _ in range(qd):
        name, offset = _read_name(data, offset)
        if offset + _QUESTION.size > len(data):
            raise MdnsError("truncated question")
        qtype, qclass = _QUESTION.unpack_from(data, offset)
        offset += _QUESTION.size
        questions.append((name, qtype, qclass))
    records: list[DnsRecord] = []
    for _ in range(an + ns + ar):
        name, offset = _read_name(data, offset)
        if offset + _RR.size > len(data):
            raise MdnsError("truncated record")
        rtype, rclass, ttl, rdlen = _RR.unpack_from(data, offset)
        offset += _RR.size
        if offset + rdlen > len(data):
            raise MdnsError("truncated rdata")
        rdata = data[offset : offset + rdlen]
        offset += rdlen
        address: str | None = None
        cls = rclass & 0x7FFF  # RFC 6762 §10.2: the top bit is cache-flush
        if cls == CLASS_IN and rtype == TYPE_A:
            if rdlen != 4:
                raise MdnsError("bad A record length")
            address = str(ipaddress.IPv4Address(rdata))
        elif cls == CLASS_IN and rtype == TYPE_AAAA:
            if rdlen != 16:
                raise MdnsError("bad AAAA record length")
            address = str(ipaddress.IPv6Address(rdata))
        records.append(DnsRecord(name, rtype, rclass, ttl, rdata, address))
    return DnsMessage(qid, flags, tuple(questions), tuple(records))


@dataclass(slots=True)
class _Pending:
    queries: tuple[bytes, bytes]
    sent: int
    next_at: float


class MdnsResolver:
    """Outstanding one-shot resolutions of `.local` names (names are compared lower-case)."""

    def __init__(
        self,
        rng: random.Random | None = None,
        *,
        tries: int = QUERY_TRIES,
        interval: float = QUERY_INTERVAL,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._rng = rng if rng is not None else random.Random()
        self.tries = tries
        self.interval = interval
        self.max_pending = max_pending
        self._pending: dict[str, _Pending] = {}
        self._out: list[bytes] = []

    def __bool__(self) -> bool:
        return bool(self._pending)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _key(name) in self._pending

    def resolve(self, name: str, now: float) -> bool:
        """Start resolving `name` (queues a query); False if the name is unusable or the table is
        full. A name already outstanding is not queried again (True)."""
        key = _key(name)
        if key in self._pending:
            return True
        if len(self._pending) >= self.max_pending:
            return False
        try:
            # RFC 6762 §6.7: a legacy responder echoes the ID; random so stale answers differ.
            queries = (
                build_query(key, TYPE_A, self._rng.getrandbits(16)),
                build_query(key, TYPE_AAAA, self._rng.getrandbits(16)),
            )
        except MdnsError:
            return False
        self._pending[key] = _Pending(queries, 1, now + self.interval)
        self._out.extend(queries)
        return True

    def cancel_all(self) -> None:
        """Forget every outstanding name and unsent query."""
        self._pending.clear()
        self._out.clear()

    def queries_to_send(self) -> list[bytes]:
        """Drain queries to send to 224.0.0.251:5353 (from every IPv4 socket)."""
        out, self._out = self._out, []
        return out

    def next_timeout(self) -> float | None:
        """Absolute time of the next retransmission or give-up, or None."""
        if not self._pending:
            return None
        return min(p.next_at for p in self._pending.values())

    def handle_timeout(self, now: float) -> list[str]:
        """Retransmit due queries; returns the names given up (no answer after all tries)."""
        expired: list[str] = []
        for name, p in list(self._pending.items()):
            if p.next_at > now:
                continue
            if p.sent >= self.tries:
                del self._pending[name]
                expired.append(name)
                continue
            p.sent += 1
            p.next_at = now + self.interval
            self._out.extend(p.queries)
        return expired

    def receive(self, data: bytes) -> list[Resolved]:
        """Match a DNS response's A/AAAA records to outstanding names; the answered names stop
        being outstanding. Raises MdnsError for a malformed message."""
        msg = parse_message(data)
        if not msg.is_response or msg.flags & 0x780F:  # RFC 6762 §18.3/§18.11: opcode, rcode 0
            return []
        found: list[Resolved] = []
        for rec in msg.records:
            if rec.address is not None and rec.name in self._pending and _usable(rec.address):
                found.append(Resolved(rec.name, rec.address))
        for r in found:
            self._pending.pop(r.name, None)
        return found


def _key(name: str) -> str:
    return name.rstrip(".").lower()


def _usable(address: str) -> bool:
    # Chromium also announces names for 0.0.0.0 and ::; neither they nor multicast are peers.
    ip = ipaddress.ip_address(address)
    return not (ip.is_unspecified or ip.is_multicast)
