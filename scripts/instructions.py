"""CPU instructions per message or per round trip, counted by valgrind's callgrind.

    python scripts/instructions.py                 # all workloads on this tree
    python scripts/instructions.py rtt 1k          # some of them
    python scripts/instructions.py --tree DIR ...  # another checkout (e.g. a git worktree)

Wall-clock figures on a shared VM move by 30 % between runs; instruction counts repeat to
about 0.01 %, so they decide whether a change to the hot path helps. Both peers run in one
process (as in `python -m webrtc bench`); only the measured loop is counted (instrumentation is
switched on and off around it with callgrind_control). Needs valgrind (Debian: valgrind); as root
it runs inside a private network namespace like the benchmark. A developer tool: no test runs it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# name: (message size, units counted, what a unit is)
WORKLOADS = {
    "rtt": (64, 2000, "64-byte ping-pong round trip"),
    "1k": (1024, 3000, "1 KiB message, bundled in PLPMTUD packets"),
    "16k": (16384, 400, "16 KiB message"),
    "1k-base": (1024, 2000, "1 KiB message, 1200-byte datagrams"),
    "16k-base": (16384, 300, "16 KiB message, 1200-byte datagrams"),
    "idle": (0, 20000, "idle poll() of one peer"),
}


def _toggle(on: bool) -> None:
    subprocess.run(
        ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
        capture_output=True,
        check=False,
    )


def workload(name: str) -> None:
    """Run one workload in this process (under callgrind)."""
    import time

    from webrtc.bench import ours

    size, n, _ = WORKLOADS[name]
    pair = ours._Pair(not name.endswith("-base"))
    tx, rx, _ = pair.open()
    ours._throughput(pair, tx, rx, 16384, 500_000)  # PLPMTUD search, cwnd growth
    if name == "idle":
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            pair.poll()
        _toggle(True)
        for _ in range(n):
            pair.a.poll()
    elif name == "rtt":
        ours._rtts(pair, tx, rx, 200)
        _toggle(True)
        ours._rtts(pair, tx, rx, n)
    else:
        ours._throughput(pair, tx, rx, size, size * n)
        _toggle(True)
        ours._throughput(pair, tx, rx, size, size * n)
    _toggle(False)
    pair.close()


def _count(name: str, tree: str) -> int:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            valgrind,
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={tmp}/out",
            sys.executable,
            os.path.abspath(__file__),
            "--workload",
            name,
        ]
        env = dict(os.environ, PYTHONPATH=tree)
        env.setdefault("PYTHONHASHSEED", "0")  # set iteration order moves counts by ~0.5 %
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        found = re.search(r"Collected : (\d+)", out.stderr)
        if out.returncode != 0 or found is None:
            raise SystemExit(f"{name}: callgrind run failed:\n{out.stderr[-2000:]}")
        return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=" ".join(WORKLOADS) + " (default: all)")
    parser.add_argument("--tree", default=os.path.dirname(os.path.dirname(__file__)) or ".")
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--no-netns", action="store_true")
    args = parser.parse_args()
    if args.workload:
        workload(args.workload)
        return 0
    unknown = [n for n in args.names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    tree = os.path.abspath(args.tree)
    sys.path.insert(0, tree)
    from webrtc.bench import netns

    if not args.no_netns and netns.available() and os.environ.get("INSTRUCTIONS_IN_NETNS") != "1":
        env = dict(os.environ, INSTRUCTIONS_IN_NETNS="1", PYTHONPATH=tree)
        return netns.run_inside([sys.executable, *sys.argv], env)
    for name in args.names or list(WORKLOADS):
        n, what = WORKLOADS[name][1], WORKLOADS[name][2]
        total = _count(name, tree)
        print(f"{name:8} {total / n:12,.0f} instructions per {what}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
