"""libdatachannel (the C++ library under Godot's native WebRTC plugin) as a peer under test.

libdatachannel-py needs Python >= 3.13; this project runs on 3.11. So the peer is a child
process (`ldc_child.py`) run by a Python >= 3.13 that has libdatachannel-py installed, found in
this order: the `python` argument (`--python313`), `$WEBRTC_CONFORMANCE_PYTHON313`, the venv
`~/.cache/webrtc-conformance/ldc-venv` (docs/CONFORMANCE.md shows how to make it). Requests and
replies are JSON lines over its stdin/stdout, each bounded by a timeout. Without such an
interpreter the peer kind is unavailable. It binds only `host` (`bind_address`), so libjuice
offers no other interface's candidates.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any

from .base import ChannelView, PeerUnavailable

__all__ = ["LibdatachannelPeer", "find_python"]

CHILD = Path(__file__).with_name("ldc_child.py")
DEFAULT_VENV = Path.home() / ".cache" / "webrtc-conformance" / "ldc-venv" / "bin" / "python"
REQUEST_TIMEOUT = 15.0
START_TIMEOUT = 15.0
REAP_TIMEOUT = 20.0  # the child exits within its 10 s close grace
MAX_LINE = 8 << 20  # a reply carries messages as base64: bounded


def find_python(explicit: str | None = None) -> str | None:
    for candidate in (explicit, os.environ.get("WEBRTC_CONFORMANCE_PYTHON313"), str(DEFAULT_VENV)):
        if candidate and Path(candidate).exists():
            return candidate
    return None


class LibdatachannelPeer:
    """One libdatachannel PeerConnection in a child process (see the module docstring)."""

    kind = "libdatachannel"

    def __init__(self, host: str, python: str | None = None, lifetime: float = 600.0) -> None:
        exe = find_python(python)
        if exe is None:
            raise PeerUnavailable(
                "libdatachannel needs a Python >= 3.13 with libdatachannel-py (--python313, "
                f"$WEBRTC_CONFORMANCE_PYTHON313 or {DEFAULT_VENV}): not available"
            )
        self.host = host
        self._lines: queue.Queue[str | None] = queue.Queue(maxsize=1024)
        self._next = 0
        self._closed = False
        try:
            self._proc = subprocess.Popen(
                [exe, str(CHILD), host, str(lifetime)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
            )
        except OSError as exc:
            raise PeerUnavailable(f"{exe} does not start: {exc}") from None
        threading.Thread(target=self._read, daemon=True).start()
        first = self._line(START_TIMEOUT)
        ready = json.loads(first) if first else {}
        if not isinstance(ready, dict) or not ready.get("ready"):
            self.close()
            raise PeerUnavailable(f"libdatachannel does not start: {ready.get('error', first)}")

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if len(line) <= MAX_LINE:
                self._lines.put(line)
        self._lines.put(None)

    def _line(self, timeout: float) -> str | None:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def _call(self, op: str, **args: Any) -> Any:
        if self._closed or self._proc.stdin is None:
            raise RuntimeError("the libdatachannel peer was closed")
        self._next += 1
        rid = self._next
        self._proc.stdin.write(json.dumps({"id": rid, "op": op, **args}) + "\n")
        self._proc.stdin.flush()
        while True:
            line = self._line(REQUEST_TIMEOUT)
            if line is None:
                raise TimeoutError(f"libdatachannel did not answer {op} within {REQUEST_TIMEOUT} s")
            reply = json.loads(line)
            if isinstance(reply, dict) and reply.get("id") == rid:
                if not reply.get("ok"):
                    raise RuntimeError(f"libdatachannel {op}: {reply.get('error')}")
                return reply.get("result")

    # -- the adapter verbs ------------------------------------------------------------------------

    def create_channel(self, label: str, options: dict[str, Any] | None = None) -> None:
        self._call("create_channel", label=label, options=dict(options or {}))

    def create_offer(self) -> str:
        return str(self._call("create_offer"))

    def accept_offer(self, sdp: str) -> str:
        return str(self._call("accept_offer", sdp=sdp))

    def set_answer(self, sdp: str) -> None:
        self._call("set_answer", sdp=sdp)

    def add_candidate(self, mid: str, index: int, candidate: str) -> None:
        if candidate:
            self._call("add_candidate", candidate=candidate.removeprefix("a="), mid=mid)

    def take_candidates(self) -> list[str]:
        if self._closed:
            return []
        return [str(c) for c in self._call("take_candidates")]

    def pump(self) -> None:
        pass

    def connection_state(self) -> str:
        return "closed" if self._closed else str(self._call("state"))

    def channels(self) -> list[ChannelView]:
        return [
            ChannelView(str(label), cid, str(protocol), bool(ordered), mr, ml, str(state), bool(r))
            for label, cid, protocol, ordered, mr, ml, state, r in self._call("channels")
        ]

    def send(self, label: str, data: str | bytes) -> None:
        if isinstance(data, str):
            self._call("send", label=label, data=data, binary=False)
        else:
            self._call("send", label=label, data=base64.b64encode(data).decode(), binary=True)

    def messages(self, label: str) -> list[str | bytes]:
        got = self._call("messages", label=label)
        return [m[1] if m[0] == "t" else base64.b64decode(m[1]) for m in got]

    def close_channel(self, label: str) -> None:
        self._call("close_channel", label=label)

    def errors(self) -> list[str]:
        return [] if self._closed else [str(e) for e in self._call("errors")]

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._call("close")
        except Exception:  # a broken child is killed below anyway
            pass
        self._closed = True
        try:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        except OSError:
            pass
        # the child closes in the background (its SCTP shutdown needs our side to keep
        # running) and exits by itself; reap it without blocking the caller
        threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self) -> None:
        try:
            self._proc.wait(REAP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
