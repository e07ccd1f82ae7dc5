"""A browser's connection drawn from a capture: headless Chromium and our peer in a private
network namespace, captured by dumpcap, decrypted with the SSLKEYLOGFILE our DTLS writes.

The capture gives the same arrows, per sender and in order, as our peer's live trace (which
sees Chromium's messages as they arrive), and Chromium's own SCTP and DCEP messages are read
from the decrypted records (its DATA_CHANNEL_OPEN label, its DATA).

Run as a scenario inside a namespace: `python -m tests.ladder.test_browser_capture WORKDIR`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.interop.netns import private_netns, require

# ----------------------------------------------------------------------------- the scenario


def _scenario(workdir: Path) -> dict[str, Any]:
    from tests.interop.chromium_peer import ChromiumPeer
    from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection
    from webrtc.ladder import Recorder

    rec = Recorder()
    trace = (workdir / "live.jsonl").open("w", encoding="utf-8")
    rec.tee_json(trace)
    pc = WebRTCPeerConnection(trace=rec.hook("ours"))
    rec.attach("ours", pc)
    answers: list[str] = []
    ours_candidates: list[tuple[str, int, str]] = []
    received: list[WebRTCDataChannel] = []

    def on_description(kind: str, sdp: str) -> None:
        assert pc.set_local_description(kind, sdp) == Error.OK
        answers.append(sdp)

    pc.session_description_created.connect(on_description)
    pc.ice_candidate_created.connect(lambda m, i, c: ours_candidates.append((m, i, c)))
    pc.data_channel_received.connect(received.append)
    peer = ChromiumPeer(mdns=True)
    peer.start()
    forwarded = 0

    def poll() -> None:
        nonlocal forwarded
        pc.poll()
        rec.sample()
        if peer.remote_description_set():
            while forwarded < len(ours_candidates):
                peer.add_candidate(*ours_candidates[forwarded])
                forwarded += 1
        for mid, index, cand in peer.new_candidates():
            pc.add_ice_candidate(mid, index, cand)

    def poll_ours() -> None:
        pc.poll()
        rec.sample()

    def wait(cond: Any, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError(what)
            poll()
            time.sleep(0.002)

    try:
        peer.create_channel("chat", {"protocol": "learn"})
        offer = peer.create_offer(pump=poll)
        assert pc.set_remote_description("offer", offer) == Error.OK
        wait(lambda: bool(answers), "answer")
        peer.set_answer(answers[-1])
        wait(lambda: bool(received), "Chromium's channel")
        chat = received[0]
        wait(lambda: chat.get_ready_state() == ChannelState.STATE_OPEN, "open")
        peer.wait_channel_open("chat", timeout=10, pump=poll)
        peer.send("chat", "hello from Chromium")
        wait(lambda: chat.get_available_packet_count() > 0, "Chromium's message")
        assert chat.get_packet() == b"hello from Chromium"
        assert chat.put_packet(b"hello from Python") == Error.OK
        peer.wait_messages("chat", 1, timeout=10, pump=poll)
        chat.close()
        wait(lambda: chat.get_ready_state() == ChannelState.STATE_CLOSED, "closed")
        peer.wait_channel_state("chat", "closed", timeout=10, pump=poll)
    finally:
        peer.close()  # first, and we go on reading: its last words reach our trace too
        for _ in range(100):
            poll_ours()
            time.sleep(0.002)
        pc.close()
        rec.tee_json(None)
        trace.close()
    return {"ok": True}


# ----------------------------------------------------------------------------- the test


def test_browser_connection_from_a_capture(tmp_path: Path) -> None:
    require(shutil.which("/usr/bin/chromium") is not None, "Debian's chromium")
    require(shutil.which("dumpcap") is not None, "dumpcap (wireshark-common)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        require(False, "playwright")
    from tests.ladder.helpers import ROOT
    from webrtc.ladder import Layer, Status, load_capture, load_trace_json

    os.chmod(tmp_path, 0o777)
    pcap, keylog = tmp_path / "browser.pcapng", tmp_path / "keys.log"
    with private_netns("ladr") as ns:
        dumpcap = ns.popen(
            ["dumpcap", "-q", "-i", "lo", "-f", "udp and not port 5353", "-w", str(pcap)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            for _ in range(500):  # until dumpcap has written its header (it then captures)
                if pcap.exists() and pcap.stat().st_size > 0:
                    break
                time.sleep(0.01)
            env = dict(os.environ, SSLKEYLOGFILE=str(keylog))
            env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
            proc = ns.run(
                [sys.executable, "-m", "tests.ladder.test_browser_capture", str(tmp_path)],
                timeout=120,
                env=env,
                cwd=str(ROOT),
            )
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-5000:]
            time.sleep(0.3)  # dumpcap writes what it buffered before it is stopped
        finally:
            dumpcap.terminate()
            try:
                dumpcap.wait(10)
            except subprocess.TimeoutExpired:
                dumpcap.kill()
                dumpcap.wait()
    live = load_trace_json(tmp_path / "live.jsonl", peers=("ours",), fold_min=10**9)
    # Chromium's socket is bound to the wildcard address: it may show at both of its addresses
    browsers = [n for n in live.lifelines if n.startswith("peer ")]
    assert browsers, live.lifelines
    names = {}
    for name in ("ours", *browsers):
        for addr in live.descriptions.get(name, "").split(", "):
            host, _, port = addr.rpartition(":")
            names[(host, int(port))] = name
    captured = load_capture(pcap, keylog, names, peers=("ours",), fold_min=10**9)
    # Traffic that never touched our peer (Chromium may probe addresses of its own) is left
    # out; everything to or from our peer must be in both
    known = {"ours", *browsers}
    extra = [a for a in captured.arrows if a.src not in known or a.dst not in known]
    assert not [a for a in extra if "ours" in (a.src, a.dst)], extra

    def mdns(a: Any) -> bool:  # our mDNS queries are traced; the capture leaves port 5353 out
        return a.dst.endswith(":5353") or a.src.endswith(":5353")

    inner = (Layer.SCTP, Layer.DCEP, Layer.APP)
    for src in ("ours", *browsers):
        want = [(a.dst, a.layer, a.label) for a in live.arrows if a.src == src and not mdns(a)]
        got = [(a.dst, a.layer, a.label) for a in captured.arrows if a.src == src]
        got = [x for x in got if x[0] in known]
        assert want
        if src == "ours":  # traced as sent, captured as sent: the same order
            assert got == want
            continue
        # Chromium's messages are traced as our two sockets are read, one after the other:
        # the same messages, and the same order within its SCTP stream
        assert Counter(got) == Counter(want), src
        assert [x for x in got if x[1] in inner] == [x for x in want if x[1] in inner], src
    theirs = [a for a in captured.arrows if a.src in browsers]
    (opening,) = [a for a in theirs if a.layer is Layer.DCEP and a.fields.get("dcep") == "OPEN"]
    assert opening.fields["label"] == "chat" and opening.fields["protocol"] == "learn"
    assert any(a.layer is Layer.APP and a.fields.get("length") == 19 for a in theirs)
    assert any(a.kind == "ClientHello" for a in captured.arrows)
    assert all(a.status is Status.SEEN for a in captured.arrows)
    assert any(a.kind == "RE-CONFIG" for a in theirs)  # Chromium's side of the stream reset


if __name__ == "__main__":
    print(json.dumps(_scenario(Path(sys.argv[1]))))
