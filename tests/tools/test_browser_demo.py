"""The browser demo page (webrtc/static/index.html) in headless Chromium against the echo bot.

Everything runs inside a private network namespace (Chromium gathers every interface): the
signaling server serving the page with `--static`, `chat --echo` in the lobby, and Chromium
driven by Playwright (tests/tools/browser_page.py). Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import Any

import pytest

from tests.interop.netns import NetNs, private_netns, require

from .procs import ROOT, Proc, lobby_of, signaling_server, webrtc_cli

STATIC = os.path.join(ROOT, "webrtc", "static")
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
PAGE_SCRIPT = os.path.join(ROOT, "tests", "tools", "browser_page.py")
CHAT = ["hello bot", "second line ✓"]

pytestmark = pytest.mark.interop


def _require_browser() -> None:
    require(os.path.exists("/usr/bin/chromium"), "Chromium is not installed")
    require(shutil.which("ip") is not None, "iproute2 is not installed")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "playwright is not installed")


def _page(ns: NetNs, url: str, screenshot: str, *flags: str) -> Proc:
    return Proc([sys.executable, PAGE_SCRIPT, url, screenshot, *flags], prefix=ns.command([]))


def _result(page: Proc, bot: Proc) -> dict[str, Any]:
    assert page.wait(120) == 0, page.dump() + "\nbot:\n" + bot.dump()
    lines = [line for line in page.out if line.startswith("{")]
    assert lines, page.dump()
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _check(result: dict[str, Any], bot: Proc, lobby: str) -> None:
    assert result["lobby"] == lobby
    assert result["status"].startswith("connected to peer")
    chat = [tuple(m) for m in result["chat"] if m[0] != "sys"]
    assert [text for who, text in chat if who == "me"] == CHAT
    assert [text for who, text in chat if who == "peer"] == CHAT  # echoed back, in order
    assert result["echo"] == {"total": 16, "ok": 16, "bad": 0, "running": False}
    assert "16/16 messages came back intact" in result["echoText"]
    bot.wait_line(r"^second line ✓$", stream="out", timeout=10)


@pytest.mark.parametrize("mdns", [False, True], ids=["raw-ip", "mdns"])
def test_page_joins_bot_lobby_chats_and_echoes(mdns: bool) -> None:
    """The bot hosts (id 1); the page joins with ?lobby= and, having the higher id, offers."""
    _require_browser()
    os.makedirs(ARTIFACTS, exist_ok=True)
    screenshot = os.path.join(ARTIFACTS, "browser_demo_mdns.png" if mdns else "browser_demo.png")
    with private_netns("wrtcui") as ns:
        server, url = signaling_server("--static", STATIC, prefix=ns.command([]))
        bot_argv = ("webrtc.cli.chat", "--server", url, "--echo")
        with server, webrtc_cli(*bot_argv, prefix=ns.command([])) as bot:
            lobby = lobby_of(bot)
            page_url = url.replace("ws://", "http://") + f"/?lobby={lobby}"
            with _page(ns, page_url, screenshot, *(["--mdns"] if mdns else [])) as page:
                result = _result(page, bot)
            assert result["myId"] > 1
            _check(result, bot, lobby)
    assert os.path.getsize(screenshot) > 0


def test_page_hosts_and_bot_offers() -> None:
    """The page creates the lobby (id 1); the bot joins and makes the offer (in-band channel
    from our stack, `ondatachannel` in Chromium), with Chromium's default mDNS candidates."""
    _require_browser()
    os.makedirs(ARTIFACTS, exist_ok=True)
    screenshot = os.path.join(ARTIFACTS, "browser_demo_host.png")
    with private_netns("wrtcui") as ns:
        server, url = signaling_server("--static", STATIC, prefix=ns.command([]))
        page_url = url.replace("ws://", "http://") + "/?lobby="
        with server, _page(ns, page_url, screenshot, "--mdns", "--host") as page:
            lobby = page.wait_line(r"^LOBBY (\S+)$", stream="out", timeout=60).group(1)
            bot_argv = ("webrtc.cli.chat", "--server", url, "--echo", "--lobby", lobby)
            with webrtc_cli(*bot_argv, prefix=ns.command([])) as bot:
                result = _result(page, bot)
                assert result["myId"] == 1
                _check(result, bot, lobby)
    assert os.path.getsize(screenshot) > 0
