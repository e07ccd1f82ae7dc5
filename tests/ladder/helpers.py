"""Shared pieces of the ladder tests: the learn-diagram scenarios (scripts/learn_diagrams.py)
and SVG parsing."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def learn_module() -> ModuleType:
    """scripts/learn_diagrams.py, imported once."""
    name = "learn_diagrams"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "learn_diagrams.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    """Every <g> whose class list holds `cls`, in document order."""
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


def title(g: ET.Element) -> str:
    t = g.find(f"{SVG}title")
    return "" if t is None or t.text is None else t.text


def texts(g: ET.Element) -> list[str]:
    return [t.text or "" for t in g.iter(f"{SVG}text")]


def lifeline_x(root: ET.Element) -> dict[str, float]:
    """Lifeline name -> x, from the heads."""
    out = {}
    for head in groups(root, "head"):
        (label,) = texts(head)
        out[label] = float(head.find(f"{SVG}text").get("x"))  # type: ignore[union-attr]
    return out
