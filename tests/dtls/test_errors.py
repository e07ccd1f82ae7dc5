"""Failures end the handshake with a typed error on our side and the matching alert to the peer."""

from __future__ import annotations

from dtls import (
    AlertDescription,
    AlertError,
    AlertReceived,
    Certificate,
    ConnectionTerminated,
    State,
)
from dtls.messages import ClientHello, HandshakeType, encode_fragment
from dtls.record import EpochState
from tests.netsim import Impairment, Link, VirtualClock, run_pair

from .helpers import cert, events, make_pair


def _fail_both(client: object, server: object, **links: Link) -> None:
    client.start(0.0)  # type: ignore[attr-defined]
    run_pair(
        client,  # type: ignore[arg-type]
        server,  # type: ignore[arg-type]
        clock=VirtualClock(),
        until=lambda: client.state is State.FAILED and server.state is State.FAILED,  # type: ignore[attr-defined]
        max_time=30,
        **links,  # type: ignore[arg-type]
    )


def _terminated(conn: object) -> AlertError:
    evs = events(conn)  # type: ignore[arg-type]
    assert len(evs) == 1 and isinstance(evs[0], ConnectionTerminated), evs
    error = evs[0].error
    assert isinstance(error, AlertError)
    return error


def test_no_common_cipher_suite() -> None:
    client, server = make_pair(
        server_cert=cert("rsa-2048", 1), client_kwargs={"cipher_suites": [0xC02B]}
    )
    _fail_both(client, server)
    local = _terminated(server)
    assert local.description == AlertDescription.handshake_failure
    assert not isinstance(local, AlertReceived)
    remote = _terminated(client)
    assert isinstance(remote, AlertReceived)
    assert remote.description == AlertDescription.handshake_failure


def test_no_common_group() -> None:
    client, server = make_pair(client_kwargs={"groups": [29]}, server_kwargs={"groups": [23]})
    _fail_both(client, server)
    assert _terminated(server).description == AlertDescription.handshake_failure


def test_unparseable_peer_certificate() -> None:
    good = cert("ecdsa-p256", 1)
    broken = Certificate(good.x509, good.private_key)
    broken.der = b"\x30\x03\x02\x01\x01"
    client, server = make_pair(server_cert=broken, client_kwargs={"remote_fingerprints": None})
    _fail_both(client, server)
    assert _terminated(client).description == AlertDescription.bad_certificate
    assert _terminated(server).description == AlertDescription.bad_certificate


class _Tamper(Link):
    """Flips the last byte of the n-th datagram (a signature or Finished ends there)."""

    def __init__(self, index: int) -> None:
        super().__init__(Impairment())
        self.index = index
        self.count = 0

    def send(self, data: bytes, now: float) -> None:
        if self.count == self.index:
            data = data[:-1] + bytes([data[-1] ^ 1])
        self.count += 1
        super().send(data, now)


def _records(datagram: bytes) -> list[bytes]:
    out = []
    pos = 0
    while pos < len(datagram):
        length = int.from_bytes(datagram[pos + 11 : pos + 13], "big")
        out.append(datagram[pos : pos + 13 + length])
        pos += 13 + length
    return out


def test_tampered_server_key_exchange_signature() -> None:
    client, server = make_pair()
    client.start(0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    client.receive(server.datagrams_to_send()[0], 0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    for datagram in server.datagrams_to_send():
        for record in _records(datagram):
            if record[13] == HandshakeType.server_key_exchange:
                record = record[:-1] + bytes([record[-1] ^ 1])  # last signature byte
            client.receive(record, 0.1)
    assert client.state is State.FAILED
    error = _terminated(client)
    assert error.description == AlertDescription.decrypt_error
    (alert,) = client.datagrams_to_send()
    server.receive(alert, 0.2)
    assert isinstance(_terminated(server), AlertReceived)


def test_tampered_client_finished_is_dropped_then_retransmitted() -> None:
    # the Finished travels in an AEAD record: tampering makes it fail authentication (dropped,
    # counted) and the client's retransmission completes the handshake
    client, server = make_pair()
    client.start(0.0)
    clock = VirtualClock()
    ok = run_pair(
        client,
        server,
        clock=clock,
        link_ab=_Tamper(2),
        until=lambda: client.state is State.ESTABLISHED and server.state is State.ESTABLISHED,
    )
    assert ok
    assert server.stats.bad_records == 1
    assert client.stats.retransmissions >= 1


def test_dtls_1_0_client_gets_protocol_version() -> None:
    _, server = make_pair()
    hello = ClientHello(0xFEFF, bytes(32), b"", b"", (0xC02B,), b"\x00", ())
    # first round trip: cookie
    plain = EpochState(0)
    server.receive(plain.seal(22, encode_fragment(1, len(hello.encode()), 0, 0, hello.encode())), 0)
    (hvr,) = server.datagrams_to_send()
    cookie = hvr[13 + 12 + 3 :]
    hello2 = ClientHello(0xFEFF, bytes(32), b"", cookie, (0xC02B,), b"\x00", ())
    body = hello2.encode()
    server.receive(
        plain.seal(22, encode_fragment(HandshakeType.client_hello, len(body), 1, 0, body)), 0
    )
    assert server.state is State.FAILED
    assert _terminated(server).description == AlertDescription.protocol_version
    (alert,) = server.datagrams_to_send()
    assert alert[0] == 21 and alert[-2:] == bytes([2, AlertDescription.protocol_version])


def test_unexpected_message_is_fatal() -> None:
    client, _server = make_pair()
    client.start(0.0)
    client.datagrams_to_send()
    plain = EpochState(0)
    client.receive(
        plain.seal(22, encode_fragment(HandshakeType.server_hello_done, 0, 0, 0, b"")), 0
    )
    assert client.state is State.FAILED
    assert _terminated(client).description == AlertDescription.unexpected_message
    assert client.next_timeout() is None


def test_garbage_before_client_hello_does_not_kill_server() -> None:
    _, server = make_pair()
    plain = EpochState(0)
    server.receive(plain.seal(22, b"\x01\x00\x00\x05garbage"), 0)
    server.receive(plain.seal(22, encode_fragment(1, 3, 0, 0, b"abc")), 0)
    assert server.state is State.SERVER_WAIT_CLIENT_HELLO
    assert server.stats.malformed == 2
    assert server.datagrams_to_send() == []


def test_hello_request_ignored_during_handshake() -> None:
    client, _server = make_pair()
    client.start(0.0)
    client.datagrams_to_send()
    plain = EpochState(0)
    plain.seq = 50
    client.receive(plain.seal(22, encode_fragment(HandshakeType.hello_request, 0, 0, 0, b"")), 0)
    assert client.state is State.CLIENT_WAIT_SERVER_HELLO
    assert client.datagrams_to_send() == []
    assert client.stats.records_received == 1


def test_constructor_validation() -> None:
    import pytest

    from dtls import Connection, DtlsError

    with pytest.raises(DtlsError):
        Connection(is_client=True, certificate=cert(), mtu=100)
    with pytest.raises(DtlsError):
        Connection(is_client=True, certificate=cert(), cipher_suites=[0x002F])
