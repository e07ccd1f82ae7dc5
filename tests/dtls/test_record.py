"""Record layer: anti-replay window, AEAD protection, several records per datagram, epochs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dtls import ApplicationData, State
from dtls.cipher import SUITES
from dtls.record import HEADER, REPLAY_WINDOW, EpochState, ReplayWindow

from .helpers import events, handshake, make_pair


def test_replay_window_basics() -> None:
    w = ReplayWindow()
    assert not w.is_replay(0)
    w.mark(0)
    assert w.is_replay(0)
    w.mark(5)
    assert not w.is_replay(3) and w.is_replay(5)
    w.mark(3)
    assert w.is_replay(3)
    w.mark(5 + REPLAY_WINDOW)
    assert w.is_replay(5)  # now left of the window
    assert not w.is_replay(6) and w.is_replay(5 + REPLAY_WINDOW)
    assert REPLAY_WINDOW >= 64  # RFC 6347 §4.1.2.6
    w.mark((1 << 48) - 1)  # a huge jump must not build a huge bitmap
    assert w.bitmap == 1 and w.is_replay((1 << 48) - 1)


@given(st.lists(st.integers(min_value=0, max_value=400) | st.just((1 << 48) - 1), max_size=200))
def test_replay_window_matches_model(seqs: list[int]) -> None:
    w = ReplayWindow()
    seen: set[int] = set()
    top = -1
    for s in seqs:
        expected = s in seen or (top - s >= REPLAY_WINDOW)
        assert w.is_replay(s) == expected
        if not expected:
            w.mark(s)
            seen.add(s)
            top = max(top, s)


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_epoch_state_seal_open_and_tamper(suite: int) -> None:
    info = SUITES[suite]
    key, iv = bytes(range(info.key_len)), bytes(range(50, 50 + info.iv_len))
    tx = EpochState(1, info, key, iv)
    rx = EpochState(1, info, key, iv)
    for payload in (b"", b"x", bytes(1200)):
        record = tx.seal(23, payload)
        ct, _version, es, length = HEADER.unpack_from(record)
        assert ct == 23 and es >> 48 == 1 and length == len(record) - 13
        assert len(record) == 13 + len(payload) + tx.overhead
        assert rx.open(23, es, record[13:]) == payload
        tampered = bytearray(record)
        tampered[-1] ^= 1
        assert rx.open(23, es, bytes(tampered[13:])) is None
        assert rx.open(22, es, record[13:]) is None  # content type is authenticated
        assert rx.open(23, es + 1, record[13:]) is None  # so is the sequence number
    assert rx.open(23, 1 << 48, b"short") is None


def _established() -> tuple[object, object]:
    client, server = make_pair()
    handshake(client, server)
    events(client), events(server)
    return client, server


def test_replayed_and_tampered_records_dropped_and_counted() -> None:
    client, server = make_pair()
    handshake(client, server)
    events(client), events(server)
    client.send(b"one")
    (d,) = client.datagrams_to_send()
    server.receive(d, 1.0)
    server.receive(d, 1.0)
    assert events(server) == [ApplicationData(b"one")]
    assert server.stats.replayed == 1
    client.send(b"two")
    (d2,) = client.datagrams_to_send()
    bad = bytearray(d2)
    bad[20] ^= 0x40
    server.receive(bytes(bad), 1.0)
    assert events(server) == [] and server.stats.bad_records == 1
    assert server.state is State.ESTABLISHED  # RFC 6347 §4.1.2.7: no alert
    assert server.datagrams_to_send() == []
    server.receive(d2, 1.0)  # the genuine record still gets through
    assert events(server) == [ApplicationData(b"two")]


def test_several_records_in_one_datagram_and_reordering() -> None:
    client, server = make_pair()
    handshake(client, server)
    events(client), events(server)
    for i in range(5):
        client.send(bytes([i]) * 10)
    ds = client.datagrams_to_send()
    server.receive(ds[4] + ds[1] + ds[3], 1.0)
    server.receive(ds[0] + ds[2], 1.0)
    got = [e.data for e in events(server) if isinstance(e, ApplicationData)]
    assert got == [bytes([i]) * 10 for i in (4, 1, 3, 0, 2)]


def test_truncated_and_garbage_datagrams_are_counted_not_fatal() -> None:
    client, server = make_pair()
    handshake(client, server)
    events(client), events(server)
    client.send(b"ok")
    (d,) = client.datagrams_to_send()
    for junk in (b"", b"\x17", d[:20], b"\x17\x01\x01" + bytes(20)):
        server.receive(junk, 1.0)
    assert server.state is State.ESTABLISHED
    assert server.stats.malformed == 3  # b"" holds no record at all
    assert events(server) == []
    server.receive(d + b"\x17\xfe", 1.0)  # a good record followed by a truncated one
    assert events(server) == [ApplicationData(b"ok")]
    assert server.stats.malformed == 4


def test_unknown_epoch_dropped_future_epoch_buffered() -> None:
    client, server = make_pair()
    client.start(0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    client.receive(server.datagrams_to_send()[0], 0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    for d in server.datagrams_to_send():
        client.receive(d, 0.0)
    flight5 = client.datagrams_to_send()
    # split flight 5 into records and deliver the epoch-1 Finished first
    records = []
    for d in flight5:
        pos = 0
        while pos < len(d):
            length = HEADER.unpack_from(d, pos)[3]
            records.append(d[pos : pos + 13 + length])
            pos += 13 + length
    epochs = [HEADER.unpack_from(r)[2] >> 48 for r in records]
    assert epochs[-1] == 1
    server.receive(records[-1], 0.1)
    assert server.stats.future_epoch_buffered == 1
    for r in records[:-1]:
        server.receive(r, 0.1)
    assert server.state is State.ESTABLISHED
    epoch5 = bytearray(records[-1])
    epoch5[3:5] = (5).to_bytes(2, "big")
    server.receive(bytes(epoch5), 0.2)
    assert server.stats.unknown_epoch == 1


def test_early_application_data_buffered_until_finished() -> None:
    client, server = make_pair()
    client.start(0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    client.receive(server.datagrams_to_send()[0], 0.0)
    server.receive(client.datagrams_to_send()[0], 0.0)
    for d in server.datagrams_to_send():
        client.receive(d, 0.0)
    for d in client.datagrams_to_send():
        server.receive(d, 0.0)
    flight6 = server.datagrams_to_send()
    server.send(b"early")
    (early,) = server.datagrams_to_send()
    client.receive(early, 0.1)  # arrives before the server's Finished
    assert client.state is State.CLIENT_WAIT_FINISHED
    for d in flight6:
        client.receive(d, 0.1)
    evs = events(client)
    assert evs[-1] == ApplicationData(b"early")
    assert client.state is State.ESTABLISHED


def test_unauthenticated_epoch0_alert_ignored_after_handshake() -> None:
    client, server = make_pair()
    handshake(client, server)
    fake = HEADER.pack(21, 0xFEFD, 500, 2) + b"\x02\x28"
    server.receive(fake, 1.0)
    server.receive(HEADER.pack(21, 0xFEFD, 501, 3) + b"\x02\x28\x00", 1.0)  # bad length
    server.receive(HEADER.pack(20, 0xFEFD, 502, 1) + b"\x07", 1.0)  # bad CCS
    assert server.state is State.ESTABLISHED
    assert server.stats.unauthenticated_dropped == 3 and server.stats.alerts_received == 0


def test_send_rejects_oversized_records() -> None:
    from dtls import DtlsError

    client, server = make_pair()
    handshake(client, server)
    with pytest.raises(DtlsError):
        client.send(bytes(16385))
    client.send(bytes(16384))


def test_plaintext_handshake_after_established_is_ignored() -> None:
    from dtls.messages import HandshakeType, encode_fragment

    client, server = make_pair()
    handshake(client, server)
    for conn in (client, server):
        hello = encode_fragment(HandshakeType.client_hello, 0, conn._recv_seq, 0, b"")
        plain = EpochState(0)
        plain.seq = 1000  # above the epoch-0 replay window
        records = conn.stats.records_received
        conn.receive(plain.seal(22, hello), 1.0)
        assert conn.stats.records_received == records + 1
        assert conn.state is State.ESTABLISHED
        assert conn.datagrams_to_send() == []


def test_records_of_later_epochs_are_not_buffered() -> None:
    client, server = make_pair()
    handshake(client, server)
    for epoch in (2, 3, 0xFFFF):
        server.receive(HEADER.pack(22, 0xFEFD, (epoch << 48) | 5, 3) + b"abc", 1.0)
    assert server.stats.unknown_epoch == 3
    assert server.state is State.ESTABLISHED
