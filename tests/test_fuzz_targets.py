"""Every fuzz target's seed corpus plus random bytes through `test_one_input` (no atheris)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ_DIR = Path(__file__).resolve().parent.parent / "fuzz"
TARGETS = sorted(FUZZ_DIR.glob("*_target.py"))


def _load(path: Path) -> Callable[[bytes], None]:
    name = "fuzz_" + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: Callable[[bytes], None] = module.test_one_input
    return function


def _corpus(path: Path) -> list[Path]:
    directory = FUZZ_DIR / "corpus" / path.name.removesuffix("_target.py")
    return sorted(p for p in directory.glob("*") if p.is_file()) if directory.is_dir() else []


def test_targets_discovered() -> None:
    assert any(p.name == "sdp_target.py" for p in TARGETS)


@pytest.mark.parametrize("path", TARGETS, ids=lambda p: p.stem)
def test_seed_corpus(path: Path) -> None:
    target = _load(path)
    seeds = _corpus(path)
    assert seeds, f"{path.name} has no seed corpus"
    for seed in seeds:
        target(seed.read_bytes())


@pytest.mark.parametrize("path", TARGETS, ids=lambda p: p.stem)
def test_random_inputs(path: Path) -> None:
    target = _load(path)
    seeds = [p.read_bytes() for p in _corpus(path)] or [b""]
    # Mutated seeds reach deeper than uniform bytes: flip/insert/truncate around a real input.
    mutated = st.builds(
        lambda seed, cut, insert: seed[:cut] + insert + seed[cut + len(insert) // 2 :],
        st.sampled_from(seeds),
        st.integers(min_value=0, max_value=max(len(s) for s in seeds)),
        st.binary(max_size=16),
    )

    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(st.one_of(st.binary(max_size=512), mutated))
    def run(data: bytes) -> None:
        target(data)

    run()
