"""Two of our agents through a real coturn; one side has relay-only candidates (RFC 8656)."""

from __future__ import annotations

import random

import pytest

import ice
import sdp
from tests.ice.udp_driver import UdpPeer, run
from tests.interop.coturn import CoturnServer, coturn  # noqa: F401

CONNECTED = (ice.IceState.CONNECTED, ice.IceState.COMPLETED)


def _candidates(peer: UdpPeer) -> list[sdp.Candidate]:
    return [e.candidate for e in peer.events if isinstance(e, ice.CandidateGathered)]


@pytest.mark.interop
@pytest.mark.parametrize("relay_controlling", [True, False])
def test_relay_only_through_coturn(coturn: CoturnServer, relay_controlling: bool) -> None:  # noqa: F811
    turn = ice.TurnServer(coturn.address, coturn.username, coturn.password)
    a = UdpPeer(
        ice.Agent(
            controlling=relay_controlling,
            rng=random.Random(1),
            turn_servers=[turn],
            relay_only=True,
        ),
        ["127.0.0.1"],
    )
    b = UdpPeer(ice.Agent(controlling=not relay_controlling, rng=random.Random(2)), ["127.0.0.1"])
    try:
        for p in (a, b):
            p.agent.gather(list(p.sockets), 0.0)
        assert run(
            [a, b],
            lambda: a.agent.gathering_state is ice.GatheringState.COMPLETE,
            10,
        ), coturn.log()
        ca, cb = _candidates(a), _candidates(b)
        assert [c.type for c in ca] == ["relay"], ca
        relay = ca[0]
        assert relay.address == "127.0.0.1"
        assert coturn.relay_ports[0] <= relay.port <= coturn.relay_ports[1]
        assert relay.related_address == "127.0.0.1"
        assert relay.priority == ice.candidate_priority(0, 32767)
        a.agent.set_remote_credentials(b.agent.local_ufrag, b.agent.local_pwd)
        b.agent.set_remote_credentials(a.agent.local_ufrag, a.agent.local_pwd)
        for c in cb:
            a.agent.add_remote_candidate(c)
        for c in ca:
            b.agent.add_remote_candidate(c)
        a.agent.add_remote_candidate(None)
        b.agent.add_remote_candidate(None)
        assert run(
            [a, b],
            lambda: a.agent.state in CONNECTED and b.agent.state in CONNECTED,
            15,
        ), (a.agent.stats, b.agent.stats, coturn.log()[-3000:])
        sa, sb = a.agent.selected_pair, b.agent.selected_pair
        assert sa is not None and sb is not None
        assert sa.local.type == "relay" and sb.remote.type == "relay"
        assert sb.remote_address == (relay.address, relay.port)
        # application data both ways through the relay (Send/Data indications, then ChannelData)
        for i in range(10):
            assert a.agent.send(b"\x17a%d" % i)
            assert b.agent.send(b"\x17b%d" % i)
        assert run([a, b], lambda: len(a.app_data) >= 10 and len(b.app_data) >= 10, 10)
        assert set(a.app_data) == {b"\x17b%d" % i for i in range(10)}
        assert set(b.app_data) == {b"\x17a%d" % i for i in range(10)}
        # RFC 8656 §12: once the channel is bound, relayed data goes as ChannelData (0x40..0x4F)
        run([a, b], lambda: False, 0.5)
        assert a.agent.send(b"\x17late")
        out = a.agent.datagrams_to_send()
        assert len(out) == 1 and 0x40 <= out[0][0][0] <= 0x4F and out[0][2] == coturn.address
        for data, local, remote in out:
            a.sockets[local].sendto(data, remote)
        assert run([a, b], lambda: b"\x17late" in b.app_data, 5)
    finally:
        a.close()
        b.close()


@pytest.mark.interop
def test_relay_to_relay_through_coturn(coturn: CoturnServer) -> None:  # noqa: F811
    turn = ice.TurnServer(coturn.address, coturn.username, coturn.password)
    peers = [
        UdpPeer(
            ice.Agent(
                controlling=i == 0, rng=random.Random(10 + i), turn_servers=[turn], relay_only=True
            ),
            ["127.0.0.1"],
        )
        for i in range(2)
    ]
    a, b = peers
    try:
        for p in peers:
            p.agent.gather(list(p.sockets), 0.0)
        assert run(
            peers,
            lambda: all(p.agent.gathering_state is ice.GatheringState.COMPLETE for p in peers),
            10,
        )
        a.agent.set_remote_credentials(b.agent.local_ufrag, b.agent.local_pwd)
        b.agent.set_remote_credentials(a.agent.local_ufrag, a.agent.local_pwd)
        for src, dst in ((a, b), (b, a)):
            for c in _candidates(src):
                dst.agent.add_remote_candidate(c)
            dst.agent.add_remote_candidate(None)
        assert run(peers, lambda: all(p.agent.state in CONNECTED for p in peers), 15)
        for p in peers:
            sel = p.agent.selected_pair
            assert sel is not None and sel.local.type == "relay" and sel.remote.type == "relay"
        assert a.agent.send(b"\x17ping") and b.agent.send(b"\x17pong")
        assert run(peers, lambda: bool(a.app_data and b.app_data), 5)
        assert a.app_data == [b"\x17pong"] and b.app_data == [b"\x17ping"]
    finally:
        a.close()
        b.close()


@pytest.mark.interop
def test_turn_wrong_password_gathering_still_completes(coturn: CoturnServer) -> None:  # noqa: F811
    turn = ice.TurnServer(coturn.address, coturn.username, "wrong-password")
    a = UdpPeer(
        ice.Agent(controlling=True, rng=random.Random(3), turn_servers=[turn]), ["127.0.0.1"]
    )
    try:
        a.agent.gather(list(a.sockets), 0.0)
        assert a.agent.gathering_state is ice.GatheringState.GATHERING
        assert run([a], lambda: a.agent.gathering_state is ice.GatheringState.COMPLETE, 10)
        assert [c.type for c in _candidates(a)] == ["host"]
        assert a.agent.stats["turn_allocation_failures"] == 1
        assert any(isinstance(e, ice.GatheringComplete) for e in a.events)
    finally:
        a.close()
