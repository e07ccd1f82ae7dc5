"""Chromium as a Godot web export (MULTIPLAYER.md §3 channels) against our WebRTCMultiplayerPeer."""

import pytest

from tests.signaling.browser_kit import run_scenario


@pytest.mark.interop
def test_browser_plays_godot_against_our_server_and_client() -> None:
    rounds = run_scenario("tests.multiplayer.browser_scenario", "mp", timeout=240)["rounds"]
    assert [r["python_is_server"] for r in rounds] == [True, False]
    assert rounds[0]["our_id"] == 1 and rounds[0]["browser_id"] >= 2
    assert rounds[1]["browser_id"] == 1 and rounds[1]["our_id"] >= 2
    for r in rounds:
        # the browser built Godot's channels: ids 1-4, only "ordered" taken from the dictionary
        # (it ignores Godot's misspelled maxPacketLifetime, as a Godot web export does)
        info = [entry[2:] for entry in r["channel_info"]]
        assert info == [
            [1, True, None, True],
            [2, True, None, True],
            [3, False, None, True],
            [4, False, None, True],
        ]
        assert r["ours_received"] == 4 * 3  # three packets on each of the four channels
        assert r["browser_received"] >= 4
