"""aiortc (a second, independent Python stack) as a peer under test, in process.

aiortc runs on its own asyncio loop in a background thread; every adapter call is handed to that
loop and waited for with a bound. It is imported lazily (a test extra, never a runtime
dependency) and always configured with `iceServers=[]`. aiortc gathers every interface of the
machine, so the command line runs it inside a private network namespace when root
(`webrtc.bench.netns`). Loop exceptions (e.g. from a packet it cannot handle) are kept in
`errors()`, never raised here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .base import ChannelView, PeerUnavailable

__all__ = ["AiortcPeer"]

T = TypeVar("T")
CALL_TIMEOUT = 15.0
MAX_MESSAGES = 10_000
MAX_ERRORS = 100


class AiortcPeer:
    """One aiortc RTCPeerConnection behind the adapter interface (peers/base.py)."""

    kind = "aiortc"

    def __init__(self, host: str) -> None:
        try:
            import aiortc
        except ImportError as exc:
            raise PeerUnavailable(f"aiortc is not installed ({exc})") from None
        self._aiortc = aiortc
        self.host = host
        self._lock = threading.Lock()
        self._channels: dict[str, Any] = {}
        self._remote: set[str] = set()
        self._messages: dict[str, list[str | bytes]] = {}
        self._errors: list[str] = []
        self._candidates_given = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="aiortc-peer", daemon=True)
        self._thread.start()
        self._pc: Any = self._call(self._make_pc())

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.set_exception_handler(self._on_loop_error)
        self._loop.run_forever()

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        self._error(f"loop error: {context.get('message')}" + (f": {exc!r}" if exc else ""))

    def _error(self, text: str) -> None:
        with self._lock:
            if len(self._errors) < MAX_ERRORS:
                self._errors.append(text[:500])

    async def _make_pc(self) -> Any:
        a = self._aiortc
        pc = a.RTCPeerConnection(a.RTCConfiguration(iceServers=[]))

        @pc.on("datachannel")  # type: ignore[untyped-decorator]
        def on_datachannel(channel: Any) -> None:
            with self._lock:
                self._remote.add(channel.label)
            self._wire(channel)

        return pc

    def _wire(self, channel: Any) -> None:
        label = channel.label
        with self._lock:
            self._channels[label] = channel
            self._messages.setdefault(label, [])

        @channel.on("message")  # type: ignore[untyped-decorator]
        def on_message(message: str | bytes) -> None:
            with self._lock:
                got = self._messages.setdefault(label, [])
                if len(got) < MAX_MESSAGES:
                    got.append(message)

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise TimeoutError(f"aiortc did not answer within {timeout} s") from None

    def _sync(self, fn: Callable[[], T]) -> T:
        async def run() -> T:
            return fn()

        return self._call(run())

    # -- signaling --------------------------------------------------------------------------------

    def create_channel(self, label: str, options: dict[str, Any] | None = None) -> None:
        o = dict(options or {})

        def make() -> None:
            channel = self._pc.createDataChannel(
                label,
                maxPacketLifeTime=o.get("maxPacketLifeTime"),
                maxRetransmits=o.get("maxRetransmits"),
                ordered=o.get("ordered", True),
                protocol=o.get("protocol", ""),
                negotiated=o.get("negotiated", False),
                id=o.get("id"),
            )
            self._wire(channel)

        self._sync(make)

    def create_offer(self) -> str:
        async def offer() -> str:
            await self._pc.setLocalDescription(await self._pc.createOffer())
            return str(self._pc.localDescription.sdp)

        return self._call(offer())

    def accept_offer(self, sdp: str) -> str:
        desc = self._aiortc.RTCSessionDescription(sdp=sdp, type="offer")

        async def answer() -> str:
            await self._pc.setRemoteDescription(desc)
            await self._pc.setLocalDescription(await self._pc.createAnswer())
            return str(self._pc.localDescription.sdp)

        return self._call(answer())

    def set_answer(self, sdp: str) -> None:
        desc = self._aiortc.RTCSessionDescription(sdp=sdp, type="answer")
        self._call(self._pc.setRemoteDescription(desc))

    def add_candidate(self, mid: str, index: int, candidate: str) -> None:
        from aiortc.sdp import candidate_from_sdp

        text = candidate.removeprefix("a=").removeprefix("candidate:").strip()
        ice = None
        if text:
            ice = candidate_from_sdp(text)
            ice.sdpMid, ice.sdpMLineIndex = mid, index
        self._call(self._pc.addIceCandidate(ice))

    def take_candidates(self) -> list[str]:
        return []  # aiortc puts every candidate into its description (no trickle)

    def pump(self) -> None:
        pass

    # -- state ------------------------------------------------------------------------------------

    def connection_state(self) -> str:
        if not self._thread.is_alive():
            return "closed"
        return self._sync(lambda: str(self._pc.connectionState))

    def channels(self) -> list[ChannelView]:
        def get() -> list[ChannelView]:
            return [
                ChannelView(
                    label=c.label,
                    id=c.id,
                    protocol=c.protocol,
                    ordered=c.ordered,
                    max_retransmits=c.maxRetransmits,
                    max_packet_life_time=c.maxPacketLifeTime,
                    state=str(c.readyState),
                    remote=c.label in self._remote,
                )
                for c in self._channels.values()
            ]

        return self._sync(get)

    def send(self, label: str, data: str | bytes) -> None:
        self._sync(lambda: self._channels[label].send(data))

    def messages(self, label: str) -> list[str | bytes]:
        with self._lock:
            return list(self._messages.get(label, []))

    def close_channel(self, label: str) -> None:
        self._sync(lambda: self._channels[label].close())

    def errors(self) -> list[str]:
        with self._lock:
            return list(self._errors)

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            self._call(self._pc.close(), 10.0)
        except Exception as exc:
            self._error(f"close failed: {exc!r}")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10.0)
        if not self._thread.is_alive():
            self._loop.close()
