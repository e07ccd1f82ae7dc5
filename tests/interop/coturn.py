"""Start a real coturn (turnserver) on 127.0.0.1 or ::1 for a test and stop it by its pid.

Recipe from /work/shared/interop/README.md. Usage:

    with coturn_server() as server:          # skips on a laptop without coturn, fails in CI
        client = TurnClient(server.address, server.username, server.password)

or the `coturn` pytest fixture (import it into the test module).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.interop.netns import require

USERNAME = "test"
PASSWORD = "test"
REALM = "example.org"


@dataclass(frozen=True)
class CoturnServer:
    address: tuple[str, int]
    username: str
    password: str
    realm: str
    pid: int
    relay_ports: tuple[int, int]
    log_path: str

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _free_port(host: str) -> int:
    """A port currently free for both UDP and TCP on `host` (coturn listens on both)."""
    for _ in range(50):
        with socket.socket(_family(host), socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(_family(host), socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def _answers_binding(address: tuple[str, int], timeout: float) -> bool:
    """Send one raw STUN Binding request (RFC 8489 §5) and wait briefly for any answer."""
    tid = os.urandom(12)
    request = struct.pack("!HHI12s", 0x0001, 0, 0x2112A442, tid)
    with socket.socket(_family(address[0]), socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(request, address)
            data = sock.recv(2048)
        except OSError:
            return False
    return len(data) >= 20 and data[8:20] == tid


@contextlib.contextmanager
def coturn_server(
    *, host: str = "127.0.0.1", extra_args: tuple[str, ...] = (), ready_timeout: float = 10.0
) -> Iterator[CoturnServer]:
    """Run `turnserver` on `host` (127.0.0.1 or ::1; relays on the same address) with
    long-term credentials test:test, realm example.org, UDP only."""
    binary = shutil.which("turnserver")
    require(binary is not None, "coturn (turnserver) is not installed")
    assert binary is not None
    port = _free_port(host)
    base = random.Random(os.getpid() ^ port).randrange(49152, 65000)
    relay = (base, base + 99)
    workdir = tempfile.mkdtemp(prefix="coturn-")
    log_path = os.path.join(workdir, "turnserver.log")
    argv = [
        binary,
        "-n",
        f"--listening-ip={host}",
        f"--listening-port={port}",
        f"--relay-ip={host}",
        "--lt-cred-mech",
        f"--user={USERNAME}:{PASSWORD}",
        f"--realm={REALM}",
        "--allow-loopback-peers",
        "--no-cli",
        "--no-tls",
        "--no-dtls",
        f"--min-port={relay[0]}",
        f"--max-port={relay[1]}",
        "--log-file=stdout",
        "--simple-log",
        f"--userdb={os.path.join(workdir, 'turndb')}",
        f"--pidfile={os.path.join(workdir, 'turnserver.pid')}",
        *extra_args,
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    server = CoturnServer((host, port), USERNAME, PASSWORD, REALM, proc.pid, relay, log_path)
    try:
        attempts = int(ready_timeout / 0.2)
        for _ in range(attempts):
            if proc.poll() is not None:
                raise RuntimeError(f"turnserver exited early:\n{server.log()}")
            if _answers_binding(server.address, 0.2):
                break
        else:
            raise RuntimeError(f"turnserver did not answer on {server.address}:\n{server.log()}")
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def coturn() -> Iterator[CoturnServer]:
    """A running coturn for one test (see `coturn_server`)."""
    with coturn_server() as server:
        yield server
