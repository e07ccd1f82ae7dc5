"""SceneMultiplayers on WebRTCMultiplayerPeers on the simulated network (virtual clock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.multiplayer.world import Node, World
from webrtc import Error
from webrtc.scene import SceneMultiplayer, rpc


class SceneWorld(World):
    """A World whose nodes are driven through their SceneMultiplayer's poll()."""

    def __init__(self, seed: int = 0, channels: list[int] | None = None) -> None:
        super().__init__(seed=seed)
        self.channels = channels or []
        self.scenes: list[SceneMultiplayer] = []
        self.sent: list[list[tuple[int, int, int, bytes]]] = []  # per node: put_packet calls

    def scene_node(self, unique_id: int, mesh: bool = False) -> tuple[Node, SceneMultiplayer]:
        node = self.node()
        if mesh:
            assert node.mp.create_mesh(unique_id, self.channels) == Error.OK
        elif unique_id == 1:
            assert node.mp.create_server(self.channels) == Error.OK
        else:
            assert node.mp.create_client(unique_id, self.channels) == Error.OK
        sent: list[tuple[int, int, int, bytes]] = []
        real_put = node.mp.put_packet
        mp = node.mp

        def spy(buffer: bytes) -> Error:  # record what SceneMultiplayer hands the transport
            sent.append(
                (
                    mp._target_peer,
                    int(mp.get_transfer_mode()),
                    mp.get_transfer_channel(),
                    bytes(buffer),
                )
            )
            return real_put(buffer)

        mp.put_packet = spy  # type: ignore[method-assign]
        self.sent.append(sent)
        scene = SceneMultiplayer(node.mp, clock=self.clock)
        self.scenes.append(scene)
        return node, scene

    def poll(self) -> None:
        for scene in self.scenes:
            scene.poll()
        for node in self.nodes[len(self.scenes) :]:
            node.mp.poll()
        for pc in self.extra:
            pc.poll()

    def settle(self, frames: int = 30) -> None:
        """Let in-flight packets arrive (game frames of virtual time)."""
        self.frames(frames)


class Recorder:
    """A Python object standing for a Godot node with RPC methods; records calls."""

    def __init__(self, scene: SceneMultiplayer) -> None:
        self.scene = scene
        self.calls: list[tuple[str, int, tuple[Any, ...]]] = []

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, self.scene.get_remote_sender_id(), args))

    @rpc("any_peer", "call_local")
    def ping(self, argument: float) -> None:
        self._record("ping", argument)

    @rpc("authority")
    def server_only(self, value: int) -> None:
        self._record("server_only", value)

    @rpc("any_peer", "reliable", 1)
    def move(self, x: int, y: int) -> None:
        self._record("move", x, y)

    @rpc("any_peer")
    def blob(self, data: bytes) -> None:
        self._record("blob", data)


def events(scene: SceneMultiplayer) -> list[tuple[str, tuple[Any, ...]]]:
    """Connect to every signal of `scene`; return the list they append to."""
    out: list[tuple[str, tuple[Any, ...]]] = []
    for name in (
        "peer_connected",
        "peer_disconnected",
        "connected_to_server",
        "connection_failed",
        "server_disconnected",
        "peer_authenticating",
        "peer_authentication_failed",
        "peer_packet",
    ):
        signal = getattr(scene, name)
        signal.connect(_appender(out, name))
    return out


def _appender(out: list[tuple[str, tuple[Any, ...]]], name: str) -> Callable[..., None]:
    return lambda *args: out.append((name, args))
