"""asyncio integration: drive `WebRTCPeerConnection.poll()` from an event loop, no busy loop.

The Godot API stays the source of truth: this module only decides *when* to call `poll()`.
A `Driver` polls its peer connections whenever

- one of their UDP sockets is readable (`loop.add_reader`), for peers created through
  `Driver.peer_connection()` / `Driver.transport_factory()` (`AioUdpTransport` registers its
  sockets with the loop);
- the earliest `pc.next_timeout()` is due (a single `loop.call_later` timer);
- `Driver.wake()` is called (every helper here does so after it calls the API: user code that
  calls `put_packet`, `close`, `create_offer`... directly should call `wake()` too, otherwise the
  work waits for the next socket event or timer, at most `max_sleep` seconds).

Peers added with `Driver.add(pc)` whose sockets the driver cannot see (any other transport) are
polled after a short adaptive sleep (1 ms doubling to `fallback_sleep` while nothing happens),
still bounded by their next timer.

Awaitable helpers (they find the driver from the keyword `driver=` or the one running in the
current context, set by `async with Driver(...)`):
`await connected(pc)`, `await channel_open(channel)`, `async for data in packets(channel)`,
`await description(pc)`, `await send(channel, data)`, `await drain(channel)`.
The peer connections must use the default clock (`time.monotonic`).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

from .data_channel import WebRTCDataChannel
from .errors import Error
from .net import Address, TransportFactory, UdpTransport
from .peer_connection import WebRTCPeerConnection
from .states import ChannelState, ConnectionState

__all__ = [
    "AioUdpTransport",
    "ChannelClosedError",
    "Driver",
    "PeerConnectionError",
    "channel_open",
    "connected",
    "current_driver",
    "description",
    "drain",
    "packets",
    "send",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_SLEEP = 0.25
DEFAULT_FALLBACK_SLEEP = 0.02
_MIN_FALLBACK_SLEEP = 0.001
DEFAULT_HIGH_WATER = 1 << 20

_current: contextvars.ContextVar[Driver | None] = contextvars.ContextVar(
    "webrtc_aio_driver", default=None
)


class PeerConnectionError(ConnectionError):
    """The peer connection failed or closed while something waited for it."""


class ChannelClosedError(ConnectionError):
    """The data channel closed while something waited for it (or on `send`)."""


class AioUdpTransport(UdpTransport):
    """`webrtc.net.UdpTransport` whose sockets are registered with an asyncio loop.

    Every bound socket gets `loop.add_reader(fd, on_readable)`; `close()` removes the readers.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_readable: Callable[[], None],
        *,
        loopback_only: bool = False,
        hosts: list[str] | None = None,
    ) -> None:
        super().__init__(loopback_only=loopback_only, hosts=hosts)
        self._loop = loop
        self._on_readable = on_readable

    def bind(self, host: str) -> Address:
        addr = super().bind(host)
        self._loop.add_reader(self._sockets[addr].fileno(), self._on_readable)
        return addr

    def filenos(self) -> list[int]:
        """File descriptors of the bound sockets."""
        return [sock.fileno() for sock in self._sockets.values()]

    def open_mdns(self) -> bool:
        was_open = self._mdns is not None
        ok = super().open_mdns()
        if ok and not was_open and self._mdns is not None:
            self._loop.add_reader(self._mdns.fileno(), self._on_readable)
        return ok

    def close_mdns(self) -> None:
        if self._mdns is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._mdns.fileno())
        super().close_mdns()

    def close(self) -> None:
        if not self._loop.is_closed():
            for sock in self._sockets.values():
                self._loop.remove_reader(sock.fileno())
        self.close_mdns()
        super().close()


class Driver:
    """Polls a set of peer connections from the running asyncio loop.

    Use `async with Driver() as driver:` (or `start()` / `await stop()`). An exception raised by a
    signal handler inside `poll()` stops the driver; it is re-raised by every waiting helper and
    by `stop()`.
    """

    def __init__(
        self,
        *peers: WebRTCPeerConnection,
        max_sleep: float = DEFAULT_MAX_SLEEP,
        fallback_sleep: float = DEFAULT_FALLBACK_SLEEP,
    ) -> None:
        self.max_sleep = max_sleep
        self.fallback_sleep = fallback_sleep
        self._peers: dict[WebRTCPeerConnection, bool] = {}  # pc -> its sockets are watched
        self._wake_event: asyncio.Event | None = None
        self._waiters: set[asyncio.Future[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._token: contextvars.Token[Driver | None] | None = None
        self._idle = _MIN_FALLBACK_SLEEP
        #: Number of completed poll rounds (diagnostics and tests).
        self.rounds = 0
        for pc in peers:
            self.add(pc)

    # -- peers ------------------------------------------------------------------------------

    def transport_factory(
        self, *, loopback_only: bool = False, hosts: list[str] | None = None
    ) -> TransportFactory:
        """A `transport_factory` for `WebRTCPeerConnection` whose sockets wake this driver."""

        def factory() -> AioUdpTransport:
            loop = asyncio.get_running_loop()
            return AioUdpTransport(loop, self.wake, loopback_only=loopback_only, hosts=hosts)

        return factory

    def peer_connection(
        self, *, loopback_only: bool = False, hosts: list[str] | None = None, **kwargs: Any
    ) -> WebRTCPeerConnection:
        """A new `WebRTCPeerConnection` with socket wake-ups, already added to this driver.

        Its sockets come from this driver's transport, so restrict gathering with `loopback_only`
        / `hosts` here (or `WEBRTC_LOOPBACK_ONLY=1`); the configuration key
        `"x-loopback-only"` of `initialize()` does not reach this transport.
        """
        pc = WebRTCPeerConnection(
            transport_factory=self.transport_factory(loopback_only=loopback_only, hosts=hosts),
            loopback_only=loopback_only,
            **kwargs,
        )
        self._peers[pc] = True
        self.wake()
        return pc

    def add(self, pc: WebRTCPeerConnection) -> None:
        """Poll `pc` too (with the adaptive sleep, since its sockets are not visible)."""
        if pc not in self._peers:
            self._peers[pc] = False
        self.wake()

    def remove(self, pc: WebRTCPeerConnection) -> None:
        self._peers.pop(pc, None)

    @property
    def peers(self) -> list[WebRTCPeerConnection]:
        return list(self._peers)

    # -- running ----------------------------------------------------------------------------

    def wake(self) -> None:
        """Poll again as soon as the loop runs (call after using the Godot API directly)."""
        self._idle = _MIN_FALLBACK_SLEEP
        if self._wake_event is not None:
            self._wake_event.set()

    def start(self) -> None:
        """Start polling in a task of the running loop; helpers in this context find it."""
        if self._task is not None:
            raise RuntimeError("driver already started")
        self._wake_event = asyncio.Event()
        self._error = None
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webrtc-aio")
        self._token = _current.set(self)

    async def stop(self) -> None:
        """Stop polling (the peer connections stay open); re-raise a handler's exception."""
        task, self._task = self._task, None
        if self._token is not None:
            try:
                _current.reset(self._token)
            except ValueError:  # stopped from another context
                pass
            self._token = None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._fail_waiters(self._error or RuntimeError("the webrtc.aio driver was stopped"))
        if self._error is not None:
            raise self._error

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def __aenter__(self) -> Driver:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.stop()
        except BaseException:
            if exc is None:
                raise  # else the body's exception wins

    async def next_round(self) -> None:
        """Wait until the driver completed one more poll round."""
        if self._error is not None:
            raise self._error
        if not self.running:
            raise RuntimeError("the webrtc.aio driver is not running")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await fut
        finally:
            self._waiters.discard(fut)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None = None) -> None:
        """Wait until `predicate()` is true, checking after every poll round."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await self.next_round()

    def _fail_waiters(self, error: BaseException) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_exception(error)
        self._waiters.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        event = self._wake_event
        assert event is not None
        while True:
            event.clear()
            try:
                for pc in list(self._peers):
                    pc.poll()
            except Exception as exc:  # a signal handler raised: stop and report it
                self._error = exc
                self._fail_waiters(exc)
                return
            self.rounds += 1
            waiters, self._waiters = self._waiters, set()
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)
            delay = self._delay()
            if event.is_set() or delay <= 0:
                await asyncio.sleep(0)  # let waiters and other tasks run first
                continue
            handle = loop.call_later(delay, event.set)
            try:
                await event.wait()
            finally:
                handle.cancel()

    def _delay(self) -> float:
        """Seconds until the next poll round is needed."""
        now = time.monotonic()
        delay = self.max_sleep
        blind = False
        for pc, watched in self._peers.items():
            t = pc.next_timeout()
            if t is not None:
                delay = min(delay, t - now)
            blind = blind or not watched
        if blind:
            # no socket readiness for some peer: adaptive sleep, reset by any wake()
            delay = min(delay, self._idle)
            self._idle = min(self._idle * 2, self.fallback_sleep)
        return delay


def current_driver() -> Driver | None:
    """The driver started in this context (by `async with Driver()` or `start()`), if any."""
    return _current.get()


def _driver(driver: Driver | None) -> Driver:
    d = driver if driver is not None else _current.get()
    if d is None:
        raise RuntimeError("no webrtc.aio.Driver: use `async with Driver(...)` or pass driver=")
    return d


async def connected(
    pc: WebRTCPeerConnection, *, driver: Driver | None = None, timeout: float | None = None
) -> None:
    """Wait for `STATE_CONNECTED`; `PeerConnectionError` on FAILED or CLOSED."""
    d = _driver(driver)
    d.wake()
    bad = (ConnectionState.STATE_FAILED, ConnectionState.STATE_CLOSED)
    await d.wait_until(
        lambda: pc.get_connection_state() in (ConnectionState.STATE_CONNECTED, *bad), timeout
    )
    state = pc.get_connection_state()
    if state in bad:
        raise PeerConnectionError(f"peer connection {state.name}")


async def channel_open(
    channel: WebRTCDataChannel, *, driver: Driver | None = None, timeout: float | None = None
) -> None:
    """Wait for `STATE_OPEN`; `ChannelClosedError` if the channel closes first."""
    d = _driver(driver)
    d.wake()
    await d.wait_until(
        lambda: channel.get_ready_state() is not ChannelState.STATE_CONNECTING, timeout
    )
    if channel.get_ready_state() is not ChannelState.STATE_OPEN:
        raise ChannelClosedError(f"channel {channel.get_label()!r} closed before it opened")


async def packets(
    channel: WebRTCDataChannel, *, driver: Driver | None = None
) -> AsyncIterator[bytes]:
    """Every received message in order (use `channel.was_string_packet()` for its kind);
    ends once the channel is closed and its queue is empty."""
    d = _driver(driver)
    while True:
        while channel.get_available_packet_count() > 0:
            data = channel.get_packet()
            yield data
        if channel.get_ready_state() is ChannelState.STATE_CLOSED:
            return
        await d.next_round()


async def description(
    pc: WebRTCPeerConnection, *, driver: Driver | None = None, timeout: float | None = None
) -> tuple[str, str]:
    """The next `session_description_created(type, sdp)` of `pc` (call right after
    `create_offer()` or `set_remote_description("offer", ...)`; it does not apply it)."""
    d = _driver(driver)
    got: list[tuple[str, str]] = []

    def on_description(kind: str, sdp: str) -> None:
        got.append((kind, sdp))

    pc.session_description_created.connect(on_description)
    try:
        d.wake()
        await d.wait_until(lambda: bool(got), timeout)
    finally:
        pc.session_description_created.disconnect(on_description)
    return got[0]


async def drain(
    channel: WebRTCDataChannel,
    low: int = 0,
    *,
    driver: Driver | None = None,
    timeout: float | None = None,
) -> None:
    """Wait until `channel.get_buffered_amount() <= low` (or the channel is closed)."""
    d = _driver(driver)
    d.wake()
    await d.wait_until(
        lambda: (
            channel.get_buffered_amount() <= low
            or channel.get_ready_state() is ChannelState.STATE_CLOSED
        ),
        timeout,
    )


async def send(
    channel: WebRTCDataChannel,
    data: bytes,
    *,
    high_water: int = DEFAULT_HIGH_WATER,
    driver: Driver | None = None,
) -> None:
    """`put_packet(data)` with back-pressure: first wait while more than `high_water` bytes are
    buffered, retry while the send buffer is full (`ERR_BUSY`); raise on any other error."""
    d = _driver(driver)
    while True:
        if channel.get_buffered_amount() <= high_water:
            err = channel.put_packet(data)
            if err is Error.OK:
                d.wake()
                return
            if err is not Error.ERR_BUSY:
                if channel.get_ready_state() is not ChannelState.STATE_OPEN:
                    raise ChannelClosedError(
                        f"channel {channel.get_label()!r} is {channel.get_ready_state().name}"
                    )
                raise ValueError(f"put_packet failed: {err.name}")
        d.wake()
        await d.next_round()
