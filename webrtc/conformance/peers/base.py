"""The one interface every peer under test is driven through.

All methods are synchronous and bounded; `pump()` gives a peer that runs in the caller's thread
(our own stack) a chance to work, and is a no-op for peers with their own thread or process.
Messages are `str` for text and `bytes` for binary, channel options use the W3C names
(`ordered`, `maxRetransmits`, `maxPacketLifeTime`, `protocol`, `negotiated`, `id`).
Any method may raise: the runner turns an exception into a FAIL verdict with the exception as
the observation, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ChannelView", "PeerAdapter", "PeerUnavailable", "PeerUnscriptable"]


class PeerUnavailable(Exception):
    """The peer kind cannot run on this machine (missing package, browser, interpreter)."""


class PeerUnscriptable(Exception):
    """The peer under test cannot be asked to do this (e.g. a program that joined a lobby):
    the scenario does not apply to it."""

    def __init__(self, action: str) -> None:
        super().__init__(f"the peer under test cannot be asked to {action}")


@dataclass(frozen=True)
class ChannelView:
    """A data channel as the peer under test reports it."""

    label: str
    id: int | None
    protocol: str
    ordered: bool
    max_retransmits: int | None
    max_packet_life_time: int | None
    state: str  # "connecting", "open", "closing", "closed"
    remote: bool  # the other side opened it


class PeerAdapter(Protocol):
    """A WebRTC data-channel stack under test (see the module docstring)."""

    kind: str  # "self", "aiortc", "chromium", "libdatachannel", "lobby"
    host: str  # the address its candidates use (the proxy's B side binds here)
    # Optional attributes (read with getattr): `scriptable: bool` (False: channels(), send(),
    # messages(), create_channel() and close_channel() raise PeerUnscriptable and
    # connection_state() may be "unobservable"); `offer_role: str` ("offerer": it only offers,
    # "answerer": it only answers, default: either).

    def create_channel(self, label: str, options: dict[str, Any] | None = None) -> None: ...

    def create_offer(self) -> str: ...

    def accept_offer(self, sdp: str) -> str: ...

    def set_answer(self, sdp: str) -> None: ...

    def add_candidate(self, mid: str, index: int, candidate: str) -> None:
        """`candidate:...`; "" = end of candidates."""

    def take_candidates(self) -> list[str]:
        """Candidates the peer gathered since the last call (`candidate:...` lines)."""

    def pump(self) -> None: ...

    def connection_state(self) -> str:
        """W3C names: new, connecting, connected, disconnected, failed, closed."""

    def channels(self) -> list[ChannelView]: ...

    def send(self, label: str, data: str | bytes) -> None:
        """Raises when the peer refuses to send (e.g. above the max-message-size)."""

    def messages(self, label: str) -> list[str | bytes]:
        """What the peer received on that channel, in order."""

    def close_channel(self, label: str) -> None: ...

    def errors(self) -> list[str]:
        """Errors the peer reported on its own (loop exceptions, failed callbacks)."""

    def close(self) -> None: ...
