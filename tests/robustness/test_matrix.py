"""The impairment matrix (see matrix.py) as parametrized tests, plus focused state checks."""

from __future__ import annotations

import pytest

from tests.netsim import Impairment
from tests.webrtc.helpers import Pair
from webrtc import ChannelState, Error, WebRTCDataChannel, WebRTCPeerConnection

from .matrix import CELLS, Cell, run_cell
from .world import CS, World, bound_address


def _param(cell: Cell) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {cell.bug}")] if cell.bug else []
    return pytest.param(cell, id=cell.name, marks=marks)


@pytest.mark.parametrize("cell", [_param(c) for c in CELLS])
def test_cell(cell: Cell) -> None:
    res = run_cell(cell)
    assert res.ok, "; ".join(res.failures)
    assert res.connect_time is not None and res.transfer_time is not None


def _connected_pair(seed: int) -> tuple[World, WebRTCPeerConnection, WebRTCPeerConnection]:
    w, p, _, _ = _connected(seed)
    return w, p.a, p.b


def _connected(seed: int) -> tuple[World, Pair, WebRTCDataChannel, WebRTCDataChannel]:
    w = World(Impairment(delay=0.01, seed=seed), seed=seed)
    p = w.pair(seed=seed)
    ch = p.a.create_data_channel("x")
    assert ch is not None
    p.a.create_offer()
    assert w.run(
        lambda: (
            p.a.get_connection_state() == CS.STATE_CONNECTED
            and p.b.get_connection_state() == CS.STATE_CONNECTED
            and ch.get_ready_state() == ChannelState.STATE_OPEN
            and p.remote("x") is not None
        )
    )
    remote = p.remote("x")
    assert remote is not None
    return w, p, ch, remote


@pytest.mark.parametrize("outage, seed", [(10.0, 21), (20.0, 22)])
def test_partition_disconnected_then_connected(outage: float, seed: int) -> None:
    """W3C: DISCONNECTED while connectivity is lost, then CONNECTED: a 10 s and a 20 s outage
    (both under RFC 7675's 30 s consent timeout)."""
    w, a, b = _connected_pair(seed)
    w.net.partition("10.0.0.1", "10.0.0.2")
    w.idle(outage)
    w.net.heal("10.0.0.1", "10.0.0.2")
    w.run(lambda: False, max_time=10.0)
    for pc in (a, b):
        states = w.history(pc).states
        assert states == [
            CS.STATE_NEW,
            CS.STATE_CONNECTING,
            CS.STATE_CONNECTED,
            CS.STATE_DISCONNECTED,
            CS.STATE_CONNECTED,
        ], states


def test_partition_past_consent_timeout_fails() -> None:
    """RFC 7675 §5.1: no consent for 30 s -> the connection fails (and stays failed)."""
    w, a, b = _connected_pair(23)
    w.net.partition("10.0.0.1", "10.0.0.2")
    w.idle(45.0)
    w.net.heal("10.0.0.1", "10.0.0.2")
    w.run(lambda: False, max_time=10.0)
    for pc in (a, b):
        states = w.history(pc).states
        assert states[:3] == [CS.STATE_NEW, CS.STATE_CONNECTING, CS.STATE_CONNECTED], states
        assert states[-1] == CS.STATE_FAILED, states
        assert CS.STATE_CONNECTED not in states[3:], states


def test_datagrams_fit_ipv6_minimum_mtu() -> None:
    """RFC 8200 §5: every IPv6 link carries 1280 bytes; minus 48 B IPv6+UDP = 1232 B payload.
    (Without a=x-dtls-record-size-limit, as with every third-party peer: no PLPMTUD probes.)"""
    w = World(Impairment(delay=0.01, seed=31), seed=31)
    p = w.pair(seed=31, large_records=False)
    ch = p.a.create_data_channel("big")
    assert ch is not None and p.a.create_offer() == Error.OK
    assert w.run(lambda: ch.get_ready_state() == ChannelState.STATE_OPEN)
    w.net.tap = []
    assert ch.put_packet(bytes(20_000)) == Error.OK
    w.idle(1.0)
    largest = max(len(d) for d, _, _ in w.net.tap)
    assert largest <= 1280 - 48, largest


def test_plpmtud_on_an_ipv6_minimum_path_keeps_data_within_it() -> None:
    """Two of our peers probe for bigger packets; on a 1280-byte path every probe above it is
    lost, the search settles at the 1200-byte base, and all data fits the path."""
    w = World(Impairment(delay=0.01, mtu=1280 - 48, seed=33), seed=33)
    p = w.pair(seed=33)
    ch = p.a.create_data_channel("big")
    assert ch is not None and p.a.create_offer() == Error.OK
    assert w.run(lambda: ch.get_ready_state() == ChannelState.STATE_OPEN)
    remote = p.remote("big")
    assert remote is not None
    for i in range(40):
        assert ch.put_packet(bytes([i]) * 20_000) == Error.OK
    assert w.run(lambda: remote.get_available_packet_count() == 40, max_time=60)
    assert [remote.get_packet()[0] for _ in range(40)] == list(range(40))
    assoc = p.a._sctp
    assert assoc is not None and assoc.plpmtu <= 1280 - 48 - 37


def test_black_holed_handshake_ends() -> None:
    w = World(Impairment(mtu=576 - 28, delay=0.01, seed=32), seed=32)
    p = w.pair(seed=32)
    ch = p.a.create_data_channel("x")
    assert ch is not None and p.a.create_offer() == Error.OK
    w.idle(120.0)
    assert p.a.get_connection_state() in (CS.STATE_CONNECTED, CS.STATE_FAILED)
    assert p.b.get_connection_state() in (CS.STATE_CONNECTED, CS.STATE_FAILED)


def test_nat_rebinding_keeps_the_connection() -> None:
    """The offerer's NAT picks a new external port (old one dead); both directions must work."""
    w, p, ch, remote = _connected(24)
    old = bound_address(p.a)
    w.net.nat_rebind(old, (old[0], old[1] + 20000))
    w.idle(40.0)  # past RFC 7675's 30 s consent timeout
    assert ch.put_packet(b"up") == Error.OK
    assert remote.put_packet(b"down") == Error.OK
    assert w.run(
        lambda: remote.get_available_packet_count() == 1 and ch.get_available_packet_count() == 1,
        max_time=30,
    )
    for pc in (p.a, p.b):
        assert w.history(pc).states[-1] == CS.STATE_CONNECTED
