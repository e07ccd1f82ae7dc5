"""A `Ladder` as SVG: lifelines across, time down, one arrow per message.

Each drawn element is a `<g>` with classes a test or a stylesheet can select: `msg` plus
`l-<layer>` (and `lost`, `rexmit`, `seen`) for arrows, `note n-<machine>` for state changes,
`band` for folded bulk traffic. Every arrow and note has a `<title>` (the hover text). Text from
the wire is escaped for XML and stripped of characters XML cannot hold; the output is the same
bytes for the same ladder.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from .model import Arrow, Band, Ladder, Layer, Note, Status, clip_text

__all__ = ["COLOURS", "clean", "render_svg"]

COLOURS = {
    Layer.STUN: "#1f77b4",
    Layer.TURN: "#17a2b8",
    Layer.DTLS: "#8e44ad",
    Layer.SCTP: "#2e8b57",
    Layer.DCEP: "#e67e22",
    Layer.APP: "#a0522d",
    Layer.OTHER: "#7f7f7f",
}
LAYER_NAMES = {
    Layer.STUN: "STUN",
    Layer.TURN: "TURN",
    Layer.DTLS: "DTLS",
    Layer.SCTP: "SCTP",
    Layer.DCEP: "DCEP",
    Layer.APP: "application",
    Layer.OTHER: "other",
}
LEFT = 96  # time column
COL = 330  # between lifelines
MARGIN = 150  # left of the first and right of the last lifeline
TOP = 96  # legend and lifeline heads
ROW = 17
_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

STYLE = """
text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px;fill:#222}
.lifeline{stroke:#999;stroke-width:1.5}
.head rect{fill:#f4f4f4;stroke:#666}
.head text{font-weight:bold;font-size:13px}
.time{fill:#888;font-size:10px}
.msg line{stroke-width:1.6}
.msg.rexmit line{stroke-dasharray:6 3}
.msg.lost line,.msg.inflight line{stroke-dasharray:2 2}
.msg .x{fill:#d00;font-size:14px;font-weight:bold}
.msg:hover line{stroke-width:3}
.note rect{fill:#fffbe6;stroke:#c9a400}
.note text{font-size:10px}
.band rect{fill:#eef2f7;stroke:#8aa;stroke-dasharray:4 2}
.band text{font-size:11px;fill:#345}
"""


def clean(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (they become U+FFFD)."""
    return _INVALID.sub("\ufffd", text)


def _t(text: str) -> str:
    """Escaped element text."""
    return escape(clean(text))


def _a(text: str) -> str:
    """Escaped attribute value (for double quotes)."""
    return escape(clean(text), {'"': "&quot;", "'": "&#39;"})


def _ms(t: float, t0: float) -> str:
    return f"{(t - t0) * 1000:.1f} ms"


class _Layout:
    """Rows (y) for every point in time order."""

    def __init__(self, ladder: Ladder) -> None:
        points: list[tuple[float, int, int, int]] = []  # time, item, part, rows
        for i, item in enumerate(ladder.items):
            if isinstance(item, Arrow):
                if item.sent is not None:
                    points.append((item.sent, i, 0, 1))
                if item.received is not None and item.received != item.sent:
                    points.append((item.received, i, 1, 1))
            elif isinstance(item, Note):
                points.append((item.time, i, 0, 1))
            else:
                points.append((item.start, i, 0, len(item.lines) + 1))
        points.sort()
        self.y: dict[tuple[int, int], float] = {}
        self.times: list[tuple[float, float]] = []
        row = 0
        for t, i, part, rows in points:
            y = TOP + 24 + row * ROW
            self.y[(i, part)] = y
            self.times.append((y, t))
            row += rows
        self.height = TOP + 24 + row * ROW + 30


def render_svg(ladder: Ladder, *, standalone: bool = True, details: bool = True) -> str:
    """The SVG document (`standalone`: with the XML declaration).

    `details=False` keeps hover texts to each arrow's label and fate, leaving out the decoded
    fields (ICE credentials, exact sizes of signed handshake messages) that change from run to
    run even on a virtual clock: for diagrams committed to the repository.
    """
    names = ladder.lifelines
    xs = {name: LEFT + MARGIN + i * COL for i, name in enumerate(names)}
    width = LEFT + 2 * MARGIN + max(len(names) - 1, 0) * COL
    lay = _Layout(ladder)
    height = lay.height
    out: list[str] = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" class="ladder">\n'
    )
    out.append(f"<title>{_t(ladder.title)}</title>\n")
    out.append(f"<style>{STYLE}</style>\n")
    out.append(f'<rect width="{width}" height="{height:.0f}" fill="#fff"/>\n')
    out.append(f'<text x="10" y="20" font-size="14" font-weight="bold">{_t(ladder.title)}</text>\n')
    _legend(out, ladder)
    for name in names:
        x = xs[name]
        out.append(
            f'<line class="lifeline" x1="{x}" y1="{TOP}" x2="{x}" y2="{height - 10:.0f}"/>\n'
        )
        w = max(90, 8 * len(name) + 16)
        desc = ladder.descriptions.get(name, "")
        out.append(
            f'<g class="head"><title>{_t(name + (": " + desc if desc else ""))}</title>'
            f'<rect x="{x - w / 2:.1f}" y="{TOP - 30}" width="{w}" height="26" rx="4"/>'
            f'<text x="{x}" y="{TOP - 12}" text-anchor="middle">{_t(name)}</text></g>\n'
        )
    last = ""
    for y, t in lay.times:
        label = _ms(t, ladder.t0)
        if label != last:
            out.append(f'<text class="time" x="8" y="{y + 4:.0f}">{label}</text>\n')
            last = label
    for i, item in enumerate(ladder.items):
        if isinstance(item, Arrow):
            _arrow(out, item, i, xs, lay, details)
        elif isinstance(item, Note):
            _note(out, item, lay.y[(i, 0)], xs)
        else:
            _band(out, item, lay.y[(i, 0)], xs, width)
    out.append("</svg>\n")
    return "".join(out)


def _legend(out: list[str], ladder: Ladder) -> None:
    x = 10
    used = {a.layer for a in ladder.arrows}
    out.append('<g class="legend">')
    for layer, colour in COLOURS.items():
        if layer not in used and layer is not Layer.OTHER:
            continue
        if layer is Layer.OTHER and layer not in used:
            continue
        name = LAYER_NAMES[layer]
        out.append(
            f'<rect x="{x}" y="32" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="42">{name}</text>'
        )
        x += 24 + 8 * len(name)
    out.append(
        f'<text x="{x + 10}" y="42" fill="#555">✕ lost   ↻ retransmitted   time runs down</text>'
    )
    out.append("</g>\n")


def _arrow(
    out: list[str], a: Arrow, i: int, xs: dict[str, int], lay: _Layout, details: bool
) -> None:
    colour = COLOURS[a.layer]
    x1, x2 = xs.get(a.src, 0), xs.get(a.dst, 0)
    ys = lay.y.get((i, 0))
    yr = lay.y.get((i, 1), ys)
    if ys is None:  # received only (an untraced sender): starts one row above
        yr = lay.y[(i, 1)] if (i, 1) in lay.y else lay.y.get((i, 0), 0.0)
        ys = yr - ROW * 0.6
    assert yr is not None
    classes = ["msg", f"l-{a.layer.value}"]
    if a.status in (Status.LOST, Status.IN_FLIGHT):
        classes.append("lost" if a.status is Status.LOST else "inflight")
        x2 = int(x1 + (x2 - x1) * 0.55)
        yr = ys + ROW * 0.5
    elif a.status is Status.SEEN:
        classes.append("seen")
    if a.retransmission:
        classes.append("rexmit")
    label = ("↻ " if a.retransmission else "") + a.label
    fate = a.status.value + (", retransmission" if a.retransmission else "")
    title = f"{a.src} → {a.dst}: {label} ({fate})"
    if details:
        title += "\n" + a.detail
    out.append(
        f'<g class="{" ".join(classes)}" data-src="{_a(a.src)}" data-dst="{_a(a.dst)}">'
        f"<title>{_t(title)}</title>"
        f'<line x1="{x1}" y1="{ys:.1f}" x2="{x2}" y2="{yr:.1f}" stroke="{colour}"/>'
    )
    if a.status is Status.LOST:
        out.append(f'<text class="x" x="{x2}" y="{yr + 5:.1f}" text-anchor="middle">✕</text>')
    elif a.status is Status.IN_FLIGHT:
        out.append(f'<text x="{x2}" y="{yr + 4:.1f}" text-anchor="middle">…</text>')
    else:
        out.append(_head(x1, ys, x2, yr, colour))
    # the label sits on the send row, next to the sender, reading towards the receiver
    if (i, 0) in lay.y or (i, 1) not in lay.y:
        lx, ly, rightwards = x1, ys, x2 >= x1
    else:  # received only: next to the receiver
        lx, ly, rightwards = x2, yr, x1 >= x2
    lx += 10 if rightwards else -10
    anchor = "start" if rightwards else "end"
    out.append(
        f'<text x="{lx:.1f}" y="{ly - 3:.1f}" text-anchor="{anchor}" fill="{colour}">'
        f"{_t(label)}</text>"
    )
    out.append("</g>\n")


def _head(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    dx, dy = x2 - x1, y2 - y1
    n = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / n, dy / n
    bx, by = x2 - 8 * ux, y2 - 8 * uy
    px, py = -uy * 4, ux * 4
    return (
        f'<polygon points="{x2:.1f},{y2:.1f} {bx + px:.1f},{by + py:.1f} '
        f'{bx - px:.1f},{by - py:.1f}" fill="{colour}"/>'
    )


def _note(out: list[str], n: Note, y: float, xs: dict[str, int]) -> None:
    x = xs.get(n.lifeline, 0)
    value = n.value.removeprefix("STATE_").removeprefix("GATHERING_STATE_")
    value = value.removeprefix("SIGNALING_STATE_")
    text = clip_text(f"{n.machine}: {value}", 64)  # a channel label may be 64 KiB long
    w = 7 * len(text) + 12
    machine = re.sub("[^a-z]", "", n.machine.split(" ")[0].lower()) or "state"
    out.append(
        f'<g class="note n-{machine}"><title>{_t(n.machine + " state -> " + n.value)}</title>'
        f'<rect x="{x - w / 2:.1f}" y="{y - 9:.1f}" width="{w}" height="15" rx="7"/>'
        f'<text x="{x}" y="{y + 2:.1f}" text-anchor="middle">{_t(text)}</text></g>\n'
    )


def _band(out: list[str], b: Band, y: float, xs: dict[str, int], width: int) -> None:
    lines = [x for x in (xs.get(n) for n in b.lifelines) if x is not None]
    left = min(lines, default=LEFT) - 60
    right = max(lines, default=width - 10) + 60
    h = ROW * (len(b.lines) + 1) - 4
    out.append(
        f'<g class="band" data-messages="{b.messages}"><title>{_t(chr(10).join(b.lines))}</title>'
        f'<rect x="{left}" y="{y - 10:.1f}" width="{right - left}" height="{h}" rx="3"/>'
        f'<text x="{left + 8}" y="{y + 3:.1f}">bulk, folded: {b.messages} messages over '
        f"{(b.end - b.start) * 1000:.1f} ms</text>"
    )
    for k, line in enumerate(b.lines):
        out.append(f'<text x="{left + 8}" y="{y + 3 + ROW * (k + 1):.1f}">{_t(line)}</text>')
    out.append("</g>\n")
