"""Handshakes between two of our endpoints on the virtual-clock network (tests/netsim.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dtls
from dtls import (
    AlertDescription,
    ApplicationData,
    ConnectionTerminated,
    FingerprintMismatch,
    HandshakeCompleted,
    State,
)
from dtls.cipher import NamedGroup
from dtls.messages import HandshakeType, parse_fragments
from dtls.record import HEADER
from tests.netsim import Impairment, Link, VirtualClock, run_pair

from .helpers import both_established, cert, events, fp, handshake, make_pair

SUITES = [
    (0xC02B, "ecdsa-p256"),
    (0xC02C, "ecdsa-p256"),
    (0xCCA9, "ecdsa-p256"),
    (0xC02F, "rsa-2048"),
    (0xC030, "rsa-2048"),
    (0xCCA8, "rsa-2048"),
]


@pytest.mark.parametrize("group", [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1])
@pytest.mark.parametrize(("suite", "kind"), SUITES)
def test_every_suite_and_group(suite: int, kind: str, group: int) -> None:
    client, server = make_pair(
        server_cert=cert(kind, 1),
        client_cert=cert(kind, 0),
        cipher_suites=[suite],
        groups=[group],
    )
    handshake(client, server)
    (ce,) = events(client)
    (se,) = events(server)
    assert isinstance(ce, HandshakeCompleted) and isinstance(se, HandshakeCompleted)
    assert ce.cipher_suite == se.cipher_suite == suite
    assert ce.peer_certificate == cert(kind, 1).der
    assert se.peer_certificate == cert(kind, 0).der
    assert client.extended_master_secret and server.extended_master_secret
    assert client.export_keying_material("EXPORTER-x", 32) == server.export_keying_material(
        "EXPORTER-x", 32
    )
    client.send(b"ping")
    server.send(b"pong")
    for d in client.datagrams_to_send():
        server.receive(d, 1.0)
    for d in server.datagrams_to_send():
        client.receive(d, 1.0)
    assert events(server) == [ApplicationData(b"ping")]
    assert events(client) == [ApplicationData(b"pong")]


def test_p384_certificate_signs_with_sha384() -> None:
    client, server = make_pair(client_cert=cert("ecdsa-p384", 0), server_cert=cert("ecdsa-p384", 1))
    handshake(client, server)
    assert client.state is State.ESTABLISHED


def test_mixed_certificate_types_mutual_auth() -> None:
    # RSA client certificate with an ECDSA server (CertificateVerify with RSA-PSS)
    client, server = make_pair(client_cert=cert("rsa-2048", 0))
    handshake(client, server)
    assert server.peer_certificate == cert("rsa-2048", 0).der


def test_server_preference_and_srtp_negotiation() -> None:
    client, server = make_pair(
        client_kwargs={"srtp_profiles": (0x0001, 0x0007)},
        server_kwargs={"srtp_profiles": (0x0007, 0x0001), "cipher_suites": [0xCCA9, 0xC02B]},
    )
    handshake(client, server)
    (ce,) = events(client)
    assert isinstance(ce, HandshakeCompleted)
    assert ce.cipher_suite == 0xCCA9 and ce.srtp_profile == 0x0007
    assert server.srtp_profile == 0x0007


def test_no_srtp_when_server_has_none() -> None:
    client, server = make_pair(client_kwargs={"srtp_profiles": (1,)})
    handshake(client, server)
    assert client.srtp_profile is None and server.srtp_profile is None


def test_cookie_exchange_is_stateless_and_excluded_from_transcript() -> None:
    client, server = make_pair()
    client.start(0.0)
    (ch1,) = client.datagrams_to_send()
    server.receive(ch1, 0.0)
    (hvr,) = server.datagrams_to_send()
    assert server.state is State.SERVER_WAIT_CLIENT_HELLO  # no state kept
    assert server.next_timeout() is None  # RFC 6347 §4.2.1: HVR is not retransmitted
    frag = parse_fragments(hvr[13:])[0]
    assert frag.msg_type == HandshakeType.hello_verify_request and frag.message_seq == 0
    assert HEADER.unpack_from(hvr)[2] == HEADER.unpack_from(ch1)[2]  # RFC 6347 §4.2.1
    # an exact replay is answered alike: plaintext has no anti-replay window (a forged record
    # sequence number must not move it, RFC 6347 §4.1.2.6) and the server keeps no state
    server.receive(ch1, 0.0)
    assert server.datagrams_to_send() == [hvr] and server.stats.replayed == 0
    # a retransmitted ClientHello (new record seq) gets the same cookie (HMAC of its fields)
    client.handle_timeout(1.0)
    server.receive(client.datagrams_to_send()[0], 1.0)
    (hvr_again,) = server.datagrams_to_send()
    assert hvr_again[13:] == hvr[13:]
    client.receive(hvr, 0.01)
    (ch2,) = client.datagrams_to_send()
    assert parse_fragments(ch2[13:])[0].message_seq == 1
    server.receive(ch2, 0.02)
    assert server.state is State.SERVER_WAIT_CERTIFICATE
    clock = VirtualClock(0.02)
    for d in server.datagrams_to_send():
        client.receive(d, clock.now)
    assert run_pair(client, server, clock=clock, until=lambda: both_established(client, server))


def test_wrong_cookie_gets_a_new_hello_verify_request() -> None:
    client, server = make_pair()
    client.start(0.0)
    (ch1,) = client.datagrams_to_send()
    other = make_pair()[1]  # a server with another cookie secret
    other.receive(ch1, 0.0)
    client.receive(other.datagrams_to_send()[0], 0.0)
    (ch2,) = client.datagrams_to_send()
    server.receive(ch2, 0.0)
    assert server.state is State.SERVER_WAIT_CLIENT_HELLO
    assert len(server.datagrams_to_send()) == 1


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_lossy_reordering_duplicating_small_mtu(seed: int) -> None:
    imp = dict(loss=0.3, duplicate=0.2, reorder=0.3, reorder_delay=0.05, delay=0.01, jitter=0.02)
    link_ab = Link(Impairment(mtu=300, seed=seed, **imp))  # type: ignore[arg-type]
    link_ba = Link(Impairment(mtu=300, seed=seed + 100, **imp))  # type: ignore[arg-type]
    client, server = make_pair(mtu=300, srtp_profiles=(1,))
    handshake(client, server, link_ab=link_ab, link_ba=link_ba, max_time=600)
    assert client.export_keying_material("EXTRACTOR-dtls_srtp", 60) == (
        server.export_keying_material("EXTRACTOR-dtls_srtp", 60)
    )
    assert link_ab.sent + link_ba.sent > 8


def test_fragmentation_and_reassembly_respect_mtu() -> None:
    client, server = make_pair(mtu=150, client_cert=cert("rsa-2048", 0))
    sizes: list[int] = []

    class Spy(Link):
        def send(self, data: bytes, now: float) -> None:
            sizes.append(len(data))
            super().send(data, now)

    link_ab = Spy(Impairment(mtu=150))
    link_ba = Spy(Impairment(mtu=150))
    handshake(client, server, link_ab=link_ab, link_ba=link_ba)
    assert max(sizes) <= 150
    assert link_ab.dropped == link_ba.dropped == 0
    assert len(sizes) > 10


def test_out_of_order_and_duplicate_fragments() -> None:
    client, server = make_pair(mtu=200)
    client.start(0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    client.receive(server.datagrams_to_send()[0], 0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    flight4 = server.datagrams_to_send()
    assert len(flight4) > 2
    for d in [*reversed(flight4), *flight4]:
        client.receive(d, 0.1)
    assert client.state is State.CLIENT_WAIT_FINISHED
    for d in client.datagrams_to_send():
        server.receive(d, 0.2)
    for d in server.datagrams_to_send():
        client.receive(d, 0.3)
    assert both_established(client, server)


def test_retransmit_timer_doubles_to_60s_on_virtual_time() -> None:
    client, _server = make_pair(initial_retransmit=1.0, handshake_timeout=None)
    clock = VirtualClock()
    client.start(clock.now)
    assert len(client.datagrams_to_send()) == 1
    fired = []
    while clock.now < 300:
        t = client.next_timeout()
        assert t is not None
        clock.advance_to(t)
        client.handle_timeout(clock.now)
        assert len(client.datagrams_to_send()) == 1
        fired.append(clock.now)
    assert fired[:9] == [1, 3, 7, 15, 31, 63, 123, 183, 243]
    assert client.stats.retransmissions == len(fired)


def test_custom_initial_retransmit_and_reset_after_exchange() -> None:
    client, server = make_pair(initial_retransmit=0.25)
    client.start(0.0)
    assert client.next_timeout() == 0.25
    client.datagrams_to_send()
    client.handle_timeout(0.25)
    assert client.next_timeout() == 0.75
    server.receive(client.datagrams_to_send()[0], 0.3)
    client.receive(server.datagrams_to_send()[0], 0.3)
    assert client.next_timeout() == pytest.approx(0.55)  # new flight: timer back to initial
    assert server.next_timeout() is None


def test_final_flight_resent_when_client_retransmits() -> None:
    client, server = make_pair()
    client.start(0.0)
    for _ in range(2):  # HVR round, then flight 4
        for d in client.datagrams_to_send():
            server.receive(d, 0.0)
        for d in server.datagrams_to_send():
            client.receive(d, 0.0)
    flight5 = client.datagrams_to_send()
    for d in flight5:
        server.receive(d, 0.0)
    assert server.state is State.ESTABLISHED
    server.datagrams_to_send()  # flight 6 lost
    assert server.next_timeout() is None  # the final flight has no timer
    t = client.next_timeout()
    assert t is not None
    client.handle_timeout(t)
    for d in client.datagrams_to_send():
        server.receive(d, t)
    flight6 = server.datagrams_to_send()
    assert flight6 and server.stats.retransmissions == 1
    for d in flight6:
        client.receive(d, t)
    assert client.state is State.ESTABLISHED
    assert client.next_timeout() is None


def test_server_retransmits_flight4_when_client_hello_repeats() -> None:
    client, server = make_pair()
    client.start(0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    client.receive(server.datagrams_to_send()[0], 0.0)
    (ch2,) = client.datagrams_to_send()
    server.receive(ch2, 0.0)
    first = server.datagrams_to_send()
    client.handle_timeout(1.0)  # flight 4 lost: the client resends ClientHello (new record seq)
    server.receive(client.datagrams_to_send()[0], 1.0)
    again = server.datagrams_to_send()
    assert len(again) == len(first)
    assert server.stats.retransmissions == 1


def test_fingerprint_mismatch_fails_cleanly_on_both_sides() -> None:
    client, server = make_pair(
        client_kwargs={"remote_fingerprints": fp(cert("ecdsa-p256", 7))}  # wrong one
    )
    clock = VirtualClock()
    client.start(0.0)
    run_pair(
        client,
        server,
        clock=clock,
        until=lambda: client.state is State.FAILED and server.state is State.FAILED,
    )
    (ce,) = events(client)
    assert isinstance(ce, ConnectionTerminated)
    assert isinstance(ce.error, FingerprintMismatch)
    assert ce.error.description == AlertDescription.bad_certificate
    (se,) = events(server)
    assert isinstance(se, ConnectionTerminated)
    assert isinstance(se.error, dtls.AlertReceived)
    assert se.error.description == AlertDescription.bad_certificate
    assert client.next_timeout() is None and server.next_timeout() is None


def test_server_side_fingerprint_mismatch() -> None:
    client, server = make_pair(server_kwargs={"remote_fingerprints": fp(cert("ecdsa-p256", 7))})
    client.start(0.0)
    run_pair(
        client,
        server,
        clock=VirtualClock(),
        until=lambda: client.state is State.FAILED and server.state is State.FAILED,
    )
    (se,) = events(server)
    assert isinstance(se, ConnectionTerminated) and isinstance(se.error, FingerprintMismatch)
    (ce,) = events(client)
    assert isinstance(ce, ConnectionTerminated) and isinstance(ce.error, dtls.AlertReceived)


@pytest.mark.parametrize("algorithm", ["sha-1", "sha-384", "sha-512", "SHA-256"])
def test_other_fingerprint_algorithms(algorithm: str) -> None:
    sc, cc = cert("ecdsa-p256", 1), cert("ecdsa-p256", 0)
    client, server = make_pair(
        client_kwargs={"remote_fingerprints": [("sha-256", bytes(32)), *fp(sc, algorithm.lower())]},
        server_kwargs={"remote_fingerprints": [(algorithm, sc.fingerprint(algorithm.lower()))]},
    )
    del cc
    client.start(0.0)
    run_pair(
        client,
        server,
        clock=VirtualClock(),
        until=lambda: server.state is State.FAILED and client.state is State.FAILED,
    )
    assert isinstance(events(server)[0].error, FingerprintMismatch)  # type: ignore[attr-defined]
    client, server = make_pair(
        client_kwargs={"remote_fingerprints": fp(sc, algorithm.lower())},
        server_kwargs={
            "remote_fingerprints": [
                (algorithm, cert("ecdsa-p256", 0).fingerprint(algorithm.lower()))
            ]
        },
    )
    handshake(client, server)


def test_client_without_certificate_rejected_when_fingerprints_expected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dtls.connection

    client, server = make_pair()
    original = dtls.connection.preferred_scheme
    client_key = client.certificate.private_key
    # the client finds no usable signature scheme, so it answers with an empty Certificate
    monkeypatch.setattr(
        dtls.connection,
        "preferred_scheme",
        lambda key: () if key is client_key else original(key),
    )
    client.start(0.0)
    run_pair(
        client,
        server,
        clock=VirtualClock(),
        until=lambda: server.state is State.FAILED and client.state is State.FAILED,
    )
    (se,) = events(server)
    assert isinstance(se, ConnectionTerminated) and se.error is not None
    assert se.error.description == AlertDescription.handshake_failure
    assert server.peer_certificate == b""


def test_client_without_certificate_accepted_without_fingerprints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dtls.connection

    client, server = make_pair(server_kwargs={"remote_fingerprints": None})
    original = dtls.connection.preferred_scheme
    client_key = client.certificate.private_key
    monkeypatch.setattr(
        dtls.connection,
        "preferred_scheme",
        lambda key: () if key is client_key else original(key),
    )
    handshake(client, server)
    (se,) = events(server)
    assert isinstance(se, HandshakeCompleted) and se.peer_certificate == b""


def test_close_notify_both_directions() -> None:
    client, server = make_pair()
    handshake(client, server)
    events(client), events(server)
    client.close()
    assert client.state is State.CLOSED
    (alert,) = client.datagrams_to_send()
    assert HEADER.unpack_from(alert)[0] == 21
    server.receive(alert, 1.0)
    assert server.state is State.CLOSED
    (ev,) = events(server)
    assert isinstance(ev, ConnectionTerminated) and ev.error is None
    reply = server.datagrams_to_send()
    assert len(reply) == 1  # RFC 5246 §7.2.1: answered with close_notify
    with pytest.raises(dtls.DtlsError):
        server.send(b"x")


def test_close_notify_event_has_no_error() -> None:
    client, server = make_pair()
    handshake(client, server)
    events(client), events(server)
    server.close()
    for d in server.datagrams_to_send():
        client.receive(d, 1.0)
    (ev,) = events(client)
    assert isinstance(ev, ConnectionTerminated) and ev.error is None


def test_send_before_established_raises() -> None:
    client, _ = make_pair()
    with pytest.raises(dtls.DtlsError):
        client.send(b"x")
    client.start(0.0)
    with pytest.raises(dtls.DtlsError):
        client.send(b"x")
    with pytest.raises(dtls.DtlsError):
        client.export_keying_material("EXTRACTOR-dtls_srtp", 60)


def test_keylog_lines() -> None:
    lines_c: list[str] = []
    lines_s: list[str] = []
    client, server = make_pair(
        client_kwargs={"keylog": lines_c.append}, server_kwargs={"keylog": lines_s.append}
    )
    handshake(client, server)
    assert lines_c == lines_s
    (line,) = lines_c
    label, cr, ms = line.split(" ")
    assert label == "CLIENT_RANDOM" and bytes.fromhex(cr) == client.client_random
    assert len(bytes.fromhex(ms)) == 48


def test_renegotiation_refused_with_warning() -> None:
    client, server = make_pair()
    handshake(client, server)
    events(client), events(server)
    # a HelloRequest from the server in epoch 1
    from dtls.messages import encode_fragment

    w = server._write[1]
    record = w.seal(22, encode_fragment(HandshakeType.hello_request, 0, server._send_seq, 0, b""))
    client.receive(record, 1.0)
    assert client.state is State.ESTABLISHED
    assert client.stats.renegotiations_refused == 1
    (warning,) = client.datagrams_to_send()
    server.receive(warning, 1.0)
    assert server.state is State.ESTABLISHED and server.stats.alerts_received == 1


def test_application_data_after_handshake_both_ways_many_records() -> None:
    client, server = make_pair()
    clock = handshake(client, server)
    events(client), events(server)
    payloads = [bytes([i]) * (i * 7 % 1200) for i in range(200)]
    for p in payloads:
        client.send(p)
    got: list[bytes] = []
    run_pair(
        client,
        server,
        clock=clock,
        until=lambda: len(got) == len(payloads),
        on_step=lambda now: got.extend(
            e.data for e in events(server) if isinstance(e, ApplicationData)
        ),
    )
    assert got == payloads


@pytest.mark.parametrize(
    ("client_ems", "server_ems"), [(False, True), (True, False), (False, False)]
)
def test_without_extended_master_secret(client_ems: bool, server_ems: bool) -> None:
    lines: list[str] = []
    client, server = make_pair(
        client_kwargs={"extended_master_secret": client_ems, "keylog": lines.append},
        server_kwargs={"extended_master_secret": server_ems, "keylog": lines.append},
    )
    handshake(client, server)
    assert not client.extended_master_secret and not server.extended_master_secret
    assert lines[0] == lines[1]
    assert client.export_keying_material("x", 16) == server.export_keying_material("x", 16)


def test_remote_fingerprints_settable_after_construction() -> None:
    client, server = make_pair(client_kwargs={"remote_fingerprints": None})
    client.remote_fingerprints = [("sha-256", cert("ecdsa-p256", 1).fingerprint())]  # type: ignore[list-item]
    assert client.remote_fingerprints == fp(cert("ecdsa-p256", 1))
    handshake(client, server)


def test_signature_schemes_reported() -> None:
    client, server = make_pair(client_cert=cert("rsa-2048", 0), server_cert=cert("ecdsa-p384", 1))
    handshake(client, server)
    assert client.signature_scheme == server.peer_signature_scheme == 0x0804  # rsa_pss_rsae_sha256
    assert server.signature_scheme == client.peer_signature_scheme == 0x0503  # ecdsa_p384_sha384


def _fragment_client_hello(datagram: bytes, record_seq: int, size: int) -> list[bytes]:
    """Re-send a one-record ClientHello as several records of `size`-byte fragments, shuffled."""
    from dtls.messages import encode_fragment
    from dtls.record import EpochState

    (frag,) = parse_fragments(datagram[13:])
    plain = EpochState(0)
    plain.seq = record_seq
    pieces = [
        encode_fragment(frag.msg_type, frag.length, frag.message_seq, o, frag.body[o : o + size])
        for o in range(0, frag.length, size)
    ]
    pieces = pieces[1:] + pieces[:1] + pieces[:1]  # out of order, with a duplicate
    return [plain.seal(22, p) for p in pieces]


def test_server_reassembles_fragmented_client_hello() -> None:
    client, server = make_pair()
    client.start(0.0)
    (ch1,) = client.datagrams_to_send()
    for record in _fragment_client_hello(ch1, 0, 40):
        server.receive(record, 0.0)
    (hvr,) = server.datagrams_to_send()
    assert server.state is State.SERVER_WAIT_CLIENT_HELLO
    client.receive(hvr, 0.0)
    (ch2,) = client.datagrams_to_send()
    for record in _fragment_client_hello(ch2, 10, 50):
        server.receive(record, 0.0)
    assert server.state is State.SERVER_WAIT_CERTIFICATE
    clock = VirtualClock()
    for d in server.datagrams_to_send():
        client.receive(d, 0.0)
    assert run_pair(client, server, clock=clock, until=lambda: both_established(client, server))


@settings(max_examples=40)
@given(
    seed=st.integers(0, 2**32 - 1),
    loss=st.floats(0.0, 0.4),
    duplicate=st.floats(0.0, 0.3),
    reorder=st.floats(0.0, 0.5),
    mtu=st.integers(160, 1200),
    suite=st.sampled_from([0xC02B, 0xC02C, 0xCCA9]),
)
def test_handshake_completes_under_random_impairment(
    seed: int, loss: float, duplicate: float, reorder: float, mtu: int, suite: int
) -> None:
    imp = dict(loss=loss, duplicate=duplicate, reorder=reorder, reorder_delay=0.03, jitter=0.01)
    link_ab = Link(Impairment(mtu=mtu, seed=seed, **imp))  # type: ignore[arg-type]
    link_ba = Link(Impairment(mtu=mtu, seed=seed ^ 0xFFFF, **imp))  # type: ignore[arg-type]
    client, server = make_pair(
        mtu=mtu, cipher_suites=[suite], srtp_profiles=(1,), handshake_timeout=None
    )  # heavy loss may need minutes: no give-up here (see test_pmtu_timeout.py)
    handshake(client, server, link_ab=link_ab, link_ba=link_ba, max_time=3000)
    assert client.export_keying_material("EXTRACTOR-dtls_srtp", 60) == (
        server.export_keying_material("EXTRACTOR-dtls_srtp", 60)
    )
    assert server.stats.bad_records == client.stats.bad_records == 0


def test_server_flight4_timer_doubles_on_virtual_time() -> None:
    client, server = make_pair(initial_retransmit=0.5, handshake_timeout=None)
    client.start(10.0)
    server.receive(client.datagrams_to_send()[0], 10.0)
    client.receive(server.datagrams_to_send()[0], 10.0)
    server.receive(client.datagrams_to_send()[0], 10.0)
    first = server.datagrams_to_send()
    assert max(map(len, first)) > 548
    fired = []
    for i in range(9):
        t = server.next_timeout()
        assert t is not None
        server.handle_timeout(t - 0.001)  # not yet due: nothing happens
        assert server.datagrams_to_send() == []
        server.handle_timeout(t)
        again = server.datagrams_to_send()
        if i < 2:
            assert [len(d) for d in again] == [len(d) for d in first]
        else:  # RFC 6347 §4.1.1.1: 2 unanswered retransmissions -> re-fragmented to 548
            assert len(again) > len(first) and max(map(len, again)) <= 548
        fired.append(round(t - 10.0, 6))
    assert fired == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5, 63.5, 123.5, 183.5]
    assert server.mtu == 548 and server.stats.pmtu_backoffs == 1
