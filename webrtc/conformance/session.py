"""One connection between our tester and a peer under test, through the impairment proxy.

The descriptions passed between the two are rewritten so that each side's only candidate for
the other is the proxy's port for it (`rewrite_candidates`); the proxy learns each side's real
address from the candidates it signalled (or from its first datagram, e.g. for mDNS names).
`Tester` is our `WebRTCPeerConnection` with its trace recorded (the evidence of every verdict).
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sdp

from ..trace import TraceEvent
from .model import ScenarioFailed
from .peers.base import ChannelView, PeerAdapter
from .peers.stack import StackPeer
from .proxy import Address, Direction, ImpairmentProxy

__all__ = ["Session", "Tester", "rewrite_candidates", "signalled_address"]

TRACE_LIMIT = 20_000  # trace events kept per tester (older ones are dropped first)
STEP_SLEEP = 0.001
PROXY_CANDIDATE_PRIORITY = 2130706431


class Tester(StackPeer):
    """Our side of every scenario: a traced `WebRTCPeerConnection`."""

    kind = "tester"

    def __init__(
        self, *, host: str = "127.0.0.1", seed: int = 0, zero_checksum: bool = True
    ) -> None:
        self.trace: deque[TraceEvent] = deque(maxlen=TRACE_LIMIT)
        super().__init__(host=host, seed=seed, trace=self.trace.append, zero_checksum=zero_checksum)

    # The layers under the Godot surface, for scenarios that stimulate or inspect them (the
    # peer connection has no public accessor; see the report).
    @property
    def sctp(self) -> Any:
        return getattr(self.pc, "_sctp", None)

    @property
    def dtls(self) -> Any:
        return getattr(self.pc, "_dtls", None)

    @property
    def agent(self) -> Any:
        return getattr(self.pc, "_agent", None)

    def events(self, layer: str | None = None, kind: str | None = None) -> list[TraceEvent]:
        return [
            e
            for e in list(self.trace)
            if (layer is None or e.layer == layer) and (kind is None or e.kind == kind)
        ]


def signalled_address(candidates: Iterable[str], family_of: str) -> Address | None:
    """The first UDP host/srflx candidate with an IP literal of `family_of`'s family."""
    v6 = ":" in family_of
    for text in candidates:
        try:
            c = sdp.Candidate.parse(text)
        except sdp.ParseError:
            continue
        if c.transport.lower() != "udp" or c.is_mdns or (":" in c.address) != v6:
            continue
        return (c.address, c.port)
    return None


def candidates_in(description: str) -> list[str]:
    return [
        line[2:].strip() for line in description.splitlines() if line.startswith("a=candidate:")
    ]


def rewrite_candidates(
    description: str, address: Address | None, extra: Iterable[Address] = ()
) -> str:
    """`description` with its candidates replaced by one host candidate at `address` and
    end-of-candidates (None: no candidate and no end-of-candidates, so the receiver must wait
    for a peer-reflexive one; RFC 8838 §11 lets it fail an empty, ended check list)."""
    lines = [
        line
        for line in description.replace("\r\n", "\n").split("\n")
        if line and not line.startswith(("a=candidate:", "a=end-of-candidates"))
    ]
    if address is not None:
        host, port = address
        lines.append(f"a=candidate:9 1 udp {PROXY_CANDIDATE_PRIORITY} {host} {port} typ host")
        for n, (host, port) in enumerate(extra, start=10):  # lower priority than the real one
            lines.append(
                f"a=candidate:{n} 1 udp {PROXY_CANDIDATE_PRIORITY - n} {host} {port} typ host"
            )
        lines.append("a=end-of-candidates")
    return "\r\n".join(lines) + "\r\n"


@dataclass(frozen=True)
class _Pending:
    tester_channels: list[tuple[str, dict[str, Any]]]
    peer_channels: list[tuple[str, dict[str, Any]]]
    offerer: str
    wait_open: bool
    timeout: float


@dataclass
class Session:
    """Our tester, one peer under test and the proxy between them."""

    peer: PeerAdapter
    tester: Tester
    proxy: ImpairmentProxy
    offers: dict[str, str] = field(default_factory=dict)  # "tester"/"peer" -> SDP as created
    answers: dict[str, str] = field(default_factory=dict)
    t0: float = field(default_factory=time.monotonic)
    connect_timeout: float = 20.0  # connect()'s default bound
    _pending: _Pending | None = None  # what connect() left for connect_rest()

    # -- driving ----------------------------------------------------------------------------------

    def step(self) -> None:
        self.tester.pump()
        self.peer.pump()
        self._learn_peer_candidates()
        time.sleep(STEP_SLEEP)

    def wait(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Step until `condition()` or `timeout` seconds; whether it became true."""
        deadline = time.monotonic() + timeout
        while True:
            self.step()
            if condition():
                return True
            if time.monotonic() >= deadline:
                return False

    def idle(self, seconds: float) -> None:
        self.wait(lambda: False, seconds)

    def require(
        self,
        condition: Callable[[], bool],
        timeout: float,
        expected: str,
        observed: Callable[[], str],
    ) -> None:
        """Wait; on timeout end the scenario with FAIL (expected vs `observed()`)."""
        if not self.wait(condition, timeout):
            raise ScenarioFailed(expected, f"after {timeout:g} s: {observed()}")

    def _learn_peer_candidates(self) -> None:
        new = self.peer.take_candidates()
        if new and self.proxy.target("b") is None:
            addr = signalled_address(new, self.peer.host)
            if addr is not None:
                self.proxy.set_target("b", addr)

    # -- connecting -------------------------------------------------------------------------------

    def connect(
        self,
        *,
        offerer: str = "tester",
        tester_channels: Iterable[tuple[str, dict[str, Any]]] = (("conformance", {}),),
        peer_channels: Iterable[tuple[str, dict[str, Any]]] = (),
        give_peer_candidates: bool = True,
        decoys: int = 0,
        edit_tester_description: Callable[[str], str] | None = None,
        wait_open: bool = True,
        wait_connected: bool = True,
        timeout: float | None = None,
    ) -> None:
        """Signal through the proxy, then wait until both are connected and every channel
        created here is open on both sides. `give_peer_candidates=False` gives the peer no
        candidate of ours (it must learn us as peer-reflexive); `wait_connected=False` returns
        once the descriptions are exchanged; `decoys` adds that many candidates of ours at proxy
        sockets that relay nothing (more pairs for the peer to check)."""
        timeout = self.connect_timeout if timeout is None else timeout
        role = getattr(self.peer, "offer_role", "either")
        if role == "offerer" or (role == "answerer" and offerer == "peer"):
            offerer = "peer" if role == "offerer" else "tester"  # what the program can do
        tester_channels, peer_channels = list(tester_channels), list(peer_channels)
        if offerer == "peer" and not peer_channels and self.scriptable:
            peer_channels = [("offered", {})]  # an offer needs a channel for its m=application
        for label, options in tester_channels:
            self.tester.create_channel(label, options)
        if offerer == "peer":
            for label, options in peer_channels:
                self.peer.create_channel(label, options)
        edit = edit_tester_description or (lambda text: text)
        for_peer = self.proxy.address_for_b if give_peer_candidates else None
        extra = [self.proxy.decoy() for _ in range(decoys)]
        if offerer == "tester":
            offer = self.tester.create_offer()
            self.offers["tester"] = offer
            self._set_tester_target()
            answer = self.peer.accept_offer(edit(rewrite_candidates(offer, for_peer, extra)))
            self.answers["peer"] = answer
            self._set_peer_target(answer)
            self.tester.set_answer(rewrite_candidates(answer, self.proxy.address_for_a))
        else:
            offer = self.peer.create_offer()
            self.offers["peer"] = offer
            self._set_peer_target(offer)
            answer = self.tester.accept_offer(rewrite_candidates(offer, self.proxy.address_for_a))
            self.answers["tester"] = answer
            self._set_tester_target()
            self.peer.set_answer(edit(rewrite_candidates(answer, for_peer, extra)))
        self._pending = _Pending(tester_channels, peer_channels, offerer, wait_open, timeout)
        if wait_connected:
            self.connect_rest()

    def connect_rest(self) -> None:
        """The second half of `connect()` (after `wait_connected=False`): wait until connected,
        create the peer's channels (when we offered), wait until they are open."""
        if self._pending is None:
            raise ScenarioFailed("connect() before connect_rest()", "nothing was signalled")
        p = self._pending
        tester_channels, peer_channels, offerer, timeout = (
            p.tester_channels,
            p.peer_channels,
            p.offerer,
            p.timeout,
        )
        wait_open = p.wait_open
        self.require(
            lambda: self.tester.connection_state() == "connected" and self.peer_connected(),
            timeout,
            "both sides reach connected",
            lambda: (
                f"ours {self.tester.connection_state()}, "
                f"peer {self.peer.connection_state()}; {self.proxy_summary()}"
            ),
        )
        if offerer == "tester":
            for label, options in peer_channels:
                self.peer.create_channel(label, options)
        if wait_open:
            labels = [label for label, _ in tester_channels + peer_channels]
            self.require(
                lambda: all(self.open_on_both(label) for label in labels),
                timeout,
                f"channels {labels} open on both sides",
                lambda: (
                    f"ours {self.channel_states(self.tester.channels())}, peer "
                    f"{self.channel_states(self.peer.channels()) if self.scriptable else '?'}"
                ),
            )

    def _set_tester_target(self) -> None:
        self.tester.pump()
        addr = signalled_address(self.tester.take_candidates(), self.tester.host)
        if addr is not None:
            self.proxy.set_target("a", addr)

    def _set_peer_target(self, description: str) -> None:
        found = candidates_in(description) + self.peer.take_candidates()
        addr = signalled_address(found, self.peer.host)
        if addr is not None:
            self.proxy.set_target("b", addr)

    # -- observing --------------------------------------------------------------------------------

    @property
    def scriptable(self) -> bool:
        return bool(getattr(self.peer, "scriptable", True))

    def peer_connected(self) -> bool:
        """The peer says it is connected (or cannot say: then our side's word counts)."""
        return self.peer.connection_state() in ("connected", "unobservable")

    @staticmethod
    def channel_states(views: list[ChannelView]) -> str:
        return ", ".join(f"{v.label!r}:{v.state}" for v in views) or "no channels"

    def open_on_both(self, label: str) -> bool:
        """Open on both sides (on ours alone when the peer cannot report its channels)."""
        ours = any(v.label == label and v.state == "open" for v in self.tester.channels())
        if not self.scriptable:
            return ours
        return ours and any(v.label == label and v.state == "open" for v in self.peer.channels())

    def peer_view(self, label: str) -> ChannelView | None:
        return next((v for v in self.peer.channels() if v.label == label), None)

    def tester_view(self, label: str) -> ChannelView | None:
        return next((v for v in self.tester.channels() if v.label == label), None)

    def proxy_summary(self) -> str:
        stats = dict(sorted(self.proxy.stats.items()))
        return f"proxy {json.dumps(stats)}" if stats else "proxy saw nothing"

    def wire_lines(self, limit: int = 400) -> list[str]:
        """The proxy's records as text, one line per datagram (the last `limit`)."""
        out = []
        for r in self.proxy.snapshot()[-limit:]:
            arrow = {Direction.A_TO_B: "ours -> peer", Direction.B_TO_A: "peer -> ours"}.get(
                r.direction, "peer -> fresh socket"
            )
            out.append(
                f"{r.time * 1000:9.1f}ms {arrow} {len(r.data):5d} B {_kind(r.data)} [{r.fate}]"
            )
        return out

    def close(self) -> None:
        for closer in (self.peer.close, self.tester.close, self.proxy.stop):
            try:
                closer()
            except Exception:  # closing a broken peer must not hide the verdict
                pass


def _kind(data: bytes) -> str:
    """A short name of what a datagram carries (RFC 7983 demultiplexing)."""
    if not data:
        return "empty"
    b = data[0]
    if b <= 3 and len(data) >= 20:
        cls = ((data[0] & 0x01) << 1) | ((data[1] & 0x10) >> 4)
        return "STUN " + ("request", "indication", "success", "error")[cls]
    if 20 <= b <= 63 and len(data) >= 13:
        names = {20: "ChangeCipherSpec", 21: "Alert", 22: "Handshake", 23: "ApplicationData"}
        epoch = int.from_bytes(data[3:5], "big")
        if b == 22 and epoch == 0 and len(data) >= 14:
            hs = {1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest", 11: "Certificate",
                  12: "ServerKeyExchange", 13: "CertificateRequest", 14: "ServerHelloDone",
                  15: "CertificateVerify", 16: "ClientKeyExchange"}  # fmt: skip
            return f"DTLS {hs.get(data[13], 'Handshake')}"
        return f"DTLS {names.get(b, 'record')} epoch {epoch}"
    return f"other (first byte {b})"
