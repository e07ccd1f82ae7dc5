"""The peer connection opens the transport's multicast mDNS socket to resolve `.local` candidates.

Chromium answers our one-shot mDNS query only by multicast to 224.0.0.251:5353, so the peer
connection lazily opens the transport's optional 5353 group socket (`open_mdns`) while the agent
resolves a name and feeds what it reads to `agent.receive_mdns()`. On the simulated network a
fake responder answers only through that socket; the real check runs headless Chromium (default
mDNS host candidates) in a private network namespace.
"""

from __future__ import annotations

import importlib.util
import os
import random
import socket
import struct
import sys

from ice.mdns import MDNS_ADDRESS_V4, TYPE_A, parse_message
from tests.netsim import Network, VirtualClock
from tests.webrtc.simnet import NetsimTransport, drive, make_peer
from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection
from webrtc.net import UdpTransport

NAME = "3b9f0c1e-7d2a-4c55-8e11-0a6f2d9c4b7e.local"
A_HOST, B_HOST = "10.0.0.1", "10.0.0.2"
OPEN = ChannelState.STATE_OPEN


def _answer(name: str, address: str) -> bytes:
    """An mDNS response with one A record (RFC 1035 §4.1, cache-flush class: RFC 6762 §10.2)."""
    labels = b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\x00"
    packed = socket.inet_aton(address)
    rr = struct.pack("!HHIH", TYPE_A, 0x8001, 120, len(packed)) + packed
    return struct.pack("!HHHHHH", 0, 0x8400, 0, 1, 0, 0) + labels + rr


class MulticastOnlyTransport(NetsimTransport):
    """A netsim transport with the optional mDNS socket; its 'LAN' has a responder that, like
    Chromium, answers queries only by multicast (readable only while the socket is open)."""

    def __init__(
        self, network: Network, hosts: list[str], clock: VirtualClock, *, can_open: bool = True
    ) -> None:
        super().__init__(network, hosts, clock)
        self.names = {NAME: B_HOST}
        self.can_open = can_open
        self.open_calls = 0
        self.close_calls = 0
        self.reads = 0
        self.queries = 0
        self.group: list[bytes] | None = None  # datagrams to 224.0.0.251:5353 while open

    def send(self, data: bytes, local: tuple[str, int], remote: tuple[str, int]) -> None:
        if remote != MDNS_ADDRESS_V4:
            super().send(data, local, remote)
            return
        self.queries += 1
        msg = parse_message(data)
        if self.group is not None:
            self.group.append(data)  # multicast loopback: our own query comes back
            for qname, qtype, _ in msg.questions:
                if qtype == TYPE_A and qname in self.names:
                    self.group.append(_answer(qname, self.names[qname]))

    def open_mdns(self) -> bool:
        self.open_calls += 1
        if self.can_open and self.group is None:
            self.group = []
        return self.can_open

    def receive_mdns(self) -> list[bytes]:
        self.reads += 1
        out, self.group = (self.group or []), ([] if self.group is not None else None)
        return out

    def close_mdns(self) -> None:
        self.close_calls += 1
        self.group = None


def _peers(
    transport: NetsimTransport, *, loopback_only: bool = False
) -> tuple[Network, VirtualClock, WebRTCPeerConnection, WebRTCPeerConnection]:
    network, clock = transport.network, transport.clock
    a = WebRTCPeerConnection(
        transport_factory=lambda: transport,
        clock=clock,
        rng=random.Random(1),
        loopback_only=loopback_only,
    )
    b = make_peer(network, clock, B_HOST, 2)
    return network, clock, a, b


def _wire(a: WebRTCPeerConnection, b: WebRTCPeerConnection, *, hide_b: bool = True) -> None:
    """Signal both ways; B's host address reaches A only as the mDNS name (like a browser)."""

    def hide(text: str) -> str:
        return text.replace(f" {B_HOST} ", f" {NAME} ") if hide_b else text

    def link(src: WebRTCPeerConnection, dst: WebRTCPeerConnection, rewrite: bool) -> None:
        def on_description(kind: str, text: str) -> None:
            assert src.set_local_description(kind, text) == Error.OK
            assert dst.set_remote_description(kind, hide(text) if rewrite else text) == Error.OK

        def on_candidate(mid: str, index: int, name: str) -> None:
            assert dst.add_ice_candidate(mid, index, hide(name) if rewrite else name) == Error.OK

        src.session_description_created.connect(on_description)
        src.ice_candidate_created.connect(on_candidate)

    link(a, b, False)
    link(b, a, True)


def _connect(
    transport: NetsimTransport, *, a_offers: bool = True, hide_b: bool = True
) -> tuple[WebRTCPeerConnection, WebRTCPeerConnection, list[bytes]]:
    network, clock, a, b = _peers(transport)
    _wire(a, b, hide_b=hide_b)
    offerer, answerer = (a, b) if a_offers else (b, a)
    ch = offerer.create_data_channel("x")
    assert ch is not None
    got: list[WebRTCDataChannel] = []
    answerer.data_channel_received.connect(got.append)
    assert offerer.create_offer() == Error.OK
    assert drive(network, clock, [a, b], lambda: ch.get_ready_state() == OPEN and bool(got))
    # data flows both ways on the selected pair
    echoed: list[bytes] = []
    assert ch.put_packet(b"ping") == Error.OK

    def echoed_back() -> bool:
        while got[0].get_available_packet_count():
            got[0].put_packet(got[0].get_packet())
        while ch.get_available_packet_count():
            echoed.append(ch.get_packet())
        return bool(echoed)

    assert drive(network, clock, [a, b], echoed_back, max_time=10)
    return a, b, echoed


def _transport(**kw: bool) -> MulticastOnlyTransport:
    return MulticastOnlyTransport(Network(), [A_HOST], VirtualClock(), **kw)


def test_multicast_answer_resolves_the_name_and_the_host_pair_is_selected() -> None:
    for a_offers in (True, False):  # answering, the name arrives before our sockets exist
        t = _transport()
        a, _, echoed = _connect(t, a_offers=a_offers)
        agent = a._agent
        assert agent is not None and echoed == [b"ping"]
        assert agent.stats["mdns_resolved"] == 1 and agent.stats["mdns_resolution_timeouts"] == 0
        assert agent.stats["mdns_unmatched"] >= 1  # our looped-back query is ignored
        sel = agent.selected_pair
        assert sel is not None and sel.remote.type == "host", (a_offers, sel)
        assert sel.remote.address == B_HOST
        # opened once, read while resolving, closed once nothing is outstanding
        assert t.open_calls == 1 and t.reads >= 1 and t.close_calls == 1
        assert not agent.mdns_pending and a._mdns_socket is None
        reads = t.reads
        assert a.poll() == Error.OK and t.reads == reads  # no read once closed
        a.close()


def test_transport_without_the_capability_connects_via_prflx() -> None:
    network, clock = Network(), VirtualClock()
    a, _, echoed = _connect(NetsimTransport(network, [A_HOST], clock))
    agent = a._agent
    assert agent is not None and echoed == [b"ping"]
    assert agent.stats["mdns_resolutions_started"] == 1 and agent.stats["mdns_resolved"] == 0
    sel = agent.selected_pair
    assert sel is not None and sel.remote.type == "prflx" and sel.remote.address == B_HOST


def test_failed_open_is_not_retried_and_never_read() -> None:
    t = _transport(can_open=False)
    a, _, echoed = _connect(t)
    agent = a._agent
    assert agent is not None and echoed == [b"ping"]
    assert t.open_calls == 1 and t.reads == 0 and t.queries >= 1
    assert agent.stats["mdns_resolved"] == 0
    other = f"candidate:9 1 udp 2122260223 {NAME.replace('3b9f', 'aaaa')} 4000 typ host"
    assert a.add_ice_candidate("0", 0, other) == Error.OK
    assert agent.mdns_pending and a.poll() == Error.OK
    assert t.open_calls == 1 and t.reads == 0


def test_not_opened_without_local_names_or_when_loopback_only() -> None:
    t = _transport()
    a, _, _ = _connect(t, hide_b=False)
    assert t.open_calls == 0 and t.reads == 0
    assert a._agent is not None and a._agent.stats["mdns_resolutions_started"] == 0

    t = _transport()
    network, clock, a, b = _peers(t, loopback_only=True)
    _wire(a, b)
    ch = a.create_data_channel("x")
    assert ch is not None and a.create_offer() == Error.OK
    assert drive(network, clock, [a, b], lambda: ch.get_ready_state() == OPEN)
    assert a._agent is not None and a._agent.stats["mdns_resolutions_started"] == 1
    assert t.open_calls == 0 and t.reads == 0


def test_udp_transport_refuses_loopback_only() -> None:
    for transport in (UdpTransport(loopback_only=True), UdpTransport(hosts=["127.0.0.1"])):
        try:
            transport.bind("127.0.0.1")
            assert transport.open_mdns() is False
            assert transport.receive_mdns() == []
            transport.close_mdns()
        finally:
            transport.close()


# -- real sockets in a private network namespace ------------------------------------------------


def test_udp_transport_group_socket_in_netns() -> None:
    from tests.interop.netns import netns_available, private_netns, require

    require(netns_available(), "network namespaces need root and iproute2")
    with private_netns("mdnsw") as ns:
        proc = ns.python("-m", "tests.webrtc.test_mdns_wiring", ns.addresses[0], timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "ok", proc.stdout


def _group_socket_check(address: str) -> None:
    """Inside the netns: two transports share port 5353 (SO_REUSEADDR/SO_REUSEPORT, as with
    avahi) and both read a datagram multicast to 224.0.0.251:5353 on `address`."""
    import time

    transports = [UdpTransport(hosts=[address]) for _ in range(2)]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for t in transports:
            t.bind(address)
            assert t.open_mdns() and t.open_mdns()  # the second call is a no-op
        sender.bind((address, 0))
        sender.sendto(b"mdns-probe", MDNS_ADDRESS_V4)
        for t in transports:
            got: list[bytes] = []
            deadline = time.monotonic() + 5
            while not got and time.monotonic() < deadline:
                got = t.receive_mdns()
                time.sleep(0.01)
            assert got == [b"mdns-probe"], got
    finally:
        sender.close()
        for t in transports:
            t.close()
    assert all(t.receive_mdns() == [] for t in transports)
    print("ok")


def test_chromium_mdns_candidate_resolved_single_homed() -> None:
    from tests.interop.chromium_peer import CHROMIUM
    from tests.interop.netns import private_netns, require

    require(os.path.exists(CHROMIUM), "chromium is not installed")
    require(importlib.util.find_spec("playwright") is not None, "playwright is not installed")
    for direction in ("offer", "answer"):
        with private_netns("mdnsc") as ns:
            # single-homed on the address Chromium's mDNS answer names (`va`)
            argv = ["chromium", direction, "--host", ns.addresses[0]]
            proc = ns.python("-m", "tests.webrtc.interop_scenarios", *argv, timeout=150)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0 and "RESULT ok" in proc.stdout, out[-6000:]
        assert f"ours: selected remote host {ns.addresses[0]}:" in proc.stdout, out[-6000:]


if __name__ == "__main__":
    _group_socket_check(sys.argv[1])
