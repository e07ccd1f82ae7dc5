"""Command line: python -m webrtc.signaling / webrtc.signaling.server.main."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from webrtc.signaling.protocol import Message, MessageType, decode_message, encode_message
from webrtc.signaling.server import main

REPO = Path(__file__).resolve().parents[2]


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"], prog="signal") == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: signal")
    for option in ("--host", "--port", "--static", "--max-peers", "--join-timeout"):
        assert option in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--port", "abc"], "argument --port: invalid port (0-65535) value: 'abc'"),
        (["--port", "70000"], "invalid port (0-65535) value: '70000'"),
        (["--max-peers", "0"], "invalid positive integer value: '0'"),
        (["--join-timeout", "nan"], "invalid positive number value: 'nan'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--static", "/nonexistent/page.html"], "static path does not exist"),
    ],
)
def test_bad_arguments_one_line_and_exit_2(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv, prog="signal") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("signal: error: ")
    assert fragment in lines[0]


def test_port_in_use_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--port", str(port)], prog="signal") == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"signal: error: cannot listen on 127.0.0.1:{port}"
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_module_entry_point_serves_and_stops(tmp_path: Path, stop_signal: int) -> None:
    page = tmp_path / "index.html"
    page.write_text("<p>demo</p>")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "webrtc.signaling", "--port", "0", "--static", str(page)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Start with SIGINT ignored, as for a background job: the server must still stop.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("signaling server listening on ws://127.0.0.1:"), line
        url = line.split()[-1]

        async def talk() -> tuple[Message, bytes]:
            async with connect(url) as ws:
                await ws.send(encode_message(Message(MessageType.JOIN, 0, "")))
                first = decode_message(await asyncio.wait_for(ws.recv(), 10))
            host, port = url.removeprefix("ws://").rsplit(":", 1)
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            body = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            return first, body

        first, http_reply = asyncio.run(talk())
        assert first == Message(MessageType.ID, 1, "true")
        assert http_reply.startswith(b"HTTP/1.1 200") and http_reply.endswith(b"<p>demo</p>")
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=30) == 0
        assert proc.stderr is not None and proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
