"""`python -m webrtc multiplayer`: the demo flow through `python -m webrtc signal` on loopback."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest

from tests.tools.procs import Proc, lobby_of
from webrtc import ConnectionStatus
from webrtc.cli import multiplayer
from webrtc.cli.session import CliError
from webrtc.signaling.client import (
    CandidateReceived,
    Connected,
    Disconnected,
    IdAssigned,
    LobbyJoined,
    LobbySealed,
    OfferReceived,
    PeerConnected,
    PeerDisconnected,
    SignalingClient,
)

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


class FakeSignaling:
    """Records what the demo client sends instead of talking to a server."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []
        self.peer_id = 0

    def join(self, lobby: str, mesh: bool = True) -> bool:
        self.sent.append((f"join {lobby!r} mesh={mesh}", 0))
        return True

    def send_offer(self, peer_id: int, sdp: str) -> bool:
        self.sent.append(("offer", peer_id))
        return True

    def send_answer(self, peer_id: int, sdp: str) -> bool:
        self.sent.append(("answer", peer_id))
        return True

    def send_candidate(self, peer_id: int, mid: str, index: int, candidate: str) -> bool:
        self.sent.append(("candidate", peer_id))
        return True

    def poll(self) -> list[object]:
        return []

    def close(self) -> None:
        pass


def demo(*argv: str) -> tuple[multiplayer.DemoClient, FakeSignaling, list[str]]:
    lines: list[str] = []
    client = multiplayer.DemoClient(
        multiplayer.build_parser().parse_args([LOOP, *argv]), lines.append, lines.append
    )
    fake = FakeSignaling()
    client.signaling = fake  # type: ignore[assignment]
    return client, fake, lines


@pytest.mark.parametrize(
    ("mesh", "own", "peers", "offers", "refused"),
    [
        (False, 1, [4, 9], [], []),  # the lobby creator never offers
        (False, 5, [7, 1], [1], [7]),  # a client adds only peer 1 (and offers to it)
        (True, 3, [2, 4, 1], [2, 1], []),  # mesh: offers only towards lower ids
    ],
)
def test_demo_client_flow(
    mesh: bool, own: int, peers: list[int], offers: list[int], refused: list[int]
) -> None:
    client, fake, lines = demo("--channels", "unreliable")
    client.handle(Connected())
    assert fake.sent == [("join '' mesh=False", 0)]
    client.handle(IdAssigned(own, mesh))
    mp = client.rtc_mp
    assert mp.get_unique_id() == own and mp.is_server_relay_supported() is not mesh
    for pid in peers:
        client.handle(PeerConnected(pid))
    assert list(mp.get_peers()) == [p for p in peers if p not in refused]
    assert all(len(p["channels"]) == 4 for p in mp.get_peers().values())  # --channels
    assert [f"peer {p}: add_peer: ERR_INVALID_PARAMETER" for p in refused] == [
        line for line in lines if "add_peer" in line
    ]
    mp.poll()  # the offers created by PEER_CONNECT go out through the signaling
    assert [pid for kind, pid in fake.sent if kind == "offer"] == offers
    client.handle(OfferReceived(99, "v=0"))  # unknown peers are ignored, as in the demo
    client.handle(CandidateReceived(99, "0", 0, "candidate:1 1 udp 1 192.0.2.1 9 typ host"))
    client.handle(PeerDisconnected(99))
    for pid in list(mp.get_peers()):
        client.handle(PeerDisconnected(pid))
    assert mp.get_peers() == {}
    expected = ConnectionStatus.CONNECTION_DISCONNECTED if own != 1 and not mesh else None
    if expected is not None:  # D3: the client's server left before connecting
        assert mp.get_connection_status() is expected
    client.close()


def test_demo_client_stops_when_signaling_closes_unsealed() -> None:
    client, _, lines = demo()
    with pytest.raises(CliError):
        client.handle(Disconnected(4000, "Lobby does not exists"))
    client.handle(LobbyJoined("abc"))
    client.handle(LobbySealed())
    client.handle(Disconnected(1000, "Seal complete"))
    assert not client.stopped  # sealed: the direct connections carry on
    client.sealed = False
    client.handle(Disconnected(1000, "bye"))
    assert client.stopped and "signaling connection closed: bye" in lines


def test_client_gives_up_on_a_silent_server(server: str) -> None:
    """A lobby host that never answers: after --connect-timeout the client drops peer 1 and,
    per D3, becomes DISCONNECTED and stops (instead of CONNECTING forever)."""
    host = SignalingClient()
    host.connect(server)
    try:
        events: list[object] = []
        deadline = time.monotonic() + 20
        while not host.lobby and time.monotonic() < deadline:
            for event in host.poll():
                events.append(event)
                if isinstance(event, Connected):
                    host.join("", mesh=False)
            time.sleep(0.01)
        assert host.lobby, events
        argv = ["--server", server, "--lobby", host.lobby, LOOP, "--connect-timeout", "1"]
        with webrtc("multiplayer", *argv, "--exit-after", "1", "--duration", "60") as client:
            assert client.wait(30) == 1, client.dump()  # stopped before receiving anything
        assert "peer 1 did not connect" in client.err, client.dump()
        assert client.err[-3:-1] == [
            "status CONNECTION_DISCONNECTED",
            "lost the connection to the server",
        ], client.dump()
        assert client.out == []
    finally:
        host.close()
