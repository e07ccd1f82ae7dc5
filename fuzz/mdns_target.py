"""Fuzz target: DNS/mDNS decoder (ice.mdns.parse_message), resolver matching and the agent's
port-5353 path (an mDNS answer or anything else from port 5353 must never raise)."""

from __future__ import annotations

import random
import sys

import ice
import sdp
from ice.mdns import MdnsError, MdnsResolver, parse_message

_NAME = "1f5a6c2e-0d1b-4b1e-9a55-3c2f1d0e9b7a.local"
_CANDIDATE = sdp.Candidate.parse(f"candidate:1 1 udp 2122260223 {_NAME} 7000 typ host")


def test_one_input(data: bytes) -> None:
    try:
        msg = parse_message(data)
    except MdnsError:
        msg = None
    if msg is not None:
        for rec in msg.records:
            assert rec.address is None or rec.rtype in (1, 28)
    resolver = MdnsResolver(random.Random(0))
    resolver.resolve(_NAME, 0.0)
    try:
        for found in resolver.receive(data):
            assert found.name == _NAME
    except MdnsError:
        pass
    agent = ice.Agent(
        controlling=True, rng=random.Random(0), local_ufrag="ufrag", local_pwd="p" * 22
    )
    agent.set_remote_credentials("rufrag", "q" * 22)
    agent.gather([("10.0.0.1", 5000)], 0.0)
    agent.add_remote_candidate(_CANDIDATE)
    agent.receive(data, ("10.0.0.2", 5353), 0.1, ("10.0.0.1", 5000))
    agent.receive_mdns(data, 0.2)
    agent.handle_timeout(0.3)
    agent.datagrams_to_send()


if __name__ == "__main__":
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
