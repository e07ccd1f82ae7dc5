"""`python -m webrtc chat`: line chat between peers of a signaling-server lobby.

Each stdin line goes to every connected peer as a text message; received text is written to
stdout, one message per line; status lines go to stderr. Lines typed before a peer connects are
sent once one does. At end of input the queued messages are flushed and the tool exits.
`--echo` turns it into a bot that sends every message back to its sender (stdin unused).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from typing import Any

from .. import aio
from ..aio import Driver
from ..data_channel import WebRTCDataChannel
from ..states import ChannelState, WriteMode
from .common import Parser, add_session_arguments, run, session_options, status_printer
from .session import CliError, PeerLeft, PeerReady, Session, SignalingClosed

PROG = "python -m webrtc chat"
LABEL = "chat"
FLUSH_TIMEOUT = 10.0


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_session_arguments(parser)
    parser.add_argument(
        "--echo",
        action="store_true",
        help="echo bot: send every received message back to its sender; ignore stdin",
    )
    return parser


def _start_stdin_reader(loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[Any]) -> None:
    """Read stdin in a daemon thread (works for ttys, pipes and files alike)."""

    def reader() -> None:
        stream = sys.stdin.buffer
        while True:
            try:
                raw = stream.readline()
            except (OSError, ValueError):
                raw = b""
            if not raw:
                loop.call_soon_threadsafe(inbox.put_nowait, ("eof", None))
                return
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            loop.call_soon_threadsafe(inbox.put_nowait, ("line", text))

    threading.Thread(target=reader, name="chat-stdin", daemon=True).start()


def _show(data: bytes, is_text: bool) -> str:
    if is_text:
        return data.decode("utf-8", errors="replace")
    return f"<{len(data)} bytes of binary data>"


async def _read_channel(
    peer_id: int, channel: WebRTCDataChannel, echo: bool, driver: Driver
) -> None:
    async for data in aio.packets(channel, driver=driver):
        is_text = channel.was_string_packet()
        print(_show(data, is_text), flush=True)
        if echo and channel.get_ready_state() is ChannelState.STATE_OPEN:
            channel.write_mode = (
                WriteMode.WRITE_MODE_TEXT if is_text else WriteMode.WRITE_MODE_BINARY
            )
            await aio.send(channel, data, driver=driver)


async def _forward(session: Session, inbox: asyncio.Queue[Any]) -> None:
    async for event in session.events():
        await inbox.put(("session", event))


async def _chat(args: argparse.Namespace) -> int:
    status = status_printer()
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    async with Driver() as driver, Session(session_options(args, LABEL), driver, status) as session:
        status(f"joined lobby {session.lobby} as peer {session.peer_id}")
        if session.peer_id == 1:
            status(f"others join with: --lobby {session.lobby}")
        channels: dict[int, WebRTCDataChannel] = {}
        readers: list[asyncio.Task[None]] = []
        pending: list[str] = []
        eof = args.echo
        signaling_open = True
        ever_connected = False
        forward = loop.create_task(_forward(session, inbox))
        if not args.echo:
            _start_stdin_reader(loop, inbox)
        try:
            while True:
                if not args.echo and eof and not pending:
                    for channel in channels.values():
                        try:
                            await aio.drain(channel, driver=driver, timeout=FLUSH_TIMEOUT)
                        except TimeoutError:
                            status("* could not flush every message before exiting")
                    return 0
                kind, value = await inbox.get()
                if kind == "line":
                    pending.append(value)
                elif kind == "eof":
                    eof = True
                elif isinstance(value, PeerReady):
                    ever_connected = True
                    channel = value.channel
                    channel.write_mode = WriteMode.WRITE_MODE_TEXT
                    channels[value.peer_id] = channel
                    status(f"* peer {value.peer_id} connected")
                    readers.append(
                        loop.create_task(_read_channel(value.peer_id, channel, args.echo, driver))
                    )
                elif isinstance(value, PeerLeft):
                    if channels.pop(value.peer_id, None) is not None:
                        status(f"* peer {value.peer_id} left: {value.reason}")
                    else:
                        status(f"* peer {value.peer_id} did not connect: {value.reason}")
                elif isinstance(value, SignalingClosed):
                    signaling_open = False
                    if not ever_connected and not channels:
                        raise CliError(f"signaling server closed the connection: {value.reason}")
                    status(f"* signaling connection closed: {value.reason}")
                if channels and pending:
                    for text in pending:
                        for channel in channels.values():
                            channel.write_mode = WriteMode.WRITE_MODE_TEXT
                            await aio.send(channel, text.encode("utf-8"), driver=driver)
                    pending.clear()
                if not signaling_open and not channels and session.peer_count() == 0:
                    if pending:
                        raise CliError("every peer left before the input could be sent")
                    return 0
        finally:
            forward.cancel()
            for task in readers:
                task.cancel()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m webrtc chat`; returns the exit code."""
    return run(PROG, build_parser(), argv, _chat)


if __name__ == "__main__":
    sys.exit(main())
