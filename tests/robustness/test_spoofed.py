"""Attacks from outside (issue 13): single datagrams forged with the peer's own source address on
an established connection. ICE passes DTLS from that address (it is a proven pair), so only DTLS's
own rules stand between the forgery and the connection: invalid and unauthenticated records are
discarded and counted (RFC 6347 §4.1.2.7), never fatal, and a forged retransmission reflects at
most one flight per retransmission interval (RFC 6347 §4.2.4). STUN without valid
MESSAGE-INTEGRITY changes nothing in ICE. Each test then checks that both peers are still
STATE_CONNECTED, that the victim's channel delivers both ways, and that a healthy pair on the same
network is untouched.
"""

from __future__ import annotations

import random
import struct

import pytest

import dtls
from dtls.messages import HandshakeType, encode_fragment
from ice.stun import Attr, Class, Message, Method
from webrtc import ChannelState, Error, WebRTCPeerConnection
from webrtc.testing.hostile import agent_of, capture, dtls_of, spoofed_alert

from .test_hostile import Arena, transfer
from .world import CS, bound_address

_HEADER = struct.Struct("!BHQH")  # RFC 6347 §4.1 record header (epoch and sequence as one u64)


def _plaintext(content_type: int, payload: bytes, sequence: int = 5000) -> bytes:
    return _HEADER.pack(content_type, 0xFEFD, sequence, len(payload)) + payload


# The 15-byte epoch-0 handshake record of the issue: two bytes of a 12-byte handshake header.
TRUNCATED = _plaintext(22, b"\x01\x00")
# A fragment claiming 9 body bytes in a record that holds 3.
OVERRUN = _plaintext(22, bytes([1, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 9]) + b"abc")
# A fragment ending past its message (offset 8 + 3 bytes > length 9).
PAST_END = _plaintext(22, bytes([1, 0, 0, 9, 0, 0, 0, 0, 8, 0, 0, 3]) + b"abc")


class _Victim(Arena):
    """An Arena whose victim pair is connected, its handshake's last flight well behind it."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.ch, self.remote = self.connect_victim()
        self.w.idle(2.0)


def _still_works(ar: _Victim, seed: int) -> None:
    ch, remote = ar.ch, ar.remote
    for pc in (ar.victim.a, ar.victim.b):
        assert pc.get_connection_state() == CS.STATE_CONNECTED
        assert dtls_of(pc).state is dtls.State.ESTABLISHED
    assert transfer(ar.w, ch, remote, 20_000, seed)
    assert transfer(ar.w, remote, ch, 10_000, seed + 1)
    ar.healthy_still_works()


def _inject_from_peer(ar: Arena, data: bytes) -> None:
    """`data` to each victim peer, from the other's own address."""
    a, b = ar.victim.a, ar.victim.b
    for pc, peer in ((a, b), (b, a)):
        ar.w.net.inject(data, bound_address(peer), bound_address(pc), ar.w.clock.now)


@pytest.mark.parametrize(
    "record", [TRUNCATED, OVERRUN, PAST_END], ids=["truncated-15-bytes", "overrun", "past-end"]
)
def test_malformed_plaintext_handshake_record_ends_nothing(record: bytes) -> None:
    """Sent to both peers (so to the DTLS client and to the DTLS server alike)."""
    ar = _Victim(21)
    before = {id(pc): dtls_of(pc).stats.malformed for pc in (ar.victim.a, ar.victim.b)}
    _inject_from_peer(ar, record)
    ar.w.idle(1.0)
    for pc in (ar.victim.a, ar.victim.b):
        conn = dtls_of(pc)
        assert conn.stats.malformed == before[id(pc)] + 1
        assert conn.stats.alerts_sent == 0 and conn.stats.alerts_received == 0
    assert len(ar.w.history(ar.victim.a).states) == 3  # NEW, CONNECTING, CONNECTED: no more
    _still_works(ar, 21)


def test_malformed_and_forged_plaintext_during_the_handshake() -> None:
    """From before the first check until both are connected, every 2 ms each peer gets, from the
    other's address, the malformed records above, a record with the top sequence number (it
    used to pin the plaintext replay window and hide the real flights) and a fragment claiming
    a 1 MiB message: the handshake completes as if nothing was sent."""
    ar = Arena(25)
    p = ar.victim
    ch = p.a.create_data_channel("victim")
    assert ch is not None and p.a.create_offer() == Error.OK
    huge = encode_fragment(HandshakeType.certificate, 1 << 20, 2, 0, b"x")
    forged = [
        TRUNCATED,
        OVERRUN,
        PAST_END,
        _plaintext(22, b"", (1 << 48) - 1),
        _plaintext(22, huge),
    ]

    def connected() -> bool:
        return all(pc.get_connection_state() == CS.STATE_CONNECTED for pc in (p.a, p.b))

    sent = 0
    while not connected() and ar.w.clock.now < 30.0:
        ar.w.run(lambda: False, max_time=0.002)
        if p.a._transport is not None and p.b._transport is not None:
            for data in forged:
                _inject_from_peer(ar, data)
                sent += 1
    assert connected() and sent > 0
    for pc in (p.a, p.b):
        assert ar.w.history(pc).states == [CS.STATE_NEW, CS.STATE_CONNECTING, CS.STATE_CONNECTED]
        assert dtls_of(pc).stats.alerts_sent == 0
    assert ar.w.run(lambda: ch.get_ready_state() == ChannelState.STATE_OPEN, max_time=10)
    ar.healthy_still_works()


def test_plaintext_alerts_handshake_and_top_sequence_from_peer_address() -> None:
    """Plaintext fatal alerts and close_notify, a plaintext renegotiation ClientHello, a plaintext
    Finished and a record with the top sequence number: all dropped, all counted."""
    ar = _Victim(22)
    forged = [
        spoofed_alert(0, 7000),  # fatal handshake_failure
        spoofed_alert(0, 7001, description=0, level=1),  # close_notify
        _plaintext(22, encode_fragment(HandshakeType.client_hello, 0, 40, 0, b""), 7002),
        _plaintext(22, encode_fragment(HandshakeType.finished, 12, 41, 0, bytes(12)), 7003),
        _plaintext(22, b"", (1 << 48) - 1),  # would pin the epoch-0 replay window
    ]
    for data in forged:
        _inject_from_peer(ar, data)
    ar.w.idle(1.0)
    for pc in (ar.victim.a, ar.victim.b):
        stats = dtls_of(pc).stats
        assert stats.unauthenticated_dropped >= 4
        assert stats.alerts_received == 0 and stats.alerts_sent == 0
        assert stats.renegotiations_refused == 0  # never answered: it was not authenticated
    _still_works(ar, 22)


def _dtls_server(ar: Arena) -> tuple[WebRTCPeerConnection, WebRTCPeerConnection]:
    a, b = ar.victim.a, ar.victim.b
    return (b, a) if dtls_of(a).is_client else (a, b)


def test_final_flight_reflection_is_rate_limited() -> None:
    """Forged copies of the client's first flight-5 fragment: the server resends its final flight
    at most once per retransmission interval (1 s), not once per forgery."""
    ar = _Victim(23)
    server, client = _dtls_server(ar)
    conn = dtls_of(server)
    first_seq = conn._peer_flight_first_seq
    assert first_seq > 0
    fragment = encode_fragment(HandshakeType.certificate, 300, first_seq, 0, b"")
    src, dst = bound_address(client), bound_address(server)
    interval = conn.initial_retransmit
    n = 50
    resends0, suppressed0 = conn.stats.retransmissions, conn.stats.resends_suppressed
    with capture(ar.w.net) as seen:
        for i in range(n):  # n forgeries within one interval
            ar.w.net.inject(_plaintext(22, fragment, 9000 + i), src, dst, ar.w.clock.now)
            ar.w.idle(interval * 0.9 / n)
        ar.w.idle(0.05)
    reflected = [d for d, s, t in seen if s == dst and t == src and d[0] in (20, 22)]
    assert conn.stats.retransmissions - resends0 == 1
    assert conn.stats.resends_suppressed - suppressed0 == n - 1
    assert len(reflected) == 1  # the final flight (CCS + Finished) fits one datagram
    # one interval later a (genuine-looking) retransmission is answered again
    ar.w.idle(interval)
    ar.w.net.inject(_plaintext(22, fragment, 9999), src, dst, ar.w.clock.now)
    ar.w.idle(0.05)
    assert conn.stats.retransmissions - resends0 == 2
    _still_works(ar, 23)


def _captured_checks(ar: Arena, pc: WebRTCPeerConnection) -> list[Message]:
    """Binding requests `pc` sends to its peer (consent checks) over a few seconds."""
    with capture(ar.w.net) as seen:
        ar.w.idle(7.0)
    out = []
    for data, src, _dst in seen:
        if src == bound_address(pc) and data and data[0] <= 3:
            msg = Message.parse(data)
            if msg.message_class is Class.REQUEST:
                out.append(msg)
    return out


def test_forged_stun_from_peer_address_changes_nothing() -> None:
    """Binding requests with a wrong MESSAGE-INTEGRITY (USE-CANDIDATE, a winning tie-breaker for
    either role) and responses to the victim's real consent checks without integrity (success,
    487 role conflict, 400): no role, pair, nomination, consent or selection change."""
    ar = _Victim(24)
    a, b = ar.victim.a, ar.victim.b
    agents = {id(pc): agent_of(pc) for pc in (a, b)}
    roles = {id(pc): agents[id(pc)].controlling for pc in (a, b)}
    selected = {id(pc): agents[id(pc)].selected_pair for pc in (a, b)}
    rng = random.Random(24)
    checks = {id(pc): _captured_checks(ar, pc) for pc in (a, b)}
    for pc, peer in ((a, b), (b, a)):
        agent, other = agents[id(pc)], agents[id(peer)]
        user = f"{agent.local_ufrag}:{other.local_ufrag}"
        for controlling in (True, False):
            request = Message(
                Method.BINDING,
                Class.REQUEST,
                rng.randbytes(12),
                {
                    Attr.USERNAME: user,
                    Attr.PRIORITY: 2**31 - 1,
                    Attr.USE_CANDIDATE: True,
                    Attr.ICE_CONTROLLING if controlling else Attr.ICE_CONTROLLED: 2**64 - 1,
                },
            )
            for key in (None, rng.randbytes(16), other.local_pwd.encode()):
                raw = request.encode(integrity_key=key)
                ar.w.net.inject(raw, bound_address(peer), bound_address(pc), ar.w.clock.now)
        assert checks[id(pc)], "no consent check captured"
        for check in checks[id(pc)]:
            tid = check.transaction_id
            for cls, attrs in (
                (Class.SUCCESS, {Attr.XOR_MAPPED_ADDRESS: bound_address(pc)}),
                (Class.ERROR, {Attr.ERROR_CODE: (487, "Role Conflict")}),
                (Class.ERROR, {Attr.ERROR_CODE: (400, "Bad Request")}),
            ):
                raw = Message(Method.BINDING, cls, tid, dict(attrs)).encode()
                ar.w.net.inject(raw, bound_address(peer), bound_address(pc), ar.w.clock.now)
    ar.w.idle(1.0)
    for pc in (a, b):
        agent = agents[id(pc)]
        assert agent.controlling == roles[id(pc)]
        assert agent.selected_pair is selected[id(pc)]
        assert agent.stats["bad_integrity"] >= 6
        assert agent.stats["role_conflicts"] == 0
    _still_works(ar, 24)
