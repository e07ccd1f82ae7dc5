"""`python -m webrtc conformance --peer KIND [--scenario ID ...] [--report HTML] [--json FILE]`.

Progress goes to stderr; the exit status is 0 only if every scenario passed or did not apply.
Third-party peers gather every interface of the machine, so as root the command re-runs itself
inside a private network namespace (`webrtc.bench.netns`: loopback plus a veth pair whose both
ends stay inside); without root it refuses unless `--no-netns` says the machine is isolated.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any

from ..bench import netns
from .context import RunOptions
from .model import Result, Verdict
from .peers.base import PeerAdapter, PeerUnavailable
from .report import load_json, write_html, write_json
from .runner import run_catalog
from .scenarios import CATALOG, LOBBY_DEFAULT, by_id

__all__ = ["PeerFactory", "main"]

PEER_KINDS = ("self", "aiortc", "chromium", "libdatachannel", "lobby")
ISOLATED = ("aiortc", "chromium", "libdatachannel")  # they gather every interface
_IN_NS = "WEBRTC_CONFORMANCE_IN_NETNS"


def namespace_host() -> str:
    """The first non-loopback IPv4 address (inside the namespace: the veth end), else loopback."""
    import ice

    for addr in ice.local_interface_addresses(include_loopback=False, ipv6=False):
        return addr
    return "127.0.0.1"


class PeerFactory:
    """Starts one fresh peer of a kind per call; `close()` ends what the peers shared (the
    browser of the chromium kind)."""

    def __init__(self, kind: str, args: argparse.Namespace) -> None:
        self.kind = kind
        self.args = args
        self._count = 0
        self._browser: Any = None
        self._lobby: Any = None

    def __call__(self) -> PeerAdapter:
        self._count += 1
        a = self.args
        if self.kind == "self":
            from .peers.stack import StackPeer

            return StackPeer(host=a.host, seed=a.seed * 7919 + self._count)
        if self.kind == "aiortc":
            from .peers.aiortc_peer import AiortcPeer

            return AiortcPeer(namespace_host())
        if self.kind == "chromium":
            from .peers.chromium_peer import ChromiumBrowser, ChromiumPeer

            if self._browser is None:
                self._browser = ChromiumBrowser()
            return ChromiumPeer(self._browser, namespace_host())
        if self.kind == "libdatachannel":
            from .peers.libdatachannel_peer import LibdatachannelPeer

            return LibdatachannelPeer(namespace_host(), python=a.python313)
        if self.kind == "lobby":
            from .peers.lobby import Lobby, LobbyPeer

            if self._lobby is None:
                self._lobby = Lobby(a.server, a.lobby, wait=a.lobby_timeout)
            return LobbyPeer(self._lobby, a.host)
        raise PeerUnavailable(f"the {self.kind} adapter is not built yet")

    def close(self) -> None:
        if self._lobby is not None:
            self._lobby.close()
            self._lobby = None
        if self._browser is not None:
            self._browser.close()
            self._browser = None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m webrtc conformance", description=__doc__)
    p.add_argument("--peer", choices=PEER_KINDS, default="self", help="the stack under test")
    p.add_argument("--scenario", nargs="+", default=[], metavar="ID", help="ids or 'prefix.'")
    p.add_argument("--report", metavar="HTML", help="write the HTML matrix here")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON here")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument(
        "--merge", nargs="+", metavar="JSON", help="no run: one matrix (--report) from JSON files"
    )
    p.add_argument("--quick", action="store_true", help="skip the slow scenarios")
    p.add_argument("--messages", type=int, default=100, help="per direction, exact delivery")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--host", default="127.0.0.1", help="our tester's and the proxy's address")
    p.add_argument("--no-netns", action="store_true", help="the machine is already isolated")
    p.add_argument("-v", "--verbose", action="store_true", help="our stack's warnings too")
    p.add_argument("--python313", default=None, help="libdatachannel: a Python >= 3.13")
    p.add_argument("--server", default="ws://127.0.0.1:9080", help="lobby: signaling server")
    p.add_argument("--lobby", default="", help="lobby: join this lobby (default: create one)")
    p.add_argument("--lobby-timeout", type=float, default=300.0, help="lobby: wait this long")
    return p


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(args_in)
    log = logging.getLogger("webrtc")
    level = log.level
    if not args.verbose:  # the stimuli make our tester log failures it is meant to see
        log.setLevel(logging.ERROR)
    try:
        return _run(args, args_in)
    finally:
        log.setLevel(level)


def _run(args: argparse.Namespace, args_in: list[str]) -> int:
    if args.list:
        for s in CATALOG:
            print(f"{s.id:40} {s.rfc:16} {s.expects}")
        return 0
    if args.merge:
        return merge(args.merge, args.report)
    if args.peer in ISOLATED and not args.no_netns and os.environ.get(_IN_NS) != "1":
        if not netns.available():
            print(
                f"{args.peer} gathers every interface: run as root (a private network namespace "
                "is created) or pass --no-netns on an isolated machine",
                file=sys.stderr,
            )
            return 2
        env = dict(os.environ, **{_IN_NS: "1"})
        return netns.run_inside(
            [sys.executable, "-m", "webrtc", "conformance", *_absolute(args_in)], env
        )
    default = by_id(LOBBY_DEFAULT) if args.peer == "lobby" else list(CATALOG)
    scenarios = by_id(args.scenario) if args.scenario else default
    if args.quick:
        scenarios = [s for s in scenarios if not s.slow]
    if not scenarios:
        print(f"no scenario matches {args.scenario}", file=sys.stderr)
        return 2
    options = RunOptions(messages=args.messages, seed=args.seed, host=args.host)
    factory = PeerFactory(args.peer, args)
    try:
        results = run_catalog(scenarios, args.peer, factory, options)
    finally:
        factory.close()
    if args.json:
        write_json(results, args.json, scenarios)
    if args.report:
        write_html({args.peer: results}, args.report, scenarios)
    print(json.dumps(summary(results)), file=sys.stderr)
    return 0 if all(r.verdict in (Verdict.PASS, Verdict.NOT_APPLICABLE) for r in results) else 1


def merge(paths: list[str], report: str | None) -> int:
    """One HTML matrix (and a Markdown table on stdout) from several `--json` files."""
    merged: dict[str, list[Result]] = {}
    scenarios: list[dict[str, str]] = []
    for path in paths:
        described, results = load_json(path)
        for d in described:
            if all(d["id"] != s["id"] for s in scenarios):
                scenarios.append(d)
        merged.update(results)
    if report:
        write_html(merged, report, scenarios)
    peers = list(merged)
    print("| scenario | RFC | " + " | ".join(peers) + " |")
    print("|---|---|" + "---|" * len(peers))
    index = {(r.scenario, p): r.verdict.value for p, rs in merged.items() for r in rs}
    for s in scenarios:
        cells = " | ".join(index.get((s["id"], p), "-") for p in peers)
        print(f"| `{s['id']}` | {s['rfc']} | {cells} |")
    return 0


def summary(results: list[Result]) -> dict[str, int]:
    out = {v.value: 0 for v in Verdict}
    for r in results:
        out[r.verdict.value] += 1
    return out


def _absolute(argv: list[str]) -> list[str]:
    """Output paths made absolute (the namespace run may not share the working directory)."""
    out, expect_path = [], False
    for a in argv:
        out.append(os.path.abspath(a) if expect_path else a)
        expect_path = a in ("--report", "--json")
    return out
