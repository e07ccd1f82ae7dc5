"""Handshake PMTU back-off (RFC 6347 §4.1.1.1) and the handshake give-up, on virtual time."""

from __future__ import annotations

import pytest

from dtls import (
    ApplicationData,
    Connection,
    ConnectionTerminated,
    DtlsError,
    HandshakeCompleted,
    HandshakeTimeout,
    State,
)
from dtls.cipher import NamedGroup
from dtls.connection import MTU_FLOOR
from tests.netsim import Impairment, Link, VirtualClock, run_pair

from .helpers import both_established, cert, events, handshake, make_pair

IPV4_MIN = 576 - 28  # IPv4 + UDP headers

SUITES = [
    (0xC02B, "ecdsa-p256"),
    (0xC02C, "ecdsa-p256"),
    (0xCCA9, "ecdsa-p256"),
    (0xC02F, "rsa-2048"),
    (0xC030, "rsa-2048"),
    (0xCCA8, "rsa-2048"),
]


class Spy(Link):
    """A link that records the size of every datagram offered to it."""

    def __init__(self, impairment: Impairment) -> None:
        super().__init__(impairment)
        self.sizes: list[int] = []

    def send(self, data: bytes, now: float) -> None:
        self.sizes.append(len(data))
        super().send(data, now)


def _black_hole() -> Link:
    link = Link()
    link.down = True
    return link


def _retransmit_times(conn: Connection) -> list[tuple[float, list[int], int]]:
    """Fire every timer of a connection that hears nothing: (time, datagram sizes, mtu)."""
    out = []
    while (t := conn.next_timeout()) is not None:
        conn.handle_timeout(t)
        out.append((t, [len(d) for d in conn.datagrams_to_send()], conn.mtu))
    return out


def _server_after_flight4(**kwargs: object) -> tuple[Connection, Connection, list[bytes]]:
    """A client and a server that has just sent flight 4 (at time 0); returns its datagrams."""
    client, server = make_pair(**kwargs)  # type: ignore[arg-type]
    client.start(0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    client.receive(server.datagrams_to_send()[0], 0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    return client, server, server.datagrams_to_send()


@pytest.mark.parametrize(("suite", "kind"), SUITES)
def test_handshake_completes_on_576_path(suite: int, kind: str) -> None:
    client, server = make_pair(
        server_cert=cert(kind, 1),
        client_cert=cert(kind, 0),
        cipher_suites=[suite],
        groups=[NamedGroup.x25519],
        srtp_profiles=(1,),
    )
    link_ab = Spy(Impairment(mtu=IPV4_MIN, delay=0.01))
    link_ba = Spy(Impairment(mtu=IPV4_MIN, delay=0.01))
    clock = handshake(client, server, link_ab=link_ab, link_ba=link_ba)
    # Both peers' flights exceed 548 bytes at 1200: each backs off once after its 3rd
    # unanswered timer (1 + 2 + 4 s with the default 1 s initial timer), one after the other
    # (the ClientHello always fits: its retransmissions change nothing).
    assert clock.now == pytest.approx(7.04 + 7 + 0.02)  # flight 5 leaves at 7.04
    assert client.mtu == server.mtu == IPV4_MIN
    assert client.stats.pmtu_backoffs == server.stats.pmtu_backoffs == 1
    assert max(link_ab.sizes) > IPV4_MIN and max(link_ba.sizes) > IPV4_MIN
    (ce,) = events(client)
    (se,) = events(server)
    assert isinstance(ce, HandshakeCompleted) and isinstance(se, HandshakeCompleted)
    assert ce.cipher_suite == se.cipher_suite == suite
    assert client.export_keying_material("EXTRACTOR-dtls_srtp", 60) == (
        server.export_keying_material("EXTRACTOR-dtls_srtp", 60)
    )
    # a payload of payload_mtu bytes makes a record of exactly mtu bytes (SCTP sizes from it)
    chacha = suite in (0xCCA8, 0xCCA9)
    for conn in (client, server):
        assert conn.payload_mtu == IPV4_MIN - 13 - (16 if chacha else 24)
        conn.send(bytes(conn.payload_mtu))
        (d,) = conn.datagrams_to_send()
        assert len(d) == conn.mtu


def test_mtu_stays_1200_on_a_1500_path() -> None:
    client, server = make_pair(client_cert=cert("rsa-2048", 0), server_cert=cert("rsa-2048", 1))
    link_ab = Spy(Impairment(mtu=1500 - 28))
    link_ba = Spy(Impairment(mtu=1500 - 28))
    handshake(client, server, link_ab=link_ab, link_ba=link_ba)
    assert client.mtu == server.mtu == 1200
    assert client.payload_mtu == 1200 - 37  # AES-GCM: 13 header + 8 nonce + 16 tag
    assert client.stats.pmtu_backoffs == server.stats.pmtu_backoffs == 0
    assert client.stats.retransmissions == server.stats.retransmissions == 0
    assert max(link_ab.sizes + link_ba.sizes) <= 1200
    assert client.next_timeout() is None and server.next_timeout() is None


def test_only_one_direction_limited() -> None:
    """client->server carries 548 bytes, server->client 1472: the handshake still completes."""
    client, server = make_pair(client_cert=cert("rsa-2048", 0), server_cert=cert("rsa-2048", 1))
    link_ab = Link(Impairment(mtu=IPV4_MIN, delay=0.01))
    link_ba = Link(Impairment(mtu=1500 - 28, delay=0.01))
    handshake(client, server, link_ab=link_ab, link_ba=link_ba)
    assert client.mtu == IPV4_MIN
    # the server's flight 4 went unanswered as well (it cannot tell which direction lost data)
    assert server.mtu == IPV4_MIN


def test_client_backoff_ladder_and_give_up_at_exact_time() -> None:
    client, _server = make_pair()
    client.start(0.0)
    assert [len(d) for d in client.datagrams_to_send()] == [122]
    assert client.next_timeout() == 1.0
    fired = _retransmit_times(client)
    # retransmissions at 1, 3, 7, 15 s; the next one (31 s) is past the 30 s deadline
    assert [(t, sizes) for t, sizes, _ in fired] == [
        (1.0, [122]),
        (3.0, [122]),
        (7.0, [122]),
        (15.0, [122]),
        (30.0, []),  # giving up sends nothing (no alert)
    ]
    assert client.mtu == 1200  # the ClientHello fits any path: no reason to back off
    assert client.state is State.FAILED and client.next_timeout() is None
    (ev,) = events(client)
    assert isinstance(ev, ConnectionTerminated)
    assert isinstance(ev.error, HandshakeTimeout) and isinstance(ev.error, DtlsError)
    assert client.stats.retransmissions == 4 and client.stats.pmtu_backoffs == 0
    with pytest.raises(DtlsError):
        client.send(b"x")


def test_server_flight_backs_off_after_two_unanswered_retransmissions() -> None:
    _client, server, first = _server_after_flight4()
    (n,) = [len(d) for d in first]  # about 615 bytes (ECDSA signatures vary in length)
    assert n > 548
    fired = _retransmit_times(server)
    assert [(t, len(sizes)) for t, sizes, _ in fired] == [
        (1.0, 1),
        (3.0, 1),
        (7.0, 2),  # re-fragmented at 548
        (15.0, 2),
        (30.0, 0),  # the server's clock started with its first flight
    ]
    assert fired[0][1] == fired[1][1] == [n]
    for _, sizes, _ in fired[2:4]:
        assert max(sizes) <= 548 and sum(sizes) >= n
    assert server.mtu == 548 and server.stats.pmtu_backoffs == 1
    (ev,) = events(server)
    assert isinstance(ev, ConnectionTerminated) and isinstance(ev.error, HandshakeTimeout)


def test_ladder_from_a_larger_configured_mtu() -> None:
    _client, server, first = _server_after_flight4(
        mtu=1472, server_cert=cert("rsa-2048", 1), groups=[NamedGroup.secp384r1]
    )
    assert len(first) == 1 and len(first[0]) > 1200
    fired = _retransmit_times(server)
    assert [mtu for _, _, mtu in fired] == [1472, 1472, 1200, 548, 548]
    assert [max(sizes, default=0) <= mtu for _, sizes, mtu in fired] == [True] * 5
    assert server.stats.pmtu_backoffs == 2


def test_ladder_skips_rungs_the_flight_already_fits() -> None:
    _client, server, first = _server_after_flight4(mtu=1472)
    assert len(first) == 1 and 548 < len(first[0]) < 1200
    fired = _retransmit_times(server)
    assert [mtu for _, _, mtu in fired] == [1472, 1472, 548, 548, 548]
    assert server.stats.pmtu_backoffs == 1


def test_no_backoff_below_the_floor() -> None:
    _client, server, first = _server_after_flight4(mtu=400)
    assert max(map(len, first)) == 400
    fired = _retransmit_times(server)
    assert {mtu for _, _, mtu in fired} == {400} and MTU_FLOOR == 548
    assert server.stats.pmtu_backoffs == 0 and server.state is State.FAILED


def test_partial_answer_resets_the_backoff_count() -> None:
    """Any fragment of the peer's next flight proves our flight got through: no back-off."""
    client, server, first = _server_after_flight4(client_kwargs={"mtu": 200})
    assert max(map(len, first)) > 548
    for d in first:
        client.receive(d, 0.0)
    flight5 = client.datagrams_to_send()
    assert len(flight5) > 2
    server.receive(flight5[0], 0.0)  # only the first piece of the client's Certificate arrives
    for t in (1.0, 3.0, 7.0, 15.0):
        server.handle_timeout(t)
        again = server.datagrams_to_send()
        assert [len(d) for d in again] == [len(d) for d in first]  # never re-fragmented
        for d in again:
            client.receive(d, t)  # flight 4 again: the client resends flight 5
        resent = client.datagrams_to_send()
        assert len(resent) == len(flight5)
        server.receive(resent[0], t)  # and again only that piece arrives
    assert server.stats.pmtu_backoffs == 0 and server.mtu == 1200
    assert server.stats.retransmissions == 4


def test_black_holed_peer_both_roles_time_out_exactly() -> None:
    client, server = make_pair()
    clock = VirtualClock()
    client.start(0.0)
    server.start(0.0)  # a started server gives up even without ever seeing a ClientHello
    assert server.next_timeout() == 30.0
    run_pair(
        client,
        server,
        clock=clock,
        until=lambda: client.state is State.FAILED and server.state is State.FAILED,
        link_ab=_black_hole(),
        link_ba=_black_hole(),
    )
    assert clock.now == 30.0
    for conn in (client, server):
        (ev,) = events(conn)
        assert isinstance(ev, ConnectionTerminated) and isinstance(ev.error, HandshakeTimeout)
        assert conn.next_timeout() is None
    assert server.stats.datagrams_received == 0


def test_path_below_the_floor_times_out_on_both_sides() -> None:
    """The flights never fit (400-byte path): both give up, the server 30 s after flight 4."""
    client, server = make_pair()
    clock = VirtualClock()
    client.start(0.0)
    link_ab = Link(Impairment(mtu=400, delay=0.01))
    link_ba = Link(Impairment(mtu=400, delay=0.01))
    run_pair(
        client,
        server,
        clock=clock,
        until=lambda: server.state is State.FAILED,
        link_ab=link_ab,
        link_ba=link_ba,
        max_time=100,
    )
    assert client.state is State.FAILED and server.state is State.FAILED
    assert clock.now == pytest.approx(30.03)  # server's flight 4 was sent at 0.03
    assert client.mtu == 1200 and server.mtu == 548
    for conn in (client, server):
        (ev,) = events(conn)
        assert isinstance(ev, ConnectionTerminated) and isinstance(ev.error, HandshakeTimeout)


def test_custom_and_disabled_handshake_timeout() -> None:
    client, _server = make_pair(handshake_timeout=10.0)
    client.start(100.0)
    assert [t for t, _, _ in _retransmit_times(client)] == [101.0, 103.0, 107.0, 110.0]
    assert client.state is State.FAILED
    client, _server = make_pair(handshake_timeout=None)
    client.start(0.0)
    times = []
    for _ in range(8):
        t = client.next_timeout()
        assert t is not None
        client.handle_timeout(t)
        times.append(t)
    assert times == [1, 3, 7, 15, 31, 63, 123, 183] and client.state is not State.FAILED
    with pytest.raises(DtlsError):
        make_pair(handshake_timeout=0.0)


def test_deadline_cleared_once_established_and_by_close() -> None:
    client, server = make_pair()
    clock = VirtualClock()
    server.start(0.0)
    handshake(client, server, clock=clock)
    assert client.next_timeout() is None and server.next_timeout() is None
    server.handle_timeout(100.0)
    client.handle_timeout(100.0)
    assert both_established(client, server)
    pending, _ = make_pair()
    pending.start(0.0)
    pending.close()
    assert pending.next_timeout() is None


def test_mtu_is_read_only() -> None:
    client, _server = make_pair()
    assert client.mtu == 1200 and client.payload_mtu == 1200 - 37  # worst case before keys
    with pytest.raises(AttributeError):
        setattr(client, "mtu", 500)  # noqa: B010


def test_retransmission_with_different_fragmentation_is_reassembled() -> None:
    """RFC 6347 §4.2.3: fragments of a retransmission may differ; overlaps are merged."""
    client, server, first = _server_after_flight4(
        server_cert=cert("rsa-2048", 1),
        client_cert=cert("rsa-2048", 0),
        server_kwargs={"mtu": 1000},  # flight 4 takes two datagrams; next rung: 548
    )
    assert len(first) == 2 and max(map(len, first)) > 548
    client.receive(first[0], 0.0)  # the second datagram is lost
    for t in (1.0, 3.0):
        server.handle_timeout(t)
        server.datagrams_to_send()  # lost too
    server.handle_timeout(7.0)
    small = server.datagrams_to_send()
    assert len(small) > 2 and max(map(len, small)) <= 548
    for d in small[1:]:  # the first small datagram only repeats bytes already held
        client.receive(d, 7.0)
    assert client.state is State.CLIENT_WAIT_FINISHED
    assert client.stats.malformed == 0
    for d in client.datagrams_to_send():
        server.receive(d, 7.0)
    for d in server.datagrams_to_send():
        client.receive(d, 7.0)
    assert both_established(client, server)


def test_application_records_are_not_limited_by_the_mtu() -> None:
    client, server = make_pair()
    link_ab = Link(Impairment(mtu=IPV4_MIN, delay=0.01))
    link_ba = Link(Impairment(mtu=IPV4_MIN, delay=0.01))
    handshake(client, server, link_ab=link_ab, link_ba=link_ba)
    assert client.mtu == 548
    client.send(bytes(1000))  # the caller (SCTP) sizes its packets from conn.mtu
    (d,) = client.datagrams_to_send()
    assert len(d) > 1000
    server.receive(d, 10.0)
    assert [e for e in events(server) if isinstance(e, ApplicationData)] == [
        ApplicationData(bytes(1000))
    ]
