"""The ladder of recorded simulated sessions, checked on the SVG structure (xml.etree)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ladder.helpers import SVG, groups, learn_module, lifeline_x, texts, title
from webrtc import ChannelState, Error, WebRTCDataChannel
from webrtc.ladder import (
    Ladder,
    Layer,
    Observation,
    Recorder,
    Status,
    build_ladder,
    parse_trace_records,
    render_html,
    render_svg,
)
from webrtc.testing import Recorder as NetRecorder
from webrtc.trace import TraceEvent

learn = learn_module()


@dataclass
class Run:
    rec: Recorder
    net: NetRecorder
    dropped: list[tuple[float, bytes]]  # dropped by the sender's transport (time, data)


def _bulk_run(messages: int, *, drop_nth: int = 0, size: int = 1000) -> Run:
    """A connected pair; A sends `messages` messages; the `drop_nth` DTLS application-data
    datagram A sends after the channel opened is dropped (0: none)."""
    rec = Recorder()
    sim = learn._Sim(rec)
    net = NetRecorder(sim.net, names={"10.0.0.1": "A", "10.0.0.2": "B"})
    dropped: list[tuple[float, bytes]] = []
    seen = {"armed": 0, "n": 0}

    def drop(data: bytes) -> bool:
        if seen["armed"] and data[:1] == b"\x17" and len(data) > size:
            seen["n"] += 1
            if seen["n"] == drop_nth:
                dropped.append((sim.clock.now, data))
                return True
        return False

    sim.drops["10.0.0.1"] = drop
    a, b = sim.traced_pair()
    learn.wire(a, b)
    ch, remote = learn._open(sim, a, b, "bulk")
    seen["armed"] = 1
    for _ in range(messages):
        assert ch.put_packet(bytes(size)) == Error.OK
    assert sim.run(lambda: remote.get_available_packet_count() == messages, 60)
    sim.idle(0.1)
    return Run(rec, net, dropped)


@pytest.fixture(scope="module")
def lossy() -> Run:
    return _bulk_run(20, drop_nth=3)


def _parse(ladder: Ladder, **kw: Any) -> ET.Element:
    return ET.fromstring(render_svg(ladder, **kw))


def _sent_messages(rec: Recorder) -> int:
    """Messages the peers reported sending, counted without the ladder code: every "out"
    event except DTLS ApplicationData (its SCTP chunks are reported as their own events)."""
    return sum(
        1
        for ob in rec.observations
        if ob.event.direction == "out"
        and not (ob.event.layer == "DTLS" and ob.event.kind == "ApplicationData")
    )


def test_one_arrow_per_message(lossy: Run) -> None:
    ladder = lossy.rec.ladder(fold_min=10**9)
    root = _parse(ladder)
    msgs = groups(root, "msg")
    assert len(msgs) == len(ladder.arrows) == _sent_messages(lossy.rec)
    assert ladder.lifelines == ("A", "B")
    for g in msgs:
        assert g.get("data-src") in ("A", "B") and g.get("data-dst") in ("A", "B")
        assert g.find(f"{SVG}line") is not None and texts(g)
    # The colour classes follow the layers
    kinds = {(g.get("class") or "").split()[1] for g in msgs}
    assert {"l-stun", "l-dtls", "l-sctp", "l-dcep", "l-app"} <= kinds


def test_lost_datagrams_drawn_short_and_match_the_network(lossy: Run) -> None:
    ladder = lossy.rec.ladder(fold_min=10**9)
    root = _parse(ladder)
    xs = lifeline_x(root)
    lost_g = groups(root, "lost")
    lost = [a for a in ladder.arrows if a.status is Status.LOST]
    assert len(lost_g) == len(lost) >= 1
    for g in lost_g:
        line = g.find(f"{SVG}line")
        assert line is not None
        x1, x2 = float(line.get("x1", 0)), float(line.get("x2", 0))
        dst = xs[g.get("data-dst", "")]
        assert min(x1, dst) < x2 < max(x1, dst), "a lost arrow stops short of its receiver"
        assert "✕" in texts(g)
    # Ground truth, independent of the ladder: the datagrams our transport dropped and the
    # ones the network dropped (the MTU drops PLPMTUD probes); each lost arrow is one of those
    truth = {("A", t) for t, _ in lossy.dropped}
    for d in lossy.net.datagrams:
        if d.lost:
            truth.add(("A" if d.src[0] == "10.0.0.1" else "B", d.time))
    assert {(a.src, a.sent) for a in lost} == truth
    app_lost = [a for a in lost if a.layer is Layer.APP]
    assert len(app_lost) == 1 and len(lossy.dropped) == 1


def test_fast_retransmission_marked(lossy: Run) -> None:
    ladder = lossy.rec.ladder(fold_min=10**9)
    (lost,) = [a for a in ladder.arrows if a.status is Status.LOST and a.layer is Layer.APP]
    again = [a for a in ladder.arrows if a.retransmission and a.layer is Layer.APP]
    assert len(again) == 1
    assert again[0].fields["tsn"] == lost.fields["tsn"] and again[0].sent > lost.sent
    assert again[0].status is Status.DELIVERED
    # RFC 9260 §7.2.4: three SACKs reporting the gap came before it
    gap_sacks = [
        a
        for a in ladder.arrows
        if a.kind == "SACK" and a.fields.get("gaps") and lost.sent < a.time < again[0].time
    ]
    assert len(gap_sacks) >= 3
    root = _parse(ladder)
    (g,) = [g for g in groups(root, "rexmit") if "l-app" in (g.get("class") or "")]
    assert any(t.startswith("↻ DATA") for t in texts(g))
    assert "retransmission" in title(g)


def test_dtls_flight_retransmission_marked() -> None:
    ladder = learn.dtls_loss()
    lost = [a for a in ladder.arrows if a.status is Status.LOST and a.layer is Layer.DTLS]
    assert [a.kind for a in lost] == ["HelloVerifyRequest"]
    hellos = [a for a in ladder.arrows if a.kind == "ClientHello"]
    assert [a.retransmission for a in hellos] == [False, True, False]  # then with the cookie
    assert hellos[1].sent is not None and lost[0].sent is not None
    assert hellos[1].sent - lost[0].sent == pytest.approx(1.0, abs=0.05)  # RFC 6347 §4.2.4.1
    root = _parse(ladder)
    assert any("↻ ClientHello" in " ".join(texts(g)) for g in groups(root, "rexmit"))


def test_state_annotations_on_the_lifelines() -> None:
    ladder = learn.clean()
    root = _parse(ladder)
    xs = lifeline_x(root)
    notes = {}
    for g in groups(root, "note"):
        (text,) = texts(g)
        x = float(g.find(f"{SVG}text").get("x"))  # type: ignore[union-attr]
        who = next(name for name, lx in xs.items() if lx == x)
        notes.setdefault(who, []).append(text)
    for peer in ("A", "B"):
        seq = notes[peer]
        assert seq.index("connection: CONNECTING") < seq.index("connection: CONNECTED"), seq
        assert "gathering: COMPLETE" in seq and "signaling: STABLE" in seq
        assert "channel chat: OPEN" in seq
    assert "channel chat: CONNECTING" in notes["A"]
    classes = {(g.get("class") or "") for g in groups(root, "note")}
    assert {"note n-connection", "note n-gathering", "note n-signaling", "note n-channel"} <= (
        classes
    )


def test_state_note_sits_where_it_happens() -> None:
    ladder = learn.clean()
    connected = [n for n in ladder.notes if n.value == "STATE_CONNECTED"]
    finished = [a for a in ladder.arrows if a.kind == "Finished"]
    assert len(connected) == 2 and finished
    # a peer is CONNECTED once DTLS is done: after the first Finished was sent
    assert all(n.time >= min(a.time for a in finished) for n in connected)
    items = list(ladder.items)
    first_finished = items.index(finished[0])
    assert all(items.index(n) > first_finished for n in connected)


def test_bulk_folds_into_a_band() -> None:
    run = _bulk_run(300)
    full = run.rec.ladder(fold_min=10**9)
    ladder = run.rec.ladder()
    root = _parse(ladder)
    bands = groups(root, "band")
    assert bands, "300 messages fold"
    drawn = len(groups(root, "msg"))
    folded = sum(int(b.get("data-messages", 0)) for b in bands)
    assert drawn + folded == len(full.arrows)
    assert drawn < 150
    text = " ".join(" ".join(texts(b)) for b in bands)
    assert "A → B:" in text and " DATA (" in text and "B → A:" in text and " SACK (" in text
    assert sum(a.layer is Layer.APP for a in ladder.arrows) < 300
    # DCEP and the handshakes stay drawn
    assert any(a.layer is Layer.DCEP for a in ladder.arrows)


def test_arrow_bound() -> None:
    run = _bulk_run(60)
    ladder = run.rec.ladder(max_arrows=40, fold_min=10**9)
    root = _parse(ladder)
    assert len(groups(root, "msg")) == 40
    bands = groups(root, "band")
    assert "more messages not drawn (at most 40 arrows)" in " ".join(texts(bands[-1]))


HOSTILE = "</title></svg><script>alert(1)</script>\x00\x1b\ud800\"'&<!--"


def _hostile_events() -> list[Observation]:
    fields = {"dcep": "OPEN", "label": HOSTILE, "sid": 1, "tsn": 5, "protocol": HOSTILE}
    a, b = ("10.0.0.1", 1), ("10.0.0.2", 2)
    out = [
        TraceEvent(0.0, "out", "STUN", HOSTILE, HOSTILE, 20, {"tid": HOSTILE}, a, b),
        TraceEvent(0.1, "out", "SCTP", "DATA", "SCTP DATA " + HOSTILE, 40, fields),
        TraceEvent(0.2, "out", "?", HOSTILE, HOSTILE, 1, {HOSTILE: HOSTILE}, a, (HOSTILE, 3)),
    ]
    return [Observation(HOSTILE if i == 2 else "A", ev) for i, ev in enumerate(out)]


def test_wire_text_is_escaped() -> None:
    ladder = build_ladder(_hostile_events(), title=HOSTILE)
    svg = render_svg(ladder)
    root = ET.fromstring(svg)  # parses: nothing broke out of text or attributes
    assert not list(root.iter(f"{SVG}script"))
    assert "<script>" not in svg and "\x00" not in svg and "\x1b" not in svg
    dcep = [g for g in groups(root, "msg") if "l-dcep" in (g.get("class") or "")]
    assert dcep and "<script>alert(1)</script>" in " ".join(texts(dcep[0]))
    html = render_html(ladder)
    assert html.count("<script>") == 1  # ours only
    assert "<script>alert" not in html and "</title></svg>" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_labels_are_bounded() -> None:
    long = "x" * 100_000
    ev = TraceEvent(0.0, "out", "SCTP", "DATA", long, 1, {"dcep": "OPEN", "label": long})
    ladder = build_ladder([Observation("A", ev)])
    (arrow,) = ladder.arrows
    assert len(arrow.label) <= 96 and len(arrow.detail) <= 1500
    assert len(render_svg(ladder)) < 10_000


def test_trace_json_records_give_the_same_ladder(lossy: Run) -> None:
    lines = [ob.event.to_json(ob.peer) for ob in lossy.rec.observations]
    lines.append("{not json")
    lines.append(json.dumps({"time": "NaN", "peer": "A"}))
    lines.append(json.dumps([1, 2]))
    obs, states, bad = parse_trace_records(lines)
    assert bad == 3 and not states
    a = build_ladder(obs, peers=("A", "B"))
    b = lossy.rec.ladder()
    key = [(x.src, x.dst, x.label, x.status, x.retransmission) for x in b.arrows]
    assert [(x.src, x.dst, x.label, x.status, x.retransmission) for x in a.arrows] == key


def test_recorder_json_tee_round_trips(tmp_path: Any) -> None:
    from webrtc.ladder import load_trace_json

    path = tmp_path / "t.jsonl"
    rec = Recorder()
    sim = learn._Sim(rec)
    with path.open("w") as fh:
        rec.tee_json(fh)
        a, b = sim.traced_pair()
        learn.wire(a, b)
        got: list[WebRTCDataChannel] = []
        b.data_channel_received.connect(got.append)
        ch = a.create_data_channel("j")
        assert ch is not None and a.create_offer() == Error.OK
        assert sim.run(lambda: bool(got) and ch.get_ready_state() == ChannelState.STATE_OPEN)
        rec.tee_json(None)
    loaded = load_trace_json(path, peers=("A", "B"))
    live = rec.ladder()
    assert [(n.lifeline, n.machine, n.value) for n in loaded.notes] == [
        (n.lifeline, n.machine, n.value) for n in live.notes
    ]
    assert [x.label for x in loaded.arrows] == [x.label for x in live.arrows]
    assert loaded.skipped == 0


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_names = st.sampled_from(["A", "B", "10.0.0.9:3478", HOSTILE])
_record = st.fixed_dictionaries(
    {
        "time": st.floats(0, 10) | st.text(max_size=3),
        "peer": _names,
        "direction": st.sampled_from(["in", "out", "local", "x"]),
        "layer": st.sampled_from(["STUN", "TURN", "DTLS", "SCTP", "STATE", "?", HOSTILE]),
        "kind": st.sampled_from(["DATA", "SACK", "Allocate success response", "ChannelData"])
        | st.text(max_size=8),
        "summary": st.text(max_size=30),
        "size": st.integers(-5, 10**6),
        "fields": st.dictionaries(
            st.sampled_from(
                ["tid", "gaps", "tsn", "dcep", "label", "via", "relayed", "epoch", "error", "state"]
            ),
            _json_values,
            max_size=5,
        ),
        "local": st.sampled_from(["10.0.0.1:1", "10.0.0.2:2", "[::1]:5", "junk", None]),
        "remote": st.sampled_from(["10.0.0.1:1", "10.0.0.2:2", "10.0.0.9:3478", "x:y", None]),
        "datagram": st.integers(0, 3) | st.none(),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_record, max_size=25), st.integers(1, 30))
def test_any_records_render(records: list[dict[str, Any]], max_arrows: int) -> None:
    lines = [json.dumps(r) for r in records]
    obs, states, bad = parse_trace_records(lines)
    assert len(obs) + len(states) + bad == len(lines)
    ladder = build_ladder(obs, states, max_arrows=max_arrows, fold_min=2, fold_after=1)
    root = ET.fromstring(render_svg(ladder))
    assert len(groups(root, "msg")) == len(ladder.arrows) <= max_arrows
    assert "<script>alert" not in render_html(ladder)


def test_testing_kit_records_draw_with_their_losses(lossy: Run) -> None:
    """webrtc.testing.Recorder's JSON lines (numbered datagrams, sent and arrival records) draw
    directly: one arrow per wire message, lost exactly where the network dropped."""
    lines = [json.dumps(r) for r in lossy.net.json_records()]
    obs, states, bad = parse_trace_records(lines)
    assert bad == 0 and not states
    ladder = build_ladder(obs, peers=("A", "B"), fold_min=10**9)
    sent = [r for r in lossy.net.json_records() if r["direction"] == "out"]
    assert len(ladder.arrows) == len(sent)
    lost = {(a.src, a.sent) for a in ladder.arrows if a.status is Status.LOST}
    dropped = {
        ("A" if d.src[0] == "10.0.0.1" else "B", round(d.time, 6))  # JSON keeps 6 decimals
        for d in lossy.net.datagrams
        if d.lost
    }
    assert lost == dropped and lost
    assert all(a.status is Status.DELIVERED for a in ladder.arrows if (a.src, a.sent) not in lost)


def test_over_long_json_line_is_skipped(tmp_path: Any) -> None:
    from webrtc.ladder import load_trace_json

    ok = TraceEvent(0.0, "out", "STUN", "Binding request", "STUN Binding request", 20, {})
    path = tmp_path / "t.jsonl"
    huge = json.dumps({"time": 0, "peer": "A", "summary": "x" * 300_000})
    path.write_text(huge + "\n" + ok.to_json("A") + "\n" + huge, encoding="utf-8")
    ladder = load_trace_json(path)
    assert ladder.skipped == 2 and len(ladder.arrows) == 1


def test_network_duplicate_is_drawn_once_more_as_a_copy() -> None:
    a, b = ("10.0.0.1", 1), ("10.0.0.2", 2)
    ev = TraceEvent(0.0, "out", "STUN", "Binding request", "STUN Binding request x", 20, {}, a, b)
    got = TraceEvent(0.01, "in", "STUN", "Binding request", "STUN Binding request x", 20, {}, b, a)
    again = TraceEvent(
        0.03, "in", "STUN", "Binding request", "STUN Binding request x", 20, {}, b, a
    )
    ladder = build_ladder([Observation("A", ev), Observation("B", got), Observation("B", again)])
    first, copy = ladder.arrows
    assert (first.status, first.received) == (Status.DELIVERED, 0.01)
    assert (copy.status, copy.sent, copy.received) == (Status.SEEN, None, 0.03)
    assert copy.label.startswith("copy: ") and not copy.retransmission
    root = ET.fromstring(render_svg(ladder))
    assert len(groups(root, "msg")) == 2


def test_recorder_bound_counts_what_it_dropped() -> None:
    rec = Recorder(max_events=3)
    hook = rec.hook("A")
    for i in range(5):
        hook(TraceEvent(float(i), "out", "STUN", "Binding request", f"STUN {i}", 20, {}))
    assert len(rec.observations) == 3 and rec.dropped == 2
    assert rec.ladder().skipped == 2
