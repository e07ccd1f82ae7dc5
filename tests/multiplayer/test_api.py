"""WebRTCMultiplayerPeer's surface without a network: MULTIPLAYER.md §1, §2, §3 tables."""

from __future__ import annotations

import logging
import random

import pytest

from webrtc import (
    ConnectionStatus,
    Error,
    TransferMode,
    WebRTCDataChannel,
    WebRTCMultiplayerPeer,
    WebRTCPeerConnection,
)
from webrtc.multiplayer import MultiplayerPeer

RELIABLE = TransferMode.TRANSFER_MODE_RELIABLE
ORDERED = TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED
UNRELIABLE = TransferMode.TRANSFER_MODE_UNRELIABLE
DISCONNECTED = ConnectionStatus.CONNECTION_DISCONNECTED
CONNECTING = ConnectionStatus.CONNECTION_CONNECTING
CONNECTED = ConnectionStatus.CONNECTION_CONNECTED


def channels(mp: WebRTCMultiplayerPeer, peer_id: int) -> list[WebRTCDataChannel]:
    return list(mp.get_peer(peer_id)["channels"])


def test_enums_and_constants_have_godots_values() -> None:
    assert [int(m) for m in TransferMode] == [0, 1, 2]
    assert [m.name for m in TransferMode] == [
        "TRANSFER_MODE_UNRELIABLE",
        "TRANSFER_MODE_UNRELIABLE_ORDERED",
        "TRANSFER_MODE_RELIABLE",
    ]
    assert [(m.name, int(m)) for m in ConnectionStatus] == [
        ("CONNECTION_DISCONNECTED", 0),
        ("CONNECTION_CONNECTING", 1),
        ("CONNECTION_CONNECTED", 2),
    ]
    cls = WebRTCMultiplayerPeer
    assert cls.TransferMode is TransferMode and cls.ConnectionStatus is ConnectionStatus
    assert cls.TRANSFER_MODE_UNRELIABLE_ORDERED is ORDERED
    assert cls.CONNECTION_CONNECTING is CONNECTING
    assert (cls.TARGET_PEER_BROADCAST, cls.TARGET_PEER_SERVER) == (0, 1)
    assert issubclass(cls, MultiplayerPeer)


def test_defaults_and_properties() -> None:
    mp = WebRTCMultiplayerPeer()
    assert mp.transfer_mode is RELIABLE and mp.get_transfer_mode() is RELIABLE
    assert mp.transfer_channel == 0 and mp.refuse_new_connections is False
    mp.transfer_mode = UNRELIABLE
    mp.set_transfer_channel(3)
    mp.refuse_new_connections = True
    assert mp.get_transfer_mode() is UNRELIABLE and mp.get_transfer_channel() == 3
    assert mp.is_refusing_new_connections()
    mp.set_transfer_mode("fast")  # type: ignore[arg-type]  # misuse: ignored, never raises
    assert mp.transfer_mode is UNRELIABLE
    assert mp.get_max_packet_size() == 1200
    assert mp.get_connection_status() is DISCONNECTED
    assert mp.peer_connected.name == "peer_connected"
    assert mp.peer_disconnected.name == "peer_disconnected"


def test_status_table() -> None:
    mp = WebRTCMultiplayerPeer()
    assert mp.get_unique_id() == 1  # DISCONNECTED: Godot prints an error and returns 1
    assert not mp.is_server() and not mp.is_server_relay_supported()
    assert mp.create_server() == Error.OK
    assert (mp.get_connection_status(), mp.get_unique_id(), mp.is_server()) == (CONNECTED, 1, True)
    assert mp.is_server_relay_supported()
    assert mp.create_client(7) == Error.OK
    assert (mp.get_connection_status(), mp.get_unique_id(), mp.is_server()) == (
        CONNECTING,
        7,
        False,
    )
    assert mp.is_server_relay_supported()
    assert mp.create_mesh(1) == Error.OK  # a mesh peer may be 1, and then is_server()
    assert (mp.get_connection_status(), mp.get_unique_id(), mp.is_server()) == (CONNECTED, 1, True)
    assert not mp.is_server_relay_supported()
    assert mp.create_mesh(2**31 - 1) == Error.OK
    mp.close()
    assert mp.get_connection_status() is DISCONNECTED and mp.get_unique_id() == 1
    assert not mp.is_server()  # unique_id is 0 after close()


@pytest.mark.parametrize("bad", [0, -1, 2**31, True, "2", None])
def test_create_rejects_bad_ids_and_changes_nothing(bad: object) -> None:
    mp = WebRTCMultiplayerPeer()
    assert mp.create_mesh(5) == Error.OK
    assert mp.create_mesh(bad) == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]
    assert mp.create_client(bad) == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]
    assert (mp.get_unique_id(), mp.get_connection_status()) == (5, CONNECTED)
    assert not mp.is_server_relay_supported()


def test_clients_cannot_have_id_1(caplog: pytest.LogCaptureFixture) -> None:
    mp = WebRTCMultiplayerPeer()
    with caplog.at_level(logging.ERROR, "webrtc.multiplayer"):
        assert mp.create_client(1) == Error.ERR_INVALID_PARAMETER
    assert "Clients cannot have ID 1." in caplog.text
    assert mp.get_connection_status() is DISCONNECTED


def test_channels_config_errors_keep_id_and_mode_but_not_the_config() -> None:
    mp = WebRTCMultiplayerPeer()
    assert mp.create_mesh(3, [RELIABLE, UNRELIABLE]) == Error.OK
    assert mp.add_peer(WebRTCPeerConnection(), 4) == Error.OK
    assert len(channels(mp, 4)) == 5
    # Godot clears the config first, then fails at the bad entry: one custom channel is left.
    assert mp.create_server([ORDERED, 7, RELIABLE]) == Error.ERR_INVALID_PARAMETER
    assert mp.create_server([ORDERED, "x"]) == Error.ERR_INVALID_PARAMETER
    assert mp.create_server([ORDERED, True]) == Error.ERR_INVALID_PARAMETER
    assert mp.create_server("nope") == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]
    assert (mp.get_unique_id(), mp.is_server_relay_supported()) == (3, False)  # still mesh 3
    assert mp.add_peer(WebRTCPeerConnection(), 5) == Error.OK
    assert [ch.get_id() for ch in channels(mp, 5)] == [1, 2, 3, 4]
    # create_* again keeps the peers already added (only close() clears)
    assert mp.create_mesh(9) == Error.OK
    assert list(mp.get_peers()) == [4, 5]


def test_channel_layout_of_section_3() -> None:
    mp = WebRTCMultiplayerPeer()
    assert mp.create_server([RELIABLE, ORDERED, UNRELIABLE]) == Error.OK
    pc = WebRTCPeerConnection()
    assert mp.add_peer(pc, 2, 7) == Error.OK
    chs = channels(mp, 2)
    table = [
        (
            ch.get_id(),
            ch.get_label(),
            ch.is_negotiated(),
            ch.is_ordered(),
            ch.get_max_packet_life_time(),
            ch.get_max_retransmits(),
            ch.write_mode,
        )
        for ch in chs
    ]
    binary = WebRTCDataChannel.WRITE_MODE_BINARY
    assert table == [
        (1, "reliable", True, True, 65535, 65535, binary),
        (2, "ordered", True, True, 7, 65535, binary),  # maxPacketLifetime = unreliable_lifetime
        (3, "unreliable", True, False, 7, 65535, binary),
        (4, "4", True, True, 65535, 65535, binary),  # custom channels: lifetime always 1
        (5, "5", True, True, 1, 65535, binary),
        (6, "6", True, False, 1, 65535, binary),
    ]
    peer = mp.get_peer(2)
    assert peer["connection"] is pc and peer["connected"] is False
    assert set(peer) == {"connection", "connected", "channels"}
    assert pc.get_connection_state() is WebRTCPeerConnection.STATE_NEW  # add_peer only adds


def test_lifetime_zero_is_accepted() -> None:
    mp = WebRTCMultiplayerPeer()
    assert mp.create_mesh(2) == Error.OK
    assert mp.add_peer(WebRTCPeerConnection(), 3, 0) == Error.OK
    assert [ch.get_max_packet_life_time() for ch in channels(mp, 3)] == [65535, 0, 0]


def _closed_connection() -> WebRTCPeerConnection:
    pc = WebRTCPeerConnection()
    pc.close()
    return pc


def test_add_peer_checks_in_order() -> None:
    mp = WebRTCMultiplayerPeer()
    pc = WebRTCPeerConnection
    # 1: unconfigured wins over everything else
    assert mp.add_peer(None, 0, -1) == Error.ERR_UNCONFIGURED
    # 2, 3, 4, 5 (ERR_INVALID_PARAMETER) come before 6 (ERR_UNAUTHORIZED)
    mp.refuse_new_connections = True
    assert mp.create_client(2) == Error.OK
    assert mp.add_peer(None, 3) == Error.ERR_INVALID_PARAMETER  # 2: a client adds only 1
    assert mp.create_server() == Error.OK
    assert mp.add_peer(None, 1) == Error.ERR_INVALID_PARAMETER  # 3: a server cannot add 1
    assert mp.create_mesh(2) == Error.OK
    assert mp.add_peer(None, 0) == Error.ERR_INVALID_PARAMETER  # 4
    assert mp.add_peer(None, 2**31) == Error.ERR_INVALID_PARAMETER  # 4
    assert mp.add_peer(None, 3, -1) == Error.ERR_INVALID_PARAMETER  # 5
    # 6 comes before 7 and 8
    assert mp.add_peer(None, 3) == Error.ERR_UNAUTHORIZED
    assert mp.add_peer(_closed_connection(), 3) == Error.ERR_UNAUTHORIZED
    mp.refuse_new_connections = False
    assert mp.add_peer(None, 3) == Error.ERR_INVALID_PARAMETER  # 7
    assert mp.add_peer("pc", 3) == Error.ERR_INVALID_PARAMETER  # 7 (not a connection at all)
    assert mp.add_peer(_closed_connection(), 3) == Error.ERR_INVALID_PARAMETER  # 8
    # 9: a channel cannot be created -> FAILED, earlier channels stay, the peer is not added
    taken = pc()
    assert taken.create_data_channel("mine", {"negotiated": True, "id": 2}) is not None
    assert mp.add_peer(taken, 3) == Error.FAILED
    assert not mp.has_peer(3) and mp.get_peers() == {}
    assert mp.add_peer(pc(), 2) == Error.OK  # not checked: a mesh peer may add its own id
    assert mp.add_peer(pc(), 3, 0) == Error.OK
    assert list(mp.get_peers()) == [2, 3]


def test_duplicate_id_replaces_silently_and_closes_the_old_connection() -> None:
    mp = WebRTCMultiplayerPeer()
    events: list[int] = []
    mp.peer_disconnected.connect(events.append)
    assert mp.create_mesh(1) == Error.OK
    first, second = WebRTCPeerConnection(), WebRTCPeerConnection()
    assert mp.add_peer(first, 2) == Error.OK
    assert mp.add_peer(WebRTCPeerConnection(), 3) == Error.OK
    assert mp.add_peer(second, 2) == Error.OK
    assert mp.get_peer(2)["connection"] is second
    assert list(mp.get_peers()) == [2, 3]  # the replaced entry keeps its place
    assert first.get_connection_state() is WebRTCPeerConnection.STATE_CLOSED  # D2
    assert events == []


def test_remove_close_and_disconnect_close_connections() -> None:
    """D2: a dropped connection is closed (Godot's reference counting does it)."""
    mp = WebRTCMultiplayerPeer()
    assert mp.create_mesh(1) == Error.OK
    pcs = {i: WebRTCPeerConnection() for i in (2, 3, 4, 5)}
    for i, pc in pcs.items():
        assert mp.add_peer(pc, i) == Error.OK
    closed = WebRTCPeerConnection.STATE_CLOSED
    mp.remove_peer(2)
    assert not mp.has_peer(2) and pcs[2].get_connection_state() is closed
    mp.disconnect_peer(3)  # closes; the next poll() removes it
    assert mp.has_peer(3) and pcs[3].get_connection_state() is closed
    mp.poll()
    assert not mp.has_peer(3)
    mp.disconnect_peer(4, True)  # removed at once
    assert not mp.has_peer(4) and pcs[4].get_connection_state() is closed
    mp.close()
    assert mp.get_peers() == {} and pcs[5].get_connection_state() is closed


def test_unknown_peers_are_errors_not_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    mp = WebRTCMultiplayerPeer()
    assert mp.create_mesh(1) == Error.OK
    huge = "x" * 10_000
    with caplog.at_level(logging.ERROR, "webrtc.multiplayer"):
        mp.remove_peer(9)
        mp.disconnect_peer(9)
        mp.disconnect_peer(9, True)
        assert mp.get_peer(9) == {}
        assert mp.get_peer(huge) == {}  # type: ignore[arg-type]
        mp.remove_peer(huge)  # type: ignore[arg-type]
        mp.set_target_peer(huge)  # type: ignore[arg-type]
    assert not mp.has_peer(9) and not mp.has_peer(huge)  # type: ignore[arg-type]
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 7
    assert all(len(r.getMessage()) < 300 for r in caplog.records)  # quoted input is capped


def test_put_packet_errors_without_connections() -> None:
    mp = WebRTCMultiplayerPeer()
    assert mp.put_packet(b"x") == Error.ERR_UNCONFIGURED
    assert mp.put_packet(b"") == Error.OK  # PacketPeer: an empty buffer is not sent at all
    assert mp.put_packet("text") == Error.ERR_INVALID_PARAMETER  # type: ignore[arg-type]
    assert mp.create_client(4, [RELIABLE]) == Error.OK
    assert mp.put_packet(b"x") == Error.OK  # CONNECTING is enough; broadcast to nobody
    mp.set_target_peer(1)
    assert mp.put_packet(b"x") == Error.ERR_INVALID_PARAMETER  # unknown target
    assert mp.add_peer(WebRTCPeerConnection(), 1) == Error.OK
    assert mp.put_packet(b"x") == Error.ERR_UNAVAILABLE  # the channel's own error: not open
    mp.transfer_channel = 1
    assert mp.put_packet(b"x") == Error.ERR_UNAVAILABLE  # channel index 3 exists
    mp.transfer_channel = 2
    assert mp.put_packet(b"x") == Error.ERR_INVALID_PARAMETER  # index 4 >= 4 channels
    mp.set_target_peer(0)
    assert mp.put_packet(b"x") == Error.OK  # broadcast skips (and logs) the missing channel
    mp.set_target_peer(-1)
    assert mp.put_packet(b"x") == Error.OK


def test_get_packet_with_nothing_queued() -> None:
    mp = WebRTCMultiplayerPeer()
    assert mp.get_packet() == b"" and mp.get_packet_error() == Error.ERR_UNAVAILABLE
    assert mp.get_packet_peer() == 0 and mp.get_available_packet_count() == 0
    assert mp.get_packet_channel() == 0 and mp.get_packet_mode() is RELIABLE
    assert mp.get_var() is None and mp.get_packet_error() == Error.ERR_UNAVAILABLE


class _Rng(random.Random):
    def __init__(self, values: list[int]) -> None:
        super().__init__(0)
        self.values = values

    def getrandbits(self, k: int) -> int:
        assert k == 31
        return self.values.pop(0)


def test_generate_unique_id() -> None:
    assert WebRTCMultiplayerPeer(rng=_Rng([0, 1, 2])).generate_unique_id() == 2
    assert WebRTCMultiplayerPeer(rng=_Rng([1, 2**31 - 1])).generate_unique_id() == 2**31 - 1
    ids = {WebRTCMultiplayerPeer().generate_unique_id() for _ in range(50)}
    assert all(2 <= i < 2**31 for i in ids) and len(ids) > 1


def test_encode_buffer_max_size_is_rounded_like_godot() -> None:
    mp = WebRTCMultiplayerPeer()
    assert mp.encode_buffer_max_size == 8 * 1024 * 1024
    mp.encode_buffer_max_size = 5000
    assert mp.get_encode_buffer_max_size() == 8192
    mp.set_encode_buffer_max_size(100)  # refused (< 1024)
    assert mp.encode_buffer_max_size == 8192
    mp.set_encode_buffer_max_size(1024)
    assert mp.encode_buffer_max_size == 1024
    mp.set_encode_buffer_max_size(256 * 1024 * 1024 + 1)  # refused
    assert mp.encode_buffer_max_size == 1024
    assert mp.create_mesh(2) == Error.OK
    assert mp.put_var("x" * 2000) == Error.ERR_OUT_OF_MEMORY
    assert mp.put_var(object()) == Error.ERR_INVALID_PARAMETER
    assert mp.put_var("short") == Error.OK  # broadcast to nobody
