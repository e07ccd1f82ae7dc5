"""Interop with aioice (an independent ICE implementation) over real UDP in a private netns."""

from __future__ import annotations

import json

import pytest

from tests.interop.netns import private_netns, require


@pytest.mark.interop
def test_aioice_both_roles() -> None:
    try:
        import aioice  # noqa: F401
    except ImportError:  # pragma: no cover
        require(False, "aioice is not installed")
    with private_netns("iceaio") as ns:
        proc = ns.python("-m", "tests.ice.aioice_scenario", *ns.addresses, timeout=120)
        assert proc.returncode == 0, proc.stderr
        results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [r["we_control"] for r in results] == [True, False]
    for r in results:
        assert "error" not in r, r
        assert r["aioice_connected"] and r["our_connected"], r
        assert r["selected"] is not None, r
        assert r["we_received"] and r["send_ok"] and r["they_received"], r
        assert r["they_received_burst"], r
        assert r["our_role_final"] is r["we_control"], r
        assert r["stats"].get("bad_integrity", 0) == 0, r
