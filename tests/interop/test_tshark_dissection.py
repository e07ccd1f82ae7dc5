"""Wireshark must find nothing malformed in a full session of ours (issue 13, defect 6).

A session with every SCTP chunk kind we can provoke — handshake, DCEP open/ack, DATA (text,
binary, empty, fragmented), SACK with gap blocks, FORWARD TSN on partially reliable channels
(outgoing datagrams are dropped for a while), RE-CONFIG (channel close), HEARTBEAT (PLPMTUD
probes), SHUTDOWN / SHUTDOWN ACK / SHUTDOWN COMPLETE — is captured with dumpcap inside a private
network namespace, once between two of our peers and once against aiortc. tshark decrypts the
DTLS records with our SSLKEYLOGFILE and dissects SCTP inside; `_ws.malformed` and SCTP/DCEP
expert warnings must list nothing.

Run as a scenario inside a namespace: `python -m tests.interop.test_tshark_dissection ours|aiortc
HOST_A HOST_B` (prints one JSON line).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.interop.netns import NetNs, netns_available, private_netns, require

CHUNK_TYPES = {
    "0": "DATA",
    "1": "INIT",
    "2": "INIT_ACK",
    "3": "SACK",
    "4": "HEARTBEAT",
    "5": "HEARTBEAT_ACK",
    "6": "ABORT",
    "7": "SHUTDOWN",
    "8": "SHUTDOWN_ACK",
    "9": "ERROR",
    "10": "COOKIE_ECHO",
    "11": "COOKIE_ACK",
    "14": "SHUTDOWN_COMPLETE",
    "130": "RE_CONFIG",
    "132": "PAD",
    "192": "FORWARD_TSN",
}
# what each session must show (HEARTBEAT: PLPMTUD probes, between our own peers only)
EXPECTED_BOTH = {
    "DATA",
    "INIT",
    "INIT_ACK",
    "SACK",
    "COOKIE_ECHO",
    "COOKIE_ACK",
    "SHUTDOWN",
    "SHUTDOWN_ACK",
    "SHUTDOWN_COMPLETE",
    "RE_CONFIG",
    "FORWARD_TSN",
}
EXPECTED = {
    "ours": EXPECTED_BOTH | {"HEARTBEAT", "HEARTBEAT_ACK", "PAD"},
    "aiortc": EXPECTED_BOTH,
}


# ----------------------------------------------------------------------------- the scenario


def _scenario(kind: str, host_a: str, host_b: str) -> dict[str, Any]:
    from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection
    from webrtc.net import UdpTransport

    open_ = ChannelState.STATE_OPEN
    closed = ChannelState.STATE_CLOSED

    class LossyTransport(UdpTransport):
        """Drops every third datagram over 300 bytes while `dropping` (SCTP DATA records)."""

        def __init__(self, hosts: list[str]) -> None:
            super().__init__(hosts=hosts)
            self.dropping = False
            self.count = 0
            self.dropped = 0

        def send(self, data: bytes, local: Any, remote: Any) -> None:
            if self.dropping and len(data) > 300:
                self.count += 1
                if self.count % 3 == 0:
                    self.dropped += 1
                    return
            super().send(data, local, remote)

    transports: list[LossyTransport] = []

    def make_pc(host: str) -> WebRTCPeerConnection:
        def factory() -> LossyTransport:
            t = LossyTransport([host])
            transports.append(t)
            return t

        return WebRTCPeerConnection(transport_factory=factory)

    a = make_pc(host_a)
    pcs = [a]
    received: list[WebRTCDataChannel] = []

    def poll() -> None:
        for pc in pcs:
            err = pc.poll()
            assert err in (Error.OK, Error.ERR_UNCONFIGURED), err

    def wait(cond: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError(what)
            poll()
            time.sleep(0.001)

    peer: Any = None
    descriptions: list[tuple[str, str]] = []
    candidates: list[tuple[str, int, str]] = []

    def on_description(kind: str, sdp: str) -> None:
        a.set_local_description(kind, sdp)
        descriptions.append((kind, sdp))

    a.session_description_created.connect(on_description)
    a.ice_candidate_created.connect(lambda m, i, n: candidates.append((m, i, n)))
    rel = a.create_data_channel("rel")
    pr = a.create_data_channel("pr", {"ordered": False, "maxRetransmits": 0})
    life = a.create_data_channel("life", {"maxPacketLifeTime": 20})
    assert rel is not None and pr is not None and life is not None
    mine = (rel, pr, life)
    if kind == "ours":
        b = make_pc(host_b)
        pcs.append(b)
        b.data_channel_received.connect(received.append)
        b.session_description_created.connect(
            lambda t, s: (b.set_local_description(t, s), a.set_remote_description(t, s))
        )
        b.ice_candidate_created.connect(lambda m, i, n: a.add_ice_candidate(m, i, n))
        assert a.create_offer() == Error.OK
        wait(lambda: bool(descriptions), "offer")
        assert b.set_remote_description("offer", descriptions[0][1]) == Error.OK

        def trickle() -> bool:
            while candidates:
                b.add_ice_candidate(*candidates.pop(0))
            return True

        wait(lambda: trickle() and all(ch.get_ready_state() == open_ for ch in mine), "open")
        wait(lambda: len(received) == 3, "remote channels")
        theirs = {ch.get_label(): ch for ch in received}

        def got(label: str) -> list[bytes]:
            ch = theirs[label]
            out = []
            while ch.get_available_packet_count():
                out.append(ch.get_packet())
            inbox.setdefault(label, []).extend(out)
            return inbox[label]

        inbox: dict[str, list[bytes]] = {}
    else:
        from tests.interop.aiortc_peer import AiortcPeer

        peer = AiortcPeer()
        assert a.create_offer() == Error.OK
        wait(lambda: bool(descriptions), "offer")
        wait(lambda: a.get_gathering_state() == a.GATHERING_STATE_COMPLETE, "gathering")
        answer = peer.accept_offer(descriptions[0][1], pump=poll)
        for m, i, n in candidates:
            peer.add_candidate(m, i, n)
        peer.add_candidate("0", 0, "")
        assert a.set_remote_description("answer", answer) == Error.OK
        wait(lambda: all(ch.get_ready_state() == open_ for ch in mine), "open")
        for label in ("rel", "pr", "life"):
            peer.wait_remote_channel(label, timeout=10, pump=poll)

        def got(label: str) -> list[bytes]:
            return [m.encode() if isinstance(m, str) else m for m in peer.messages(label)]

    # DATA of every kind on the reliable channel: text, binary, empty (PPID 56/57), fragmented
    sent: list[bytes] = [b"text \xe2\x9c\x93", b"\x00\x01", b"", bytes(range(256)) * 256]
    rel.write_mode = rel.WRITE_MODE_TEXT
    assert rel.put_packet(sent[0]) == Error.OK
    rel.write_mode = rel.WRITE_MODE_BINARY
    for data in sent[1:]:
        assert rel.put_packet(data) == Error.OK
    rel.write_mode = rel.WRITE_MODE_TEXT
    assert rel.put_packet(b"") == Error.OK
    sent.append(b"")
    wait(lambda: len(got("rel")) == len(sent), "reliable messages")
    assert got("rel") == sent
    # loss: SACK gap blocks, retransmissions, abandoned PR messages -> FORWARD TSN
    transports[0].dropping = True
    for i in range(60):
        assert pr.put_packet(bytes([i]) * 700) == Error.OK
        assert life.put_packet(bytes([i]) * 900) == Error.OK
        if i % 10 == 0:
            assert rel.put_packet(bytes([i]) * 1000) == Error.OK
        poll()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        poll()
        time.sleep(0.001)
    transports[0].dropping = False
    wait(lambda: len(got("rel")) == len(sent) + 6, "reliable messages after loss", 30)
    assoc = a._sctp  # (test-only look at the counters)
    assert assoc is not None
    wait(lambda: assoc.stats.forward_tsn_sent > 0, "FORWARD TSN", 30)
    # a channel close from each side: RE-CONFIG (RFC 8831 §6.7)
    pr.close()
    wait(lambda: pr.get_ready_state() == closed, "pr closed")
    if kind == "ours":
        theirs["life"].close()
    else:
        peer.close_channel("life")
    wait(lambda: life.get_ready_state() == closed, "life closed")
    # graceful SHUTDOWN (RFC 9260 §9.2); WebRTCPeerConnection.close() itself sends ABORT
    assoc.close()
    wait(lambda: assoc.state.value == "closed", "shutdown", 20)
    stats = assoc.stats
    for _ in range(50):
        poll()
        time.sleep(0.002)
    result = {
        "dropped": transports[0].dropped,
        "forward_tsn_sent": stats.forward_tsn_sent,
        "retransmissions": stats.retransmissions,
        "abandoned": stats.abandoned_messages,
        "aiortc_errors": peer.errors() if peer is not None else [],
    }
    for pc in pcs:
        pc.close()
    if peer is not None:
        peer.close()
    return result


# ----------------------------------------------------------------------------- the test


def _tshark(*args: str) -> str:
    proc = subprocess.run(["tshark", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _rsa_key(path: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    with open(path, "wb") as f:
        f.write(pem)


def _capture(ns: NetNs, kind: str, workdir: str) -> tuple[str, str, dict[str, Any]]:
    pcap = os.path.join(workdir, f"{kind}.pcapng")
    keylog = os.path.join(workdir, f"{kind}.keys")
    dumpcap = ns.popen(
        ["dumpcap", "-q", "-i", "lo", "-f", "udp", "-w", pcap],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(500):  # until dumpcap has written the file header (it then captures)
            if os.path.exists(pcap) and os.path.getsize(pcap) > 0:
                break
            time.sleep(0.01)
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        env["SSLKEYLOGFILE"] = keylog
        a, b = ns.addresses
        proc = ns.run(
            [sys.executable, "-m", "tests.interop.test_tshark_dissection", kind, a, b],
            timeout=150,
            env=env,
            cwd=root,
        )
        assert proc.returncode == 0, (
            f"scenario failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-5000:]}"
        )
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        time.sleep(0.3)  # dumpcap writes what it buffered before it is stopped
    finally:
        dumpcap.terminate()
        try:
            dumpcap.wait(10)
        except subprocess.TimeoutExpired:
            dumpcap.kill()
            dumpcap.wait()
    return pcap, keylog, result


def dissect(pcap: str, keylog: str, rsa_key: str) -> tuple[list[str], list[str], set[str]]:
    """Malformed frames, SCTP/DCEP expert warnings and the SCTP chunk kinds seen."""
    fields = _tshark("-r", pcap, "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport")
    ports = set(fields.split())
    # (the legacy RSA key list is what maps decrypted DTLS to SCTP; one entry per UDP port)
    keys = ";".join(f"any,{port},sctp,{rsa_key}" for port in sorted(ports))
    opts = ["-o", f"tls.keylog_file:{keylog}", "-o", f"dtls.keys_list:{keys}"]
    malformed = _tshark("-r", pcap, *opts, "-Y", "_ws.malformed").splitlines()
    # "More than 100 TSNs were gap-acknowledged" is a count threshold of Wireshark's, not a rule:
    # RFC 9260 §3.3.4 allows every gap block that fits, and the dropped stretch (longer when the
    # machine is loaded) makes such SACKs; a frame carrying it is not judged by its warnings
    warnings = _tshark(
        "-r",
        pcap,
        *opts,
        "-Y",
        "(sctp || rtcdc) && _ws.expert.severity >= warning"
        " && !sctp.sack_number_of_tsns_gap_acked.100",
    ).splitlines()
    kinds_out = _tshark("-r", pcap, *opts, "-T", "fields", "-e", "sctp.chunk_type")
    kinds = {CHUNK_TYPES.get(k, k) for line in kinds_out.split() for k in line.split(",") if k}
    return malformed, warnings, kinds


@pytest.mark.interop
@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", ["ours", "aiortc"])
def test_full_session_dissects_without_malformed_frames(kind: str) -> None:
    require(netns_available(), "network namespaces need root and iproute2")
    require(shutil.which("tshark") is not None and shutil.which("dumpcap") is not None, "tshark")
    if kind == "aiortc":
        try:
            import aiortc  # noqa: F401
        except ImportError:
            require(False, "aiortc is not installed")
    with tempfile.TemporaryDirectory(prefix="tshark-") as workdir:
        rsa_key = os.path.join(workdir, "any.key")
        _rsa_key(rsa_key)
        with private_netns("tshark") as ns:
            pcap, keylog, result = _capture(ns, kind, workdir)
        assert result["dropped"] > 0 and result["forward_tsn_sent"] > 0, result
        assert result["aiortc_errors"] == [], result
        malformed, warnings, kinds = dissect(pcap, keylog, rsa_key)
        assert malformed == [], "\n".join(malformed[:20])
        assert warnings == [], "\n".join(warnings[:20])
        assert EXPECTED[kind] <= kinds, f"missing chunk kinds {EXPECTED[kind] - kinds}"


if __name__ == "__main__":
    print(json.dumps(_scenario(sys.argv[1], sys.argv[2], sys.argv[3])), flush=True)
