"""The report: JSON round trip, everything from the peer escaped, no network fetches, and the
HTML page opens in headless Chromium (inside a private namespace) where a failure expands to its
evidence. The screenshot is kept in tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.interop.netns import private_netns, require
from webrtc.conformance.model import Result, Verdict
from webrtc.conformance.peers.chromium_peer import FLAGS
from webrtc.conformance.report import load_json, render_html, text_ladder, to_json
from webrtc.conformance.scenarios import CATALOG

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
HOSTILE = "<script>window.__pwned = 1</script>"


def _results() -> dict[str, list[Result]]:
    trace = [
        {"time": 0.001 * i, "peer": "ours", "direction": "out" if i % 2 else "in",
         "layer": "SCTP", "kind": "DATA", "size": 100, "summary": f"DATA tsn={i} {HOSTILE}",
         "fields": {"tsn": i}, "local": None, "remote": None}
        for i in range(6)
    ]  # fmt: skip
    rows = []
    for n, s in enumerate(CATALOG[:6]):
        verdict = [Verdict.PASS, Verdict.FAIL, Verdict.NOT_APPLICABLE, Verdict.UNAVAILABLE][n % 4]
        rows.append(
            Result(
                scenario=s.id,
                peer="hostile",
                verdict=verdict,
                rfc=s.rfc,
                sentence=s.sentence,
                expected="a label 'x'",
                observed=f"label {HOSTILE} <img src=x onerror=alert(1)>",
                notes=[f"note {HOSTILE}"],
                trace=trace if verdict is Verdict.FAIL else [],
                wire=[f"   1.0ms peer -> ours 100 B {HOSTILE}"],
            )
        )
    return {"hostile": rows, "self": [Result(s.id, "self", Verdict.PASS) for s in CATALOG]}


def test_html_escapes_everything_from_the_peer_and_fetches_nothing() -> None:
    page = render_html(_results(), CATALOG)
    assert HOSTILE not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "url(" not in page and "@import" not in page
    assert page.count("<details id=") == 2  # the two failures
    assert "<svg" in page  # webrtc.ladder drew the evidence


def test_json_round_trip(tmp_path: Path) -> None:
    results = _results()
    path = tmp_path / "r.json"
    path.write_text(json.dumps(to_json(results, CATALOG)))
    scenarios, loaded = load_json(str(path))
    assert [s["id"] for s in scenarios] == [s.id for s in CATALOG]
    assert [r.verdict for r in loaded["hostile"]] == [r.verdict for r in results["hostile"]]
    assert loaded["hostile"][1].trace == results["hostile"][1].trace
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "other"}')
    with pytest.raises(ValueError):
        load_json(str(bad))


def test_text_ladder_has_one_row_per_message() -> None:
    rows = text_ladder(_results()["hostile"][1].trace).splitlines()
    assert len(rows) == 6
    assert "ours ────────▶ peer" in rows[1] and "ours ◀──────── peer" in rows[0]


BROWSER = textwrap.dedent(
    """
    import json, sys
    from playwright.sync_api import sync_playwright
    page_path, shot, FLAGS = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        urls = []
        page.on("request", lambda r: urls.append(r.url))
        page.goto("file://" + page_path)
        page.click("td.fail")
        opened = page.evaluate("document.querySelectorAll('details[open]').length")
        pwned = page.evaluate("window.__pwned === undefined ? null : window.__pwned")
        cells = page.evaluate("document.querySelectorAll('td.v').length")
        page.screenshot(path=shot, full_page=True)
        browser.close()
    print(json.dumps({"urls": urls, "opened": opened, "pwned": pwned, "cells": cells}))
    """
)


def test_report_opens_in_headless_chromium(tmp_path: Path) -> None:
    require(shutil.which("chromium") is not None or Path("/usr/bin/chromium").exists(), "chromium")
    page = tmp_path / "report.html"
    page.write_text(render_html(_results(), CATALOG), encoding="utf-8")
    script = tmp_path / "browser.py"
    script.write_text(BROWSER)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "conformance_report.png"
    with private_netns("conf") as ns:
        proc = ns.python(str(script), str(page), str(shot), json.dumps(FLAGS), timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["pwned"] is None  # nothing from the peer ran
    assert got["opened"] >= 1  # the failure expanded to its evidence
    assert got["cells"] == 2 * len(CATALOG)  # two columns (missing results show "-")
    assert all(u.startswith("file://") for u in got["urls"]), got["urls"]
    assert shot.stat().st_size > 10_000
