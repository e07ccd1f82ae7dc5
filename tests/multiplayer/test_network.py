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


def mesh(world: World, n: int, lifetime: int = 1) -> list[Node]:
    nodes = [world.node() for _ in range(n)]
    for i, node in enumerate(nodes):
        assert node.mp.create_mesh(i + 1) == Error.OK
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            world.link(a, b, lifetime=lifetime)
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


def test_removals_are_emitted_before_additions_in_one_poll() -> None:
    world = World()
    server, early, late = server_and_clients(world, 2, 3)
    world.link(server, late)  # peer 3 is added to the server's map after peer 2
    assert world.run(world.connected(server, 3), max_time=5)
    world.link(server, early)  # ... no: peer 2 comes second in the map
    # Hold the server's multiplayer peer (its connections still poll) until, in one poll(),
    # peer 2 is ready and peer 3 has gone.
    world.held.add(id(server))
    ready = server.mp.get_peer(2)
    assert world.run(
        lambda: all(ch.get_ready_state() is DC.STATE_OPEN for ch in ready["channels"]),
        max_time=5,
    )
    late.mp.close()
    gone = server.mp.get_peer(3)["connection"]
    assert world.run(lambda: gone.get_connection_state() is not PC.STATE_CONNECTED, max_time=5)
    assert list(server.mp.get_peers()) == [3, 2]
    assert server.events == [("connected", 3)]
    world.held.clear()
    server.mp.poll()
    assert server.events == [("connected", 3), ("disconnected", 3), ("connected", 2)]


def test_receive_order_across_peers_and_channels() -> None:
    world = World()
    config = [ORDERED, RELIABLE]
    server, a, b = server_and_clients(world, 2, 3, config=config)
    world.link(server, a)
    world.link(server, b)
    assert world.run(world.connected(server, 2, 3), max_time=5)
    assert world.run(lambda: a.mp.get_connection_status() is CONNECTED, max_time=5)
    assert world.run(lambda: b.mp.get_connection_status() is CONNECTED, max_time=5)

    def send(node: Node, mode: TransferMode, channel: int, data: bytes) -> None:
        node.mp.transfer_mode = mode
        node.mp.transfer_channel = channel
        assert node.mp.put_packet(data) == Error.OK

    send(a, UNRELIABLE, 0, b"a-u1")
    send(a, ORDERED, 0, b"a-o1")
    send(a, RELIABLE, 2, b"a-c2")  # custom channel 2 (RELIABLE)
    send(a, RELIABLE, 0, b"a-r1")
    send(a, RELIABLE, 0, b"a-r2")
    send(b, UNRELIABLE, 1, b"b-c1")  # custom channel 1 (UNRELIABLE_ORDERED)
    send(b, RELIABLE, 0, b"b-r1")
    expected = 7

    def arrived() -> int:
        return sum(
            ch.get_available_packet_count()
            for p in server.mp.get_peers().values()
            for ch in p["channels"]
        )

    world.held.add(id(server))  # let everything arrive before the server's next poll()
    assert world.run(lambda: arrived() == expected, max_time=5)
    world.held.clear()
    server.mp.poll()
    assert server.mp.get_available_packet_count() == expected
    # Round robin over peers (map order), reliable first within a peer, one packet per turn.
    assert server.drain() == [
        (2, 0, RELIABLE, b"a-r1"),
        (3, 0, RELIABLE, b"b-r1"),
        (2, 0, RELIABLE, b"a-r2"),
        (3, 1, ORDERED, b"b-c1"),
        (2, 0, ORDERED, b"a-o1"),
        (2, 0, UNRELIABLE, b"a-u1"),
        (2, 2, RELIABLE, b"a-c2"),
    ]
    assert server.mp.get_packet_peer() == 0
    assert server.mp.get_packet() == b""
    assert server.mp.get_packet_error() == Error.ERR_UNAVAILABLE


def test_put_packet_routing_in_a_mesh() -> None:
    world = World()
    n1, n2, n3 = mesh(world, 3, lifetime=60_000)  # routing only: lifetimes are test_game_loop's
    assert world.run(lambda: world.connected(n1, 2, 3)() and world.connected(n2, 3)(), 10)
    assert world.run(world.connected(n3, 1, 2), max_time=5)
    n1.mp.transfer_mode = ORDERED
    n1.mp.set_target_peer(0)
    assert n1.mp.put_packet(b"all") == Error.OK
    n1.mp.set_target_peer(-2)
    assert n1.mp.put_packet(b"not 2") == Error.OK
    n1.mp.set_target_peer(2)
    n1.mp.transfer_mode = UNRELIABLE
    assert n1.mp.put_packet(b"only 2") == Error.OK
    n1.mp.set_target_peer(4)
    assert n1.mp.put_packet(b"x") == Error.ERR_INVALID_PARAMETER
    n1.mp.set_target_peer(3)
    n1.mp.transfer_channel = 1  # no custom channel configured: index 3 is missing
    assert n1.mp.put_packet(b"x") == Error.ERR_INVALID_PARAMETER
    n1.mp.set_target_peer(0)
    assert n1.mp.put_packet(b"x") == Error.OK  # broadcast skips peers lacking the channel
    assert world.run(lambda: n2.mp.get_available_packet_count() == 2, max_time=2)
    assert world.run(lambda: n3.mp.get_available_packet_count() == 2, max_time=2)
    world.frames(10)
    assert n2.drain() == [(1, 0, ORDERED, b"all"), (1, 0, UNRELIABLE, b"only 2")]
    assert n3.drain() == [(1, 0, ORDERED, b"all"), (1, 0, ORDERED, b"not 2")]


def test_a_closed_channel_removes_the_peer_on_both_sides() -> None:
    world = World()
    server, client = server_and_clients(world, 9)
    pc_s, pc_c = world.link(server, client)
    assert world.run(lambda: world.connected(server, 9)() and world.connected(client, 1)(), 5)
    server.mp.get_peer(9)["channels"][2].close()
    server.mp.poll()  # CLOSING: removed at once, the connection closed (D2)
    assert server.events == [("connected", 9), ("disconnected", 9)]
    assert not server.mp.has_peer(9) and pc_s.get_connection_state() is PC.STATE_CLOSED
    assert world.run(lambda: not client.mp.has_peer(1), max_time=5)
    assert client.events == [("connected", 1), ("disconnected", 1)]
    assert client.mp.get_connection_status() is DISCONNECTED
    assert pc_c.get_connection_state() is PC.STATE_CLOSED


def test_remove_peer_closes_the_connection_and_the_remote_notices() -> None:
    world = World()
    a, b, c = mesh(world, 3)
    assert world.run(
        lambda: all(
            world.connected(n, *ids)() for n, ids in ((a, (2, 3)), (b, (1, 3)), (c, (1, 2)))
        ),
        max_time=10,
    )
    pc = a.mp.get_peer(2)["connection"]
    a.mp.remove_peer(2)  # emits at once, from remove_peer
    assert a.events[-1] == ("disconnected", 2) and pc.get_connection_state() is PC.STATE_CLOSED
    assert world.run(lambda: not b.mp.has_peer(1), max_time=5)
    assert b.events[-1] == ("disconnected", 1) and b.mp.has_peer(3)
    # disconnect_peer: closed now, removed (with the signal) at the next poll()
    a.mp.disconnect_peer(3)
    assert a.mp.has_peer(3) and a.events[-1] == ("disconnected", 2)
    a.mp.poll()
    assert not a.mp.has_peer(3) and a.events[-1] == ("disconnected", 3)
    assert world.run(lambda: not c.mp.has_peer(1), max_time=5)
    # forced: removed silently
    b.mp.disconnect_peer(3, True)
    assert not b.mp.has_peer(3) and b.events[-1] == ("disconnected", 1)
    assert world.run(lambda: not c.mp.has_peer(2), max_time=5)
    assert c.events[-1] == ("disconnected", 2)
    assert [s.mp.get_connection_status() for s in (a, b, c)] == [CONNECTED] * 3


def test_client_failing_before_connecting_becomes_disconnected() -> None:
    """D3: Godot leaves such a client CONNECTING forever; we report DISCONNECTED."""
    world = World()
    server, client = server_and_clients(world, 5)
    world.network.partition(server.host, client.host)  # ICE checks never get through
    pc_s, pc_c = world.link(server, client)
    # ICE may only fail once the remote's candidates are complete (RFC 8838 §8); the demo's
    # protocol cannot say so, the API can: an empty candidate is end-of-candidates.
    complete = PC.GATHERING_STATE_COMPLETE
    assert world.run(
        lambda: pc_s.get_gathering_state() is complete and pc_c.get_gathering_state() is complete
    )
    assert pc_s.add_ice_candidate("", 0, "") == Error.OK
    assert pc_c.add_ice_candidate("", 0, "") == Error.OK
    assert world.run(lambda: client.mp.get_connection_status() is DISCONNECTED, max_time=120)
    assert not client.mp.has_peer(1) and client.events == []  # never connected: no signal
    assert pc_c.get_connection_state() is PC.STATE_CLOSED  # removed, hence closed (D2)
    assert world.run(lambda: not server.mp.has_peer(5), max_time=120)
    assert server.events == [] and server.mp.get_connection_status() is CONNECTED


def test_client_connection_closed_early_and_remove_peer_before_connecting() -> None:
    world = World()
    _, client = server_and_clients(world, 5)
    pc = world.connection(client)
    assert client.mp.add_peer(pc, 1) == Error.OK
    pc.close()
    client.mp.poll()
    assert client.mp.get_connection_status() is DISCONNECTED and client.events == []
    assert client.mp.create_client(6) == Error.OK
    assert client.mp.add_peer(world.connection(client), 1) == Error.OK
    client.mp.remove_peer(1)  # e.g. the demo's PEER_DISCONNECT before the link came up
    assert client.mp.get_connection_status() is DISCONNECTED and client.events == []


def test_signal_handlers_may_change_the_peer() -> None:
    world = World()
    server, a, b = server_and_clients(world, 2, 3)
    world.link(server, a)
    world.link(server, b)
    calls: list[int] = []

    def on_connected(pid: int) -> None:  # a handler that closes everything
        calls.append(pid)
        server.mp.close()

    server.mp.peer_connected.connect(on_connected)
    assert world.run(lambda: bool(calls), max_time=5)
    world.frames(5)
    assert len(calls) == 1 and server.mp.get_peers() == {}
    assert server.mp.get_connection_status() is DISCONNECTED


def test_connection_signal_handlers_may_remove_peers_during_poll() -> None:
    world = World()
    a, b, _ = mesh(world, 3)
    pc_ab = a.mp.get_peer(2)["connection"]
    pc_ac = a.mp.get_peer(3)["connection"]
    # both of a's connections answer offers from inside a.mp.poll(); the first handler drops
    # every peer (the second connection must then not be touched) and polls again
    pc_ab.session_description_created.connect(lambda *_: (a.mp.close(), a.mp.poll()))
    pc_ac.session_description_created.connect(lambda *_: a.mp.remove_peer(3))
    world.run(lambda: pc_ab.get_connection_state() is PC.STATE_CLOSED, max_time=2)
    assert a.mp.get_peers() == {} and a.events == []
    assert pc_ac.get_connection_state() is PC.STATE_CLOSED  # closed by close() (D2)
    assert world.run(world.connected(b, 3), max_time=5)  # the others carry on


def test_packets_surface_only_once_the_peer_is_connected_here() -> None:
    world = World()
    server, client = server_and_clients(world, 4)
    world.link(server, client)
    world.held.add(id(server))  # the server's connections run, its multiplayer peer does not
    assert world.run(lambda: client.mp.get_connection_status() is CONNECTED, max_time=5)
    client.mp.put_var({"hp": 3, "name": "ü"})
    channel = server.mp.get_peer(4)["channels"][0]
    assert world.run(lambda: channel.get_available_packet_count() == 1, max_time=2)
    assert not server.mp.get_peer(4)["connected"]
    assert server.mp.get_available_packet_count() == 0 and server.mp.get_packet_peer() == 0
    world.held.clear()
    server.mp.poll()
    assert server.events == [("connected", 4)]
    assert server.mp.get_available_packet_count() == 1 and server.mp.get_packet_peer() == 4
    assert server.mp.get_var() == {"hp": 3, "name": "ü"}
    assert server.mp.get_packet_error() == Error.OK
    client.mp.put_packet(b"\x01not a variant")
    assert world.run(lambda: server.mp.get_available_packet_count() == 1, max_time=2)
    assert server.mp.get_var() is None and server.mp.get_packet_error() == Error.ERR_INVALID_DATA


def test_forced_disconnect_of_the_next_sender_costs_one_unavailable_read() -> None:
    """Godot's cursor is not moved by disconnect_peer(id, true): the next read finds the peer
    gone, answers ERR_UNAVAILABLE and moves on."""
    world = World()
    server, a, b = server_and_clients(world, 2, 3)
    world.link(server, a)
    world.link(server, b)
    assert world.run(world.connected(server, 2, 3), max_time=5)
    assert world.run(lambda: b.mp.get_connection_status() is CONNECTED, max_time=5)
    assert world.run(lambda: a.mp.get_connection_status() is CONNECTED, max_time=5)
    a.mp.put_packet(b"from 2")
    b.mp.put_packet(b"from 3")
    assert world.run(lambda: server.mp.get_available_packet_count() == 2, max_time=2)
    assert server.mp.get_packet_peer() == 2
    server.mp.disconnect_peer(2, True)
    assert server.events == [("connected", 2), ("connected", 3)]  # no signal
    assert server.mp.get_packet_peer() == 2 and server.mp.get_available_packet_count() == 1
    assert server.mp.get_packet() == b""
    assert server.mp.get_packet_error() == Error.ERR_UNAVAILABLE
    assert server.mp.get_packet_peer() == 3 and server.mp.get_packet() == b"from 3"
