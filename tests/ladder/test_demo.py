"""`python -m webrtc demo --ladder FILE`: the one command of the README's "See a connection"."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.ladder.helpers import ROOT, groups, texts


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "webrtc", "demo", "--megabytes", "1", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize("suffix", ["html", "svg"])
def test_demo_ladder(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"first.{suffix}"
    proc = _demo("--ladder", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"ladder diagram written to {out}" in proc.stdout
    text = out.read_text(encoding="utf-8")
    if suffix == "html":
        assert text.startswith("<!DOCTYPE html>")
        match = re.search(r"<svg .*</svg>", text, re.S)
        assert match is not None
        svg = match.group(0)
    else:
        svg = text
    root = ET.fromstring(svg)
    msgs = groups(root, "msg")
    labels = " ".join(" ".join(texts(g)) for g in msgs)
    for needle in ("Binding request", "ClientHello", "INIT ", "COOKIE ECHO", 'DCEP OPEN "demo"'):
        assert needle in labels, needle
    notes = " ".join(" ".join(texts(g)) for g in groups(root, "note"))
    assert "connection: CONNECTED" in notes and "channel demo: OPEN" in notes
    assert "connection: CLOSED" in notes
    bands = groups(root, "band")
    assert bands and sum(int(b.get("data-messages", 0)) for b in bands) > len(msgs)


def test_demo_trace_and_ladder_together(tmp_path: Path) -> None:
    """--trace prints as before while --ladder and --trace-json record."""
    out, js = tmp_path / "x.svg", tmp_path / "x.jsonl"
    proc = _demo("--trace", "--trace-json", str(js), "--ladder", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SCTP summary:" in proc.stdout and "STUN Binding request" in proc.stdout
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    again = tmp_path / "from_json.svg"
    cmd = [sys.executable, "-m", "webrtc", "ladder", str(js), "-o", str(again)]
    proc2 = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc2.returncode == 0, proc2.stdout + proc2.stderr
    live = ET.fromstring(out.read_text(encoding="utf-8"))
    loaded = ET.fromstring(again.read_text(encoding="utf-8"))
    assert len(groups(loaded, "msg")) == len(groups(live, "msg"))
    assert len(groups(loaded, "note")) >= 10
