"""The whole stack (sdp+ice+dtls+sctp under webrtc) on the simulated network, virtual time."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.netsim import Impairment
from tests.webrtc.helpers import Bulk, Pair, World, all_of, drain, payload
from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection

PC = WebRTCPeerConnection
OPEN = ChannelState.STATE_OPEN
CLOSED = ChannelState.STATE_CLOSED


def connect(w: World, p: Pair, *labels: str) -> list[WebRTCDataChannel]:
    before = len(p.received_b)
    chans = [p.a.create_data_channel(label) for label in labels]
    assert all(c is not None for c in chans)
    assert p.a.create_offer() == Error.OK
    assert w.run(
        p,
        lambda: (
            all(c.get_ready_state() == OPEN for c in chans)  # type: ignore[union-attr]
            and len(p.received_b) == before + len(labels)
        ),
    )
    return chans  # type: ignore[return-value]


def test_connect_states_and_text_binary() -> None:
    w = World()
    p = w.pair()
    history: dict[str, list[tuple[int, int, int]]] = {"a": [], "b": []}

    def record() -> bool:
        for name, pc in (("a", p.a), ("b", p.b)):
            s = (pc.get_connection_state(), pc.get_gathering_state(), pc.get_signaling_state())
            if not history[name] or history[name][-1] != s:
                history[name].append(s)
        return False

    record()
    during_offer: list[tuple[int, int]] = []
    p.a.session_description_created.connect(  # runs after wire()'s handler applied the offer
        lambda t, s: during_offer.append((p.a.get_signaling_state(), p.b.get_signaling_state()))
    )
    ch = p.a.create_data_channel("chat", {"protocol": "proto"})
    assert ch is not None
    p.a.create_offer()
    assert w.run(p, lambda: record() or (ch.get_ready_state() == OPEN and bool(p.received_b)))
    for pc in (p.a, p.b):
        assert pc.get_connection_state() == PC.STATE_CONNECTED
        assert pc.get_gathering_state() == PC.GATHERING_STATE_COMPLETE
        assert pc.get_signaling_state() == PC.SIGNALING_STATE_STABLE
    conn_a = [s[0] for s in history["a"]]
    assert conn_a[0] == PC.STATE_NEW and conn_a[-1] == PC.STATE_CONNECTED
    assert PC.STATE_CONNECTING in conn_a
    assert during_offer == [
        (PC.SIGNALING_STATE_HAVE_LOCAL_OFFER, PC.SIGNALING_STATE_HAVE_REMOTE_OFFER)
    ]
    assert history["a"][0][1] == PC.GATHERING_STATE_NEW
    remote = p.received_b[0]
    assert remote.get_label() == "chat" and remote.get_protocol() == "proto"
    assert remote.get_id() == ch.get_id() >= 0 and remote.get_ready_state() == OPEN
    assert not remote.is_negotiated()
    assert remote.config == ch.config  # the DCEP OPEN carried our sctp.ChannelConfig
    ch.write_mode = ch.WRITE_MODE_TEXT
    assert ch.put_packet("héllo".encode()) == Error.OK
    assert ch.put_packet(b"\xff\xfe") == Error.ERR_INVALID_PARAMETER  # text must be UTF-8
    ch.write_mode = ch.WRITE_MODE_BINARY
    assert ch.put_packet(b"\x00\x01") == Error.OK
    assert ch.put_packet(b"") == Error.OK  # empty message (PPID 57)
    remote.write_mode = remote.WRITE_MODE_TEXT
    assert remote.put_packet(b"") == Error.OK  # empty text (PPID 56)
    remote.write_mode = remote.WRITE_MODE_BINARY
    assert remote.put_var({"k": [1, 2.5, "s", None, True, b"\x01"]}) == Error.OK
    got_b: list[tuple[bytes, bool]] = []
    got_a: list[tuple[bytes, bool]] = []
    assert w.run(
        p,
        lambda: (
            bool(got_b.extend(drain(remote)) or len(got_b) == 3)
            and ch.get_available_packet_count() == 2
        ),
    )
    assert got_b == [("héllo".encode(), True), (b"\x00\x01", False), (b"", False)]
    got_a = drain_first(ch)
    assert got_a == [(b"", True)]
    assert ch.get_var() == {"k": [1, 2.5, "s", None, True, b"\x01"]}
    assert not ch.was_string_packet()


def drain_first(ch: WebRTCDataChannel) -> list[tuple[bytes, bool]]:
    data = ch.get_packet()
    return [(data, ch.was_string_packet())]


def test_negotiated_channels_and_reliability_modes() -> None:
    w = World(Impairment(loss=0.05, reorder=0.05, seed=3), seed=3)
    p = w.pair()
    specs = {
        "reliable": {"negotiated": True, "id": 2},
        "unordered": {"negotiated": True, "id": 4, "ordered": False},
        "rtx0": {"negotiated": True, "id": 6, "ordered": False, "maxRetransmits": 0},
        "life": {"negotiated": True, "id": 8, "maxPacketLifeTime": 3000},
    }
    ours = {k: p.a.create_data_channel(k, v) for k, v in specs.items()}
    theirs = {k: p.b.create_data_channel(k, v) for k, v in specs.items()}
    assert p.a.create_offer() == Error.OK
    assert w.run(
        p, lambda: all(c.get_ready_state() == OPEN for c in [*ours.values(), *theirs.values()])
    )
    assert p.received_a == [] and p.received_b == []  # negotiated: no data_channel_received
    for k in specs:
        assert theirs[k].is_negotiated() and theirs[k].get_id() == specs[k]["id"]
    messages = [i.to_bytes(4, "big") * 50 for i in range(200)]
    for m in messages:  # interleaved: the lifetime counts from put_packet (RFC 3758 §5)
        for k, ch in ours.items():
            assert ch.put_packet(m) == Error.OK, k
    got: dict[str, list[bytes]] = {k: [] for k in specs}

    def step() -> bool:
        for k, ch in theirs.items():
            got[k] += [d for d, _ in drain(ch)]
        return len(got["reliable"]) == 200 and len(got["unordered"]) == 200

    assert w.run(p, step)
    w.run(p, lambda: step() and False, max_time=2.0)  # let stragglers arrive
    assert got["reliable"] == messages  # reliable ordered: everything, in order
    assert sorted(got["unordered"]) == sorted(messages)  # reliable unordered: everything
    for k in ("rtx0", "life"):
        assert set(got[k]) <= set(messages) and len(set(got[k])) == len(got[k]), k
        assert len(got[k]) > 100, k  # most arrive at 5 % loss
    life = [int.from_bytes(m[:4], "big") for m in got["life"]]
    assert life == sorted(life)  # partially reliable but ordered: never out of order


def test_several_mib_each_way_intact() -> None:
    w = World(Impairment(delay=0.01, seed=5), seed=5)
    p = w.pair()
    (ch,) = connect(w, p, "bulk")
    remote = p.received_b[0]
    n = 3 << 20
    up = Bulk(ch, remote, payload(n, 1), chunk=60000)
    down = Bulk(remote, ch, payload(n, 2), chunk=1000)
    assert w.run(p, all_of(up.step, down.step), max_time=600)
    assert up.result() == up.data and down.result() == down.data


def test_message_size_limit_and_closed_channel() -> None:
    w = World()
    p = w.pair()
    (ch,) = connect(w, p, "big")
    assert ch.get_max_packet_size() == 262144
    assert ch.put_packet(bytes(262145)) == Error.ERR_INVALID_PARAMETER
    assert ch.put_packet(bytes(262144)) == Error.OK
    remote = p.received_b[0]
    assert w.run(p, lambda: remote.get_available_packet_count() == 1)
    assert remote.get_packet() == bytes(262144)
    ch.close()
    assert ch.get_ready_state() == ChannelState.STATE_CLOSING
    assert ch.put_packet(b"x") == Error.ERR_UNAVAILABLE
    assert w.run(p, lambda: ch.get_ready_state() == CLOSED and remote.get_ready_state() == CLOSED)
    assert remote.put_packet(b"x") == Error.ERR_UNAVAILABLE
    assert p.a.get_connection_state() == PC.STATE_CONNECTED  # other channels unaffected
    again = p.a.create_data_channel("after")  # in-band channel on a live connection
    assert again is not None
    assert w.run(p, lambda: again.get_ready_state() == OPEN and len(p.received_b) == 2)


def test_close_propagates() -> None:
    w = World()
    p = w.pair()
    ch1, ch2 = connect(w, p, "one", "two")
    p.a.close()
    assert p.a.get_connection_state() == PC.STATE_CLOSED
    assert ch1.get_ready_state() == CLOSED and ch2.get_ready_state() == CLOSED
    assert w.run(
        p,
        lambda: (
            all(c.get_ready_state() == CLOSED for c in p.received_b)
            and p.b.get_connection_state() == PC.STATE_CLOSED
        ),
        max_time=10,
    )
    # initialize() brings a closed connection back to a usable STATE_NEW
    assert p.a.initialize() == Error.OK and p.b.initialize() == Error.OK
    assert p.a.get_connection_state() == PC.STATE_NEW  # (signal connections are kept)
    (ch,) = connect(w, p, "again")
    assert ch.put_packet(b"hi") == Error.OK
    fresh = p.received_b[-1]
    assert w.run(p, lambda: fresh.get_available_packet_count() == 1)


def test_ten_percent_loss_connects_and_transfers() -> None:
    w = World(Impairment(loss=0.10, delay=0.02, jitter=0.01, seed=9), seed=9)
    p = w.pair()
    (ch,) = connect(w, p, "lossy")
    remote = p.received_b[0]
    up = Bulk(ch, remote, payload(256 * 1024, 3), chunk=4000)
    down = Bulk(remote, ch, payload(256 * 1024, 4), chunk=4000)
    assert w.run(p, all_of(up.step, down.step), max_time=300)
    assert up.result() == up.data and down.result() == down.data


def test_recovers_from_ten_second_outage() -> None:
    w = World(Impairment(delay=0.01, seed=2), seed=2)
    p = w.pair()
    (ch,) = connect(w, p, "outage")
    remote = p.received_b[0]
    seen: set[int] = set()

    def watch() -> bool:
        seen.add(p.a.get_connection_state())
        seen.add(p.b.get_connection_state())
        return False

    w.net.partition("10.0.0.1", "10.0.0.2")
    up = Bulk(ch, remote, payload(200_000, 5), chunk=1000)
    start = w.clock.now
    w.run(p, lambda: watch() or (up.step() and False), max_time=10.0)
    w.clock.advance_to(start + 10.0)
    w.net.heal("10.0.0.1", "10.0.0.2")
    assert w.run(p, lambda: watch() or up.step(), max_time=120)
    assert up.result() == up.data
    assert w.run(
        p,
        lambda: (
            p.a.get_connection_state() == PC.STATE_CONNECTED
            and p.b.get_connection_state() == PC.STATE_CONNECTED
        ),
        max_time=30,
    )
    assert PC.STATE_FAILED not in seen and PC.STATE_CLOSED not in seen


def test_long_outage_reports_disconnected_then_recovers() -> None:
    """20 s without consent responses (< RFC 7675's 30 s): DISCONNECTED, then CONNECTED."""
    w = World(Impairment(delay=0.01, seed=4), seed=4)
    p = w.pair()
    (ch,) = connect(w, p, "outage")
    remote = p.received_b[0]
    w.net.partition("10.0.0.1", "10.0.0.2")
    start = w.clock.now
    assert w.run(p, lambda: p.a.get_connection_state() == PC.STATE_DISCONNECTED, max_time=20)
    w.run(p, lambda: False, max_time=start + 20 - w.clock.now)
    w.clock.advance_to(start + 20)
    assert p.a.get_connection_state() != PC.STATE_FAILED
    w.net.heal("10.0.0.1", "10.0.0.2")
    assert w.run(
        p,
        lambda: (
            p.a.get_connection_state() == PC.STATE_CONNECTED
            and p.b.get_connection_state() == PC.STATE_CONNECTED
        ),
        max_time=30,
    )
    assert ch.put_packet(b"after") == Error.OK
    assert w.run(p, lambda: remote.get_available_packet_count() == 1)


def test_fingerprint_mismatch_fails() -> None:
    w = World()
    p = w.pair(signal=False)

    def forge(sdp: str) -> str:
        lines = sdp.split("\r\n")
        for i, line in enumerate(lines):
            if line.startswith("a=fingerprint:sha-256 "):
                last = line[-2:]
                lines[i] = line[:-2] + ("00" if last != "00" else "11")
        return "\r\n".join(lines)

    def a_desc(kind: str, sdp: str) -> None:
        p.a.set_local_description(kind, sdp)
        p.b.set_remote_description(kind, sdp)

    def b_desc(kind: str, sdp: str) -> None:
        p.b.set_local_description(kind, sdp)
        p.a.set_remote_description(kind, forge(sdp))  # a expects a certificate b does not have

    p.a.session_description_created.connect(a_desc)
    p.b.session_description_created.connect(b_desc)
    p.a.ice_candidate_created.connect(lambda m, i, n: p.b.add_ice_candidate(m, i, n))
    p.b.ice_candidate_created.connect(lambda m, i, n: p.a.add_ice_candidate(m, i, n))
    ch = p.a.create_data_channel("x")
    assert ch is not None
    p.a.create_offer()
    assert w.run(p, lambda: p.a.get_connection_state() == PC.STATE_FAILED, max_time=30)
    assert ch.get_ready_state() != OPEN
    assert w.run(
        p,
        lambda: p.b.get_connection_state() in (PC.STATE_FAILED, PC.STATE_CLOSED),
        max_time=60,
    )
    assert p.received_b == []


def test_candidates_before_descriptions_are_buffered() -> None:
    """Signaling reorders: every candidate reaches the peer before the description."""
    w = World()
    p = w.pair(signal=False)
    outbox: list[tuple[int, Callable[[], object]]] = []

    def link(src: PC, dst: PC) -> None:
        def on_desc(kind: str, sdp: str) -> None:
            src.set_local_description(kind, sdp)
            outbox.append((1, lambda: dst.set_remote_description(kind, sdp)))

        src.session_description_created.connect(on_desc)
        src.ice_candidate_created.connect(
            lambda m, i, n: outbox.append((0, lambda: dst.add_ice_candidate(m, i, n)))
        )

    link(p.a, p.b)
    link(p.b, p.a)
    ch = p.a.create_data_channel("late")
    assert ch is not None
    p.a.create_offer()

    def deliver() -> bool:
        for _ in range(3):
            p.a.poll()
            p.b.poll()
        outbox.sort(key=lambda item: item[0])  # candidates first
        while outbox:
            _, fn = outbox.pop(0)
            assert fn() == Error.OK
        return ch.get_ready_state() == OPEN

    assert w.run(p, deliver)


@pytest.mark.parametrize("offerer_is_a", [True, False])
def test_both_offer_directions_and_ids(offerer_is_a: bool) -> None:
    w = World()
    p = w.pair()
    off, ans = (p.a, p.b) if offerer_is_a else (p.b, p.a)
    chans = [off.create_data_channel(f"c{i}") for i in range(3)]
    off.create_offer()
    received = p.received_b if offerer_is_a else p.received_a
    assert w.run(p, lambda: len(received) == 3)
    ids = sorted(c.get_id() for c in chans)  # type: ignore[union-attr]
    assert len(set(ids)) == 3 and len({i % 2 for i in ids}) == 1
    back = ans.create_data_channel("back")
    assert back is not None
    other = p.received_a if offerer_is_a else p.received_b
    assert w.run(p, lambda: len(other) == 1)
    assert back.get_id() % 2 != ids[0] % 2  # RFC 8832 §6: DTLS client even, server odd


def test_sslkeylogfile(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(path))
    w = World()
    p = w.pair()
    connect(w, p, "k")
    lines = path.read_text().splitlines()
    assert len(lines) == 2  # one line per side, same master secret (NSS key-log format)
    fields = [line.split() for line in lines]
    assert all(f[0] == "CLIENT_RANDOM" and len(f) == 3 for f in fields)
    assert fields[0][1:] == fields[1][1:]


def test_initialize_while_connected_closes_it() -> None:
    w = World()
    p = w.pair()
    (ch,) = connect(w, p, "x")
    remote = p.received_b[0]
    assert p.a.initialize() == Error.OK
    assert ch.get_ready_state() == CLOSED
    assert p.a.get_connection_state() == PC.STATE_NEW
    assert w.run(p, lambda: remote.get_ready_state() == CLOSED, max_time=10)
    assert p.b.get_connection_state() == PC.STATE_CLOSED


def test_receiver_that_does_not_read_slows_the_sender() -> None:
    """Reliable data is never dropped; unread data is bounded by SCTP's window (API.md)."""
    from webrtc.peer_connection import RECEIVE_QUEUE_LIMIT

    w = World()
    p = w.pair()
    (ch,) = connect(w, p, "slow")
    remote = p.received_b[0]
    data = payload(12 << 20, 7)
    sent = 0

    def push() -> bool:
        nonlocal sent
        while sent < len(data) and ch.get_buffered_amount() < 1 << 20:
            assert ch.put_packet(data[sent : sent + 65536]) == Error.OK
            sent += 65536
        return False

    w.run(p, push, max_time=20)
    queued = sum(len(d) for d, _ in remote._queue)
    assert queued <= RECEIVE_QUEUE_LIMIT + 262144  # at most one message past the limit
    assert sent < len(data)  # the sender was held back
    parts: list[bytes] = []

    def pull() -> bool:
        push()
        while remote.get_available_packet_count():
            parts.append(remote.get_packet())
        return sum(map(len, parts)) >= len(data)

    assert w.run(p, pull, max_time=120)
    assert b"".join(parts) == data


def test_garbage_datagrams_do_not_hurt() -> None:
    """Random datagrams of every first-byte class (RFC 7983) to a live peer, from the peer's own
    address and from a stranger: dropped by the layers, the connection keeps working."""
    import random

    w = World()
    p = w.pair()
    (ch,) = connect(w, p, "g")
    remote = p.received_b[0]
    transport = p.b._transport
    assert transport is not None
    target = transport.bound[0]  # type: ignore[attr-defined]
    a_addr = p.a._transport.bound[0]  # type: ignore[union-attr]
    w.net.bind(("10.0.0.9", 9))
    rng = random.Random(1)
    for i in range(600):
        first = bytes([i % 256])
        junk = first + rng.randbytes(rng.randrange(0, 300))
        src = a_addr if i % 2 else ("10.0.0.9", 9)
        w.net.send(junk, src, target, w.clock.now)
        if i % 50 == 0:
            w.run(p, lambda: False, max_time=0.05)
    assert ch.put_packet(b"still fine") == Error.OK
    assert w.run(p, lambda: remote.get_available_packet_count() == 1)
    assert remote.get_packet() == b"still fine"
    assert p.b.get_connection_state() == PC.STATE_CONNECTED


def test_layer_exception_fails_the_connection_not_the_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = World()
    p = w.pair()
    (ch,) = connect(w, p, "boom")
    assoc = p.a._sctp
    assert assoc is not None

    def broken(*args: object) -> None:
        raise RuntimeError("layer bug")

    monkeypatch.setattr(assoc, "handle_timeout", broken)
    monkeypatch.setattr(assoc, "next_timeout", lambda: 0.0)
    assert p.a.poll() == Error.ERR_BUG
    assert p.a.get_connection_state() == PC.STATE_FAILED
    assert p.a.poll() == Error.OK  # no more I/O on the failed connection
    assert p.a.next_timeout() is None
    assert ch.get_ready_state() == CLOSED
    p.a.close()
    assert p.a.get_connection_state() == PC.STATE_CLOSED


def custom_signaling(
    p: Pair,
    offer_filter: Callable[[str], str] = lambda s: s,
    answer_kinds: tuple[str, ...] = ("answer",),
) -> list[str]:
    """a offers, b answers (optionally as pranswer then answer); returns b's answers."""
    answers: list[str] = []

    def a_desc(kind: str, sdp: str) -> None:
        assert p.a.set_local_description(kind, sdp) == Error.OK
        assert p.b.set_remote_description(kind, offer_filter(sdp)) == Error.OK

    def b_desc(kind: str, sdp: str) -> None:
        answers.append(sdp)
        for k in answer_kinds:
            assert p.b.set_local_description(k, sdp) == Error.OK
            assert p.a.set_remote_description(k, sdp) == Error.OK

    p.a.session_description_created.connect(a_desc)
    p.b.session_description_created.connect(b_desc)
    p.a.ice_candidate_created.connect(lambda m, i, n: p.b.add_ice_candidate(m, i, n))
    p.b.ice_candidate_created.connect(lambda m, i, n: p.a.add_ice_candidate(m, i, n))
    return answers


def test_legacy_sctpmap_offer_end_to_end() -> None:
    """An old-style offer (DTLS/SCTP 5000 + a=sctpmap) gets an old-style answer and works."""
    w = World()
    p = w.pair(signal=False)

    def legacy(sdp: str) -> str:
        sdp = sdp.replace(
            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=application 9 DTLS/SCTP 5000"
        )
        return sdp.replace("a=sctp-port:5000", "a=sctpmap:5000 webrtc-datachannel 1024")

    answers = custom_signaling(p, offer_filter=legacy)
    (ch,) = connect(w, p, "old")
    assert "m=application 9 DTLS/SCTP 5000" in answers[0] and "a=sctpmap:5000" in answers[0]
    assert ch.put_packet(b"legacy") == Error.OK
    assert w.run(p, lambda: p.received_b[0].get_available_packet_count() == 1)


def test_pranswer_then_answer_end_to_end() -> None:
    w = World()
    p = w.pair(signal=False)
    custom_signaling(p, answer_kinds=("pranswer", "answer"))
    (ch,) = connect(w, p, "pr")
    assert p.a.get_signaling_state() == PC.SIGNALING_STATE_STABLE
    assert p.b.get_signaling_state() == PC.SIGNALING_STATE_STABLE
    assert ch.put_packet(b"x") == Error.OK
    assert w.run(p, lambda: p.received_b[0].get_available_packet_count() == 1)


def test_permanent_outage_fails() -> None:
    """No consent for 30 s (RFC 7675 §5.1): ICE fails, the connection is STATE_FAILED."""
    w = World()
    p = w.pair()
    connect(w, p, "gone")
    w.net.partition("10.0.0.1", "10.0.0.2")
    assert w.run(p, lambda: p.a.get_connection_state() == PC.STATE_FAILED, max_time=60)
    assert p.b.get_connection_state() in (PC.STATE_DISCONNECTED, PC.STATE_FAILED)
    assert w.clock.now > 30
