"""Interop with OpenSSL's DTLS 1.2 (`openssl s_server` / `s_client`) over real UDP on 127.0.0.1.

Each run: mutual certificate authentication, use_srtp, application data both ways (lines on the
peer's stdin/stdout), our RFC 5705 exporter compared with OpenSSL's "Keying material:" line, and
OpenSSL's close_notify (it closes when its stdin ends). Time bounds are generous safety nets only.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import dtls
from dtls import ApplicationData, ConnectionTerminated, HandshakeCompleted, State
from tests.interop.netns import require

pytestmark = pytest.mark.interop

OPENSSL = shutil.which("openssl")
LIMIT = 15.0  # seconds; a safety bound on a run, never a measured quantity


@dataclass(frozen=True)
class Case:
    cipher: str  # OpenSSL cipher name
    suite: int
    key: str  # "ec" or "rsa"
    groups: str | None = None  # OpenSSL -groups value; None = OpenSSL default (X25519)
    srtp: str = "SRTP_AES128_CM_SHA1_80"
    srtp_id: int = 0x0001
    export_len: int = 60
    mtu: int | None = None


CASES = {
    "aes128gcm-x25519": Case("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ec"),
    "aes128gcm-p256": Case("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ec", groups="P-256"),
    "aes128gcm-p384": Case("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ec", groups="P-384"),
    "aes256gcm": Case("ECDHE-ECDSA-AES256-GCM-SHA384", 0xC02C, "ec"),
    "chacha20": Case("ECDHE-ECDSA-CHACHA20-POLY1305", 0xCCA9, "ec"),
    "rsa-aes128gcm": Case("ECDHE-RSA-AES128-GCM-SHA256", 0xC02F, "rsa"),
    "srtp-aead-gcm": Case(
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        0xC02B,
        "ec",
        srtp="SRTP_AEAD_AES_128_GCM",
        srtp_id=0x0007,
        export_len=56,
    ),
    "small-mtu": Case("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ec", mtu=400),
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(OPENSSL is not None, "openssl binary not installed")
    assert OPENSSL is not None
    d = tmp_path_factory.mktemp("pki")
    for name, args in (
        ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]),
        ("rsa", ["-newkey", "rsa:2048"]),
    ):
        subprocess.run(
            [OPENSSL, "req", "-x509", *args, "-nodes", "-keyout", str(d / f"{name}.key")]
            + ["-out", str(d / f"{name}.pem"), "-days", "30", "-subj", "/CN=dtls-test"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    return d


class Peer:
    """An OpenSSL process whose stdout is collected by a reader thread."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._chunks: list[bytes] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, b""):
            self._chunks.append(line)

    @property
    def output(self) -> str:
        return b"".join(self._chunks).decode(errors="replace")

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()

    def stop(self) -> str:
        self.close_stdin()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._thread.join(timeout=5)
        return self.output


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _der(pem_path: Path) -> bytes:
    cert = x509.load_pem_x509_certificate(pem_path.read_bytes())
    return cert.public_bytes(serialization.Encoding.DER)


@contextlib.contextmanager
def _udp() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


def _run(conn: dtls.Connection, sock: socket.socket, peer: Peer, remote: tuple[str, int] | None):
    """Drive `conn` until both application lines crossed and OpenSSL closed; return what we saw."""
    start = time.monotonic()
    got = b""
    completed: HandshakeCompleted | None = None
    terminated: ConnectionTerminated | None = None
    our_material = ""
    sent_lines = False
    while time.monotonic() - start < LIMIT:
        now = time.monotonic() - start
        for d in conn.datagrams_to_send():
            if remote is not None:
                with contextlib.suppress(OSError):
                    sock.sendto(d, remote)
        timeout = conn.next_timeout()
        wait = 0.05 if timeout is None else max(0.0, min(0.05, timeout - now))
        readable, _, _ = select.select([sock], [], [], wait)
        if readable:
            try:
                data, addr = sock.recvfrom(65536)
            except OSError:
                data = b""
            if data:
                remote = addr
                conn.receive(data, time.monotonic() - start)
        now = time.monotonic() - start
        timeout = conn.next_timeout()
        if timeout is not None and now >= timeout:
            conn.handle_timeout(now)
        while (ev := conn.next_event()) is not None:
            if isinstance(ev, HandshakeCompleted):
                completed = ev
            elif isinstance(ev, ApplicationData):
                got += ev.data
            elif isinstance(ev, ConnectionTerminated):
                terminated = ev
        if completed is not None and not sent_lines:
            sent_lines = True
            our_material = conn.export_keying_material(
                "EXTRACTOR-dtls_srtp", EXPORT_LEN[0]
            ).hex()
            conn.send(b"hello from python\n")
            peer.write(b"hello from openssl\n")
        if sent_lines and b"hello from openssl\n" in got and "hello from python" in peer.output:
            peer.close_stdin()  # OpenSSL now sends close_notify and exits
        if terminated is not None:
            break
    for d in conn.datagrams_to_send():
        if remote is not None:
            with contextlib.suppress(OSError):
                sock.sendto(d, remote)
    return completed, got, terminated, our_material


EXPORT_LEN = [60]


def _check(case: Case, conn: dtls.Connection, result: tuple, output: str) -> None:  # type: ignore[type-arg]
    completed, got, terminated, material = result
    assert completed is not None, output
    assert completed.cipher_suite == case.suite
    assert completed.srtp_profile == case.srtp_id
    assert b"hello from openssl\n" in got, output
    assert "hello from python" in output
    keying = re.search(r"Keying material: ([0-9A-F]+)", output)
    assert keying is not None, output
    assert keying.group(1).lower() == material
    assert conn.extended_master_secret
    assert terminated is not None and terminated.error is None, output  # close_notify


def _common_args(case: Case, pki: Path) -> list[str]:
    args = [
        "-dtls1_2",
        "-cert",
        str(pki / f"{case.key}.pem"),
        "-key",
        str(pki / f"{case.key}.key"),
        "-use_srtp",
        case.srtp,
        "-keymatexport",
        "EXTRACTOR-dtls_srtp",
        "-keymatexportlen",
        str(case.export_len),
        "-cipher",
        case.cipher,
    ]
    if case.groups:
        args += ["-groups", case.groups]
    if case.mtu:
        args += ["-mtu", str(case.mtu)]
    return args


def _ours(case: Case, pki: Path, *, is_client: bool) -> dtls.Connection:
    ours = dtls.Certificate.generate("rsa-2048" if case.key == "rsa" else "ecdsa-p256")
    return dtls.Connection(
        is_client=is_client,
        certificate=ours,
        remote_fingerprints=[("sha-256", dtls.fingerprint(_der(pki / f"{case.key}.pem"), "sha-256"))],
        srtp_profiles=(0x0007, 0x0001),
        mtu=case.mtu or 1200,
        initial_retransmit=0.5,
    ), ours


@pytest.mark.parametrize("name", list(CASES))
def test_our_client_with_openssl_server(name: str, pki: Path) -> None:
    require(OPENSSL is not None, "openssl binary not installed")
    assert OPENSSL is not None
    case = CASES[name]
    EXPORT_LEN[0] = case.export_len
    port = _free_udp_port()
    conn, _ = _ours(case, pki, is_client=True)  # type: ignore[misc]
    peer = Peer(
        [OPENSSL, "s_server", "-accept", f"127.0.0.1:{port}", "-Verify", "1"]
        + _common_args(case, pki)
    )
    try:
        deadline = time.monotonic() + LIMIT
        while "ACCEPT" not in peer.output and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "ACCEPT" in peer.output, peer.output
        with _udp() as sock:
            conn.start(0.0)
            result = _run(conn, sock, peer, ("127.0.0.1", port))
    finally:
        output = peer.stop()
    _check(case, conn, result, output)
    assert conn.state is State.CLOSED


@pytest.mark.parametrize("name", list(CASES))
def test_openssl_client_with_our_server(name: str, pki: Path) -> None:
    require(OPENSSL is not None, "openssl binary not installed")
    assert OPENSSL is not None
    case = CASES[name]
    EXPORT_LEN[0] = case.export_len
    conn, ours = _ours(case, pki, is_client=False)  # type: ignore[misc]
    with _udp() as sock:
        port = sock.getsockname()[1]
        peer = Peer(
            [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}"] + _common_args(case, pki)
        )
        try:
            result = _run(conn, sock, peer, None)
        finally:
            output = peer.stop()
    _check(case, conn, result, output)
    assert "Extended master secret: yes" in output
    assert conn.peer_certificate == _der(pki / f"{case.key}.pem")
    del ours
