"""The runner against peers that misbehave: one that never answers, one that answers every
datagram with garbage, one whose adapter raises. Each scenario ends with a verdict (a FAIL with
evidence), and the runner moves on to the next one. Loopback only."""

from __future__ import annotations

import random
import socket
import threading
import time
from typing import Any

from webrtc.conformance.context import RunOptions
from webrtc.conformance.model import Verdict
from webrtc.conformance.peers.base import ChannelView, PeerUnavailable
from webrtc.conformance.runner import run_catalog
from webrtc.conformance.scenarios import by_id

FINGERPRINT = ":".join(["AB"] * 32)
SCENARIOS = [
    "sdp.answer.parses",
    "dcep.stream-id-parity",
    "sctp.forward-tsn.ordered",
    "dtls.replay-dropped",
    "ice.peer-reflexive",
]


def _description(kind: str, port: int) -> str:
    setup = "actpass" if kind == "offer" else "active"
    return (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
        f"a=fingerprint:sha-256 {FINGERPRINT}\r\na=setup:{setup}\r\na=mid:0\r\n"
        "a=sctp-port:5000\r\na=max-message-size:262144\r\n"
        f"a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\na=end-of-candidates\r\n"
    )


class SilentPeer:
    """Signals a valid description, then never sends a single datagram."""

    kind = "silent"
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def create_channel(self, label: str, options: dict[str, Any] | None = None) -> None:
        pass

    def create_offer(self) -> str:
        return _description("offer", self.port)

    def accept_offer(self, sdp: str) -> str:
        return _description("answer", self.port)

    def set_answer(self, sdp: str) -> None:
        pass

    def add_candidate(self, mid: str, index: int, candidate: str) -> None:
        pass

    def take_candidates(self) -> list[str]:
        return []

    def pump(self) -> None:
        pass

    def connection_state(self) -> str:
        return "connecting"

    def channels(self) -> list[ChannelView]:
        return []

    def send(self, label: str, data: str | bytes) -> None:
        pass

    def messages(self, label: str) -> list[str | bytes]:
        return []

    def close_channel(self, label: str) -> None:
        pass

    def errors(self) -> list[str]:
        return []

    def close(self) -> None:
        self.sock.close()


class GarbagePeer(SilentPeer):
    """Answers every datagram with random bytes (STUN-, DTLS- and RTP-looking first bytes)."""

    kind = "garbage"

    def __init__(self) -> None:
        super().__init__()
        self.sock.settimeout(0.05)
        self.stop = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        rng = random.Random(7)
        end = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < end:
            try:
                _, src = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            for _ in range(3):
                first = rng.choice([0, 1, 22, 23, 128, 255])
                junk = bytes([first]) + rng.randbytes(rng.randrange(0, 1300))
                try:
                    self.sock.sendto(junk, src)
                    self.sent += 1
                except OSError:
                    return

    def channels(self) -> list[ChannelView]:
        raise RuntimeError("the adapter broke while reading channels")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        super().close()


class BrokenPeer(SilentPeer):
    kind = "broken"

    def accept_offer(self, sdp: str) -> str:
        raise ConnectionResetError("the peer went away")

    def create_offer(self) -> str:
        raise ConnectionResetError("the peer went away")


OPTIONS = RunOptions(messages=5, connect_timeout=1.5)


def _run(make: Any) -> list[Any]:
    started = time.monotonic()
    results = run_catalog(by_id(SCENARIOS), "fake", make, OPTIONS, progress=None)
    assert time.monotonic() - started < 60
    assert [r.scenario for r in results] == SCENARIOS  # the runner went through every one
    return results


def test_a_peer_that_never_answers_gets_fail_verdicts() -> None:
    results = _run(SilentPeer)
    verdicts = {r.scenario: r.verdict for r in results}
    assert verdicts["sdp.answer.parses"] is Verdict.PASS  # its description is fine
    for name in SCENARIOS[1:]:
        assert verdicts[name] is Verdict.FAIL, name
        r = next(r for r in results if r.scenario == name)
        assert "connected" in r.expected and "after 1.5 s" in r.observed
        assert r.wire, "the proxy's view is the evidence"
        assert any("STUN request" in line for line in r.wire)


def test_a_peer_that_sends_garbage_gets_fail_verdicts() -> None:
    peers: list[GarbagePeer] = []

    def make() -> GarbagePeer:
        peers.append(GarbagePeer())
        return peers[-1]

    results = _run(make)
    assert sum(p.sent for p in peers) > 0
    for r in results[1:]:
        assert r.verdict is Verdict.FAIL
        assert r.observed
    assert any("[forwarded]" in line and "peer -> ours" in line for r in results for line in r.wire)


def test_adapter_exceptions_become_verdicts() -> None:
    results = _run(BrokenPeer)
    for r in results:
        assert r.verdict is Verdict.FAIL
        assert "ConnectionResetError" in r.observed


def test_an_unavailable_peer_marks_the_column_unavailable() -> None:
    def make() -> SilentPeer:
        raise PeerUnavailable("no such stack here")

    results = _run(make)
    assert {r.verdict for r in results} == {Verdict.UNAVAILABLE}
    assert all(r.observed == "no such stack here" for r in results)
