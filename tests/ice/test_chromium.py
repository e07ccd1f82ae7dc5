"""ICE-level interop with headless Chromium (mDNS candidates, its nomination) in a private netns."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from tests.interop.chromium_peer import CHROMIUM
from tests.interop.netns import private_netns, require


@pytest.mark.interop
def test_chromium_ice_both_roles_and_mdns() -> None:
    require(os.path.exists(CHROMIUM), "chromium is not installed")
    require(importlib.util.find_spec("playwright") is not None, "playwright is not installed")
    with private_netns("icechr") as ns:
        proc = ns.python("-m", "tests.ice.chromium_scenario", *ns.addresses, timeout=150)
        assert proc.returncode == 0, proc.stderr[-4000:]
        results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [(r["we_control"], r["mdns"]) for r in results] == [
        (False, True),
        (True, True),
        (False, False),
    ]
    for r in results:
        assert "error" not in r, r
        assert r["connected"], r
        assert r["chrome_ice_state"] in ("connected", "completed"), r
        sel = r["selected"]
        assert sel is not None and sel["nominated"], r
        assert r["our_role_final"] is r["we_control"], r
        chrome = r["chrome_pair"]
        assert chrome is not None and chrome["nominated"], r
        # both agents agree on the pair: Chromium's local port is our remote and vice versa
        assert chrome["local"]["port"] == sel["remote"][1], r
        assert chrome["remote"]["port"] == sel["local"][1], r
        assert r["stats"].get("bad_integrity", 0) == 0, r
        if r["mdns"]:
            # RFC 8445 §7.3.1.3: the hidden (mDNS) address is learned from Chromium's checks
            assert r["stats"]["mdns_candidates_ignored"] >= 1, r
            assert sel["remote_type"] == "prflx", r
