"""DTLS (RFC 6347, 7627, 8122) and ICE (RFC 8445, 7675) scenarios, decided from the wire."""

from __future__ import annotations

import itertools
import os

from dtls import DtlsError
from dtls import messages as hs
from sctp import chunks as sc

from ...testing.network import Impairment
from ..context import Context
from ..model import Outcome, Scenario
from ..proxy import Direction
from ..session import Session
from ..wire import dtls_records, handshakes, message, stun_requests, stun_transactions

CLIENT_HELLO, SERVER_HELLO, HELLO_VERIFY_REQUEST = 1, 2, 3
EMS = int(hs.ExtensionType.extended_master_secret)  # RFC 7627 §5.1
ALERT, APPLICATION_DATA = 21, 23
BACKOFF_WATCH = 3.0  # seconds of retransmissions watched at least (when 4 come sooner)
MIN_TA = 0.005  # RFC 8445 §14.2: Ta is never below 5 ms
PACING_SLACK = 0.001  # timestamps are taken by the proxy's thread, not at the peer
PACING_CHECKS = 8  # the first check transactions looked at
PACING_DELAY = 0.3  # one-way delay the proxy adds in ice.check-pacing
CONSENT_WINDOW = 7.0  # seconds watched: one 4-6 s consent interval must end inside it
CONSENT_TIMEOUT = 30.0  # RFC 7675 §5.1
CONSENT_SLACK = 2.5  # the expiry is noticed at the next timer tick, up to a few seconds late


def _is_dtls(data: bytes) -> bool:
    return bool(data) and 20 <= data[0] <= 63  # RFC 7983


# -- DTLS ------------------------------------------------------------------------------------------


def _hello_extensions(s: Session, peer_is_client: bool) -> tuple[int, ...] | None:
    frags = handshakes(s.proxy.snapshot(), Direction.B_TO_A)
    try:
        if peer_is_client:
            body = message(frags, CLIENT_HELLO, 0)
            return (
                None if body is None else tuple(t for t, _ in hs.ClientHello.parse(body).extensions)
            )
        body = message(frags, SERVER_HELLO, 0)
        return None if body is None else tuple(t for t, _ in hs.ServerHello.parse(body).extensions)
    except DtlsError:
        return None


def extended_master_secret(ctx: Context) -> Outcome:
    seen, ok = [], True
    for offerer in ("tester", "peer"):
        s = ctx.session()
        s.connect(offerer=offerer)
        peer_client = not bool(s.tester.dtls.is_client)
        ext = _hello_extensions(s, peer_client)
        hello = "ClientHello" if peer_client else "ServerHello"
        if ext is None:
            ok = False
            seen.append(f"the peer's {hello} was not seen whole")
        else:
            ok = ok and EMS in ext
            seen.append(f"peer {hello} extensions {list(ext)}")
        s.close()
    return Outcome.check(
        ok,
        f"extension {EMS} (extended_master_secret) in the peer's ClientHello and ServerHello",
        "; ".join(seen),
    )


def hello_verify_cookie(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect(offerer="tester")  # the peer answers: it is the DTLS client
    if s.tester.dtls.is_client:
        return Outcome.not_applicable("the peer chose to be the DTLS server")
    ours = handshakes(s.proxy.snapshot(), Direction.A_TO_B)
    theirs = handshakes(s.proxy.snapshot(), Direction.B_TO_A)
    hvr = message(ours, HELLO_VERIFY_REQUEST, 0)
    if hvr is None:
        return Outcome.not_applicable("our DTLS server sent no HelloVerifyRequest")
    cookie = hs.HelloVerifyRequest.parse(hvr).cookie
    second = message(theirs, CLIENT_HELLO, 1)
    if second is None:
        return Outcome.check(
            False,
            "a second ClientHello echoing our cookie",
            f"the peer sent {len({f.message_seq for f in theirs if f.msg_type == 1})} ClientHello",
        )
    try:
        echoed = hs.ClientHello.parse(second).cookie
    except DtlsError as exc:
        return Outcome.check(
            False, "a well-formed second ClientHello", f"it does not decode: {exc}"
        )
    return Outcome.check(
        echoed == cookie,
        f"ClientHello 2 carries the cookie {cookie.hex()}",
        f"ClientHello 2 carries {echoed.hex() or 'no cookie'}",
    )


def retransmission_backoff(ctx: Context) -> Outcome:
    s = ctx.session()
    rule = s.proxy.drop_matching(Direction.A_TO_B, _is_dtls, count=1_000_000)
    s.connect(offerer="tester", wait_connected=False)  # the peer is the DTLS client

    def hellos() -> list[float]:
        frags = handshakes(s.proxy.snapshot(), Direction.B_TO_A)
        times: list[float] = []
        for f in frags:
            first = f.msg_type == CLIENT_HELLO and f.message_seq == 0 and f.offset == 0
            if first and (not times or f.time - times[-1] > 0.01):  # one per transmission
                times.append(f.time)
        return times

    started = s.proxy.now()

    def enough() -> bool:  # 4 transmissions, more if the timer is fast (up to 8 or 3 s)
        n = len(hellos())
        return n >= 8 or (n >= 4 and s.proxy.now() - started >= BACKOFF_WATCH)

    s.wait(enough, 16.0)
    rule.count = rule.hits  # let the handshake through now
    times = hellos()
    if s.tester.dtls is not None and s.tester.dtls.is_client:
        return Outcome.not_applicable("the peer chose to be the DTLS server")
    s.wait(lambda: s.peer_connected(), 15.0)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    shown = ", ".join(f"{g:.3f}" for g in gaps)
    if len(times) < 4:
        return Outcome.check(
            False,
            "the ClientHello is retransmitted at least 3 times within 16 s with no answer",
            f"{len(times)} transmissions; intervals {shown or '-'} s",
        )
    # RFC 6347 §4.2.4.1: doubling; judged by the mean growth per step from the first to the
    # last interval, which one late or early timer on a loaded machine does not upset
    growth = (gaps[-1] / gaps[0]) ** (1 / (len(gaps) - 1)) if gaps[0] > 0 else 0.0
    doubling = growth >= 1.5
    return Outcome.check(
        doubling,
        "the retransmission interval grows about 2x per step (mean growth at least 1.5x)",
        f"intervals {shown} s (mean growth {growth:.2f}x per step)",
        notes=[f"handshake completed after the drop ended: {s.peer.connection_state()}"],
    )


def fragmentation_576(ctx: Context) -> Outcome:
    path = Impairment(mtu=576 - 28, delay=0.0)  # IPv4 + UDP headers: 548 bytes of UDP payload
    s = ctx.session(a_to_b=path, b_to_a=path)
    s.connect(wait_open=False, wait_connected=False)
    ok = s.wait(
        lambda: (
            s.tester.connection_state() == "connected" and s.peer.connection_state() == "connected"
        ),
        45.0,
    )
    too_big = [
        r for r in s.proxy.snapshot() if r.direction is Direction.B_TO_A and r.fate == "dropped:mtu"
    ]
    big_from_peer = f"{len(too_big)} of sizes {sorted({len(r.data) for r in too_big})}"
    frags = [f for f in handshakes(s.proxy.snapshot(), Direction.B_TO_A) if not f.whole]
    return Outcome.check(
        ok,
        "the handshake completes on a path that carries at most 548-byte UDP payloads",
        f"ours {s.tester.connection_state()}, peer {s.peer.connection_state()}; the peer's "
        f"datagrams over the limit (dropped): {big_from_peer}; its handshake fragments: "
        f"{len(frags)}",
    )


def _heartbeat_record(s: Session, marker: bytes) -> bytes | None:
    """An SCTP HEARTBEAT to the peer, encrypted by our DTLS connection (not sent)."""
    assoc, conn = s.tester.sctp, s.tester.dtls
    writer = getattr(assoc, "writer", None)  # the packet writer holds the peer's tag
    tag = getattr(writer, "tag", 0)
    if not tag or conn is None:
        return None
    chunk = sc.HeartbeatChunk([(int(sc.ParamType.HEARTBEAT_INFO), marker)]).encode()
    zero = bool(getattr(writer, "zero_checksum", False))  # RFC 9653 once both advertised it
    packet = sc.encode_packet(assoc.local_port, assoc.remote_port, tag, [chunk], zero_checksum=zero)
    conn.send(packet)
    out = conn.datagrams_to_send()
    return out[-1] if out else None


def replay_dropped(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect()
    s.idle(0.3)

    def acks() -> int:
        return len([e for e in s.tester.events("SCTP", "HEARTBEAT ACK") if e.direction == "in"])

    record = _heartbeat_record(s, b"conformance-replay-" + os.urandom(8))
    if record is None:
        return Outcome.not_applicable("our association exposes no verification tag")
    s.proxy.inject(Direction.A_TO_B, record)
    if not s.wait(lambda: acks() >= 1, 3.0):
        return Outcome.not_applicable("the peer did not answer a fresh HEARTBEAT (RFC 9260 §8.3)")
    before = acks()
    focus = s.tester.trace[-1].time if s.tester.trace else None
    s.proxy.inject(Direction.A_TO_B, record)  # the same record again: same epoch and sequence
    s.idle(1.5)
    extra = acks() - before
    return Outcome.check(
        extra == 0 and s.peer_connected(),
        "the replayed record is discarded (no second HEARTBEAT ACK) and the connection stays up",
        f"HEARTBEAT ACKs after the replay: {extra}; peer {s.peer.connection_state()}",
        focus=focus,
    )


def bad_record_discarded(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect()
    s.idle(0.3)

    def acks() -> int:
        return len([e for e in s.tester.events("SCTP", "HEARTBEAT ACK") if e.direction == "in"])

    def alerts() -> int:
        return sum(
            1
            for r in s.proxy.snapshot()
            if r.direction is Direction.B_TO_A and any(c == ALERT for c, *_ in dtls_records(r.data))
        )

    record = _heartbeat_record(s, b"conformance-tampered-" + os.urandom(8))
    if record is None:
        return Outcome.not_applicable("our association exposes no verification tag")
    tampered = record[:-1] + bytes([record[-1] ^ 0x55])  # the AEAD tag no longer verifies
    focus = s.tester.trace[-1].time if s.tester.trace else None
    s.proxy.inject(Direction.A_TO_B, tampered)
    s.idle(1.0)
    after_bad, alerts_sent = acks(), alerts()
    good = _heartbeat_record(s, b"conformance-after-" + os.urandom(8))
    if good is not None:
        s.proxy.inject(Direction.A_TO_B, good)
    alive = s.wait(lambda: acks() > after_bad, 3.0)
    return Outcome.check(
        after_bad == 0 and alerts_sent == 0 and alive,
        "the record that fails authentication is silently discarded (no answer, no alert) and the "
        "connection carries the next record",
        f"HEARTBEAT ACKs to the tampered record: {after_bad}; alerts from the peer: "
        f"{alerts_sent}; the next good record answered: {alive}",
        focus=focus,
    )


def _tamper_fingerprint(text: str) -> str:
    lines = []
    for line in text.split("\r\n"):
        if line.startswith("a=fingerprint:"):
            algo, _, value = line[len("a=fingerprint:") :].partition(" ")
            first = "00" if not value.startswith("00") else "11"
            line = f"a=fingerprint:{algo} {first}{value[2:]}"
        lines.append(line)
    return "\r\n".join(lines)


def fingerprint_mismatch(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect(edit_tester_description=_tamper_fingerprint, wait_connected=False)
    s.wait(lambda: s.peer.connection_state() in ("connected", "failed", "closed"), 10.0)
    state = s.peer.connection_state()
    alerts = [
        r
        for r in s.proxy.snapshot()
        if r.direction is Direction.B_TO_A and any(c == ALERT for c, *_ in dtls_records(r.data))
    ]
    data_sent = any(
        r.direction is Direction.B_TO_A
        and any(c == APPLICATION_DATA for c, *_ in dtls_records(r.data))
        for r in s.proxy.snapshot()
    )
    return Outcome.check(
        state != "connected" and not data_sent,
        "the peer refuses our certificate (it does not match the signalled fingerprint): no "
        "connection, no application data",
        f"peer {state}; DTLS alerts from the peer: {len(alerts)}; application data from the "
        f"peer: {data_sent}",
    )


def close_notify(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect()
    n = len(s.proxy.snapshot())
    s.peer.close()
    s.wait(lambda: s.tester.connection_state() != "connected", 5.0)
    s.idle(1.0)  # an alert may follow the SCTP ABORT
    later = s.proxy.snapshot()[n:]
    alerts = [r for r in later if r.direction is Direction.B_TO_A and r.data and r.data[0] == ALERT]
    return Outcome.check(
        bool(alerts),
        "the peer sends a close_notify alert when it closes (RFC 5246 §7.2.1)",
        f"DTLS alert records from the peer after close(): {len(alerts)}; "
        f"our state {s.tester.connection_state()}",
    )


# -- ICE -------------------------------------------------------------------------------------------


def peer_reflexive(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect(give_peer_candidates=False, wait_connected=False)
    if not s.wait(lambda: s.proxy.target("b") is not None, 3.0):
        return Outcome.not_applicable(
            "the peer signalled no IP candidate (mDNS names only) and, knowing none of ours, "
            "sends nothing: the proxy cannot reach it"
        )
    s.connect_rest()
    return Outcome.check(
        s.open_on_both("conformance"),
        "the peer connects without any candidate of ours, learning us from our checks",
        "connected and the channel is open",
    )


def consent_freshness(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect()
    start = s.proxy.now()
    s.idle(CONSENT_WINDOW)
    times = [t for t in stun_requests(s.proxy.snapshot(), Direction.B_TO_A) if t >= start]
    marks = [start, *times, s.proxy.now()]
    gaps = [b - a for a, b in itertools.pairwise(marks)]
    worst = max(gaps)
    return Outcome.check(
        bool(times) and worst <= 6.5,
        "a consent check (STUN Binding request) at least every 6 s, 4-6 s apart on average",
        f"{len(times)} requests in {marks[-1] - start:.1f} s; longest silence {worst:.2f} s",
    )


def unvalidated_source(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect()
    s.idle(0.3)
    rule = s.proxy.divert_matching(
        Direction.A_TO_B, lambda d: bool(d) and d[0] == APPLICATION_DATA and len(d) > 100
    )
    marker = b"from-an-unvalidated-address " + os.urandom(100)
    before = s.tester.sctp.stats.retransmissions
    s.tester.send("conformance", marker)
    s.require(
        lambda: marker in s.peer.messages("conformance"),
        15.0,
        "the message arrives once we retransmit it on the validated path",
        lambda: "it never arrived",
    )
    if rule.hits == 0:
        return Outcome.not_applicable("no datagram was diverted")
    retransmitted = s.tester.sctp.stats.retransmissions - before
    answered = [r for r in s.proxy.snapshot() if r.direction is Direction.TO_FRESH]
    return Outcome.check(
        retransmitted > 0 and not answered,
        "data from an address that passed no connectivity check is dropped: our SCTP must "
        "retransmit it on the validated path, and nothing is sent back to that address",
        f"our retransmissions: {retransmitted}; datagrams the peer sent to the unvalidated "
        f"address: {len(answered)}",
    )


def check_pacing(ctx: Context) -> Outcome:
    slow = Impairment(delay=PACING_DELAY)  # answers come late: the peer keeps checking others
    s = ctx.session(a_to_b=slow, b_to_a=slow)
    s.connect(decoys=3)  # four candidates of ours: the peer has several pairs to check
    s.idle(1.0)
    checks = stun_transactions(s.proxy.snapshot(), (Direction.B_TO_A, Direction.TO_FRESH))
    first = [t for t, _ in checks][:PACING_CHECKS]
    if len(first) < 3:
        return Outcome.not_applicable(f"the peer sent only {len(first)} checks")
    gaps = sorted(b - a for a, b in itertools.pairwise(first))
    shown = ", ".join(f"{g * 1000:.1f}" for g in gaps)
    return Outcome.check(
        gaps[0] >= MIN_TA - PACING_SLACK,
        f"new connectivity checks at least Ta apart, never closer than {MIN_TA * 1000:g} ms",
        f"gaps between its first {len(first)} check transactions: {shown} ms "
        f"(median {gaps[len(gaps) // 2] * 1000:.1f} ms)",
    )


def role_conflict(ctx: Context) -> Outcome:
    s = ctx.session()

    def both_controlled(text: str) -> str:
        # after our offer the check list is empty: we claim the controlled role too, so both
        # agents are controlled and the first check is a role conflict (RFC 8445 §7.3.1.1)
        s.tester.agent.controlling = False
        return text

    s.connect(edit_tester_description=both_controlled)
    s.wait(lambda: any("USE-CANDIDATE" in e.summary for e in s.tester.events("STUN")), 5.0)
    stun = s.tester.events("STUN")
    conflicts = [f"{e.direction} {e.summary[:60]}" for e in stun if "487" in e.summary]
    nominated = [e for e in stun if "USE-CANDIDATE" in e.summary]
    ours = int(s.tester.agent.stats.get("role_conflicts", 0))
    controlling = "controlling" if s.tester.agent.controlling else "controlled"
    return Outcome.check(
        bool(nominated),
        "the conflict is resolved (one side switches or answers 487) and a pair is nominated",
        f"487 responses: {conflicts}; conflicts our agent saw: {ours}; we ended "
        f"{controlling}; USE-CANDIDATE checks: {len(nominated)}",
    )


def consent_expiry(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect()
    # consent runs on the selected pair: let our nomination (USE-CANDIDATE) through first
    s.wait(lambda: any("USE-CANDIDATE" in e.summary for e in s.tester.events("STUN")), 5.0)
    s.idle(1.0)
    # from now on the peer's consent checks get no answer (every STUN message of ours is lost)
    s.proxy.drop_matching(Direction.A_TO_B, lambda d: bool(d) and d[0] < 2, count=10**9)
    start = s.proxy.now()
    refused = 0
    while s.proxy.now() - start < CONSENT_TIMEOUT + CONSENT_SLACK + 3.0:
        try:
            s.peer.send("conformance", b"still consented?")
        except Exception:  # a peer may refuse to send once consent is gone: that is the point
            refused += 1
        s.idle(0.5)
    late = [
        r.time - start
        for r in s.proxy.snapshot()
        if r.direction is Direction.B_TO_A
        and r.time - start > CONSENT_TIMEOUT + CONSENT_SLACK
        and any(c == APPLICATION_DATA for c, *_ in dtls_records(r.data))
    ]
    return Outcome.check(
        not late,
        f"no application data from the peer later than {CONSENT_TIMEOUT:g} s (+{CONSENT_SLACK:g} s"
        " for its check interval) after its consent checks stopped being answered",
        f"DTLS application data records after that: {len(late)}"
        + (f" (first at {late[0]:.1f} s)" if late else "")
        + f"; sends the peer refused: {refused}",
    )


CATALOG = [
    Scenario(
        "dtls.extended-master-secret",
        "RFC 7627 §5.1",
        "A client implementing this document MUST send the extended_master_secret extension; a "
        "server that receives it MUST include it in its ServerHello.",
        "the extension in the peer's ClientHello (peer as client) and ServerHello (as server)",
        "two connections (each side offers once); the peer's hellos are read off the wire",
        extended_master_secret,
    ),
    Scenario(
        "dtls.hello-verify-cookie",
        "RFC 6347 §4.2.1",
        "The client MUST retransmit the ClientHello with the cookie added.",
        "after our HelloVerifyRequest, the peer's second ClientHello carries our cookie",
        "the peer is the DTLS client; both ClientHellos and our HelloVerifyRequest are read off "
        "the wire",
        hello_verify_cookie,
    ),
    Scenario(
        "dtls.retransmission-backoff",
        "RFC 6347 §4.2.4.1",
        "Implementations SHOULD double the value of the timer at each retransmission.",
        "the peer's unanswered ClientHello is retransmitted with growing intervals",
        "the proxy drops all our DTLS; the peer's ClientHello transmissions are timed (at least "
        "4, over 3 s when they come fast); pass if the interval grows 1.5x per step on average",
        retransmission_backoff,
        slow=True,
        level="SHOULD",
    ),
    Scenario(
        "dtls.fragmentation-576",
        "RFC 6347 §4.1.1.1",
        "Each DTLS record MUST fit within a single datagram; handshake messages larger than the "
        "PMTU are fragmented (§4.2.3), and the PMTU estimate is reduced after retransmissions.",
        "the handshake completes on a 576-byte path (548 bytes of UDP payload)",
        "the proxy drops every datagram over 548 bytes both ways; pass if both reach connected",
        fragmentation_576,
        slow=True,
        level="SHOULD",
    ),
    Scenario(
        "dtls.replay-dropped",
        "RFC 6347 §4.1.2.6",
        "Duplicates are rejected through the use of a sliding receive window.",
        "a replayed record (same epoch and sequence number) is silently discarded",
        "we send an SCTP HEARTBEAT record, then inject the same record again; pass if only the "
        "first is answered with a HEARTBEAT ACK and the connection stays up",
        replay_dropped,
        level="SHOULD",
    ),
    Scenario(
        "dtls.bad-record-discarded",
        "RFC 6347 §4.1.2.7",
        "In general, invalid records SHOULD be silently discarded, thus preserving the "
        "association.",
        "a record whose authentication fails is dropped without an alert; the connection lives",
        "we send a HEARTBEAT record with one byte of its AEAD tag flipped, then a good one; pass "
        "if only the good one is answered and the peer sends no alert",
        bad_record_discarded,
        level="SHOULD",
    ),
    Scenario(
        "dtls.fingerprint-mismatch",
        "RFC 8122 §5",
        "The certificate presented MUST match a fingerprint from the SDP, else the session "
        "MUST NOT be established.",
        "with a wrong a=fingerprint in our description the peer does not connect",
        "the fingerprint given to the peer is altered; pass if the peer never reaches connected "
        "and sends no application data",
        fingerprint_mismatch,
    ),
    Scenario(
        "dtls.close-notify",
        "RFC 6347 §4.1 / RFC 5246 §7.2.1",
        "Each party is required to send a close_notify alert before closing the write side of "
        "the connection.",
        "closing the peer connection sends a DTLS alert record",
        "the peer closes; pass if an alert record from it crosses the proxy",
        close_notify,
    ),
    Scenario(
        "ice.peer-reflexive",
        "RFC 8445 §7.3.1.3",
        "A check from a source address that is not a known remote candidate yields a "
        "peer-reflexive candidate.",
        "the peer connects with no candidate of ours at all",
        "we signal no candidate; pass if the connection and its channel open",
        peer_reflexive,
    ),
    Scenario(
        "ice.consent-freshness",
        "RFC 7675 §5.1",
        "Consent checks are sent every 5 s, randomized to 4-6 s (0.8 to 1.2 times).",
        "the peer keeps sending consent checks on the selected pair",
        "7 s of idle connection; pass if requests come and no silence exceeds 6.5 s",
        consent_freshness,
        slow=True,
    ),
    Scenario(
        "ice.check-pacing",
        "RFC 8445 §14.2",
        "Ta (the pacing of new connectivity checks) defaults to 50 ms and MUST NOT be "
        "configured below 5 ms.",
        "the peer's first check transactions are at least 5 ms apart",
        "we signal three extra candidates (proxy sockets that relay nothing) and the proxy "
        "delays 300 ms each way, so the peer checks several pairs; its first (up to 8) check "
        "transactions are timed at the proxy",
        check_pacing,
    ),
    Scenario(
        "ice.role-conflict",
        "RFC 8445 §7.3.1.1",
        "An agent that receives a check claiming its own role resolves the conflict by the "
        "tie-breakers: it switches role or answers 487 (Role Conflict).",
        "with both agents controlled the conflict is resolved and a pair is nominated",
        "we claim the controlled role although we offered; pass if a USE-CANDIDATE check follows",
        role_conflict,
    ),
    Scenario(
        "ice.consent-expiry",
        "RFC 7675 §5.1",
        "An endpoint MUST cease transmission on the 5-tuple if it has not received a response to "
        "any of its consent checks in the last 30 seconds.",
        "the peer stops sending data about 30 s after its consent checks stop being answered",
        "the proxy drops all our STUN from then on while the peer is asked to send every 0.5 s; "
        "pass if no DTLS application data from it comes later than 32.5 s (36 s run)",
        consent_expiry,
        slow=True,
    ),
    Scenario(
        "ice.unvalidated-source",
        "RFC 8445 §7.3, RFC 7675 §1",
        "Not an RFC MUST: consent (RFC 7675) is verified per address by connectivity checks, "
        "and browsers (libwebrtc) and this project drop DTLS from any other source.",
        "a DTLS record from an address that passed no check is dropped",
        "the proxy sends one of our DATA records from a fresh port; pass if our SCTP must "
        "retransmit it (the peer did not take it) and nothing goes back to that port",
        unvalidated_source,
        level="practice",
    ),
]
