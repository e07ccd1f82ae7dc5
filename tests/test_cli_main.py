"""`python -m webrtc`: every subcommand is reachable and answers --help; errors exit non-zero."""

import subprocess
import sys

import pytest

from webrtc.__main__ import DELEGATED


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webrtc", *args], capture_output=True, text=True, timeout=60
    )


def test_top_level_help_lists_every_subcommand() -> None:
    out = _run("--help")
    assert out.returncode == 0
    for name in ["demo", *DELEGATED]:
        assert name in out.stdout


@pytest.mark.parametrize("command", ["demo", *DELEGATED])
def test_subcommand_help(command: str) -> None:
    out = _run(command, "--help")
    assert out.returncode == 0, out.stderr
    assert "usage:" in out.stdout


def test_unknown_subcommand_is_one_line_error() -> None:
    out = _run("bogus")
    assert out.returncode == 2
    assert "invalid choice" in out.stderr
