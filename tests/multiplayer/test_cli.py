"""`python -m webrtc multiplayer`: the demo flow through `python -m webrtc signal` on loopback."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.tools.procs import Proc, lobby_of
from webrtc.cli import multiplayer

LOOP = "--loopback-only"


def webrtc(*args: str) -> Proc:
    return Proc([sys.executable, "-m", "webrtc", *args])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with webrtc("signal", "--host", "127.0.0.1", "--port", "0") as proc:
        yield proc.wait_line(r"listening on (ws://\S+)", timeout=20).group(1)


@pytest.mark.parametrize("mesh", [False, True], ids=["client-server", "mesh"])
def test_two_clis_play_the_demo_flow(server: str, mesh: bool) -> None:
    flags = ["--mesh"] if mesh else []
    common = ["--server", server, LOOP, "--interval", "0.2", "--duration", "60"]
    with webrtc("multiplayer", *common, *flags, "--send", "from host", "--exit-after", "3") as host:
        lobby = lobby_of(host)
        host.wait_line(r"^peer 1 is the (mesh peer|server)$", stream="err")
        with webrtc("multiplayer", *common, "--lobby", lobby, "--send", "from guest") as guest:
            guest_id = int(guest.wait_line(r"joined lobby \S+ as peer (\d+)").group(1))
            role = "mesh peer" if mesh else "client"
            guest.wait_line(rf"^peer {guest_id} is the {role}$", stream="err")
            assert host.wait(60) == 0, host.dump()  # three packets from the guest arrived
            # the host left: the guest sees peer 1 go and (client or not) stops by itself
            guest.wait_line(r"^peer 1 disconnected$", stream="out", timeout=30)
            assert guest.wait(30) == 0, guest.dump()
    assert host.out[0] == f"peer {guest_id} connected", host.dump()
    assert host.out[1:4] == [f"peer {guest_id} channel 0 reliable: from guest"] * 3, host.dump()
    assert guest.out[0] == "peer 1 connected", guest.dump()
    assert "peer 1 channel 0 reliable: from host" in guest.out, guest.dump()
    if not mesh:
        assert "status CONNECTION_CONNECTING" in guest.err
        assert "status CONNECTION_CONNECTED" in guest.err
        assert "status CONNECTION_DISCONNECTED" in guest.err


def test_unknown_lobby_and_bad_arguments(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert multiplayer.main(["--server", server, "--lobby", "nope", LOOP]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "python -m webrtc multiplayer: error: signaling server closed the connection: "
        "Lobby does not exists"
    ]
    assert multiplayer.main(["--interval", "0"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "--interval" in err[0]


def test_show_packet_is_bounded() -> None:
    assert multiplayer.show_packet(b"hi\n") == "hi\\n"
    assert multiplayer.show_packet(b"\xff\x00") == "<2 bytes>"
    assert len(multiplayer.show_packet(b"x" * 100_000)) == multiplayer.SHOWN_BYTES + 3
