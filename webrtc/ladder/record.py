"""Recording a ladder from a running program, and loading `--trace-json` records.

    recorder = ladder.Recorder()
    a = WebRTCPeerConnection(trace=recorder.hook("A"))
    b = WebRTCPeerConnection(trace=recorder.hook("B"))
    recorder.attach("A", a)          # its three Godot states and its channels' states
    recorder.attach("B", b)
    ...  # call recorder.sample() after each round of poll() to catch every state change
    recorder.write("first.html")     # or .svg; recorder.ladder() for the model

States are sampled (Godot has no state-change signals): at each trace event of the peer and at
each `sample()`. A change is stamped with the peer's clock at the sample that saw it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..data_channel import WebRTCDataChannel
from ..net import monotonic_clock
from ..peer_connection import WebRTCPeerConnection
from ..trace import TraceEvent, state_json
from .model import Ladder, Observation, StateChange, build_ladder

__all__ = ["MAX_EVENTS", "Recorder", "load_trace_json", "parse_trace_records"]

MAX_EVENTS = 200_000  # observations and state changes kept by a Recorder or read from a file
MAX_LINE = 1 << 16  # characters of one JSON line
Clock = Callable[[], float]


@dataclass(slots=True)
class _Watched:
    peer: str
    pc: WebRTCPeerConnection
    clock: Clock
    last: dict[str, str] = field(default_factory=dict)
    channels: list[WebRTCDataChannel] = field(default_factory=list)


class Recorder:
    """Collects trace events and state changes of named peers; renders them as a ladder."""

    def __init__(self, *, max_events: int = MAX_EVENTS) -> None:
        self.observations: list[Observation] = []
        self.states: list[StateChange] = []
        self.max_events = max_events
        self.dropped = 0  # events past `max_events`
        self._watched: dict[str, _Watched] = {}
        self._json: IO[str] | None = None
        self._peers: list[str] = []

    def hook(self, peer: str) -> Callable[[TraceEvent], None]:
        """The `trace=` callback for the peer named `peer`."""
        if peer not in self._peers:
            self._peers.append(peer)

        def on_event(ev: TraceEvent) -> None:
            w = self._watched.get(peer)
            if w is not None:
                self._sample(w, ev.time)
            self.add(peer, ev)

        return on_event

    def add(self, peer: str, ev: TraceEvent, *, captured: bool = False) -> None:
        """Record one event (bounded by `max_events`)."""
        if len(self.observations) + len(self.states) >= self.max_events:
            self.dropped += 1
            return
        self.observations.append(Observation(peer, ev, captured))
        if self._json is not None:
            self._json.write(ev.to_json(peer) + "\n")

    def attach(self, peer: str, pc: WebRTCPeerConnection, clock: Clock | None = None) -> None:
        """Watch `pc`'s states (and its received channels') under the name `peer`.

        `clock` stamps the changes seen by `sample()`; give the one `pc` was built with.
        """
        w = _Watched(peer, pc, clock or monotonic_clock)
        self._watched[peer] = w

        def on_channel(ch: WebRTCDataChannel) -> None:
            self.watch_channel(peer, ch)

        pc.data_channel_received.connect(on_channel)
        self._sample(w, w.clock())

    def watch_channel(self, peer: str, channel: WebRTCDataChannel) -> None:
        """Also follow `channel`'s ready state (a channel made with `create_data_channel`)."""
        w = self._watched.get(peer)
        if w is not None and channel not in w.channels:
            w.channels.append(channel)
            self._sample(w, w.clock())

    def state(self, peer: str, machine: str, value: str, time: float) -> None:
        """Record a state change by hand."""
        if len(self.observations) + len(self.states) >= self.max_events:
            self.dropped += 1
            return
        self.states.append(StateChange(peer, time, machine, value))
        if self._json is not None:
            self._json.write(state_json(peer, machine, value, time) + "\n")

    def sample(self) -> None:
        """Look at every watched peer's states now; record what changed."""
        for w in self._watched.values():
            self._sample(w, w.clock())

    def _sample(self, w: _Watched, now: float) -> None:
        pc = w.pc
        current = [
            ("connection", pc.get_connection_state().name),
            ("gathering", pc.get_gathering_state().name),
            ("signaling", pc.get_signaling_state().name),
        ]
        for ch in w.channels:
            current.append((f"channel {ch.get_label()}", ch.get_ready_state().name))
        for machine, value in current:
            if w.last.get(machine) != value:
                w.last[machine] = value
                self.state(w.peer, machine, value, now)

    def clear(self) -> None:
        """Forget what was recorded so far (the diagram starts here); states are kept as known."""
        self.observations.clear()
        self.states.clear()
        self.dropped = 0

    def tee_json(self, out: IO[str] | None) -> None:
        """Also write every record, as `--trace-json` does, to `out` (None: stop)."""
        self._json = out

    def ladder(self, **options: Any) -> Ladder:
        """The diagram of what was recorded (options: see `build_ladder`)."""
        options.setdefault("peers", self._peers)
        options.setdefault("skipped", self.dropped)
        return build_ladder(self.observations, self.states, **options)

    def write(self, path: str | Path, **options: Any) -> None:
        """Render to `path`: HTML when it ends in .html/.htm, else SVG."""
        from .html import write_file

        write_file(self.ladder(**options), path)


def _address(text: object) -> tuple[str, int] | None:
    if not isinstance(text, str):
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return None
    return host.strip("[]"), int(port)


def parse_trace_records(
    lines: Iterable[str], *, max_events: int = MAX_EVENTS
) -> tuple[list[Observation], list[StateChange], int]:
    """Observations, state changes and the count of unusable lines in `--trace-json` output.

    Total: a malformed line (bad JSON, wrong types, over `MAX_LINE`) is counted and skipped.
    """
    obs: list[Observation] = []
    states: list[StateChange] = []
    bad = 0
    for line in lines:
        if len(obs) + len(states) >= max_events:
            bad += 1
            continue
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            bad += 1
            continue
        try:
            rec = json.loads(line)
            item = _record(rec)
        except (ValueError, TypeError, KeyError, RecursionError):
            bad += 1
            continue
        if isinstance(item, StateChange):
            states.append(item)
        else:
            obs.append(item)
    return obs, states, bad


def _record(rec: Any) -> Observation | StateChange:
    if not isinstance(rec, dict):
        raise TypeError("not an object")
    time = float(rec["time"])
    if time != time or abs(time) == float("inf"):
        raise ValueError("time is not finite")
    peer, layer, kind = str(rec["peer"]), str(rec["layer"]), str(rec["kind"])
    fields = rec.get("fields", {})
    if not isinstance(fields, dict):
        raise TypeError("fields is not an object")
    if layer == "STATE":
        return StateChange(peer, time, kind, str(fields.get("state", rec.get("summary", ""))))
    direction = str(rec["direction"])
    if direction not in ("in", "out"):
        raise ValueError("direction")
    size = int(rec.get("size", 0))
    number = rec.get("datagram")
    if isinstance(number, int) and not isinstance(number, bool):
        fields = {**fields, "datagram": number}  # webrtc.testing.Recorder: exact matching
    ev = TraceEvent(
        time,
        direction,
        layer,
        kind,
        str(rec.get("summary", "")),
        size,
        fields,
        _address(rec.get("local")),
        _address(rec.get("remote")),
    )
    return Observation(peer, ev, bool(rec.get("captured", False)))


def _bounded_lines(fh: IO[str]) -> Iterator[str]:
    """The lines of `fh`, a line longer than `MAX_LINE` given cut (and so rejected) without
    reading all of it into memory."""
    while True:
        line = fh.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE and not line.endswith("\n"):
            while True:  # skip the rest of the over-long line
                rest = fh.readline(MAX_LINE)
                if not rest or rest.endswith("\n"):
                    break
        yield line


def load_trace_json(path: str | Path, **options: Any) -> Ladder:
    """The ladder of a `--trace-json` file (JSON lines; state records of layer "STATE")."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        obs, states, bad = parse_trace_records(_bounded_lines(fh))
    options.setdefault("title", Path(path).name)
    return build_ladder(obs, states, skipped=bad, **options)
