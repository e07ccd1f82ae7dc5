"""Our stack talking to aiortc (a test peer only, imported lazily): 16 KiB messages each way.

Both peers live in this process on one asyncio loop: aiortc as usual, ours driven by
`webrtc.aio.Driver` (poll() on socket readiness, as an asyncio application would run it).
Third-party peers never declare `a=x-dtls-record-size-limit`, so every datagram is at most
1200 bytes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from webrtc.bench.aiortc_side import receive_counter
from webrtc.bench.common import WARMUP_BYTES, Figures, mb_per_s, total_bytes

_HIGH = 1024 * 1024  # buffered-amount backpressure, as in the other rows


async def _connect(driver: Any) -> tuple[Any, Any, Any, Any]:
    """Our offer, aiortc's answer, our candidates trickled; returns (ours, theirs, our channel,
    their channel) once both channel ends are open."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.sdp import candidate_from_sdp

    from webrtc import WebRTCDataChannel

    theirs = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    ours = driver.peer_connection()
    remote: list[Any] = []
    offers: asyncio.Queue[str] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()

    @theirs.on("datachannel")
    def _on_channel(channel: Any) -> None:
        remote.append(channel)

    def on_description(type_: str, sdp: str) -> None:
        ours.set_local_description(type_, sdp)
        offers.put_nowait(sdp)

    def on_candidate(mid: str, index: int, name: str) -> None:
        text = name.removeprefix("a=").removeprefix("candidate:")
        if not text:
            return
        cand = candidate_from_sdp(text)
        cand.sdpMid, cand.sdpMLineIndex = mid, index
        task = asyncio.get_running_loop().create_task(theirs.addIceCandidate(cand))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    ours.session_description_created.connect(on_description)
    ours.ice_candidate_created.connect(on_candidate)
    local = ours.create_data_channel("bench")
    ours.create_offer()
    driver.wake()
    offer = await asyncio.wait_for(offers.get(), 30)
    await theirs.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await theirs.setLocalDescription(await theirs.createAnswer())
    ours.set_remote_description("answer", theirs.localDescription.sdp)
    driver.wake()
    await driver.wait_until(
        lambda: (
            local.get_ready_state() == WebRTCDataChannel.STATE_OPEN
            and bool(remote)
            and remote[0].readyState == "open"
        ),
        30,
    )
    return ours, theirs, local, remote[0]


async def _to_aiortc(driver: Any, tx: Any, rx: Any, size: int, total: int) -> float:
    """Our channel `tx` sends `total` bytes to aiortc's `rx` as an asyncio application would
    (`webrtc.aio.send`: put_packet with buffered-amount backpressure, the driver polls on
    socket readiness); returns the seconds taken."""
    from webrtc import aio

    done, on_message = receive_counter(rx, total)
    payload = b"\x00" * size
    t0 = time.perf_counter()
    for _ in range(0, total, size):
        await aio.send(tx, payload, high_water=_HIGH, driver=driver)
    await done
    elapsed = time.perf_counter() - t0
    rx.remove_listener("message", on_message)
    return elapsed


async def _from_aiortc(driver: Any, tx: Any, rx: Any, size: int, total: int) -> float:
    """aiortc's channel `tx` sends `total` bytes to our `rx`; returns the seconds taken."""
    payload = b"\x00" * size
    tx.bufferedAmountLowThreshold = _HIGH // 2
    low = asyncio.Event()

    def on_low() -> None:
        low.set()

    tx.on("bufferedamountlow", on_low)

    async def send_all() -> None:
        sent = 0
        while sent < total:
            if tx.bufferedAmount > _HIGH:
                low.clear()
                await low.wait()
                continue
            tx.send(payload)
            sent += size
            if sent % (64 * size) == 0:
                await asyncio.sleep(0)

    received = 0
    t0 = time.perf_counter()
    sender = asyncio.get_running_loop().create_task(send_all())
    while received < total:
        await driver.next_round()  # a poll round, on socket readiness or a timer
        while rx.get_available_packet_count():
            received += len(rx.get_packet())
    elapsed = time.perf_counter() - t0
    await sender
    tx.remove_listener("bufferedamountlow", on_low)
    return elapsed


async def _run(quick: bool) -> Figures:
    from webrtc.aio import Driver

    figures: Figures = {}
    async with Driver() as driver:
        ours, theirs, local, remote = await _connect(driver)
        try:
            size, total = 16384, total_bytes(16384, quick)
            for key, run, tx, rx in (
                ("to_aiortc", _to_aiortc, local, remote),
                ("from_aiortc", _from_aiortc, remote, local),
            ):
                await run(driver, tx, rx, size, WARMUP_BYTES)  # cwnd growth
                c0 = time.process_time()
                elapsed = await run(driver, tx, rx, size, total)
                figures[f"{key}_16k_MBps"] = mb_per_s(total, elapsed)
                # both peers are in this process: aiortc's CPU counts too
                figures[f"cpu_s_per_MB_{key}_16k"] = (time.process_time() - c0) / (total / 1e6)
        finally:
            ours.close()
            await theirs.close()
    return figures


def measure(quick: bool) -> Figures:
    """Our peer sending to and receiving from an aiortc peer; returns the figures."""
    return asyncio.run(_run(quick))
