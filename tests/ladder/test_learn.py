"""docs/LEARN.md's diagrams are what scripts/learn_diagrams.py writes now, byte for byte, and the
tour embeds each of them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.ladder.helpers import ROOT, groups, learn_module

LEARN = ROOT / "docs" / "LEARN.md"
DIAGRAMS = ROOT / "docs" / "learn"


def test_committed_diagrams_are_current() -> None:
    generated = learn_module().generate()
    committed = {p.name for p in DIAGRAMS.glob("*.svg")}
    assert committed == set(generated), "regenerate: python scripts/learn_diagrams.py"
    for name, text in generated.items():
        on_disk = (DIAGRAMS / name).read_text(encoding="utf-8")
        assert on_disk == text, f"docs/learn/{name} is stale: python scripts/learn_diagrams.py"


def test_generation_is_deterministic() -> None:
    learn = learn_module()
    assert learn.generate() == learn.generate()


def test_tour_embeds_every_diagram() -> None:
    text = LEARN.read_text(encoding="utf-8")
    for path in sorted(DIAGRAMS.glob("*.svg")):
        assert f"](learn/{path.name})" in text, path.name
        root = ET.fromstring(path.read_text(encoding="utf-8"))
        assert groups(root, "msg"), path.name


def test_tour_points_at_functions_that_exist() -> None:
    """Every `file.py:function` reference in the tour names a real definition."""
    import re

    text = LEARN.read_text(encoding="utf-8")
    refs = re.findall(r"`([a-z_/]+\.py):([A-Za-z_][A-Za-z_0-9.]*)`", text)
    assert len(refs) >= 15
    for path, name in refs:
        source = (ROOT / path).read_text(encoding="utf-8")
        pos = 0
        for part in name.split("."):  # Class.method: the method after its class
            found = re.compile(rf"^\s*(def|class) {part}\b", re.M).search(source, pos)
            assert found, f"{path}:{name}"
            pos = found.end()
