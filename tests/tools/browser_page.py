"""Drive webrtc/static/index.html in headless Chromium (run inside a private network namespace).

Usage: python tests/tools/browser_page.py URL SCREENSHOT [--mdns] [--host]
Opens URL (the signaling server's page with `?lobby=NAME`, or `?lobby=` to create one: with
`--host` the script then prints `LOBBY name` for the test to start the other peer), waits for
the data channel, sends two chat lines, runs the page's echo test, saves a screenshot and prints
one JSON line with what the page observed. Exit status 0 when the script ran (the test judges
the JSON), 1 on a timeout.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.interop.chromium_peer import BASE_FLAGS, CHROMIUM

TIMEOUT = 30.0


def wait_for(page: Any, js: str, what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = page.evaluate(js)
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"{what}; page log: {page.evaluate('() => window.demo.log')}")


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    url, screenshot = argv[0], argv[1]
    args = list(BASE_FLAGS)
    if "--mdns" not in argv:
        args.append("--disable-features=WebRtcHideLocalIpsWithMdns")
    result: dict[str, Any] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1000})
            page.set_default_timeout(TIMEOUT * 1000)
            page.goto(url)
            try:
                if "--host" in argv:  # the page created the lobby: tell the test its name
                    lobby = wait_for(page, "() => window.demo.lobby", "no lobby was created")
                    print(f"LOBBY {lobby}", flush=True)
                wait_for(
                    page,
                    "() => !document.getElementById('send').disabled",
                    "the chat channel did not open",
                )
                for text in ("hello bot", "second line ✓"):
                    page.fill("#chat-input", text)
                    page.click("#send")
                wait_for(
                    page,
                    "() => window.demo.chat.filter(m => m[0] === 'peer').length >= 2",
                    "the chat lines did not come back",
                )
                page.click("#echo")
                wait_for(
                    page,
                    "() => window.demo.echo && !window.demo.echo.running",
                    "the echo test did not finish",
                )
            except TimeoutError as exc:
                result["error"] = str(exc)
            result.update(
                page.evaluate(
                    "() => ({status: demo.status, chat: demo.chat, echo: demo.echo,"
                    " lobby: demo.lobby, myId: demo.myId, log: demo.log,"
                    " echoText: document.getElementById('echo-result').textContent})"
                )
            )
            page.screenshot(path=screenshot, full_page=True)
        finally:
            browser.close()
    print(json.dumps(result))
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
