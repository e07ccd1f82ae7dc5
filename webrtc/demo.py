"""Two peers in one process over loopback UDP: states, a channel, messages, throughput.

Run with `python -m webrtc demo`. Signaling is a direct function call between the two peers.
`--trace` prints every protocol message (STUN, DTLS, SCTP, DCEP) as it is sent; `--trace-json
FILE` writes every sent and received message and every state change as JSON lines (see
`webrtc/trace.py`); `--ladder FILE` draws the connection as a ladder diagram (`.html`: one
self-contained page with hover details and a layer filter; otherwise SVG; see `webrtc.ladder`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .data_channel import WebRTCDataChannel
from .errors import Error
from .ladder import Recorder
from .peer_connection import WebRTCPeerConnection
from .trace import TraceEvent, TraceSink


def _connect_signals(
    src: WebRTCPeerConnection, dst: WebRTCPeerConnection, out: Callable[[str], None], name: str
) -> None:
    def on_description(kind: str, sdp: str) -> None:
        out(f"[{name}] session_description_created({kind!r}, <{len(sdp)} bytes of SDP>)")
        src.set_local_description(kind, sdp)
        dst.set_remote_description(kind, sdp)

    def on_candidate(media: str, index: int, candidate: str) -> None:
        out(f"[{name}] ice_candidate_created({media!r}, {index}, {candidate!r})")
        dst.add_ice_candidate(media, index, candidate)

    src.session_description_created.connect(on_description)
    src.ice_candidate_created.connect(on_candidate)


def run(
    *,
    megabytes: float = 8.0,
    chunk: int = 16384,
    timeout: float = 60.0,
    out: Callable[[str], None] = print,
    trace: bool = False,
    trace_json: str | None = None,
    ladder: str | None = None,
) -> int:
    """Run the demo; returns a process exit code (0 on success)."""
    json_file = open(trace_json, "w", encoding="utf-8") if trace_json else None  # noqa: SIM115
    sink = None
    if trace or json_file is not None:
        sink = TraceSink(out if trace else None, json_file, time.monotonic())
    recorder = Recorder() if ladder else None
    try:
        return _run(megabytes, chunk, timeout, out, sink, recorder)
    finally:
        if sink is not None:
            sink.flush(time.monotonic())
        if json_file is not None:
            json_file.close()
        if recorder is not None and ladder:
            try:
                recorder.write(ladder, title="python -m webrtc demo")
            except OSError as exc:
                out(f"cannot write the ladder diagram: {exc}")
            else:
                out(f"ladder diagram written to {ladder}")


def _hook(
    sink: TraceSink | None, recorder: Recorder | None, peer: str, other: str
) -> Callable[[TraceEvent], None] | None:
    """The trace callback feeding the text/JSON sink and/or the ladder recorder."""
    to_sink = None if sink is None else sink.callback(peer, other)
    to_ladder = None if recorder is None else recorder.hook(peer)
    if to_sink is None or to_ladder is None:
        return to_sink or to_ladder

    def both(ev: TraceEvent) -> None:
        to_sink(ev)
        to_ladder(ev)

    return both


def _run(
    megabytes: float,
    chunk: int,
    timeout: float,
    out: Callable[[str], None],
    sink: TraceSink | None,
    recorder: Recorder | None = None,
) -> int:
    a = WebRTCPeerConnection(loopback_only=True, trace=_hook(sink, recorder, "A", "B"))
    b = WebRTCPeerConnection(loopback_only=True, trace=_hook(sink, recorder, "B", "A"))
    if recorder is not None:
        recorder.attach("A", a)
        recorder.attach("B", b)
    _connect_signals(a, b, out, "A")
    _connect_signals(b, a, out, "B")
    received: list[WebRTCDataChannel] = []

    def on_channel(ch: WebRTCDataChannel) -> None:
        out(f"[B] data_channel_received({ch.get_label()!r}, id={ch.get_id()})")
        received.append(ch)

    b.data_channel_received.connect(on_channel)
    last: dict[str, tuple[str, str, str]] = {}

    def poll_both() -> None:
        for name, pc in (("A", a), ("B", b)):
            pc.poll()
            now = (
                pc.get_connection_state().name,
                pc.get_gathering_state().name,
                pc.get_signaling_state().name,
            )
            before = last.get(name)
            if before != now:
                labels = ("connection", "gathering", "signaling")
                for i, label in enumerate(labels):
                    if before is None or before[i] != now[i]:
                        out(f"[{name}] {label} state -> {now[i]}")
                        if sink is not None:
                            sink.state(name, label, now[i], time.monotonic())
                last[name] = now
        if sink is not None:
            sink.tick(time.monotonic())
        if recorder is not None:
            recorder.sample()

    def wait(cond: Callable[[], bool], what: str, busy: bool = False) -> bool:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                out(f"timed out waiting for {what}")
                return False
            poll_both()
            if not busy:
                time.sleep(0.001)  # idle phases: don't spin; the bulk phase polls flat out
        return True

    chan = a.create_data_channel("demo", {"ordered": True})
    assert chan is not None
    if recorder is not None:
        recorder.watch_channel("A", chan)
    poll_both()
    if a.create_offer() != Error.OK:
        out("create_offer failed")
        return 1
    if not wait(lambda: chan.get_ready_state() == chan.STATE_OPEN and bool(received), "open"):
        return 1
    remote = received[0]
    out("[A] channel 'demo' is open")
    chan.write_mode = chan.WRITE_MODE_TEXT
    chan.put_packet(b"Hello from A")
    remote.put_packet(b"Hello from B")
    if not wait(
        lambda: remote.get_available_packet_count() > 0 and chan.get_available_packet_count() > 0,
        "messages",
    ):
        return 1
    msg_b = remote.get_packet()
    out(f"[B] got {msg_b!r} (text={remote.was_string_packet()})")
    msg_a = chan.get_packet()
    out(f"[A] got {msg_a!r} (text={chan.was_string_packet()})")

    chan.write_mode = chan.WRITE_MODE_BINARY
    total = int(megabytes * 1024 * 1024)
    block = bytes(range(256)) * (chunk // 256 + 1)
    block = block[:chunk]
    sent = got = 0
    start = time.monotonic()

    def pump() -> bool:
        nonlocal sent, got
        while sent < total and chan.get_buffered_amount() < 1 << 20:
            n = min(chunk, total - sent)
            if chan.put_packet(block[:n]) != Error.OK:
                break
            sent += n
        while remote.get_available_packet_count():
            got += len(remote.get_packet())
        return got >= total

    if not wait(pump, "the bulk transfer", busy=True):
        return 1
    elapsed = max(time.monotonic() - start, 1e-9)
    out(
        f"[A->B] {total / 1048576:.1f} MiB in {elapsed:.2f} s = "
        f"{total * 8 / elapsed / 1e6:.1f} Mbit/s ({total / elapsed / 1048576:.1f} MiB/s)"
    )
    a.close()
    out("[A] close()")
    wait(lambda: remote.get_ready_state() == remote.STATE_CLOSED, "the close to propagate")
    poll_both()
    b.close()
    out(f"final states: A={a.get_connection_state().name} B={b.get_connection_state().name}")
    return 0
