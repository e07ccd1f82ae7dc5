"""SceneMultiplayer against a scripted MultiplayerPeer: relay rules, status signals, auth errors."""

from __future__ import annotations

from webrtc import ConnectionStatus, Error, TransferMode
from webrtc.scene import Drop, SceneMultiplayer
from webrtc.scene import protocol as p
from webrtc.testing import ScriptedMultiplayerPeer, VirtualClock

from .world import Recorder, events

ORDERED = TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED
RELIABLE = TransferMode.TRANSFER_MODE_RELIABLE


def server_with(*clients: int) -> tuple[ScriptedMultiplayerPeer, SceneMultiplayer, Recorder]:
    peer = ScriptedMultiplayerPeer(1)
    scene = SceneMultiplayer(peer)
    for pid in clients:
        peer.connect_peer(pid)
    recorder = Recorder(scene)
    scene.register_node("Main", recorder)
    peer.sent.clear()
    return peer, scene, recorder


def test_server_relays_with_the_mode_and_channel_it_arrived_on() -> None:
    peer, scene, recorder = server_with(2, 3, 4)
    call = p.encode_remote_call(2, (1.0,), path="Main")
    peer.inbox.append((2, 1, ORDERED, p.encode_sys(p.SysCommand.RELAY, 0, call)))  # to all
    peer.inbox.append(
        (
            2,
            2,
            TransferMode.TRANSFER_MODE_UNRELIABLE,
            p.encode_sys(p.SysCommand.RELAY, -3, b"\x03x"),
        )
    )
    peer.inbox.append(
        (2, 0, RELIABLE, p.encode_sys(p.SysCommand.RELAY, -1, b"\x03y"))
    )  # not the server
    assert scene.poll() == Error.OK
    out = p.encode_sys(p.SysCommand.RELAY, 2, call)
    assert peer.sent == [
        (3, ORDERED, 1, out),
        (4, ORDERED, 1, out),
        (4, 0, 2, p.encode_sys(p.SysCommand.RELAY, 2, b"\x03x")),
        (3, RELIABLE, 0, p.encode_sys(p.SysCommand.RELAY, 2, b"\x03y")),
        (4, RELIABLE, 0, p.encode_sys(p.SysCommand.RELAY, 2, b"\x03y")),
    ]
    assert recorder.calls == [("ping", 2, (1.0,))]  # broadcast: the server processes it too
    assert not scene.drop_counts


def test_relay_refused_when_disabled_or_from_a_client() -> None:
    peer, scene, _ = server_with(2)
    scene.server_relay = False
    peer.inbox.append((2, 0, RELIABLE, p.encode_sys(p.SysCommand.RELAY, 0, b"\x03x")))
    scene.poll()
    assert scene.drop_counts == {Drop.SYS_REFUSED: 1} and peer.sent == []
    client = ScriptedMultiplayerPeer(2)
    cscene = SceneMultiplayer(client)
    client.connect_peer(1)
    client.connect_peer(5)  # not through the server: a direct connection in the transport
    client.inbox.append((5, 0, RELIABLE, p.encode_sys(p.SysCommand.RELAY, 1, b"\x03x")))
    client.inbox.append((5, 0, RELIABLE, p.encode_sys(p.SysCommand.ADD_PEER, 7)))
    cscene.poll()
    assert cscene.drop_counts == {Drop.SYS_REFUSED: 2}
    assert 7 not in cscene.get_peers()


def test_client_sends_through_the_server_unless_relay_is_off() -> None:
    client = ScriptedMultiplayerPeer(2)
    scene = SceneMultiplayer(client)
    client.connect_peer(1)
    client.inbox.append((1, 0, RELIABLE, p.encode_sys(p.SysCommand.ADD_PEER, 3)))
    scene.poll()
    assert scene.get_peers() == [1, 3]
    assert scene.send_bytes(b"hi", 3, ORDERED, 0) == Error.OK
    assert client.sent[-1] == (1, ORDERED, 0, p.encode_sys(p.SysCommand.RELAY, 3, b"\x03hi"))
    assert scene.send_bytes(b"all") == Error.OK
    assert client.sent[-1] == (1, RELIABLE, 0, p.encode_sys(p.SysCommand.RELAY, 0, b"\x03all"))
    client.inbox.append((1, 0, RELIABLE, p.encode_sys(p.SysCommand.DEL_PEER, 3)))
    log = events(scene)
    scene.poll()
    assert log == [("peer_disconnected", (3,))]
    mesh = ScriptedMultiplayerPeer(2, relay=False)  # mesh: no relay, straight to the peer
    mscene = SceneMultiplayer(mesh)
    mesh.connect_peer(3)
    assert mscene.send_bytes(b"m", 3) == Error.OK
    assert mesh.sent[-1] == (3, RELIABLE, 0, b"\x03m")
    assert mscene.send_bytes(b"m", 9) == Error.ERR_BUG  # not connected


def test_status_signals() -> None:
    client = ScriptedMultiplayerPeer(2)
    client.status = ConnectionStatus.CONNECTION_CONNECTING
    scene = SceneMultiplayer(client)
    log = events(scene)
    client.status = ConnectionStatus.CONNECTION_DISCONNECTED
    scene.poll()
    assert log == [("connection_failed", ())]
    client2 = ScriptedMultiplayerPeer(2)
    scene2 = SceneMultiplayer(client2)
    client2.connect_peer(1)
    log2 = events(scene2)
    client2.status = ConnectionStatus.CONNECTION_DISCONNECTED
    scene2.poll()
    assert log2 == [("server_disconnected", ())] and scene2.get_peers() == []
    dead = ScriptedMultiplayerPeer(3)
    dead.status = ConnectionStatus.CONNECTION_DISCONNECTED
    scene3 = SceneMultiplayer()
    offline = scene3.get_multiplayer_peer()
    scene3.set_multiplayer_peer(dead)  # refused: must be connecting or connected
    assert scene3.get_multiplayer_peer() is offline


def test_auth_api_errors_and_timeout_with_an_injected_clock() -> None:
    clock = VirtualClock()
    peer = ScriptedMultiplayerPeer(1)
    scene = SceneMultiplayer(peer, clock=clock)
    got: list[tuple[int, bytes]] = []
    scene.auth_callback = lambda pid, data: got.append((pid, data))
    log = events(scene)
    peer.connect_peer(2)
    assert scene.get_authenticating_peers() == [2]
    assert scene.send_auth(9, b"x") == Error.ERR_INVALID_PARAMETER
    assert scene.send_auth(2, b"") == Error.ERR_INVALID_PARAMETER
    assert scene.send_auth(2, b"challenge") == Error.OK
    assert peer.sent[-1] == (2, RELIABLE, 0, b"\x07\x00challenge")
    peer.inbox.append((2, 0, RELIABLE, b"\x07\x00answer"))
    peer.inbox.append((2, 0, RELIABLE, b"\x07\x00"))  # the peer is done
    scene.poll()
    assert got == [(2, b"answer")]
    assert scene.send_auth(2, b"more") == Error.ERR_FILE_CANT_WRITE  # remote said complete
    assert scene.complete_auth(2) == Error.OK
    assert scene.complete_auth(2) == Error.ERR_INVALID_PARAMETER
    assert log == [("peer_authenticating", (2,)), ("peer_connected", (2,))]
    peer.connect_peer(3)  # this one never completes
    scene.set_auth_timeout(-1)  # refused
    assert scene.auth_timeout == 3.0
    clock.advance_to(2.999)
    scene.poll()
    assert scene.get_authenticating_peers() == [3]
    clock.advance_to(3.0)
    scene.poll()
    assert peer.disconnected == [3] and log[-1] == ("peer_authentication_failed", (3,))
    scene.auth_timeout = 0  # no limit
    peer.connect_peer(4)
    clock.advance_to(1000)
    scene.poll()
    assert scene.get_authenticating_peers() == [4]


def test_disconnect_peer_is_silent_and_closes_it() -> None:
    peer, scene, _ = server_with(2, 3)
    log = events(scene)
    scene.disconnect_peer(2)
    assert scene.get_peers() == [3] and log == [] and peer.disconnected == [2]
    assert peer.sent == [(3, RELIABLE, 0, p.encode_sys(p.SysCommand.DEL_PEER, 2))]


def test_simplify_path_is_answered_and_bounded() -> None:
    peer, scene, recorder = server_with(2)
    md5 = scene.get_rpc_md5("Main")
    peer.inbox.append((2, 0, RELIABLE, p.encode_simplify_path(md5, 7, "Main")))
    peer.inbox.append((2, 0, RELIABLE, p.encode_simplify_path("0" * 32, 8, "/root/Main")))
    peer.inbox.append((2, 0, RELIABLE, p.encode_simplify_path(md5, 7, "Main")))  # duplicate id
    peer.inbox.append((2, 0, RELIABLE, p.encode_remote_call(2, (0.5,), cache_id=8)))
    scene.poll()
    assert peer.sent == [
        (2, RELIABLE, 0, p.encode_confirm_path(True, 7)),
        (2, RELIABLE, 0, p.encode_confirm_path(False, 8)),  # checksum mismatch: still cached
    ]
    assert scene.drop_counts == {Drop.CACHE_REFUSED: 1}
    assert recorder.calls == [("ping", 2, (0.5,))]
    scene._cache.max_received = 3
    for i in range(10, 20):
        peer.inbox.append((2, 0, RELIABLE, p.encode_simplify_path(md5, i, "Main")))
    scene.poll()
    assert scene.drop_counts[Drop.CACHE_REFUSED] == 1 + 9


def test_handler_exceptions_are_counted_not_raised() -> None:
    peer, scene, _ = server_with(2)

    def boom(x: object) -> None:
        raise RuntimeError("bad argument")

    scene.register_rpc("Other", "boom", boom, "any_peer")
    peer.inbox.append((2, 0, RELIABLE, p.encode_remote_call(0, ("x",), path="Other")))
    assert scene.poll() == Error.OK
    assert scene.drop_counts == {Drop.HANDLER_ERROR: 1}


def test_path_cache_bounds_per_peer_and_in_total() -> None:
    from webrtc.scene.cache import PathCache

    cache = PathCache(max_received=2, max_total=3)
    for peer in (2, 3):
        cache.add_peer(peer)
    assert [cache.receive(2, i, "Main") for i in (1, 2, 3)] == [True, True, False]
    assert [cache.receive(3, i, "Main") for i in (1, 2)] == [True, False]  # total reached
    cache.remove_peer(2)
    assert cache.receive(3, 2, "Main") and cache.lookup(3, 2) == "Main"
    assert cache.lookup(2, 1) is None and not cache.receive(9, 1, "Main")  # unknown peer


def test_checksum_mismatch_log_lines_are_capped(caplog: object) -> None:
    import logging

    peer, scene, _ = server_with(2)
    for i in range(50):
        peer.inbox.append((2, 0, RELIABLE, p.encode_simplify_path("f" * 32, i + 1, "Main")))
    with caplog.at_level(logging.ERROR, logger="webrtc.scene.multiplayer"):  # type: ignore[attr-defined]
        scene.poll()
    assert len(caplog.records) == 10  # type: ignore[attr-defined]
    assert len(peer.sent) == 50  # every announcement is still confirmed (as invalid)


# -- Godot's own SceneMultiplayer tests (modules/multiplayer/tests/test_scene_multiplayer.h) -------


def test_godot_defaults() -> None:
    scene = SceneMultiplayer()
    from webrtc.scene import OfflineMultiplayerPeer

    assert isinstance(scene.get_multiplayer_peer(), OfflineMultiplayerPeer)
    assert scene.poll() == Error.OK
    assert scene.get_unique_id() == 1 and scene.is_server()
    assert scene.get_peers() == [] and scene.get_remote_sender_id() == 0
    assert scene.server_relay


def test_godot_send_and_complete_authentication() -> None:
    scene = SceneMultiplayer()
    scene.auth_callback = lambda pid, data: None
    log = events(scene)
    peer = scene.get_multiplayer_peer()
    assert peer is not None
    peer.peer_connected.emit(42)
    assert log == [("peer_authenticating", (42,))]
    assert scene.send_auth(42, b"It's me") == Error.OK
    assert scene.get_authenticating_peers() == [42]
    assert scene.complete_auth(42) == Error.OK
    assert scene.send_auth(42, b"It's me") == Error.ERR_FILE_CANT_WRITE
    assert scene.complete_auth(42) == Error.ERR_FILE_CANT_WRITE
    assert scene.send_auth(43, b"It's me") == Error.ERR_INVALID_PARAMETER
    assert scene.complete_auth(43) == Error.ERR_INVALID_PARAMETER
    peer.peer_disconnected.emit(42)  # deleted before the peer completed: failed
    assert log[-1] == ("peer_authentication_failed", (42,))
    clock = VirtualClock()
    timed = SceneMultiplayer(clock=clock)
    timed.auth_callback = lambda pid, data: None
    timed.auth_timeout = 0.01
    timed_log = events(timed)
    offline = timed.get_multiplayer_peer()
    assert offline is not None
    offline.peer_connected.emit(42)
    offline.peer_connected.emit(84)
    clock.advance_to(0.5)
    assert timed.poll() == Error.OK
    assert timed_log[-2:] == [
        ("peer_authentication_failed", (42,)),
        ("peer_authentication_failed", (84,)),
    ]
    timed.set_multiplayer_peer(None)
    assert timed.send_auth(42, b"") == Error.ERR_UNCONFIGURED
    assert timed.complete_auth(42) == Error.ERR_UNCONFIGURED


def test_offline_rpc_call_local() -> None:
    scene = SceneMultiplayer()
    recorder = Recorder(scene)
    scene.register_node("Main", recorder)
    assert scene.rpc("Main", "ping", 0.5) == Error.OK  # no peers: only the local call
    assert scene.rpc("Main", "blob", b"x") == Error.OK  # not call_local: nothing happens
    assert recorder.calls == [("ping", 1, (0.5,))]


def test_disabled_and_native_methods() -> None:
    from webrtc.scene import RPCConfig, RPCMode

    peer, scene, _ = server_with(2)
    called: list[str] = []
    scene.register_rpc(
        "N", "off", lambda: called.append("off"), RPCConfig(RPCMode.RPC_MODE_DISABLED)
    )
    scene.register_rpc("N", "nat", lambda: called.append("nat"), "any_peer", native=True)
    peer.inbox.append((2, 0, RELIABLE, p.encode_remote_call(0, (), path="N")))  # "off": disabled
    peer.inbox.append((2, 0, RELIABLE, p.encode_remote_call(0x8000, (), path="N")))  # native id
    scene.poll()
    assert called == ["nat"] and scene.drop_counts == {Drop.RPC_REFUSED: 1}


def test_unregistered_node_gets_a_new_cache_id_and_refuse_passes_through() -> None:
    peer, scene, recorder = server_with(2)
    assert scene.rpc("Main", "ping", 0.5) == Error.OK
    assert peer.sent[0][3] == p.encode_simplify_path(scene.get_rpc_md5("Main"), 1, "Main")
    scene.unregister_node("Main")
    assert scene.rpc("Main", "ping", 0.5) == Error.ERR_INVALID_PARAMETER
    scene.register_node("Main", recorder)
    peer.sent.clear()
    assert scene.rpc("Main", "ping", 0.5) == Error.OK
    assert peer.sent[0][3] == p.encode_simplify_path(scene.get_rpc_md5("Main"), 2, "Main")
    scene.refuse_new_connections = True
    assert peer.is_refusing_new_connections() and scene.refuse_new_connections
