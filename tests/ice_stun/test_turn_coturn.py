"""TurnClient against a real coturn on 127.0.0.1 and ::1: allocate, permission, Send/Data,
ChannelData, refresh, deallocate. The client is sans-I/O; this test owns sockets and clock."""

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


@pytest.fixture(params=["127.0.0.1", "::1"], ids=["ipv4", "ipv6"])
def coturn(request: pytest.FixtureRequest) -> Iterator[CoturnServer]:
    with coturn_server(host=request.param) as server:
        yield server


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _udp(host: str) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_DGRAM)
    sock.bind((host, 0))
    return sock


def _name(sock: socket.socket) -> tuple[str, int]:
    name = sock.getsockname()
    return (name[0], name[1])


class Driver:
    """Moves datagrams between one UDP socket and a TurnClient; `offset` shifts its clock."""

    def __init__(self, client: TurnClient) -> None:
        self.client = client
        self.sock = _udp(client.server[0])
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
        if addr is not None and (addr[0], addr[1]) == client.server:
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
    host = coturn.address[0]
    ipv6 = ":" in host
    client = TurnClient(
        coturn.address, coturn.username, coturn.password, software="ice-test", relay_ipv6=ipv6
    )
    drv = Driver(client)
    peer = _udp(host)
    peer_addr = _name(peer)
    try:
        client.allocate(drv.now())
        allocated = drv.wait_event(Allocated)
        assert isinstance(allocated, Allocated)
        relayed = allocated.relayed
        assert relayed[0] == host
        assert coturn.relay_ports[0] <= relayed[1] <= coturn.relay_ports[1]
        assert allocated.mapped == _name(drv.sock)
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
            again = TurnClient(coturn.address, coturn.username, coturn.password, relay_ipv6=ipv6)
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


def test_coturn_wrong_password() -> None:
    with coturn_server() as coturn:
        _wrong_password(coturn)


def _wrong_password(coturn: CoturnServer) -> None:
    client = TurnClient(coturn.address, coturn.username, "not-the-password")
    drv = Driver(client)
    try:
        client.allocate(drv.now())
        failed = drv.wait_event(AllocationFailed)
        assert isinstance(failed, AllocationFailed) and failed.code == 401
        assert client.state is TurnState.FAILED
    finally:
        drv.sock.close()


def test_coturn_stale_nonce_retry() -> None:
    """coturn with 1 s nonces answers a later Refresh with 438; the client retries and lives."""
    with coturn_server(extra_args=("--stale-nonce=1",)) as server:
        client = TurnClient(server.address, server.username, server.password)
        drv = Driver(client)
        try:
            client.allocate(drv.now())
            drv.wait_event(Allocated)
            # coturn's nonce clock has 1 s granularity: refresh repeatedly (bounded) until one
            # Refresh meets 438 and its retry with the new NONCE succeeds.
            saw_stale = False
            for _ in range(12):
                drv.idle(25)  # ~0.5 s of 20 ms socket reads
                drv.inbound.clear()
                drv.offset += 545.0  # make the allocation refresh due
                drv.until(lambda: Method.REFRESH in _successes(drv.inbound))
                errors = [
                    m.get_error()
                    for m in map(Message.parse, filter(is_stun, drv.inbound))
                    if m.message_class is Class.ERROR
                ]
                if errors:
                    assert [e[0] if e else None for e in errors] == [438]
                    saw_stale = True
                    break
            assert saw_stale
            assert client.state is TurnState.ALLOCATED
            assert not any(isinstance(e, AllocationFailed) for e in drv.events)
            client.close(drv.now())
            drv.wait_event(Deallocated)
        finally:
            drv.sock.close()
