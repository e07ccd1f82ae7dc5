"""A real loopback session (two of our peers, UDP sockets on 127.0.0.1) recorded twice: live
through the trace hook, and as a pcapng written at each sender plus the SSLKEYLOGFILE our DTLS
writes. The capture, decoded and decrypted by webrtc.ladder, gives the same arrows."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.ladder.helpers import ROOT, groups
from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection
from webrtc.ladder import Ladder, Layer, Recorder, Status
from webrtc.ladder.capture import load_capture
from webrtc.ladder.pcap import CapturingTransport, PcapngWriter, PcapWriter, read_datagrams
from webrtc.net import UdpTransport


def _session(tmp: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> tuple[Recorder, Path, Path]:
    keylog = tmp / "keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))
    cap = tmp / f"session.{fmt}"
    rec = Recorder()
    with cap.open("wb") as fh:
        writer = PcapngWriter(fh) if fmt == "pcapng" else PcapWriter(fh)

        def peer(name: str) -> WebRTCPeerConnection:
            pc = WebRTCPeerConnection(
                transport_factory=lambda: CapturingTransport(
                    UdpTransport(loopback_only=True), writer.write, time.monotonic
                ),
                trace=rec.hook(name),
            )
            rec.attach(name, pc)
            return pc

        a, b = peer("A"), peer("B")
        for src, dst in ((a, b), (b, a)):

            def on_desc(
                t: str, s: str, src: WebRTCPeerConnection = src, dst: WebRTCPeerConnection = dst
            ) -> None:
                assert src.set_local_description(t, s) == Error.OK
                assert dst.set_remote_description(t, s) == Error.OK

            def on_cand(m: str, i: int, c: str, dst: WebRTCPeerConnection = dst) -> None:
                assert dst.add_ice_candidate(m, i, c) == Error.OK

            src.session_description_created.connect(on_desc)
            src.ice_candidate_created.connect(on_cand)
        got: list[WebRTCDataChannel] = []
        b.data_channel_received.connect(got.append)
        ch = a.create_data_channel("capture", {"protocol": "p"})
        assert ch is not None and a.create_offer() == Error.OK

        def run(cond: object, rounds: int = 200_000) -> bool:
            for _ in range(rounds):
                a.poll()
                b.poll()
                rec.sample()
                if cond():  # type: ignore[operator]
                    return True
                time.sleep(0.0002)
            return False

        assert run(lambda: ch.get_ready_state() == ChannelState.STATE_OPEN and bool(got))
        for i in range(5):
            assert ch.put_packet(b"to B %d" % i) == Error.OK
        assert run(lambda: got[0].get_available_packet_count() == 5)
        assert got[0].put_packet(b"to A") == Error.OK
        assert run(lambda: ch.get_available_packet_count() == 1)
        a.close()
        b.close()
    return rec, cap, keylog


def _key(ladder: Ladder, src: str) -> list[tuple[str, str, str, str]]:
    return [(x.src, x.dst, x.layer.name, x.label) for x in ladder.arrows if x.src == src]


@pytest.mark.parametrize("fmt", ["pcapng", "pcap"])
def test_capture_gives_the_same_arrows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    rec, cap, keylog = _session(tmp_path, monkeypatch, fmt)
    live = rec.ladder(fold_min=10**9)
    names = {ob.event.local: ob.peer for ob in rec.observations if ob.event.local is not None}
    captured = load_capture(cap, keylog, names, peers=("A", "B"), fold_min=10**9)
    assert captured.lifelines == live.lifelines == ("A", "B")
    for peer in ("A", "B"):  # per sender, in order (the two senders interleave by timing)
        assert _key(captured, peer) == _key(live, peer), peer
    layers = {a.layer for a in captured.arrows}
    assert {Layer.STUN, Layer.DTLS, Layer.SCTP, Layer.DCEP, Layer.APP} <= layers
    assert all(a.status is Status.SEEN for a in captured.arrows)
    dcep = [a for a in captured.arrows if a.layer is Layer.DCEP]
    assert dcep[0].fields["label"] == "capture" and dcep[0].fields["protocol"] == "p"
    # Without the key log the application data stays encrypted
    sealed = load_capture(cap, None, names)
    assert not any(a.layer in (Layer.SCTP, Layer.APP) for a in sealed.arrows)
    assert any(a.kind == "ApplicationData" for a in sealed.arrows)


def test_ladder_command_on_the_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, cap, keylog = _session(tmp_path, monkeypatch, "pcapng")
    out = tmp_path / "capture.svg"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("SSLKEYLOGFILE", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "webrtc",
            "ladder",
            str(cap),
            "--keylog",
            str(keylog),
            "-o",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = ET.fromstring(out.read_text())
    assert any("l-dcep" in (g.get("class") or "") for g in groups(root, "msg"))
    # --name: lifelines named (and merged) by address
    addrs = sorted({d.src for d in read_datagrams(cap.open("rb"))})
    named = tmp_path / "named.svg"
    specs = [f"--name={host}:{port}=peer{i % 2}" for i, (host, port) in enumerate(addrs)]
    proc = subprocess.run(
        [sys.executable, "-m", "webrtc", "ladder", str(cap), "-o", str(named), *specs],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lifelines peer0, peer1" in proc.stdout or "lifelines peer1, peer0" in proc.stdout
    wrong = subprocess.run(
        [sys.executable, "-m", "webrtc", "ladder", str(cap), "-o", str(named), "--name=x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wrong.returncode == 2 and "--name wants ADDR:PORT=NAME" in wrong.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "webrtc", "ladder", str(keylog), "-o", str(tmp_path / "x.svg")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 0  # a text file is read as trace JSON: every line skipped
    assert "0 messages" in bad.stdout
