"""The file-transfer message protocol and receiver state, without a connection."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from webrtc.cli import transfer
from webrtc.cli.transfer import Progress, Receiver, TransferError


def _feed_file(rx: Receiver, name: str, data: bytes, digest: str | None = None) -> None:
    rx.feed(transfer.header_message(name, len(data)), True)
    for i in range(0, len(data), 7):
        rx.feed(data[i : i + 7], False)
    rx.feed(transfer.trailer_message(digest or hashlib.sha256(data).hexdigest()), True)


def test_receiver_saves_a_verified_file(tmp_path: Path) -> None:
    rx = Receiver(tmp_path)
    data = bytes(range(256)) * 3
    _feed_file(rx, "some/dir/../file.bin", data)
    assert rx.done and rx.ok
    assert rx.digest == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "file.bin").read_bytes() == data
    assert list(tmp_path.iterdir()) == [tmp_path / "file.bin"]


def test_receiver_discards_on_checksum_mismatch(tmp_path: Path) -> None:
    rx = Receiver(tmp_path / "out.bin")
    _feed_file(rx, "x", b"hello", digest="00" * 32)
    assert rx.done and rx.ok is False
    assert list(tmp_path.iterdir()) == []


def test_receiver_discards_truncated_file(tmp_path: Path) -> None:
    rx = Receiver(tmp_path)
    rx.feed(transfer.header_message("t.bin", 10), True)
    rx.feed(b"12345", False)
    rx.feed(transfer.trailer_message(hashlib.sha256(b"12345").hexdigest()), True)
    assert rx.ok is False
    assert list(tmp_path.iterdir()) == []


def test_receiver_protocol_violations(tmp_path: Path) -> None:
    with pytest.raises(TransferError, match="header"):
        Receiver(tmp_path).feed(b"\x00binary first", False)
    with pytest.raises(TransferError, match="expected a 'file' message"):
        Receiver(tmp_path).feed(b"not json", True)
    with pytest.raises(TransferError, match="bad file size"):
        Receiver(tmp_path).feed(b'{"type": "file", "name": "a", "size": -1}', True)
    with pytest.raises(TransferError, match="bad file size"):
        Receiver(tmp_path).feed(b'{"type": "file", "name": "a", "size": true}', True)
    rx = Receiver(tmp_path)
    rx.feed(transfer.header_message("b.bin", 3), True)
    with pytest.raises(TransferError, match="more than the announced"):
        rx.feed(b"four", False)
    rx.abort()
    assert list(tmp_path.iterdir()) == []


def test_receiver_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "exists.bin"
    target.write_bytes(b"old")
    with pytest.raises(TransferError, match="exists"):
        Receiver(target).feed(transfer.header_message("x", 3), True)
    rx = Receiver(target, force=True)
    _feed_file(rx, "x", b"new")
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("a.txt", "a.txt"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\evil.exe", "evil.exe"),
        ("..", "received.bin"),
        (".hidden", "hidden"),
        ("", "received.bin"),
        (42, "received.bin"),
        ("dir/", "received.bin"),
    ],
)
def test_safe_file_name(name: object, safe: str) -> None:
    assert transfer.safe_file_name(name) == safe


def test_parse_control() -> None:
    assert transfer.parse_control(transfer.result_message(True, "ab"), "result") == {
        "type": "result",
        "ok": True,
        "sha256": "ab",
    }
    for bad in (b"\xff", b"[1]", b'{"type": "end"}', b"x" * 5000):
        with pytest.raises(TransferError):
            transfer.parse_control(bad, "result")


def test_progress_lines_without_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress("sent", 1000, out)
    for done in range(0, 1001, 50):
        progress.update(done)
    progress.update(1000, final=True)
    lines = out.getvalue().splitlines()
    assert [line.split("(")[1].split(")")[0] for line in lines] == [
        f"{pct}%" for pct in range(0, 101, 10)
    ]
    assert all(line.startswith("sent ") for line in lines)
