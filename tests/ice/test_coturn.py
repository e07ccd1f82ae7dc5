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
        # relayed data arrives from the TURN server's address: A's host never talked to B
        assert a.agent.stats["requests_no_local_candidate"] == 0
    finally:
        a.close()
        b.close()
