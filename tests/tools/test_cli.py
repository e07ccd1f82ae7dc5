"""chat / send / receive as subprocesses through a real signaling server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from webrtc import aio
from webrtc.cli import chat, transfer
from webrtc.cli.session import PeerReady, Session, SessionOptions
from webrtc.states import WriteMode

from .procs import Proc, lobby_of, signaling_server, webrtc_cli

LOOP = "--loopback-only"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    proc, url = signaling_server()
    with proc:
        yield url


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    assert chat.main(["--help"]) == 0
    assert "--lobby" in capsys.readouterr().out
    assert transfer.send_main(["--help"]) == 0
    assert "FILE" in capsys.readouterr().out
    assert transfer.receive_main(["--help"]) == 0
    assert "--output" in capsys.readouterr().out


def test_usage_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert transfer.send_main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("python -m webrtc send: error:")
    assert transfer.send_main(["x", "--chunk-size", "0"]) == 2


def test_missing_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert transfer.send_main([str(tmp_path / "nope.bin"), "--server", "ws://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read" in err[0]
    bad_output = str(tmp_path / "missing-dir" / "x.bin")
    assert transfer.receive_main(["-o", bad_output, "--server", "ws://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a writable directory" in err[0]


def test_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # port 9 (discard) on loopback: nothing listens there, the connection is refused
    assert chat.main(["--server", "ws://127.0.0.1:9", LOOP]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot connect to signaling server" in err[0]


def test_unknown_lobby_is_one_line(server: str) -> None:
    with webrtc_cli("webrtc.cli.chat", "--server", server, "--lobby", "no-such-lobby", LOOP) as p:
        assert p.wait(30) == 1
        err = [line for line in p.err if line.strip()]
        assert len(err) == 1, p.dump()
        assert "signaling server closed the connection" in err[0]
        assert "does not exist" in err[0].lower() or "lobby" in err[0].lower()


def test_chat_two_terminals(server: str) -> None:
    with webrtc_cli("webrtc.cli.chat", "--server", server, LOOP, stdin=True) as a:
        lobby = lobby_of(a)
        with webrtc_cli(
            "webrtc.cli.chat", "--server", server, "--lobby", lobby, LOOP, stdin=True
        ) as b:
            a.write("hello from A\n")
            b.write("hello from B\nsecond line, ünïcode\n")
            b.wait_line(r"^hello from A$", stream="out")
            a.wait_line(r"^hello from B$", stream="out")
            a.wait_line(r"^second line, ünïcode$", stream="out")
            a.wait_line(r"\* peer \d+ connected", stream="err")
            b.close_stdin()
            assert b.wait(30) == 0, b.dump()
            a.close_stdin()
            assert a.wait(30) == 0, a.dump()
            assert a.out == ["hello from B", "second line, ünïcode"]
            assert b.out == ["hello from A"]


def test_chat_echo_bot(server: str) -> None:
    with webrtc_cli("webrtc.cli.chat", "--server", server, "--echo", LOOP) as bot:
        lobby = lobby_of(bot)
        with webrtc_cli(
            "webrtc.cli.chat", "--server", server, "--lobby", lobby, LOOP, stdin=True
        ) as user:
            user.write("ping 1\nping 2\n")
            user.wait_line(r"^ping 2$", stream="out")
            user.close_stdin()
            assert user.wait(30) == 0, user.dump()
            assert user.out == ["ping 1", "ping 2"]
        bot.wait_line(r"peer \d+ left", stream="err")
        assert bot.popen.poll() is None  # the bot keeps serving the lobby


def _random_file(path: Path, size: int, seed: int) -> str:
    data = random.Random(seed).randbytes(size)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("receiver_hosts", [True, False], ids=["receiver-hosts", "sender-hosts"])
def test_send_receive_verifies_checksum(server: str, tmp_path: Path, receiver_hosts: bool) -> None:
    src = tmp_path / "payload.bin"
    size = 3 * 1024 * 1024 + 12345
    digest = _random_file(src, size, seed=7)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    common = ("--server", server, LOOP, "--timeout", "60")
    recv_args = ("webrtc.cli.transfer", "receive", "-o", str(out_dir), *common)
    send_args = ("webrtc.cli.transfer", "send", str(src), *common)
    first, second = (recv_args, send_args) if receiver_hosts else (send_args, recv_args)
    with webrtc_cli(*first) as host:
        lobby = lobby_of(host)
        with webrtc_cli(*second, "--lobby", lobby) as guest:
            procs = (host, guest) if receiver_hosts else (guest, host)
            receiver, sender = procs
            assert sender.wait(120) == 0, sender.dump()
            assert receiver.wait(60) == 0, receiver.dump()
    saved = out_dir / "payload.bin"
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == digest
    assert not (out_dir / "payload.bin.part").exists()
    assert any(f"sha256 {digest} verified" in line for line in receiver.err)
    assert any("(100%)" in line for line in sender.err)
    assert any("(100%)" in line for line in receiver.err)


def test_receive_rejects_bad_checksum(server: str, tmp_path: Path) -> None:
    """A sender (this test, through the real stack) announces a wrong SHA-256."""
    out = tmp_path / "got.bin"
    with webrtc_cli(
        "webrtc.cli.transfer", "receive", "-o", str(out), "--server", server, LOOP,
        "--timeout", "60",
    ) as receiver:  # fmt: skip
        lobby = lobby_of(receiver)
        result = asyncio.run(_bad_sender(server, lobby))
        assert receiver.wait(60) == 1, receiver.dump()
    assert result == {"type": "result", "ok": False, "sha256": hashlib.sha256(b"abc").hexdigest()}
    err = [line for line in receiver.err if "error" in line]
    assert len(err) == 1 and "checksum mismatch" in err[0]
    assert not out.exists()
    assert not out.with_name("got.bin.part").exists()


async def _bad_sender(server: str, lobby: str) -> object:
    options = SessionOptions(server=server, lobby=lobby, label="file", loopback_only=True)
    async with aio.Driver() as driver, Session(options, driver, lambda _: None) as session:
        event = await asyncio.wait_for(session.next_event(), 30)
        assert isinstance(event, PeerReady)
        ch = event.channel
        ch.write_mode = WriteMode.WRITE_MODE_TEXT
        await aio.send(ch, transfer.header_message("x.bin", 3))
        ch.write_mode = WriteMode.WRITE_MODE_BINARY
        await aio.send(ch, b"abc")
        ch.write_mode = WriteMode.WRITE_MODE_TEXT
        await aio.send(ch, transfer.trailer_message("0" * 64))
        async with asyncio.timeout(30):
            async for data in aio.packets(ch):
                return transfer.parse_control(data, "result")
    return None


def test_send_fails_when_receiver_refuses(server: str, tmp_path: Path) -> None:
    """The receiver refuses to overwrite: both sides exit non-zero with one error line."""
    src = tmp_path / "a.txt"
    src.write_bytes(b"content")
    existing = tmp_path / "dst.txt"
    existing.write_bytes(b"keep me")
    common = ("--server", server, LOOP, "--timeout", "30", "--connect-timeout", "30")
    with webrtc_cli("webrtc.cli.transfer", "receive", "-o", str(existing), *common) as receiver:
        lobby = lobby_of(receiver)
        with webrtc_cli(
            "webrtc.cli.transfer", "send", str(src), "--lobby", lobby, *common
        ) as sender:
            assert receiver.wait(60) == 1, receiver.dump()
            assert sender.wait(60) != 0, sender.dump()
    assert existing.read_bytes() == b"keep me"
    assert any("exists (use --force" in line for line in receiver.err)
    assert sum("error" in line for line in sender.err) == 1, sender.dump()


def test_module_entry_points_run() -> None:
    for module in ("webrtc.cli.chat", "webrtc.cli.transfer"):
        with Proc([sys.executable, "-m", module, "--help"]) as p:
            assert p.wait(30) == 0, p.dump()
            assert p.out, p.dump()
    assert os.path.exists(os.path.join(os.path.dirname(chat.__file__), "__init__.py"))


def test_chat_three_peer_mesh(server: str) -> None:
    """Every pair connects (the higher id offers); a line reaches both other peers."""
    with webrtc_cli("webrtc.cli.chat", "--server", server, LOOP, stdin=True) as a:
        lobby = lobby_of(a)
        join = ("webrtc.cli.chat", "--server", server, "--lobby", lobby, LOOP)
        with webrtc_cli(*join, stdin=True) as b, webrtc_cli(*join, stdin=True) as c:
            for proc in (a, b, c):
                proc.wait_count(r"\* peer \d+ connected", 2, stream="err")
            a.write("from A\n")
            c.write("from C\n")
            for proc, expected in ((a, ["from C"]), (b, ["from A", "from C"]), (c, ["from A"])):
                for line in expected:
                    proc.wait_line(f"^{line}$", stream="out")
            for proc in (c, b, a):
                proc.close_stdin()
                assert proc.wait(30) == 0, proc.dump()
            assert sorted(b.out) == ["from A", "from C"]
            assert a.out == ["from C"] and c.out == ["from A"]


def test_receiver_fails_cleanly_when_sender_dies(server: str, tmp_path: Path) -> None:
    """SIGKILL the sender mid-transfer: the receiver exits 1 and leaves no partial file."""
    src = tmp_path / "big.bin"
    src.write_bytes(bytes(64 * 1024 * 1024))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    common = ("--server", server, LOOP, "--timeout", "60")
    with webrtc_cli("webrtc.cli.transfer", "receive", "-o", str(out_dir), *common) as receiver:
        lobby = lobby_of(receiver)
        with webrtc_cli("webrtc.cli.transfer", "send", str(src), "--lobby", lobby, *common) as s:
            receiver.wait_line(r"received .* \(10%\)", stream="err", timeout=60)
            s.kill()
        assert receiver.wait(60) == 1, receiver.dump()
    errors = [line for line in receiver.err if "error" in line]
    assert len(errors) == 1 and "closed the channel before the rest of the file" in errors[0]
    assert list(out_dir.iterdir()) == []
