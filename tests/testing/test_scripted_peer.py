"""webrtc.testing.ScriptedMultiplayerPeer: the packets a test scripts, the sends it reads."""

from __future__ import annotations

from webrtc import ConnectionStatus, Error, TransferMode
from webrtc.scene import SceneMultiplayer
from webrtc.testing import ScriptedMultiplayerPeer

UNRELIABLE = TransferMode.TRANSFER_MODE_UNRELIABLE


def test_inbox_and_sent_follow_the_packet_peer_rules() -> None:
    peer = ScriptedMultiplayerPeer(2)
    assert peer.get_packet() == b"" and peer.get_packet_error() == Error.ERR_UNAVAILABLE
    peer.inbox.append((1, 3, UNRELIABLE, b"\x02\x00\x00\x00\x07\x00\x00\x00"))  # int 7
    assert (peer.get_packet_peer(), peer.get_packet_channel()) == (1, 3)
    assert peer.get_packet_mode() == UNRELIABLE
    assert peer.get_var() == 7 and peer.get_packet_error() == Error.OK
    peer.inbox.append((1, 0, UNRELIABLE, b"\xff"))
    assert peer.get_var() is None and peer.get_packet_error() == Error.ERR_INVALID_DATA
    peer.set_target_peer(1)
    peer.set_transfer_mode(UNRELIABLE)
    peer.set_transfer_channel(2)
    assert peer.put_var("hi") == Error.OK
    assert peer.sent == [(1, UNRELIABLE, 2, b"\x04\x00\x00\x00\x02\x00\x00\x00hi\x00\x00")]
    peer.close()
    assert peer.get_connection_status() == ConnectionStatus.CONNECTION_DISCONNECTED


def test_drives_a_scene_multiplayer_client() -> None:
    peer = ScriptedMultiplayerPeer(2)
    scene = SceneMultiplayer(peer)
    seen: list[int] = []
    scene.peer_connected.connect(seen.append)
    peer.connect_peer(1)
    assert scene.poll() == Error.OK
    assert seen == [1] and scene.get_peers() == [1] and not scene.is_server()
    assert scene.send_bytes(b"raw", 1) == Error.OK
    # NETWORK_COMMAND_RAW (3) + the bytes
    assert [(target, data) for target, _, _, data in peer.sent] == [(1, b"\x03raw")]
