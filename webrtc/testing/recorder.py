"""Recorder: every datagram of a simulated `Network`, with virtual times and decoded layers.

Attach with `Recorder(network)` (or `Simulation.record()`). Each sent datagram becomes a
`Datagram` (number, send time, source, destination, bytes, arrival times or the reason it was
dropped). Saved as:

* JSON lines (`save_json`): the records `python -m webrtc demo --trace-json` writes (one
  `webrtc.trace.TraceEvent.to_json` object per decoded message), extended with
  `"datagram"` (its number), `"src"`/`"dst"` (`host:port`), `"sent"` (virtual send time),
  `"lost"` (true when no copy arrived) and `"drop"` (the reason, or null). A datagram gives one
  `"direction": "out"` record per message at its send time (`"peer"` = the sender) and, per
  copy that arrives, one `"direction": "in"` record at its arrival time (`"peer"` = receiver).
  The SCTP chunks (and DCEP messages) inside encrypted DTLS records are visible only to the
  peers: a peer created with `trace=recorder.hook(name)` (`Simulation.peer` does it for peers
  created after `Simulation.record()`) adds them as records with `"datagram": null`.
* classic pcap (`save_pcap`): LINKTYPE_ETHERNET frames with synthesized IPv4 or IPv6 and UDP
  headers (correct lengths and checksums), captured at the sender (every datagram sent, lost or
  not) or, with `point="receiver"`, at the receiver (every copy that arrived). Hosts that are
  not IP addresses get stable addresses in 198.18.0.0/15 (RFC 2544 benchmarking range).
"""

from __future__ import annotations

import ipaddress
import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from ..trace import TraceEvent, decode_datagram
from .network import Address, Drop, Network

__all__ = ["Datagram", "Recorder", "pcap_bytes"]

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
SNAPLEN = 262144
_ETH_V4 = 0x0800
_ETH_V6 = 0x86DD
_UDP = 17


@dataclass
class Datagram:
    """One datagram sent on the network and what became of it."""

    number: int
    time: float
    src: Address
    dst: Address
    data: bytes
    arrivals: list[float] = field(default_factory=list)  # times at which copies were delivered
    drop: Drop | None = None  # why it was dropped (None: on its way, or delivered)

    _scheduled: int = field(default=0, repr=False)  # copies still in flight

    @property
    def lost(self) -> bool:
        """No copy arrived (dropped on the way, or nobody was bound at the destination)."""
        return not self.arrivals and self._scheduled == 0


class Recorder:
    """Records every datagram `network` carries from now on (see the module docstring).

    `names` maps a host to a peer name used in JSON's `"peer"` (default `host:port`).
    `limit` bounds the number of datagrams kept (older ones are not dropped: recording stops
    and `truncated` becomes True).
    """

    def __init__(
        self,
        network: Network,
        *,
        names: Mapping[str, str] | None = None,
        limit: int = 1_000_000,
    ) -> None:
        self.network = network
        self.names = dict(names or {})
        self.limit = limit
        self.truncated = False
        self.datagrams: list[Datagram] = []
        self.inner: list[tuple[TraceEvent, str]] = []  # (SCTP-layer event, peer name)
        self._by_number: dict[int, Datagram] = {}
        network.observers.append(self)

    def hook(self, peer: str) -> Callable[[TraceEvent], None]:
        """A `WebRTCPeerConnection(trace=...)` callback keeping the peer's SCTP-layer events
        (wire events are recorded from the network already)."""

        def on_event(ev: TraceEvent) -> None:
            if ev.local is None and ev.remote is None and len(self.inner) < self.limit:
                self.inner.append((ev, peer))

        return on_event

    def close(self) -> None:
        """Stop recording (what was recorded stays)."""
        if self in self.network.observers:
            self.network.observers.remove(self)

    # -- NetworkObserver --------------------------------------------------------------------------

    def on_send(
        self,
        number: int,
        now: float,
        src: Address,
        dst: Address,
        data: bytes,
        fate: list[float] | Drop,
    ) -> None:
        if len(self.datagrams) >= self.limit:
            self.truncated = True
            return
        d = Datagram(number, now, src, dst, bytes(data))
        if isinstance(fate, Drop):
            d.drop = fate
        else:
            d._scheduled = len(fate)
            self._by_number[number] = d
        self.datagrams.append(d)

    def on_arrive(
        self, number: int, now: float, src: Address, dst: Address, data: bytes, delivered: bool
    ) -> None:
        d = self._by_number.get(number)
        if d is None:
            return
        d._scheduled -= 1
        if delivered:
            d.arrivals.append(now)
        elif not d.arrivals:
            d.drop = Drop.UNBOUND
        if d._scheduled <= 0:
            del self._by_number[number]

    # -- output ---------------------------------------------------------------------------------

    def _name(self, addr: Address) -> str:
        return self.names.get(addr[0], f"{addr[0]}:{addr[1]}")

    def events(self, d: Datagram) -> list[tuple[TraceEvent, str, bool]]:
        """The decoded messages of `d`: `(event, peer name, is arrival)` in time order."""
        out = []
        for ev in decode_datagram(d.data, time=d.time, direction="out", local=d.src, remote=d.dst):
            out.append((ev, self._name(d.src), False))
        for at in d.arrivals:
            for ev in decode_datagram(d.data, time=at, direction="in", local=d.dst, remote=d.src):
                out.append((ev, self._name(d.dst), True))
        return out

    def json_records(self) -> list[dict[str, Any]]:
        """Every record `save_json` writes, sorted by time (then datagram number)."""
        records: list[tuple[float, int, int, dict[str, Any]]] = []
        for d in self.datagrams:
            extra = {
                "datagram": d.number,
                "src": f"{d.src[0]}:{d.src[1]}",
                "dst": f"{d.dst[0]}:{d.dst[1]}",
                "sent": round(d.time, 6),
                "lost": d.lost,
                "drop": None if d.drop is None else d.drop.value,
            }
            for i, (ev, peer, _arrival) in enumerate(self.events(d)):
                obj = json.loads(ev.to_json(peer))
                obj.update(extra)
                records.append((ev.time, d.number, i, obj))
        for i, (ev, peer) in enumerate(self.inner):
            obj = json.loads(ev.to_json(peer))
            obj.update(datagram=None, src=None, dst=None, sent=None, lost=False, drop=None)
            records.append((ev.time, 0, i, obj))
        records.sort(key=lambda r: (r[0], r[1], r[2]))
        return [r[3] for r in records]

    def save_json(self, file: str | IO[str]) -> int:
        """Write JSON lines (see the module docstring); returns the number of records."""
        records = self.json_records()
        text = "".join(json.dumps(r, default=str) + "\n" for r in records)
        if isinstance(file, str):
            with open(file, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            file.write(text)
        return len(records)

    def pcap(self, point: Literal["sender", "receiver"] = "sender") -> bytes:
        """The capture as classic pcap bytes."""
        frames: list[tuple[float, int, Address, Address, bytes]] = []
        for d in self.datagrams:
            if point == "sender":
                frames.append((d.time, d.number, d.src, d.dst, d.data))
            else:
                frames.extend((at, d.number, d.src, d.dst, d.data) for at in d.arrivals)
        frames.sort(key=lambda f: (f[0], f[1]))
        return pcap_bytes([(t, s, dst, data) for t, _, s, dst, data in frames])

    def save_pcap(self, path: str, point: Literal["sender", "receiver"] = "sender") -> int:
        """Write the pcap file; returns the number of frames."""
        data = self.pcap(point)
        with open(path, "wb") as f:
            f.write(data)
        return sum(1 if point == "sender" else len(d.arrivals) for d in self.datagrams)


# -- pcap ------------------------------------------------------------------------------------------


class _Addresses:
    """IP addresses for hosts; names that are not IP addresses get 198.18.x.y in order."""

    def __init__(self) -> None:
        self._made: dict[str, ipaddress.IPv4Address | ipaddress.IPv6Address] = {}

    def ip(self, host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        got = self._made.get(host)
        if got is None:
            try:
                got = ipaddress.ip_address(host.split("%", 1)[0])
            except ValueError:
                got = ipaddress.IPv4Address(0xC6120000 + 1 + len(self._made))
            self._made[host] = got
        return got


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(
    src: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int],
    dst: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int],
    payload: bytes,
    ident: int,
) -> bytes:
    sip, sport = src
    dip, dport = dst
    if sip.version != dip.version:  # a v4/v6 mix cannot be one packet: map v4 into v6
        if sip.version == 4:
            sip = ipaddress.IPv6Address(f"::ffff:{sip}")
        else:
            dip = ipaddress.IPv6Address(f"::ffff:{dip}")
    udp_len = 8 + len(payload)
    if sip.version == 4:
        pseudo = sip.packed + dip.packed + struct.pack("!BBH", 0, _UDP, udp_len)
    else:
        pseudo = sip.packed + dip.packed + struct.pack("!IxxxB", udp_len, _UDP)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    csum = _checksum(pseudo + udp) or 0xFFFF  # RFC 768: a computed 0 is sent as all ones
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    if sip.version == 4:
        header = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, ident & 0xFFFF, 0x4000, 64, _UDP, 0,
            sip.packed, dip.packed,
        )  # fmt: skip
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        ethertype = _ETH_V4
    else:
        header = struct.pack("!IHBB16s16s", 6 << 28, udp_len, _UDP, 64, sip.packed, dip.packed)
        ethertype = _ETH_V6
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!H", ethertype)
    return eth + header + udp


def pcap_bytes(packets: list[tuple[float, Address, Address, bytes]]) -> bytes:
    """Classic pcap (LINKTYPE_ETHERNET) of UDP datagrams `(time, src, dst, payload)`.

    Payloads too big for one UDP datagram (over 65507 bytes) are cut, with the captured length
    saying so.
    """
    addrs = _Addresses()
    out = [struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET)]
    for i, (t, src, dst, payload) in enumerate(packets):
        payload = payload[:65507]
        frame = _frame((addrs.ip(src[0]), src[1]), (addrs.ip(dst[0]), dst[1]), payload, i)
        sec = int(t)
        usec = min(round((t - sec) * 1e6), 999_999)
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)
