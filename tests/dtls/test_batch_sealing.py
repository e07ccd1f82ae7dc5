"""Several application_data records sealed per call (EpochState.seal_many, Connection.send_many)
give byte for byte the records of one seal()/send() each, in every case the batch path handles
itself or hands back to seal()."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dtls import ApplicationData, DtlsError, State
from dtls.cipher import SUITES
from dtls.record import MAX_PLAINTEXT, SEQ_MASK, EpochState

from .helpers import deliver, events, handshake, make_pair


def _twins(suite: int | None, epoch: int = 1) -> tuple[EpochState, EpochState]:
    if suite is None:
        return EpochState(0), EpochState(0)
    info = SUITES[suite]
    key, iv = os.urandom(info.key_len), os.urandom(info.iv_len)
    return EpochState(epoch, info, key, iv), EpochState(epoch, info, key, iv)


@settings(max_examples=60, deadline=None)
@given(
    suite=st.sampled_from([None, *sorted(SUITES)]),
    payloads=st.lists(st.binary(max_size=1300), max_size=20),
    content_type=st.sampled_from([21, 22, 23]),
    start=st.integers(min_value=0, max_value=1 << 40),
)
def test_seal_many_is_byte_identical_to_seal(
    suite: int | None, payloads: list[bytes], content_type: int, start: int
) -> None:
    batch, single = _twins(suite)
    batch.seq = single.seq = start
    assert batch.seal_many(content_type, payloads) == [
        single.seal(content_type, p) for p in payloads
    ]
    assert batch.seq == single.seq == start + len(payloads)


def test_seal_many_at_the_end_of_the_sequence_space_fails_as_seal() -> None:
    batch, single = _twins(0xC02B)
    batch.seq = single.seq = SEQ_MASK - 1
    payloads = [b"a", b"b", b"c"]
    with pytest.raises(OverflowError):
        for p in payloads:
            single.seal(23, p)
    with pytest.raises(OverflowError):
        batch.seal_many(23, payloads)
    assert batch.seq == single.seq == SEQ_MASK + 1  # the two records before it were sealed


def test_seal_many_records_open_in_order() -> None:
    w, r = _twins(0xC02F)
    payloads = [bytes([i]) * (100 + i) for i in range(10)]
    for record, payload in zip(w.seal_many(23, payloads), payloads, strict=True):
        es = int.from_bytes(record[3:11], "big")
        assert r.open_application_data(record, es) == payload


@pytest.mark.parametrize("suite", [0xC02B, 0xCCA9])
def test_send_many_gives_the_datagrams_of_send(suite: int) -> None:
    client, server = make_pair(cipher_suites=[suite])
    clock = handshake(client, server)
    events(client)
    events(server)
    packets = [os.urandom(n) for n in (1, 1100, 1153, 64, 0, 1153)]
    write = client._app_write
    assert write is not None
    seq, counted = write.seq, client.stats.records_sent
    client.send_many(packets)
    batch = client.datagrams_to_send()
    write.seq = seq  # replay the same sequence numbers through send()
    for p in packets:
        client.send(p)
    assert batch == client.datagrams_to_send()
    assert client.stats.records_sent == counted + 2 * len(packets)
    deliver(batch, server, clock.now)
    assert [e.data for e in events(server) if isinstance(e, ApplicationData)] == packets


def test_send_many_errors_as_send() -> None:
    client, server = make_pair()
    with pytest.raises(DtlsError):
        client.send_many([b"x"])  # not established
    handshake(client, server)
    assert client.state is State.ESTABLISHED
    client.send_many([])
    assert client.datagrams_to_send() == []
    with pytest.raises(DtlsError):
        client.send_many([b"ok", b"y" * (MAX_PLAINTEXT + 1), b"never"])
    sent = client.datagrams_to_send()
    assert len(sent) == 1  # as send() one by one: the record before the oversized one went
    deliver(sent, server)
    assert [e.data for e in events(server) if isinstance(e, ApplicationData)] == [b"ok"]
