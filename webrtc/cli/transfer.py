"""`python -m webrtc send FILE` / `python -m webrtc receive`: one file over a reliable channel.

Either side may create the lobby (omit `--lobby`; the name is printed) and the other joins it.
On the ordered, reliable channel "file" the sender writes a text header
`{"type": "file", "name": ..., "size": ...}`, the content as binary messages, then a text
trailer `{"type": "end", "sha256": hex}`. The receiver hashes what it wrote, answers
`{"type": "result", "ok": bool, "sha256": hex}` and keeps the file only when the digests match.
Both sides exit non-zero on a mismatch or any failure. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .. import aio
from ..aio import Driver
from ..data_channel import WebRTCDataChannel
from ..states import WriteMode
from .common import Parser, add_session_arguments, run, session_options, status_printer
from .session import CliError, PeerLeft, PeerReady, Session, SignalingClosed

SEND_PROG = "python -m webrtc send"
RECEIVE_PROG = "python -m webrtc receive"
LABEL = "file"
DEFAULT_CHUNK = 16384  # a size every WebRTC peer accepts (RFC 8831 §6.6)
MAX_CHUNK = 65536
HIGH_WATER = 1 << 20
MAX_CONTROL_MESSAGE = 4096


class TransferError(CliError):
    """The transfer protocol was not followed or the data did not arrive intact."""


# -- protocol messages ------------------------------------------------------------------------


def header_message(name: str, size: int) -> bytes:
    return json.dumps({"type": "file", "name": name, "size": size}).encode()


def trailer_message(sha256: str) -> bytes:
    return json.dumps({"type": "end", "sha256": sha256}).encode()


def result_message(ok: bool, sha256: str) -> bytes:
    return json.dumps({"type": "result", "ok": ok, "sha256": sha256}).encode()


def parse_control(data: bytes, expected: str) -> dict[str, Any]:
    """Decode a text control message of type `expected`; `TransferError` otherwise."""
    if len(data) > MAX_CONTROL_MESSAGE:
        raise TransferError(f"expected a {expected!r} message, got {len(data)} bytes")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TransferError(f"expected a {expected!r} message, got undecodable data") from None
    if not isinstance(obj, dict) or obj.get("type") != expected:
        raise TransferError(f"expected a {expected!r} message, got {obj!r:.80}")
    return obj


def safe_file_name(name: object) -> str:
    """The last path component of the sender's name, never empty, '.', '..' or hidden."""
    base = os.path.basename(str(name).replace("\\", "/")) if isinstance(name, str) else ""
    base = base.strip().lstrip(".")
    return base or "received.bin"


@dataclass
class Receiver:
    """Receiver state: feed messages in order with `feed`; `done` once the trailer arrived."""

    output: Path | None
    force: bool = False
    name: str = ""
    size: int = -1
    received: int = 0
    ok: bool | None = None
    digest: str = ""
    _file: Any = None
    _part: Path | None = None

    def __post_init__(self) -> None:
        self._hash = hashlib.sha256()

    @property
    def done(self) -> bool:
        return self.ok is not None

    def target(self) -> Path:
        if self.output is None:
            return Path(self.name)
        if self.output.is_dir():
            return self.output / self.name
        return self.output

    def feed(self, data: bytes, is_text: bool) -> None:
        """One message from the channel; `TransferError` on a protocol violation."""
        if self.size < 0:
            if not is_text:
                raise TransferError("the sender did not start with a header")
            header = parse_control(data, "file")
            size = header.get("size")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise TransferError(f"bad file size in header: {size!r}")
            self.name = safe_file_name(header.get("name"))
            self.size = size
            target = self.target()
            if target.exists() and not self.force:
                raise TransferError(f"{target} exists (use --force to overwrite)")
            self._part = target.with_name(target.name + ".part")
            self._file = open(self._part, "wb")  # noqa: SIM115 - closed in finish()/abort()
            return
        if not is_text:
            if self.received + len(data) > self.size:
                raise TransferError(f"the sender sent more than the announced {self.size} bytes")
            self._file.write(data)
            self._hash.update(data)
            self.received += len(data)
            return
        trailer = parse_control(data, "end")
        self.digest = self._hash.hexdigest()
        expected = trailer.get("sha256")
        self.ok = self.received == self.size and expected == self.digest
        self._finish()

    def _finish(self) -> None:
        assert self._part is not None
        self._file.close()
        self._file = None
        if self.ok:
            os.replace(self._part, self.target())
        else:
            self._part.unlink(missing_ok=True)

    def abort(self) -> None:
        """Drop the partial file (on any failure before the trailer)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._part is not None and self.ok is None:
            self._part.unlink(missing_ok=True)


class Progress:
    """A progress line on stderr: rewritten in place on a terminal, else one line per 10 %."""

    def __init__(self, verb: str, total: int, stream: TextIO | None = None) -> None:
        self.verb = verb
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.monotonic()
        self._last_step = -1
        self._last_draw = 0.0
        self._finished = False

    def update(self, done: int, *, final: bool = False) -> None:
        if self._finished:
            return
        self._finished = final
        pct = 100 if self.total == 0 else min(100, done * 100 // self.total)
        now = time.monotonic()
        rate = done / max(now - self.start, 1e-6) / 1048576
        line = (
            f"{self.verb} {done / 1048576:.1f}/{self.total / 1048576:.1f} MiB "
            f"({pct}%) {rate:.1f} MiB/s"
        )
        if self.tty:
            if final or now - self._last_draw >= 0.1:
                self._last_draw = now
                end = "\n" if final else ""
                print(f"\r{line}\x1b[K", end=end, file=self.stream, flush=True)
        elif pct // 10 != self._last_step:
            self._last_step = pct // 10
            print(line, file=self.stream, flush=True)


# -- the two sides ----------------------------------------------------------------------------


async def _wait_for_peer(session: Session, status: Callable[[str], None]) -> PeerReady:
    while True:
        event = await session.next_event()
        if isinstance(event, PeerReady):
            status(f"connected to peer {event.peer_id}")
            return event
        if isinstance(event, PeerLeft):
            raise CliError(f"peer {event.peer_id} did not connect: {event.reason}")
        if isinstance(event, SignalingClosed):
            raise CliError(f"signaling server closed the connection: {event.reason}")


def _announce(session: Session, status: Callable[[str], None], other: str) -> None:
    status(f"joined lobby {session.lobby} as peer {session.peer_id}")
    if session.peer_id == 1:
        status(f"run `{other} --lobby {session.lobby}` on the other side")


async def _next_message(
    channel: WebRTCDataChannel, driver: Driver, what: str, timeout: float | None
) -> tuple[bytes, bool]:
    try:
        await driver.wait_until(
            lambda: (
                channel.get_available_packet_count() > 0
                or channel.get_ready_state() is channel.STATE_CLOSED
            ),
            timeout,
        )
    except TimeoutError:
        raise CliError(f"timed out waiting for {what}") from None
    if channel.get_available_packet_count() == 0:
        raise CliError(f"the peer closed the channel before {what}")
    data = channel.get_packet()
    return data, channel.was_string_packet()


async def _send(args: argparse.Namespace) -> int:
    status = status_printer()
    path = Path(args.file)
    try:
        size = path.stat().st_size
        source = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    with source:
        async with Driver() as driver, Session(session_options(args, LABEL), driver, status) as s:
            _announce(s, status, RECEIVE_PROG)
            ready = await _wait_for_peer(s, status)
            channel = ready.channel
            channel.write_mode = WriteMode.WRITE_MODE_TEXT
            await aio.send(channel, header_message(path.name, size), driver=driver)
            channel.write_mode = WriteMode.WRITE_MODE_BINARY
            digest = hashlib.sha256()
            progress = Progress("sent", size)
            sent = 0
            while chunk := source.read(args.chunk_size):
                digest.update(chunk)
                try:
                    await aio.send(channel, chunk, high_water=HIGH_WATER, driver=driver)
                except aio.ChannelClosedError:
                    raise CliError("the peer closed the channel during the transfer") from None
                sent += len(chunk)
                progress.update(sent - channel.get_buffered_amount())
            if sent != size:
                raise CliError(f"{path} changed while it was being sent")
            channel.write_mode = WriteMode.WRITE_MODE_TEXT
            hexdigest = digest.hexdigest()
            await aio.send(channel, trailer_message(hexdigest), driver=driver)
            data, _ = await _next_message(channel, driver, "the receiver's result", args.timeout)
            progress.update(sent, final=True)  # the receiver has it all
            result = parse_control(data, "result")
            if result.get("ok") is not True:
                raise TransferError(
                    f"checksum mismatch: sent sha256 {hexdigest}, "
                    f"receiver computed {result.get('sha256')}"
                )
            status(f"sent {path.name}: {size} bytes, sha256 {hexdigest} verified by the receiver")
            return 0


async def _receive(args: argparse.Namespace) -> int:
    status = status_printer()
    output = Path(args.output) if args.output else None
    folder = output if output is not None and output.is_dir() else (output or Path()).parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise CliError(f"cannot write into {folder or '.'}: not a writable directory")
    receiver = Receiver(output, force=args.force)
    try:
        async with Driver() as driver, Session(session_options(args, LABEL), driver, status) as s:
            _announce(s, status, SEND_PROG + " FILE")
            ready = await _wait_for_peer(s, status)
            channel = ready.channel
            progress: Progress | None = None
            while not receiver.done:
                what = "the file header" if progress is None else "the rest of the file"
                data, is_text = await _next_message(channel, driver, what, args.timeout)
                receiver.feed(data, is_text)
                if progress is None:
                    progress = Progress("received", receiver.size)
                    status(f"receiving {receiver.name} ({receiver.size} bytes)")
                progress.update(receiver.received, final=receiver.done)
            channel.write_mode = WriteMode.WRITE_MODE_TEXT
            await aio.send(
                channel, result_message(bool(receiver.ok), receiver.digest), driver=driver
            )
            try:
                await aio.drain(channel, driver=driver, timeout=10.0)
                # let the result reach the sender before closing (it closes on receipt)
                await driver.wait_until(
                    lambda: channel.get_ready_state() is channel.STATE_CLOSED, 5.0
                )
            except TimeoutError:
                pass
    finally:
        receiver.abort()
    if not receiver.ok:
        raise TransferError(
            f"checksum mismatch or truncated file: got {receiver.received} of {receiver.size} "
            f"bytes, sha256 {receiver.digest}; the file was discarded"
        )
    status(f"saved {receiver.target()}: {receiver.size} bytes, sha256 {receiver.digest} verified")
    return 0


# -- command lines ----------------------------------------------------------------------------


def _chunk_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_CHUNK:
        raise ValueError(text)
    return value


_chunk_size.__name__ = f"message size (1-{MAX_CHUNK})"


def _timeout_argument(parser: argparse.ArgumentParser) -> None:
    from .common import positive_float

    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=None,
        help="give up when the peer is silent for this many seconds (default: never)",
    )


def build_send_parser(prog: str = SEND_PROG) -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description="Send FILE to a `receive` peer in the lobby.")
    parser.add_argument("file", metavar="FILE", help="file to send")
    add_session_arguments(parser)
    parser.add_argument(
        "--chunk-size",
        type=_chunk_size,
        default=DEFAULT_CHUNK,
        help="bytes per message (default %(default)s)",
    )
    _timeout_argument(parser)
    return parser


def build_receive_parser(prog: str = RECEIVE_PROG) -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description="Receive one file from a `send` peer in the lobby.")
    add_session_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="where to save: a file name or an existing directory (default: sender's name)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    _timeout_argument(parser)
    return parser


def send_main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m webrtc send`; returns the exit code."""
    return run(SEND_PROG, build_send_parser(), argv, _send)


def receive_main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m webrtc receive`; returns the exit code."""
    return run(RECEIVE_PROG, build_receive_parser(), argv, _receive)


def main(argv: list[str] | None = None) -> int:
    """`python -m webrtc.cli.transfer send|receive ...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "send":
        return send_main(args[1:])
    if args and args[0] == "receive":
        return receive_main(args[1:])
    usage = "usage: python -m webrtc.cli.transfer {send,receive} ... (send --help, receive --help)"
    if args and args[0] in ("-h", "--help"):
        print(usage)
        return 0
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
