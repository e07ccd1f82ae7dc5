"""The ```python blocks of docs/TESTING.md run as tests: each block is executed on its own and
every `test_*` function it defines is called (with no arguments, or for each value of a
`pytest.mark.parametrize` mark)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "TESTING.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_guide_has_examples() -> None:
    assert len(BLOCKS) >= 5


def _run_test(fn: Any) -> None:
    marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
    if not marks:
        fn()
        return
    (mark,) = marks
    (name,) = [n.strip() for n in mark.args[0].split(",")]
    for value in mark.args[1]:
        fn(**{name: value})


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example(index: int) -> None:
    namespace: dict[str, Any] = {"__name__": f"docs_testing_example_{index}"}
    exec(compile(BLOCKS[index], f"{DOC}:block{index}", "exec"), namespace)
    tests = [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    assert tests, "every example defines at least one test"
    for fn in tests:
        _run_test(fn)
