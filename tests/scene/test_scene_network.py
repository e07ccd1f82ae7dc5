"""A server and two clients (SceneMultiplayer on WebRTCMultiplayerPeer) on the simulated network:
relay, RPCs, raw bytes, authentication, leaving, and malformed packets from a peer."""

from __future__ import annotations

from webrtc import Error, TransferMode
from webrtc.scene import Drop, SceneMultiplayer
from webrtc.scene import protocol as p

from .world import Recorder, SceneWorld, events

RELIABLE = int(TransferMode.TRANSFER_MODE_RELIABLE)
ORDERED = int(TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED)


def three(
    world: SceneWorld,
) -> tuple[list[SceneMultiplayer], list[Recorder], list[list[tuple[str, tuple[object, ...]]]]]:
    """Server 1 and clients 2, 3, each with a node "Main" (a Recorder), all admitted."""
    nodes, scenes = [], []
    for pid in (1, 2, 3):
        node, scene = world.scene_node(pid)
        nodes.append(node)
        scenes.append(scene)
    log = [events(s) for s in scenes]
    world.link(nodes[0], nodes[1])
    world.link(nodes[0], nodes[2])
    server, a, b = scenes
    assert world.run(
        lambda: (
            sorted(server.get_peers()) == [2, 3]
            and sorted(a.get_peers()) == [1, 3]
            and sorted(b.get_peers()) == [1, 2]
        ),
        max_time=10,
    )
    recorders = [Recorder(s) for s in scenes]
    for scene, recorder in zip(scenes, recorders, strict=True):
        scene.register_node("Main", recorder)
    return scenes, recorders, log


def test_admission_announces_peers_both_ways() -> None:
    world = SceneWorld()
    (server, a, b), _, log = three(world)
    assert log[0] == [("peer_connected", (2,)), ("peer_connected", (3,))]
    assert log[1] == [
        ("connected_to_server", ()),
        ("peer_connected", (1,)),
        ("peer_connected", (3,)),
    ]
    assert log[2] == [
        ("connected_to_server", ()),
        ("peer_connected", (1,)),
        ("peer_connected", (2,)),
    ]
    # SM _admit_peer: 07 01 <new> to the connected peer, 07 01 <old> to the new one (reliable, ch 0)
    sent = [(t, m, c, d) for t, m, c, d in world.sent[0] if d[0] == 7]
    new, old = sorted(
        server.get_peers(), key=lambda pid: server.get_peers().index(pid), reverse=True
    )
    assert (old, RELIABLE, 0, p.encode_sys(p.SysCommand.ADD_PEER, new)) in sent
    assert (new, RELIABLE, 0, p.encode_sys(p.SysCommand.ADD_PEER, old)) in sent
    assert all(not s.drop_counts for s in (server, a, b))


def test_rpc_to_all_through_relay_then_by_cached_id() -> None:
    world = SceneWorld()
    (server, a, b), (rs, ra, rb), _ = three(world)
    assert a.rpc("Main", "ping", 1.5) == Error.OK
    world.settle()
    for recorder in (rs, ra, rb):  # call_local included; the sender is 2 everywhere
        assert recorder.calls == [("ping", 2, (1.5,))]
    # first call: SIMPLIFY_PATH to each target, the call by path; to 3 wrapped in RELAY
    to_server = [d for t, _, _, d in world.sent[1] if t == 1]
    md5 = server.get_rpc_md5("Main")
    assert to_server[-4:] == [
        p.encode_simplify_path(md5, 1, "Main"),
        p.encode_sys(p.SysCommand.RELAY, 3, p.encode_simplify_path(md5, 1, "Main")),
        p.encode_remote_call(2, (1.5,), path="Main"),
        p.encode_sys(p.SysCommand.RELAY, 3, p.encode_remote_call(2, (1.5,), path="Main")),
    ]
    # both confirmed by now: the next call names the node by its one-byte cache id
    assert a.rpc("Main", "ping", 2.5) == Error.OK
    world.settle()
    assert rb.calls[-1] == ("ping", 2, (2.5,))
    assert [d for t, _, _, d in world.sent[1][-2:]] == [
        p.encode_remote_call(2, (2.5,), cache_id=1),
        p.encode_sys(p.SysCommand.RELAY, 3, p.encode_remote_call(2, (2.5,), cache_id=1)),
    ]
    assert all(not s.drop_counts for s in (server, a, b))


def test_rpc_id_to_one_peer_and_to_all_but_one() -> None:
    world = SceneWorld()
    (server, a, b), (rs, ra, rb), _ = three(world)
    assert a.rpc_id(3, "Main", "ping", 7.0) == Error.OK  # one peer, through the server
    world.settle()
    assert rb.calls == [("ping", 2, (7.0,))] and rs.calls == [] and ra.calls == []
    assert server.rpc_id(-2, "Main", "ping", 0.25) == Error.OK  # all but 2 (and locally)
    world.settle()
    assert rb.calls[-1] == ("ping", 1, (0.25,))
    assert rs.calls == [("ping", 1, (0.25,))]
    assert ra.calls == []
    assert b.rpc_id(-1, "Main", "ping", 0.5) == Error.OK  # a client to all but the server
    world.settle()
    assert ra.calls == [("ping", 3, (0.5,))] and rs.calls == [("ping", 1, (0.25,))]
    assert rb.calls[-1] == ("ping", 3, (0.5,))  # call_local: -1 is not the caller


def test_call_local_and_rpc_to_self() -> None:
    world = SceneWorld()
    (_server, a, _), (rs, ra, _), _ = three(world)
    assert a.rpc_id(2, "Main", "ping", 3.0) == Error.OK  # to yourself, allowed by call_local
    assert ra.calls == [("ping", 2, (3.0,))]
    assert a.rpc_id(2, "Main", "blob", b"x") == Error.ERR_INVALID_PARAMETER  # not call_local
    assert a.rpc("Main", "nope") == Error.ERR_INVALID_PARAMETER
    assert a.rpc("Elsewhere", "ping", 1.0) == Error.ERR_INVALID_PARAMETER
    assert a.rpc_id(9, "Main", "ping", 1.0) == Error.ERR_INVALID_PARAMETER  # unknown peer
    assert a.rpc("Main", "ping", object()) == Error.ERR_INVALID_PARAMETER  # not encodable
    world.settle()
    assert rs.calls == []


def test_authority_refused_from_a_non_authority_sender() -> None:
    world = SceneWorld()
    (server, a, _b), (rs, ra, rb), _ = three(world)
    assert a.rpc_id(1, "Main", "server_only", 5) == Error.OK  # sent, but 2 is not the authority
    world.settle()
    assert rs.calls == []
    assert server.drop_counts == {Drop.RPC_REFUSED: 1}
    assert server.rpc("Main", "server_only", 6) == Error.OK  # from the authority: accepted
    world.settle()
    assert ra.calls == [("server_only", 1, (6,))] and rb.calls == [("server_only", 1, (6,))]
    assert sorted(server.get_peers()) == [2, 3]  # the peer stays


def test_custom_channel_and_raw_argument() -> None:
    world = SceneWorld(channels=[RELIABLE])  # a custom channel 1, as Godot's channels_config
    (_server, a, _b), (_rs, _ra, rb), _ = three(world)
    assert a.rpc_id(3, "Main", "move", 4, -300) == Error.OK  # @rpc(..., "reliable", 1)
    assert a.rpc_id(3, "Main", "blob", b"\x00\xff") == Error.OK  # raw form
    world.settle()
    # channel 0 drains before channel 1 (receive order, MULTIPLAYER.md §6.2)
    assert rb.calls == [("blob", 2, (b"\x00\xff",)), ("move", 2, (4, -300))]
    relayed = [(t, m, c) for t, m, c, d in world.sent[0] if d[:2] == b"\x07\x03" and d[6] & 7 == 0]
    assert (3, RELIABLE, 1) in relayed  # the server forwards on the channel it arrived on


def test_raw_bytes_both_ways() -> None:
    world = SceneWorld()
    (server, a, b), _, log = three(world)
    assert a.send_bytes(b"abc") == Error.OK  # to all: server direct, 3 through relay
    assert server.send_bytes(b"to3", 3) == Error.OK
    assert b.send_bytes(b"to2", 2) == Error.OK
    world.settle()
    assert ("peer_packet", (2, b"abc")) in log[0]
    assert [e for e in log[2] if e[0] == "peer_packet"] == [
        ("peer_packet", (2, b"abc")),
        ("peer_packet", (1, b"to3")),
    ] or [e for e in log[2] if e[0] == "peer_packet"] == [
        ("peer_packet", (1, b"to3")),
        ("peer_packet", (2, b"abc")),
    ]
    assert [e for e in log[1] if e[0] == "peer_packet"] == [("peer_packet", (3, b"to2"))]
    assert a.send_bytes(b"") == Error.ERR_INVALID_DATA


def test_client_leaving_reaches_the_other_client() -> None:
    world = SceneWorld()
    (_server, a, _b), _, log = three(world)
    world.nodes[2].mp.close()  # client 3 leaves
    assert world.run(lambda: 3 not in a.get_peers(), max_time=10)
    assert ("peer_disconnected", (3,)) in log[0]
    assert log[1][-1] == ("peer_disconnected", (3,))
    assert (2, RELIABLE, 0, p.encode_sys(p.SysCommand.DEL_PEER, 3)) in world.sent[0]
    assert a.rpc_id(3, "Main", "ping", 1.0) == Error.ERR_INVALID_PARAMETER


def test_server_leaving_disconnects_clients() -> None:
    world = SceneWorld()
    (_server, a, _b), _, log = three(world)
    world.nodes[0].mp.close()
    assert world.run(lambda: ("server_disconnected", ()) in log[1], max_time=10)
    assert a.get_peers() == []


def _auth_world(
    client_answers: bool,
) -> tuple[
    SceneWorld,
    list[SceneMultiplayer],
    list[list[tuple[str, tuple[object, ...]]]],
    list[tuple[int, bytes]],
]:
    world = SceneWorld()
    server_node, server = world.scene_node(1)
    client_node, client = world.scene_node(2)
    got: list[tuple[int, bytes]] = []

    def server_auth(pid: int, data: bytes) -> None:
        got.append((pid, data))
        if data == b"secret":
            assert server.complete_auth(pid) == Error.OK

    def client_auth(pid: int, data: bytes) -> None:
        got.append((pid, data))
        if client_answers:
            assert client.send_auth(pid, b"secret") == Error.OK
            assert client.complete_auth(pid) == Error.OK

    server.auth_callback = server_auth
    client.auth_callback = client_auth
    server.peer_authenticating.connect(lambda pid: server.send_auth(pid, b"password?"))
    log = [events(server), events(client)]
    world.link(server_node, client_node)
    return world, [server, client], log, got


def test_auth_success() -> None:
    world, (server, client), log, got = _auth_world(client_answers=True)
    assert world.run(lambda: server.get_peers() == [2] and client.get_peers() == [1], max_time=10)
    assert got == [(1, b"password?"), (2, b"secret")]
    assert log[0] == [("peer_authenticating", (2,)), ("peer_connected", (2,))]
    assert log[1] == [
        ("peer_authenticating", (1,)),
        ("connected_to_server", ()),
        ("peer_connected", (1,)),
    ]
    assert (2, RELIABLE, 0, p.encode_auth()) in world.sent[0]  # `07 00`: complete
    assert (1, RELIABLE, 0, p.encode_auth(b"secret")) in world.sent[1]
    assert server.complete_auth(2) == Error.ERR_INVALID_PARAMETER  # no longer pending
    assert not server.drop_counts and not client.drop_counts


def test_auth_timeout() -> None:
    world, (server, client), log, _got = _auth_world(client_answers=False)
    assert world.run(lambda: server.get_authenticating_peers() == [2], max_time=10)
    start = world.clock.now
    assert world.run(lambda: ("peer_authentication_failed", (2,)) in log[0], max_time=10)
    assert 3.0 <= world.clock.now - start <= 3.0 + 0.1
    assert server.get_peers() == [] and ("peer_connected", (2,)) not in log[0]
    assert world.run(lambda: ("peer_authentication_failed", (1,)) in log[1], max_time=10)
    assert client.get_peers() == []


def test_auth_refuses_other_packets_while_pending() -> None:
    world, (server, client), log, _ = _auth_world(client_answers=False)
    client.auth_callback = None  # a client that does not authenticate: it admits the server
    assert world.run(
        lambda: server.get_authenticating_peers() == [2] and client.get_peers() == [1],
        max_time=10,
    )
    mp = world.nodes[1].mp
    mp.set_target_peer(1)
    assert mp.put_packet(p.encode_raw(b"let me in")) == Error.OK
    world.settle(5)
    assert server.drop_counts.get(Drop.AUTH_EXPECTED) == 1
    assert not [e for e in log[0] if e[0] == "peer_packet"]


def test_malformed_packets_are_dropped_and_counted_the_peer_stays() -> None:
    world = SceneWorld()
    (server, a, _b), (rs, _, _), _ = three(world)
    mp = world.nodes[1].mp  # client 2's transport, bypassing its SceneMultiplayer
    mp.set_target_peer(1)
    garbage = {
        Drop.MALFORMED: [b"\x07", b"\x07\x09\x00\x00\x00\x00", b"\x03", b"\x30", b"\x07\x00xx"],
        Drop.UNKNOWN_CACHE_ID: [p.encode_remote_call(0, (), cache_id=5)],
        Drop.UNKNOWN_NODE: [p.encode_remote_call(0, (), path="Nowhere")],
        Drop.UNKNOWN_METHOD: [p.encode_remote_call(200, (), path="Main")],
        Drop.ARGUMENT_COUNT: [p.encode_remote_call(2, (1.0, 2.0), path="Main")],
        Drop.REPLICATION: [b"\x04\x01\x02", b"\x05\x01", b"\x06\x00"],
        Drop.SYS_REFUSED: [p.encode_sys(p.SysCommand.ADD_PEER, 9)],
        Drop.CONFIRM_REFUSED: [p.encode_confirm_path(True, 77)],
        Drop.RELAY_TARGET: [p.encode_sys(p.SysCommand.RELAY, 9, b"\x03x")],
    }
    for packets in garbage.values():
        for packet in packets:
            assert mp.put_packet(packet) == Error.OK
    world.settle()
    assert server.drop_counts == {reason: len(packets) for reason, packets in garbage.items()}
    assert sorted(server.get_peers()) == [2, 3]
    assert a.rpc_id(1, "Main", "ping", 9.0) == Error.OK  # the peer still works
    world.settle()
    assert rs.calls == [("ping", 2, (9.0,))]


def test_client_refuses_relay_and_peers_not_from_the_server() -> None:
    world = SceneWorld()
    (_server, a, _b), (_, ra, _), _ = three(world)
    # what the server relays from a peer it never announced is dropped by the client
    world.nodes[0].mp.set_target_peer(2)
    inner = p.encode_remote_call(2, (1.0,), path="Main")
    assert world.nodes[0].mp.put_packet(p.encode_sys(p.SysCommand.RELAY, 42, inner)) == Error.OK
    world.settle()
    assert a.drop_counts == {Drop.UNKNOWN_PEER: 1} and ra.calls == []


def test_mesh_calls_go_straight_to_each_peer() -> None:
    world = SceneWorld()
    made = [world.scene_node(pid, mesh=True) for pid in (1, 2, 3)]
    nodes = [n for n, _ in made]
    scenes = [s for _, s in made]
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            world.link(a, b)
    assert world.run(lambda: all(len(s.get_peers()) == 2 for s in scenes), max_time=10)
    recorders = [Recorder(s) for s in scenes]
    for scene, recorder in zip(scenes, recorders, strict=True):
        scene.register_node("Main", recorder)
    assert scenes[2].rpc("Main", "ping", 0.75) == Error.OK
    assert scenes[1].send_bytes(b"m") == Error.OK
    world.settle()
    assert [r.calls for r in recorders] == [[("ping", 3, (0.75,))]] * 3
    # no relay in a mesh (is_server_relay_supported() is false): no SYS packet at all
    assert not [d for sent in world.sent for _, _, _, d in sent if d[0] & 7 == 7]
    assert all(not s.drop_counts for s in scenes)
