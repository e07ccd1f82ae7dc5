"""The same measurements as `ours`, taken on aiortc (a test peer only, imported lazily)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from webrtc.bench.common import WARMUP_BYTES, Figures, mb_per_s, percentile, rss_bytes, total_bytes


async def _pair() -> tuple[Any, Any, Any, Any, float]:
    """Two connected aiortc peers with an open channel; returns (pc1, pc2, ch1, ch2, setup_s)."""
    from aiortc import RTCConfiguration, RTCPeerConnection

    pc1 = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc2 = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    opened: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    got_remote: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @pc2.on("datachannel")
    def _on_dc(channel: Any) -> None:
        if not got_remote.done():
            got_remote.set_result(channel)

    start = time.perf_counter()
    ch1 = pc1.createDataChannel("bench")

    @ch1.on("open")
    def _on_open() -> None:
        if not opened.done():
            opened.set_result(None)

    await pc1.setLocalDescription(await pc1.createOffer())
    await pc2.setRemoteDescription(pc1.localDescription)
    await pc2.setLocalDescription(await pc2.createAnswer())
    await pc1.setRemoteDescription(pc2.localDescription)
    await opened
    ch2 = await got_remote
    return pc1, pc2, ch1, ch2, time.perf_counter() - start


def receive_counter(channel: Any, total: int) -> tuple[asyncio.Future[None], Any]:
    """Listen on aiortc's `channel`: the future completes once `total` bytes have arrived.
    Returns it and the listener (for `channel.remove_listener("message", listener)`)."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    received = 0

    def on_message(message: Any) -> None:
        nonlocal received
        received += len(message)
        if received >= total and not done.done():
            done.set_result(None)

    channel.on("message", on_message)
    return done, on_message


async def _throughput(ch1: Any, ch2: Any, size: int, total: int) -> tuple[float, float]:
    """Send `total` bytes in `size`-byte messages with buffered-amount backpressure."""
    done, on_message = receive_counter(ch2, total)
    payload = b"\x00" * size
    high = 1024 * 1024
    ch1.bufferedAmountLowThreshold = high // 2
    low = asyncio.Event()

    @ch1.on("bufferedamountlow")  # type: ignore[untyped-decorator]
    def _on_low() -> None:
        low.set()

    t0, c0 = time.perf_counter(), time.process_time()
    sent = 0
    while sent < total:
        if ch1.bufferedAmount > high:
            low.clear()
            await low.wait()
            continue
        ch1.send(payload)
        sent += size
        if sent % (64 * size) == 0:
            await asyncio.sleep(0)
    await done
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    ch2.remove_listener("message", on_message)
    return elapsed, cpu


async def _rtts(ch1: Any, ch2: Any, count: int) -> list[float]:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    ch2.on("message", lambda m: ch2.send(m))
    ch1.on("message", queue.put_nowait)
    payload = b"p" * 64
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        ch1.send(payload)
        await queue.get()
        out.append(time.perf_counter() - t0)
    return out


async def _run(quick: bool) -> Figures:
    figures: Figures = {}
    setups = []
    for _ in range(5 if quick else 10):
        pc1, pc2, *_rest, setup = await _pair()
        setups.append(setup)
        await pc1.close()
        await pc2.close()
    setups.sort()
    figures["setup_ms"] = 1000 * percentile(setups, 50)
    figures["setup_ms_min"] = 1000 * setups[0]
    figures["setup_ms_max"] = 1000 * setups[-1]

    pc1, pc2, ch1, ch2, _ = await _pair()
    await _throughput(ch1, ch2, 16384, WARMUP_BYTES)  # the same warm-up as ours
    for size, key in ((16384, "16k"), (1024, "1k")):
        total = total_bytes(size, quick)
        elapsed, cpu = await _throughput(ch1, ch2, size, total)
        figures[f"throughput_{key}_MBps"] = mb_per_s(total, elapsed)
        figures[f"cpu_s_per_MB_{key}"] = cpu / (total / 1e6)
    rtts = sorted(await _rtts(ch1, ch2, 100 if quick else 500))
    figures["rtt_us_median"] = 1e6 * percentile(rtts, 50)
    figures["rtt_us_p99"] = 1e6 * percentile(rtts, 99)
    await pc1.close()
    await pc2.close()

    n = 10 if quick else 50  # pairs, i.e. 2n connections
    before = rss_bytes()
    t0 = time.perf_counter()
    pairs = await asyncio.gather(*(_pair() for _ in range(n)))
    figures["connect_many_s"] = time.perf_counter() - t0
    figures["connections"] = 2 * n
    for _pc1, _pc2, c1, c2, _ in pairs:
        await _rtts(c1, c2, 1)
    figures["idle_memory_kB_per_connection"] = (rss_bytes() - before) / 1024 / (2 * n)
    for p1, p2, *_ in pairs:
        await p1.close()
        await p2.close()
    return figures


def measure(quick: bool) -> Figures:
    """Run every measurement on aiortc; returns the figures."""
    return asyncio.run(_run(quick))
