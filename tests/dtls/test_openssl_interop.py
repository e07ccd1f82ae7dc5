"""Interop with OpenSSL's DTLS 1.2 (`openssl s_server` / `s_client`) over real UDP on 127.0.0.1.

Each run: mutual certificate authentication, use_srtp, application data both ways (lines on the
peer's stdin/stdout), our RFC 5705 exporter compared with OpenSSL's "Keying material:" line, and
OpenSSL's close_notify (it closes when its stdin ends). Time bounds are generous safety nets only.
"""

from __future__ import annotations

import contextlib
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
    group: int = 29  # the ECDHE group expected to be chosen
    our_groups: tuple[int, ...] | None = None
    sigalgs: str | None = None  # OpenSSL -sigalgs (what it offers and accepts)
    scheme: int | None = None  # the signature scheme both sides are expected to use
    lossy: bool = False  # lose our 3rd outgoing and the 2nd incoming datagram


CASES = {
    "aes128gcm-x25519": Case("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ec"),
    "aes128gcm-p256": Case("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ec", groups="P-256", group=23),
    "aes128gcm-p384": Case(
        # OpenSSL also wants the certificates' curve (P-256) among its groups
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        0xC02B,
        "ec",
        groups="P-384:P-256",
        group=24,
        our_groups=(24, 23),
    ),
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
    "rsa-aes256gcm": Case("ECDHE-RSA-AES256-GCM-SHA384", 0xC030, "rsa"),
    "rsa-chacha20": Case("ECDHE-RSA-CHACHA20-POLY1305", 0xCCA8, "rsa"),
    "rsa-pkcs1-sha256": Case(
        "ECDHE-RSA-AES128-GCM-SHA256", 0xC02F, "rsa", sigalgs="RSA+SHA256", scheme=0x0401
    ),
    "rsa-pss-sha256": Case(
        "ECDHE-RSA-AES128-GCM-SHA256",
        0xC02F,
        "rsa",
        sigalgs="rsa_pss_rsae_sha256",
        scheme=0x0804,
    ),
    "ecdsa-sha384": Case(
        "ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ec", sigalgs="ECDSA+SHA384", scheme=0x0503
    ),
    "lossy": Case("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ec", lossy=True),
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
            [
                OPENSSL,
                "req",
                "-x509",
                *args,
                "-nodes",
                "-keyout",
                str(d / f"{name}.key"),
                "-out",
                str(d / f"{name}.pem"),
                "-days",
                "30",
                "-subj",
                "/CN=dtls-test",
            ],
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


def _run(
    conn: dtls.Connection,
    sock: socket.socket,
    peer: Peer,
    remote: tuple[str, int] | None,
    *,
    peer_closes: bool,
    drop: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset()),
    export_len: int = 60,
) -> tuple[HandshakeCompleted | None, bytes, ConnectionTerminated | None, str]:
    """Drive `conn` until both application lines crossed, then close (ours or OpenSSL's)."""
    start = time.monotonic()
    got = b""
    completed: HandshakeCompleted | None = None
    terminated: ConnectionTerminated | None = None
    our_material = ""
    sent_lines = False
    resent = False
    drop_out, drop_in = drop  # datagram indices to lose (forces retransmissions on both ends)
    n_out = n_in = 0
    while time.monotonic() - start < LIMIT:
        now = time.monotonic() - start
        for d in conn.datagrams_to_send():
            n_out += 1
            if remote is not None and n_out - 1 not in drop_out:
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
                n_in += 1
                if n_in - 1 not in drop_in:
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
            our_material = conn.export_keying_material("EXTRACTOR-dtls_srtp", export_len).hex()
            conn.send(b"hello from python\n")
            peer.write(b"hello from openssl\n")
        if sent_lines and not resent and got and "hello from python" not in peer.output:
            # DTLS is unreliable: a record sent before the peer finished its handshake (its
            # Finished flight lost) may be dropped; once its data arrives, the peer is up.
            resent = True
            conn.send(b"hello from python\n")
        if sent_lines and b"hello from openssl\n" in got and "hello from python" in peer.output:
            if not peer_closes:
                conn.close()  # our close_notify (s_server closes quietly on stdin EOF)
                break
            peer.close_stdin()  # s_client now sends close_notify and exits
        if terminated is not None:
            break
    for d in conn.datagrams_to_send():
        if remote is not None:
            with contextlib.suppress(OSError):
                sock.sendto(d, remote)
    return completed, got, terminated, our_material


def _drops(case: Case) -> tuple[frozenset[int], frozenset[int]]:
    if not case.lossy:
        return frozenset(), frozenset()
    return frozenset({2}), frozenset({1})


def _check(
    case: Case,
    conn: dtls.Connection,
    result: tuple[HandshakeCompleted | None, bytes, ConnectionTerminated | None, str],
    output: str,
    *,
    peer_closes: bool,
) -> None:
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
    assert conn.named_group == case.group
    if case.scheme is not None:
        assert conn.signature_scheme == conn.peer_signature_scheme == case.scheme
    if peer_closes:
        assert terminated is not None and terminated.error is None, output  # close_notify
    else:
        assert terminated is None


def _check_keylog(lines: list[str], tmp: Path) -> None:
    """Our NSS key-log line (client random + master secret) equals OpenSSL's."""
    theirs = [
        line.strip().upper()
        for line in (tmp / "keylog.txt").read_text().splitlines()
        if line.startswith("CLIENT_RANDOM")
    ]
    assert len(lines) == 1 and theirs == [lines[0].upper()]


def _common_args(case: Case, pki: Path, tmp: Path) -> list[str]:
    args = [
        "-keylogfile",
        str(tmp / "keylog.txt"),
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
    if case.sigalgs:
        args += ["-sigalgs", case.sigalgs]
    return args


def _ours(case: Case, pki: Path, *, is_client: bool, keylog: list[str]) -> dtls.Connection:
    ours = dtls.Certificate.generate("rsa-2048" if case.key == "rsa" else "ecdsa-p256")
    return dtls.Connection(
        is_client=is_client,
        certificate=ours,
        remote_fingerprints=[
            ("sha-256", dtls.fingerprint(_der(pki / f"{case.key}.pem"), "sha-256"))
        ],
        srtp_profiles=(0x0007, 0x0001),
        mtu=case.mtu or 1200,
        initial_retransmit=0.5,
        groups=case.our_groups,
        keylog=keylog.append,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_our_client_with_openssl_server(name: str, pki: Path, tmp_path: Path) -> None:
    require(OPENSSL is not None, "openssl binary not installed")
    assert OPENSSL is not None
    case = CASES[name]
    port = _free_udp_port()
    lines: list[str] = []
    conn = _ours(case, pki, is_client=True, keylog=lines)
    peer = Peer(
        [
            OPENSSL,
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-Verify",
            "1",
            *_common_args(case, pki, tmp_path),
        ]
    )
    try:
        deadline = time.monotonic() + LIMIT
        while "ACCEPT" not in peer.output and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "ACCEPT" in peer.output, peer.output
        with _udp() as sock:
            conn.start(0.0)
            result = _run(
                conn,
                sock,
                peer,
                ("127.0.0.1", port),
                peer_closes=False,
                drop=_drops(case),
                export_len=case.export_len,
            )
    finally:
        output = peer.stop()
    _check(case, conn, result, output, peer_closes=False)
    _check_keylog(lines, tmp_path)
    if case.lossy:
        assert conn.stats.retransmissions >= 1
    assert conn.state is State.CLOSED


@pytest.mark.parametrize("name", list(CASES))
def test_openssl_client_with_our_server(name: str, pki: Path, tmp_path: Path) -> None:
    require(OPENSSL is not None, "openssl binary not installed")
    assert OPENSSL is not None
    case = CASES[name]
    lines: list[str] = []
    conn = _ours(case, pki, is_client=False, keylog=lines)
    with _udp() as sock:
        port = sock.getsockname()[1]
        peer = Peer(
            [
                OPENSSL,
                "s_client",
                "-connect",
                f"127.0.0.1:{port}",
                *_common_args(case, pki, tmp_path),
            ]
        )
        try:
            result = _run(
                conn,
                sock,
                peer,
                None,
                peer_closes=True,
                drop=_drops(case),
                export_len=case.export_len,
            )
        finally:
            output = peer.stop()
    _check(case, conn, result, output, peer_closes=True)
    _check_keylog(lines, tmp_path)
    if case.lossy:
        assert conn.stats.retransmissions >= 1
    assert "Extended master secret: yes" in output
    assert conn.peer_certificate == _der(pki / f"{case.key}.pem")
