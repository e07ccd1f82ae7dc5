"""Private network namespaces for tests with third-party peers (they gather every interface).

Recipe from shared/interop/README.md: a namespace with `lo` plus a veth pair whose both ends stay
inside it (10.99.x.1/24 and 10.99.x.2/24) and a default route, so Chromium gathers host candidates.
Nothing inside can reach any other network.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
_counter = itertools.count()


def netns_available() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


def require(condition: bool, reason: str) -> None:
    """Skip on a developer machine, fail in CI (CI=true): a missing real peer is a failure there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


@dataclass
class NetNs:
    name: str
    addresses: tuple[str, str]

    def command(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(
        self, argv: Sequence[str], timeout: float = 120, **kw: object
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            self.command(argv), capture_output=True, text=True, timeout=timeout, **kw
        )

    def popen(self, argv: Sequence[str], **kw: object) -> subprocess.Popen[str]:
        return subprocess.Popen(self.command(argv), text=True, **kw)  # type: ignore[call-overload, no-any-return]

    def python(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run `python args...` inside the namespace with the repo on PYTHONPATH."""
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        return self.run([sys.executable, *args], timeout=timeout, env=env, cwd=root)


@contextlib.contextmanager
def private_netns(prefix: str = "wrtc") -> Iterator[NetNs]:
    """Create a fresh namespace (lo + veth va/vb + default route); delete it afterwards."""
    require(netns_available(), "network namespaces need root and iproute2")
    n = next(_counter)
    name = f"{prefix}-{os.getpid()}-{n}"
    subnet = 99 + (os.getpid() + n) % 100
    a, b = f"10.{subnet}.0.1", f"10.{subnet}.0.2"
    _ip("netns", "add", name)
    try:
        ns = ["netns", "exec", name, "ip"]
        _ip(*ns, "link", "set", "lo", "up")
        _ip(*ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
        _ip(*ns, "addr", "add", f"{a}/24", "dev", "va")
        _ip(*ns, "addr", "add", f"{b}/24", "dev", "vb")
        _ip(*ns, "link", "set", "va", "up")
        _ip(*ns, "link", "set", "vb", "up")
        _ip(*ns, "route", "add", "default", "via", b, "dev", "va")
        yield NetNs(name, (a, b))
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)
