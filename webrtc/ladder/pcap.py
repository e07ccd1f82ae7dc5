"""A small pcap / pcapng reader and writer for UDP datagrams (no dependency).

Reading: classic pcap (microsecond and nanosecond magic, either byte order) and pcapng (Section
Header, Interface Description with `if_tsresol`, Enhanced, Simple and obsolete Packet blocks),
link types Ethernet (with 802.1Q tags), raw IP, Linux cooked v1/v2 and BSD loopback; IPv4 and IPv6
(skipping the usual extension headers) carrying UDP. Fragments and non-UDP packets are counted and
skipped. Total: a file that is not a capture raises `CaptureError`; a malformed packet, or a
last record cut short, is counted in `Stats.malformed`; packets read are bounded (`MAX_PACKETS`).

Writing: `PcapWriter` / `PcapngWriter` put each datagram in a raw-IP frame (LINKTYPE_RAW) with a
valid IPv4/IPv6 and UDP header, e.g. from `CapturingTransport`, a transport wrapper that logs
every datagram a peer connection sends.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO

from ..net import Address, DatagramTransport

__all__ = [
    "MAX_PACKETS",
    "CaptureError",
    "CapturingTransport",
    "Datagram",
    "PcapWriter",
    "PcapngWriter",
    "Stats",
    "read_datagrams",
]

MAX_PACKETS = 5_000_000
MAX_BLOCK = 1 << 24  # a pcapng block or pcap record larger than this is malformed

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
_RAW_ALIASES = (12, 14)  # DLT_RAW on some BSDs


class CaptureError(ValueError):
    """The file is not a pcap/pcapng capture this reader understands."""


@dataclass(frozen=True, slots=True)
class Datagram:
    """One UDP datagram: capture time (s), source, destination, payload."""

    time: float
    src: Address
    dst: Address
    payload: bytes


@dataclass(slots=True)
class Stats:
    packets: int = 0
    udp: int = 0
    skipped: int = 0  # not UDP over IP, or IP fragments
    malformed: int = 0


# -- reading --------------------------------------------------------------------------------


def read_datagrams(fh: BinaryIO, stats: Stats | None = None) -> Iterator[Datagram]:
    """UDP datagrams of a pcap or pcapng stream, in file order."""
    stats = stats if stats is not None else Stats()
    magic = fh.read(4)
    if len(magic) < 4:
        raise CaptureError("file too short for a capture header")
    if magic == b"\x0a\x0d\x0d\x0a":
        frames = _pcapng(fh, stats)
    elif magic in (
        b"\xd4\xc3\xb2\xa1",
        b"\xa1\xb2\xc3\xd4",
        b"\x4d\x3c\xb2\xa1",
        b"\xa1\xb2\x3c\x4d",
    ):
        frames = _pcap(fh, magic, stats)
    else:
        raise CaptureError(f"not a pcap or pcapng file (magic {magic.hex()})")
    for time, linktype, frame in frames:
        stats.packets += 1
        if stats.packets > MAX_PACKETS:
            raise CaptureError(f"more than {MAX_PACKETS} packets")
        try:
            got = _udp(linktype, frame)
        except (IndexError, struct.error, ValueError):
            stats.malformed += 1
            continue
        if got is None:
            stats.skipped += 1
            continue
        stats.udp += 1
        src, dst, payload = got
        yield Datagram(time, src, dst, payload)


def _read(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise CaptureError("truncated capture")
    return data


def _pcap(fh: BinaryIO, magic: bytes, stats: Stats) -> Iterator[tuple[float, int, bytes]]:
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    scale = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    header = _read(fh, 20)
    linktype = struct.unpack(order + "HHiIII", header)[5] & 0x0FFFFFFF
    record = struct.Struct(order + "IIII")
    while True:
        head = fh.read(16)
        if not head:
            return
        if len(head) < 16:
            raise CaptureError("truncated record header")
        sec, frac, incl, _orig = record.unpack(head)
        if incl > MAX_BLOCK:
            raise CaptureError(f"record of {incl} bytes")
        frame = fh.read(incl)
        if len(frame) < incl:  # a capture cut short (the capturing process was killed)
            stats.malformed += 1
            return
        yield sec + frac * scale, linktype, frame


def _pcapng(fh: BinaryIO, stats: Stats) -> Iterator[tuple[float, int, bytes]]:
    order = "<"
    interfaces: list[tuple[int, float]] = []  # linktype, seconds per timestamp unit
    first = True
    while True:
        if first:
            btype_raw = b"\x0a\x0d\x0d\x0a"
            first = False
        else:
            btype_raw = fh.read(4)
            if not btype_raw:
                return
            if len(btype_raw) < 4:
                raise CaptureError("truncated block header")
        length_raw = _read(fh, 4)
        if btype_raw == b"\x0a\x0d\x0d\x0a":  # RFC-draft pcapng §4.1: SHB sets the byte order
            bom = _read(fh, 4)
            if bom == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                raise CaptureError("bad pcapng byte-order magic")
            length = struct.unpack(order + "I", length_raw)[0]
            if length < 28 or length % 4 or length > MAX_BLOCK:
                raise CaptureError(f"bad section header length {length}")
            _read(fh, length - 12)
            interfaces = []
            continue
        btype = struct.unpack(order + "I", btype_raw)[0]
        length = struct.unpack(order + "I", length_raw)[0]
        if length < 12 or length % 4 or length > MAX_BLOCK:
            raise CaptureError(f"bad block length {length}")
        raw = fh.read(length - 8)
        if len(raw) < length - 8:  # cut short
            stats.malformed += 1
            return
        body = raw[:-4]
        if btype == 1:  # Interface Description Block
            if len(body) < 8:
                raise CaptureError("short interface description")
            linktype = struct.unpack_from(order + "H", body)[0]
            interfaces.append((linktype, _tsresol(body[8:], order)))
        elif btype in (6, 2):  # Enhanced Packet Block / obsolete Packet Block
            if len(body) < 20:
                stats.malformed += 1
                continue
            if btype == 6:
                iface, hi, lo, cap, _orig = struct.unpack_from(order + "IIIII", body)
            else:
                iface, _drops, hi, lo, cap, _orig = struct.unpack_from(order + "HHIIII", body)
            if iface >= len(interfaces) or cap > len(body) - 20:
                stats.malformed += 1
                continue
            linktype, unit = interfaces[iface]
            yield ((hi << 32) | lo) * unit, linktype, body[20 : 20 + cap]
        elif btype == 3:  # Simple Packet Block: interface 0, no timestamp
            if not interfaces or len(body) < 4:
                stats.malformed += 1
                continue
            orig = struct.unpack_from(order + "I", body)[0]
            yield 0.0, interfaces[0][0], body[4 : 4 + min(orig, len(body) - 4)]


def _tsresol(options: bytes, order: str) -> float:
    """Seconds per timestamp unit from an IDB's options (default microseconds)."""
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(order + "HH", options, pos)
        if code == 0:
            break
        if code == 9 and length >= 1 and pos + 5 <= len(options):
            v = options[pos + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -(v & 0x7F)
        pos += 4 + length + (-length & 3)
    return 1e-6


def _udp(linktype: int, frame: bytes) -> tuple[Address, Address, bytes] | None:
    """(src, dst, payload) of a UDP frame, None when it is something else."""
    if linktype == LINKTYPE_ETHERNET:
        ethertype, off = struct.unpack_from("!H", frame, 12)[0], 14
        while ethertype in (0x8100, 0x88A8):  # 802.1Q / 802.1ad tags
            ethertype, off = struct.unpack_from("!H", frame, off + 2)[0], off + 4
        return _ip(ethertype, frame[off:])
    if linktype in (LINKTYPE_RAW, *_RAW_ALIASES):
        version = frame[0] >> 4
        return _ip(0x0800 if version == 4 else 0x86DD if version == 6 else 0, frame)
    if linktype == LINKTYPE_IPV4:
        return _ip(0x0800, frame)
    if linktype == LINKTYPE_IPV6:
        return _ip(0x86DD, frame)
    if linktype == LINKTYPE_LINUX_SLL:
        return _ip(struct.unpack_from("!H", frame, 14)[0], frame[16:])
    if linktype == LINKTYPE_LINUX_SLL2:
        return _ip(struct.unpack_from("!H", frame, 0)[0], frame[20:])
    if linktype == LINKTYPE_NULL:
        family = struct.unpack_from("<I", frame)[0]
        if family > 0xFFFF:  # written in the other byte order
            family = struct.unpack_from(">I", frame)[0]
        return _ip(
            0x0800 if family == 2 else 0x86DD if family in (10, 24, 28, 30) else 0, frame[4:]
        )
    return None


def _ip(ethertype: int, pkt: bytes) -> tuple[Address, Address, bytes] | None:
    if ethertype == 0x0800:
        if len(pkt) < 20 or pkt[0] >> 4 != 4:
            raise ValueError("bad IPv4 header")
        ihl = (pkt[0] & 0x0F) * 4
        total = struct.unpack_from("!H", pkt, 2)[0]
        frag = struct.unpack_from("!H", pkt, 6)[0]
        if ihl < 20 or total < ihl or total > len(pkt):
            raise ValueError("bad IPv4 lengths")
        if pkt[9] != 17 or frag & 0x3FFF:  # not UDP, or a fragment (MF or an offset)
            return None
        src, dst = str(ipaddress.IPv4Address(pkt[12:16])), str(ipaddress.IPv4Address(pkt[16:20]))
        return _udp_body(src, dst, pkt[ihl:total])
    if ethertype == 0x86DD:
        if len(pkt) < 40 or pkt[0] >> 4 != 6:
            raise ValueError("bad IPv6 header")
        plen = struct.unpack_from("!H", pkt, 4)[0]
        nxt, off = pkt[6], 40
        end = min(40 + plen, len(pkt))
        while nxt in (0, 43, 60):  # RFC 8200 §4: hop-by-hop, routing, destination options
            if off + 2 > end:
                raise ValueError("truncated IPv6 extension header")
            nxt, off = pkt[off], off + 8 + pkt[off + 1] * 8
        if nxt != 17:  # UDP only (a fragment header, 44, is skipped as a fragment)
            return None
        src, dst = str(ipaddress.IPv6Address(pkt[8:24])), str(ipaddress.IPv6Address(pkt[24:40]))
        return _udp_body(src, dst, pkt[off:end])
    return None


def _udp_body(src: str, dst: str, seg: bytes) -> tuple[Address, Address, bytes]:
    if len(seg) < 8:
        raise ValueError("truncated UDP header")
    sport, dport, length = struct.unpack_from("!HHH", seg)
    if length < 8 or length > len(seg):
        raise ValueError("bad UDP length")
    return (src, sport), (dst, dport), seg[8:length]


# -- writing --------------------------------------------------------------------------------


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_udp_frame(src: Address, dst: Address, payload: bytes) -> bytes:
    """A raw IPv4 or IPv6 packet carrying `payload` in UDP (RFC 768 / RFC 8200 §8.1)."""
    s, d = ipaddress.ip_address(src[0]), ipaddress.ip_address(dst[0])
    length = 8 + len(payload)
    if s.version == 4 and d.version == 4:
        udp = struct.pack("!HHHH", src[1], dst[1], length, 0) + payload  # checksum 0: none
        head = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + length, 0, 0x4000, 64, 17, 0, s.packed, d.packed
        )
        head = head[:10] + struct.pack("!H", _checksum(head)) + head[12:]
        return head + udp
    if s.version != d.version:
        raise ValueError("source and destination families differ")
    pseudo = s.packed + d.packed + struct.pack("!IxxxB", length, 17)
    udp = struct.pack("!HHHH", src[1], dst[1], length, 0) + payload
    csum = _checksum(pseudo + udp) or 0xFFFF  # RFC 8200 §8.1: zero is sent as all ones
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    return struct.pack("!IHBB16s16s", 6 << 28, length, 17, 64, s.packed, d.packed) + udp


class PcapWriter:
    """Classic pcap, microsecond timestamps, LINKTYPE_RAW."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_RAW))

    def write(self, time: float, src: Address, dst: Address, payload: bytes) -> None:
        frame = ip_udp_frame(src, dst, payload)
        usec = round(time * 1e6)
        sec, frac = divmod(max(usec, 0), 1_000_000)
        self._fh.write(struct.pack("<IIII", sec, frac, len(frame), len(frame)) + frame)


class PcapngWriter:
    """pcapng: one section, one raw-IP interface with nanosecond timestamps."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        fh.write(struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28))
        opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)  # if_tsresol = 10^-9
        body = struct.pack("<HHI", LINKTYPE_RAW, 0, 262144) + opts
        fh.write(struct.pack("<II", 1, 12 + len(body)) + body + struct.pack("<I", 12 + len(body)))

    def write(self, time: float, src: Address, dst: Address, payload: bytes) -> None:
        frame = ip_udp_frame(src, dst, payload)
        ts = max(round(time * 1e9), 0)
        pad = b"\0" * (-len(frame) & 3)
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame))
        body += frame + pad
        total = 12 + len(body)
        self._fh.write(struct.pack("<II", 6, total) + body + struct.pack("<I", total))


class CapturingTransport:
    """A `DatagramTransport` that hands every datagram it sends to `log(time, src, dst, data)`.

    One capture point per sender, so a pair of them over loopback logs each datagram once, as a
    capture on the loopback interface would.
    """

    def __init__(
        self,
        inner: DatagramTransport,
        log: Callable[[float, Address, Address, bytes], None],
        clock: Callable[[], float],
    ) -> None:
        self.inner = inner
        self._log = log
        self._clock = clock

    def local_hosts(self) -> list[str]:
        return self.inner.local_hosts()

    def bind(self, host: str) -> Address:
        return self.inner.bind(host)

    def send(self, data: bytes, local: Address, remote: Address) -> None:
        self._log(self._clock(), local, remote, bytes(data))
        self.inner.send(data, local, remote)

    def receive(self) -> list[tuple[bytes, Address, Address]]:
        return self.inner.receive()

    def close(self) -> None:
        self.inner.close()

    def prevent_fragmentation(self) -> None:
        prevent = getattr(self.inner, "prevent_fragmentation", None)
        if prevent is not None:
            prevent()
