"""Command line: `python -m webrtc demo` (more subcommands later)."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webrtc", description=__doc__)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="two peers over loopback UDP: states, messages, throughput")
    demo.add_argument("--megabytes", type=float, default=8.0, help="bulk transfer size (MiB)")
    demo.add_argument("--chunk", type=int, default=16384, help="message size in bytes")
    demo.add_argument("--timeout", type=float, default=60.0, help="give up after this many s")
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * args.verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(name)s: %(message)s")
    if args.command == "demo":
        from .demo import run

        return run(megabytes=args.megabytes, chunk=args.chunk, timeout=args.timeout)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
