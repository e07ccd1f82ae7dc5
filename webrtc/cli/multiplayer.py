"""`python -m webrtc multiplayer`: a `WebRTCMultiplayerPeer` in a lobby, as Godot's demo client.

Joins (or creates) a lobby of the signaling server exactly as Godot's `webrtc_signaling` demo
(`multiplayer_client.gd`, `ws_webrtc_client.gd`) does: ID -> `create_mesh` / `create_server` /
`create_client`; PEER_CONNECT -> a new `WebRTCPeerConnection`, `add_peer`, and an offer only
towards lower ids; OFFER/ANSWER/CANDIDATE applied only to peers we have; PEER_DISCONNECT ->
`remove_peer`. Then it polls the multiplayer peer like a game loop and prints on stdout the peers
connecting and leaving and every packet they send (`--send` broadcasts a line periodically).
Status lines go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable

from ..errors import Error
from ..multiplayer import ConnectionStatus, TransferMode, WebRTCMultiplayerPeer
from ..peer_connection import WebRTCPeerConnection
from ..signaling.client import (
    AnswerReceived,
    CandidateReceived,
    Connected,
    Disconnected,
    Event,
    IdAssigned,
    LobbyJoined,
    LobbySealed,
    OfferReceived,
    PeerConnected,
    PeerDisconnected,
    SignalingClient,
)
from ..signaling.protocol import ProtocolError
from .common import Parser, add_session_arguments, positive_float, run, status_printer
from .session import CliError

PROG = "python -m webrtc multiplayer"
FRAME = 0.01  # seconds between polls (a game polls once per frame)
LINGER = 2.0  # seconds to let queued packets leave before closing on exit
SHOWN_BYTES = 200  # a printed packet is cut to this many characters
MODES = {
    "reliable": (TransferMode.TRANSFER_MODE_RELIABLE,),
    "ordered": (TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED,),
    "unreliable": (TransferMode.TRANSFER_MODE_UNRELIABLE,),
    "all": (
        TransferMode.TRANSFER_MODE_RELIABLE,
        TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED,
        TransferMode.TRANSFER_MODE_UNRELIABLE,
    ),
}
MODE_NAMES: dict[int, str] = {
    TransferMode.TRANSFER_MODE_RELIABLE: "reliable",
    TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED: "ordered",
    TransferMode.TRANSFER_MODE_UNRELIABLE: "unreliable",
}


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


non_negative_int.__name__ = "non-negative integer"


def channel_list(text: str) -> list[TransferMode]:
    """`reliable,unreliable` -> [TRANSFER_MODE_RELIABLE, TRANSFER_MODE_UNRELIABLE]."""
    modes = []
    for name in filter(None, text.split(",")):
        if name not in MODES or name == "all":
            raise ValueError(text)
        modes.append(MODES[name][0])
    return modes


channel_list.__name__ = "channel list"


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_session_arguments(parser)
    parser.add_argument(
        "--mesh", action="store_true", help="create a mesh lobby (default: client/server)"
    )
    parser.add_argument(
        "--channels",
        type=channel_list,
        default=[],
        metavar="MODES",
        help="extra channels after the three reserved ones, as create_*'s channels_config: "
        "comma-separated reliable/ordered/unreliable (every peer must use the same list)",
    )
    parser.add_argument(
        "--unreliable-lifetime",
        type=non_negative_int,
        default=1,
        metavar="MS",
        help="add_peer's unreliable_lifetime: lifetime of the ordered/unreliable channels' "
        "messages (default %(default)s, as Godot's demo)",
    )
    parser.add_argument("--send", metavar="TEXT", help="broadcast TEXT to every connected peer")
    parser.add_argument(
        "--interval",
        type=positive_float,
        default=1.0,
        help="seconds between two --send broadcasts (default %(default)s)",
    )
    parser.add_argument(
        "--mode",
        choices=sorted(MODES),
        default="reliable",
        help="transfer mode of --send; 'all' sends on each of the three (default %(default)s)",
    )
    parser.add_argument(
        "--exit-after",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="exit (status 0) once N packets were received (default: run until stopped)",
    )
    parser.add_argument(
        "--duration",
        type=positive_float,
        metavar="SECONDS",
        help="stop after this long (status 1 if --exit-after was not reached)",
    )
    return parser


def show_packet(data: bytes) -> str:
    """The packet as text when it is UTF-8, else its size; cut to SHOWN_BYTES characters."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(data)} bytes>"
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= SHOWN_BYTES else text[:SHOWN_BYTES] + "..."


class DemoClient:
    """Godot's `multiplayer_client.gd` over `SignalingClient`, minus the scene tree."""

    def __init__(
        self,
        args: argparse.Namespace,
        out: Callable[[str], None],
        status: Callable[[str], None],
    ) -> None:
        self.args = args
        self.out = out
        self.status = status
        self.signaling = SignalingClient()
        self.rtc_mp = WebRTCMultiplayerPeer()
        self.rtc_mp.peer_connected.connect(self._on_peer_connected)
        self.rtc_mp.peer_disconnected.connect(self._on_peer_disconnected)
        self.joined = False
        self.sealed = False
        self.stopped = False
        self.stop_reason = ""
        self.received = 0
        self.added_at: dict[int, float] = {}
        self._last_status = self.rtc_mp.get_connection_status()

    # -- signaling (ws_webrtc_client.gd / multiplayer_client.gd) ------------------------------

    def handle(self, event: Event) -> None:
        match event:
            case Connected():
                self.signaling.join(self.args.lobby, mesh=self.args.mesh)
            case IdAssigned(peer_id, mesh):
                self._connected(peer_id, mesh)
            case LobbyJoined(lobby):
                self.joined = True
                self.status(f"joined lobby {lobby} as peer {self.signaling.peer_id}")
                if self.signaling.peer_id == 1:
                    self.status(f"others join with: --lobby {lobby}")
            case LobbySealed():
                self.sealed = True
                self.status("lobby sealed")
            case PeerConnected(peer_id):
                self._create_peer(peer_id)
            case PeerDisconnected(peer_id):
                if self.rtc_mp.has_peer(peer_id):
                    self.rtc_mp.remove_peer(peer_id)
                    self.added_at.pop(peer_id, None)
            case OfferReceived(peer_id, sdp):
                if self.rtc_mp.has_peer(peer_id):
                    self._connection(peer_id).set_remote_description("offer", sdp)
            case AnswerReceived(peer_id, sdp):
                if self.rtc_mp.has_peer(peer_id):
                    self._connection(peer_id).set_remote_description("answer", sdp)
            case CandidateReceived(peer_id, mid, index, candidate):
                if self.rtc_mp.has_peer(peer_id):
                    self._connection(peer_id).add_ice_candidate(mid, index, candidate)
            case Disconnected(code, reason):
                self._disconnected(code, reason)

    def _connected(self, peer_id: int, mesh: bool) -> None:
        config = [int(mode) for mode in self.args.channels]
        if mesh:
            err = self.rtc_mp.create_mesh(peer_id, config)
            role = "mesh peer"
        elif peer_id == 1:
            err = self.rtc_mp.create_server(config)
            role = "server"
        else:
            err = self.rtc_mp.create_client(peer_id, config)
            role = "client"
        if err is not Error.OK:
            self._stop(f"cannot become {role} {peer_id}: {err.name}")
            return
        self.status(f"peer {peer_id} is the {role}")

    def _create_peer(self, peer_id: int) -> None:
        args = self.args
        pc = WebRTCPeerConnection(loopback_only=args.loopback_only)
        err = pc.initialize({"iceServers": [{"urls": [url]} for url in args.ice_server]})
        if err is not Error.OK:
            self.status(f"peer {peer_id}: initialize failed: {err.name}")
            return
        pc.session_description_created.connect(
            lambda kind, sdp: self._offer_created(kind, sdp, peer_id)
        )
        pc.ice_candidate_created.connect(
            lambda mid, index, name: self._new_ice_candidate(mid, index, name, peer_id)
        )
        err = self.rtc_mp.add_peer(pc, peer_id, args.unreliable_lifetime)
        if err is not Error.OK:  # e.g. a server announcing other clients (harmless, §7)
            self.status(f"peer {peer_id}: add_peer: {err.name}")
            pc.close()
            return
        self.added_at[peer_id] = time.monotonic()
        if peer_id < self.rtc_mp.get_unique_id():  # so the lobby creator never offers
            pc.create_offer()

    def _connection(self, peer_id: int) -> WebRTCPeerConnection:
        connection: WebRTCPeerConnection = self.rtc_mp.get_peer(peer_id)["connection"]
        return connection

    def _offer_created(self, kind: str, sdp: str, peer_id: int) -> None:
        if not self.rtc_mp.has_peer(peer_id):
            return
        self._connection(peer_id).set_local_description(kind, sdp)
        if kind == "offer":
            self.signaling.send_offer(peer_id, sdp)
        else:
            self.signaling.send_answer(peer_id, sdp)

    def _new_ice_candidate(self, mid: str, index: int, name: str, peer_id: int) -> None:
        if not name:
            return  # the demo protocol has no end-of-candidates message
        try:
            self.signaling.send_candidate(peer_id, mid, index, name)
        except ProtocolError as exc:
            self.status(f"peer {peer_id}: candidate not sent: {exc}")

    def _disconnected(self, code: int | None, reason: str) -> None:
        why = reason or (f"code {code}" if code is not None else "closed")
        if not self.joined:
            raise CliError(f"signaling server closed the connection: {why}")
        self.status(f"signaling connection closed: {why}")
        if not self.sealed:  # the demo stops unless the lobby was sealed
            self._stop("signaling closed before the lobby was sealed")

    def _stop(self, reason: str) -> None:
        if not self.stopped:
            self.stopped = True
            self.stop_reason = reason

    # -- multiplayer peer ---------------------------------------------------------------------

    def _on_peer_connected(self, peer_id: int) -> None:
        self.added_at.pop(peer_id, None)
        self.out(f"peer {peer_id} connected")

    def _on_peer_disconnected(self, peer_id: int) -> None:
        self.out(f"peer {peer_id} disconnected")

    def on_packet(self, sender: int, channel: int, mode: int, data: bytes) -> None:
        """Print a received packet (override to handle packets otherwise)."""
        name = MODE_NAMES.get(mode, str(mode))
        self.out(f"peer {sender} channel {channel} {name}: {show_packet(data)}")

    def frame(self) -> None:
        """One game frame: signaling events, poll, print packets and status changes."""
        for event in self.signaling.poll():
            self.handle(event)
        self.rtc_mp.poll()
        mp = self.rtc_mp
        while mp.get_available_packet_count():
            sender, channel, mode = (
                mp.get_packet_peer(),
                mp.get_packet_channel(),
                mp.get_packet_mode(),
            )
            data = mp.get_packet()
            if mp.get_packet_error() is not Error.OK:
                break
            self.received += 1
            self.on_packet(sender, channel, int(mode), data)
        status = mp.get_connection_status()
        if status is not self._last_status:
            self._last_status = status
            self.status(f"status {status.name}")
            if status is ConnectionStatus.CONNECTION_DISCONNECTED:  # a client lost peer 1
                self._stop("lost the connection to the server")
        self._expire_peers()

    def _expire_peers(self) -> None:
        """A peer still not connected after --connect-timeout is dropped."""
        now = time.monotonic()
        for peer_id, since in list(self.added_at.items()):
            if now - since > self.args.connect_timeout:
                del self.added_at[peer_id]
                if self.rtc_mp.has_peer(peer_id):
                    self.status(f"peer {peer_id} did not connect")
                    self.rtc_mp.remove_peer(peer_id)

    def connected_peers(self) -> list[int]:
        return [pid for pid, p in self.rtc_mp.get_peers().items() if p["connected"]]

    def broadcast(self, text: str, modes: tuple[TransferMode, ...]) -> None:
        mp = self.rtc_mp
        mp.set_target_peer(WebRTCMultiplayerPeer.TARGET_PEER_BROADCAST)
        mp.transfer_channel = 0
        for mode in modes:
            mp.transfer_mode = mode
            mp.put_packet(text.encode("utf-8"))

    def buffered(self) -> int:
        total = 0
        for peer in self.rtc_mp.get_peers().values():
            total += sum(ch.get_buffered_amount() for ch in peer["channels"])
        return total

    def close(self) -> None:
        self.rtc_mp.close()
        self.signaling.close()


async def _multiplayer(args: argparse.Namespace) -> int:
    status = status_printer()

    def out(line: str) -> None:
        print(line, flush=True)

    client = DemoClient(args, out, status)
    client.signaling.connect(args.server)
    start = time.monotonic()
    next_send = start
    code = 0
    try:
        while True:
            client.frame()
            now = time.monotonic()
            if client.stopped:
                status(client.stop_reason)
                code = 1 if args.exit_after else 0
                break
            if args.exit_after and client.received >= args.exit_after:
                break
            if args.duration is not None and now - start >= args.duration:
                code = 1 if args.exit_after else 0
                break
            if args.send is not None and client.connected_peers() and now >= next_send:
                client.broadcast(args.send, MODES[args.mode])
                next_send = now + args.interval
            await asyncio.sleep(FRAME)
        # let what was queued leave before the connections close (bounded)
        deadline = time.monotonic() + LINGER
        while client.buffered() and time.monotonic() < deadline:
            client.rtc_mp.poll()
            await asyncio.sleep(FRAME)
    finally:
        client.close()
    if code:
        status(f"received {client.received} of {args.exit_after} packets")
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m webrtc multiplayer`; returns the exit code."""
    return run(PROG, build_parser(), argv, _multiplayer)


if __name__ == "__main__":
    sys.exit(main())
