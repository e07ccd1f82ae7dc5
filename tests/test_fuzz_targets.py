"""Every fuzz target's seed corpus plus random bytes through `test_one_input` (no atheris)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

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
    sys.modules[name] = module  # so dataclasses etc. in a target can find their module
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


def _runner() -> ModuleType:
    if "fuzz_run" in sys.modules:
        return sys.modules["fuzz_run"]
    spec = importlib.util.spec_from_file_location("fuzz_run", FUZZ_DIR / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_run"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_runner_discovers_and_selects_targets() -> None:
    run = _runner()
    targets = run.discover()
    assert set(targets) == {p.name.removesuffix("_target.py") for p in TARGETS}
    for spelling in ("sdp", "sdp_target", "fuzz/sdp_target.py"):
        assert list(run._select(targets, [spelling])) == ["sdp"]
    with pytest.raises(SystemExit):
        run._select(targets, ["no-such-target"])


def test_runner_fuzzes_sdp_under_atheris(tmp_path: Path) -> None:
    run = _runner()
    result = run.run_target(
        "sdp",
        FUZZ_DIR / "sdp_target.py",
        300,
        60,
        crashes=tmp_path / "crashes",
    )
    assert result.result == "ok", result
    assert result.iterations >= 300
    assert not list((tmp_path / "crashes").iterdir())


def test_runner_reports_a_crash(tmp_path: Path) -> None:
    target = tmp_path / "boom_target.py"
    target.write_text(
        "def test_one_input(data: bytes) -> None:\n"
        "    if data.startswith(b'v'):\n"
        "        raise IndexError('boom')\n"
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seed").write_bytes(b"v=0")
    run = _runner()
    result = run.run_target("boom", target, 100, 60, corpus=corpus, crashes=tmp_path / "crashes")
    assert result.result == "crash" and result.failed
    assert list((tmp_path / "crashes").iterdir())
