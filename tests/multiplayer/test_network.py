"""WebRTCMultiplayerPeers connected on the simulated network: server/client and a 3-peer mesh."""

from __future__ import annotations

from webrtc import ConnectionStatus, Error, TransferMode
from webrtc import WebRTCDataChannel as DC
from webrtc import WebRTCPeerConnection as PC

from .world import Node, World

RELIABLE = TransferMode.TRANSFER_MODE_RELIABLE
ORDERED = TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED
UNRELIABLE = TransferMode.TRANSFER_MODE_UNRELIABLE
CONNECTING = ConnectionStatus.CONNECTION_CONNECTING
CONNECTED = ConnectionStatus.CONNECTION_CONNECTED
DISCONNECTED = ConnectionStatus.CONNECTION_DISCONNECTED


def server_and_clients(world: World, *ids: int, config: list[int] | None = None) -> list[Node]:
    server = world.node()
    assert server.mp.create_server(config or []) == Error.OK
    clients = []
    for i in ids:
        client = world.node()
        assert client.mp.create_client(i, config or []) == Error.OK
        clients.append(client)
    return [server, *clients]


def mesh(world: World, n: int) -> list[Node]:
    nodes = [world.node() for _ in range(n)]
    for i, node in enumerate(nodes):
        assert node.mp.create_mesh(i + 1) == Error.OK
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            world.link(a, b)
    return nodes


def test_server_client_status_and_signals() -> None:
    world = World()
    server, client = server_and_clients(world, 7)
    seen: list[tuple[int, list[DC.ChannelState]]] = []

    def on_connected(pid: int) -> None:  # every channel is open when the signal fires
        seen.append((pid, [ch.get_ready_state() for ch in client.mp.get_peer(pid)["channels"]]))
        assert client.mp.get_connection_status() is CONNECTED

    client.mp.peer_connected.connect(on_connected)
    pc_s, pc_c = world.link(server, client)
    assert client.mp.get_connection_status() is CONNECTING
    assert world.run(world.connected(client, 1), max_time=5)
    assert seen == [(1, [DC.STATE_OPEN] * 3)]
    assert world.run(world.connected(server, 7), max_time=5)
    assert server.events == [("connected", 7)] and client.events == [("connected", 1)]
    world.frames(20)  # more polls: peer_connected fired once
    assert server.events == [("connected", 7)] and client.events == [("connected", 1)]
    assert server.mp.get_connection_status() is CONNECTED
    # put_packet works both ways, payload unframed
    client.mp.set_target_peer(1)
    assert client.mp.put_packet(b"\x00hi") == Error.OK
    server.mp.set_target_peer(7)
    assert server.mp.put_packet(b"yo") == Error.OK
    assert world.run(lambda: bool(server.mp.get_available_packet_count()), max_time=2)
    assert world.run(lambda: bool(client.mp.get_available_packet_count()), max_time=2)
    assert server.drain() == [(7, 0, RELIABLE, b"\x00hi")]
    assert client.drain() == [(1, 0, RELIABLE, b"yo")]
    # the server leaves: the client loses peer 1 and becomes DISCONNECTED
    server.mp.close()
    assert pc_s.get_connection_state() is PC.STATE_CLOSED  # D2
    assert world.run(lambda: client.mp.get_connection_status() is DISCONNECTED, max_time=5)
    assert client.events == [("connected", 1), ("disconnected", 1)]
    assert pc_c.get_connection_state() is PC.STATE_CLOSED  # removed, hence closed (D2)
    assert server.events == [("connected", 7)]  # close() emits nothing


def test_mesh_of_three_connects_everyone_once() -> None:
    world = World()
    nodes = mesh(world, 3)
    assert world.run(
        lambda: all(
            world.connected(n, *(m.mp.get_unique_id() for m in nodes if m is not n))()
            for n in nodes
        ),
        max_time=10,
    )
    world.frames(10)
    for n in nodes:
        others = sorted(m.mp.get_unique_id() for m in nodes if m is not n)
        assert sorted(pid for kind, pid in n.events if kind == "connected") == others
        assert all(kind == "connected" for kind, _ in n.events)
        assert n.mp.get_connection_status() is CONNECTED
