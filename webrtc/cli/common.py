"""Shared pieces of the command-line tools: options, error reporting, status lines."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TextIO

from .session import DEFAULT_CONNECT_TIMEOUT, DEFAULT_SERVER, CliError, SessionOptions


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so `main()` returns an exit code."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise ValueError(text)
    return value


positive_float.__name__ = "positive number"


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        default=DEFAULT_SERVER,
        help="signaling server URL (Godot demo protocol; default %(default)s)",
    )
    parser.add_argument(
        "--lobby",
        default="",
        help="lobby to join; without it a new lobby is created and its name printed",
    )
    parser.add_argument(
        "--ice-server",
        action="append",
        default=[],
        metavar="URL",
        help="STUN/TURN server URL, e.g. stun:stun.example.org:3478 (repeatable)",
    )
    parser.add_argument(
        "--loopback-only",
        action="store_true",
        help="gather ICE candidates on 127.0.0.1 only",
    )
    parser.add_argument(
        "--connect-timeout",
        type=positive_float,
        default=DEFAULT_CONNECT_TIMEOUT,
        help="seconds a peer has to connect (default %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")


def session_options(
    args: argparse.Namespace, label: str, channel_options: dict[str, Any] | None = None
) -> SessionOptions:
    return SessionOptions(
        server=args.server,
        lobby=args.lobby,
        label=label,
        channel_options=dict(channel_options or {}),
        ice_servers=tuple(args.ice_server),
        loopback_only=args.loopback_only,
        connect_timeout=args.connect_timeout,
    )


def status_printer(stream: TextIO | None = None) -> Callable[[str], None]:
    """One status line on stderr (flushed, so a parent process sees it at once)."""

    def status(line: str) -> None:
        out = stream if stream is not None else sys.stderr
        print(line, file=out, flush=True)

    return status


def run(
    prog: str,
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    body: Callable[[argparse.Namespace], Coroutine[Any, Any, int]],
) -> int:
    """Parse `argv`, run `body(args)` in a fresh event loop; every failure is one stderr line."""
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    level = logging.WARNING - 10 * int(getattr(args, "verbose", 0))
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(name)s: %(message)s")
    try:
        return asyncio.run(body(args))
    except CliError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
