"""A `Ladder` as one self-contained HTML page: the SVG inline, a layer filter, hover details.

Nothing is fetched (a Content-Security-Policy forbids it); the script reads the hovered
element's `<title>` with `textContent` and writes it with `textContent`, so wire text never
becomes markup.
"""

from __future__ import annotations

from pathlib import Path

from .model import Ladder, Layer
from .svg import COLOURS, LAYER_NAMES, _t, render_svg

__all__ = ["render_html", "write_file"]

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'"
)

_PAGE_STYLE = """
body{margin:0;font-family:system-ui,sans-serif;background:#fafafa}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:6px 10px}
header label{margin-right:12px;white-space:nowrap}
header .swatch{display:inline-block;width:10px;height:10px;margin-right:3px}
#detail{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12px;min-height:3.6em;
 margin:4px 0 0;color:#123;max-height:9em;overflow:auto}
main{padding:8px;overflow:auto}
"""

_SCRIPT = """
(function(){
  var svg=document.querySelector('svg.ladder');
  var detail=document.getElementById('detail');
  document.querySelectorAll('input[data-layer]').forEach(function(box){
    box.addEventListener('change',function(){
      svg.classList.toggle('hide-'+box.getAttribute('data-layer'),!box.checked);
    });
  });
  function show(ev){
    var g=ev.target.closest('g.msg,g.note,g.band,g.head');
    if(!g){return;}
    var t=g.querySelector('title');
    detail.textContent=t?t.textContent:'';
  }
  svg.addEventListener('mouseover',show);
  svg.addEventListener('click',show);
})();
"""


def render_html(ladder: Ladder) -> str:
    """The page (UTF-8 text)."""
    used = {a.layer for a in ladder.arrows}
    boxes = []
    hide_rules = []
    for layer in Layer:
        hide_rules.append(f"svg.hide-{layer.value} .l-{layer.value}{{display:none}}")
        if layer not in used:
            continue
        boxes.append(
            f'<label><input type="checkbox" checked data-layer="{layer.value}">'
            f'<span class="swatch" style="background:{COLOURS[layer]}"></span>'
            f"{LAYER_NAMES[layer]}</label>"
        )
    boxes.append(
        '<label><input type="checkbox" checked data-layer="note">state changes</label>'
        '<label><input type="checkbox" checked data-layer="band">bulk bands</label>'
    )
    hide_rules.append("svg.hide-note .note{display:none}")
    hide_rules.append("svg.hide-band .band{display:none}")
    counts = (
        f"{len(ladder.arrows)} messages, {len(ladder.notes)} state changes, "
        f"{len(ladder.bands)} folded bands"
    )
    if ladder.skipped:
        counts += f", {ladder.skipped} input records skipped"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        f"<title>{_t(ladder.title)}</title>\n"
        f"<style>{_PAGE_STYLE}{''.join(hide_rules)}</style></head>\n"
        f"<body><header><div><strong>{_t(ladder.title)}</strong> ({_t(counts)}). "
        "Show: " + "".join(boxes) + "</div>\n"
        '<div id="detail">Hover over (or click) an arrow for its decoded fields.</div>'
        "</header>\n<main>\n"
        + render_svg(ladder, standalone=False)
        + f"</main>\n<script>{_SCRIPT}</script>\n</body></html>\n"
    )


def write_file(ladder: Ladder, path: str | Path) -> None:
    """Write `ladder` to `path`: HTML for .html/.htm, otherwise SVG."""
    p = Path(path)
    text = render_html(ladder) if p.suffix.lower() in (".html", ".htm") else render_svg(ladder)
    p.write_text(text, encoding="utf-8")
