"""Protocol trace for learners: every message of a connection, decoded one line at a time.

`WebRTCPeerConnection(trace=callback)` calls `callback(TraceEvent)` for each message it sends or
receives, at two points: the wire (each UDP datagram, split into STUN messages, DTLS records and
TURN ChannelData; RFC 7983 demultiplexing by first byte) and the plaintext inside DTLS (each SCTP
packet split into chunks, with DCEP OPEN/ACK decoded inside DATA chunks, PPID 50). Decoding uses
the stack's own decoders (`ice.stun.Message.parse`, `sctp.chunks.decode_chunks`,
`sctp.decode_dcep`) plus a small DTLS record/handshake header reader (RFC 6347 §4.1, §4.2.2); it
is total: anything it cannot decode becomes an event of kind "undecodable" with its size. DTLS
records after ChangeCipherSpec are encrypted, so they show only their header (an epoch-1
Handshake record is labelled Finished: in DTLS 1.2 without renegotiation that is the only one).
`TraceSink` renders events for `python -m webrtc demo --trace`: one line per message, printed
once, when sent (`12.3ms A->B ...`); encrypted ApplicationData records are not printed since the
SCTP line shows their content. To avoid flooding during bulk transfer, only the first
`TraceSink.detail` DATA and SACK chunks per sender are printed (DCEP always is); after that a
summary line per sender (`A->B SCTP ... summary: N DATA ...`) is printed at most every
`TraceSink.summary_interval` seconds of trace time and once at the end. `--trace-json FILE`
writes every event (sent and received, never summarised) as one JSON object per line, and the
state changes of the peers and channels as objects of layer "STATE" (`state_json`); events
relayed inside a TURN message carry `fields["via"]`. `webrtc.ladder` draws these records.
"""

from __future__ import annotations

import json
import logging
import struct
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import IO, Any

import sctp
from ice import channeldata, stun
from sctp import chunks as sc

__all__ = [
    "TraceEvent",
    "TraceSink",
    "Tracer",
    "decode_datagram",
    "decode_sctp_packet",
    "format_event",
    "state_json",
]

logger = logging.getLogger(__name__)
Address = tuple[str, int]
_RECORD = struct.Struct("!BHH6sH")  # type, version, epoch, sequence_number u48, length
_HANDSHAKE = struct.Struct("!B3sH3s3s")  # msg_type, length, message_seq, frag offset, frag len
_CHUNK = struct.Struct("!BBH")
_U16 = struct.Struct("!H")

_CONTENT_TYPES = {20: "ChangeCipherSpec", 21: "Alert", 22: "Handshake", 23: "ApplicationData"}
_HANDSHAKE_TYPES = {
    0: "HelloRequest",
    1: "ClientHello",
    2: "ServerHello",
    3: "HelloVerifyRequest",
    4: "NewSessionTicket",
    11: "Certificate",
    12: "ServerKeyExchange",
    13: "CertificateRequest",
    14: "ServerHelloDone",
    15: "CertificateVerify",
    16: "ClientKeyExchange",
    20: "Finished",
}
_ALERT_LEVELS = {1: "warning", 2: "fatal"}
_PPIDS = {
    50: "DCEP",
    51: "string",
    52: "binary-partial",
    53: "binary",
    54: "string-partial",
    56: "string-empty",
    57: "binary-empty",
}
_CAUSES = {int(c): c.name for c in sc.CauseCode}
_CHANNEL_TYPES = {
    0x00: "reliable",
    0x80: "reliable unordered",
    0x01: "partial-reliable rexmit",
    0x81: "partial-reliable rexmit unordered",
    0x02: "partial-reliable timed",
    0x82: "partial-reliable timed unordered",
}


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One protocol message seen by a peer connection.

    `layer` is STUN, TURN, DTLS, SCTP or "?"; `kind` the message name ("Binding request",
    "ClientHello", "INIT ACK", "DATA", "undecodable"); `summary` a one-line description;
    `size` the message's bytes on its layer; `fields` the key decoded values (JSON-friendly);
    `local`/`remote` the socket addresses for wire events, None for SCTP events.
    """

    time: float
    direction: str  # "out" (sent) or "in" (received)
    layer: str
    kind: str
    summary: str
    size: int
    fields: Mapping[str, Any] = field(default_factory=dict)
    local: Address | None = None
    remote: Address | None = None

    def to_json(self, peer: str = "") -> str:
        """This event as one JSON object (no newline)."""
        obj: dict[str, Any] = {
            "time": round(self.time, 6),
            "peer": peer,
            "direction": self.direction,
            "layer": self.layer,
            "kind": self.kind,
            "size": self.size,
            "summary": self.summary,
            "fields": dict(self.fields),
        }
        if self.local is not None:
            obj["local"] = f"{self.local[0]}:{self.local[1]}"
        if self.remote is not None:
            obj["remote"] = f"{self.remote[0]}:{self.remote[1]}"
        return json.dumps(obj, default=str)


def state_json(peer: str, machine: str, value: str, time: float) -> str:
    """A state change as one JSON object, shaped like an event: layer "STATE", direction
    "local", kind the machine ("connection", "gathering", "signaling", "channel demo")."""
    return json.dumps(
        {
            "time": round(time, 6),
            "peer": peer,
            "direction": "local",
            "layer": "STATE",
            "kind": machine,
            "size": 0,
            "summary": f"{machine} state -> {value}",
            "fields": {"state": value},
        }
    )


# -- decoding -------------------------------------------------------------------------------


def _undecodable(layer: str, data: bytes, why: str, time: float, direction: str) -> TraceEvent:
    return TraceEvent(
        time,
        direction,
        layer,
        "undecodable",
        f"{layer} undecodable ({why}, {len(data)} B)",
        len(data),
        {"reason": why},
    )


def decode_datagram(
    data: bytes,
    *,
    time: float = 0.0,
    direction: str = "out",
    local: Address | None = None,
    remote: Address | None = None,
) -> list[TraceEvent]:
    """Split one UDP datagram into events (RFC 7983 §7 demultiplexing by the first byte)."""
    try:
        events = _decode_wire(bytes(data), time, direction, 0)
    except Exception as exc:  # totality backstop: a decoder bug must never reach the caller
        events = [_undecodable("?", data, f"decoder error {type(exc).__name__}", time, direction)]
    if local is not None or remote is not None:
        events = [
            TraceEvent(
                e.time, e.direction, e.layer, e.kind, e.summary, e.size, e.fields, local, remote
            )
            for e in events
        ]
    return events


def _decode_wire(data: bytes, time: float, direction: str, depth: int) -> list[TraceEvent]:
    if not data:
        return [_undecodable("?", data, "empty datagram", time, direction)]
    first = data[0]
    if first <= 3:
        return _decode_stun(data, time, direction, depth)
    if 20 <= first <= 63:
        return _decode_dtls(data, time, direction)
    if 64 <= first <= 79:
        return _decode_channel_data(data, time, direction, depth)
    return [_undecodable("?", data, f"first byte {first} (RTP/RTCP or unknown)", time, direction)]


def _decode_stun(data: bytes, time: float, direction: str, depth: int) -> list[TraceEvent]:
    try:
        msg = stun.Message.parse(data)
    except stun.StunError as exc:
        return [_undecodable("STUN", data, str(exc), time, direction)]
    attrs = msg.attributes
    A = stun.Attr
    method = msg.method.name.replace("_", "-").title().replace("-", "")
    cls = {0: "request", 1: "indication", 2: "success response", 3: "error response"}
    kind = f"{method} {cls[int(msg.message_class)]}"
    fields: dict[str, Any] = {
        "method": msg.method.name,
        "class": msg.message_class.name,
        "tid": msg.transaction_id.hex(),
    }
    parts = [kind]
    if A.USE_CANDIDATE in attrs:
        fields["use_candidate"] = True
        parts.append("USE-CANDIDATE")
    for attr, name in ((A.ICE_CONTROLLING, "controlling"), (A.ICE_CONTROLLED, "controlled")):
        if attr in attrs:
            fields[name] = attrs[attr]
            parts.append(name)
    if A.PRIORITY in attrs:
        fields["priority"] = attrs[A.PRIORITY]
        parts.append(f"prio={attrs[A.PRIORITY]}")
    if A.USERNAME in attrs:
        fields["username"] = str(attrs[A.USERNAME])
        parts.append(f"user={attrs[A.USERNAME]}")
    for attr, name in (
        (A.XOR_MAPPED_ADDRESS, "mapped"),
        (A.XOR_RELAYED_ADDRESS, "relayed"),
        (A.XOR_PEER_ADDRESS, "peer"),
    ):
        value = attrs.get(attr)
        if isinstance(value, tuple) and len(value) == 2:
            fields[name] = f"{value[0]}:{value[1]}"
            parts.append(f"{name}={value[0]}:{value[1]}")
    err = attrs.get(A.ERROR_CODE)
    if isinstance(err, tuple) and len(err) == 2:
        fields["error"] = [err[0], str(err[1])]
        parts.append(f"error={err[0]} {err[1]}")
    if A.CHANNEL_NUMBER in attrs:
        fields["channel"] = attrs[A.CHANNEL_NUMBER]
        parts.append(f"channel={attrs[A.CHANNEL_NUMBER]}")
    if A.MESSAGE_INTEGRITY in attrs or A.MESSAGE_INTEGRITY_SHA256 in attrs:
        parts.append("MI")
    if A.FINGERPRINT in attrs:
        parts.append("FP")
    parts.append(f"tid={msg.transaction_id.hex()[:8]}..")
    layer = "STUN" if msg.method is stun.Method.BINDING else "TURN"
    event = TraceEvent(
        time, direction, layer, kind, f"{layer} " + " ".join(parts), len(data), fields
    )
    inner = attrs.get(A.DATA)
    if isinstance(inner, bytes) and depth == 0:  # RFC 8656 §11: Send/Data indication payload
        return [event, *_carried(_decode_wire(inner, time, direction, depth + 1), kind)]
    return [event]


def _carried(events: list[TraceEvent], via: str) -> list[TraceEvent]:
    """Mark the events of a datagram relayed inside a TURN message (fields["via"])."""
    return [replace(e, fields={**e.fields, "via": via}) for e in events]


def _decode_channel_data(data: bytes, time: float, direction: str, depth: int) -> list[TraceEvent]:
    try:
        channel, payload = channeldata.decode_channel_data(data)
    except stun.StunError as exc:
        return [_undecodable("TURN", data, str(exc), time, direction)]
    event = TraceEvent(
        time,
        direction,
        "TURN",
        "ChannelData",
        f"TURN ChannelData channel=0x{channel:04x} ({len(payload)} B payload)",
        len(data),
        {"channel": channel},
    )
    if depth == 0:  # RFC 8656 §12.4: the payload is the peer's datagram
        inner = _decode_wire(payload, time, direction, depth + 1)
        return [event, *_carried(inner, f"ChannelData 0x{channel:04x}")]
    return [event]


def _decode_dtls(data: bytes, time: float, direction: str) -> list[TraceEvent]:
    out: list[TraceEvent] = []
    off, n = 0, len(data)
    while off < n:
        if n - off < _RECORD.size:
            out.append(_undecodable("DTLS", data[off:], "truncated record header", time, direction))
            break
        ctype, version, epoch, seq_bytes, length = _RECORD.unpack_from(data, off)
        end = off + _RECORD.size + length
        if end > n:
            out.append(
                _undecodable("DTLS", data[off:], "record overruns datagram", time, direction)
            )
            break
        body = data[off + _RECORD.size : end]
        seq = int.from_bytes(seq_bytes, "big")
        out.extend(_decode_record(ctype, version, epoch, seq, body, end - off, time, direction))
        off = end
    return out


def _decode_record(
    ctype: int,
    version: int,
    epoch: int,
    seq: int,
    body: bytes,
    size: int,
    time: float,
    direction: str,
) -> list[TraceEvent]:
    name = _CONTENT_TYPES.get(ctype, f"content-type-{ctype}")
    base: dict[str, Any] = {
        "content_type": name,
        "version": f"0x{version:04x}",
        "epoch": epoch,
        "seq": seq,
    }
    head = f"DTLS epoch{epoch} seq={seq} {name}"

    def event(kind: str, text: str, extra: dict[str, Any] | None = None) -> TraceEvent:
        return TraceEvent(time, direction, "DTLS", kind, text, size, {**base, **(extra or {})})

    if epoch > 0:
        if ctype == 22:  # RFC 6347 §4.2.4 / RFC 5246 §7.4.9: only Finished is sent encrypted
            return [
                event("Finished", f"{head} Finished (encrypted, {size} B)", {"encrypted": True})
            ]
        return [event(name, f"{head} (encrypted, {size} B)", {"encrypted": True})]
    if ctype == 20:
        return [event(name, f"{head} ({size} B)")]
    if ctype == 21:
        if len(body) != 2:
            return [event("undecodable", f"{head} undecodable ({size} B)")]
        level = _ALERT_LEVELS.get(body[0], str(body[0]))
        return [
            event(
                name,
                f"{head} {level} description={body[1]}",
                {"level": level, "description": body[1]},
            )
        ]
    if ctype != 22:
        return [event(name, f"{head} ({size} B)")]
    out: list[TraceEvent] = []
    off = 0
    while off < len(body):  # RFC 6347 §4.2.2: several handshake fragments may share a record
        if len(body) - off < _HANDSHAKE.size:
            out.append(event("undecodable", f"{head} truncated handshake header ({size} B)"))
            break
        mtype, total_b, mseq, foff_b, flen_b = _HANDSHAKE.unpack_from(body, off)
        total = int.from_bytes(total_b, "big")
        foff = int.from_bytes(foff_b, "big")
        flen = int.from_bytes(flen_b, "big")
        if off + _HANDSHAKE.size + flen > len(body):
            out.append(
                event("undecodable", f"{head} handshake fragment overruns record ({size} B)")
            )
            break
        hname = _HANDSHAKE_TYPES.get(mtype, f"handshake-type-{mtype}")
        if foff == 0 and flen == total:
            frag = "whole"
        else:
            frag = f"fragment {foff}..{foff + flen} of {total}"
        out.append(
            event(
                hname,
                f"{head} {hname} msg_seq={mseq} ({frag}, {size} B)",
                {
                    "handshake_type": hname,
                    "message_seq": mseq,
                    "length": total,
                    "fragment_offset": foff,
                    "fragment_length": flen,
                },
            )
        )
        off += _HANDSHAKE.size + flen
    return out or [event("undecodable", f"{head} empty ({size} B)")]


def decode_sctp_packet(
    data: bytes, *, time: float = 0.0, direction: str = "out"
) -> list[TraceEvent]:
    """Split one SCTP packet (DTLS plaintext) into one event per chunk (RFC 9260 §3)."""
    try:
        return _decode_sctp(bytes(data), time, direction)
    except Exception as exc:  # totality backstop
        return [_undecodable("SCTP", data, f"decoder error {type(exc).__name__}", time, direction)]


def _decode_sctp(data: bytes, time: float, direction: str) -> list[TraceEvent]:
    if len(data) < sc.COMMON_HEADER_SIZE:
        return [_undecodable("SCTP", data, "shorter than the common header", time, direction)]
    vtag = sc.COMMON_HEADER.unpack_from(data)[2]
    out: list[TraceEvent] = []
    off, n = sc.COMMON_HEADER_SIZE, len(data)
    while off < n:
        if n - off < 4:
            out.append(_undecodable("SCTP", data[off:], "truncated chunk header", time, direction))
            break
        length = _CHUNK.unpack_from(data, off)[2]
        end = off + length
        if length < 4 or end > n:
            out.append(
                _undecodable("SCTP", data[off:], f"bad chunk length {length}", time, direction)
            )
            break
        try:
            chunk = sc.decode_chunks(data[off:end], 0)[0]
        except sctp.ParseError as exc:
            out.append(_undecodable("SCTP", data[off:end], str(exc), time, direction))
        else:
            kind, text, fields = _describe_chunk(chunk)
            fields["vtag"] = vtag
            out.append(TraceEvent(time, direction, "SCTP", kind, f"SCTP {text}", length, fields))
        off = end + (-length & 3)
    return out or [_undecodable("SCTP", data, "no chunks", time, direction)]


def _describe_chunk(chunk: Any) -> tuple[str, str, dict[str, Any]]:
    if isinstance(chunk, sc.DataChunk):
        return _describe_data(chunk)
    if isinstance(chunk, sc.InitChunk):  # also INIT ACK (a subclass)
        kind = "INIT ACK" if isinstance(chunk, sc.InitAckChunk) else "INIT"
        f: dict[str, Any] = {
            "itag": chunk.initiate_tag,
            "a_rwnd": chunk.a_rwnd,
            "os": chunk.outbound_streams,
            "mis": chunk.inbound_streams,
            "initial_tsn": chunk.initial_tsn,
        }
        text = " ".join(f"{k}={v}" for k, v in f.items())
        return kind, f"{kind} {text}", f
    if isinstance(chunk, sc.SackChunk):
        f = {
            "cum_tsn": chunk.cumulative_tsn,
            "a_rwnd": chunk.a_rwnd,
            "gaps": [list(g) for g in chunk.gaps],
            "dups": list(chunk.duplicates),
        }
        text = f"SACK cum_tsn={chunk.cumulative_tsn} a_rwnd={chunk.a_rwnd}"
        if chunk.gaps:
            text += f" gaps={chunk.gaps}"
        if chunk.duplicates:
            text += f" dups={len(chunk.duplicates)}"
        return "SACK", text, f
    if isinstance(chunk, sc.CookieEchoChunk):
        return (
            "COOKIE ECHO",
            f"COOKIE ECHO cookie={len(chunk.cookie)} B",
            {"cookie_len": len(chunk.cookie)},
        )
    if isinstance(chunk, sc.CookieAckChunk):
        return "COOKIE ACK", "COOKIE ACK", {}
    if isinstance(chunk, sc.HeartbeatAckChunk):
        return "HEARTBEAT ACK", "HEARTBEAT ACK", {}
    if isinstance(chunk, sc.HeartbeatChunk):
        return "HEARTBEAT", "HEARTBEAT", {}
    if isinstance(chunk, sc.AbortChunk | sc.ErrorChunk):
        kind = "ABORT" if isinstance(chunk, sc.AbortChunk) else "ERROR"
        causes = [_CAUSES.get(c[0], str(c[0])) for c in chunk.causes]  # RFC 9260 §3.3.10
        text = f"{kind} causes={','.join(causes) or '-'}"
        if isinstance(chunk, sc.AbortChunk) and chunk.t_bit:
            text += " T"
        return kind, text, {"causes": causes}
    if isinstance(chunk, sc.ShutdownChunk):
        return (
            "SHUTDOWN",
            f"SHUTDOWN cum_tsn={chunk.cumulative_tsn}",
            {"cum_tsn": chunk.cumulative_tsn},
        )
    if isinstance(chunk, sc.ShutdownAckChunk):
        return "SHUTDOWN ACK", "SHUTDOWN ACK", {}
    if isinstance(chunk, sc.ShutdownCompleteChunk):
        return "SHUTDOWN COMPLETE", f"SHUTDOWN COMPLETE T={int(chunk.t_bit)}", {}
    if isinstance(chunk, sc.ForwardTsnChunk):
        f = {"new_cum_tsn": chunk.new_cumulative_tsn, "streams": [list(s) for s in chunk.streams]}
        return "FORWARD TSN", f"FORWARD TSN new_cum_tsn={chunk.new_cumulative_tsn}", f
    if isinstance(chunk, sc.ReconfigChunk):
        params = [type(p).__name__ for p in chunk.params]
        return "RE-CONFIG", f"RE-CONFIG {' '.join(params)}", {"params": params}
    if isinstance(chunk, sc.UnknownChunk):
        return (
            "UNKNOWN",
            f"chunk type {chunk.chunk_type} ({len(chunk.value)} B)",
            {"type": chunk.chunk_type},
        )
    name = type(chunk).__name__
    return name, name, {}


def _describe_data(chunk: sc.DataChunk) -> tuple[str, str, dict[str, Any]]:
    flags = chunk.flags
    flag_text = "".join(
        letter
        for bit, letter in (
            (sc.FLAG_UNORDERED, "U"),
            (sc.FLAG_BEGIN, "B"),
            (sc.FLAG_END, "E"),
            (sc.FLAG_IMMEDIATE, "I"),
        )
        if flags & bit
    )
    f: dict[str, Any] = {
        "tsn": chunk.tsn,
        "sid": chunk.stream_id,
        "ssn": chunk.ssn,
        "ppid": chunk.ppid,
        "flags": flag_text,
        "length": len(chunk.user_data),
    }
    ppid_name = _PPIDS.get(chunk.ppid, "?")
    text = (
        f"DATA tsn={chunk.tsn} sid={chunk.stream_id} ssn={chunk.ssn} ppid={chunk.ppid}"
        f"({ppid_name}) [{flag_text}] {len(chunk.user_data)} B"
    )
    whole = flags & (sc.FLAG_BEGIN | sc.FLAG_END) == sc.FLAG_BEGIN | sc.FLAG_END
    if chunk.ppid == sctp.dcep.PPID_DCEP and whole:  # RFC 8832 §5
        try:
            msg = sctp.decode_dcep(chunk.user_data)
        except sctp.ParseError as exc:
            f["dcep"] = "undecodable"
            text += f" DCEP undecodable ({exc})"
        else:
            if isinstance(msg, sctp.DataChannelOpen):
                ctype = _CHANNEL_TYPES.get(int(msg.channel_type), str(msg.channel_type))
                f.update(
                    dcep="OPEN",
                    label=msg.label,
                    protocol=msg.protocol,
                    channel_type=ctype,
                    reliability=msg.reliability,
                    priority=msg.priority,
                )
                text += f" DCEP OPEN label={json.dumps(msg.label)} {ctype}"
                if msg.protocol:
                    text += f" protocol={json.dumps(msg.protocol)}"
                if int(msg.channel_type) & 0x03:
                    text += f" reliability={msg.reliability}"
            else:
                f["dcep"] = "ACK"
                text += " DCEP ACK"
    return "DATA", text, f


# -- the peer connection's hook -------------------------------------------------------------


class Tracer:
    """What `WebRTCPeerConnection` calls when tracing: decodes batches and emits events.

    Outgoing SCTP packets are held until the wire batch that carries them and emitted right
    after their encrypted DTLS ApplicationData record (one packet per record), so the events
    follow wire order.
    """

    __slots__ = ("_callback", "_clock", "_pending")

    def __init__(self, callback: Callable[[TraceEvent], None], clock: Callable[[], float]) -> None:
        def guarded(ev: TraceEvent) -> None:
            try:
                callback(ev)
            except Exception:  # a broken trace callback must not fail the connection
                logger.exception("trace callback raised")

        self._callback = guarded
        self._clock = clock
        self._pending: deque[list[TraceEvent]] = deque()

    def wire(self, datagrams: list[tuple[bytes, Address, Address]], *, incoming: bool) -> None:
        """Outgoing `(data, local, remote)` or incoming `(data, source, local)` datagrams."""
        now, emit, pending = self._clock(), self._callback, self._pending
        direction = "in" if incoming else "out"
        for data, x, y in datagrams:
            local, remote = (y, x) if incoming else (x, y)
            for ev in decode_datagram(
                data, time=now, direction=direction, local=local, remote=remote
            ):
                emit(ev)
                if pending and not incoming and ev.layer == "DTLS" and ev.kind == "ApplicationData":
                    for inner in pending.popleft():
                        emit(replace(inner, time=now))
        if not incoming:
            while pending:  # not sent this batch (DTLS held them): still report, in order
                for inner in pending.popleft():
                    emit(replace(inner, time=now))

    def sctp(self, packets: list[bytes], *, incoming: bool) -> None:
        """SCTP packets handed to DTLS (held until `wire`), or taken out of DTLS."""
        now, emit = self._clock(), self._callback
        direction = "in" if incoming else "out"
        for packet in packets:
            events = decode_sctp_packet(packet, time=now, direction=direction)
            if incoming:
                for ev in events:
                    emit(ev)
            else:
                self._pending.append(events)

    def sctp_receiver(
        self, receive: Callable[[bytes, float], None]
    ) -> Callable[[bytes, float], None]:
        """Wrap `Association.receive` so each packet out of DTLS is traced first (stamped with
        the tracer's clock, like the wire events before it, so times follow emission order)."""
        emit, clock = self._callback, self._clock

        def traced(packet: bytes, now: float) -> None:
            for ev in decode_sctp_packet(packet, time=clock(), direction="in"):
                emit(ev)
            receive(packet, now)

        return traced


# -- rendering ------------------------------------------------------------------------------


def format_event(ev: TraceEvent, peer: str = "A", other: str = "B", t0: float = 0.0) -> str:
    """`12.3ms A->B STUN Binding request ...`: the text line for one event."""
    arrow = f"{peer}->{other}" if ev.direction == "out" else f"{other}->{peer} (rx by {peer})"
    return f"{(ev.time - t0) * 1000:9.1f}ms {arrow} {ev.summary}"


@dataclass(slots=True)
class _Bulk:
    data: int = 0
    data_bytes: int = 0
    sack: int = 0
    first_tsn: int | None = None
    last_tsn: int | None = None
    last_cum: int | None = None
    pending: int = 0  # suppressed chunks since the last summary line
    last_summary: float | None = None
    shown_data: int = 0
    shown_sack: int = 0


class TraceSink:
    """Renders events of named peers as text lines (summarised) and/or JSON lines (all)."""

    detail = 4  # DATA and SACK chunks printed in full per sender before summarising
    summary_interval = 0.5  # seconds of trace time between summary lines

    def __init__(
        self,
        out: Callable[[str], None] | None = None,
        json_file: IO[str] | None = None,
        t0: float = 0.0,
    ) -> None:
        self._out = out
        self._json = json_file
        self.t0 = t0
        self._bulk: dict[tuple[str, str], _Bulk] = {}
        self.count = 0

    def callback(self, peer: str, other: str) -> Callable[[TraceEvent], None]:
        """The `trace=` callback for the peer named `peer` (whose remote is `other`)."""

        def on_event(ev: TraceEvent) -> None:
            self.emit(ev, peer, other)

        return on_event

    def state(self, peer: str, machine: str, value: str, time: float) -> None:
        """A state change of `peer` (JSON only: the text lines are printed by the caller)."""
        if self._json is not None:
            self._json.write(state_json(peer, machine, value, time) + "\n")

    def emit(self, ev: TraceEvent, peer: str, other: str) -> None:
        self.count += 1
        if self._json is not None:
            self._json.write(ev.to_json(peer) + "\n")
        out = self._out
        if out is None or ev.direction != "out":
            return
        if ev.layer == "DTLS" and ev.kind == "ApplicationData":
            return  # its SCTP content is printed instead
        if ev.layer == "SCTP" and ev.kind in ("DATA", "SACK") and "dcep" not in ev.fields:
            bulk = self._bulk.setdefault((peer, other), _Bulk())
            if self._count_bulk(bulk, ev):
                if self._due(bulk, ev.time):
                    self._summary(peer, other, bulk, ev.time)
                return
        out(format_event(ev, peer, other, self.t0))

    def _count_bulk(self, bulk: _Bulk, ev: TraceEvent) -> bool:
        """Account a DATA/SACK chunk; True when it is summarised instead of printed."""
        f = ev.fields
        if ev.kind == "DATA":
            bulk.data += 1
            bulk.data_bytes += int(f.get("length", 0))
            tsn = f.get("tsn")
            if isinstance(tsn, int):
                if bulk.first_tsn is None:
                    bulk.first_tsn = tsn
                bulk.last_tsn = tsn
            if bulk.shown_data < self.detail:
                bulk.shown_data += 1
                return False
        else:
            bulk.sack += 1
            cum = f.get("cum_tsn")
            if isinstance(cum, int):
                bulk.last_cum = cum
            if bulk.shown_sack < self.detail:
                bulk.shown_sack += 1
                return False
        bulk.pending += 1
        if bulk.last_summary is None:
            bulk.last_summary = ev.time
        return True

    def _due(self, bulk: _Bulk, now: float) -> bool:
        return bulk.last_summary is None or now - bulk.last_summary >= self.summary_interval

    def _summary(self, peer: str, other: str, bulk: _Bulk, now: float) -> None:
        assert self._out is not None
        bulk.pending = 0
        bulk.last_summary = now
        self._out(
            f"{(now - self.t0) * 1000:9.1f}ms {peer}->{other} SCTP summary: {bulk.data} DATA "
            f"({bulk.data_bytes} B, tsn {bulk.first_tsn}..{bulk.last_tsn}), {bulk.sack} SACK "
            f"(cum_tsn {bulk.last_cum}) so far"
        )

    def tick(self, now: float) -> None:
        """Print the summary lines that are due at `now`."""
        if self._out is None:
            return
        for (peer, other), bulk in self._bulk.items():
            if bulk.pending and self._due(bulk, now):
                self._summary(peer, other, bulk, now)

    def flush(self, now: float) -> None:
        """Print the final summary lines (with anything still unsummarised)."""
        if self._out is not None:
            for (peer, other), bulk in self._bulk.items():
                if bulk.pending:
                    self._summary(peer, other, bulk, now)
        if self._json is not None:
            self._json.flush()
