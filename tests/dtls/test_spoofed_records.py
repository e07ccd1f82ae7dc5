"""Forged plaintext records (anyone who can put the peer's address on a packet can send them):
discarded and counted, never fatal, never able to hide the peer's records (RFC 6347 §4.1.2.7),
and never reflected more than once per retransmission interval (RFC 6347 §4.2.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dtls import ApplicationData, Connection, State
from dtls.messages import HandshakeType as HT
from dtls.messages import encode_fragment
from dtls.record import HEADER, SEQ_MASK
from tests.dtls.helpers import events, handshake, make_pair

TRUNCATED = HEADER.pack(22, 0xFEFD, 1000, 2) + b"\x01\x00"  # 15 bytes: half a handshake header
# a fragment claiming 9 body bytes in a record that holds 3
OVERRUN = HEADER.pack(22, 0xFEFD, 1001, 15) + bytes([1, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 9]) + b"abc"
# a fragment ending past its message's length (offset 8 + 3 > 9)
PAST_END = HEADER.pack(22, 0xFEFD, 1002, 15) + bytes([1, 0, 0, 9, 0, 0, 0, 0, 8, 0, 0, 3]) + b"abc"
FORGED = (TRUNCATED, OVERRUN, PAST_END)


def _plain(payload: bytes, seq: int = 2000, content_type: int = 22) -> bytes:
    return HEADER.pack(content_type, 0xFEFD, seq, len(payload)) + payload


def _established() -> tuple[Connection, Connection]:
    client, server = make_pair()
    handshake(client, server)
    events(client), events(server)
    return client, server


def _still_carries_data(tx: Connection, rx: Connection) -> None:
    tx.send(b"after")
    for d in tx.datagrams_to_send():
        rx.receive(d, 10.0)
    assert events(rx) == [ApplicationData(b"after")]


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize("record", FORGED, ids=["truncated", "overrun", "past_end"])
def test_malformed_plaintext_handshake_after_handshake_is_discarded(
    side: str, record: bytes
) -> None:
    client, server = _established()
    victim, other = (client, server) if side == "client" else (server, client)
    victim.receive(record, 5.0)
    assert victim.state is State.ESTABLISHED
    assert victim.datagrams_to_send() == []  # no alert
    assert events(victim) == []
    assert victim.stats.malformed == 1 and victim.stats.alerts_sent == 0
    _still_carries_data(other, victim)
    _still_carries_data(victim, other)


def _to_flight4() -> tuple[Connection, Connection, list[bytes]]:
    """Client and server after the cookie round; returns the server's flight 4 (undelivered)."""
    client, server = make_pair()
    client.start(0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    client.receive(server.datagrams_to_send()[0], 0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    return client, server, server.datagrams_to_send()


def _finish(client: Connection, server: Connection, flight4: list[bytes]) -> None:
    for d in flight4:
        client.receive(d, 0.1)
    for d in client.datagrams_to_send():
        server.receive(d, 0.1)
    for d in server.datagrams_to_send():
        client.receive(d, 0.1)
    assert client.state is State.ESTABLISHED and server.state is State.ESTABLISHED


@pytest.mark.parametrize("record", FORGED, ids=["truncated", "overrun", "past_end"])
def test_malformed_plaintext_handshake_during_handshake_is_discarded(record: bytes) -> None:
    client, server, flight4 = _to_flight4()
    client.receive(record, 0.05)
    server.receive(record, 0.05)
    assert client.state is State.CLIENT_WAIT_SERVER_HELLO
    assert server.state is State.SERVER_WAIT_CERTIFICATE
    assert client.stats.malformed == 1 and server.stats.malformed == 1
    _finish(client, server, flight4)


def test_forged_record_sequence_number_does_not_hide_the_peers_records() -> None:
    """Epoch 0 has no MAC: a plaintext record with the highest sequence number must not move the
    replay window, or every genuine handshake record after it would count as a replay."""
    client, server, flight4 = _to_flight4()
    # a harmless plaintext record (an old message_seq) with the top sequence number
    top = HEADER.pack(22, 0xFEFD, SEQ_MASK, 12) + encode_fragment(HT.client_hello, 0, 0, 0, b"")
    client.receive(top, 0.05)
    server.receive(top, 0.05)
    _finish(client, server, flight4)
    assert client.stats.replayed == 0 and server.stats.replayed == 0


def test_forged_sequence_number_after_handshake_keeps_final_flight_recoverable() -> None:
    client, server, flight4 = _to_flight4()
    for d in flight4:
        client.receive(d, 0.1)
    for d in client.datagrams_to_send():
        server.receive(d, 0.1)
    assert server.state is State.ESTABLISHED
    server.datagrams_to_send()  # the final flight is lost
    server.receive(HEADER.pack(22, 0xFEFD, SEQ_MASK, 0), 0.2)  # forged top sequence number
    t = client.next_timeout()
    assert t is not None
    client.handle_timeout(t)
    for d in client.datagrams_to_send():  # the client's retransmitted flight 5
        server.receive(d, t)
    for d in server.datagrams_to_send():
        client.receive(d, t)
    assert client.state is State.ESTABLISHED


def test_plaintext_finished_is_never_accepted() -> None:
    """The peer's Finished is always protected: a plaintext one (or a plaintext message where only
    the Finished may come) is dropped, and the genuine Finished still completes the handshake."""
    client, server, flight4 = _to_flight4()
    for d in flight4:
        client.receive(d, 0.1)
    assert client.state is State.CLIENT_WAIT_FINISHED
    flight5 = client.datagrams_to_send()
    seq = client._recv_seq
    fake = encode_fragment(HT.finished, 12, seq, 0, bytes(12))
    other = encode_fragment(HT.server_hello_done, 0, seq, 0, b"")
    client.receive(_plain(fake) + _plain(other, 2001), 0.1)
    assert client.state is State.CLIENT_WAIT_FINISHED
    assert client.stats.unauthenticated_dropped == 2
    for d in flight5:
        server.receive(d, 0.1)
    server.receive(_plain(encode_fragment(HT.finished, 12, server._recv_seq, 0, bytes(12))), 0.1)
    for d in server.datagrams_to_send():
        client.receive(d, 0.1)
    assert client.state is State.ESTABLISHED and server.state is State.ESTABLISHED


def test_contradicting_fragment_does_not_block_reassembly() -> None:
    """A forged first fragment of the next message (another length) must not make the genuine
    fragments "disagree" and be dropped until the handshake times out."""
    client, server, flight4 = _to_flight4()
    seq = client._recv_seq
    client.receive(_plain(encode_fragment(HT.server_hello, 500, seq, 0, b"x" * 10)), 0.05)
    _finish(client, server, flight4)
    assert client.stats.handshake_dropped >= 1


def test_oversized_plaintext_fragment_is_dropped_not_fatal() -> None:
    client, server, flight4 = _to_flight4()
    huge = encode_fragment(HT.server_hello, 1 << 20, client._recv_seq, 0, b"x")
    client.receive(_plain(huge), 0.05)
    assert client.state is State.CLIENT_WAIT_SERVER_HELLO
    assert client.stats.handshake_dropped == 1 and client.stats.alerts_sent == 0
    _finish(client, server, flight4)


def test_malformed_plaintext_alert_during_handshake_is_discarded() -> None:
    client, server, flight4 = _to_flight4()
    client.receive(_plain(b"\x02\x28\x00", content_type=21), 0.05)
    assert client.state is State.CLIENT_WAIT_SERVER_HELLO and client.stats.malformed == 1
    _finish(client, server, flight4)


def test_plaintext_alerts_after_handshake_are_ignored() -> None:
    client, server = _established()
    for conn in (client, server):
        conn.receive(_plain(b"\x02\x28", content_type=21), 5.0)  # fatal handshake_failure
        conn.receive(_plain(b"\x01\x00", 2001, content_type=21), 5.0)  # close_notify
        assert conn.state is State.ESTABLISHED
        assert conn.stats.unauthenticated_dropped == 2 and conn.stats.alerts_received == 0
        assert conn.datagrams_to_send() == [] and events(conn) == []
    _still_carries_data(client, server)


def _lost_final_flight() -> tuple[Connection, Connection, int]:
    """An established server whose final flight was lost; returns the message_seq whose repetition
    means the client retransmitted flight 5."""
    client, server, flight4 = _to_flight4()
    for d in flight4:
        client.receive(d, 0.1)
    for d in client.datagrams_to_send():
        server.receive(d, 0.1)
    assert server.state is State.ESTABLISHED
    server.datagrams_to_send()
    return client, server, server._peer_flight_first_seq


def test_final_flight_resent_at_most_once_per_interval() -> None:
    """RFC 6347 §4.2.4 resends on the peer's retransmission; forged copies of its first fragment
    must not each reflect a whole flight toward the peer."""
    _client, server, first_seq = _lost_final_flight()
    spoof = encode_fragment(HT.certificate, 100, first_seq, 0, b"")
    resends = 0
    for i in range(50):  # 50 forged fragments within 0.5 s of the final flight
        server.receive(_plain(spoof, 3000 + i), 0.1 + i * 0.01)
        resends += len(server.datagrams_to_send()) > 0
    assert resends == 0 and server.stats.resends_suppressed == 50
    for i in range(50):  # 50 more spread over the next interval: one resend
        server.receive(_plain(spoof, 4000 + i), 1.1 + i * 0.019)
        resends += len(server.datagrams_to_send()) > 0
    assert resends == 1 and server.stats.retransmissions == 1
    assert server.stats.resends_suppressed == 99
    # the client's own retransmission, one interval later, still gets the flight
    server.receive(_plain(spoof, 5000), 2.1)
    assert server.datagrams_to_send() != []
    assert server.state is State.ESTABLISHED


def test_genuine_retransmission_still_answered_after_spoofs() -> None:
    """The limit counts from our last transmission, so the client's timer retransmission (one
    initial interval after its flight 5) is answered even right after a burst of forgeries."""
    client, server, first_seq = _lost_final_flight()
    spoof = encode_fragment(HT.certificate, 100, first_seq, 0, b"")
    for i in range(20):
        server.receive(_plain(spoof, 3000 + i), 0.2 + i * 0.01)
    assert server.datagrams_to_send() == [] and server.stats.resends_suppressed == 20
    t = client.next_timeout()
    assert t is not None and t >= 1.1
    client.handle_timeout(t)
    for d in client.datagrams_to_send():
        server.receive(d, t)
    for d in server.datagrams_to_send():
        client.receive(d, t)
    assert client.state is State.ESTABLISHED


def test_every_discarded_record_is_counted() -> None:
    """Records beyond the future-epoch and early-data buffers, and non-ClientHello handshake
    messages at a stateless server, are dropped and counted, never silently."""
    _, server = make_pair()
    server.receive(_plain(encode_fragment(HT.server_hello, 0, 0, 0, b"")), 0.0)
    assert server.stats.handshake_dropped == 1
    assert server.state is State.SERVER_WAIT_CLIENT_HELLO and server.datagrams_to_send() == []
    client, server, flight4 = _to_flight4()
    for i in range(40):  # epoch-1 records before the keys exist: 32 kept
        client.receive(HEADER.pack(23, 0xFEFD, (1 << 48) | i, 30) + bytes(30), 0.05)
    assert client.stats.future_epoch_buffered == 32
    assert client.stats.buffer_full_dropped == 8
    for d in flight4:
        client.receive(d, 0.1)
    flight5 = client.datagrams_to_send()
    assert client.stats.bad_records == 32  # the buffered forgeries fail authentication
    for d in flight5:
        server.receive(d, 0.1)
    flight6 = server.datagrams_to_send()
    for i in range(40):  # authenticated application data before the Finished: 32 kept
        server.send(bytes([i]))
    for d in server.datagrams_to_send():
        client.receive(d, 0.2)
    assert client.stats.early_data_buffered == 32
    assert client.stats.buffer_full_dropped == 16
    for d in flight6:
        client.receive(d, 0.2)
    assert client.state is State.ESTABLISHED
    got = [e.data for e in events(client) if isinstance(e, ApplicationData)]
    assert got == [bytes([i]) for i in range(32)]


def _records(datagrams: list[bytes]) -> list[bytes]:
    out = []
    for d in datagrams:
        pos = 0
        while pos < len(d):
            length = HEADER.unpack_from(d, pos)[3]
            out.append(d[pos : pos + 13 + length])
            pos += 13 + length
    return out


def test_plaintext_fragment_never_replaces_an_authenticated_one() -> None:
    """The client's Finished (epoch 1) arrives before its CertificateVerify and waits in
    reassembly; a plaintext fragment claiming the same message_seq is dropped, not taken as the
    newest version of the message."""
    client, server, flight4 = _to_flight4()
    for d in flight4:
        client.receive(d, 0.1)
    records = _records(client.datagrams_to_send())
    types = [r[0] for r in records]
    assert types == [22, 22, 22, 20, 22]  # Certificate, CKE, CertificateVerify, CCS, Finished
    for r in records[:2]:
        server.receive(r, 0.1)
    server.receive(records[4], 0.1)  # Finished before CertificateVerify
    fin_seq = server._recv_seq + 1
    forged = encode_fragment(HT.certificate_verify, 8, fin_seq, 0, bytes(8))
    server.receive(_plain(forged), 0.1)
    assert server.stats.unauthenticated_dropped == 1
    for r in (records[2], records[3]):
        server.receive(r, 0.1)
    assert server.state is State.ESTABLISHED


def test_plaintext_alert_to_server_awaiting_finished_is_dropped() -> None:
    """The client sends its alerts protected once it has sent its CCS; a server that has processed
    the client's flight 5 up to the CCS takes a plaintext alert as forged."""
    client, server, flight4 = _to_flight4()
    for d in flight4:
        client.receive(d, 0.1)
    records = _records(client.datagrams_to_send())
    for r in records[:4]:  # everything but the Finished
        server.receive(r, 0.1)
    assert server.state is State.SERVER_WAIT_FINISHED
    server.receive(_plain(b"\x02\x28", content_type=21), 0.1)
    assert server.state is State.SERVER_WAIT_FINISHED
    assert server.stats.unauthenticated_dropped == 1 and server.stats.alerts_received == 0
    server.receive(records[4], 0.1)
    for d in server.datagrams_to_send():
        client.receive(d, 0.1)
    assert client.state is State.ESTABLISHED and server.state is State.ESTABLISHED


def test_plaintext_alert_to_client_awaiting_finished_is_taken() -> None:
    """The server's alerts are still plaintext until its CCS: a client awaiting the server's
    Finished must act on them (here a fatal bad_certificate)."""
    client, _server, flight4 = _to_flight4()
    for d in flight4:
        client.receive(d, 0.1)
    assert client.state is State.CLIENT_WAIT_FINISHED
    client.receive(_plain(b"\x02\x2a", content_type=21), 0.1)
    assert client.state is State.FAILED and client.stats.alerts_received == 1


_fragment = st.builds(
    encode_fragment,
    st.integers(0, 255),  # msg_type
    st.integers(0, (1 << 24) - 1),  # length
    st.integers(0, 12),  # message_seq: around the live ones
    st.integers(0, 64),  # offset
    st.binary(max_size=40),
)
_payload = st.one_of(
    st.binary(max_size=60),
    _fragment,
    st.lists(_fragment, min_size=1, max_size=3).map(b"".join),
    _fragment.map(lambda f: f[: max(1, len(f) // 2)]),  # cut inside the header or body
)
_plaintext_record = st.tuples(st.sampled_from([20, 21, 22, 23, 24, 255]), _payload)


@settings(max_examples=60)
@given(
    contents=st.lists(_plaintext_record, min_size=1, max_size=20),
    spacing=st.floats(0.0, 0.3),
)
def test_any_plaintext_after_handshake_changes_nothing(
    contents: list[tuple[int, bytes]], spacing: float
) -> None:
    """Whatever plaintext (epoch 0) records anyone sends an established pair, one per datagram or
    packed together: no state change, no event, no alert; at most the server's final flight,
    once per second."""
    # fresh record sequence numbers, so that no record is a replay of the handshake's
    records = [_plain(payload, 1000 + i, ct) for i, (ct, payload) in enumerate(contents)]
    client, server = _established()
    now = 5.0
    for i, record in enumerate(records):
        now += spacing
        for conn in (client, server):
            conn.receive(record, now)
            if i % 3 == 0:
                conn.receive(record + records[-1], now)  # several records in one datagram
    for conn in (client, server):
        assert conn.state is State.ESTABLISHED
        assert events(conn) == []
        assert conn.stats.alerts_sent == 0 and conn.stats.alerts_received == 0
    assert client.datagrams_to_send() == []  # the client keeps no flight to resend
    resends = len(server.datagrams_to_send())
    assert resends <= 1 + (now - 5.0) / server.initial_retransmit
    _still_carries_data(client, server)
    _still_carries_data(server, client)


def test_flight4_reflection_rate_limited_during_handshake() -> None:
    """Forged repeats of the ClientHello make the server resend flight 4 (its certificate: the
    biggest flight) at most once per interval too."""
    client, server, flight4 = _to_flight4()
    first_seq = server._peer_flight_first_seq
    hello = encode_fragment(HT.client_hello, 200, first_seq, 0, b"")
    sent = 0
    for i in range(40):  # 40 forgeries over 2 s
        server.receive(_plain(hello, 6000 + i), 0.05 * (i + 1))
        sent += len(server.datagrams_to_send()) > 0
    assert sent == 2  # at 1 s and 2 s after flight 4 went out
    assert server.stats.resends_suppressed == 38
    _finish(client, server, flight4)


def test_datagrams_outside_the_connection_are_counted() -> None:
    client, server = _established()
    client.close()
    server.receive(client.datagrams_to_send()[0], 6.0)  # close_notify
    assert server.state is State.CLOSED and client.state is State.CLOSED
    for conn in (client, server):
        conn.receive(TRUNCATED, 7.0)
        assert conn.stats.datagrams_ignored == 1
    idle, _ = make_pair()  # a client never started
    idle.receive(TRUNCATED, 0.0)
    assert idle.stats.datagrams_ignored == 1 and idle.state is State.INIT
