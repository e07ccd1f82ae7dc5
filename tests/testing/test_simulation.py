"""Real peer connections on webrtc.testing.Simulation: connect in one call, game loops,
recovery from loss and a partition, timeouts."""

from __future__ import annotations

import pytest

from webrtc import ChannelState, ConnectionState, Error, GatheringState
from webrtc.testing import Impairment, Simulation, SimulationTimeout, bound_address

OPEN = ChannelState.STATE_OPEN
CONNECTED = ConnectionState.STATE_CONNECTED


def test_connect_opens_every_channel_in_one_call() -> None:
    sim = Simulation(Impairment(delay=0.02), seed=1)
    c = sim.connect(channels={"chat": {}, "state": {"ordered": False, "maxRetransmits": 0}})
    assert c.a.get_connection_state() == CONNECTED == c.b.get_connection_state()
    for label in ("chat", "state"):
        mine, theirs = c.channel(label)
        assert mine.get_ready_state() == OPEN == theirs.get_ready_state()
        assert theirs.get_label() == label
    assert bound_address(c.a)[0] == "10.0.0.1" and bound_address(c.b)[0] == "10.0.0.2"
    assert 0 < sim.clock.now < 1.0  # a few round trips of 40 ms


def test_loop_polls_only_once_per_frame() -> None:
    sim = Simulation(Impairment(delay=0.005), seed=2)
    c = sim.connect()
    a, b = c.channel("data")
    frames: list[float] = []
    got: list[tuple[float, bytes]] = []

    def frame(now: float) -> None:
        frames.append(now)
        if len(frames) == 1:
            assert a.put_packet(b"ping") == Error.OK
        while b.get_available_packet_count():
            got.append((now, b.get_packet()))

    start = sim.clock.now
    assert sim.loop(frame, every=0.05, until=lambda: bool(got), max_time=5.0)
    assert all(abs((t - start) / 0.05 - round((t - start) / 0.05)) < 1e-9 for t in frames)
    # sent at frame 0, on the wire 5 ms, read at the next frame's poll
    assert got == [(start + 0.05, b"ping")]


def test_recovers_after_loss_and_a_partition() -> None:
    sim = Simulation(Impairment(loss=0.15, delay=0.03, jitter=0.01), seed=3)
    c = sim.connect()
    a, b = c.channel("data")
    sim.partition("10.0.0.1", "10.0.0.2", seconds=3.0)
    sent = [f"msg {i}".encode() for i in range(40)]
    for m in sent:
        assert a.put_packet(m) == Error.OK
    got: list[bytes] = []

    def all_arrived() -> bool:
        while b.get_available_packet_count():
            got.append(b.get_packet())
        return len(got) == len(sent)

    assert sim.run(all_arrived, max_time=60.0)
    assert got == sent and sim.clock.now > 3.0
    assert c.a.get_connection_state() == CONNECTED


def test_connect_times_out_when_the_path_is_cut() -> None:
    sim = Simulation(Impairment(loss=1.0), seed=4)
    with pytest.raises(SimulationTimeout):
        sim.connect(max_time=5.0)
    assert sim.clock.now == 5.0


def test_stun_server_answers_binding_requests() -> None:
    sim = Simulation(seed=5)
    server = sim.stun_server(("192.0.2.1", 3478))
    pc = sim.peer("10.0.0.1", 1)
    assert pc.initialize({"iceServers": [{"urls": ["stun:192.0.2.1:3478"]}]}) == Error.OK
    assert pc.create_data_channel("x") is not None
    pc.session_description_created.connect(lambda kind, text: pc.set_local_description(kind, text))
    assert pc.create_offer() == Error.OK
    complete = GatheringState.GATHERING_STATE_COMPLETE
    assert sim.run(lambda: pc.get_gathering_state() == complete, max_time=5.0)
    # answered (the mapped address equals the host one here, so no srflx candidate: RFC 8445
    # §5.1.3 drops redundant candidates)
    assert server.requests >= 1


@pytest.mark.parametrize("keep_old", [False, True])
def test_nat_rebinding_mid_session(keep_old: bool) -> None:
    sim = Simulation(Impairment(delay=0.01), seed=6)
    c = sim.connect()
    a, b = c.channel("data")
    new = sim.nat_rebind(c.a, keep_old=keep_old)
    assert new == ("10.0.0.1", bound_address(c.a)[1] + 20000)
    got: list[bytes] = []

    def echo_arrived() -> bool:
        while a.get_available_packet_count():
            got.append(a.get_packet())
        return bool(got)

    assert b.put_packet(b"after the rebinding") == Error.OK
    assert sim.run(echo_arrived, max_time=60.0)
    assert got == [b"after the rebinding"]
    agent = c.b._agent
    assert agent is not None and agent.selected_pair is not None
    if not keep_old:  # the old mapping is gone: b has moved to the new one
        assert agent.selected_pair.remote.port == new[1]
    theirs: list[bytes] = []

    def arrived_at_b() -> bool:
        while b.get_available_packet_count():
            theirs.append(b.get_packet())
        return bool(theirs)

    assert a.put_packet(b"from the new address") == Error.OK
    assert sim.run(arrived_at_b, max_time=60.0)
    assert theirs == [b"from the new address"]
