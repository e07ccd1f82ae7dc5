"""Interop scenarios: our WebRTCPeerConnection against aiortc or headless Chromium.

Run inside a private network namespace (tests/interop/netns.py), e.g.
`python -m tests.webrtc.interop_scenarios aiortc offer` (we offer) or `... chromium answer`.
Prints one line per observed step and `RESULT ok` at the end; exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection
from webrtc.net import UdpTransport

OPEN = ChannelState.STATE_OPEN
CLOSED = ChannelState.STATE_CLOSED


def log(text: str) -> None:
    print(text, flush=True)


class Ours:
    """Our peer, poll()-driven, with the signaling collected for the scenario."""

    def __init__(self, hosts: list[str] | None = None) -> None:
        self.hosts = hosts
        factory = None if hosts is None else (lambda: UdpTransport(hosts=hosts))
        self.pc = WebRTCPeerConnection(transport_factory=factory)
        self.descriptions: list[tuple[str, str]] = []
        self.candidates: list[tuple[str, int, str]] = []
        self.received: list[WebRTCDataChannel] = []
        self.echo: list[WebRTCDataChannel] = []
        self.pc.session_description_created.connect(self._on_description)
        self.pc.ice_candidate_created.connect(lambda m, i, n: self.candidates.append((m, i, n)))
        self.pc.data_channel_received.connect(self._on_channel)
        self.errors: list[Error] = []

    def _on_description(self, kind: str, sdp: str) -> None:
        assert self.pc.set_local_description(kind, sdp) == Error.OK
        self.descriptions.append((kind, sdp))

    def _on_channel(self, ch: WebRTCDataChannel) -> None:
        log(f"ours: data_channel_received {ch.get_label()!r} id={ch.get_id()}")
        self.received.append(ch)

    def poll(self) -> None:
        err = self.pc.poll()
        if err != Error.OK:
            self.errors.append(err)
        for ch in self.echo:  # echo back, keeping the text/binary kind
            while ch.get_available_packet_count():
                data = ch.get_packet()
                ch.write_mode = (
                    ch.WRITE_MODE_TEXT if ch.was_string_packet() else ch.WRITE_MODE_BINARY
                )
                ch.put_packet(data)

    def wait(self, cond: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError(f"ours: {what} not reached in {timeout}s; {self.describe()}")
            self.poll()
            time.sleep(0.002)

    def describe(self) -> str:
        pc = self.pc
        agent = pc._agent
        parts = [
            f"connection={pc.get_connection_state().name}",
            f"gathering={pc.get_gathering_state().name}",
            f"signaling={pc.get_signaling_state().name}",
            f"dtls={pc._dtls_phase.name} sctp={pc._sctp_phase.name}",
        ]
        if agent is not None:
            parts.append(f"ice={agent.state.name} pair={agent.selected_pair}")
            parts.append(f"local={[str(c.candidate) for c in agent.local_candidates]}")
            parts.append(f"remote={[str(c) for c in agent.remote_candidates]}")
            parts.append(f"ice stats={dict(agent.stats)}")
        if pc._dtls is not None:
            parts.append(f"dtls state={pc._dtls.state.name} stats={pc._dtls.stats}")
        return " ".join(parts)

    def channel(self, label: str) -> WebRTCDataChannel | None:
        for ch in self.received:
            if ch.get_label() == label:
                return ch
        return None


def forward_candidates(ours: Ours, peer: Any, sent: list[int]) -> None:
    """Trickle our new candidates to the peer (and end-of-candidates once complete)."""
    while sent[0] < len(ours.candidates):
        mid, index, cand = ours.candidates[sent[0]]
        peer.add_candidate(mid, index, cand)
        sent[0] += 1
    if sent[1] == 0 and ours.pc.get_gathering_state() == ours.pc.GATHERING_STATE_COMPLETE:
        peer.add_candidate("0", 0, "")
        sent[1] = 1


def take_peer_candidates(ours: Ours, peer: Any) -> None:
    for mid, index, cand in peer.new_candidates():
        err = ours.pc.add_ice_candidate(mid, index, cand)
        log(f"ours: add_ice_candidate({mid!r}, {index}, {cand[:60]!r}) -> {err.name}")


def echo_roundtrip(ours: Ours, ch: WebRTCDataChannel, peer: Any, label: str) -> None:
    """Peer echoes: we send text + binary + a large binary, they come back intact and typed."""
    peer.enable_echo(label)
    big = bytes(range(256)) * 256  # 64 KiB
    ch.write_mode = ch.WRITE_MODE_TEXT
    assert ch.put_packet("hello ✓".encode()) == Error.OK
    ch.write_mode = ch.WRITE_MODE_BINARY
    assert ch.put_packet(b"\x00\x01\x02") == Error.OK
    assert ch.put_packet(big) == Error.OK
    got: list[tuple[bytes, bool]] = []

    def done() -> bool:
        while ch.get_available_packet_count():
            data = ch.get_packet()
            got.append((data, ch.was_string_packet()))
        return len(got) >= 3

    ours.wait(done, f"echo on {label}")
    assert got == [("hello ✓".encode(), True), (b"\x00\x01\x02", False), (big, False)], got
    log(f"echo ok on {label!r}: text and binary came back intact (64 KiB included)")


def peer_to_us(ours: Ours, peer: Any, label: str) -> None:
    """The peer sends text + binary on `label`; we echo; the peer sees both back."""
    before = len(peer.messages(label))
    peer.send(label, "from peer")
    peer.send(label, b"\xff\x00")
    peer.wait_messages(label, before + 2, timeout=15, pump=ours.poll)
    msgs = peer.messages(label)[before:]
    assert msgs == ["from peer", b"\xff\x00"], msgs
    log(f"peer -> ours -> peer ok on {label!r}")


def expect_resolved_host(ours: Ours, peer_kind: str) -> None:
    """Chromium signals `<uuid>.local` host candidates and answers our one-shot mDNS query only
    by multicast: the transport's 5353 group socket resolves the name into a host candidate.
    Single-homed (`hosts`), Chromium's checks come from that address, so the selected pair's
    remote candidate is the resolved host one (the prflx one is replaced). Gathering on both
    namespace addresses, Chromium's 0.0.0.0 socket may be nominated through the other address
    (a prflx candidate at a different address than its mDNS answer), so only resolution is
    required then."""
    if peer_kind != "chromium":
        return
    agent = ours.pc._agent
    assert agent is not None

    def resolved() -> bool:
        sel = agent.selected_pair
        hosts = [c for c in agent.remote_candidates if c.type == "host" and not c.is_mdns]
        return (
            agent.stats["mdns_resolved"] > 0
            and bool(hosts)
            and sel is not None
            and (ours.hosts is None or sel.remote.type == "host")
        )

    ours.wait(resolved, "mDNS-resolved host candidate", timeout=10)
    sel = agent.selected_pair
    assert sel is not None and not sel.remote.is_mdns, sel
    log(
        f"ours: selected remote {sel.remote.type} {sel.remote.address}:{sel.remote.port} "
        f"(mdns_resolved={agent.stats['mdns_resolved']})"
    )


def scenario(peer_kind: str, we_offer: bool, hosts: list[str] | None = None) -> None:
    ours = Ours(hosts)
    if peer_kind == "aiortc":
        from tests.interop.aiortc_peer import AiortcPeer

        peer: Any = AiortcPeer(auto_echo=False)
    else:
        from tests.interop.chromium_peer import ChromiumPeer

        peer = ChromiumPeer(mdns=True)
        peer.start()
    sent = [0, 0]
    try:
        if we_offer:
            ch = ours.pc.create_data_channel("chat")
            un = ours.pc.create_data_channel("fast", {"ordered": False, "maxRetransmits": 2})
            assert ch is not None and un is not None
            assert ours.pc.create_offer() == Error.OK
            ours.wait(lambda: bool(ours.descriptions), "offer")
            offer = ours.descriptions[-1][1]
            ours.wait(
                lambda: ours.pc.get_gathering_state() == ours.pc.GATHERING_STATE_COMPLETE,
                "gathering",
            )
            answer = peer.accept_offer(offer, pump=ours.poll)
            err = ours.pc.set_remote_description("answer", answer)
            log(f"ours: set_remote_description(answer) -> {err.name}")
            assert err == Error.OK
            forward_candidates(ours, peer, sent)
            take_peer_candidates(ours, peer)

            def opened() -> bool:
                forward_candidates(ours, peer, sent)
                take_peer_candidates(ours, peer)
                return ch.get_ready_state() == OPEN and un.get_ready_state() == OPEN

            ours.wait(opened, "our channels open", timeout=20)
            log(f"ours: connection {ours.pc.get_connection_state().name}, channels open")
            expect_resolved_host(ours, peer_kind)
            peer.wait_remote_channel("chat", timeout=10, pump=ours.poll)
            peer.wait_remote_channel("fast", timeout=10, pump=ours.poll)
            info = peer.channel_info("fast")
            log(f"peer sees 'fast' as {info}")
            echo_roundtrip(ours, ch, peer, "chat")
            ours.echo.append(un)
            peer_to_us(ours, peer, "fast")
            # a channel the peer opens on the live connection reaches data_channel_received
            peer.create_channel("late", {"protocol": "p1"})
            ours.wait(lambda: ours.channel("late") is not None, "peer-created channel")
            late = ours.channel("late")
            assert late is not None and late.get_protocol() == "p1"
            ours.echo.append(late)
            peer.wait_channel_open("late", timeout=10, pump=ours.poll)
            peer_to_us(ours, peer, "late")
            closing = ch
        else:
            peer.create_channel("chat")
            peer.create_channel("neg", {"negotiated": True, "id": 5})
            neg = ours.pc.create_data_channel("neg", {"negotiated": True, "id": 5})
            assert neg is not None
            offer = peer.create_offer(pump=ours.poll)
            err = ours.pc.set_remote_description("offer", offer)
            log(f"ours: set_remote_description(offer) -> {err.name}")
            assert err == Error.OK
            ours.wait(lambda: bool(ours.descriptions), "answer")
            peer.set_answer(ours.descriptions[-1][1])

            def received() -> bool:
                forward_candidates(ours, peer, sent)
                take_peer_candidates(ours, peer)
                return ours.channel("chat") is not None and neg.get_ready_state() == OPEN

            ours.wait(received, "the peer's channel", timeout=20)
            chat = ours.channel("chat")
            assert chat is not None
            state = ours.pc.get_connection_state().name
            log(f"ours: connection {state}, 'chat' id={chat.get_id()}")
            expect_resolved_host(ours, peer_kind)
            peer.wait_channel_open("chat", timeout=10, pump=ours.poll)
            ours.echo.append(chat)
            peer_to_us(ours, peer, "chat")
            peer.wait_channel_open("neg", timeout=10, pump=ours.poll)
            echo_roundtrip(ours, neg, peer, "neg")
            mine = ours.pc.create_data_channel("mine")  # in-band channel from the answerer
            assert mine is not None
            peer.wait_remote_channel("mine", timeout=10, pump=ours.poll)
            ours.wait(lambda: mine.get_ready_state() == OPEN, "our late channel")
            echo_roundtrip(ours, mine, peer, "mine")
            closing = neg if peer_kind == "aiortc" else mine
        # closing one channel is seen by the peer; then close() of the whole connection
        label = closing.get_label()
        closing.close()
        ours.wait(lambda: closing.get_ready_state() == CLOSED, f"our {label!r} closed")
        peer.wait_channel_state(label, "closed", timeout=10, pump=ours.poll)
        log(f"channel close ok: peer sees {label!r} closed")
        open_labels = [
            lab
            for lab in ("chat", "fast", "late", "neg", "mine")
            if peer.channel_state(lab) == "open"
        ]
        assert open_labels
        t0 = time.monotonic()
        ours.pc.close()
        for lab in open_labels:  # our close() (SCTP ABORT + close_notify) closes their channels
            peer.wait_channel_state(lab, "closed", timeout=10)
        log(
            f"close() ok: peer channels {open_labels} closed after "
            f"{time.monotonic() - t0:.2f} s; peer connection state {peer.connection_state()}"
        )
        assert not [e for e in ours.errors if e != Error.ERR_UNCONFIGURED], ours.errors
    except BaseException:
        log(f"peer log: {peer.log()}")
        raise
    finally:
        try:
            peer.close()
        except Exception as exc:
            log(f"peer close: {exc!r}")
    log("RESULT ok")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=["aiortc", "chromium"])
    parser.add_argument("direction", choices=["offer", "answer"], help="what WE do")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--host", action="append", help="gather only on this address (repeat)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING,
        format="%(name)s: %(message)s",
    )
    logging.getLogger("aioice").setLevel(logging.WARNING)
    logging.getLogger("aiortc").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    scenario(args.peer, args.direction == "offer", args.host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
