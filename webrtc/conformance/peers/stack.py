"""Our own stack behind the adapter interface: the `self` peer and the tester's base.

A `WebRTCPeerConnection` on real UDP sockets, driven by `pump()` (which calls `poll()` and
drains every channel) in the caller's thread.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from ...data_channel import UNSET_RELIABILITY, WebRTCDataChannel
from ...errors import Error
from ...peer_connection import WebRTCPeerConnection
from ...states import ChannelState, ConnectionState, GatheringState
from ...trace import TraceEvent
from ..model import ScenarioFailed
from .base import ChannelView

__all__ = ["StackPeer"]

MAX_MESSAGES = 10_000  # per channel, kept for the scenario to read
SETUP_TIMEOUT = 10.0

_CONNECTION = {
    ConnectionState.STATE_NEW: "new",
    ConnectionState.STATE_CONNECTING: "connecting",
    ConnectionState.STATE_CONNECTED: "connected",
    ConnectionState.STATE_DISCONNECTED: "disconnected",
    ConnectionState.STATE_FAILED: "failed",
    ConnectionState.STATE_CLOSED: "closed",
}
_CHANNEL = {
    ChannelState.STATE_CONNECTING: "connecting",
    ChannelState.STATE_OPEN: "open",
    ChannelState.STATE_CLOSING: "closing",
    ChannelState.STATE_CLOSED: "closed",
}


class StackPeer:
    """One `WebRTCPeerConnection` with the adapter verbs (see peers/base.py)."""

    kind = "self"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        seed: int = 0,
        trace: Callable[[TraceEvent], None] | None = None,
        large_records: bool = False,
        zero_checksum: bool = True,
    ) -> None:
        self.host = host
        loopback = host.startswith("127.") or host == "::1"
        self.pc = WebRTCPeerConnection(
            rng=random.Random(seed),
            loopback_only=loopback,
            trace=trace,
            large_records=large_records,
            zero_checksum=zero_checksum,
        )
        self.pc.initialize({"iceServers": []})
        self._descriptions: list[tuple[str, str]] = []
        self._candidates: list[str] = []
        self._channels: dict[str, WebRTCDataChannel] = {}
        self._remote: set[str] = set()
        self._messages: dict[str, list[str | bytes]] = {}
        self._errors: list[str] = []
        self.pc.session_description_created.connect(self._on_description)
        self.pc.ice_candidate_created.connect(self._on_candidate)
        self.pc.data_channel_received.connect(self._on_channel)

    # -- signals ----------------------------------------------------------------------------------

    def _on_description(self, type_: str, sdp: str) -> None:
        err = self.pc.set_local_description(type_, sdp)
        if err != Error.OK:
            self._errors.append(f"set_local_description({type_}) -> {err.name}")
        self._descriptions.append((type_, sdp))

    def _on_candidate(self, mid: str, index: int, name: str) -> None:
        if name:
            self._candidates.append(name)

    def _on_channel(self, channel: WebRTCDataChannel) -> None:
        label = channel.get_label()
        self._channels[label] = channel
        self._remote.add(label)
        self._messages.setdefault(label, [])

    # -- signaling --------------------------------------------------------------------------------

    def _description(self, type_: str) -> str:
        deadline = time.monotonic() + SETUP_TIMEOUT
        while time.monotonic() < deadline:
            self.pump()
            for t, sdp in self._descriptions:
                if (
                    t == type_
                    and self.pc.get_gathering_state() == GatheringState.GATHERING_STATE_COMPLETE
                ):
                    return sdp
            time.sleep(0.002)
        raise ScenarioFailed(f"our stack creates an {type_}", "no description within 10 s")

    def create_channel(self, label: str, options: dict[str, Any] | None = None) -> None:
        channel = self.pc.create_data_channel(label, dict(options or {}))
        if channel is None:
            raise ValueError(f"create_data_channel({label!r}) -> {self.pc.last_error.name}")
        self._channels[label] = channel
        self._messages.setdefault(label, [])

    def create_offer(self) -> str:
        err = self.pc.create_offer()
        if err != Error.OK:
            raise ValueError(f"create_offer -> {err.name}")
        return self._description("offer")

    def accept_offer(self, sdp: str) -> str:
        err = self.pc.set_remote_description("offer", sdp)
        if err != Error.OK:
            raise ValueError(f"set_remote_description(offer) -> {err.name}")
        return self._description("answer")

    def set_answer(self, sdp: str) -> None:
        err = self.pc.set_remote_description("answer", sdp)
        if err != Error.OK:
            raise ValueError(f"set_remote_description(answer) -> {err.name}")

    def add_candidate(self, mid: str, index: int, candidate: str) -> None:
        err = self.pc.add_ice_candidate(mid, index, candidate)
        if err != Error.OK:
            self._errors.append(f"add_ice_candidate -> {err.name}")

    def take_candidates(self) -> list[str]:
        out, self._candidates = self._candidates, []
        return out

    # -- running ----------------------------------------------------------------------------------

    def pump(self) -> None:
        err = self.pc.poll()
        if err not in (Error.OK, Error.ERR_UNCONFIGURED):
            self._errors.append(f"poll -> {err.name}")
            del self._errors[:-100]
        for label, channel in self._channels.items():
            got = self._messages.setdefault(label, [])
            while channel.get_available_packet_count():
                data = channel.get_packet()
                if len(got) < MAX_MESSAGES:
                    got.append(
                        data.decode("utf-8", "replace") if channel.was_string_packet() else data
                    )

    def connection_state(self) -> str:
        return _CONNECTION.get(self.pc.get_connection_state(), "new")

    def channels(self) -> list[ChannelView]:
        out = []
        for label, c in self._channels.items():
            mr, ml = c.get_max_retransmits(), c.get_max_packet_life_time()
            out.append(
                ChannelView(
                    label=label,
                    id=c.get_id(),
                    protocol=c.get_protocol(),
                    ordered=c.is_ordered(),
                    max_retransmits=None if mr == UNSET_RELIABILITY else mr,
                    max_packet_life_time=None if ml == UNSET_RELIABILITY else ml,
                    state=_CHANNEL.get(c.get_ready_state(), "closed"),
                    remote=label in self._remote,
                )
            )
        return out

    def channel(self, label: str) -> WebRTCDataChannel:
        try:
            return self._channels[label]
        except KeyError:
            raise KeyError(f"no channel labelled {label!r}") from None

    def send(self, label: str, data: str | bytes) -> None:
        c = self.channel(label)
        c.set_write_mode(0 if isinstance(data, str) else 1)  # WRITE_MODE_TEXT = 0
        payload = data.encode() if isinstance(data, str) else data
        err = c.put_packet(payload)
        if err != Error.OK:
            raise ValueError(f"put_packet({len(payload)} bytes) -> {err.name}")

    def messages(self, label: str) -> list[str | bytes]:
        return list(self._messages.get(label, []))

    def close_channel(self, label: str) -> None:
        self.channel(label).close()

    def errors(self) -> list[str]:
        return list(self._errors)

    def close(self) -> None:
        self.pc.close()
