"""A Python peer in Godot's `webrtc_signaling` demo: it joins the demo's lobby and pings.

What the Godot side declares (godotengine/godot-demo-projects, networking/webrtc_signaling):

- `demo/main.gd`, `_enter_tree()`: each ClientUI gets its own MultiplayerAPI, rooted at the
  ClientUI itself (`get_tree().set_multiplayer(MultiplayerAPI.create_default_interface(),
  NodePath("%s/VBoxContainer/Clients/%s" % [get_path(), c.name]))`). The node path of the
  RPC, relative to that root, is therefore "." (`NodePath.rel_path_to` of the root itself).
- `demo/client_ui.gd`: `@rpc("any_peer", "call_local") func ping(argument: float) -> void`,
  which logs "[Multiplayer] Ping from peer %d: arg: %f"; the Ping button calls
  `ping.rpc(randf())`. It is the node's only RPC, so its method id is 0 and the checksum
  sent with the path is md5("ping").
- `client/multiplayer_client.gd` + `ws_webrtc_client.gd`: the lobby and connection flow,
  which `webrtc.cli.multiplayer.DemoClient` reproduces.

Run our signaling server (or the demo's own), press "Start" in the Godot demo with its URL and
a room name (mesh unchecked: client/server), then:

    python -m webrtc signal --port 9080
    python examples/godot_demo_peer.py --server ws://127.0.0.1:9080 --lobby ROOM --pings 3

The Godot window logs "Ping from peer <our id>"; pressing Ping there prints it here. Without
`--lobby` a lobby is created (we are the server, id 1) and its name printed for the demo to join.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webrtc.cli.common import UsageError, positive_float, status_printer
from webrtc.cli.multiplayer import DemoClient
from webrtc.cli.multiplayer import build_parser as multiplayer_parser
from webrtc.scene import SceneMultiplayer, rpc

FRAME = 0.016  # one game frame


class ClientUI:
    """The Python twin of the demo's `client_ui.gd` node: the same RPC, declared the same way."""

    def __init__(self, scene: SceneMultiplayer) -> None:
        self.scene = scene
        self.pings: list[tuple[int, float]] = []

    @rpc("any_peer", "call_local")
    def ping(self, argument: float) -> None:
        sender = self.scene.get_remote_sender_id()
        self.pings.append((sender, argument))
        print(f"[Multiplayer] Ping from peer {sender}: arg: {argument:f}", flush=True)


class DemoPeer(DemoClient):
    """`DemoClient` (the demo's lobby flow) with a SceneMultiplayer on its multiplayer peer."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args, out=lambda line: print(line, flush=True), status=status_printer())
        self.scene = SceneMultiplayer()
        self.ui = ClientUI(self.scene)
        self.scene.register_node(".", self.ui)
        self.scene.connected_to_server.connect(lambda: self.status("connected to the server"))

    def _connected(self, peer_id: int, mesh: bool) -> None:
        super()._connected(peer_id, mesh)  # create_server / create_client / create_mesh
        self.scene.set_multiplayer_peer(self.rtc_mp)  # multiplayer.multiplayer_peer = rtc_mp

    def frame(self) -> None:
        """One game frame: signaling, then SceneMultiplayer's poll (which polls the peer)."""
        for event in self.signaling.poll():
            self.handle(event)
        self.scene.poll()
        self._expire_peers()

    def ping(self) -> None:
        """The demo's Ping button: `ping.rpc(randf())`."""
        self.scene.rpc(".", "ping", random.random())


def build_parser() -> argparse.ArgumentParser:
    """`python -m webrtc multiplayer`'s options (--server, --lobby, --mesh, --ice-server, ...)
    plus the pings; --send/--exit-after are not used here."""
    parser = multiplayer_parser("godot_demo_peer.py")
    parser.description = __doc__.split("\n\n")[0] if __doc__ else None
    parser.add_argument("--pings", type=int, default=3, help="pings to send (default 3)")
    parser.add_argument(
        "--ping-interval", type=positive_float, default=1.0, help="seconds between pings"
    )
    return parser


def run(peer: DemoPeer, pings: int, interval: float, duration: float | None) -> int:
    """Game loop: ping every `interval` once a peer is connected, until `pings` were sent and
    as many were received from others (or `duration` passed)."""
    peer.signaling.connect(peer.args.server)
    start = time.monotonic()
    sent, next_ping = 0, 0.0
    try:
        while not peer.stopped:
            peer.frame()
            now = time.monotonic()
            if peer.scene.get_peers() and sent < pings and now >= next_ping:
                peer.ping()
                sent, next_ping = sent + 1, now + interval
            others = [s for s, _ in peer.ui.pings if s != peer.rtc_mp.get_unique_id()]
            if sent >= pings and len(others) >= pings:
                return 0
            if duration is not None and now - start > duration:
                return 1
            time.sleep(FRAME)
        peer.status(peer.stop_reason)
        return 1
    finally:
        peer.close()


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"godot_demo_peer.py: error: {exc}", file=sys.stderr)
        return 2
    return run(DemoPeer(args), args.pings, args.ping_interval, args.duration)


if __name__ == "__main__":
    sys.exit(main())
