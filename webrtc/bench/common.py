"""Helpers shared by both sides of the benchmark."""

from __future__ import annotations

import os

Figures = dict[str, float]

WARMUP_BYTES = 1_000_000  # moved before the throughput figures (cwnd growth; our PLPMTUD search)


def total_bytes(size: int, quick: bool) -> int:
    """Bytes moved per throughput figure (the same for both stacks)."""
    if size > 1024:
        return (4 if quick else 16) * 1_000_000
    return (2 if quick else 6) * 1_000_000


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def mb_per_s(total_bytes: int, seconds: float) -> float:
    """Throughput in MB/s with 1 MB = 10^6 bytes (the issue's unit)."""
    return total_bytes / 1e6 / seconds if seconds > 0 else float("inf")


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")
