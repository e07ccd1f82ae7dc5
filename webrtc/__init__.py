"""Godot's WebRTC API (`WebRTCPeerConnection`, `WebRTCDataChannel`) over sdp, ice, dtls, sctp."""

from __future__ import annotations

from .data_channel import WebRTCDataChannel
from .errors import Error
from .extension import WebRTCPeerConnectionExtension
from .multiplayer import ConnectionStatus, MultiplayerPeer, TransferMode, WebRTCMultiplayerPeer
from .net import DatagramTransport, UdpTransport
from .peer_connection import WebRTCPeerConnection
from .signals import Signal
from .states import ChannelState, ConnectionState, GatheringState, SignalingState, WriteMode

__all__ = [
    "ChannelState",
    "ConnectionState",
    "ConnectionStatus",
    "DatagramTransport",
    "Error",
    "GatheringState",
    "MultiplayerPeer",
    "Signal",
    "SignalingState",
    "TransferMode",
    "UdpTransport",
    "WebRTCDataChannel",
    "WebRTCMultiplayerPeer",
    "WebRTCPeerConnection",
    "WebRTCPeerConnectionExtension",
    "WriteMode",
]
