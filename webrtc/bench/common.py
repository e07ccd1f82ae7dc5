"""Helpers shared by both sides of the benchmark."""

from __future__ import annotations

import os

Figures = dict[str, float]


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
