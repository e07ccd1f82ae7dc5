"""Data on a valid pair before nomination (RFC 8445 §12.1), used to start DTLS early."""

from __future__ import annotations

from tests.ice.harness import make_pair


def test_send_before_selection_uses_the_best_valid_pair() -> None:
    sim, a, b = make_pair(seed=7)
    assert not a.agent.can_send and not a.agent.send(b"\x17early")
    assert a.agent.stats["send_dropped"] == 1
    sim.exchange_credentials()
    sim.gather()

    def b_valid() -> bool:
        return b.agent.can_send

    assert sim.run(b_valid, 5)
    # The controlling agent has not nominated yet: no selected pair on either side.
    assert b.agent.selected_pair is None
    assert b.agent.send(b"\x17early")
    assert sim.run(lambda: bool(a.app_data), 1)
    assert a.app_data == [b"\x17early"]
    assert a.agent.selected_pair is None or a.agent.selected_pair.nominated


def test_no_send_after_close() -> None:
    sim, _a, b = make_pair(seed=8)
    sim.exchange_credentials()
    sim.gather()
    assert sim.run(lambda: b.agent.can_send, 5)
    b.agent.close()
    assert not b.agent.can_send and not b.agent.send(b"\x17late")


def test_dtls_starts_on_a_valid_pair_before_nomination() -> None:
    """The DTLS client starts once its agent has a valid pair, not at the nomination a Ta slot
    later; the connection reports CONNECTED from then (W3C "a usable pair found")."""
    from tests.netsim import Network, VirtualClock
    from tests.webrtc.simnet import drive, make_peer, wire
    from webrtc import ChannelState, WebRTCPeerConnection

    net, clock = Network(seed=3), VirtualClock()
    a = make_peer(net, clock, "10.0.0.1", 11)
    b = make_peer(net, clock, "10.0.0.2", 22)
    wire(a, b)
    got: list[object] = []
    b.data_channel_received.connect(got.append)
    chan = a.create_data_channel("x")
    assert chan is not None
    a.create_offer()
    seen: dict[str, bool] = {}

    def opened() -> bool:
        for name, pc in (("a", a), ("b", b)):
            agent = pc._agent
            if pc._dtls_started and name not in seen and agent is not None:
                seen[name] = agent.selected_pair is None
        return chan.get_ready_state() == ChannelState.STATE_OPEN and bool(got)

    assert drive(net, clock, [a, b], opened, max_time=10)
    assert seen == {"a": True, "b": True}  # both started before any pair was selected
    assert a.get_connection_state() == WebRTCPeerConnection.STATE_CONNECTED
    assert b.get_connection_state() == WebRTCPeerConnection.STATE_CONNECTED
    # Still open and connected once nomination has happened.
    agent = a._agent
    assert agent is not None
    assert drive(net, clock, [a, b], lambda: agent.selected_pair is not None, max_time=5)
    assert a.get_connection_state() == WebRTCPeerConnection.STATE_CONNECTED
