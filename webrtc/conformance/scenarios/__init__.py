"""The scenario catalog: every check, in the order the runner runs them."""

from __future__ import annotations

from ..model import Scenario
from . import dtls_ice, sctp_dcep, sdp_checks

__all__ = ["CATALOG", "LOBBY_DEFAULT", "by_id"]

CATALOG: list[Scenario] = [*sdp_checks.CATALOG, *sctp_dcep.CATALOG, *dtls_ice.CATALOG]

# What a program that only joins a lobby can be tested on (it cannot be scripted): one join each.
LOBBY_DEFAULT = ["sdp.offer.parses", "sdp.offer.attributes", "dtls.replay-dropped",
                 "ice.consent-freshness"]  # fmt: skip


def by_id(ids: list[str]) -> list[Scenario]:
    """The scenarios with these ids (or id prefixes ending in '.'), in catalog order."""
    return [
        s
        for s in CATALOG
        if any(s.id == i or (i.endswith(".") and s.id.startswith(i)) for i in ids)
    ]
