"""Any program at all as the peer under test: the runner waits in a lobby of our signaling
server (docs/SIGNALING.md, Godot's demo protocol) and tests whoever joins it.

`Lobby` is our place in the lobby for a whole run (created, or joined with `--lobby NAME`).
Each `LobbyPeer` takes the next peer that joins: a Godot game, a browser page, a user's own app.
The demo's convention decides who offers: the peer with the higher id offers to the lower one,
so when we created the lobby (id 1) the program offers and we answer. Such a program cannot be
scripted (asked to open channels or send) and its state cannot be read: those adapter methods
raise `PeerUnscriptable` (the scenario is then not applicable) and `connection_state()` is
"unobservable". Every scenario needs a fresh connection, so the program must join once per
scenario (start it again, or reload the page).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from ...signaling.client import (
    AnswerReceived,
    CandidateReceived,
    Connected,
    Disconnected,
    IdAssigned,
    LobbyJoined,
    OfferReceived,
    PeerConnected,
    PeerDisconnected,
    SignalingClient,
)
from .base import ChannelView, PeerUnavailable, PeerUnscriptable

__all__ = ["Lobby", "LobbyPeer"]

CONNECT_TIMEOUT = 10.0
MAX_CANDIDATES = 64  # per remote peer


@dataclass
class _Remote:
    offer: str | None = None
    answer: str | None = None
    candidates: list[str] = field(default_factory=list)
    gone: bool = False


class Lobby:
    """Our membership of one lobby for the run; `next_peer()` waits for the next joiner."""

    def __init__(self, server: str, name: str = "", *, wait: float = 300.0) -> None:
        self.server = server
        self.wait = wait
        self.client = SignalingClient()
        self.remotes: dict[int, _Remote] = {}
        self.arrivals: list[int] = []
        self.taken = 0
        self.closed = ""
        self.our_id = 0
        self.name: str | None = None
        self.client.connect(server)
        self._until(lambda: self.name is not None or bool(self.closed), CONNECT_TIMEOUT, join=name)
        if self.name is None:
            self.client.close()
            raise PeerUnavailable(f"no lobby at {server}: {self.closed or 'no answer'}")
        print(
            f"conformance: waiting in lobby {self.name!r} at {server} (our id "
            f"{self.our_id}): join it with the program under test, once per scenario",
            file=sys.stderr,
            flush=True,
        )

    def _until(self, condition: Any, timeout: float, join: str | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev in self.client.poll():
                if isinstance(ev, Connected) and join is not None:
                    self.client.join(join, mesh=True)
                self.handle(ev)
            if condition():
                return True
            time.sleep(0.01)
        return bool(condition())

    def handle(self, ev: object) -> None:
        if isinstance(ev, PeerConnected):
            self.remotes.setdefault(ev.peer_id, _Remote())
            self.arrivals.append(ev.peer_id)
        elif isinstance(ev, OfferReceived):
            self.remotes.setdefault(ev.peer_id, _Remote()).offer = ev.sdp
        elif isinstance(ev, AnswerReceived):
            self.remotes.setdefault(ev.peer_id, _Remote()).answer = ev.sdp
        elif isinstance(ev, CandidateReceived):
            got = self.remotes.setdefault(ev.peer_id, _Remote()).candidates
            if len(got) < MAX_CANDIDATES:
                got.append(ev.candidate)
        elif isinstance(ev, PeerDisconnected):
            self.remotes.setdefault(ev.peer_id, _Remote()).gone = True
        elif isinstance(ev, Disconnected):
            self.closed = f"{ev.code} {ev.reason}"
        elif isinstance(ev, IdAssigned):
            self.our_id = ev.peer_id
        elif isinstance(ev, LobbyJoined):
            self.name = ev.lobby

    def pump(self) -> None:
        for ev in self.client.poll():
            self.handle(ev)

    def next_peer(self) -> int:
        """The id of the next program that joins (waits up to `wait` seconds)."""
        if not self._until(lambda: len(self.arrivals) > self.taken or bool(self.closed), self.wait):
            raise PeerUnavailable(f"nobody joined lobby {self.name!r} within {self.wait:g} s")
        if self.closed:
            raise PeerUnavailable(f"the signaling server closed: {self.closed}")
        self.taken += 1
        return self.arrivals[self.taken - 1]

    def close(self) -> None:
        self.client.close()


class LobbyPeer:
    """The next program that joins `lobby`, behind the adapter interface (peers/base.py)."""

    kind = "lobby"
    scriptable = False

    def __init__(self, lobby: Lobby, host: str = "127.0.0.1") -> None:
        self.lobby = lobby
        self.host = host
        self.peer_id = lobby.next_peer()
        # Godot demo convention: the higher id offers
        self.offer_role = "offerer" if self.peer_id > lobby.our_id else "answerer"
        self._taken = 0

    @property
    def _remote(self) -> _Remote:
        return self.lobby.remotes.setdefault(self.peer_id, _Remote())

    def _wait(self, what: str, condition: Any, timeout: float = 30.0) -> None:
        if not self.lobby._until(condition, timeout):
            raise TimeoutError(f"peer {self.peer_id} in the lobby: no {what} within {timeout:g} s")

    def create_channel(self, label: str, options: dict[str, Any] | None = None) -> None:
        raise PeerUnscriptable("open a data channel")

    def create_offer(self) -> str:
        if self.offer_role != "offerer":
            raise PeerUnscriptable("make an offer (it answers ours)")
        self._wait("offer", lambda: self._remote.offer is not None)
        return str(self._remote.offer)

    def accept_offer(self, sdp: str) -> str:
        if self.offer_role != "answerer":
            raise PeerUnscriptable("answer an offer (it offers itself)")
        self.lobby.client.send_offer(self.peer_id, sdp)
        self._wait("answer", lambda: self._remote.answer is not None)
        return str(self._remote.answer)

    def set_answer(self, sdp: str) -> None:
        self.lobby.client.send_answer(self.peer_id, sdp)

    def add_candidate(self, mid: str, index: int, candidate: str) -> None:
        if candidate:
            self.lobby.client.send_candidate(self.peer_id, mid, index, candidate)

    def take_candidates(self) -> list[str]:
        got = self._remote.candidates[self._taken :]
        self._taken += len(got)
        return got

    def pump(self) -> None:
        self.lobby.pump()

    def connection_state(self) -> str:
        return "closed" if self._remote.gone else "unobservable"

    def channels(self) -> list[ChannelView]:
        raise PeerUnscriptable("report its data channels")

    def send(self, label: str, data: str | bytes) -> None:
        raise PeerUnscriptable("send a message")

    def messages(self, label: str) -> list[str | bytes]:
        raise PeerUnscriptable("report what it received")

    def close_channel(self, label: str) -> None:
        raise PeerUnscriptable("close a channel")

    def errors(self) -> list[str]:
        return []

    def close(self) -> None:
        pass  # the program leaves when it wants; our side of the connection closes
