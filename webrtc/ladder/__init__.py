"""Ladder (sequence) diagrams of WebRTC connections: lifelines across, time down, one arrow
per STUN/TURN/DTLS/SCTP/DCEP message, state changes on the lifelines.

Sources: a `Recorder` on the `trace=` hook of any program, the JSON lines of
`python -m webrtc demo --trace-json`, or a pcap/pcapng capture with an NSS key log
(`load_capture`). Outputs: SVG (`render_svg`) or one self-contained HTML page (`render_html`).
Command line: `python -m webrtc demo --ladder out.html`,
`python -m webrtc ladder capture.pcapng --keylog keys.log -o out.html`.
"""

from .capture import load_capture
from .html import render_html, write_file
from .model import (
    Arrow,
    Band,
    Ladder,
    Layer,
    Note,
    Observation,
    StateChange,
    Status,
    build_ladder,
)
from .record import Recorder, load_trace_json, parse_trace_records
from .svg import render_svg

__all__ = [
    "Arrow",
    "Band",
    "Ladder",
    "Layer",
    "Note",
    "Observation",
    "Recorder",
    "StateChange",
    "Status",
    "build_ladder",
    "load_capture",
    "load_trace_json",
    "parse_trace_records",
    "render_html",
    "render_svg",
    "write_file",
]
