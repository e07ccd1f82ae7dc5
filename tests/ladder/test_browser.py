"""The HTML page in headless Chromium (Debian's): loads from file:// with no console errors and
no request beyond the page itself, hover shows an arrow's details, the layer filter hides arrows.
The screenshot is kept as a test artifact (tests/artifacts/ladder_*.png, not committed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.ladder.helpers import ROOT, learn_module
from webrtc.conformance.peers.chromium_peer import CHROMIUM, FLAGS
from webrtc.ladder import render_html

ARTIFACTS = ROOT / "tests" / "artifacts"


def _require_chromium() -> None:
    ci = os.environ.get("CI", "").lower() == "true"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if ci:
            pytest.fail("playwright is required with CI=true")
        pytest.skip("playwright not installed")
    if not shutil.which(CHROMIUM):
        if ci:
            pytest.fail("Debian's chromium is required with CI=true")
        pytest.skip("no /usr/bin/chromium")


@pytest.mark.parametrize("scenario", ["sctp_loss", "turn"])
def test_page_in_chromium(tmp_path: Path, scenario: str) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    ladder = getattr(learn_module(), scenario)()
    page_path = tmp_path / "ladder.html"
    page_path.write_text(render_html(ladder), encoding="utf-8")
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(FLAGS))
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            assert page.locator("svg.ladder g.msg").count() == len(ladder.arrows)
            # hover: the detail panel shows the hovered arrow's title text
            for i in (0, len(ladder.arrows) // 2):
                arrow = page.locator("svg.ladder g.msg").nth(i)
                arrow.locator("text").first.dispatch_event("mouseover")
                detail = page.locator("#detail").inner_text()
                assert detail.strip() == (arrow.locator("title").text_content() or "").strip()
                assert ladder.arrows[i].label in detail
            # the layer filter hides one layer's arrows and shows them again
            hide, keep = sorted({a.layer.value for a in ladder.arrows})[:2]
            box = page.locator(f'input[data-layer="{hide}"]')
            assert page.locator(f"g.l-{hide}").first.is_visible()
            box.uncheck()
            assert not page.locator(f"g.l-{hide}").first.is_visible()
            assert page.locator(f"g.l-{keep}").first.is_visible()
            box.check()
            assert page.locator(f"g.l-{hide}").first.is_visible()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / f"ladder_{scenario}.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert errors == []
    assert requests == [page_path.as_uri()], requests  # nothing fetched: works offline
