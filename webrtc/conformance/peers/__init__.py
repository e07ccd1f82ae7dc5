"""Peers under test behind one adapter interface (`PeerAdapter`)."""

from .base import ChannelView, PeerAdapter, PeerUnavailable

__all__ = ["ChannelView", "PeerAdapter", "PeerUnavailable"]
