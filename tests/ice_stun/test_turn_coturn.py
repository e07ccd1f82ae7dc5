"""TurnClient against a real coturn on 127.0.0.1: allocate, permission, Send/Data, ChannelData,
refresh, deallocate. The client is sans-I/O; this test owns the sockets and the clock."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from ice.stun import Class, Message, Method, is_stun
from ice.turn import (
    Allocated,
    AllocationFailed,
    ChannelBound,
    DataReceived,
    Deallocated,
    PermissionCreated,
    TurnClient,
    TurnEvent,
    TurnState,
)
from tests.interop.coturn import CoturnServer, coturn_server

pytestmark = pytest.mark.interop


@pytest.fixture
def coturn() -> Iterator[CoturnServer]:
    with coturn_server() as server:
        yield server


class Driver:
    """Moves datagrams between one UDP socket and a TurnClient; `offset` shifts its clock."""

    def __init__(self, client: TurnClient) -> None:
        self.client = client
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.02)
        self.offset = 0.0
        self.events: list[TurnEvent] = []
        self.inbound: list[bytes] = []

    def now(self) -> float:
        return time.monotonic() + self.offset

    def step(self) -> None:
        client = self.client
        for data in client.datagrams_to_send():
            self.sock.sendto(data, client.server)
        try:
            data, addr = self.sock.recvfrom(65535)
        except TimeoutError:
            data, addr = b"", None
        now = self.now()
        if addr == client.server:
            self.inbound.append(data)
            assert client.receive(data, now)
        deadline = client.next_timeout()
        if deadline is not None and deadline <= now:
            client.handle_timeout(now)
        while (event := client.next_event()) is not None:
            self.events.append(event)

    def until(self, done: Callable[[], bool], steps: int = 250) -> None:
        for _ in range(steps):
            self.step()
            if done():
                for data in self.client.datagrams_to_send():
                    self.sock.sendto(data, self.client.server)
                return
        raise AssertionError(f"condition not reached; events: {self.events}")

    def idle(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    def wait_event(self, kind: type) -> TurnEvent:
        self.until(lambda: any(isinstance(e, kind) for e in self.events))
        return next(e for e in self.events if isinstance(e, kind))

    def data_from(self, peer: tuple[str, int]) -> list[bytes]:
        return [e.data for e in self.events if isinstance(e, DataReceived) and e.peer == peer]


def _successes(datagrams: list[bytes]) -> set[Method]:
    """Methods of the STUN success responses among `datagrams`."""
    out = set()
    for data in datagrams:
        if is_stun(data):
            msg = Message.parse(data)
            if msg.message_class is Class.SUCCESS:
                out.add(msg.method)
    return out


def _recv(sock: socket.socket) -> tuple[bytes, tuple[str, int]]:
    sock.settimeout(2.0)
    data, addr = sock.recvfrom(65535)
    return data, (addr[0], addr[1])


def test_coturn_relay_roundtrip(coturn: CoturnServer) -> None:
    client = TurnClient(coturn.address, coturn.username, coturn.password, software="ice-test")
    drv = Driver(client)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer_addr = (peer.getsockname()[0], peer.getsockname()[1])
    try:
        client.allocate(drv.now())
        allocated = drv.wait_event(Allocated)
        assert isinstance(allocated, Allocated)
        relayed = allocated.relayed
        assert relayed[0] == "127.0.0.1"
        assert coturn.relay_ports[0] <= relayed[1] <= coturn.relay_ports[1]
        assert allocated.mapped == drv.sock.getsockname()
        assert allocated.lifetime > 0 and client.relayed_address == relayed

        # Send indication -> peer; peer reply -> Data indication
        client.create_permission(peer_addr, drv.now())
        drv.wait_event(PermissionCreated)
        assert client.send_to(b"via-send-indication", peer_addr, drv.now())
        drv.step()
        data, source = _recv(peer)
        assert (data, source) == (b"via-send-indication", relayed)
        peer.sendto(b"reply-1", relayed)
        drv.until(lambda: b"reply-1" in drv.data_from(peer_addr))
        assert any(d[0] < 4 for d in drv.inbound)  # arrived as a STUN Data indication

        # ChannelBind -> ChannelData both ways
        channel = client.bind_channel(peer_addr, drv.now())
        bound = drv.wait_event(ChannelBound)
        assert bound == ChannelBound(peer_addr, channel) and channel == 0x4000
        drv.inbound.clear()
        assert client.send_to(b"via-channel", peer_addr, drv.now())
        drv.step()
        data, source = _recv(peer)
        assert (data, source) == (b"via-channel", relayed)
        peer.sendto(b"reply-2", relayed)
        drv.until(lambda: b"reply-2" in drv.data_from(peer_addr))
        assert any(0x40 <= d[0] <= 0x4F for d in drv.inbound)  # arrived as ChannelData

        # Refresh, CreatePermission refresh, ChannelBind refresh: jump our clock 9 minutes.
        drv.offset += 545.0
        drv.inbound.clear()
        wanted = {Method.REFRESH, Method.CREATE_PERMISSION, Method.CHANNEL_BIND}
        drv.until(lambda: _successes(drv.inbound) >= wanted)
        assert client.state is TurnState.ALLOCATED
        assert not any(isinstance(e, AllocationFailed) for e in drv.events)
        deadline = client.next_timeout()
        assert deadline is not None and deadline > drv.now() + 200
        assert client.send_to(b"after-refresh", peer_addr, drv.now())
        drv.step()
        assert _recv(peer) == (b"after-refresh", relayed)

        # Deallocate (Refresh LIFETIME 0)
        drv.inbound.clear()
        client.close(drv.now())
        drv.wait_event(Deallocated)
        assert client.state.value == "closed"
        assert Method.REFRESH in _successes(drv.inbound)
        # The 5-tuple becomes free: a new Allocate from the same socket succeeds. coturn deletes
        # the allocation about 1 s after the Refresh (437 "wrong transaction ID" until then), so
        # retry a bounded number of times.
        for _ in range(10):
            again = TurnClient(coturn.address, coturn.username, coturn.password)
            drv.client, drv.events = again, []
            again.allocate(drv.now())
            drv.until(lambda: any(isinstance(e, (Allocated, AllocationFailed)) for e in drv.events))
            if isinstance(drv.events[0], Allocated):
                break
            failed = drv.events[0]
            assert isinstance(failed, AllocationFailed) and failed.code == 437
            drv.idle(25)  # ~0.5 s of 20 ms socket reads
        else:
            raise AssertionError("the allocation was never released")
        again.close(drv.now())
        drv.wait_event(Deallocated)
    finally:
        drv.sock.close()
        peer.close()


def test_coturn_wrong_password(coturn: CoturnServer) -> None:
    client = TurnClient(coturn.address, coturn.username, "not-the-password")
    drv = Driver(client)
    try:
        client.allocate(drv.now())
        failed = drv.wait_event(AllocationFailed)
        assert isinstance(failed, AllocationFailed) and failed.code == 401
        assert client.state is TurnState.FAILED
    finally:
        drv.sock.close()
