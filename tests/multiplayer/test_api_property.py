"""Any sequence of calls with any arguments: Godot error codes and logs, never an exception."""

from __future__ import annotations

import logging
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from webrtc import ConnectionStatus, Error, WebRTCMultiplayerPeer, WebRTCPeerConnection

ids = st.one_of(
    st.integers(-3, 6),
    st.sampled_from([2**31 - 1, 2**31, -(2**31), 10**30]),
    st.sampled_from([None, "1", 1.0, True, b"\x01", [1]]),
)
values = st.one_of(ids, st.binary(max_size=8), st.lists(st.integers(-1, 4), max_size=4))


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, tuple[Any, ...]]:
    name = draw(
        st.sampled_from(
            [
                "create_server",
                "create_client",
                "create_mesh",
                "add_peer",
                "remove_peer",
                "disconnect_peer",
                "has_peer",
                "get_peer",
                "set_target_peer",
                "set_transfer_mode",
                "set_transfer_channel",
                "set_refuse_new_connections",
                "set_encode_buffer_max_size",
                "put_packet",
                "put_var",
                "get_packet",
                "get_var",
                "poll",
                "close",
            ]
        )
    )
    if name == "create_server":
        return name, (draw(values),)
    if name in ("create_client", "create_mesh"):
        return name, (draw(ids), draw(values))
    if name == "add_peer":
        peer = draw(st.sampled_from(["new", "closed", None, 3]))
        return name, (peer, draw(ids), draw(ids))
    if name == "disconnect_peer":
        return name, (draw(ids), draw(st.booleans()))
    if name in ("poll", "close", "get_packet", "get_var"):
        return name, ()
    return name, (draw(values),)


@given(st.lists(calls(), max_size=30))
def test_misuse_never_raises(sequence: list[tuple[str, tuple[Any, ...]]]) -> None:
    log = logging.getLogger("webrtc.multiplayer")
    level = log.level
    log.setLevel(logging.CRITICAL)  # every misuse logs an error
    try:
        run_calls(sequence)
    finally:
        log.setLevel(level)


def run_calls(sequence: list[tuple[str, tuple[Any, ...]]]) -> None:
    mp = WebRTCMultiplayerPeer()
    for name, args in sequence:
        if name == "add_peer" and args[0] in ("new", "closed"):
            pc = WebRTCPeerConnection()
            if args[0] == "closed":
                pc.close()
            args = (pc, *args[1:])
        result = getattr(mp, name)(*args)
        if name.startswith(("create_", "add_", "put_")):
            assert isinstance(result, Error)
        # the invariants of the status table
        status = mp.get_connection_status()
        assert isinstance(status, ConnectionStatus)
        assert isinstance(mp.get_unique_id(), int)
        assert isinstance(mp.get_available_packet_count(), int)
        assert all(isinstance(k, int) and 1 <= k < 2**31 for k in mp.get_peers())
    mp.close()
    assert mp.get_peers() == {} and mp.get_connection_status() is ConnectionStatus(0)
