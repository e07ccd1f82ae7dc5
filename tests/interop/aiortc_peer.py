"""aiortc as a synchronous, thread-safe WebRTC data-channel test peer.

aiortc runs in a background thread with its own asyncio loop; every public method is safe to call
from any thread. Run it only inside a private network namespace (tests/interop/netns.py): aiortc
gathers every interface (never 127.0.0.1). Typical use from a scenario script::

    with AiortcPeer(auto_echo=True) as peer:
        peer.create_channel("chat", {"ordered": False, "maxRetransmits": 0})
        offer = peer.create_offer(pump=ours.poll)     # all candidates + end-of-candidates inside
        ours.set_remote_description("offer", offer)   # ... our poll()-driven peer answers
        peer.set_answer(answer_sdp, pump=ours.poll)
        peer.add_candidate(mid, index, "candidate:...")   # trickled from our side ("" = end)
        peer.wait_channel_open("chat", timeout=10, pump=ours.poll)
        peer.send("chat", b"\\x01"); peer.wait_messages("chat", 1, pump=ours.poll)

aiortc does not trickle: create_offer/accept_offer return after gathering with every candidate in
the SDP (`local_candidates()` lists them again as (mid, index, cand) for a trickle-style caller).
Every waiting method waits in short slices until its bounded `timeout`, calling `pump()` (if
given) between slices so a poll()-driven peer in the same thread keeps running; it raises
`TimeoutError` with the peer's event log. Messages: str = text, bytes = binary.

Quirks seen here (aiortc 1.16, aioice 0.13, inside the namespace): it gathers one UDP host
candidate per non-loopback address (10.x.0.1 and 10.x.0.2), priority 2130706431, no
`generation`/`ufrag` extensions, and puts them plus `a=end-of-candidates` in the SDP. Its offers
carry `setup:actpass`, answers `setup:active`. mDNS remote candidates cost 1 s of resolution and
are then dropped here, so add_candidate does not wait by default. Unhandled exceptions in its loop
(e.g. from a malformed packet of ours) are recorded in errors() and the log, never raised here:
check errors() and connection_state() in scenarios.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp

from tests.interop.waits import PeerWaits, Pump

T = TypeVar("T")

_OPTION_NAMES = {"ordered", "maxRetransmits", "maxPacketLifeTime", "negotiated", "id", "protocol"}


class AiortcPeer(PeerWaits):
    """One aiortc RTCPeerConnection (iceServers=[] unless given) in a private event loop."""

    def __init__(
        self,
        *,
        auto_echo: bool = False,
        ice_servers: list[dict[str, Any]] | None = None,
        slice_seconds: float = 0.005,
    ) -> None:
        self.auto_echo = auto_echo
        self.slice_seconds = slice_seconds
        self.wait_interval = slice_seconds
        self.peer_name = "aiortc"
        self._ice_servers = ice_servers or []
        self._lock = threading.Lock()
        self._channels: dict[str, RTCDataChannel] = {}
        self._messages: dict[str, list[str | bytes]] = {}
        self._echo: set[str] = set()
        self._remote: list[str] = []
        self._log: list[str] = []
        self._errors: list[str] = []
        self._candidates_taken = False
        self._t0 = time.monotonic()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="aiortc-peer", daemon=True)
        self._closed = False
        self._thread.start()
        self._pc: RTCPeerConnection = self._call(self._make_pc(), 10.0)

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> AiortcPeer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.set_exception_handler(self._on_loop_error)
        self._loop.run_forever()

    async def _make_pc(self) -> RTCPeerConnection:
        servers = [
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in self._ice_servers
        ]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            with self._lock:
                self._remote.append(channel.label)
                if self.auto_echo:
                    self._echo.add(channel.label)
            self._note(f'remote channel "{channel.label}" id={channel.id}')
            self._wire(channel)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            self._note(f"connection {pc.connectionState}")

        @pc.on("iceconnectionstatechange")
        def on_ice_state() -> None:
            self._note(f"ice {pc.iceConnectionState}")

        return pc

    def close(self, timeout: float = 10.0, pump: Pump = None) -> None:
        """Close the connection, stop the loop and join the thread (idempotent)."""
        if self._closed and not self._thread.is_alive():
            return
        if not self._closed:
            self._closed = True
            try:
                self._call(self._pc.close(), timeout, pump)
            except Exception as exc:
                self._note(f"close failed: {exc!r}")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()

    # -- plumbing --------------------------------------------------------------------------

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        text = f"loop error: {context.get('message')}" + (f": {exc!r}" if exc else "")
        with self._lock:
            self._errors.append(text)
        self._note(text)

    def _note(self, text: str) -> None:
        with self._lock:
            self._log.append(f"{time.monotonic() - self._t0:.3f} {text}")

    def log(self) -> list[str]:
        with self._lock:
            return list(self._log)

    def _wire(self, channel: RTCDataChannel) -> None:
        label = channel.label
        with self._lock:
            self._channels[label] = channel
            self._messages.setdefault(label, [])

        @channel.on("open")
        def on_open() -> None:
            self._note(f'channel "{label}" open id={channel.id}')

        @channel.on("close")
        def on_close() -> None:
            self._note(f'channel "{label}" closed')

        @channel.on("message")
        def on_message(message: str | bytes) -> None:
            with self._lock:
                self._messages[label].append(message)
                echo = label in self._echo
            if echo and channel.readyState == "open":
                channel.send(message)

    def _wait_future(
        self, fut: concurrent.futures.Future[T], timeout: float, pump: Pump, what: str
    ) -> T:
        deadline = time.monotonic() + timeout
        while True:
            if pump is not None:
                pump()
            try:
                return fut.result(timeout=self.slice_seconds)
            except concurrent.futures.TimeoutError:
                pass
            if time.monotonic() >= deadline:
                fut.cancel()
                raise TimeoutError(f"aiortc: {what} not done in {timeout}s; log: {self.log()}")

    def _call(
        self,
        coro: Coroutine[Any, Any, T],
        timeout: float = 10.0,
        pump: Pump = None,
        what: str = "call",
    ) -> T:
        """Run a coroutine on the peer's loop; wait for it (pumping) and return its result."""
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return self._wait_future(fut, timeout, pump, what)

    def _sync(self, fn: Callable[[], T], timeout: float = 10.0, pump: Pump = None) -> T:
        """Run a plain function on the peer's loop thread (aiortc objects are not thread-safe)."""

        async def run() -> T:
            return fn()

        return self._call(run(), timeout, pump, getattr(fn, "__name__", "call"))

    @property
    def pc(self) -> RTCPeerConnection:
        """The underlying aiortc object: touch it only through run_in_loop()."""
        return self._pc

    def run_in_loop(self, fn: Callable[[], T], timeout: float = 10.0, pump: Pump = None) -> T:
        """Escape hatch: run fn() on the aiortc loop thread and return its result."""
        return self._sync(fn, timeout, pump)

    # -- signaling -------------------------------------------------------------------------

    def create_channel(self, label: str, options: dict[str, Any] | None = None) -> None:
        """createDataChannel with W3C option names: ordered, maxRetransmits,
        maxPacketLifeTime (ms), negotiated + id, protocol."""
        opts = dict(options or {})
        unknown = set(opts) - _OPTION_NAMES
        if unknown:
            raise ValueError(f"unknown channel options {sorted(unknown)}")

        def make() -> None:
            channel = self._pc.createDataChannel(
                label,
                maxPacketLifeTime=opts.get("maxPacketLifeTime"),
                maxRetransmits=opts.get("maxRetransmits"),
                ordered=opts.get("ordered", True),
                protocol=opts.get("protocol", ""),
                negotiated=opts.get("negotiated", False),
                id=opts.get("id"),
            )
            self._note(f'local channel "{label}" {opts}')
            self._wire(channel)

        self._sync(make)

    def create_offer(self, timeout: float = 10.0, pump: Pump = None) -> str:
        """createOffer + setLocalDescription (waits for gathering); the offer SDP."""

        async def offer() -> str:
            await self._pc.setLocalDescription(await self._pc.createOffer())
            return str(self._pc.localDescription.sdp)

        return self._call(offer(), timeout, pump, "create_offer")

    def accept_offer(self, sdp: str, timeout: float = 10.0, pump: Pump = None) -> str:
        """setRemoteDescription(offer) + createAnswer + setLocalDescription; the answer SDP."""

        async def answer() -> str:
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await self._pc.setLocalDescription(await self._pc.createAnswer())
            return str(self._pc.localDescription.sdp)

        return self._call(answer(), timeout, pump, "accept_offer")

    def set_answer(self, sdp: str, timeout: float = 10.0, pump: Pump = None) -> None:
        self._call(
            self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer")),
            timeout,
            pump,
            "set_answer",
        )

    def add_candidate(
        self,
        mid: str | None,
        index: int | None,
        candidate: str,
        wait: bool = False,
        timeout: float = 10.0,
        pump: Pump = None,
    ) -> None:
        """addIceCandidate; `candidate` with or without `a=`/`candidate:`; "" = end-of-candidates.

        By default it does not wait: aioice resolves mDNS (`.local`) hosts inside
        addIceCandidate, which takes its 1 s timeout when nobody answers (then the candidate is
        dropped and the peer is reached as peer-reflexive). Failures go to errors() and the log.
        """
        text = candidate.strip()
        if text.startswith("a="):
            text = text[2:]
        if text.startswith("candidate:"):
            text = text[len("candidate:") :]
        ice = None
        if text:
            ice = candidate_from_sdp(text)
            ice.sdpMid = mid
            ice.sdpMLineIndex = index
        shown = f"candidate:{text}" if text else "<end>"

        async def add() -> None:
            try:
                await self._pc.addIceCandidate(ice)
            except Exception as exc:
                with self._lock:
                    self._errors.append(f"addIceCandidate({shown}): {exc!r}")
                self._note(f"remote {shown} failed: {exc!r}")
                raise
            self._note(f"remote {shown} added")

        fut = asyncio.run_coroutine_threadsafe(add(), self._loop)
        self._note(f"remote {shown} given")
        if wait:
            self._wait_future(fut, timeout, pump, "add_candidate")

    def errors(self) -> list[str]:
        """Failures of calls not waited for (add_candidate) and unhandled loop exceptions."""
        with self._lock:
            return list(self._errors)

    def local_description(self) -> str | None:
        def get() -> str | None:
            d = self._pc.localDescription
            return None if d is None else str(d.sdp)

        return self._sync(get)

    def local_candidates(self) -> list[tuple[str, int, str]]:
        """The candidates of the local SDP as (mid, m-line index, "candidate:...")."""
        sdp = self.local_description()
        out: list[tuple[str, int, str]] = []
        if sdp is None:
            return out
        index, mid = -1, ""
        for line in sdp.splitlines():
            if line.startswith("m="):
                index, mid = index + 1, str(index + 1)
            elif line.startswith("a=mid:"):
                mid = line[len("a=mid:") :]
            elif line.startswith("a=candidate:") and index >= 0:
                out.append((mid, index, line[2:]))
        return out

    def new_candidates(self) -> list[tuple[str, int, str]]:
        """Like ChromiumPeer.new_candidates: once the local description is set, its candidates
        (already inside the SDP: forwarding them again is harmless) and a final (mid, index, "")
        end-of-candidates entry; later calls return []."""
        if self._candidates_taken:
            return []
        cands = self.local_candidates()
        if self.local_description() is None:
            return []
        self._candidates_taken = True
        mid, index = (cands[0][0], cands[0][1]) if cands else ("0", 0)
        return [*cands, (mid, index, "")]

    # -- state -----------------------------------------------------------------------------

    def connection_state(self) -> str:
        return self._sync(lambda: str(self._pc.connectionState))

    def ice_connection_state(self) -> str:
        return self._sync(lambda: str(self._pc.iceConnectionState))

    def selected_pair(self) -> dict[str, Any] | None:
        """The nominated ICE pair (aioice internals): local/remote type, address, port."""

        def get() -> dict[str, Any] | None:
            sctp = self._pc.sctp
            if sctp is None:
                return None
            connection = sctp.transport.transport._connection
            pair = connection._nominated.get(1)
            if pair is None:
                return None

            def side(c: Any) -> dict[str, Any]:
                return {"type": c.type, "address": c.host, "port": c.port, "protocol": "udp"}

            return {
                "local": side(pair.local_candidate),
                "remote": side(pair.remote_candidate),
                "remote_addr": list(pair.remote_addr),
            }

        return self._sync(get)

    def channel_state(self, label: str) -> str | None:
        """readyState of the channel with that label, None if there is none."""

        def get() -> str | None:
            c = self._channels.get(label)
            return None if c is None else str(c.readyState)

        return self._sync(get)

    def channel_info(self, label: str) -> dict[str, Any] | None:
        """id, ordered, maxRetransmits, maxPacketLifeTime, protocol, negotiated, readyState."""

        def get() -> dict[str, Any] | None:
            c = self._channels.get(label)
            if c is None:
                return None
            return {
                "id": c.id,
                "ordered": c.ordered,
                "maxRetransmits": c.maxRetransmits,
                "maxPacketLifeTime": c.maxPacketLifeTime,
                "protocol": c.protocol,
                "negotiated": c.negotiated,
                "readyState": c.readyState,
                "bufferedAmount": c.bufferedAmount,
            }

        return self._sync(get)

    def remote_channels(self) -> list[str]:
        """Labels of channels the remote opened (the "datachannel" event), in arrival order."""
        with self._lock:
            return list(self._remote)

    # -- data ------------------------------------------------------------------------------

    def _channel(self, label: str) -> RTCDataChannel:
        try:
            return self._channels[label]
        except KeyError:
            raise KeyError(f"no channel labelled {label!r}") from None

    def send(self, label: str, data: str | bytes) -> None:
        """str is sent as a text message, bytes as binary."""
        self._sync(lambda: self._channel(label).send(data))

    def messages(self, label: str) -> list[str | bytes]:
        """Messages received on the channel: str for text, bytes for binary."""
        with self._lock:
            return list(self._messages.get(label, []))

    def wait_messages(
        self, label: str, count: int, timeout: float = 10.0, pump: Pump = None
    ) -> list[str | bytes]:
        """Wait until `count` messages arrived on the channel; return all of them."""
        self.wait_until(
            lambda: len(self.messages(label)) >= count,
            timeout,
            pump,
            f"{count} messages on {label!r}",
        )
        return self.messages(label)

    def enable_echo(self, label: str, on: bool = True) -> None:
        """Every message received on that channel is sent straight back."""
        with self._lock:
            if on:
                self._echo.add(label)
            else:
                self._echo.discard(label)

    def close_channel(self, label: str) -> None:
        self._sync(lambda: self._channel(label).close())

    def wait_for(
        self, awaitable: Coroutine[Any, Any, T], timeout: float = 10.0, pump: Pump = None
    ) -> T:
        """Run any coroutine on the peer's loop (e.g. built from `pc`) and wait for it."""
        return self._call(awaitable, timeout, pump, "wait_for")
