"""A game-like loop on the simulated network: poll every 16 ms, bursts on every transfer mode."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from webrtc import Error, TransferMode
from webrtc.testing import Drop, Impairment

from .world import FRAME, Node, World

RELIABLE = TransferMode.TRANSFER_MODE_RELIABLE
ORDERED = TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED
UNRELIABLE = TransferMode.TRANSFER_MODE_UNRELIABLE
CONFIG = [ORDERED, UNRELIABLE, RELIABLE]  # custom channels 1, 2, 3
# (transfer_mode, transfer_channel) of every stream a frame's burst goes on
STREAMS = [
    (RELIABLE, 0),
    (ORDERED, 0),
    (UNRELIABLE, 0),
    (RELIABLE, 1),
    (RELIABLE, 2),
    (RELIABLE, 3),
]
MODE_OF = {1: ORDERED, 2: UNRELIABLE, 3: RELIABLE}  # custom channel -> its configured mode
BURST = 4  # messages per stream per frame
SIZE = 100  # bytes per message (one per SCTP packet, never fragmented)
D1_REASON = (
    "D1 (MULTIPLAYER.md §8): SCTP abandons a partially reliable message before it was ever "
    "transmitted (lifetime counted from put_packet); helper 'sctp' implements D1 in the sender"
)


def stream_key(mode: int, channel: int) -> tuple[int, int]:
    """(get_packet_channel, get_packet_mode) a receiver sees for a (mode, channel) send."""
    return channel, int(mode if channel == 0 else MODE_OF[channel])


def reliable(key: tuple[int, int]) -> bool:
    return key[1] == RELIABLE


@dataclass
class Traffic:
    """What every sender put on each stream, and what each receiver got (with frame numbers)."""

    sent: dict[tuple[int, int, tuple[int, int]], list[bytes]] = field(
        default_factory=lambda: defaultdict(list)
    )
    got: dict[tuple[int, int, tuple[int, int]], list[bytes]] = field(
        default_factory=lambda: defaultdict(list)
    )
    latency: dict[tuple[int, int], list[int]] = field(default_factory=lambda: defaultdict(list))


def run_game(
    loss: float, frames: int, *, seed: int = 1, lifetime: int = 1, burst: int = BURST
) -> tuple[World, Traffic, list[Node]]:
    world = World(Impairment(loss=loss, delay=0.02, seed=seed), seed=seed)
    server = world.node()
    assert server.mp.create_server(CONFIG) == Error.OK
    clients = []
    for pid in (2, 3):
        client = world.node()
        assert client.mp.create_client(pid, CONFIG) == Error.OK
        world.link(server, client, lifetime=lifetime)
        clients.append(client)
    nodes = [server, *clients]
    assert world.run(lambda: all(c.mp.get_connection_status() == 2 for c in clients), 10)
    assert world.run(world.connected(server, 2, 3), max_time=5)
    traffic = Traffic()

    def frame(i: int) -> None:
        for node in nodes:  # everyone reads what this frame's poll() surfaced
            me = node.mp.get_unique_id()
            for sender, channel, mode, data in node.drain():
                key = (channel, mode)
                traffic.got[(sender, me, key)].append(data)
                sent_frame = int(data.split(b":")[2])
                traffic.latency[key].append(i - sent_frame)
        if i >= frames:
            return
        for node in nodes:  # clients send to the server, the server broadcasts to clients
            me = node.mp.get_unique_id()
            targets = [1] if me != 1 else [2, 3]
            node.mp.set_target_peer(0)
            for mode, channel in STREAMS:
                node.mp.transfer_mode = mode
                node.mp.transfer_channel = channel
                key = stream_key(mode, channel)
                for k in range(burst):
                    head = b"%d:%d.%d:%d:%d:" % (me, key[0], key[1], i, k)
                    data = head + b"x" * (SIZE - len(head))
                    assert node.mp.put_packet(data) == Error.OK
                    for target in targets:
                        traffic.sent[(me, target, key)].append(data)

    world.frames(frames + int(10 / FRAME), frame)  # then 10 s of frames to drain
    return world, traffic, nodes


def check_reliable(traffic: Traffic) -> None:
    """Reliable streams: every message, in order, exactly once."""
    for route, sent in traffic.sent.items():
        if reliable(route[2]):
            assert traffic.got[route] == sent, route


def check_no_surprises(traffic: Traffic) -> None:
    """Nothing arrives that was not sent to that peer on that stream; no duplicates; the
    ordered streams keep their order."""
    for route, got in traffic.got.items():
        sent = traffic.sent[route]
        assert len(set(got)) == len(got), route
        assert set(got) <= set(sent), route
        if route[2] != (0, UNRELIABLE) and route[2] != (2, UNRELIABLE):
            positions = [sent.index(m) for m in got]
            assert positions == sorted(positions), route


def test_lossless_game_loop_every_message_arrives() -> None:
    """Godot's own channel dictionaries (lifetime 1 ms), bursts of 4 per stream per frame."""
    world, traffic, _ = run_game(loss=0.0, frames=60)
    assert world.network.drops[Drop.LOSS] == 0  # (PLPMTUD probes above the MTU may drop)
    assert sum(map(len, traffic.got.values())) > 0
    check_no_surprises(traffic)
    check_reliable(traffic)
    missing = {
        route: len(sent) - len(traffic.got[route])
        for route, sent in traffic.sent.items()
        if len(traffic.got[route]) != len(sent)
    }
    if missing:
        # On a lossless link a message sent once arrives: what is missing was never sent.
        assert all(not reliable(route[2]) for route in missing), missing
        pytest.xfail(f"{D1_REASON}; messages missing per route: {missing}")


def test_lossless_game_loop_long_lifetime() -> None:
    """With a lifetime longer than a frame, every partially reliable message arrives today."""
    world, traffic, _ = run_game(loss=0.0, frames=60, lifetime=500)
    assert world.network.drops[Drop.LOSS] == 0
    check_no_surprises(traffic)
    for route, sent in traffic.sent.items():
        if route[2][0] in (0, 3):  # the reserved streams and custom RELIABLE channel 3
            assert traffic.got[route] == sent, route


def test_ten_percent_loss_game_loop() -> None:
    """Reserved channels with a 500 ms lifetime (add_peer's unreliable_lifetime), one message
    per stream per frame: the reliable streams stay complete, in order and prompt."""
    world, traffic, _ = run_game(loss=0.10, frames=240, seed=7, lifetime=500, burst=1)
    assert world.network.drops[Drop.LOSS] > 50
    check_no_surprises(traffic)
    check_reliable(traffic)
    for key in ((0, RELIABLE), (3, RELIABLE)):
        late = sorted(traffic.latency[key])
        assert len(late) == 4 * 240, key
        # the losses on the other streams never hold it back: a lost DATA costs a fast
        # retransmit (median), a lost retransmission another one (RFC 9260 §7.2.4 miss
        # indications from data sent after it); T3-rtx only when no later data is acknowledged
        assert late[len(late) // 2] * FRAME < 0.25, key
        assert late[-1] * FRAME < 4.0, key
    # unordered partially reliable messages arrive within their lifetime or not at all
    late = traffic.latency[(0, UNRELIABLE)]
    assert len(late) > 0.8 * 4 * 240
    assert max(late) * FRAME < 0.5 + 0.1


@pytest.mark.parametrize("idle", [0.0, 0.1, 2.0])
def test_one_message_after_an_idle_spell_arrives(idle: float) -> None:
    """The simplest D1 case: one 1 ms lifetime message into an idle association."""
    world = World(Impairment(delay=0.02))
    a, b = world.node(), world.node()
    assert a.mp.create_mesh(1) == Error.OK and b.mp.create_mesh(2) == Error.OK
    world.link(a, b)
    assert world.run(lambda: world.connected(a, 2)() and world.connected(b, 1)(), 10)
    world.frames(int(idle / FRAME))
    for mode in (ORDERED, UNRELIABLE):
        a.mp.transfer_mode = mode
        assert a.mp.put_packet(b"m%d" % mode) == Error.OK
        world.frames(10)
    got = {data for *_, data in b.drain()}
    assert world.network.drops[Drop.LOSS] == 0 and got <= {b"m0", b"m1"}
    if got != {b"m0", b"m1"}:
        pytest.xfail(f"{D1_REASON}; after {idle} s idle only {sorted(got)} arrived")
