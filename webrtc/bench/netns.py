"""Run a command inside a private network namespace (lo + an internal veth pair).

aiortc gathers every interface of the machine, so the benchmark measures inside a namespace
where only loopback and a veth pair whose both ends stay inside exist (shared/interop recipe).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence


def available() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


def run_inside(argv: Sequence[str], env: dict[str, str]) -> int:
    """Create a namespace, run `argv` in it (inheriting stdio), delete it; returns the exit code."""
    name = f"wrtc-bench-{os.getpid()}"

    def ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)

    ip("netns", "add", name)
    try:
        ns = ("netns", "exec", name, "ip")
        ip(*ns, "link", "set", "lo", "up")
        ip(*ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
        ip(*ns, "addr", "add", "10.98.0.1/24", "dev", "va")
        ip(*ns, "addr", "add", "10.98.0.2/24", "dev", "vb")
        ip(*ns, "link", "set", "va", "up")
        ip(*ns, "link", "set", "vb", "up")
        ip(*ns, "route", "add", "default", "via", "10.98.0.2", "dev", "va")
        return subprocess.run(["ip", "netns", "exec", name, *argv], env=env).returncode
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)
