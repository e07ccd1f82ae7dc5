"""Godot's `SceneMultiplayer` protocol: RPCs, raw bytes, server relay and authentication on
top of a `MultiplayerPeer` (such as `webrtc.WebRTCMultiplayerPeer`)."""

from __future__ import annotations

from .multiplayer import Drop, OfflineMultiplayerPeer, SceneMultiplayer
from .protocol import ProtocolError, decode_packet
from .rpc import RPCConfig, RPCMode, RPCNode, rpc

__all__ = [
    "Drop",
    "OfflineMultiplayerPeer",
    "ProtocolError",
    "RPCConfig",
    "RPCMode",
    "RPCNode",
    "SceneMultiplayer",
    "decode_packet",
    "rpc",
]
