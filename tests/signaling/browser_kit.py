"""What the headless-Chromium scenarios share: our signaling server serving the page, the
browser, waiting for a condition, and running a scenario module in a private namespace."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.interop.chromium_peer import BASE_FLAGS, CHROMIUM
from tests.interop.netns import private_netns, require


def wait(
    what: str,
    check: Callable[[], bool],
    pump: Callable[[], None],
    *,
    timeout: float,
    step: float = 0.01,
) -> None:
    """Call `pump()` until `check()` holds; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pump()
        if check():
            return
        time.sleep(step)
    raise TimeoutError(f"{what} not reached within {timeout}s")


@contextmanager
def serving(page: str, module: str, *args: str) -> Iterator[tuple[str, str]]:
    """`python -m <module> <args> --port 0 --static DIR` (our signaling server) serving `page`
    as DIR/index.html; yields its (ws_url, http_url) and stops it on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="browser-scenario-"))
    (workdir / "index.html").write_text(page)
    server = subprocess.Popen(
        [sys.executable, "-m", module, *args, "--port", "0", "--static", str(workdir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        ws_url = server.stdout.readline().split()[-1]
        yield ws_url, "http://" + ws_url.removeprefix("ws://") + "/"
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


@contextmanager
def chromium(pw: Any) -> Iterator[Any]:
    """Debian's headless Chromium (host candidates shown as IPs, not mDNS names), closed on exit."""
    browser = pw.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*BASE_FLAGS, "--disable-features=WebRtcHideLocalIpsWithMdns"],
    )
    try:
        yield browser
    finally:
        browser.close()


def run_scenario(module: str, namespace: str, timeout: float) -> dict[str, Any]:
    """Run `python -m <module>` in a private network namespace; its JSON summary (the last line
    of its output), which must say ok."""
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    require(importlib.util.find_spec("playwright") is not None, "playwright not installed")
    with private_netns(namespace) as ns:
        proc = ns.python("-m", module, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    summary: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True
    return summary
