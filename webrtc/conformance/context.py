"""What a scenario gets: a way to open sessions with a fresh peer under test, and options."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..testing.network import Impairment
from .peers.base import PeerAdapter
from .proxy import ImpairmentProxy
from .session import Session, Tester

__all__ = ["Context", "RunOptions"]

EVIDENCE_EVENTS = 80  # trace records kept as the evidence of one failure
EVIDENCE_WIRE = 120  # proxy lines kept likewise


@dataclass
class RunOptions:
    """Knobs of a run. `messages`: per direction in the exact-delivery scenarios."""

    messages: int = 100
    seed: int = 1
    host: str = "127.0.0.1"  # our tester's and the proxy's A side address
    proxy_lifetime: float = 300.0
    connect_timeout: float = 20.0  # how long a connection may take to come up


class Context:
    """Handed to `Scenario.run`: `session()` starts a tester, a fresh peer and a proxy."""

    def __init__(
        self, peer_kind: str, make_peer: Callable[[], PeerAdapter], options: RunOptions
    ) -> None:
        self.peer_kind = peer_kind
        self.make_peer = make_peer
        self.options = options
        self.sessions: list[Session] = []

    def session(
        self,
        *,
        a_to_b: Impairment | None = None,
        b_to_a: Impairment | None = None,
        zero_checksum: bool = True,
    ) -> Session:
        """`zero_checksum`: whether our tester advertises it (RFC 9653 §5.2)."""
        peer = self.make_peer()
        try:
            n = len(self.sessions)
            seed = self.options.seed * 100 + n
            tester = Tester(host=self.options.host, seed=seed, zero_checksum=zero_checksum)
            proxy = ImpairmentProxy(
                self.options.host,
                peer.host,
                seed=self.options.seed + n,
                a_to_b=a_to_b,
                b_to_a=b_to_a,
                lifetime=self.options.proxy_lifetime,
            ).start()
        except Exception:
            peer.close()
            raise
        s = Session(peer, tester, proxy, connect_timeout=self.options.connect_timeout)
        self.sessions.append(s)
        return s

    def evidence(self, focus: float | None) -> tuple[list[dict[str, Any]], list[str]]:
        """Our trace records around `focus` (a trace time; None = the end) and the proxy's view,
        of the last session."""
        if not self.sessions:
            return [], []
        s = self.sessions[-1]
        events = list(s.tester.trace)
        if focus is None:
            window = events[-EVIDENCE_EVENTS:]
        else:
            before = [e for e in events if e.time <= focus][-EVIDENCE_EVENTS // 2 :]
            after = [e for e in events if e.time > focus][: EVIDENCE_EVENTS // 2]
            window = before + after
        records = []
        for e in window:
            obj = json.loads(e.to_json("ours"))
            obj["time"] = round(e.time - s.t0, 6)
            records.append(obj)
        return records, s.wire_lines(EVIDENCE_WIRE)

    def close(self) -> None:
        for s in self.sessions:
            s.close()
