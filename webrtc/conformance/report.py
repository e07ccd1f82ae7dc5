"""Results as JSON (for machines) and as one self-contained HTML page (for people).

The page is a matrix of scenarios x stacks (pass / fail / n/a / unavailable); a failing cell
opens its evidence: the RFC sentence, what was expected, what was observed, our trace around it
as a ladder diagram (`webrtc.ladder`'s SVG when it renders, else a text ladder) and the proxy's
view of the wire. No network fetches: CSS and JS are inline. Everything that came from a peer
(labels, SDP text, exception messages) is escaped.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .model import Result, Scenario, Verdict

__all__ = [
    "load_json",
    "render_html",
    "text_ladder",
    "to_json",
    "write_html",
    "write_json",
]

FORMAT = "webrtc-conformance/1"
LADDER_ROWS = 120


def to_json(results: Mapping[str, list[Result]], scenarios: Iterable[Scenario]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scenarios": [s.describe() for s in scenarios],
        "results": {peer: [r.to_json() for r in rs] for peer, rs in results.items()},
    }


def write_json(results: list[Result], path: str, scenarios: Iterable[Scenario]) -> None:
    peer = results[0].peer if results else "none"
    Path(path).write_text(json.dumps(to_json({peer: results}, scenarios), indent=1) + "\n")


def load_json(path: str) -> tuple[list[dict[str, str]], dict[str, list[Result]]]:
    """Scenario descriptions and results of a file `write_json` wrote."""
    doc = json.loads(Path(path).read_text())
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} document")
    results: dict[str, list[Result]] = {}
    for peer, rows in doc["results"].items():
        results[str(peer)] = [
            Result(
                scenario=str(r["scenario"]),
                peer=str(r["peer"]),
                verdict=Verdict(r["verdict"]),
                rfc=str(r.get("rfc", "")),
                sentence=str(r.get("sentence", "")),
                expected=str(r.get("expected", "")),
                observed=str(r.get("observed", "")),
                notes=[str(n) for n in r.get("notes", [])],
                duration=float(r.get("duration", 0.0)),
                trace=list(r.get("trace", [])),
                wire=[str(w) for w in r.get("wire", [])],
            )
            for r in rows
        ]
    return [dict(s) for s in doc["scenarios"]], results


# -- ladders ---------------------------------------------------------------------------------------


def text_ladder(records: list[dict[str, Any]], limit: int = LADDER_ROWS) -> str:
    """Our trace records as a plain-text ladder: `time  ours ──▶ peer  LAYER summary`."""
    lines = []
    for r in records[-limit:]:
        if r.get("layer") == "STATE":
            continue
        arrow = "ours ────────▶ peer" if r.get("direction") == "out" else "ours ◀──────── peer"
        t = r.get("time", 0.0)
        ms = f"{t * 1000:9.1f}ms" if isinstance(t, int | float) else "        ?ms"
        lines.append(f"{ms}  {arrow}  {r.get('layer', '?'):5} {r.get('summary', '')}")
    return "\n".join(lines)


def _svg_ladder(result: Result) -> str | None:
    """`webrtc.ladder`'s SVG of the evidence records, or None if it cannot render them."""
    try:
        from ..ladder import build_ladder, parse_trace_records, render_svg

        obs, states, _ = parse_trace_records(json.dumps(r) for r in result.trace)
        if not obs:
            return None
        ladder = build_ladder(obs, states, title=f"{result.scenario} ({result.peer})")
        return render_svg(ladder, standalone=False)
    except Exception:  # the text ladder is always there
        return None


# -- HTML ------------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em} table.m{border-collapse:collapse}
.m th,.m td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.m td.v{text-align:center;font-weight:600;min-width:6em}
.pass{background:#d8f5d8;color:#135c13}.fail{background:#fbd5d5;color:#8a1010;cursor:pointer}
.na{background:#eee;color:#666}.unavailable{background:#fdf0c8;color:#7a5a00}
.rfc{color:#555;white-space:nowrap} details{margin:1em 0;border:1px solid #ddd;padding:.5em}
details[open]{background:#fafafa} summary{cursor:pointer;font-weight:600}
pre{background:#fff;border:1px solid #ddd;padding:.5em;overflow:auto;max-height:30em;font-size:12px}
dt{font-weight:600;margin-top:.5em} .svg{overflow:auto;max-height:40em;border:1px solid #ddd}
"""

_JS = """
document.querySelectorAll('td.fail').forEach(function(td){
  td.addEventListener('click',function(){
    var d=document.getElementById(td.dataset.target);
    if(d){d.open=true;d.scrollIntoView();}
  });
});
"""

_CLASS = {
    Verdict.PASS: "pass",
    Verdict.FAIL: "fail",
    Verdict.NOT_APPLICABLE: "na",
    Verdict.UNAVAILABLE: "unavailable",
}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_html(
    results: Mapping[str, list[Result]],
    scenarios: Iterable[Scenario] | Iterable[Mapping[str, str]],
    title: str = "WebRTC conformance",
) -> str:
    """The self-contained page (see the module docstring)."""
    described = [s.describe() if isinstance(s, Scenario) else dict(s) for s in scenarios]
    peers = list(results)
    index = {(r.scenario, peer): r for peer, rs in results.items() for r in rs}
    out = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        "<p>Each row is an RFC-cited scenario; each column a stack under test. Click a failure "
        "for its evidence.</p>",
        "<table class='m'><tr><th>scenario</th><th>RFC</th><th>level</th>",
        *(f"<th>{_e(p)}</th>" for p in peers),
        "</tr>",
    ]
    details: list[str] = []
    for n, s in enumerate(described):
        sid = s.get("id", "")
        out.append(
            f"<tr><td title='{_e(s.get('expects', ''))}'>{_e(sid)}</td>"
            f"<td class='rfc'>{_e(s.get('rfc', ''))}</td><td>{_e(s.get('level', ''))}</td>"
        )
        for k, peer in enumerate(peers):
            r = index.get((sid, peer))
            if r is None:
                out.append("<td class='v na'>-</td>")
                continue
            cls = _CLASS[r.verdict]
            anchor = f"e{n}-{k}"
            title_text = r.observed if r.verdict is not Verdict.PASS else ""
            target = f" data-target='{anchor}'" if r.verdict is Verdict.FAIL else ""
            out.append(
                f"<td class='v {cls}' title='{_e(title_text)}'{target}>{_e(r.verdict.value)}</td>"
            )
            if r.verdict is Verdict.FAIL:
                details.append(_evidence(anchor, s, r))
        out.append("</tr>")
    out.append("</table>")
    out.append(f"<h2>Failures</h2>{''.join(details) or '<p>none</p>'}")
    out.append("<h2>Scenarios</h2><table class='m'><tr><th>scenario</th><th>RFC</th>")
    out.append("<th>the rule</th><th>a conforming peer</th><th>how it decides</th></tr>")
    for s in described:
        cells = (s.get(k, "") for k in ("id", "rfc", "sentence", "expects", "decides"))
        out.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    out.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(out)


def _evidence(anchor: str, s: Mapping[str, str], r: Result) -> str:
    parts = [
        f"<details id='{_e(anchor)}'><summary>{_e(r.scenario)} — {_e(r.peer)}: fail</summary><dl>",
        f"<dt>{_e(r.rfc or s.get('rfc', ''))}</dt>"
        f"<dd>{_e(r.sentence or s.get('sentence', ''))}</dd>",
        f"<dt>How it decides</dt><dd>{_e(s.get('decides', ''))}</dd>",
        f"<dt>Expected</dt><dd>{_e(r.expected)}</dd>",
        f"<dt>Observed</dt><dd>{_e(r.observed)}</dd>",
    ]
    if r.notes:
        parts.append(f"<dt>Notes</dt><dd><pre>{_e(chr(10).join(r.notes))}</pre></dd>")
    if r.trace:
        svg = _svg_ladder(r)
        if svg is not None:
            parts.append(f"<dt>Packet exchange (our trace)</dt><dd><div class='svg'>{svg}</div>")
            parts.append(f"<details><summary>as text</summary><pre>{_e(text_ladder(r.trace))}"
                         "</pre></details></dd>")  # fmt: skip
        else:
            ladder = _e(text_ladder(r.trace))
            parts.append(f"<dt>Packet exchange (our trace)</dt><dd><pre>{ladder}</pre></dd>")
    if r.wire:
        parts.append(f"<dt>The wire (proxy)</dt><dd><pre>{_e(chr(10).join(r.wire))}</pre></dd>")
    parts.append("</dl></details>")
    return "".join(parts)


def write_html(
    results: Mapping[str, list[Result]],
    path: str,
    scenarios: Iterable[Scenario] | Iterable[Mapping[str, str]],
) -> None:
    Path(path).write_text(render_html(results, scenarios), encoding="utf-8")
