"""Command line: `python -m webrtc demo|signal|chat|multiplayer|send|receive|bench` (`--help`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable


def _delegated(command: str) -> Callable[[list[str]], int]:
    """The subcommands that own their argument parsing."""
    if command == "signal":
        from .signaling.server import main as signal_main

        return lambda rest: signal_main(rest, prog="python -m webrtc signal")
    if command == "chat":
        from .cli.chat import main as chat_main

        return chat_main
    if command == "multiplayer":
        from .cli.multiplayer import main as multiplayer_main

        return multiplayer_main
    if command == "send":
        from .cli.transfer import send_main

        return send_main
    if command == "receive":
        from .cli.transfer import receive_main

        return receive_main
    if command == "ladder":
        from .ladder.cli import main as ladder_main

        return ladder_main
    if command == "conformance":
        from .conformance.cli import main as conformance_main

        return conformance_main
    from .bench import main as bench_main

    return bench_main


DELEGATED = {
    "signal": "WebSocket signaling server (Godot demo protocol) [--host --port --static]",
    "chat": "chat with another peer through the signaling server",
    "multiplayer": "a WebRTCMultiplayerPeer in a lobby, as Godot's webrtc_signaling demo",
    "send": "send a file over a reliable channel (SHA-256 verified)",
    "receive": "receive a file sent with `send`",
    "bench": "benchmark our stack against aiortc [--quick --json]",
    "ladder": "draw a ladder diagram of a --trace-json file or a pcap/pcapng capture",
    "conformance": "RFC-cited scenarios against another stack [--peer --scenario --report]",
}


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in and args_in[0] in DELEGATED:
        return _delegated(args_in[0])(args_in[1:])
    parser = argparse.ArgumentParser(prog="python -m webrtc", description=__doc__)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="two peers over loopback UDP: states, messages, throughput")
    demo.add_argument("--megabytes", type=float, default=8.0, help="bulk transfer size (MiB)")
    demo.add_argument("--chunk", type=int, default=16384, help="message size in bytes")
    demo.add_argument("--timeout", type=float, default=60.0, help="give up after this many s")
    demo.add_argument(
        "--trace", action="store_true", help="print every protocol message as it is sent"
    )
    demo.add_argument(
        "--trace-json", metavar="FILE", help="write every message sent/received as JSON lines"
    )
    demo.add_argument(
        "--ladder", metavar="FILE", help="draw the connection: FILE.html (interactive) or .svg"
    )
    for name, text in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    args = parser.parse_args(args_in)
    level = logging.WARNING - 10 * args.verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(name)s: %(message)s")
    if args.command == "demo":
        from .demo import run

        return run(
            megabytes=args.megabytes,
            chunk=args.chunk,
            timeout=args.timeout,
            trace=args.trace,
            trace_json=args.trace_json,
            ladder=args.ladder,
        )
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
