"""Multiplayer peers on the simulated network (virtual clock, seeded loss)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from webrtc import Error, WebRTCMultiplayerPeer, WebRTCPeerConnection
from webrtc.testing import CallbackActor, Impairment, Network, SimTransport, VirtualClock, run

FRAME = 0.016  # a game polls once per frame


@dataclass
class Node:
    """One `WebRTCMultiplayerPeer` on its own simulated host, and what its signals reported."""

    mp: WebRTCMultiplayerPeer
    host: str
    events: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.mp.peer_connected.connect(lambda pid: self.events.append(("connected", pid)))
        self.mp.peer_disconnected.connect(lambda pid: self.events.append(("disconnected", pid)))

    def drain(self) -> list[tuple[int, int, int, bytes]]:
        """Every packet as (sender, channel, mode, payload), in get_packet order."""
        out = []
        while self.mp.get_available_packet_count():
            sender = self.mp.get_packet_peer()
            channel = self.mp.get_packet_channel()
            mode = int(self.mp.get_packet_mode())
            data = self.mp.get_packet()
            assert self.mp.get_packet_error() == Error.OK
            out.append((sender, channel, mode, data))
        return out


def wire(a: WebRTCPeerConnection, b: WebRTCPeerConnection) -> None:
    """Relay descriptions and candidates both ways at once, as a signaling server would; what
    reaches a connection closed meanwhile is dropped (as the demo's `has_peer` checks do)."""

    def link(src: WebRTCPeerConnection, dst: WebRTCPeerConnection) -> None:
        def deliver(err: Error) -> None:
            closed = dst.get_connection_state() is WebRTCPeerConnection.STATE_CLOSED
            assert err == Error.OK or closed, err

        def on_description(kind: str, text: str) -> None:
            if src.get_connection_state() is not WebRTCPeerConnection.STATE_CLOSED:
                assert src.set_local_description(kind, text) == Error.OK
                deliver(dst.set_remote_description(kind, text))

        src.session_description_created.connect(on_description)
        src.ice_candidate_created.connect(lambda *c: deliver(dst.add_ice_candidate(*c)))

    link(a, b)
    link(b, a)


class World:
    def __init__(self, impairment: Impairment | None = None, seed: int = 0) -> None:
        self.clock = VirtualClock()
        self.network = Network(impairment or Impairment(), seed=seed)
        self.nodes: list[Node] = []
        self.extra: list[WebRTCPeerConnection] = []  # connections not (yet) in any peer map
        self.held: set[int] = set()  # ids of nodes whose mp.poll() is skipped (pcs polled)
        self._seeds = itertools.count(seed * 1000 + 1)
        self._hosts = itertools.count(1)

    def node(self) -> Node:
        node = Node(WebRTCMultiplayerPeer(), f"10.0.0.{next(self._hosts)}")
        self.nodes.append(node)
        return node

    def connection(self, node: Node) -> WebRTCPeerConnection:
        return WebRTCPeerConnection(
            transport_factory=lambda: SimTransport(self.network, [node.host], self.clock),
            clock=self.clock,
            rng=random.Random(next(self._seeds)),
        )

    def link(
        self, a: Node, b: Node, *, lifetime: int = 1, offer: bool = True
    ) -> tuple[WebRTCPeerConnection, WebRTCPeerConnection]:
        """New connections a<->b added on both sides (ids from the nodes' unique ids); the
        peer with the higher id offers, as Godot's demo does."""
        id_a, id_b = a.mp.get_unique_id(), b.mp.get_unique_id()
        pc_a, pc_b = self.connection(a), self.connection(b)
        assert a.mp.add_peer(pc_a, id_b, lifetime) == Error.OK
        assert b.mp.add_peer(pc_b, id_a, lifetime) == Error.OK
        wire(pc_a, pc_b)
        if offer:
            assert (pc_a if id_a > id_b else pc_b).create_offer() == Error.OK
        return pc_a, pc_b

    def connections(self) -> list[WebRTCPeerConnection]:
        pcs = list(self.extra)
        for node in self.nodes:
            pcs.extend(p["connection"] for p in node.mp.get_peers().values())
        return pcs

    def poll(self) -> None:
        for node in self.nodes:
            if id(node) in self.held:
                for peer in node.mp.get_peers().values():
                    peer["connection"].poll()
            else:
                node.mp.poll()
        for pc in self.extra:
            pc.poll()

    def run(self, until: Callable[[], bool], max_time: float = 30.0) -> bool:
        """Poll everything, jump to the next timer or arrival; until `until()` or `max_time`
        (the kit's loop: `webrtc.testing.run`)."""

        def next_time() -> float | None:
            times = [t for t in (pc.next_timeout() for pc in self.connections()) if t is not None]
            return min(times, default=None)

        actor = CallbackActor(lambda now: self.poll(), next_time)
        return run(self.clock, [self.network, actor], until, max_time=max_time)

    def frames(self, n: int, each: Callable[[int], None] | None = None) -> None:
        """`n` game frames: deliver what is due, poll every node, then `each(frame)`."""
        for i in range(n):
            self.clock.advance_to(self.clock.now + FRAME)
            self.network.deliver_due(self.clock.now)
            self.poll()
            if each is not None:
                each(i)

    def connected(self, node: Node, *ids: int) -> Callable[[], bool]:
        def check() -> bool:
            peers = node.mp.get_peers()
            return all(i in peers and peers[i]["connected"] for i in ids)

        return check
