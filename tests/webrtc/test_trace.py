"""webrtc.trace: the protocol trace on real captured connections, totality, the demo flags."""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dtls
import webrtc.trace as tr
from ice import stun
from tests.netsim import Network, VirtualClock
from tests.webrtc.simnet import NetsimTransport, drive, wire
from webrtc import ChannelState, WebRTCDataChannel, WebRTCPeerConnection
from webrtc.trace import TraceEvent, TraceSink, decode_datagram, decode_sctp_packet, format_event

ROOT = Path(__file__).resolve().parents[2]
Address = tuple[str, int]


class RecordingTransport(NetsimTransport):
    """Keeps every datagram it sends, to decode the captured bytes directly."""

    def __init__(self, sent: list[tuple[bytes, Address, Address]], *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.sent_log = sent

    def send(self, data: bytes, local: Address, remote: Address) -> None:
        self.sent_log.append((data, local, remote))
        super().send(data, local, remote)


class Session:
    """Two peers on the simulated network, opened channel 'demo', one message each way."""

    def __init__(self, *, traced: bool = True) -> None:
        self.net, self.clock = Network(None, seed=0), VirtualClock()
        self.events: list[tuple[str, TraceEvent]] = []  # (peer, event) in emission order
        self.sent: dict[str, list[tuple[bytes, Address, Address]]] = {"A": [], "B": []}
        self.a = self._peer("A", "10.0.0.1", 1, traced)
        self.b = self._peer("B", "10.0.0.2", 2, traced)
        self.got: list[WebRTCDataChannel] = []
        self.b.data_channel_received.connect(self.got.append)
        wire(self.a, self.b)
        ch = self.a.create_data_channel("demo", {"protocol": "chat"})
        assert ch is not None
        self.a.create_offer()
        assert self.run(lambda: ch.get_ready_state() == ChannelState.STATE_OPEN and bool(self.got))
        ch.put_packet(b"hello")
        assert self.run(lambda: self.got[0].get_available_packet_count() > 0)
        assert self.got[0].get_packet() == b"hello"

    def _peer(self, name: str, host: str, seed: int, traced: bool) -> WebRTCPeerConnection:
        def on_event(ev: TraceEvent) -> None:
            self.events.append((name, ev))

        return WebRTCPeerConnection(
            transport_factory=lambda: RecordingTransport(
                self.sent[name], self.net, [host], self.clock
            ),
            clock=self.clock,
            rng=random.Random(seed),
            trace=on_event if traced else None,
        )

    def run(self, until: object) -> bool:
        return drive(self.net, self.clock, [self.a, self.b], until)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def session() -> Session:
    return Session()


def label(ev: TraceEvent) -> str:
    dcep = ev.fields.get("dcep")
    if dcep is not None:
        return f"DCEP {dcep}"
    return f"{ev.layer} {ev.kind}"


def is_subsequence(wanted: list[str], seen: list[str]) -> bool:
    it = iter(seen)
    return all(any(w == s for s in it) for w in wanted)


def test_connection_sequence_in_order(session: Session) -> None:
    sent = [label(ev) for _, ev in session.events if ev.direction == "out"]
    wanted = [
        "STUN Binding request",
        "STUN Binding success response",
        "DTLS ClientHello",
        "DTLS ServerHello",
        "DTLS Certificate",
        "DTLS ClientKeyExchange",
        "DTLS ChangeCipherSpec",
        "DTLS Finished",
        "SCTP INIT",
        "SCTP INIT ACK",
        "SCTP COOKIE ECHO",
        "SCTP COOKIE ACK",
        "DCEP OPEN",
        "DCEP ACK",
        "SCTP DATA",
    ]
    assert is_subsequence(wanted, sent), sent
    assert "SCTP SACK" in sent
    assert not is_subsequence(["SCTP INIT", "DTLS ClientHello"], sent)
    assert not any(ev.kind == "undecodable" for _, ev in session.events)
    # Times never go backwards in emission order (SCTP is reported with its DTLS record).
    times = [ev.time for _, ev in session.events]
    assert times == sorted(times)


def test_key_fields(session: Session) -> None:
    a_out = [ev for peer, ev in session.events if peer == "A" and ev.direction == "out"]
    nominations = [ev for ev in a_out if ev.fields.get("use_candidate")]
    assert nominations, "the controlling agent nominates with USE-CANDIDATE"
    nom = nominations[0]
    assert nom.layer == "STUN" and nom.kind == "Binding request"
    assert isinstance(nom.fields["priority"], int) and len(nom.fields["tid"]) == 24
    assert "USE-CANDIDATE" in nom.summary and f"prio={nom.fields['priority']}" in nom.summary
    assert nom.local is not None and nom.local[0] == "10.0.0.1"
    assert nom.remote is not None and nom.remote[0] == "10.0.0.2"
    (opening,) = [ev for ev in a_out if ev.fields.get("dcep") == "OPEN"]
    assert opening.fields["label"] == "demo" and opening.fields["protocol"] == "chat"
    assert opening.fields["ppid"] == 50 and opening.fields["channel_type"] == "reliable"
    assert 'DCEP OPEN label="demo" reliable' in opening.summary
    data = [ev for ev in a_out if ev.kind == "DATA" and ev.fields["ppid"] == 53]
    assert data[0].fields["sid"] == opening.fields["sid"] and data[0].fields["length"] == 5
    assert data[0].fields["ssn"] == 1 and data[0].fields["flags"] == "BE"
    hellos = [ev for _, ev in session.events if ev.kind == "ClientHello"]
    assert hellos[0].fields["epoch"] == 0 and hellos[0].fields["fragment_offset"] == 0
    assert hellos[0].fields["fragment_length"] == hellos[0].fields["length"]
    assert "(whole," in hellos[0].summary
    finished = [ev for _, ev in session.events if ev.kind == "Finished"]
    assert finished and all(ev.fields["epoch"] == 1 and ev.fields["encrypted"] for ev in finished)


def test_both_directions_reported(session: Session) -> None:
    """What one peer sends, the other reports receiving (no loss on this network)."""
    for src, dst in (("A", "B"), ("B", "A")):
        sent = [label(ev) for p, ev in session.events if p == src and ev.direction == "out"]
        got = [label(ev) for p, ev in session.events if p == dst and ev.direction == "in"]
        for name in ("SCTP INIT", "SCTP INIT ACK", "SCTP COOKIE ECHO", "DTLS Finished"):
            assert sent.count(name) == got.count(name) >= 1, (src, name)


def test_decoding_captured_bytes_matches_the_hook(session: Session) -> None:
    hooked = [ev for p, ev in session.events if p == "A" and ev.direction == "out"]
    wire = [ev for ev in hooked if ev.layer in ("STUN", "TURN", "DTLS")]
    decoded = [
        ev
        for data, local, remote in session.sent["A"]
        for ev in decode_datagram(data, local=local, remote=remote)
    ]
    assert [(e.layer, e.kind, e.size, e.summary) for e in decoded] == [
        (e.layer, e.kind, e.size, e.summary) for e in wire
    ]


def test_dtls_fragments_and_turn_channel_data() -> None:
    body = b"\x00" * 50
    hs = struct.pack("!B3sH3s3s", 11, (300).to_bytes(3, "big"), 2, b"\x00\x00\x64", b"\x00\x00\x32")
    record = struct.pack("!BHH6sH", 22, 0xFEFD, 0, b"\x00" * 5 + b"\x07", len(hs) + 50) + hs + body
    (ev,) = decode_datagram(record)
    assert ev.kind == "Certificate" and "fragment 100..150 of 300" in ev.summary
    assert ev.fields["seq"] == 7 and ev.size == len(record)
    framed = struct.pack("!HH", 0x4001, len(record)) + record
    outer, inner = decode_datagram(framed)
    assert (outer.layer, outer.kind, outer.fields["channel"]) == ("TURN", "ChannelData", 0x4001)
    assert inner.kind == "Certificate" and inner.fields["via"] == "ChannelData 0x4001"
    assert "via" not in outer.fields and "via" not in ev.fields
    two = decode_datagram(record + record[:20])  # a second record cut short
    assert two[0].kind == "Certificate" and two[1].kind == "undecodable"


def test_turn_messages_and_send_indication_payload() -> None:
    tid = bytes(range(12))
    err = stun.Message(
        stun.Method.ALLOCATE,
        stun.Class.ERROR,
        tid,
        {stun.Attr.ERROR_CODE: (401, "Unauthorized"), stun.Attr.NONCE: "n", stun.Attr.REALM: "r"},
    ).encode()
    (ev,) = decode_datagram(err)
    assert (ev.layer, ev.kind) == ("TURN", "Allocate error response")
    assert "error=401 Unauthorized" in ev.summary and "tid=00010203.." in ev.summary
    assert ev.fields["tid"] == tid.hex() and ev.fields["error"] == [401, "Unauthorized"]
    ccs = struct.pack("!BHH6sH", 20, 0xFEFD, 0, b"\0" * 6, 1) + b"\x01"
    send = stun.Message(
        stun.Method.SEND,
        stun.Class.INDICATION,
        tid,
        {stun.Attr.XOR_PEER_ADDRESS: ("192.0.2.1", 5000), stun.Attr.DATA: ccs},
    ).encode()
    outer, inner = decode_datagram(send)
    assert outer.kind == "Send indication" and outer.fields["peer"] == "192.0.2.1:5000"
    assert (inner.layer, inner.kind, inner.size) == ("DTLS", "ChangeCipherSpec", 14)
    assert inner.fields["via"] == "Send indication"


def test_tracing_off_decodes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> list[TraceEvent]:
        raise AssertionError("trace decoder called with tracing off")

    monkeypatch.setattr(tr, "decode_datagram", boom)
    monkeypatch.setattr(tr, "decode_sctp_packet", boom)
    s = Session(traced=False)
    assert s.events == []
    assert s.a._trace is None and s.b._trace is None


def test_tracing_keeps_the_dtls_to_sctp_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tracing observes: DTLS datagrams take the same entry points as without a tracer (SCTP
    packets straight out of receive_application_data, not through ApplicationData events)."""
    route: list[str] = []
    receive, receive_app = dtls.Connection.receive, dtls.Connection.receive_application_data

    def spy_receive(conn: dtls.Connection, data: bytes, now: float) -> None:
        route.append("receive")
        receive(conn, data, now)

    def spy_receive_app(conn: dtls.Connection, data: bytes, now: float) -> bytes | None:
        route.append("application data")
        return receive_app(conn, data, now)

    monkeypatch.setattr(dtls.Connection, "receive", spy_receive)
    monkeypatch.setattr(dtls.Connection, "receive_application_data", spy_receive_app)
    routes = []
    for traced in (False, True):
        route.clear()
        s = Session(traced=traced)
        routes.append(list(route))
        assert any(ev.layer == "SCTP" and ev.direction == "in" for _, ev in s.events) is traced
    assert "application data" in routes[0]
    assert routes[1] == routes[0]


def test_raising_callback_is_contained(caplog: pytest.LogCaptureFixture) -> None:
    def bad(ev: TraceEvent) -> None:
        raise RuntimeError("oops")

    tracer = tr.Tracer(bad, lambda: 1.0)
    tracer.wire([(b"\x00", ("10.0.0.1", 1), ("10.0.0.2", 2))], incoming=False)
    assert "trace callback raised" in caplog.text


def _check_total(events: list[TraceEvent]) -> None:
    assert events
    for ev in events:
        assert not ev.fields.get("reason", "").startswith("decoder error"), ev
        json.loads(ev.to_json("A"))
        format_event(ev)


@given(st.binary(max_size=300))
def test_total_on_garbage(data: bytes) -> None:
    _check_total(decode_datagram(data))
    _check_total(decode_sctp_packet(data))


@given(
    st.sampled_from([b"\x00\x01", b"\x01\x01", b"\x16\xfe\xfd", b"\x17\xfe\xfd", b"\x40\x00"]),
    st.binary(max_size=200),
)
def test_total_on_garbage_with_plausible_headers(prefix: bytes, rest: bytes) -> None:
    if prefix[0] < 4:  # make the STUN length and cookie plausible to get past the header
        rest = struct.pack("!HI", len(rest) & ~3, 0x2112A442) + rest[:12].ljust(12, b"\0") + rest
    _check_total(decode_datagram(prefix + rest))


@given(st.data())
def test_total_on_mutated_captures(session: Session, data: st.DataObject) -> None:
    peer = data.draw(st.sampled_from(["A", "B"]))
    packets = session.sent[peer]
    raw = bytearray(packets[data.draw(st.integers(0, len(packets) - 1))][0])
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    _check_total(decode_datagram(bytes(raw[:cut]) or b"\0"))
    sctp_payload = bytes(raw[13:cut])
    _check_total(decode_sctp_packet(sctp_payload or b"\0"))


def _data_event(t: float, tsn: int) -> TraceEvent:
    return TraceEvent(
        t, "out", "SCTP", "DATA", f"SCTP DATA tsn={tsn}", 1000, {"tsn": tsn, "length": 984}
    )


def test_sink_summarises_bulk_and_json_keeps_everything(tmp_path: Path) -> None:
    lines: list[str] = []
    path = tmp_path / "t.jsonl"
    with path.open("w") as fh:
        sink = TraceSink(lines.append, fh)
        for i in range(100):
            sink.emit(_data_event(i * 0.01, 10 + i), "A", "B")  # 1 s of trace time
        sink.emit(TraceEvent(1.0, "in", "SCTP", "SACK", "SCTP SACK", 16, {}), "A", "B")
        sink.flush(1.0)
    detail = [x for x in lines if "summary" not in x]
    summaries = [x for x in lines if "summary" in x]
    assert len(detail) == TraceSink.detail and "A->B SCTP DATA tsn=10" in detail[0]
    assert 2 <= len(summaries) <= 3
    assert "100 DATA (98400 B, tsn 10..109)" in summaries[-1]
    records = [json.loads(x) for x in path.read_text().splitlines()]
    assert len(records) == 101 and records[-1]["direction"] == "in"
    assert records[0]["peer"] == "A" and records[0]["fields"]["tsn"] == 10


def test_demo_trace_subprocess(tmp_path: Path) -> None:
    out_json = tmp_path / "trace.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = ["demo", "--trace", "--megabytes", "0.1", "--trace-json", str(out_json)]
    proc = subprocess.run(
        [sys.executable, "-m", "webrtc", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout
    for needle in (
        "STUN Binding request",
        "STUN Binding success response",
        "Handshake ClientHello",
        "Finished (encrypted",
        "SCTP INIT ",
        "SCTP INIT ACK",
        "SCTP COOKIE ECHO",
        "SCTP COOKIE ACK",
        'DCEP OPEN label="demo" reliable',
        "DCEP ACK",
        "ppid=53(binary)",
        "SCTP summary:",
    ):
        assert needle in text, needle
    assert "A->B" in text and "B->A" in text
    records = [json.loads(x) for x in out_json.read_text().splitlines()]
    assert {r["peer"] for r in records} == {"A", "B"}
    assert {r["direction"] for r in records} == {"in", "out", "local"}
    states = [r for r in records if r["layer"] == "STATE"]
    assert all(r["direction"] == "local" for r in states)
    for peer in ("A", "B"):
        mine = [(r["kind"], r["fields"]["state"]) for r in states if r["peer"] == peer]
        assert ("connection", "STATE_CONNECTED") in mine and (
            "gathering",
            "GATHERING_STATE_COMPLETE",
        ) in mine
