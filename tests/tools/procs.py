"""Subprocess helpers for the CLI tests: line-collecting processes with bounded waits."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def python_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class Proc:
    """A child process whose stdout/stderr lines are collected by threads."""

    def __init__(self, argv: Sequence[str], *, stdin: bool = False, prefix: Sequence[str] = ()):
        self.argv = [*prefix, *argv]
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=python_env(),
            cwd=ROOT,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._lines: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        for name, stream, sink in (
            ("out", self.popen.stdout, self.out),
            ("err", self.popen.stderr, self.err),
        ):
            threading.Thread(target=self._collect, args=(name, stream, sink), daemon=True).start()

    def _collect(self, name: str, stream: IO[bytes] | None, sink: list[str]) -> None:
        assert stream is not None
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            sink.append(line)
            self._lines.put((name, line))

    def write(self, text: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(text.encode())
        self.popen.stdin.flush()

    def close_stdin(self) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.close()

    def wait_line(self, pattern: str, *, stream: str = "any", timeout: float = 30) -> re.Match[str]:
        """First line (already seen or new) matching `pattern`; AssertionError on timeout."""
        rx = re.compile(pattern)
        for name, lines in (("out", self.out), ("err", self.err)):
            if stream in ("any", name):
                for line in list(lines):
                    if m := rx.search(line):
                        return m
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                name, line = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.popen.poll() is not None and self._lines.empty():
                    time.sleep(0.1)  # let the reader threads finish
                    if self._lines.empty():
                        break
                continue
            if stream in ("any", name) and (m := rx.search(line)):
                return m
        raise AssertionError(f"no line matching {pattern!r} from {self.argv}:\n{self.dump()}")

    def wait_count(
        self, pattern: str, count: int, *, stream: str = "any", timeout: float = 30
    ) -> None:
        """Wait until `count` lines match `pattern`; AssertionError on timeout."""
        rx = re.compile(pattern)

        def seen() -> int:
            lines = {"out": self.out, "err": self.err}
            names = ("out", "err") if stream == "any" else (stream,)
            return sum(1 for name in names for line in list(lines[name]) if rx.search(line))

        deadline = time.monotonic() + timeout
        while seen() < count:
            if time.monotonic() > deadline:
                what = f"fewer than {count} lines matching {pattern!r}"
                raise AssertionError(f"{what}:\n{self.dump()}")
            time.sleep(0.02)

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.argv} did not exit:\n{self.dump()}") from None

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)

    def dump(self) -> str:
        time.sleep(0.05)
        return "stdout:\n" + "\n".join(self.out) + "\nstderr:\n" + "\n".join(self.err)

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()


def webrtc_cli(*args: str, stdin: bool = False, prefix: Sequence[str] = ()) -> Proc:
    """`python -m webrtc.cli.<tool> ...` (the lead wires them into `python -m webrtc`)."""
    return Proc([sys.executable, "-m", *args], stdin=stdin, prefix=prefix)


def signaling_server(*extra: str, prefix: Sequence[str] = ()) -> tuple[Proc, str]:
    """Start `python -m webrtc.signaling --port 0` on 127.0.0.1; return it and its ws URL."""
    proc = Proc(
        [sys.executable, "-m", "webrtc.signaling", "--host", "127.0.0.1", "--port", "0", *extra],
        prefix=prefix,
    )
    m = proc.wait_line(r"listening on (ws://\S+)", timeout=20)
    return proc, m.group(1)


def lobby_of(proc: Proc, timeout: float = 20) -> str:
    return proc.wait_line(r"joined lobby (\S+) as peer", stream="err", timeout=timeout).group(1)
