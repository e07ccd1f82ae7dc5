"""What a ladder diagram shows, as typed values, and how trace records become one.

Input: `Observation`s (a peer's `TraceEvent`, or a datagram seen once by a capture) and
`StateChange`s. `build_ladder` turns them into lifelines (one per traced peer, plus one per
other address: a STUN or TURN server; a TURN server's relayed address shares its server's
lifeline) and items in time order: an `Arrow` per message, a `Note` per state change and a
`Band` per folded run of bulk DATA/SACK chunks.

An arrow sent by one traced peer to another is matched with the other's "in" event of the same
message (same layer, kind and summary on the same path); one with no match is LOST. When several
identical copies are candidates (a STUN retransmission has the same bytes), the match is the one
whose delay is closest to the median delay of the unambiguous matches on that path. A message is
a retransmission when its sender sent the same message before: same STUN transaction and class,
same DTLS handshake fragment (or ChangeCipherSpec/Finished) in the same epoch, same SCTP TSN, or
another INIT / COOKIE ECHO / SHUTDOWN / RE-CONFIG request with the same summary.
"""

from __future__ import annotations

import bisect
import ipaddress
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..trace import TraceEvent

__all__ = [
    "Arrow",
    "Band",
    "Ladder",
    "Layer",
    "Note",
    "Observation",
    "StateChange",
    "Status",
    "build_ladder",
    "layer_of",
]

Address = tuple[str, int]

MAX_ARROWS = 1500  # arrows drawn at most; the rest fold into one final band
FOLD_AFTER = 8  # bulk arrows drawn at the start of a long run before folding
FOLD_MIN = 24  # a run of bulk arrows folds only when longer than this
MAX_ADDRESSES = 10_000  # remote addresses whose layers name their lifeline
MATCH_WINDOW = 256  # identical sends before an arrival considered as its origin
LABEL_MAX = 96  # characters of a label (wire text is hostile: bounded)
DETAIL_MAX = 1500  # characters of a hover detail


class Layer(Enum):
    """Colour classes of arrows."""

    STUN = "stun"
    TURN = "turn"
    DTLS = "dtls"
    SCTP = "sctp"
    DCEP = "dcep"
    APP = "app"  # DATA chunks carrying application messages (PPID 51..57)
    OTHER = "other"


class Status(Enum):
    """What became of a message."""

    DELIVERED = "delivered"  # sent by one traced peer, received by the other
    LOST = "lost"  # sent, never reported received by the (traced) destination
    SEEN = "seen"  # one observation only: a capture, or an untraced end (a server)
    IN_FLIGHT = "in flight"  # not received yet when the recording ended


@dataclass(frozen=True, slots=True)
class Observation:
    """One trace event of `peer`; `captured`: seen once on the wire (pcap), not by a peer."""

    peer: str
    event: TraceEvent
    captured: bool = False


@dataclass(frozen=True, slots=True)
class StateChange:
    """`machine` ("connection", "gathering", "signaling", "channel LABEL") of `peer` became
    `value` at `time`."""

    peer: str
    time: float
    machine: str
    value: str


@dataclass(frozen=True, slots=True)
class Arrow:
    """One message from lifeline `src` to `dst`; `sent`/`received` None when not observed."""

    src: str
    dst: str
    sent: float | None
    received: float | None
    layer: Layer
    kind: str
    label: str
    detail: str
    size: int
    status: Status
    retransmission: bool = False
    via: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)  # the event's decoded fields

    @property
    def time(self) -> float:
        """When it first appears (send, else receive)."""
        if self.sent is not None:
            return self.sent
        return self.received if self.received is not None else 0.0


@dataclass(frozen=True, slots=True)
class Note:
    """A state change written on a lifeline."""

    lifeline: str
    time: float
    machine: str
    value: str


@dataclass(frozen=True, slots=True)
class Band:
    """Bulk messages folded into one summary: counts per direction `(src, dst)`."""

    start: float
    end: float
    lifelines: tuple[str, ...]
    lines: tuple[str, ...]  # one summary line per direction
    messages: int


Item = Arrow | Note | Band


@dataclass(frozen=True, slots=True)
class Ladder:
    """Lifelines left to right and items top to bottom."""

    lifelines: tuple[str, ...]
    items: tuple[Item, ...]
    t0: float = 0.0
    title: str = "WebRTC connection"
    skipped: int = 0  # input records that could not be used (malformed JSON lines...)
    descriptions: Mapping[str, str] = field(default_factory=dict)  # lifeline -> addresses

    @property
    def arrows(self) -> list[Arrow]:
        return [i for i in self.items if isinstance(i, Arrow)]

    @property
    def notes(self) -> list[Note]:
        return [i for i in self.items if isinstance(i, Note)]

    @property
    def bands(self) -> list[Band]:
        return [i for i in self.items if isinstance(i, Band)]


# -- classification -------------------------------------------------------------------------


_WRAPPERS = ("ChannelData", "Send indication", "Data indication")


def layer_of(ev: TraceEvent) -> Layer:
    """The colour class of an event."""
    if ev.layer == "SCTP":
        if "dcep" in ev.fields:
            return Layer.DCEP
        if ev.kind == "DATA":
            return Layer.APP
        return Layer.SCTP
    try:
        return Layer(ev.layer.lower())
    except ValueError:
        return Layer.OTHER


def clip_text(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(ev: TraceEvent) -> str:
    """The key fields of a message, short (its summary when the fields are not as expected:
    records read from a file may hold anything)."""
    try:
        return _key_fields(ev)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return ev.summary


def _key_fields(ev: TraceEvent) -> str:
    f = ev.fields
    if ev.layer in ("STUN", "TURN") and "tid" in f:
        text = f"{ev.kind} tid={str(f['tid'])[:8]}"
        if f.get("use_candidate"):
            text += " USE-CANDIDATE"
        if "error" in f and isinstance(f["error"], list) and f["error"]:
            text += f" {f['error'][0]}"
        return text
    if ev.layer == "DTLS":
        if ev.kind == "undecodable":
            return f"DTLS undecodable ({ev.size} B)"
        text = f"{ev.kind} e{f.get('epoch', '?')} seq={f.get('seq', '?')}"
        flen, total = f.get("fragment_length"), f.get("length")
        if isinstance(flen, int) and isinstance(total, int) and flen != total:
            off = f.get("fragment_offset", 0)
            text += f" frag {off}+{flen}/{total}"
        if ev.kind == "Alert" and "level" in f:  # (an encrypted alert shows no fields)
            text += f" {f['level']} {f.get('description', '')}"
        return text
    if ev.layer == "SCTP":
        dcep = f.get("dcep")
        if dcep == "OPEN":
            return f'DCEP OPEN "{f.get("label", "")}" sid={f.get("sid")} tsn={f.get("tsn")}'
        if dcep is not None:
            return f"DCEP {dcep} sid={f.get('sid')} tsn={f.get('tsn')}"
        if ev.kind == "DATA":
            return f"DATA tsn={f.get('tsn')} sid={f.get('sid')} {f.get('length')} B"
        if ev.kind == "SACK":
            text = f"SACK cum={f.get('cum_tsn')}"
            gaps = f.get("gaps")
            if gaps:
                text += f" gaps={len(gaps)}"
            return text
        if ev.kind == "UNKNOWN" and f.get("type") == 132:  # RFC 4820 PAD (PLPMTUD probe)
            return f"PAD {ev.size} B"
        if ev.kind in ("INIT", "INIT ACK"):
            return f"{ev.kind} tsn={f.get('initial_tsn')}"
        if ev.kind == "FORWARD TSN":
            return f"FORWARD TSN cum={f.get('new_cum_tsn')}"
        if ev.kind == "RE-CONFIG":
            return "RE-CONFIG " + " ".join(str(p) for p in f.get("params", []))
        return ev.summary.removeprefix("SCTP ")
    return ev.summary


def _detail(ev: TraceEvent, peer: str) -> str:
    where = ""
    if ev.local is not None and ev.remote is not None:
        a, b = f"{ev.local[0]}:{ev.local[1]}", f"{ev.remote[0]}:{ev.remote[1]}"
        where = f" {a} -> {b}" if ev.direction == "out" else f" {b} -> {a}"
    fields = " ".join(f"{k}={v}" for k, v in ev.fields.items())
    return f"{ev.summary}\n{ev.size} B, t={ev.time:.6f} (seen by {peer}{where})\n{fields}"


def _retransmit_key(ev: TraceEvent) -> tuple[str, ...] | None:
    key = _same_message(ev)
    return None if key is None else tuple(str(x) for x in key)  # hashable whatever the input


def _same_message(ev: TraceEvent) -> tuple[Any, ...] | None:
    f = ev.fields
    if ev.layer in ("STUN", "TURN") and "tid" in f:
        return (ev.layer, f["tid"], f.get("class"))
    if ev.layer == "DTLS" and ev.kind not in ("ApplicationData", "Alert", "undecodable"):
        return (
            "DTLS",
            ev.kind,
            f.get("epoch"),
            f.get("message_seq"),
            f.get("fragment_offset"),
            f.get("fragment_length"),
        )
    if ev.layer == "SCTP":
        if ev.kind == "DATA" and "tsn" in f:
            return ("SCTP", "DATA", f["tsn"])
        if ev.kind in ("INIT", "COOKIE ECHO", "SHUTDOWN", "SHUTDOWN ACK", "RE-CONFIG"):
            return ("SCTP", ev.kind, ev.summary)
    return None


def _multicast(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr.rpartition(":")[0].strip("[]")).is_multicast
    except ValueError:
        return False


def _addr(a: Address | None) -> str:
    return "" if a is None else f"{a[0]}:{a[1]}"


# -- building -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Msg:
    """A message as one peer saw it, before matching."""

    order: int  # position in the input
    peer: str
    ev: TraceEvent
    src: str
    dst: str
    captured: bool
    via: str
    key: tuple[str, str, str, str, str] = ("", "", "", "", "")


class _Lifelines:
    """Names lifelines: traced peers by name, captured sources by their given name, other
    addresses by role ("TURN 10.0.0.9:3478"); a relayed address joins its TURN server."""

    def __init__(self, observations: list[Observation], peers: list[str]) -> None:
        self.order: list[str] = list(dict.fromkeys(peers))
        self.by_addr: dict[str, str] = {}
        self.addrs: dict[str, list[str]] = defaultdict(list)
        self.traced: set[str] = set(self.order)
        alias: dict[str, str] = {}  # relayed address -> its server's address
        self.layers: dict[str, set[str]] = defaultdict(set)  # remote address -> layers seen
        for ob in observations:  # RFC 8656 §7.3: the relayed address is the server's
            ev = ob.event
            decoded = ev.kind != "undecodable"
            if decoded and ev.remote is not None and len(self.layers) < MAX_ADDRESSES:
                self.layers[_addr(ev.remote)].add(ev.layer)
            relayed = ev.fields.get("relayed")
            if ev.kind == "Allocate success response" and isinstance(relayed, str):
                server = _addr(ev.local if ob.captured else ev.remote)
                if server:
                    alias.setdefault(relayed, server)
        for ob in observations:
            if not ob.captured:
                self._add(ob.peer)
                self.traced.add(ob.peer)
                if ob.event.local is not None:
                    self._bind(_addr(ob.event.local), ob.peer)
            elif ob.event.local is not None and _addr(ob.event.local) not in alias:
                self._bind(_addr(ob.event.local), ob.peer)
                self._add(ob.peer)
        for relayed, server in alias.items():
            self._bind(relayed, self.name(server, "TURN"))

    def _add(self, name: str) -> None:
        if name not in self.order:
            self.order.append(name)

    def _bind(self, addr: str, name: str) -> None:
        if addr and addr not in self.by_addr:
            self.by_addr[addr] = name
            self.addrs[name].append(addr)

    def name(self, addr: str, layer: str) -> str:
        """The lifeline of an address, created on first sight and named by its role: "TURN"
        (a TURN message went there), "peer" (DTLS did), "STUN" (only STUN), else "host"."""
        found = self.by_addr.get(addr)
        if found is not None:
            return found
        layers = self.layers.get(addr, {layer})
        role = "host"
        if _multicast(addr):  # RFC 6762: mDNS queries; never a peer, whatever they decode as
            return self._new(addr, "mDNS" if addr.endswith(":5353") else "multicast")
        for candidate, names in (
            ("TURN", {"TURN"}),
            ("peer", {"DTLS", "SCTP"}),
            ("STUN", {"STUN"}),
        ):
            if layers & names:
                role = candidate
                break
        return self._new(addr, role)

    def _new(self, addr: str, role: str) -> str:
        name = f"{role} {addr}"
        self._bind(addr, name)
        self._add(name)
        return name


def _messages(observations: list[Observation], lines: _Lifelines) -> list[_Msg]:
    has_sctp = any(ob.event.layer == "SCTP" for ob in observations)
    out: list[_Msg] = []
    # (peer, direction) -> (src, dst, via) of the last ApplicationData record
    last_app: dict[tuple[str, str], tuple[str, str, str]] = {}
    for order, ob in enumerate(observations):
        ev = ob.event
        if ev.layer == "STATE":
            continue
        via = str(ev.fields.get("via", ""))
        if ev.local is not None and ev.remote is not None:
            here = lines.name(_addr(ev.local), ev.layer) if ob.captured else ob.peer
            there = lines.name(_addr(ev.remote), ev.layer)
            src, dst = (here, there) if ev.direction == "out" else (there, here)
        else:  # SCTP inside DTLS: the path of the record that carried it
            path = last_app.get((ob.peer, ev.direction))
            if path is None:
                others = [p for p in lines.traced if p != ob.peer]
                other = sorted(others)[0] if others else "peer"
                path = (ob.peer, other, "") if ev.direction == "out" else (other, ob.peer, "")
            src, dst, via = path
        last = out[-1] if out else None
        if via and ev.layer != "TURN" and last is not None and _wraps(last, ob.peer):
            out.pop()  # its TURN wrapper: one arrow for the datagram
        if ev.layer == "DTLS" and ev.kind == "ApplicationData":
            last_app[(ob.peer, ev.direction)] = (src, dst, via)
            # its SCTP chunks are drawn instead: a peer's trace reports them all; a capture
            # only those of the records it could decrypt
            if ev.fields.get("decrypted") is True if ob.captured else has_sctp:
                continue
        msg = _Msg(order, ob.peer, ev, src, dst, ob.captured, via)
        number = ev.fields.get("datagram")  # webrtc.testing's records number datagrams
        summary = ev.summary if number is None else f"{ev.summary}#{number}"
        msg.key = (src, dst, ev.layer, ev.kind, summary)
        out.append(msg)
    return out


def _wraps(m: _Msg, peer: str) -> bool:
    return m.peer == peer and m.ev.layer == "TURN" and m.ev.kind in _WRAPPERS


def _match(
    msgs: list[_Msg], traced: set[str]
) -> tuple[dict[int, _Msg | None], dict[tuple[str, str], float]]:
    """For each sent message (by order), the received copy, or None when lost; and the median
    delay of each path."""
    sends: dict[tuple[str, str, str, str, str], list[_Msg]] = defaultdict(list)
    recvs: list[_Msg] = []
    for m in msgs:
        if m.captured:
            continue
        if m.ev.direction == "out" and m.dst in traced and m.dst != m.peer:
            sends[m.key].append(m)
        elif m.ev.direction == "in" and m.src in traced and m.src != m.peer:
            recvs.append(m)
    result: dict[int, _Msg | None] = {m.order: None for group in sends.values() for m in group}
    taken: set[int] = set()
    delays: dict[tuple[str, str], list[float]] = defaultdict(list)
    ambiguous: list[_Msg] = []
    for r in recvs:  # pass 1: one candidate only
        group = sends.get(r.key, [])
        if len(group) == 1 and group[0].ev.time <= r.ev.time and group[0].order not in taken:
            taken.add(group[0].order)
            result[group[0].order] = r
            delays[(r.src, r.dst)].append(r.ev.time - group[0].ev.time)
        else:
            ambiguous.append(r)
    medians = {path: statistics.median(d) for path, d in delays.items()}
    unmatched: list[_Msg] = []
    times: dict[tuple[str, str, str, str, str], list[float]] = {}
    for key, group in sends.items():
        group.sort(key=lambda m: (m.ev.time, m.order))
        times[key] = [m.ev.time for m in group]
    for r in ambiguous:  # pass 2: the copy whose delay is closest to the path's median
        group = sends.get(r.key, [])
        hi = bisect.bisect_right(times.get(r.key, []), r.ev.time)
        cands: list[_Msg] = []
        for i in range(hi - 1, max(hi - MATCH_WINDOW, 0) - 1, -1):  # the latest sends only
            if group[i].order not in taken:
                cands.append(group[i])
        if not cands:
            unmatched.append(r)
            continue
        d = medians.get((r.src, r.dst))
        best = cands[-1] if d is None else min(cands, key=lambda s: abs(r.ev.time - s.ev.time - d))
        taken.add(best.order)
        result[best.order] = r
    for r in unmatched:
        result[-1 - r.order] = r  # negative keys: received with no send (duplicates)
    return result, medians


def build_ladder(
    observations: Iterable[Observation],
    states: Iterable[StateChange] = (),
    *,
    title: str = "WebRTC connection",
    max_arrows: int = MAX_ARROWS,
    fold_after: int = FOLD_AFTER,
    fold_min: int = FOLD_MIN,
    skipped: int = 0,
    peers: Iterable[str] = (),
) -> Ladder:
    """The ladder of these observations (in the order they were made) and state changes;
    `peers`: names of traced peers in lifeline order (else by first appearance)."""
    obs = list(observations)
    lines = _Lifelines(obs, list(peers))
    msgs = _messages(obs, lines)
    matches, delays = _match(msgs, lines.traced)
    end = max((ob.event.time for ob in obs), default=0.0)
    seen_before: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    placed: list[tuple[float, int, Item]] = []
    for m in msgs:
        ev = m.ev
        if m.captured or ev.direction == "out":
            rkey = _retransmit_key(ev)
            rexmit = False
            received: float | None
            if rkey is not None:
                bucket = seen_before[m.src]
                rexmit = rkey in bucket
                bucket.add(rkey)
            if m.captured:
                status, received = Status.SEEN, ev.time
            elif m.order in matches:
                got = matches[m.order]
                status = Status.LOST if got is None else Status.DELIVERED
                received = None if got is None else got.ev.time
                if got is None and ev.time + delays.get((m.src, m.dst), 0.0) >= end:
                    status = Status.IN_FLIGHT
            else:
                status, received = Status.SEEN, None
            arrow = _arrow(m, ev.time, received, status, rexmit)
            placed.append((ev.time, m.order, arrow))
        elif m.src not in lines.traced or m.src == m.peer:
            placed.append((ev.time, m.order, _arrow(m, None, ev.time, Status.SEEN, False)))
        elif -1 - m.order in matches:  # received with no send left to match: a duplicate
            dup = _arrow(m, None, ev.time, Status.SEEN, False, "copy: ")
            placed.append((ev.time, m.order, dup))
    base = len(obs)
    for i, sc in enumerate(states):
        if sc.peer not in lines.order:
            lines._add(sc.peer)
        placed.append((sc.time, base + i, Note(sc.peer, sc.time, sc.machine, sc.value)))
    placed.sort(key=lambda p: (p[0], p[1]))
    items = _fold([p[2] for p in placed], max_arrows, fold_after, fold_min)
    t0 = min((p[0] for p in placed), default=0.0)
    descriptions = {name: ", ".join(addrs) for name, addrs in lines.addrs.items()}
    traced = [n for n in lines.order if n in lines.traced]
    others = [n for n in lines.order if n not in lines.traced]
    order = traced[:1] + others + traced[1:]  # servers between the first two peers
    return Ladder(tuple(order), tuple(items), t0, title, skipped, descriptions)


def _arrow(
    m: _Msg,
    sent: float | None,
    received: float | None,
    status: Status,
    rexmit: bool,
    prefix: str = "",
) -> Arrow:
    ev = m.ev
    label = prefix + _label(ev)
    if m.via and ev.layer != "TURN":
        label = f"[{m.via}] {label}"
    return Arrow(
        m.src,
        m.dst,
        sent,
        received,
        layer_of(ev),
        ev.kind,
        clip_text(label, LABEL_MAX),
        clip_text(_detail(ev, m.peer), DETAIL_MAX),
        ev.size,
        status,
        rexmit,
        m.via,
        ev.fields,
    )


def _is_bulk(item: Item) -> bool:
    if not isinstance(item, Arrow) or item.status is Status.LOST or item.retransmission:
        return False
    if item.layer is Layer.APP:
        return True
    if item.layer is Layer.SCTP and item.kind == "SACK":
        return not item.fields.get("gaps") and not item.fields.get("dups")
    return item.layer is Layer.DTLS and item.kind == "ApplicationData"


@dataclass(slots=True)
class _Tally:
    data: int = 0
    data_bytes: int = 0
    sack: int = 0
    other: int = 0
    first_tsn: int | None = None
    last_tsn: int | None = None
    last_cum: int | None = None


def _band(run: list[Arrow]) -> Band:
    tallies: dict[tuple[str, str], _Tally] = {}
    for a in run:
        t = tallies.setdefault((a.src, a.dst), _Tally())
        fields = a.fields
        if a.kind == "DATA":
            t.data += 1
            t.data_bytes += _int(fields.get("length")) or 0
            tsn = _int(fields.get("tsn"))
            if tsn is not None:
                t.first_tsn = tsn if t.first_tsn is None else t.first_tsn
                t.last_tsn = tsn
        elif a.kind == "SACK":
            t.sack += 1
            t.last_cum = _int(fields.get("cum_tsn"))
        else:
            t.other += 1
    lines = []
    for (src, dst), t in tallies.items():
        parts = []
        if t.data:
            parts.append(f"{t.data} DATA ({t.data_bytes} B, tsn {t.first_tsn}..{t.last_tsn})")
        if t.sack:
            parts.append(f"{t.sack} SACK (cum_tsn {t.last_cum})")
        if t.other:
            parts.append(f"{t.other} other")
        lines.append(f"{src} → {dst}: " + ", ".join(parts))
    names = tuple(dict.fromkeys(n for a in run for n in (a.src, a.dst)))
    end = max((a.received or a.time) for a in run)
    return Band(run[0].time, end, names, tuple(lines), len(run))


def _int(v: object) -> int | None:
    try:
        return int(str(v))
    except ValueError:
        return None


def _fold(items: list[Item], max_arrows: int, fold_after: int, fold_min: int) -> list[Item]:
    out: list[Item] = []
    run: list[Arrow] = []
    drawn = 0
    overflow: list[Arrow] = []

    def close_run() -> None:
        nonlocal drawn
        if len(run) > fold_min:
            head, rest = run[:fold_after], run[fold_after:]
        else:
            head, rest = run, []
        for a in head:
            if drawn < max_arrows:
                out.append(a)
                drawn += 1
            else:
                overflow.append(a)
        if rest:
            out.append(_band(rest))
        run.clear()

    for item in items:
        if _is_bulk(item):
            assert isinstance(item, Arrow)
            run.append(item)
            continue
        close_run()
        if isinstance(item, Arrow):
            if drawn < max_arrows:
                out.append(item)
                drawn += 1
            else:
                overflow.append(item)
        else:
            out.append(item)
    close_run()
    if overflow:
        band = _band(overflow)
        line = f"{len(overflow)} more messages not drawn (at most {max_arrows} arrows)"
        out.append(Band(band.start, band.end, band.lifelines, (line, *band.lines), len(overflow)))
    return out
