"""sctp.zero-checksum-negotiated (RFC 9653 §5.2): passes against our own stack, and fails, with
the count as evidence, against a peer that sends zero checksums we never advertised."""

from __future__ import annotations

from typing import Any

import pytest

from sctp.association import Association
from webrtc.conformance.context import RunOptions
from webrtc.conformance.model import Verdict
from webrtc.conformance.peers.stack import StackPeer
from webrtc.conformance.runner import run_catalog
from webrtc.conformance.scenarios import by_id

ID = "sctp.zero-checksum-negotiated"


def test_passes_against_our_own_stack() -> None:
    results = run_catalog(
        by_id([ID]), "self", lambda: StackPeer(seed=4), RunOptions(seed=2), progress=None
    )
    assert [r.verdict for r in results] == [Verdict.PASS], results[0].observed
    assert ", 0 had checksum 0 (" in results[0].observed


def test_fails_against_a_peer_sending_zero_checksums_unasked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adopt = Association._adopt_peer

    def rude(self: Association, *args: Any) -> None:
        adopt(self, *args)
        if self._zero_checksum_local:  # the peer under test (our tester advertises none)
            self.writer.zero_checksum = True  # breaks RFC 9653 §5.2

    monkeypatch.setattr(Association, "_adopt_peer", rude)
    options = RunOptions(seed=2, connect_timeout=3.0)
    results = run_catalog(by_id([ID]), "self", lambda: StackPeer(seed=4), options, progress=None)
    r = results[0]
    assert r.verdict is Verdict.FAIL, (r.verdict, r.observed)
    assert "dropped as we check the CRC32c" in r.observed and ", 0 had checksum 0" not in r.observed
