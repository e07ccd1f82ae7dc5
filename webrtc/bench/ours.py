"""The benchmark measurements on our stack, through the Godot API and `poll()` only."""

from __future__ import annotations

import time
from typing import Any

from webrtc.bench.common import WARMUP_BYTES, Figures, mb_per_s, percentile, rss_bytes, total_bytes


def _new_pc(large_records: bool = True) -> Any:
    from webrtc import WebRTCPeerConnection

    pc = WebRTCPeerConnection(large_records=large_records)
    pc.initialize({"iceServers": []})
    return pc


class _Pair:
    """Two peer connections wired to each other through their signals (in-process signaling)."""

    def __init__(self, large_records: bool = True) -> None:
        self.a = _new_pc(large_records)
        self.b = _new_pc(large_records)
        self.remote: Any = None
        a, b = self.a, self.b
        a.session_description_created.connect(self._on_a_description)
        b.session_description_created.connect(self._on_b_description)
        a.ice_candidate_created.connect(lambda m, i, n: b.add_ice_candidate(m, i, n))
        b.ice_candidate_created.connect(lambda m, i, n: a.add_ice_candidate(m, i, n))
        b.data_channel_received.connect(self._on_channel)

    def _on_a_description(self, type_: str, sdp: str) -> None:
        self.a.set_local_description(type_, sdp)
        self.b.set_remote_description(type_, sdp)

    def _on_b_description(self, type_: str, sdp: str) -> None:
        self.b.set_local_description(type_, sdp)
        self.a.set_remote_description(type_, sdp)

    def _on_channel(self, channel: Any) -> None:
        self.remote = channel

    def poll(self) -> None:
        self.a.poll()
        self.b.poll()

    def open(self, timeout: float = 30.0) -> tuple[Any, Any, float]:
        """Create a channel and an offer; poll until both ends see it open."""
        from webrtc import WebRTCDataChannel

        start = time.perf_counter()
        local = self.a.create_data_channel("bench")
        self.a.create_offer()
        deadline = start + timeout
        while time.perf_counter() < deadline:
            self.poll()
            if (
                local.get_ready_state() == WebRTCDataChannel.STATE_OPEN
                and self.remote is not None
                and self.remote.get_ready_state() == WebRTCDataChannel.STATE_OPEN
            ):
                return local, self.remote, time.perf_counter() - start
        raise TimeoutError("channel did not open")

    def close(self) -> None:
        self.a.close()
        self.b.close()


def _throughput(pair: _Pair, tx: Any, rx: Any, size: int, total: int) -> tuple[float, float]:
    payload = b"\x00" * size
    high = 1024 * 1024
    sent = received = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while received < total:
        while sent < total and tx.get_buffered_amount() < high:
            tx.put_packet(payload)
            sent += size
        pair.poll()
        while rx.get_available_packet_count():
            received += len(rx.get_packet())
    return time.perf_counter() - t0, time.process_time() - c0


def _rtts(pair: _Pair, tx: Any, rx: Any, count: int) -> list[float]:
    payload = b"p" * 64
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        tx.put_packet(payload)
        while True:
            pair.poll()
            if rx.get_available_packet_count():
                rx.put_packet(rx.get_packet())
            if tx.get_available_packet_count():
                tx.get_packet()
                break
        out.append(time.perf_counter() - t0)
    return out


def measure(quick: bool) -> Figures:
    """Run every measurement on our stack; returns the figures."""
    figures: Figures = {}
    setups = []
    for _ in range(5 if quick else 10):
        pair = _Pair()
        setups.append(pair.open()[2])
        pair.close()
    setups.sort()
    figures["setup_ms"] = 1000 * percentile(setups, 50)
    figures["setup_ms_min"] = 1000 * setups[0]
    figures["setup_ms_max"] = 1000 * setups[-1]

    for large, suffix in ((False, "_base"), (True, "")):
        pair = _Pair(large)
        tx, rx, _ = pair.open()
        _throughput(pair, tx, rx, 16384, WARMUP_BYTES)  # PLPMTUD search, cwnd growth
        for size, key in ((16384, "16k"), (1024, "1k")):
            total = total_bytes(size, quick)
            elapsed, cpu = _throughput(pair, tx, rx, size, total)
            figures[f"throughput_{key}_MBps{suffix}"] = mb_per_s(total, elapsed)
            figures[f"cpu_s_per_MB_{key}{suffix}"] = cpu / (total / 1e6)
        rtts = sorted(_rtts(pair, tx, rx, 100 if quick else 500))
        figures[f"rtt_us_median{suffix}"] = 1e6 * percentile(rtts, 50)
        figures[f"rtt_us_p99{suffix}"] = 1e6 * percentile(rtts, 99)
        pair.close()

    n = 10 if quick else 50  # pairs, i.e. 2n connections
    before = rss_bytes()
    t0 = time.perf_counter()
    pairs = [_Pair() for _ in range(n)]
    channels: list[Any] = [p.a.create_data_channel("bench") for p in pairs]
    for p in pairs:
        p.a.create_offer()
    from webrtc import WebRTCDataChannel

    while not all(
        c.get_ready_state() == WebRTCDataChannel.STATE_OPEN and p.remote is not None
        for p, c in zip(pairs, channels, strict=True)
    ):
        if time.perf_counter() - t0 > 120:
            raise TimeoutError("concurrent connections did not come up")
        for p in pairs:
            p.poll()
    figures["connect_many_s"] = time.perf_counter() - t0
    figures["connections"] = 2 * n
    for p, c in zip(pairs, channels, strict=True):
        _rtts(p, c, p.remote, 1)
    figures["idle_memory_kB_per_connection"] = (rss_bytes() - before) / 1024 / (2 * n)
    for p in pairs:
        p.close()
    return figures
