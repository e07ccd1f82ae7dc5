"""WebSocket signaling compatible with Godot's WebRTC signaling demo (``webrtc_signaling``).

``protocol`` is the JSON frame codec, ``server`` the lobby server (``python -m
webrtc.signaling``), ``client`` the poll-style and asyncio clients. See docs/SIGNALING.md.
"""

from .client import AsyncSignalingClient, ClientState, SignalingClient
from .protocol import Message, MessageType, ProtocolError, decode_message, encode_message
from .server import SignalingHub, SignalingServer, main

__all__ = [
    "AsyncSignalingClient",
    "ClientState",
    "Message",
    "MessageType",
    "ProtocolError",
    "SignalingClient",
    "SignalingHub",
    "SignalingServer",
    "decode_message",
    "encode_message",
    "main",
]
