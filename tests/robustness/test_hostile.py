"""Hostile peers and off-path attackers. Each test runs a healthy pair in the same process (same
simulated network and clock) and checks that it still transfers intact afterwards; memory bounds
are checked through the objects' queues and stats, never RSS.

Injection points: datagrams crafted into the simulated network from a rogue address (off-path),
or SCTP packets sent through the attacker's own DTLS connection (an authenticated but malicious
peer). The building blocks are the public kit's: `webrtc.testing.hostile`.
"""

from __future__ import annotations

import os
import random

import dtls
import sctp
from tests.webrtc.helpers import Pair, payload
from webrtc import ChannelState, Error, WebRTCDataChannel
from webrtc.testing import Impairment
from webrtc.testing.hostile import (
    ROGUE,
    capture,
    client_hellos,
    dtls_of,
    dtls_records,
    forged_abort,
    forged_binding_request,
    forged_cookie_echo,
    forged_data,
    never_acknowledge,
    peer_vtag,
    resequenced_record,
    sctp_of,
    send_sctp,
    spoofed_alert,
    stray_init,
)

from .world import CS, World, bound_address

OPEN = ChannelState.STATE_OPEN
_dtls_of = dtls_of  # the names other robustness tests import
_sctp_of = sctp_of
_send_sctp = send_sctp
__all__ = ["ROGUE", "Arena", "_client_hello", "_server_flight", "connect", "transfer"]


def connect(w: World, p: Pair, label: str = "x") -> tuple[WebRTCDataChannel, WebRTCDataChannel]:
    ch = p.a.create_data_channel(label)
    assert ch is not None and p.a.create_offer() == Error.OK
    assert w.run(lambda: ch.get_ready_state() == OPEN and p.remote(label) is not None)
    remote = p.remote(label)
    assert remote is not None
    return ch, remote


def transfer(w: World, tx: WebRTCDataChannel, rx: WebRTCDataChannel, n: int, seed: int) -> bool:
    """Send `n` bytes in 1000-byte messages; True when they all arrived intact and in order."""
    data = payload(n, seed)
    msgs = [data[i : i + 1000] for i in range(0, n, 1000)]
    for m in msgs:
        if tx.put_packet(m) != Error.OK:
            return False
    got: list[bytes] = []

    def done() -> bool:
        while rx.get_available_packet_count():
            got.append(rx.get_packet())
        return len(got) >= len(msgs)

    return w.run(done, max_time=60) and got == msgs


class Arena:
    """A victim pair and a healthy pair on one network, both connected."""

    def __init__(self, seed: int = 1) -> None:
        self.w = World(Impairment(delay=0.005, seed=seed), seed=seed)
        self.victim = self.w.pair("10.0.0.1", "10.0.0.2", seed=seed)
        self.healthy = self.w.pair("10.0.1.1", "10.0.1.2", seed=seed + 50)
        self.hch, self.hremote = connect(self.w, self.healthy, "healthy")

    def connect_victim(self) -> tuple[WebRTCDataChannel, WebRTCDataChannel]:
        return connect(self.w, self.victim, "victim")

    def healthy_still_works(self) -> None:
        h = self.healthy
        assert h.a.get_connection_state() == CS.STATE_CONNECTED
        assert h.b.get_connection_state() == CS.STATE_CONNECTED
        assert transfer(self.w, self.hch, self.hremote, 50_000, 77)
        assert transfer(self.w, self.hremote, self.hch, 20_000, 78)


# -- DTLS ---------------------------------------------------------------------------------------


def test_wrong_dtls_fingerprint_fails_without_data() -> None:
    ar = Arena(2)
    w = ar.w
    a = w.peer("10.0.2.1", 5)
    b = w.peer("10.0.2.2", 6)
    received: list[WebRTCDataChannel] = []
    b.data_channel_received.connect(received.append)

    def forge(text: str) -> str:
        out = []
        for line in text.split("\r\n"):
            if line.startswith("a=fingerprint:sha-256 "):
                line = line[:-2] + ("00" if not line.endswith("00") else "11")
            out.append(line)
        return "\r\n".join(out)

    def a_desc(kind: str, text: str) -> None:
        assert a.set_local_description(kind, text) == Error.OK
        assert b.set_remote_description(kind, text) == Error.OK

    def b_desc(kind: str, text: str) -> None:
        assert b.set_local_description(kind, text) == Error.OK
        assert a.set_remote_description(kind, forge(text)) == Error.OK

    a.session_description_created.connect(a_desc)
    b.session_description_created.connect(b_desc)
    a.ice_candidate_created.connect(lambda m, i, n: b.add_ice_candidate(m, i, n))
    b.ice_candidate_created.connect(lambda m, i, n: a.add_ice_candidate(m, i, n))
    ch = a.create_data_channel("secret")
    assert ch is not None and a.create_offer() == Error.OK
    assert w.run(lambda: a.get_connection_state() == CS.STATE_FAILED, max_time=30)
    assert w.run(
        lambda: b.get_connection_state() in (CS.STATE_FAILED, CS.STATE_CLOSED), max_time=60
    )
    assert ch.get_ready_state() != OPEN and ch.put_packet(b"leak") == Error.ERR_UNAVAILABLE
    assert received == []
    assert w.history(a).states == [CS.STATE_NEW, CS.STATE_CONNECTING, CS.STATE_FAILED]
    assert CS.STATE_CONNECTED not in w.history(b).states
    assert a._dtls is not None and a._dtls.stats.alerts_sent >= 1  # bad_certificate
    ar.healthy_still_works()


def test_replayed_and_tampered_dtls_records_are_dropped_and_counted() -> None:
    ar = Arena(3)
    w = ar.w
    ch, remote = ar.connect_victim()
    a_addr, b_addr = bound_address(ar.victim.a), bound_address(ar.victim.b)
    with capture(w.net) as tapped:
        assert transfer(w, ch, remote, 30_000, 1)
    records = dtls_records(tapped, src=a_addr, dst=b_addr, content_type=23)
    assert len(records) >= 20
    stats = _dtls_of(ar.victim.b).stats
    replayed0, bad0 = stats.replayed, stats.bad_records
    got0 = ar.victim.b._sctp.stats.messages_received  # type: ignore[union-attr]
    rng = random.Random(3)
    tampered = 0
    for rec in records:
        w.net.inject(rec, a_addr, b_addr, w.clock.now)  # replay from the peer's own address
        w.net.inject(rec, ROGUE, b_addr, w.clock.now)  # and from a stranger
        # a flipped bit and a fresh sequence number: passes anti-replay, fails AEAD
        w.net.inject(resequenced_record(rec, rng), a_addr, b_addr, w.clock.now)
        tampered += 1
    w.idle(1.0)
    assert stats.replayed - replayed0 >= len(records)  # from the peer's own address
    # ... while the stranger's copies never reach DTLS: ICE passes data only from proven pairs
    assert ar.victim.b._agent.stats["data_from_unknown_source"] >= len(records)  # type: ignore[attr-defined]
    assert stats.bad_records - bad0 >= tampered
    assert ar.victim.b._sctp.stats.messages_received == got0  # type: ignore[union-attr]
    assert remote.get_available_packet_count() == 0  # nothing delivered twice
    assert ar.victim.b.get_connection_state() == CS.STATE_CONNECTED
    assert transfer(w, ch, remote, 20_000, 2)  # the victim still works
    ar.healthy_still_works()


def _client_hello() -> bytes:
    """A real ClientHello datagram captured from a fresh handshake."""
    w = World(seed=9)
    p = w.pair("10.9.0.1", "10.9.0.2", seed=9)
    with capture(w.net) as tapped:
        connect(w, p)
    hellos = client_hellos(tapped)
    assert hellos, "no ClientHello seen"
    return hellos[0]


def test_client_hello_flood_on_established_connection() -> None:
    ar = Arena(4)
    w = ar.w
    ch, remote = ar.connect_victim()
    hello = _client_hello()
    victims = [ar.victim.a, ar.victim.b]
    rng = random.Random(4)
    for i in range(1500):
        src = (f"10.0.3.{i % 200}", 1000 + i)
        junk = bytearray(hello)
        if i % 2:
            junk[rng.randrange(13, len(junk))] = rng.randrange(256)
        for pc in victims:
            w.net.inject(bytes(junk), src, bound_address(pc), w.clock.now)
        if i % 100 == 0:
            w.idle(0.01)
    w.idle(1.0)
    for pc in victims:
        assert pc.get_connection_state() == CS.STATE_CONNECTED
        assert len(pc._early_dtls) == 0
        conn = _dtls_of(pc)
        assert conn.state is dtls.State.ESTABLISHED
        assert len(conn.datagrams_to_send()) == 0  # nothing answered to strangers
    assert transfer(w, ch, remote, 20_000, 5)
    ar.healthy_still_works()


def test_client_hello_from_stranger_during_handshake() -> None:
    """Foreign ClientHellos sprayed at the DTLS server before the real one: ICE drops them (data
    only from proven pairs) and the handshake completes undisturbed."""
    ar = Arena(5)
    w = ar.w
    hello = _client_hello()
    p = ar.victim
    ch = p.a.create_data_channel("victim")
    assert ch is not None and p.a.create_offer() == Error.OK
    # a (the offerer, actpass) becomes the DTLS server; spray it with foreign ClientHellos until
    # its DTLS connection exists, from a stranger
    for _ in range(400):
        w.run(lambda: False, max_time=0.002)
        if p.a._transport is not None:
            w.net.inject(hello, ROGUE, bound_address(p.a), w.clock.now)
        if p.a._dtls is not None and p.a._dtls_started:
            break
    assert p.a._agent.stats["data_from_unknown_source"] >= 1  # type: ignore[attr-defined]
    assert w.run(lambda: ch.get_ready_state() == OPEN, max_time=30), w.history(p.a).states
    assert w.history(p.a).states == [CS.STATE_NEW, CS.STATE_CONNECTING, CS.STATE_CONNECTED]
    ar.healthy_still_works()


def test_spoofed_alerts_after_handshake_are_ignored() -> None:
    """Fatal alerts in clear (epoch 0) or forged for epoch 1, from a stranger and from the peer's
    own address: dropped and counted, never fatal (RFC 6347 §4.1.2.7)."""
    ar = Arena(11)
    w = ar.w
    ch, remote = ar.connect_victim()
    a, b = ar.victim.a, ar.victim.b
    before = {id(pc): _dtls_of(pc).stats.datagrams_received for pc in (a, b)}
    n = 0
    for pc, peer in ((a, b), (b, a)):
        for seq in range(50):
            for epoch in (0, 1):
                record = spoofed_alert(epoch, 1000 + seq)  # fatal handshake_failure
                for src in (ROGUE, bound_address(peer)):
                    w.net.inject(record, src, bound_address(pc), w.clock.now)
                    n += 1
    w.idle(1.0)
    for pc in (a, b):
        conn = _dtls_of(pc)
        assert conn.stats.datagrams_received - before[id(pc)] >= n // 4  # the peer-address half
        assert pc._agent.stats["data_from_unknown_source"] >= n // 4  # type: ignore[attr-defined]
        assert conn.stats.alerts_received == 0
        assert pc.get_connection_state() == CS.STATE_CONNECTED
    assert transfer(w, ch, remote, 20_000, 11)
    ar.healthy_still_works()


def _server_flight() -> list[bytes]:
    """A DTLS server's handshake datagrams (HelloVerifyRequest, ServerHello...) from another
    session."""
    w = World(seed=9)
    p = w.pair("10.9.0.1", "10.9.0.2", seed=9)
    with capture(w.net) as tapped:
        connect(w, p)
    server = bound_address(p.a)  # the offerer (actpass) is the DTLS server
    flight = dtls_records(tapped, src=server, content_type=22)
    assert flight
    return flight


def test_foreign_server_flight_from_stranger_during_handshake() -> None:
    """Only datagrams from a validated ICE pair belong to the session (browsers drop the rest).
    Unauthenticated handshake messages from a stranger must not kill the connection."""
    ar = Arena(10)
    w = ar.w
    flight = _server_flight()
    p = ar.victim
    ch = p.a.create_data_channel("victim")
    assert ch is not None and p.a.create_offer() == Error.OK
    while w.clock.now < 0.4:
        w.run(lambda: False, max_time=0.001)
        if p.b._dtls is not None and p.b._dtls_started:  # the answerer is the DTLS client
            for d in flight:
                w.net.inject(d, ROGUE, bound_address(p.b), w.clock.now)
    assert w.run(lambda: ch.get_ready_state() == OPEN, max_time=30), w.history(p.b).states


# -- SCTP (through the attacker's own DTLS session) ----------------------------------------------


def test_forged_cookies_wrong_vtags_and_stray_chunks() -> None:
    ar = Arena(6)
    w = ar.w
    ch, remote = ar.connect_victim()
    attacker, victim = ar.victim.a, ar.victim.b
    right = peer_vtag(attacker)
    stats = _sctp_of(victim).stats
    rng = random.Random(6)
    cookies0, vtag0 = stats.cookies_rejected + stats.stale_cookies, stats.bad_vtag
    for _ in range(50):
        _send_sctp(attacker, [forged_cookie_echo(rng)], right)
    w.idle(0.5)
    assert stats.cookies_rejected + stats.stale_cookies - cookies0 >= 50
    data = forged_data(remote.get_id(), b"forged")
    abort = forged_abort()
    for k in range(50):
        wrong = (right + 1 + k) % (1 << 32)
        _send_sctp(attacker, [data], wrong)
        _send_sctp(attacker, [abort], wrong)  # RFC 9260 §8.5.1: ignored with a wrong tag
    w.idle(0.5)
    assert stats.bad_vtag - vtag0 >= 100
    # INITs on a live association (RFC 9260 §5.2.2: answered with an INIT ACK, no restart)
    vtag_before = peer_vtag(victim)
    for k in range(50):
        _send_sctp(attacker, [stray_init(rng, 1000 + k)], 0)
    w.idle(0.5)
    assert peer_vtag(victim) == vtag_before
    assert _sctp_of(victim).state is sctp.State.ESTABLISHED
    assert remote.get_available_packet_count() == 0
    assert victim.get_connection_state() == CS.STATE_CONNECTED
    assert transfer(w, ch, remote, 30_000, 7)
    assert transfer(w, remote, ch, 10_000, 8)
    ar.healthy_still_works()


def test_oversized_message_from_peer_is_bounded() -> None:
    """The peer ignores our a=max-message-size (262144) and sends 4 MiB in one message: it must
    not be delivered and must not grow the victim's reassembly without bound."""
    ar = Arena(7)
    w = ar.w
    ch, remote = ar.connect_victim()
    attacker, victim = ar.victim.a, ar.victim.b
    attacker._remote.max_message_size = 0  # type: ignore[union-attr]
    _sctp_of(attacker).set_remote_max_message_size(0)
    _sctp_of(attacker).max_message_size = 0  # the attacker lifts its own limit too
    assert ch.put_packet(os.urandom(4 << 20)) == Error.OK
    assoc = _sctp_of(victim)
    peak = 0

    def watch() -> bool:
        nonlocal peak
        peak = max(peak, assoc.receive_buffer_used)
        return victim.get_connection_state() == CS.STATE_FAILED

    # Observed: the victim buffers fragments up to its hard receive limit, then aborts ("receive
    # buffer exhausted", ~10 virtual minutes of window probes) rather than at max-message-size.
    assert w.run(watch, max_time=900)
    assert 0 < peak <= assoc.receive_buffer_limit, peak
    while remote.get_available_packet_count():
        assert len(remote.get_packet()) <= 262144
    assert assoc.stats.messages_received == 0
    assert remote.get_ready_state() == ChannelState.STATE_CLOSED
    assert assoc.receive_buffer_used == 0 and not assoc.rx.frags  # released
    ar.healthy_still_works()


# -- ICE ------------------------------------------------------------------------------------------


def test_stun_flood_with_bad_integrity_is_dropped_and_counted() -> None:
    ar = Arena(8)
    w = ar.w
    ch, remote = ar.connect_victim()
    victim = ar.victim.b
    agent = victim._agent
    assert agent is not None
    target = bound_address(victim)
    user_ok = f"{agent.local_ufrag}:{ar.victim.a._agent.local_ufrag}"  # type: ignore[union-attr]
    rng = random.Random(8)
    before = agent.stats["bad_integrity"] + agent.stats["bad_username"]
    n = 3000
    for i in range(n):
        raw = forged_binding_request(rng, user_ok if i % 2 else f"x{i}:y")
        w.net.inject(raw, (f"10.0.4.{i % 250}", 2000 + i), target, w.clock.now)
        if i % 200 == 0:
            w.idle(0.01)
    w.idle(1.0)
    dropped = agent.stats["bad_integrity"] + agent.stats["bad_username"] - before
    assert dropped >= n, dict(agent.stats)
    assert len(agent.remote_candidates) <= 2 and len(agent._checks) <= 4  # nothing learned
    assert len(agent.checklist) <= 4
    assert victim.get_connection_state() == CS.STATE_CONNECTED
    assert transfer(w, ch, remote, 20_000, 9)
    ar.healthy_still_works()


def _replay_checks(seed: int, n: int) -> tuple[Arena, WebRTCDataChannel, WebRTCDataChannel]:
    """Capture the offerer's real (correctly signed) consent checks, then replay them to the
    answerer from `n` different rogue addresses (STUN has no replay protection)."""
    ar = Arena(seed)
    w = ar.w
    ch, remote = ar.connect_victim()
    a_addr, b_addr = bound_address(ar.victim.a), bound_address(ar.victim.b)
    with capture(w.net) as tapped:
        w.idle(12.0)  # a few consent checks (RFC 7675: every ~5 s)
    checks = [
        d for d, src, dst in tapped if src == a_addr and dst == b_addr and d[:2] == b"\x00\x01"
    ]
    assert checks
    for i in range(n):
        rogue = (f"10.0.5.{i % 250}", 3000 + i)
        w.net.inject(checks[i % len(checks)], rogue, b_addr, w.clock.now)
        if i % 100 == 0:
            w.idle(0.01)
    w.idle(5.0)
    return ar, ch, remote


def test_replayed_valid_checks_from_strangers_do_not_hijack() -> None:
    ar, ch, remote = _replay_checks(12, 2000)
    agent = ar.victim.b._agent
    assert agent is not None and agent.selected_pair is not None
    assert agent.selected_pair.remote.address == "10.0.0.1"  # still the real peer
    assert agent.stats["selected_pair_changes"] == 1
    assert len(agent._checks) <= 100  # triggered checks towards strangers: capped (max_pairs)
    assert ar.victim.b.get_connection_state() == CS.STATE_CONNECTED
    assert transfer(ar.w, ch, remote, 20_000, 12)
    assert transfer(ar.w, remote, ch, 20_000, 13)
    ar.healthy_still_works()


def test_replayed_valid_checks_keep_candidate_memory_bounded() -> None:
    ar, _, _ = _replay_checks(13, 2000)
    agent = ar.victim.b._agent
    assert agent is not None
    assert len(agent.remote_candidates) <= 100, len(agent.remote_candidates)


# -- a peer that never acknowledges ---------------------------------------------------------------


def test_peer_that_never_acks() -> None:
    """The peer's SCTP swallows everything (ICE consent and DTLS stay alive): the send buffer
    is bounded (ERR_BUSY), the association fails after Association.Max.Retrans (RFC 9260 §8.1),
    the connection reports FAILED, the API returns errors and the queues are released."""
    ar = Arena(9)
    w = ar.w
    ch, _remote = ar.connect_victim()
    sender, silent = ar.victim.a, ar.victim.b
    never_acknowledge(silent)
    assoc = _sctp_of(sender)
    assoc.max_send_buffer = 1 << 20  # the bound itself; the default is 64 MiB
    chunk = bytes(60_000)
    results = [ch.put_packet(chunk) for _ in range(40)]
    assert Error.ERR_BUSY in results, results
    assert results.index(Error.ERR_BUSY) <= 1 + (1 << 20) // len(chunk)
    assert ch.get_buffered_amount() <= 1 << 20
    assert w.run(lambda: sender.get_connection_state() == CS.STATE_FAILED, max_time=900)
    assert ch.get_ready_state() == ChannelState.STATE_CLOSED
    assert ch.put_packet(b"x") == Error.ERR_UNAVAILABLE
    assert sender.create_data_channel("late") is None
    assert sender.create_offer() == Error.FAILED
    assert sender.poll() == Error.OK
    assert assoc.send_buffer_used == 0 or assoc.state is sctp.State.CLOSED
    ar.healthy_still_works()
