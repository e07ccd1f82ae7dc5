"""Conformance testing of other WebRTC data-channel stacks (`python -m webrtc conformance`).

A catalog of RFC-cited scenarios (`webrtc.conformance.scenarios`), run against a peer under test
through one adapter interface (`webrtc.conformance.peers`) with an impairment proxy on the real
wire between it and our tester (`webrtc.conformance.proxy`); results become a JSON document and
a self-contained HTML matrix (`webrtc.conformance.report`). Guide: docs/CONFORMANCE.md.
"""

from .model import Outcome, Result, Scenario, Verdict
from .proxy import Direction, ImpairmentProxy

__all__ = ["Direction", "ImpairmentProxy", "Outcome", "Result", "Scenario", "Verdict"]
