"""The hostile building blocks of webrtc.testing.hostile: what each forges, and the scripted
injector's timing. (The attacks against our own stack are in tests/robustness/test_hostile.py.)"""

from __future__ import annotations

import random

import pytest

from ice.stun import Attr, Message
from sctp import chunks as sc
from webrtc.testing import Network, VirtualClock, run
from webrtc.testing.hostile import (
    ROGUE,
    HostilePeer,
    capture,
    client_hellos,
    dtls_records,
    forged_abort,
    forged_binding_request,
    forged_cookie_echo,
    forged_data,
    resequenced_record,
    spoofed_alert,
    stray_init,
    tampered_record,
)
from webrtc.trace import decode_datagram

RECORD = bytes.fromhex("17fefd0001000000000005001d") + bytes(range(29))  # app data, epoch 1


def _bit_diff(a: bytes, b: bytes) -> int:
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b))


def test_tampered_record_flips_one_ciphertext_bit() -> None:
    rng = random.Random(1)
    for _ in range(100):
        bad = tampered_record(RECORD, rng)
        assert len(bad) == len(RECORD) and _bit_diff(bad, RECORD) == 1
        assert bad[:21] == RECORD[:21]  # header and explicit nonce untouched


def test_resequenced_record_also_changes_the_sequence_number() -> None:
    bad = resequenced_record(RECORD, random.Random(2))
    assert bad[10] != RECORD[10] and bad[:10] == RECORD[:10] and _bit_diff(bad, RECORD) == 2


def test_spoofed_alert_is_a_fatal_alert_record() -> None:
    (ev,) = decode_datagram(spoofed_alert(1, 1000))
    assert (ev.layer, ev.kind) == ("DTLS", "Alert") and ev.fields["epoch"] == 1


def test_forged_binding_request_fails_integrity_for_the_real_password() -> None:
    raw = forged_binding_request(random.Random(3), "abcd:efgh")
    msg = Message.parse(raw)
    assert msg.attributes[Attr.USERNAME] == "abcd:efgh"
    assert Attr.ICE_CONTROLLING in msg.attributes and msg.check_fingerprint()
    assert not msg.check_integrity(b"qE2bH8vM4nL0sR6tY1uW9zAo")


def test_sctp_chunks_decode_as_what_they_claim() -> None:
    rng = random.Random(4)
    chunks = sc.decode_chunks(
        stray_init(rng, 77) + forged_cookie_echo(rng) + forged_data(3, b"x") + forged_abort(),
        0,
    )
    kinds = [type(c).__name__ for c in chunks]
    assert kinds == ["InitChunk", "CookieEchoChunk", "DataChunk", "AbortChunk"]
    assert chunks[0].initiate_tag == 77  # type: ignore[union-attr]
    assert not chunks[3].t_bit  # type: ignore[union-attr]


def test_capture_and_filters() -> None:
    net = Network(seed=1)
    a, b = ("10.0.0.1", 1), ("10.0.0.2", 2)
    hello = bytes.fromhex("16fefd0000000000000000000c") + b"\x01" + bytes(11)  # ClientHello
    with capture(net) as tapped:
        net.send(hello, a, b, 0.0)
        net.send(RECORD, b, a, 0.0)
        net.inject(b"\x00\x01junk", ROGUE, a, 0.0)  # injected: not a host's datagram
    net.send(RECORD, a, b, 0.0)  # after the block: not captured
    assert len(tapped) == 2
    assert client_hellos(tapped) == [hello]
    assert dtls_records(tapped, src=b, content_type=23) == [RECORD]


def test_hostile_peer_schedules_replays_and_floods() -> None:
    net = Network(seed=1)
    clock = VirtualClock()
    target = ("10.0.0.2", 2)
    net.bind(target)
    attacker = HostilePeer(net, clock)
    attacker.replay([b"r1", b"r2", b"r3"], target, start=1.0, interval=0.5)
    attacker.flood([b"f"] * 100, target, rate=1000, sources=[("10.9.0.1", 1), ("10.9.0.2", 2)])
    got: list[tuple[float, bytes, tuple[str, int]]] = []

    class Sink:
        def step(self, now: float) -> None:
            got.extend((now, d, src) for d, src in net.recv_all(target))

        def next_time(self) -> float | None:
            return None

    run(clock, [attacker, net, Sink()], lambda: False, max_time=3.0)
    assert attacker.injected == 103 and attacker.pending == 0
    replays = [(t, d) for t, d, _ in got if d.startswith(b"r")]
    delay = net.default.delay
    assert replays == [
        (pytest.approx(1.0 + delay), b"r1"),
        (1.5 + delay, b"r2"),
        (2.0 + delay, b"r3"),
    ]
    floods = [(t, src) for t, d, src in got if d == b"f"]
    assert len(floods) == 100 and floods[-1][0] == pytest.approx(0.099 + delay)
    assert {src for _, src in floods} == {("10.9.0.1", 1), ("10.9.0.2", 2)}
