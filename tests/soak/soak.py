"""Real-peer soak: our WebRTCPeerConnection against aiortc for N minutes, verifying every byte.

`python -m tests.soak --minutes N --seed S [--offer ours|aiortc]` (or `--seconds`). As root it
re-executes itself inside a private network namespace (aiortc gathers every interface). Not run
in CI except for the ~10 s smoke test in test_soak_smoke.py. See docs/SOAK.md.

A seeded rng drives everything: channels opened from either side (in-band and negotiated,
ordered/unordered, reliable and partially reliable), random-size text and binary messages both
ways, and random closes from either side. Every message carries a sequence number and a CRC-32
(text: 16 hex digits, binary: 8-byte header); the sender records what it sent, the receiver
checks kind, length and checksum, and:
- reliable ordered: exactly once, in order (empty messages too, checked by position);
- reliable unordered: exactly once; everything arrives before the channel is closed;
- partially reliable: never corrupted or duplicated; ordered ones never go backwards.
Any violation ends the run with exit code 1; the summary is printed as JSON on the last line.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import random
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection
from webrtc.testing.hostile import sctp_of

OPEN = ChannelState.STATE_OPEN
CLOSED = ChannelState.STATE_CLOSED
MAX_MESSAGE = 65536  # aiortc's max-message-size
BIN_HDR = struct.Struct("!II")  # seq, crc32(payload, seq)
TEXT_HDR = 16  # "%08x%08x" seq, crc
MAX_OPEN = 8
NEG_IDS = range(100, 200)  # negotiated ids; in-band ids stay below (lowest free id first)
BUFFER_LIMIT = 256 * 1024  # per-channel sender buffer before we hold back
INFLIGHT_LIMIT = 2 * 1024 * 1024  # reliable bytes in flight per direction
WAIT = 20.0  # every wait is bounded by this
ENV_FLAG = "WEBRTC_SOAK_IN_NETNS"
SIDES = ("ours", "aiortc")


class Violation(Exception):
    """A broken guarantee (corruption, loss on a reliable channel, a close that did not
    propagate, a timeout): the run stops and exits non-zero."""


@dataclass
class Direction:
    """One direction of one channel: what the sender sent and the receiver has yet to see."""

    expected: dict[int, tuple[bool, int, int]] = field(default_factory=dict)  # seq->text,len,crc
    next_seq: int = 0
    recv_next: int = 0
    inflight: int = 0  # reliable bytes not yet received
    received: int = 0
    lost: int = 0  # partially reliable only


@dataclass
class Channel:
    label: str
    creator: str  # "ours" | "aiortc"
    negotiated: bool
    ordered: bool
    reliable: bool
    options: dict[str, Any]
    ours: WebRTCDataChannel | None = None
    theirs: Any = None  # aiortc RTCDataChannel (touched only on its loop, read-only here)
    sid: int = -1
    state: str = "opening"  # opening | open | quiescing | closing | closed
    to_aiortc: Direction = field(default_factory=Direction)
    to_ours: Direction = field(default_factory=Direction)


def _text_pool(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_é✓ж"
    return "".join(rng.choices(alphabet, k=70000))


class Ledger:
    """The books: builds framed messages, records what was sent, checks what arrives."""

    def __init__(self, seed: int, offer: str) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.pool = _text_pool(self.rng)
        self.stats: dict[str, Any] = {
            "seed": seed,
            "offer": offer,
            "channels_opened": 0,
            "channels_opened_by": {"ours": 0, "aiortc": 0},
            "channels_negotiated": 0,
            "channels_partially_reliable": 0,
            "channels_closed": 0,
            "channels_closed_by": {"ours": 0, "aiortc": 0},
            "ours_to_aiortc": {"messages": 0, "bytes": 0},
            "aiortc_to_ours": {"messages": 0, "bytes": 0},
            "partially_reliable_lost": 0,
            "partially_reliable_lost_to": {"aiortc": 0, "ours": 0},
            "errors": [],
        }

    def settle(self, ch: Channel) -> None:
        for d in (ch.to_aiortc, ch.to_ours):
            if ch.reliable and d.expected:
                raise Violation(f"{ch.label}: {len(d.expected)} reliable messages never arrived")
            self._lost(ch, d, len(d.expected))
            d.expected.clear()

    def _lost(self, ch: Channel, d: Direction, n: int) -> None:
        d.lost += n
        self.stats["partially_reliable_lost"] += n
        self.stats["partially_reliable_lost_to"]["aiortc" if d is ch.to_aiortc else "ours"] += n

    # -- traffic ---------------------------------------------------------------------------------

    def make_message(self, ch: Channel, d: Direction) -> tuple[bool, bytes]:
        rng = self.rng
        seq = d.next_seq
        d.next_seq += 1
        text = rng.random() < 0.4
        if ch.reliable and ch.ordered and rng.random() < 0.03:
            d.expected[seq] = (text, -1, 0)  # empty message: checked by its position
            return text, b""
        r = rng.random()
        size = rng.randint(0, 64) if r < 0.5 else rng.randint(0, 4096) if r < 0.85 else -1
        if text:
            limit = MAX_MESSAGE - TEXT_HDR
            if size < 0:
                size = rng.randint(4096, limit // 2)
            start = rng.randrange(0, len(self.pool) - size)
            payload = self.pool[start : start + size].encode()[:limit]
            payload = payload.decode("utf-8", "ignore").encode()  # never cut inside a char
            crc = zlib.crc32(payload, seq & 0xFFFFFFFF)
            data = f"{seq & 0xFFFFFFFF:08x}{crc:08x}".encode() + payload
        else:
            limit = MAX_MESSAGE - BIN_HDR.size
            if size < 0:
                size = rng.randint(4096, limit)
            payload = rng.randbytes(size)
            crc = zlib.crc32(payload, seq & 0xFFFFFFFF)
            data = BIN_HDR.pack(seq & 0xFFFFFFFF, crc) + payload
        d.expected[seq] = (text, len(payload), crc)
        if ch.reliable:
            d.inflight += len(data)
        return text, data

    def receive(self, ch: Channel, d: Direction, text: bool, data: bytes) -> None:
        label = ch.label
        if not data:
            seq = d.recv_next
            want = d.expected.pop(seq, None)
            if not (ch.reliable and ch.ordered) or want != (text, -1, 0):
                raise Violation(f"{label}: unexpected empty message (seq {seq} expected {want})")
            d.recv_next += 1
            d.received += 1
            return
        if text:
            try:
                seq, crc = int(data[:8], 16), int(data[8:16], 16)
            except ValueError:
                raise Violation(f"{label}: bad text header {data[:16]!r}") from None
            payload = data[TEXT_HDR:]
        else:
            if len(data) < BIN_HDR.size:
                raise Violation(f"{label}: short binary message {data!r}")
            seq, crc = BIN_HDR.unpack_from(data)
            payload = data[BIN_HDR.size :]
        if zlib.crc32(payload, seq) != crc:
            raise Violation(f"{label}: corrupted message seq {seq} ({len(data)} bytes)")
        want = d.expected.get(seq)
        if want is None:
            late = " after the close" if ch.state == "closed" else ""
            raise Violation(f"{label}: duplicate or unknown message seq {seq}{late}")
        if want != (text, len(payload), crc):
            raise Violation(f"{label}: seq {seq} arrived as {(text, len(payload))}, sent {want}")
        if ch.ordered:
            if ch.reliable and seq != d.recv_next:
                raise Violation(f"{label}: seq {seq} arrived, expected {d.recv_next} (order)")
            if seq < d.recv_next:
                raise Violation(f"{label}: seq {seq} after {d.recv_next - 1} (order)")
            while True:  # ordered partial reliability: anything older is lost for good
                first = next(iter(d.expected))
                if first >= seq:
                    break
                del d.expected[first]
                self._lost(ch, d, 1)
            d.recv_next = seq + 1
        del d.expected[seq]
        d.received += 1
        if ch.reliable:
            d.inflight -= len(data)


class Soak(Ledger):
    """The scenario: one connection, a seeded stream of actions until the time is up."""

    def __init__(
        self,
        seed: int,
        seconds: float,
        offer: str,
        log: Callable[[str], None],
        verbose: bool = False,
    ) -> None:
        from tests.interop.aiortc_peer import AiortcPeer

        super().__init__(seed, offer)
        self.seconds = seconds
        self.offer = offer
        self.log = log
        self.verbose = verbose
        self.pc = WebRTCPeerConnection()
        self.peer = AiortcPeer(auto_echo=False)
        self.channels: dict[str, Channel] = {}
        self.history: collections.deque[str] = collections.deque(maxlen=12)  # for violations
        self.counter = 0
        self.descriptions: list[tuple[str, str]] = []
        self.candidates: list[tuple[str, int, str]] = []
        self.sent_candidates = [0, 0]
        self.poll_errors: list[str] = []
        self.inbox: collections.deque[tuple[str, str | bytes]] = collections.deque()
        self.remote_lock = threading.Lock()
        self.remote_new: dict[str, Any] = {}  # label -> aiortc channel announced by us
        self.ours_new: dict[str, WebRTCDataChannel] = {}
        self.pc.session_description_created.connect(self._on_description)
        self.pc.ice_candidate_created.connect(lambda m, i, n: self.candidates.append((m, i, n)))
        self.pc.data_channel_received.connect(self._on_our_channel)
        # replace the harness's datachannel wiring (it keeps every message) with ours
        self.peer.run_in_loop(self._install_remote_handler)

    # -- aiortc side (handlers run on its loop thread) -------------------------------------------

    def _install_remote_handler(self) -> None:
        pc = self.peer.pc
        pc.remove_all_listeners("datachannel")

        def on_datachannel(channel: Any) -> None:
            self._wire_remote(channel)
            with self.remote_lock:
                self.remote_new[channel.label] = channel

        pc.on("datachannel", on_datachannel)

    def _wire_remote(self, channel: Any) -> None:
        label = channel.label
        inbox = self.inbox

        def on_message(message: str | bytes) -> None:
            inbox.append((label, message))

        channel.on("message", on_message)

    def _remote_create(self, label: str, opts: dict[str, Any]) -> Any:
        def make() -> Any:
            channel = self.peer.pc.createDataChannel(
                label,
                ordered=opts.get("ordered", True),
                maxRetransmits=opts.get("maxRetransmits"),
                maxPacketLifeTime=opts.get("maxPacketLifeTime"),
                protocol=opts.get("protocol", ""),
                negotiated=opts.get("negotiated", False),
                id=opts.get("id"),
            )
            self._wire_remote(channel)
            return channel

        return self.peer.run_in_loop(make, WAIT, self.tick)

    # -- our side --------------------------------------------------------------------------------

    def _on_description(self, kind: str, sdp: str) -> None:
        err = self.pc.set_local_description(kind, sdp)
        if err != Error.OK:
            raise Violation(f"set_local_description({kind}) -> {err.name}")
        self.descriptions.append((kind, sdp))

    def _on_our_channel(self, ch: WebRTCDataChannel) -> None:
        self.ours_new[ch.get_label()] = ch

    def _signal(self) -> None:
        while self.sent_candidates[0] < len(self.candidates):
            mid, index, cand = self.candidates[self.sent_candidates[0]]
            self.peer.add_candidate(mid, index, cand)
            self.sent_candidates[0] += 1
        if (
            self.sent_candidates[1] == 0
            and self.pc.get_gathering_state() == self.pc.GATHERING_STATE_COMPLETE
        ):
            self.peer.add_candidate("0", 0, "")
            self.sent_candidates[1] = 1
        for mid, index, cand in self.peer.new_candidates():
            err = self.pc.add_ice_candidate(mid, index, cand)
            if err != Error.OK:
                self.stats["errors"].append(f"add_ice_candidate({cand!r}) -> {err.name}")

    def poll(self) -> None:
        err = self.pc.poll()
        if err != Error.OK:
            self.poll_errors.append(err.name)

    def wait(self, cond: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise Violation(f"timeout ({timeout}s): {what}")
            self.tick()
            time.sleep(0.001)

    # -- connect ---------------------------------------------------------------------------------

    def connect(self) -> None:
        first = self._plan_channel(self.offer, negotiated=False)
        if self.offer == "ours":
            self._create_ours(first)
            if self.pc.create_offer() != Error.OK:
                raise Violation("create_offer failed")
            self.wait(lambda: bool(self.descriptions), "our offer")
            self.wait(
                lambda: self.pc.get_gathering_state() == self.pc.GATHERING_STATE_COMPLETE,
                "our gathering",
            )
            answer = self.peer.accept_offer(self.descriptions[-1][1], WAIT, self.poll)
            err = self.pc.set_remote_description("answer", answer)
            if err != Error.OK:
                raise Violation(f"set_remote_description(answer) -> {err.name}")
        else:
            first.theirs = self._remote_create(first.label, first.options)
            offer = self.peer.create_offer(WAIT, self.poll)
            err = self.pc.set_remote_description("offer", offer)
            if err != Error.OK:
                raise Violation(f"set_remote_description(offer) -> {err.name}")
            self.wait(lambda: bool(self.descriptions), "our answer")
            self.peer.set_answer(self.descriptions[-1][1], WAIT, self.poll)
        self.channels[first.label] = first
        self._finish_open(first)
        self.log(
            f"connected: we {'offered' if self.offer == 'ours' else 'answered'}, "
            f"first channel {first.label!r} id={first.sid}"
        )

    # -- channel lifecycle -----------------------------------------------------------------------

    def _plan_channel(self, creator: str, negotiated: bool) -> Channel:
        rng = self.rng
        self.counter += 1
        ordered = rng.random() < 0.6
        opts: dict[str, Any] = {"ordered": ordered}
        kind = rng.random()
        if kind < 0.6:
            reliable = True
        elif kind < 0.8:
            reliable, opts["maxRetransmits"] = False, rng.randint(0, 5)
        else:
            reliable, opts["maxPacketLifeTime"] = False, rng.choice([50, 200, 1000, 3000])
        if rng.random() < 0.3:
            opts["protocol"] = rng.choice(["soak", "bin/v1", "✓"])
            if creator == "aiortc" and not negotiated and not opts["protocol"].isascii():
                # aiortc 1.16 writes DCEP label/protocol lengths in characters, not bytes
                # (RFC 8832 §5.1): its OPEN is malformed and dropped, the channel never opens.
                opts["protocol"] = "soak-aiortc"
        if negotiated:
            used = {c.sid for c in self.channels.values() if c.state != "closed"}
            free = [i for i in NEG_IDS if i not in used]
            opts["negotiated"], opts["id"] = True, rng.choice(free)
        tag = ("n" if negotiated else "b") + ("o" if ordered else "u") + ("r" if reliable else "p")
        label = f"s{self.counter}-{creator}-{tag}"
        return Channel(label, creator, negotiated, ordered, reliable, opts)

    def _create_ours(self, ch: Channel) -> None:
        mine = self.pc.create_data_channel(ch.label, dict(ch.options))
        if mine is None:
            raise Violation(f"create_data_channel({ch.label!r}, {ch.options}) -> None")
        ch.ours = mine

    def open_channel(self) -> None:
        creator = self.rng.choice(SIDES)
        negotiated = self.rng.random() < 0.3
        ch = self._plan_channel(creator, negotiated)
        self.channels[ch.label] = ch
        if negotiated:
            self._create_ours(ch)
            ch.theirs = self._remote_create(ch.label, ch.options)
        elif creator == "ours":
            self._create_ours(ch)
        else:
            ch.theirs = self._remote_create(ch.label, ch.options)
        self._finish_open(ch)

    def _finish_open(self, ch: Channel) -> None:
        """Wait until both ends see the channel open; check the options the far end sees."""

        def both_open() -> bool:
            if ch.ours is None and ch.label in self.ours_new:
                ch.ours = self.ours_new.pop(ch.label)
            if ch.theirs is None:
                with self.remote_lock:
                    ch.theirs = self.remote_new.pop(ch.label, None)
            self._signal()
            return (
                ch.ours is not None
                and ch.theirs is not None
                and ch.ours.get_ready_state() == OPEN
                and ch.theirs.readyState == "open"
            )

        try:
            self.wait(both_open, f"channel {ch.label!r} open on both sides")
        except Violation as exc:
            ours = None if ch.ours is None else ch.ours.get_ready_state().name
            theirs = None if ch.theirs is None else (ch.theirs.readyState, ch.theirs.id)
            raise Violation(
                f"{exc}; ours={ours} aiortc={theirs}; {self._stream_diagnostics(ch)}"
            ) from None
        assert ch.ours is not None
        ch.sid = ch.ours.get_id()
        info = self.peer.run_in_loop(
            lambda: (
                ch.theirs.id,
                ch.theirs.ordered,
                ch.theirs.maxRetransmits,
                ch.theirs.maxPacketLifeTime,
                ch.theirs.protocol,
            ),
            WAIT,
            self.tick,
        )
        o = ch.options
        want = (
            ch.sid,
            ch.ordered,
            o.get("maxRetransmits"),
            o.get("maxPacketLifeTime"),
            o.get("protocol", ""),
        )
        c = ch.ours.config
        seen = (ch.sid, c.ordered, c.max_retransmits, c.max_packet_lifetime, c.protocol)
        if info != want or seen != want:
            raise Violation(
                f"{ch.label}: options differ: wanted {want}, ours {seen}, aiortc {info}"
            )
        ch.state = "open"
        self.note(f"open {ch.label} id={ch.sid} {ch.options}")
        self.stats["channels_opened"] += 1
        self.stats["channels_opened_by"][ch.creator] += 1
        self.stats["channels_negotiated"] += int(ch.negotiated)
        self.stats["channels_partially_reliable"] += int(not ch.reliable)

    def _stream_diagnostics(self, ch: Channel) -> str:
        """Best-effort internals of both SCTP stacks for one stream, for bug reports only."""
        sid = ch.sid if ch.sid >= 0 else getattr(ch.theirs, "id", None)
        ours: dict[str, Any] = {}
        try:
            assoc = sctp_of(self.pc)
        except ValueError:
            assoc = None
        if assoc is not None and sid is not None:
            rx, tx = assoc.rx, assoc.tx
            record = assoc.channels.by_id.get(sid)
            ours = {
                "state": assoc.state.name,
                "in_ssn": rx.in_ssn.get(sid),
                "in_pending": sorted(rx.in_pending.get(sid, {})),
                "frags": sum(f[1] == sid for f in rx.frags.values()),
                "rx_cum": rx.cum % 2**32,  # TSNs are kept unwrapped
                "rx_above": len(rx.above),
                "channel": None
                if record is None
                else {
                    "state": record.state.name,
                    "remote": record.remote,
                    "ack_received": record.ack_received,
                    "reset_out": record.reset_out,
                    "reset_in": record.reset_in,
                    "buffered": record.buffered,
                    "queued": record.queued,
                },
                "reset_wanted": sid in assoc.reset.wanted,
                "out_ssn": tx.out_ssn.get(sid),
                "stream_queue": len(tx.sched.queues.get(sid, ())),
                "outstanding": len(tx.sent) - tx.sent_head,
                "flight": tx.flight,
                "cwnd": tx.cwnd,
                "peer_rwnd": tx.peer_rwnd,
                "fast_recovery": tx.fast_recovery,
                "rto": assoc.rto.value,
                "retransmissions": assoc.stats.retransmissions,
            }

        def theirs() -> dict[str, Any]:
            sctp = self.peer.pc.sctp
            return {
                "out_ssn": getattr(sctp, "_outbound_stream_seq", {}).get(sid),
                "queue": len(getattr(sctp, "_data_channel_queue", ())),
                "outbound_queue": len(getattr(sctp, "_outbound_queue", ())),
                "reconfig_queue": list(getattr(sctp, "_reconfig_queue", ())),
                "last_tsn": getattr(sctp, "_local_tsn", None),
            }

        try:
            remote = self.peer.run_in_loop(theirs, 5.0)
        except Exception as exc:
            remote = {"error": repr(exc)}
        return f"sid {sid}: ours sctp {ours}; aiortc sctp {remote}"

    def close_channel(self) -> None:
        candidates = [c for c in self.channels.values() if c.state == "open"]
        if not candidates:
            return
        ch = self.rng.choice(candidates)
        side = self.rng.choice(SIDES)
        ch.state = "quiescing"  # stop sending; all reliable data must arrive before the close

        def drained() -> bool:
            if ch.reliable:
                return ch.to_aiortc.inflight == 0 and ch.to_ours.inflight == 0
            assert ch.ours is not None
            return ch.ours.get_buffered_amount() == 0 and ch.theirs.bufferedAmount == 0

        self.wait(drained, f"{ch.label}: reliable data delivered before close")
        others = [c for c in self.channels.values() if c.state == "open"]
        ch.state = "closing"
        assert ch.ours is not None
        if side == "ours":
            ch.ours.close()
        else:
            self.peer.run_in_loop(ch.theirs.close, WAIT, self.tick)
        ours_ch = ch.ours
        self.wait(
            lambda: ours_ch.get_ready_state() == CLOSED and ch.theirs.readyState == "closed",
            f"{ch.label}: close from {side} seen by both sides",
        )
        for other in others:
            assert other.ours is not None
            if other.ours.get_ready_state() != OPEN or other.theirs.readyState != "open":
                raise Violation(f"closing {ch.label} also hit {other.label}")
        ch.state = "closed"
        self.note(f"closed {ch.label} id={ch.sid} from {side}")
        self._drain()  # what arrived before the close; anything later is a violation
        self.settle(ch)
        self.stats["channels_closed"] += 1
        self.stats["channels_closed_by"][side] += 1

    def note(self, text: str) -> None:
        self.history.append(f"{time.monotonic():.3f} {text}")
        if self.verbose:
            self.log(text)

    def _drain(self) -> None:
        for ch in self.channels.values():
            mine = ch.ours
            if mine is None:
                continue
            while mine.get_available_packet_count():
                data = mine.get_packet()
                self.receive(ch, ch.to_ours, mine.was_string_packet(), data)
        inbox = self.inbox
        while inbox:
            label, message = inbox.popleft()
            target = self.channels.get(label)
            if target is None:
                raise Violation(f"aiortc got a message on unknown channel {label!r}")
            if isinstance(message, str):
                self.receive(target, target.to_aiortc, True, message.encode())
            else:
                self.receive(target, target.to_aiortc, False, bytes(message))

    def _send_some(self) -> None:
        rng = self.rng
        active = [c for c in self.channels.values() if c.state == "open"]
        if not active:
            return
        to_aiortc = sum(c.to_aiortc.inflight for c in active)
        for _ in range(3):
            ch = rng.choice(active)
            assert ch.ours is not None
            if to_aiortc > INFLIGHT_LIMIT or ch.ours.get_buffered_amount() > BUFFER_LIMIT:
                continue
            text, data = self.make_message(ch, ch.to_aiortc)
            ch.ours.write_mode = ch.ours.WRITE_MODE_TEXT if text else ch.ours.WRITE_MODE_BINARY
            err = ch.ours.put_packet(data)
            if err != Error.OK:
                raise Violation(f"{ch.label}: put_packet({len(data)} bytes) -> {err.name}")
            to_aiortc += len(data)
            self._count("ours_to_aiortc", len(data))
        to_ours = sum(c.to_ours.inflight for c in active)
        batch: list[tuple[Any, str | bytes]] = []
        for _ in range(3):
            ch = rng.choice(active)
            if to_ours > INFLIGHT_LIMIT or ch.theirs.bufferedAmount > BUFFER_LIMIT:
                continue
            text, data = self.make_message(ch, ch.to_ours)
            batch.append((ch.theirs, data.decode() if text else data))
            to_ours += len(data)
            self._count("aiortc_to_ours", len(data))
        if batch:

            def send() -> None:
                for channel, message in batch:
                    channel.send(message)

            self.peer.run_in_loop(send, WAIT)

    def _count(self, key: str, n: int) -> None:
        self.stats[key]["messages"] += 1
        self.stats[key]["bytes"] += n

    def tick(self) -> None:
        """One step: poll our peer, verify what arrived on both sides, send a little more."""
        self.poll()
        self._drain()
        self._send_some()
        self.poll()

    # -- the run ---------------------------------------------------------------------------------

    def check_health(self) -> None:
        if self.pc.get_connection_state() != self.pc.STATE_CONNECTED:
            raise Violation(f"our connection is {self.pc.get_connection_state().name}")
        if self.peer.errors():
            raise Violation(f"aiortc errors: {self.peer.errors()}")
        if self.poll_errors:
            raise Violation(f"our poll() errors: {self.poll_errors}")

    def progress(self, t0: float) -> dict[str, Any]:
        s = self.stats
        return {
            "t": round(time.monotonic() - t0, 1),
            "open": sum(c.state == "open" for c in self.channels.values()),
            "opened": s["channels_opened"],
            "closed": s["channels_closed"],
            "ours_to_aiortc": dict(s["ours_to_aiortc"]),
            "aiortc_to_ours": dict(s["aiortc_to_ours"]),
            "pr_lost": s["partially_reliable_lost"],
        }

    def run(self) -> None:
        t0 = time.monotonic()
        self.connect()
        end = t0 + self.seconds
        next_action = time.monotonic() + self.rng.uniform(0.2, 1.2)
        next_report = time.monotonic() + 10
        while time.monotonic() < end:
            self.tick()
            now = time.monotonic()
            if now >= next_action:
                n_open = sum(c.state == "open" for c in self.channels.values())
                if n_open < MAX_OPEN and (n_open < 2 or self.rng.random() < 0.55):
                    self.open_channel()
                else:
                    self.close_channel()
                self.check_health()
                next_action = time.monotonic() + self.rng.uniform(0.2, 1.2)
            if now >= next_report:
                self.log("progress " + json.dumps(self.progress(t0)))
                next_report = now + 10
            time.sleep(0.0005)
        self.finish()
        self.stats["duration_s"] = round(time.monotonic() - t0, 1)

    def finish(self) -> None:
        """Stop sending, let every reliable byte arrive, then check the books of every channel."""
        for ch in self.channels.values():
            if ch.state == "open":
                ch.state = "quiescing"
        live = [c for c in self.channels.values() if c.state == "quiescing"]

        def drained() -> bool:
            for c in live:
                assert c.ours is not None
                if c.reliable and (c.to_aiortc.inflight or c.to_ours.inflight):
                    return False
                if c.ours.get_buffered_amount() or c.theirs.bufferedAmount:
                    return False
            return True

        self.wait(drained, "final delivery of reliable data")
        time.sleep(0.2)
        self.tick()
        self.check_health()
        for c in live:
            self.settle(c)
        self.stats["channels_open_at_end"] = len(live)

    def close(self) -> None:
        self.pc.close()
        try:
            self.peer.close()
        except Exception as exc:
            self.stats["errors"].append(f"aiortc close: {exc!r}")


def run_soak(seed: int, seconds: float, offer: str | None, verbose: bool = False) -> int:
    """Run the scenario in this process; prints progress and the JSON summary; 0 if clean."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    rng = random.Random(seed)
    chosen = offer or rng.choice(SIDES)

    def log(text: str) -> None:
        print(text, flush=True)

    soak = Soak(seed, seconds, chosen, log, verbose)
    ok = True
    try:
        soak.run()
    except Violation as exc:
        ok = False
        soak.stats["violation"] = str(exc)
        soak.stats["last_actions"] = list(soak.history)
        log(f"VIOLATION: {exc}")
    except Exception as exc:  # a crash in our stack counts as a violation too
        ok = False
        soak.stats["violation"] = f"exception: {exc!r}"
        log(f"VIOLATION: unexpected {exc!r}")
        import traceback

        traceback.print_exc()
    finally:
        soak.close()
    stats = soak.stats
    stats["channels_ever"] = len(soak.channels)
    if stats["errors"]:
        ok = False
    stats["result"] = "ok" if ok else "FAIL"
    log(json.dumps(stats, sort_keys=True))
    return 0 if ok else 1


def _reexec_in_netns(argv: list[str]) -> int:
    from tests.interop.netns import private_netns

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env[ENV_FLAG] = "1"
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    with private_netns("soak") as ns:
        cmd = ns.command([sys.executable, "-m", "tests.soak", *argv])
        return subprocess.run(cmd, env=env, cwd=root).returncode


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=None, help="run time (default 5)")
    parser.add_argument("--seconds", type=float, default=None, help="run time, overrides minutes")
    parser.add_argument("--seed", type=int, default=None, help="rng seed (default: random)")
    parser.add_argument("--offer", choices=SIDES, default=None, help="offerer (default: by seed)")
    parser.add_argument(
        "--no-netns", action="store_true", help="run here (only in an isolated namespace already)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every open/close")
    args = parser.parse_args(args_list)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2**31)
        args_list += ["--seed", str(args.seed)]
    seconds = args.seconds if args.seconds is not None else 60 * (args.minutes or 5.0)
    if not args.no_netns and os.environ.get(ENV_FLAG) != "1":
        from tests.interop.netns import netns_available

        if not netns_available():
            print("the soak needs root + iproute2 for a private netns (or --no-netns)")
            return 2
        return _reexec_in_netns(args_list)
    return run_soak(args.seed, seconds, args.offer, args.verbose)
