"""`python -m webrtc bench`: our stack and aiortc measured side by side in one run.

Figures (per stack): setup_ms (median of fresh pairs, with _min/_max), throughput_16k_MBps,
throughput_1k_MBps (reliable ordered channel, buffered-amount backpressure, 1 MB = 10^6 bytes),
cpu_s_per_MB_16k / _1k (both peers are in this process), rtt_us_median / rtt_us_p99 (64-byte
ping-pong), the same with `_base` for 1200-byte datagrams only (as with third-party peers),
to_aiortc_16k_MBps / from_aiortc_16k_MBps and cpu_s_per_MB_to_aiortc_16k / _from_aiortc_16k (our
peer sending to / receiving from an aiortc peer, in "ours"), connect_many_s (bringing up
`connections` concurrent connections) and idle_memory_kB_per_connection (RSS growth /
connections). As root the run happens inside a private
network namespace. No test asserts on these numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable

from webrtc.bench import netns
from webrtc.bench.common import Figures

_IN_NS = "WEBRTC_BENCH_IN_NETNS"

# (key, label, aiortc key to compare with)
ROWS: list[tuple[str, str, str]] = [
    ("setup_ms", "setup, median (ms)", "setup_ms"),
    ("setup_ms_min", "setup, min (ms)", "setup_ms_min"),
    ("setup_ms_max", "setup, max (ms)", "setup_ms_max"),
    ("throughput_16k_MBps", "throughput 16 KiB msgs (MB/s)", "throughput_16k_MBps"),
    ("throughput_1k_MBps", "throughput 1 KiB msgs (MB/s)", "throughput_1k_MBps"),
    ("cpu_s_per_MB_16k", "CPU s per MB, 16 KiB", "cpu_s_per_MB_16k"),
    ("cpu_s_per_MB_1k", "CPU s per MB, 1 KiB", "cpu_s_per_MB_1k"),
    ("rtt_us_median", "ping-pong 64 B, median (us)", "rtt_us_median"),
    ("rtt_us_p99", "ping-pong 64 B, p99 (us)", "rtt_us_p99"),
    # Our stack with 1200-byte datagrams only, as it talks to third-party peers (no
    # a=x-dtls-record-size-limit, so no PLPMTUD): the same warm-up and sizes as the rows above.
    ("throughput_16k_MBps_base", "throughput 16 KiB, 1200-B dgrams (MB/s)", "throughput_16k_MBps"),
    ("throughput_1k_MBps_base", "throughput 1 KiB, 1200-B dgrams (MB/s)", "throughput_1k_MBps"),
    ("cpu_s_per_MB_16k_base", "CPU s per MB, 16 KiB, 1200-B dgrams", "cpu_s_per_MB_16k"),
    ("cpu_s_per_MB_1k_base", "CPU s per MB, 1 KiB, 1200-B dgrams", "cpu_s_per_MB_1k"),
    ("rtt_us_median_base", "ping-pong 64 B, 1200-B, median (us)", "rtt_us_median"),
    ("rtt_us_p99_base", "ping-pong 64 B, 1200-B, p99 (us)", "rtt_us_p99"),
    # Our peer against an aiortc peer (16 KiB messages), next to aiortc talking to itself.
    ("to_aiortc_16k_MBps", "ours -> aiortc, 16 KiB msgs (MB/s)", "throughput_16k_MBps"),
    ("from_aiortc_16k_MBps", "aiortc -> ours, 16 KiB msgs (MB/s)", "throughput_16k_MBps"),
    ("cpu_s_per_MB_to_aiortc_16k", "CPU s per MB, ours -> aiortc", "cpu_s_per_MB_16k"),
    ("cpu_s_per_MB_from_aiortc_16k", "CPU s per MB, aiortc -> ours", "cpu_s_per_MB_16k"),
    ("connections", "concurrent connections", "connections"),
    ("connect_many_s", "time to bring them up (s)", "connect_many_s"),
    (
        "idle_memory_kB_per_connection",
        "memory per idle connection (kB)",
        "idle_memory_kB_per_connection",
    ),
]


def _cell(value: float | None) -> str:
    if value is None:
        return f"{'-':>12}"
    return f"{value:12.2f}" if abs(value) >= 1 else f"{value:12.4f}"


def _table(ours: Figures, theirs: Figures) -> str:
    lines = [f"{'measurement':40} {'ours':>12} {'aiortc':>12} {'ours/aiortc':>12}"]
    for key, label, their_key in ROWS:
        a, b = ours.get(key), theirs.get(their_key)
        ratio = f"{a / b:12.3f}" if a is not None and b else f"{'-':>12}"
        lines.append(f"{label:40} {_cell(a)} {_cell(b)} {ratio}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webrtc bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs, under a minute")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--only",
        choices=["ours", "aiortc", "mixed"],
        help="measure one stack only (mixed: ours <-> aiortc rows only)",
    )
    parser.add_argument("--no-netns", action="store_true", help="do not enter a private namespace")
    args = parser.parse_args(argv)

    if not args.no_netns and netns.available() and os.environ.get(_IN_NS) != "1":
        env = dict(os.environ, **{_IN_NS: "1"})
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        rest = argv if argv is not None else sys.argv[1:]
        argv_ = [sys.executable, "-m", "webrtc.bench", *rest]
        return netns.run_inside(argv_, env)

    results: dict[str, Figures] = {"ours": {}, "aiortc": {}}
    runners: dict[str, Callable[[bool], Figures]] = {}
    if args.only in (None, "ours"):
        from webrtc.bench import ours

        runners["ours"] = ours.measure
    if args.only in (None, "aiortc"):
        from webrtc.bench import aiortc_side

        runners["aiortc"] = aiortc_side.measure
    for name, measure in runners.items():
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        results[name] = measure(args.quick)
    if args.only in (None, "mixed"):
        from webrtc.bench import mixed

        print("measuring ours <-> aiortc ...", file=sys.stderr, flush=True)
        results["ours"].update(mixed.measure(args.quick))
    if args.json:
        print(json.dumps(results, indent=2, sort_keys=True))
    else:
        print(_table(results["ours"], results["aiortc"]))
    return 0
