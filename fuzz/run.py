"""Bounded atheris pass over every fuzz target.

    python fuzz/run.py [--iterations N] [--timeout S] [target ...]

Discovers every `fuzz/<name>_target.py` (a module exposing `test_one_input(data: bytes)`),
runs each in its own subprocess under atheris/libFuzzer with `-runs=N` over its seed corpus
`fuzz/corpus/<name>/` (new inputs go to a temporary directory, so the seed corpus is never
modified), and prints one line per target: name, iterations, result, seconds. Crash inputs are
written to `fuzz/crashes/<name>/`. Exit status is 1 if any target crashed or failed, else 0.
Targets may be given as `sdp`, `sdp_target` or `fuzz/sdp_target.py`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent
ROOT = FUZZ_DIR.parent
SUFFIX = "_target.py"

# Runs inside the child process: instrument the packages the target imports, then fuzz.
_CHILD = """
import importlib.util, sys
import atheris
path, args = sys.argv[1], sys.argv[2:]
with atheris.instrument_imports():
    spec = importlib.util.spec_from_file_location("fuzz_target_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
atheris.Setup([sys.argv[0], *args], module.test_one_input)
atheris.Fuzz()
"""
_EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(\d+)|Done (\d+) runs in")


@dataclass(frozen=True)
class Result:
    name: str
    iterations: int
    result: str
    seconds: float

    @property
    def failed(self) -> bool:
        return self.result != "ok"


def discover(fuzz_dir: Path = FUZZ_DIR) -> dict[str, Path]:
    """Map target name -> path for every `<name>_target.py` in `fuzz_dir`."""
    return {p.name[: -len(SUFFIX)]: p for p in sorted(fuzz_dir.glob("*" + SUFFIX))}


def _select(targets: dict[str, Path], wanted: list[str]) -> dict[str, Path]:
    if not wanted:
        return targets
    chosen: dict[str, Path] = {}
    for item in wanted:
        name = Path(item).name
        name = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name.removesuffix("_target")
        if name not in targets:
            raise SystemExit(f"unknown fuzz target {item!r}; known: {', '.join(targets)}")
        chosen[name] = targets[name]
    return chosen


def run_target(
    name: str,
    path: Path,
    iterations: int,
    timeout: float,
    *,
    corpus: Path | None = None,
    crashes: Path | None = None,
) -> Result:
    """Fuzz one target in a subprocess; `timeout` bounds its wall-clock time in seconds.

    `corpus` defaults to fuzz/corpus/<name>/ and `crashes` to fuzz/crashes/<name>/.
    """
    corpus = FUZZ_DIR / "corpus" / name if corpus is None else corpus
    crashes = FUZZ_DIR / "crashes" / name if crashes is None else crashes
    crashes.mkdir(parents=True, exist_ok=True)
    before = set(crashes.iterdir())
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as scratch:
        args = [
            sys.executable,
            "-c",
            _CHILD,
            str(path),
            scratch,  # libFuzzer writes new inputs to the first corpus directory
            *([str(corpus)] if corpus.is_dir() else []),
            f"-runs={iterations}",
            f"-max_total_time={max(1, int(timeout))}",
            f"-artifact_prefix={crashes}{os.sep}",
            "-print_final_stats=1",
        ]
        try:
            proc = subprocess.run(
                args,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                timeout=timeout + 60,
            )
        except subprocess.TimeoutExpired:
            return Result(name, 0, "timeout", time.monotonic() - start)
    seconds = time.monotonic() - start
    output = proc.stdout
    found = _EXECUTED.search(output)
    done = int(found.group(1) or found.group(2)) if found else 0
    new_crashes = set(crashes.iterdir()) - before
    if new_crashes or "Uncaught Python exception" in output:
        result = "crash"
    elif proc.returncode != 0:
        result = f"error({proc.returncode})"
    else:
        result = "ok"
    if result != "ok":
        sys.stderr.write(f"--- {name} output (last 40 lines) ---\n")
        sys.stderr.write("\n".join(output.splitlines()[-40:]) + "\n")
    return Result(name, done, result, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", "-n", type=int, default=2000, help="runs per target")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per target")
    parser.add_argument("targets", nargs="*", help="target names (default: all)")
    options = parser.parse_args(argv)
    targets = _select(discover(), options.targets)
    if not targets:
        print("no fuzz targets found")
        return 0
    failed = False
    for name, path in targets.items():
        result = run_target(name, path, options.iterations, options.timeout)
        print(
            f"{result.name:<16} {result.iterations:>9} {result.result:<10} {result.seconds:7.1f}s",
            flush=True,
        )
        failed |= result.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
