"""Real browsers (headless Chromium) signaling through our server, inside a private netns."""

import pytest

from tests.signaling.browser_kit import run_scenario


@pytest.mark.interop
def test_two_chromium_pages_connect_through_our_signaling_server() -> None:
    summary = run_scenario("tests.signaling.browser_scenario", "sig", timeout=180)
    assert summary["candidates_at_host"] >= 2
