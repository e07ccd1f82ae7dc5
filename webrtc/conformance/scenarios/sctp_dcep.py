"""SCTP (RFC 9260, 3758, 6525, 8831, 8841) and DCEP (RFC 8832) scenarios."""

from __future__ import annotations

import struct
import time
from typing import Any

import sdp

from ...testing.network import Impairment
from ...trace import TraceEvent
from ..context import Context
from ..model import Outcome, Scenario, ScenarioFailed
from ..proxy import Direction

LABEL = "ünïcødé ✓ label"
RTO_MAX = 60.0  # RFC 9260 §16: RTO.Max
STALL = 4.0  # seconds of total outage in sctp.recovers-after-stall
RECOVERY = 12.0  # the T3-rtx back-off after STALL (1+2+4 s) fires again within 8 s
PROTOCOL = "prötocøl-✓"
OPEN_TIMEOUT = 8.0


def _show(values: list[str | bytes], limit: int = 12) -> str:
    shown = [v if isinstance(v, str) else f"<{len(v)} B>" for v in values[:limit]]
    more = f" (+{len(values) - limit} more)" if len(values) > limit else ""
    return f"{shown}{more}"


def _message(tag: str, i: int, size: int) -> bytes:
    head = struct.pack("!4sI", tag.encode()[:4].ljust(4), i)
    return head + bytes((i + k) & 0xFF for k in range(max(0, size - len(head))))


# -- DCEP ------------------------------------------------------------------------------------------


def dcep_utf8_from_peer(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect()
    s.peer.create_channel(LABEL, {"protocol": PROTOCOL})
    t = s.tester
    s.wait(lambda: any(v.label == LABEL and v.remote for v in t.channels()), OPEN_TIMEOUT)
    got = [v for v in t.channels() if v.remote]
    undecodable = [
        e.summary for e in t.events("SCTP", "DATA") if e.fields.get("dcep") == "undecodable"
    ]
    ok = any(v.label == LABEL and v.protocol == PROTOCOL for v in got)
    observed = (
        f"our stack saw channels {[(v.label, v.protocol) for v in got]}"
        if got
        else "no channel reached our stack"
    )
    if undecodable:
        observed += f"; the peer's DATA_CHANNEL_OPEN did not decode: {undecodable[-1]}"
    opens = [
        e
        for e in t.events("SCTP", "DATA")
        if e.direction == "in" and e.fields.get("dcep") in ("OPEN", "undecodable")
    ]
    notes = []
    for e in opens:
        got_label, got_protocol = str(e.fields.get("label", "")), str(e.fields.get("protocol", ""))
        if e.fields.get("dcep") == "OPEN" and got_label != LABEL:
            notes.append(
                f"declared Label Length {len(got_label.encode())} and Protocol Length "
                f"{len(got_protocol.encode())}: the character counts of the label and protocol "
                f"({len(LABEL)}/{len(PROTOCOL)}), not their UTF-8 byte counts "
                f"({len(LABEL.encode())}/{len(PROTOCOL.encode())})"
                if len(got_label.encode()) == len(LABEL)
                else f"declared Label Length {len(got_label.encode())}, label {got_label!r}"
            )
    return Outcome.check(
        ok,
        f"a channel labelled {LABEL!r} with protocol {PROTOCOL!r} (Label/Protocol Length in bytes:"
        f" {len(LABEL.encode())}/{len(PROTOCOL.encode())})",
        observed,
        notes=notes,
        focus=opens[-1].time if opens else None,
    )


def dcep_utf8_to_peer(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect(tester_channels=[(LABEL, {"protocol": PROTOCOL})], wait_open=False)
    s.wait(lambda: s.peer_view(LABEL) is not None, OPEN_TIMEOUT)
    views = [(v.label, v.protocol) for v in s.peer.channels()]
    return Outcome.check(
        (LABEL, PROTOCOL) in views,
        f"the peer reports label {LABEL!r} and protocol {PROTOCOL!r}",
        f"the peer reports channels {views}",
    )


def _parity(ctx: Context, offerer: str) -> tuple[bool, str]:
    s = ctx.session()
    s.connect(offerer=offerer)
    s.peer.create_channel("parity", {})
    s.require(
        lambda: s.tester_view("parity") is not None,
        OPEN_TIMEOUT,
        "the peer's channel reaches our stack",
        lambda: "no DATA_CHANNEL_OPEN arrived",
    )
    view = s.tester_view("parity")
    peer_client = not bool(s.tester.dtls.is_client)
    sid = -1 if view is None or view.id is None else view.id
    s.close()
    good = sid >= 0 and sid % 2 == (0 if peer_client else 1)
    return good, f"{offerer} offered, peer DTLS {'client' if peer_client else 'server'}: id {sid}"


def dcep_id_parity(ctx: Context) -> Outcome:
    checks = [_parity(ctx, offerer) for offerer in ("tester", "peer")]
    return Outcome.check(
        all(ok for ok, _ in checks),
        "even stream ids as DTLS client, odd as DTLS server",
        "; ".join(text for _, text in checks),
    )


_PARAMS: list[tuple[str, dict[str, Any]]] = [
    ("p-unordered-rexmit", {"ordered": False, "maxRetransmits": 3}),
    ("p-ordered-lifetime", {"ordered": True, "maxPacketLifeTime": 500}),
    ("p-unordered-reliable", {"ordered": False}),
]


def _matches(view: object, options: dict[str, Any]) -> bool:
    from ..peers.base import ChannelView

    assert isinstance(view, ChannelView)
    return (
        view.ordered == options.get("ordered", True)
        and view.max_retransmits == options.get("maxRetransmits")
        and view.max_packet_life_time == options.get("maxPacketLifeTime")
    )


def _describe(view: object) -> str:
    from ..peers.base import ChannelView

    if not isinstance(view, ChannelView):
        return "absent"
    return (
        f"ordered={view.ordered} maxRetransmits={view.max_retransmits} "
        f"maxPacketLifeTime={view.max_packet_life_time}"
    )


def dcep_parameters_from_peer(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect()
    for label, options in _PARAMS:
        s.peer.create_channel(label, options)
    labels = [label for label, _ in _PARAMS]
    s.wait(lambda: all(s.tester_view(label) is not None for label in labels), OPEN_TIMEOUT)
    bad = [
        f"{label}: wanted {options}, ours {_describe(s.tester_view(label))}"
        for label, options in _PARAMS
        if s.tester_view(label) is None or not _matches(s.tester_view(label), options)
    ]
    return Outcome.check(
        not bad,
        "the DATA_CHANNEL_OPEN carries each channel's ordering and reliability",
        "; ".join(bad) or "all three as created",
    )


def dcep_parameters_to_peer(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect(tester_channels=_PARAMS, wait_open=False)
    labels = [label for label, _ in _PARAMS]
    s.wait(lambda: all(s.peer_view(label) is not None for label in labels), OPEN_TIMEOUT)
    bad = [
        f"{label}: sent {options}, peer reports {_describe(s.peer_view(label))}"
        for label, options in _PARAMS
        if s.peer_view(label) is None or not _matches(s.peer_view(label), options)
    ]
    return Outcome.check(
        not bad,
        "the peer takes ordering and reliability from our DATA_CHANNEL_OPEN",
        "; ".join(bad) or "all three as sent",
    )


# -- SCTP ------------------------------------------------------------------------------------------


def _forward_tsn(ctx: Context, ordered: bool) -> Outcome:
    """Lose the middle fragment of a message on a maxRetransmits=0 channel; the messages after
    it must still be delivered once FORWARD TSN skips it."""
    s = ctx.session()
    label = "pr"
    s.connect(tester_channels=[(label, {"ordered": ordered, "maxRetransmits": 0})])
    s.idle(0.2)
    big = _message("big", 0, 3000)  # three DATA fragments of <= 1163 B each
    rule = s.proxy.drop_matching(Direction.A_TO_B, lambda d: len(d) >= 1000 and d[0] == 23, skip=1)
    s.tester.send(label, big)
    s.step()
    following = [_message("next", i, 200) for i in range(1, 6)]
    for m in following:
        s.tester.send(label, m)

    def sent_fwd() -> list[TraceEvent]:
        return [e for e in s.tester.events("SCTP", "FORWARD TSN") if e.direction == "out"]

    s.wait(lambda: bool(sent_fwd()) and len(s.peer.messages(label)) >= len(following), 10.0)
    s.idle(0.5)
    got = s.peer.messages(label)
    fwd = sent_fwd()
    if rule.hits == 0 or not fwd:
        return Outcome.not_applicable(
            f"the stimulus did not happen (fragment dropped: {rule.hits}, "
            f"FORWARD TSN sent: {len(fwd)})"
        )
    delivered = [m for m in following if m in got]
    return Outcome.check(
        delivered == following and big not in got,
        f"the {len(following)} messages after the abandoned one are delivered"
        f"{' in order' if ordered else ''}; the abandoned message is not",
        f"delivered {len(delivered)} of {len(following)} following messages"
        f"{'; the abandoned message arrived' if big in got else ''}; peer got {_show(got)}",
        focus=fwd[0].time,
        notes=[f"FORWARD TSN sent: {fwd[0].summary}"],
    )


def forward_tsn_ordered(ctx: Context) -> Outcome:
    return _forward_tsn(ctx, ordered=True)


def forward_tsn_unordered(ctx: Context) -> Outcome:
    return _forward_tsn(ctx, ordered=False)


def _delivery(ctx: Context, loss: float) -> Outcome:
    s = ctx.session()
    label = "exact"
    s.connect(tester_channels=[(label, {})])
    lossy = Impairment(loss=loss, delay=0.005)
    s.proxy.set_impairment(Direction.A_TO_B, lossy)
    s.proxy.set_impairment(Direction.B_TO_A, lossy)
    n = ctx.options.messages
    ours = [_message("ours", i, 100 + (i * 131) % 2000) for i in range(n)]
    theirs = [_message("peer", i, 100 + (i * 97) % 2000) for i in range(n)]
    for i in range(n):
        s.tester.send(label, ours[i])
        s.peer.send(label, theirs[i])
        s.step()

    def done() -> bool:
        return len(s.peer.messages(label)) >= n and len(s.tester.messages(label)) >= n

    lossy_for = 20.0 + n * loss * 0.5
    notes = []
    if not s.wait(done, lossy_for):
        # a conforming sender may have backed its RTO off far (RFC 9260 §6.3.3: up to
        # RTO.Max, 60 s) after a run of losses: end the loss and let it recover
        notes.append(f"not done after {lossy_for:g} s of loss; loss stopped, then waited")
        s.proxy.set_impairment(Direction.A_TO_B, Impairment(delay=0.005))
        s.proxy.set_impairment(Direction.B_TO_A, Impairment(delay=0.005))
        started = time.monotonic()
        finished = s.wait(done, RTO_MAX + 10.0)
        notes.append(
            f"{'done' if finished else 'still not done'} {time.monotonic() - started:.1f} s "
            "after the loss stopped"
        )
    got_peer, got_ours = s.peer.messages(label), s.tester.messages(label)
    bad = []
    if got_peer != ours:
        bad.append(f"the peer got {len(got_peer)} of {n} ({_first_difference(ours, got_peer)})")
    if got_ours != theirs:
        bad.append(f"we got {len(got_ours)} of {n} ({_first_difference(theirs, got_ours)})")
    return Outcome.check(
        not bad,
        f"{n} messages each way arrive exactly once and in order at {loss:.0%} loss",
        "; ".join(bad) or "all delivered exactly, in order",
        notes=[*notes, s.proxy_summary()],
    )


def _first_difference(want: list[bytes], got: list[str | bytes]) -> str:
    for i, (a, b) in enumerate(zip(want, got, strict=False)):
        if a != b:
            return f"first difference at message {i}"
    return "a prefix, nothing wrong in it" if len(got) < len(want) else "extra messages"


def delivery_5(ctx: Context) -> Outcome:
    return _delivery(ctx, 0.05)


def delivery_15(ctx: Context) -> Outcome:
    return _delivery(ctx, 0.15)


def delivery_30(ctx: Context) -> Outcome:
    return _delivery(ctx, 0.30)


def _reset(ctx: Context, by_peer: bool) -> Outcome:
    s = ctx.session()
    s.connect(tester_channels=[("closing", {}), ("staying", {})])
    if by_peer:
        s.peer.close_channel("closing")
    else:
        s.tester.close_channel("closing")

    def closed() -> bool:
        a, b = s.tester_view("closing"), s.peer_view("closing")
        return a is not None and b is not None and a.state == b.state == "closed"

    s.wait(closed, OPEN_TIMEOUT)
    reconfig = [e for e in s.tester.events("SCTP", "RE-CONFIG")]
    a, b = s.tester_view("closing"), s.peer_view("closing")
    states = f"ours {a.state if a else '-'}, peer {b.state if b else '-'}"
    staying = s.open_on_both("staying")
    s.tester.send("staying", b"after the reset")
    s.wait(lambda: b"after the reset" in s.peer.messages("staying"), OPEN_TIMEOUT)
    still = b"after the reset" in s.peer.messages("staying")
    return Outcome.check(
        closed() and staying and still and bool(reconfig),
        "RE-CONFIG resets the stream, both ends report the channel closed, the other channel "
        "keeps working",
        f"{states}; other channel open on both: {staying}, carries data: {still}; "
        f"RE-CONFIG chunks seen: {[e.direction + ' ' + e.summary for e in reconfig][:6]}",
    )


def reset_by_peer(ctx: Context) -> Outcome:
    return _reset(ctx, by_peer=True)


def reset_by_us(ctx: Context) -> Outcome:
    return _reset(ctx, by_peer=False)


def max_message_size_ours(ctx: Context) -> Outcome:
    limit = 16384

    def declare(text: str) -> str:
        lines = [ln for ln in text.split("\r\n") if not ln.startswith("a=max-message-size:")]
        out = "\r\n".join(lines)
        return out.rstrip("\r\n") + f"\r\na=max-message-size:{limit}\r\n"

    s = ctx.session()
    s.connect(edit_tester_description=declare)
    refused = ""
    try:
        s.peer.send("conformance", b"x" * (limit + 4000))
    except Exception as exc:
        refused = f"refused: {exc}"
    s.peer.send("conformance", b"small")
    s.wait(lambda: b"small" in s.tester.messages("conformance"), OPEN_TIMEOUT)
    sizes = [len(m) for m in s.tester.messages("conformance")]
    over = [n for n in sizes if n > limit]
    return Outcome.check(
        not over,
        f"no message above our a=max-message-size:{limit} is sent (the peer refuses it)",
        f"{refused or 'the peer accepted the send'}; we received sizes {sizes}",
    )


def max_message_size_theirs(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect()
    answer = s.answers.get("peer", "")
    try:
        media = sdp.parse(answer).media[0]
        declared = media.effective_max_message_size
    except (sdp.ParseError, IndexError):
        return Outcome.not_applicable("the peer's answer does not parse (see sdp.answer)")
    size = min(declared or 262144, 262144)
    big = _message("max", 7, size)
    s.tester.send("conformance", big)
    s.wait(lambda: bool(s.peer.messages("conformance")), 15.0)
    got = s.peer.messages("conformance")
    return Outcome.check(
        got[:1] == [big],
        f"a message of exactly the peer's max-message-size ({size} B) arrives intact",
        f"the peer received {_show(got)}",
    )


def init_collision(ctx: Context) -> Outcome:
    s = ctx.session()
    s.connect()
    inbound = [e for e in s.tester.events("SCTP") if e.direction == "in"]
    inits = [e for e in inbound if e.kind == "INIT"]
    acks = [e for e in inbound if e.kind == "INIT ACK"]
    if not inits or not acks or inits[0].time > acks[0].time:
        return Outcome.not_applicable(
            f"no collision: the peer sent {len(inits)} INIT and {len(acks)} INIT ACK "
            "(it answered our INIT before sending its own)"
        )
    sent, answered = inits[0].fields.get("itag"), acks[0].fields.get("itag")
    return Outcome.check(
        sent == answered and s.open_on_both("conformance"),
        "the peer's INIT ACK (sent while its own INIT was outstanding) carries the Initiate Tag "
        "of its INIT, and one association comes up",
        f"its INIT itag={sent}, its INIT ACK itag={answered}; channel open on both: "
        f"{s.open_on_both('conformance')}",
        focus=inits[0].time,
    )


def recovers_after_stall(ctx: Context) -> Outcome:
    s = ctx.session()
    label = "stall"
    s.connect(tester_channels=[(label, {})])
    n = 30
    ours = [_message("ours", i, 1000) for i in range(n)]
    theirs = [_message("peer", i, 1000) for i in range(n)]
    for i in range(10):
        s.tester.send(label, ours[i])
        s.peer.send(label, theirs[i])
    s.step()
    s.proxy.partition(STALL)  # nothing gets through either way: timers back off
    for i in range(10, n):
        s.tester.send(label, ours[i])
        s.peer.send(label, theirs[i])
        s.step()
    s.idle(STALL)
    healed = time.monotonic()
    done = s.wait(
        lambda: len(s.peer.messages(label)) >= n and len(s.tester.messages(label)) >= n,
        RECOVERY,
    )
    took = time.monotonic() - healed
    exact = s.peer.messages(label) == ours and s.tester.messages(label) == theirs
    return Outcome.check(
        done and exact,
        f"after a {STALL:g} s outage every message arrives exactly, within {RECOVERY:g} s of "
        "the path coming back",
        f"{'all' if exact else 'not all'} delivered exactly; "
        f"{f'done {took:.1f} s after the outage' if done else 'not done in time'}; "
        f"peer got {len(s.peer.messages(label))}/{n}, we got {len(s.tester.messages(label))}/{n}",
        notes=[s.proxy_summary()],
    )


def zero_checksum_negotiated(ctx: Context) -> Outcome:
    s = ctx.session(zero_checksum=False)  # our INIT / INIT ACK lack Zero Checksum Acceptable
    label = "zero-checksum"
    n = 10
    failed = ""
    try:
        s.connect(tester_channels=[(label, {})])
        for i in range(n):
            s.tester.send(label, _message("ours", i, 200 + 100 * i))
            s.peer.send(label, _message("peer", i, 200 + 100 * i))
            s.step()
        s.wait(
            lambda: len(s.peer.messages(label)) >= n and len(s.tester.messages(label)) >= n,
            OPEN_TIMEOUT,
        )
    except ScenarioFailed as exc:
        failed = f"; the exchange failed: {exc.observed}"
    assoc = s.tester.sctp
    st = assoc.stats if assoc is not None else None
    zero = st.zero_checksum_received + st.zero_checksum_refused if st is not None else 0
    got = (len(s.peer.messages(label)), len(s.tester.messages(label)))
    if st is None or (not zero and (failed or got != (n, n))):
        return Outcome.not_applicable(
            f"no exchange to judge (peer got {got[0]}/{n}, we got {got[1]}/{n}){failed}"
        )
    return Outcome.check(
        zero == 0,
        "every SCTP packet the peer sends carries a CRC32c: none has checksum 0, since we "
        "did not advertise Zero Checksum Acceptable",
        f"of {st.packets_received} SCTP packets we received, {zero} had checksum 0 "
        f"({st.zero_checksum_refused} dropped as we check the CRC32c, "
        f"{st.zero_checksum_received} accepted); {st.bad_checksum - st.zero_checksum_refused} "
        f"had another bad checksum; peer got {got[0]}/{n} messages, we got {got[1]}/{n}{failed}",
        notes=[s.proxy_summary()],
    )


CATALOG = [
    Scenario(
        "dcep.open.utf8-lengths.from-peer",
        "RFC 8832 §5.1",
        "Label Length and Protocol Length: the length of the label/protocol field in bytes; "
        "the label and protocol are UTF-8 encoded.",
        "a channel the peer opens with a non-ASCII label and protocol reaches us intact",
        "the peer opens the channel; pass if our stack reports exactly that label and protocol",
        dcep_utf8_from_peer,
    ),
    Scenario(
        "dcep.open.utf8-lengths.to-peer",
        "RFC 8832 §5.1",
        "Label Length / Protocol Length count bytes of UTF-8 text.",
        "the peer decodes our DATA_CHANNEL_OPEN with a non-ASCII label and protocol",
        "we open the channel; pass if the peer reports exactly that label and protocol",
        dcep_utf8_to_peer,
    ),
    Scenario(
        "dcep.stream-id-parity",
        "RFC 8832 §6",
        "The DTLS client MUST use streams with an even stream identifier, the DTLS server odd.",
        "the peer's in-band channel uses an even id as DTLS client and an odd one as server",
        "two connections (each side offers once); pass if both ids have the right parity",
        dcep_id_parity,
    ),
    Scenario(
        "dcep.channel-parameters.from-peer",
        "RFC 8832 §5.1",
        "Channel Type and Reliability Parameter carry ordering and partial reliability.",
        "unordered/maxRetransmits/maxPacketLifeTime of the peer's channels arrive as created",
        "the peer opens three channels; pass if our stack reports the same parameters",
        dcep_parameters_from_peer,
    ),
    Scenario(
        "dcep.channel-parameters.to-peer",
        "RFC 8832 §5.1",
        "Channel Type and Reliability Parameter carry ordering and partial reliability.",
        "the peer applies the ordering and reliability of our DATA_CHANNEL_OPEN",
        "we open three channels; pass if the peer reports the same parameters",
        dcep_parameters_to_peer,
    ),
    Scenario(
        "sctp.forward-tsn.ordered",
        "RFC 3758 §3.6",
        "On a FORWARD TSN the receiver advances its cumulative TSN, drops the skipped fragments "
        "and delivers the ordered messages that are now deliverable.",
        "after an abandoned message on an ordered maxRetransmits=0 channel, the next ones arrive",
        "the proxy drops the middle fragment of a 3000-byte message; we send 5 more and abandon "
        "it (FORWARD TSN); pass if the peer delivers the 5",
        forward_tsn_ordered,
    ),
    Scenario(
        "sctp.forward-tsn.unordered",
        "RFC 3758 §3.6",
        "On a FORWARD TSN the receiver drops the fragments of skipped messages.",
        "after an abandoned message on an unordered maxRetransmits=0 channel, the next ones arrive",
        "as sctp.forward-tsn.ordered, on an unordered channel",
        forward_tsn_unordered,
    ),
    Scenario(
        "sctp.exact-delivery.loss-5",
        "RFC 9260 §6.2",
        "The receiver delivers every user message of a reliable ordered stream once, in order.",
        "every message arrives exactly once and in order at 5 % loss each way",
        "the proxy loses 5 % each way while N messages go each way (then, if not done, the "
        "loss stops and RTO.Max + 10 s are allowed); compare byte for byte",
        delivery_5,
    ),
    Scenario(
        "sctp.exact-delivery.loss-15",
        "RFC 9260 §6.2",
        "The receiver delivers every user message of a reliable ordered stream once, in order.",
        "every message arrives exactly once and in order at 15 % loss each way",
        "the proxy loses 15 % each way while N messages go each way (then, if not done, the "
        "loss stops and RTO.Max + 10 s are allowed); compare byte for byte",
        delivery_15,
        slow=True,
    ),
    Scenario(
        "sctp.exact-delivery.loss-30",
        "RFC 9260 §6.2",
        "The receiver delivers every user message of a reliable ordered stream once, in order.",
        "every message arrives exactly once and in order at 30 % loss each way",
        "the proxy loses 30 % each way while N messages go each way (then, if not done, the "
        "loss stops and RTO.Max + 10 s are allowed); compare byte for byte",
        delivery_30,
        slow=True,
    ),
    Scenario(
        "sctp.init-collision",
        "RFC 9260 §5.2.1",
        "An endpoint that receives an INIT in COOKIE-WAIT MUST respond with an INIT ACK using "
        "the same parameters it sent in its original INIT (including its Initiate Tag).",
        "both WebRTC ends send INIT at once; the peer's INIT ACK keeps its own INIT's tag",
        "read off our trace; n/a when the peer answered our INIT before sending its own",
        init_collision,
    ),
    Scenario(
        "sctp.recovers-after-stall",
        "RFC 9260 §6.3.3",
        "On T3-rtx expiry the sender retransmits the earliest outstanding DATA and backs off "
        "the RTO; after the timeout cwnd restarts from one MTU (§7.2.3) and grows again.",
        "after a 4 s outage both ways, all queued messages flow again and arrive exactly",
        "30 messages each way, 20 sent during the outage; pass if all arrive byte for byte "
        "within 12 s of the path's return",
        recovers_after_stall,
        slow=True,
    ),
    Scenario(
        "sctp.stream-reset.close-by-peer",
        "RFC 8831 §6.7",
        "Closing a data channel resets the corresponding outgoing stream (RFC 6525); the other "
        "side resets its outgoing stream in turn.",
        "the peer's close reaches us as a stream reset and both ends report closed",
        "the peer closes one of two channels; pass if both ends report it closed and the other "
        "still carries data",
        reset_by_peer,
    ),
    Scenario(
        "sctp.stream-reset.close-by-us",
        "RFC 8831 §6.7",
        "When one side resets its outgoing stream, the other side resets its own in turn.",
        "our close reaches the peer as a stream reset and both ends report closed",
        "we close one of two channels; pass if both ends report it closed and the other still "
        "carries data",
        reset_by_us,
    ),
    Scenario(
        "sctp.max-message-size.honoured",
        "RFC 8841 §6.1",
        "An SCTP endpoint MUST NOT send a message larger than the max-message-size the other "
        "side declared.",
        "with our a=max-message-size:16384 the peer refuses a 20384-byte message",
        "the peer is asked to send above our limit; pass if no such message reaches us",
        max_message_size_ours,
    ),
    Scenario(
        "sctp.max-message-size.accepted",
        "RFC 8841 §6",
        "The max-message-size attribute indicates the largest message the endpoint will accept.",
        "a message of exactly the size the peer declared (at most 256 KiB) is delivered",
        "we send one message of that size; pass if the peer receives it byte for byte",
        max_message_size_theirs,
    ),
    Scenario(
        "sctp.zero-checksum-negotiated",
        "RFC 9653 §5.2, §5.4",
        "An endpoint MUST NOT send packets with a zero checksum unless the other endpoint "
        "indicated Zero Checksum Acceptable in its INIT or INIT ACK; a receiver that did not "
        "indicate it checks the CRC32c of every packet.",
        "with our INIT / INIT ACK not advertising zero checksum, every packet it sends carries "
        "a CRC32c",
        "10 messages each way on a channel; pass if none of the peer's SCTP packets had "
        "checksum 0 (counted by our association: accepted or dropped)",
        zero_checksum_negotiated,
    ),
]
