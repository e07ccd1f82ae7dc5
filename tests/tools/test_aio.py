"""webrtc.aio: a Driver polling real peer connections on 127.0.0.1 from asyncio."""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any

import pytest

from webrtc import Error, WebRTCDataChannel, WebRTCPeerConnection, aio

TIMEOUT = 20.0


async def _pair(
    driver: aio.Driver, a: WebRTCPeerConnection, b: WebRTCPeerConnection, label: str = "x"
) -> tuple[WebRTCDataChannel, WebRTCDataChannel]:
    """Signal a -> b by hand with the awaitable helpers; return (a's channel, b's channel)."""

    def forward(dst: WebRTCPeerConnection) -> Any:
        def on_candidate(mid: str, index: int, name: str) -> None:
            dst.add_ice_candidate(mid, index, name)
            driver.wake()

        return on_candidate

    a.ice_candidate_created.connect(forward(b))
    b.ice_candidate_created.connect(forward(a))
    received: list[WebRTCDataChannel] = []
    b.data_channel_received.connect(received.append)
    ch = a.create_data_channel(label)
    assert ch is not None
    assert a.create_offer() == Error.OK
    kind, offer = await aio.description(a, timeout=TIMEOUT)
    assert kind == "offer" and "a=fingerprint" in offer
    assert a.set_local_description(kind, offer) == Error.OK
    assert b.set_remote_description(kind, offer) == Error.OK
    kind, answer = await aio.description(b, timeout=TIMEOUT)
    assert kind == "answer"
    assert b.set_local_description(kind, answer) == Error.OK
    assert a.set_remote_description(kind, answer) == Error.OK
    await aio.connected(a, timeout=TIMEOUT)
    await aio.connected(b, timeout=TIMEOUT)
    await aio.channel_open(ch, timeout=TIMEOUT)
    await driver.wait_until(lambda: bool(received), TIMEOUT)
    await aio.channel_open(received[0], timeout=TIMEOUT)
    return ch, received[0]


async def _exchange(driver: aio.Driver, ch: WebRTCDataChannel, rx: WebRTCDataChannel) -> None:
    """Text both ways, then 2 MiB in 16 KiB messages with back-pressure, checked in order."""
    ch.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT
    await aio.send(ch, b"hello")
    rx.write_mode = WebRTCDataChannel.WRITE_MODE_TEXT
    await aio.send(rx, "héllo back".encode())
    got_b = await asyncio.wait_for(anext(aio.packets(rx)), TIMEOUT)
    assert got_b == b"hello" and rx.was_string_packet()
    got_a = await asyncio.wait_for(anext(aio.packets(ch)), TIMEOUT)
    assert got_a.decode() == "héllo back" and ch.was_string_packet()

    ch.write_mode = WebRTCDataChannel.WRITE_MODE_BINARY
    rng = random.Random(3)
    blocks = [rng.randbytes(16384) for _ in range(128)]

    async def sender() -> None:
        for block in blocks:
            await aio.send(ch, block, high_water=256 * 1024)
            assert ch.get_buffered_amount() <= 256 * 1024 + 16384

    async def receiver() -> list[bytes]:
        out: list[bytes] = []
        async for data in aio.packets(rx):
            assert not rx.was_string_packet()
            out.append(data)
            if len(out) == len(blocks):
                break
        return out

    _, got = await asyncio.wait_for(asyncio.gather(sender(), receiver()), 60)
    assert got == blocks
    await aio.drain(ch, timeout=TIMEOUT)
    assert ch.get_buffered_amount() == 0


def test_two_peers_with_socket_wakeups() -> None:
    async def main() -> None:
        async with aio.Driver() as driver:
            assert aio.current_driver() is driver
            a = driver.peer_connection(loopback_only=True)
            b = driver.peer_connection(loopback_only=True)
            ch, rx = await _pair(driver, a, b)
            await _exchange(driver, ch, rx)
            # the remote closes: packets() ends once the queue is empty
            ch.put_packet(b"last")
            ch.close()
            driver.wake()
            rest = [p async for p in aio.packets(rx)]
            assert rest == [b"last"]
            with pytest.raises(aio.ChannelClosedError):
                await aio.send(rx, b"too late")
            a.close()
            b.close()
            with pytest.raises(aio.PeerConnectionError):
                await aio.connected(a)
        assert aio.current_driver() is None

    asyncio.run(main())


def test_two_plain_peers_with_adaptive_sleep() -> None:
    """Peers built without the driver's transport: polled on the fallback schedule."""

    async def main() -> None:
        a = WebRTCPeerConnection(loopback_only=True)
        b = WebRTCPeerConnection(loopback_only=True)
        async with aio.Driver(a, b) as driver:
            ch, rx = await _pair(driver, a, b)
            await _exchange(driver, ch, rx)
            a.close()
            b.close()

    asyncio.run(main())


def test_handler_exception_reaches_waiters_and_stop() -> None:
    class Boom(Exception):
        pass

    async def main() -> None:
        driver = aio.Driver()
        driver.start()
        a = driver.peer_connection(loopback_only=True)

        def explode(kind: str, sdp: str) -> None:
            raise Boom(kind)

        a.session_description_created.connect(explode)
        assert a.create_data_channel("x") is not None
        assert a.create_offer() == Error.OK
        driver.wake()
        with pytest.raises(Boom):
            await driver.wait_until(lambda: False, TIMEOUT)
        with pytest.raises(Boom):
            await driver.stop()
        a.close()

    asyncio.run(main())


def test_helpers_need_a_driver() -> None:
    async def main() -> None:
        pc = WebRTCPeerConnection(loopback_only=True)
        with pytest.raises(RuntimeError, match=r"no webrtc\.aio\.Driver"):
            await aio.connected(pc)
        driver = aio.Driver()
        with pytest.raises(RuntimeError, match="not running"):
            await driver.next_round()
        pc.close()

    asyncio.run(main())


def test_wait_until_timeout() -> None:
    async def main() -> None:
        async with aio.Driver() as driver:
            with pytest.raises(TimeoutError):
                await driver.wait_until(lambda: False, 0.05)

    asyncio.run(main())


class _FakePeer:
    """The two members the driver uses: poll() and next_timeout()."""

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.polls = 0

    def poll(self) -> Error:
        self.polls += 1
        return Error.OK

    def next_timeout(self) -> float | None:
        return self.timeout


def test_delay_is_bounded_by_timer_and_adaptive_for_blind_peers() -> None:
    idle = _FakePeer(None)
    driver = aio.Driver(max_sleep=0.25, fallback_sleep=0.02)
    driver._peers[idle] = True  # type: ignore[index]  # "watched": sockets wake the driver
    assert driver._delay() == 0.25
    idle.timeout = 0.0  # long overdue
    assert driver._delay() < 0
    driver._peers[_FakePeer(None)] = False  # type: ignore[index]  # a blind peer
    idle.timeout = None
    steps = [driver._delay() for _ in range(7)]
    assert steps == [0.001, 0.002, 0.004, 0.008, 0.016, 0.02, 0.02]
    driver.wake()  # any activity goes back to the shortest sleep
    assert driver._delay() == 0.001


def test_driver_polls_on_wake_only_when_idle() -> None:
    async def main() -> None:
        peer = _FakePeer(None)
        driver = aio.Driver(max_sleep=3600.0)
        driver._peers[peer] = True  # type: ignore[index]
        async with driver:
            await driver.next_round()
            before = peer.polls
            for _ in range(5):
                await asyncio.sleep(0)
            assert peer.polls == before  # nothing due, nothing readable: no polling
            driver.wake()
            await driver.next_round()
            assert peer.polls == before + 1

    asyncio.run(main())


def test_transport_readers_wake_the_driver() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        woke = asyncio.Event()
        transport = aio.AioUdpTransport(loop, woke.set, hosts=["127.0.0.1"])
        assert transport.local_hosts() == ["127.0.0.1"]
        local = transport.bind("127.0.0.1")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            other.bind(("127.0.0.1", 0))
            other.sendto(b"ping", local)
            await asyncio.wait_for(woke.wait(), TIMEOUT)
            assert transport.receive() == [(b"ping", other.getsockname(), local)]
            assert transport.receive() == []
            transport.send(b"pong", local, other.getsockname())
            assert other.recvfrom(100)[0] == b"pong"
        fds = transport.filenos()
        transport.close()
        assert transport.filenos() == []
        assert not loop.remove_reader(fds[0])  # close() already removed it

    asyncio.run(main())
