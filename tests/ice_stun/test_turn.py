"""TurnClient state logic on virtual time against a small in-test fake server."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ice.channeldata import decode_channel_data, encode_channel_data
from ice.stun import Attr, Class, Message, Method, long_term_key
from ice.turn import (
    Allocated,
    AllocationFailed,
    ChannelBindFailed,
    ChannelBound,
    DataReceived,
    Deallocated,
    PermissionCreated,
    PermissionFailed,
    TurnClient,
    TurnEvent,
    TurnState,
)
from tests.netsim import Impairment, Link, VirtualClock, run_pair

SERVER = ("127.0.0.1", 3478)
RELAYED = ("127.0.0.1", 50000)
MAPPED = ("127.0.0.1", 40000)
PEER = ("127.0.0.1", 6000)
REALM = "example.org"


class FakeServer:
    """Answers like a TURN server with long-term credentials (just enough for state tests)."""

    def __init__(self, *, password: str = "pass", lifetime: int = 600) -> None:
        self.key = long_term_key("user", REALM, password)
        self.nonce = "nonce-1"
        self.lifetime = lifetime
        self.requests: list[Message] = []
        self.stale_next = 0  # answer this many authenticated requests with 438
        self.error_for: dict[Method, tuple[int, str]] = {}
        self.silent = False

    def _error(self, msg: Message, code: int, reason: str) -> bytes:
        attrs: dict[int, object] = {
            Attr.ERROR_CODE: (code, reason),
            Attr.REALM: REALM,
            Attr.NONCE: self.nonce,
        }
        return Message(msg.method, Class.ERROR, msg.transaction_id, attrs).encode()

    def handle(self, data: bytes) -> list[bytes]:
        msg = Message.parse(data)
        if msg.message_class is not Class.REQUEST:
            self.requests.append(msg)
            return []
        self.requests.append(msg)
        if self.silent:
            return []
        tid = msg.transaction_id
        if not msg.check_integrity(self.key):  # also when M-I is absent
            return [self._error(msg, 401, "Unauthorized")]
        if self.stale_next:
            self.stale_next -= 1
            self.nonce += "x"
            return [self._error(msg, 438, "Stale Nonce")]
        assert msg.attributes[Attr.NONCE] == self.nonce
        if msg.method in self.error_for:
            err2: dict[int, object] = {Attr.ERROR_CODE: self.error_for[msg.method]}
            return [Message(msg.method, Class.ERROR, tid, err2).encode(integrity_key=self.key)]
        attrs: dict[int, object] = {}
        if msg.method is Method.ALLOCATE:
            attrs = {
                Attr.XOR_RELAYED_ADDRESS: RELAYED,
                Attr.XOR_MAPPED_ADDRESS: MAPPED,
                Attr.LIFETIME: self.lifetime,
            }
        elif msg.method is Method.REFRESH:
            attrs = {Attr.LIFETIME: msg.attributes[Attr.LIFETIME]}
        return [Message(msg.method, Class.SUCCESS, tid, attrs).encode(integrity_key=self.key)]


def pump(client: TurnClient, server: FakeServer, now: float) -> None:
    for _ in range(20):
        out = client.datagrams_to_send()
        if not out:
            return
        for data in out:
            for reply in server.handle(data):
                assert client.receive(reply, now)


def events(client: TurnClient) -> list[TurnEvent]:
    out = []
    while (ev := client.next_event()) is not None:
        out.append(ev)
    return out


def allocated(
    server: FakeServer | None = None, lifetime: int = 600
) -> tuple[TurnClient, FakeServer]:
    server = server or FakeServer(lifetime=lifetime)
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(7), lifetime=lifetime)
    client.allocate(0.0)
    pump(client, server, 0.0)
    assert client.state is TurnState.ALLOCATED
    return client, server


def test_allocate_401_then_authenticated() -> None:
    client, server = allocated()
    first, second = server.requests
    assert first.method is Method.ALLOCATE
    assert Attr.MESSAGE_INTEGRITY not in first.attributes and Attr.USERNAME not in first.attributes
    assert first.attributes[Attr.REQUESTED_TRANSPORT] == 17
    assert first.attributes[Attr.LIFETIME] == 600
    assert second.attributes[Attr.USERNAME] == "user"
    assert second.attributes[Attr.REALM] == REALM
    assert second.attributes[Attr.NONCE] == "nonce-1"
    assert second.check_integrity(long_term_key("user", REALM, "pass"))
    assert second.check_fingerprint()
    assert second.transaction_id != first.transaction_id
    assert events(client) == [Allocated(RELAYED, MAPPED, 600)]
    assert client.relayed_address == RELAYED and client.mapped_address == MAPPED
    assert client.next_timeout() == pytest.approx(540.0)


def test_stale_nonce_retry() -> None:
    server = FakeServer()
    server.stale_next = 1
    client, _ = allocated(server)
    assert [m.attributes.get(Attr.NONCE) for m in server.requests] == [None, "nonce-1", "nonce-1x"]
    assert isinstance(events(client)[0], Allocated)


def test_stale_nonce_retries_are_bounded() -> None:
    server = FakeServer()
    server.stale_next = 100
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(1))
    client.allocate(0.0)
    pump(client, server, 0.0)
    assert client.state is TurnState.FAILED
    assert events(client) == [AllocationFailed("Stale Nonce", 438)]
    assert len(server.requests) == 1 + 1 + 3


def test_wrong_password_fails_with_401() -> None:
    server = FakeServer(password="other")
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(1))
    client.allocate(0.0)
    pump(client, server, 0.0)
    assert client.state is TurnState.FAILED
    assert events(client) == [AllocationFailed("Unauthorized", 401)]
    assert client.next_timeout() is None


def test_allocate_error_code_reported() -> None:
    server = FakeServer()
    server.error_for[Method.ALLOCATE] = (486, "Allocation Quota Reached")
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(1))
    client.allocate(0.0)
    pump(client, server, 0.0)
    assert events(client) == [AllocationFailed("Allocation Quota Reached", 486)]


def test_allocate_timeout_after_rfc8489_schedule() -> None:
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(1))
    client.allocate(0.0)
    sends = [0.0] * len(client.datagrams_to_send())
    while (deadline := client.next_timeout()) is not None:
        client.handle_timeout(deadline)
        sends += [deadline] * len(client.datagrams_to_send())
    assert sends == pytest.approx([0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5])
    assert events(client) == [AllocationFailed("timeout", None)]
    assert client.state is TurnState.FAILED


def test_forged_success_without_valid_integrity_is_ignored() -> None:
    server = FakeServer()
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(1))
    client.allocate(0.0)
    (first,) = client.datagrams_to_send()
    for reply in server.handle(first):
        client.receive(reply, 0.0)
    (auth,) = client.datagrams_to_send()
    tid = Message.parse(auth).transaction_id
    attrs: dict[int, object] = {Attr.XOR_RELAYED_ADDRESS: ("6.6.6.6", 1)}
    forged = Message(Method.ALLOCATE, Class.SUCCESS, tid, attrs)
    assert client.receive(forged.encode(), 0.1)
    assert client.receive(forged.encode(integrity_key=b"wrong key"), 0.1)
    assert client.state is TurnState.ALLOCATING and events(client) == []
    for reply in server.handle(auth):
        client.receive(reply, 0.2)
    assert client.relayed_address == RELAYED


def test_refresh_timing_and_lifetime() -> None:
    client, server = allocated()
    events(client)
    server.requests.clear()
    client.handle_timeout(539.9)
    assert client.datagrams_to_send() == []
    assert client.next_timeout() == pytest.approx(540.0)
    client.handle_timeout(540.0)
    pump(client, server, 540.0)
    (refresh,) = server.requests
    assert refresh.method is Method.REFRESH and refresh.attributes[Attr.LIFETIME] == 600
    assert refresh.check_integrity(server.key)
    assert client.next_timeout() == pytest.approx(1080.0)
    assert client.state is TurnState.ALLOCATED and events(client) == []


def test_refresh_with_stale_nonce() -> None:
    client, server = allocated()
    server.stale_next = 1
    client.handle_timeout(540.0)
    pump(client, server, 540.0)
    assert [m.method for m in server.requests[-2:]] == [Method.REFRESH, Method.REFRESH]
    assert server.requests[-1].attributes[Attr.NONCE] == "nonce-1x"
    assert client.next_timeout() == pytest.approx(1080.0)


def test_short_lifetime_refreshes_half_way() -> None:
    client, _ = allocated(lifetime=60)
    assert client.next_timeout() == pytest.approx(30.0)


def test_unanswered_refresh_expires_allocation() -> None:
    client, server = allocated()
    events(client)
    server.silent = True
    now = 0.0
    for _ in range(1000):
        deadline = client.next_timeout()
        if deadline is None:
            break
        now = deadline
        client.handle_timeout(now)
        client.datagrams_to_send()
    assert now == pytest.approx(600.0)
    assert events(client) == [AllocationFailed("allocation expired", None)]
    assert client.state is TurnState.FAILED


def test_refresh_refused_loses_allocation() -> None:
    client, server = allocated()
    events(client)
    server.error_for[Method.REFRESH] = (437, "Allocation Mismatch")
    client.handle_timeout(540.0)
    pump(client, server, 540.0)
    assert events(client) == [AllocationFailed("refresh failed: Allocation Mismatch", 437)]


def test_permission_created_and_refreshed() -> None:
    client, server = allocated()
    events(client)
    client.create_permission(PEER, 1.0)
    client.create_permission(("127.0.0.1", 7000), 1.0)  # same IP: one permission
    pump(client, server, 1.0)
    perms = [m for m in server.requests if m.method is Method.CREATE_PERMISSION]
    assert len(perms) == 1 and perms[0].attributes[Attr.XOR_PEER_ADDRESS] == PEER
    assert events(client) == [PermissionCreated(PEER)]
    assert client.next_timeout() == pytest.approx(241.0)
    client.handle_timeout(241.0)
    pump(client, server, 241.0)
    perms = [m for m in server.requests if m.method is Method.CREATE_PERMISSION]
    assert len(perms) == 2 and events(client) == []
    assert client.next_timeout() == pytest.approx(481.0)


def test_permission_requested_before_allocation_is_sent_after() -> None:
    server = FakeServer()
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(3))
    client.create_permission(PEER, 0.0)
    client.allocate(0.0)
    pump(client, server, 0.0)
    assert events(client) == [Allocated(RELAYED, MAPPED, 600), PermissionCreated(PEER)]


def test_permission_failure() -> None:
    client, server = allocated()
    events(client)
    server.error_for[Method.CREATE_PERMISSION] = (403, "Forbidden")
    client.create_permission(PEER, 1.0)
    pump(client, server, 1.0)
    assert events(client) == [PermissionFailed(PEER, "Forbidden", 403)]


def test_send_indication_then_channel_data() -> None:
    client, server = allocated()
    events(client)
    assert client.send_to(b"hello", PEER, 1.0)
    out = client.datagrams_to_send()
    # an implicit CreatePermission, then the Send indication
    kinds = [Message.parse(d) for d in out]
    assert [(m.method, m.message_class) for m in kinds] == [
        (Method.CREATE_PERMISSION, Class.REQUEST),
        (Method.SEND, Class.INDICATION),
    ]
    assert kinds[1].attributes[Attr.XOR_PEER_ADDRESS] == PEER
    assert kinds[1].attributes[Attr.DATA] == b"hello"
    for reply in server.handle(out[0]):
        client.receive(reply, 1.0)
    assert client.bind_channel(PEER, 1.0) == 0x4000
    assert client.bind_channel(PEER, 1.0) == 0x4000
    assert client.bind_channel(("127.0.0.1", 6001), 1.0) == 0x4001
    pump(client, server, 1.0)
    binds = [m for m in server.requests if m.method is Method.CHANNEL_BIND]
    assert binds[0].attributes[Attr.CHANNEL_NUMBER] == 0x4000
    assert events(client) == [
        PermissionCreated(PEER),
        ChannelBound(PEER, 0x4000),
        ChannelBound(("127.0.0.1", 6001), 0x4001),
    ]
    assert client.send_to(b"x" * 5, PEER, 2.0)
    (frame,) = client.datagrams_to_send()
    assert frame == b"\x40\x00\x00\x05xxxxx"
    assert client.receive(encode_channel_data(0x4001, b"back") + b"\x00" * 4, 2.0)
    assert client.receive(encode_channel_data(0x4FFF, b"unknown channel"), 2.0)
    assert client.receive(b"\x40\x00\x00\x09short", 2.0)  # truncated: dropped
    assert events(client) == [DataReceived(b"back", ("127.0.0.1", 6001))]
    # the channel is refreshed 9 minutes later
    assert client.next_timeout() == pytest.approx(241.0)
    client.handle_timeout(541.0)
    pump(client, server, 541.0)
    binds = [m for m in server.requests if m.method is Method.CHANNEL_BIND]
    assert len(binds) == 4
    assert decode_channel_data(encode_channel_data(0x4000, b"")) == (0x4000, b"")


def test_channel_bind_failure() -> None:
    client, server = allocated()
    events(client)
    server.error_for[Method.CHANNEL_BIND] = (400, "Bad Request")
    client.bind_channel(PEER, 1.0)
    pump(client, server, 1.0)
    assert events(client) == [ChannelBindFailed(PEER, "Bad Request", 400)]
    client.send_to(b"x", PEER, 2.0)
    assert all(
        Message.parse(d).method is not Method.CHANNEL_BIND for d in client.datagrams_to_send()
    )


def test_data_indication_and_foreign_traffic() -> None:
    client, _ = allocated()
    events(client)
    ind = Message(
        Method.DATA, Class.INDICATION, bytes(12), {Attr.XOR_PEER_ADDRESS: PEER, Attr.DATA: b"hi"}
    )
    assert client.receive(ind.encode(fingerprint=False), 1.0)
    assert events(client) == [DataReceived(b"hi", PEER)]
    assert not client.receive(b"\x16\xfe\xfd", 1.0)  # DTLS: not TURN traffic
    assert not client.receive(b"", 1.0)
    assert not client.receive(b"\x00\x01garbage", 1.0)
    bad_fp = bytearray(ind.encode())
    bad_fp[-1] ^= 1
    assert client.receive(bytes(bad_fp), 1.0)
    unknown_tid = Message(Method.ALLOCATE, Class.SUCCESS, bytes(12)).encode()
    assert client.receive(unknown_tid, 1.0)
    assert events(client) == []


def test_send_before_allocation_is_refused() -> None:
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(1))
    assert not client.send_to(b"x", PEER, 0.0)
    assert client.datagrams_to_send() == []


def test_close_deallocates() -> None:
    client, server = allocated()
    events(client)
    client.close(5.0)
    assert client.state.value == "closing"
    pump(client, server, 5.0)
    last = server.requests[-1]
    assert last.method is Method.REFRESH and last.attributes[Attr.LIFETIME] == 0
    assert events(client) == [Deallocated()]
    assert client.state is TurnState.CLOSED and client.next_timeout() is None
    client.close(6.0)
    assert client.datagrams_to_send() == []


def test_close_times_out_quietly() -> None:
    client, server = allocated()
    events(client)
    server.silent = True
    client.close(5.0)
    while (deadline := client.next_timeout()) is not None:
        client.handle_timeout(deadline)
    assert events(client) == [Deallocated()]


def test_close_before_allocation() -> None:
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(1))
    client.allocate(0.0)
    client.datagrams_to_send()
    client.close(0.1)
    assert client.state is TurnState.CLOSED and client.next_timeout() is None
    assert events(client) == [Deallocated()]


@given(st.lists(st.binary(max_size=80), max_size=5))
def test_receive_is_total(datagrams: list[bytes]) -> None:
    client, _ = allocated()
    client.bind_channel(PEER, 1.0)
    for data in datagrams:
        client.receive(data, 2.0)
        client.receive(b"\x00\x03" + data, 2.0)
        client.receive(b"\x40\x00" + data, 2.0)
    client.handle_timeout(3.0)


class ServerEndpoint:
    """FakeServer with the netsim Endpoint verbs."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.out: list[bytes] = []
        self.arrivals: list[tuple[float, Method]] = []  # authenticated requests seen

    def receive(self, data: bytes, now: float) -> None:
        self.out.extend(self.server.handle(data))
        msg = self.server.requests[-1]
        if msg.message_class is Class.REQUEST and Attr.MESSAGE_INTEGRITY in msg.attributes:
            self.arrivals.append((now, msg.method))

    def max_gap(self, methods: set[Method], end: float) -> float:
        times = [t for t, m in self.arrivals if m in methods]
        return max(b - a for a, b in zip([*times], [*times[1:], end]))

    def datagrams_to_send(self) -> list[bytes]:
        out, self.out = self.out, []
        return out

    def next_timeout(self) -> float | None:
        return None

    def handle_timeout(self, now: float) -> None:
        return None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_hour_on_a_lossy_link(seed: int) -> None:
    clock = VirtualClock()
    server = FakeServer()
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(seed))
    imp = Impairment(loss=0.2, duplicate=0.1, reorder=0.1, delay=0.03, jitter=0.02)
    seen: list[TurnEvent] = []
    client.allocate(0.0)

    def on_step(now: float) -> None:
        seen.extend(events(client))
        if client.state is TurnState.ALLOCATED:
            client.bind_channel(PEER, now)  # idempotent

    endpoint = ServerEndpoint(server)
    ok = run_pair(
        client,
        endpoint,
        clock=clock,
        until=lambda: clock.now >= 3600.0,
        link_ab=Link(imp, seed=seed),
        link_ba=Link(imp, seed=seed + 100),
        max_time=4000.0,
        on_step=on_step,
    )
    assert ok
    seen.extend(events(client))
    assert client.state is TurnState.ALLOCATED
    assert not any(isinstance(e, AllocationFailed) for e in seen)
    assert seen[0] == Allocated(RELAYED, MAPPED, 600)
    assert ChannelBound(PEER, 0x4000) in seen
    refreshes = {m.transaction_id for m in server.requests if m.method is Method.REFRESH}
    binds = {m.transaction_id for m in server.requests if m.method is Method.CHANNEL_BIND}
    perms = {m.transaction_id for m in server.requests if m.method is Method.CREATE_PERMISSION}
    assert len(refreshes) == 6  # every 540 s over an hour
    assert len(binds) == 7  # first bind + 6 refreshes at 540 s
    assert len(perms) >= 12  # CreatePermission every 240 s unless a ChannelBind refreshed it
    # server-side view: nothing ever came close to expiring (RFC 8656 §7, §9, §12)
    end = clock.now
    assert endpoint.max_gap({Method.ALLOCATE, Method.REFRESH}, end) < 600
    assert endpoint.max_gap({Method.CHANNEL_BIND}, end) < 600
    assert endpoint.max_gap({Method.CREATE_PERMISSION, Method.CHANNEL_BIND}, end) < 300


def test_relay_ipv6_requests_address_family() -> None:
    server = FakeServer()
    client = TurnClient(SERVER, "user", "pass", rng=random.Random(1), relay_ipv6=True)
    client.allocate(0.0)
    pump(client, server, 0.0)
    assert all(m.attributes[Attr.REQUESTED_ADDRESS_FAMILY] == 2 for m in server.requests)
    _, plain_server = allocated()
    assert Attr.REQUESTED_ADDRESS_FAMILY not in plain_server.requests[0].attributes


@pytest.mark.parametrize("code", [400, 420, 437, 486])
def test_unauthenticated_error_to_authenticated_request_is_discarded(code: int) -> None:
    """RFC 8489 §9.2.5: an error response without MESSAGE-INTEGRITY to an authenticated request
    is discarded unless it is 401/438; a forged one (the transaction id seen on path) must not end
    the allocation. The retransmitted request still gets the server's genuine answer."""
    client, server = allocated()
    events(client)
    client.handle_timeout(540.0)
    (refresh,) = client.datagrams_to_send()
    tid = Message.parse(refresh).transaction_id
    forged = Message(Method.REFRESH, Class.ERROR, tid, {Attr.ERROR_CODE: (code, "forged")})
    assert client.receive(forged.encode(), 540.01)
    assert client.state is TurnState.ALLOCATED and events(client) == []
    assert client.stats["unauthenticated_responses"] == 1
    client.handle_timeout(client.next_timeout() or 541.0)  # the request is retransmitted
    (again,) = client.datagrams_to_send()
    for reply in server.handle(again):
        assert client.receive(reply, 541.0)
    assert client.state is TurnState.ALLOCATED and events(client) == []
    assert client.next_timeout() == pytest.approx(1081.0, abs=1.0)


def test_dropped_server_datagrams_are_counted() -> None:
    client, _server = allocated()
    events(client)
    client.bind_channel(PEER, 1.0)
    client.datagrams_to_send()
    assert client.receive(b"\x40\x00\x00\x09short", 1.0)
    assert client.receive(encode_channel_data(0x4FFF, b"x"), 1.0)
    no_data = Message(Method.DATA, Class.INDICATION, bytes(12), {Attr.XOR_PEER_ADDRESS: PEER})
    assert client.receive(no_data.encode(), 1.0)
    request = Message(Method.REFRESH, Class.REQUEST, bytes(12), {Attr.LIFETIME: 0})
    assert client.receive(request.encode(), 1.0)
    stray = Message(Method.REFRESH, Class.SUCCESS, b"S" * 12, {Attr.LIFETIME: 600})
    assert client.receive(stray.encode(), 1.0)
    bad_fp = bytearray(stray.encode())
    bad_fp[-1] ^= 1
    assert client.receive(bytes(bad_fp), 1.0)
    assert dict(client.stats) == {
        "malformed_channel_data": 1,
        "unknown_channel": 1,
        "ignored_indications": 1,
        "requests_ignored": 1,
        "unmatched_responses": 1,
        "bad_fingerprint": 1,
    }
    assert client.state is TurnState.ALLOCATED and events(client) == []
