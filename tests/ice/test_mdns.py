"""mDNS resolution of `<uuid>.local` remote candidates: codec, resolver, agent flow on the
simulated network, and (inside a private netns) against headless Chromium's mDNS responder.

Run as `python -m tests.ice.test_mdns ADDRESS...` inside a namespace it prints the Chromium
scenario's JSON result (used by `test_chromium_mdns_resolved`).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ice
import sdp
from ice.mdns import (
    CLASS_IN,
    MDNS_ADDRESS_V4,
    TYPE_A,
    TYPE_AAAA,
    MdnsError,
    MdnsResolver,
    build_query,
    parse_message,
)
from tests.ice.harness import Peer, Sim
from tests.netsim import Address, Network

NAME = "1f5a6c2e-0d1b-4b1e-9a55-3c2f1d0e9b7a.local"
CONNECTED = (ice.IceState.CONNECTED, ice.IceState.COMPLETED)


def _name(name: str) -> bytes:
    return b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\x00"


def response(
    answers: list[tuple[str, str]],
    *,
    qid: int = 0,
    flags: int = 0x8400,
    cache_flush: bool = True,
    compress: bool = False,
) -> bytes:
    """A DNS response with A/AAAA answers (RFC 1035 §4.1; mDNS cache-flush class, RFC 6762)."""
    out = bytearray(struct.pack("!HHHHHH", qid, flags, 0, len(answers), 0, 0))
    first_at: int | None = None
    for name, address in answers:
        ip = ipaddress.ip_address(address)
        rtype = TYPE_A if ip.version == 4 else TYPE_AAAA
        if compress and first_at is not None:
            out += struct.pack("!H", 0xC000 | first_at)
        else:
            first_at = len(out)
            out += _name(name)
        cls = CLASS_IN | (0x8000 if cache_flush else 0)
        out += struct.pack("!HHIH", rtype, cls, 120, len(ip.packed)) + ip.packed
    return bytes(out)


# -- codec ---------------------------------------------------------------------------------------


def test_query_is_one_shot_single_question() -> None:
    data = build_query(NAME, TYPE_AAAA, 0xBEEF)
    msg = parse_message(data)
    assert msg.id == 0xBEEF and msg.flags == 0 and not msg.is_response
    assert msg.questions == ((NAME, TYPE_AAAA, CLASS_IN),)  # QM: unicast-response bit clear
    assert msg.records == ()


@pytest.mark.parametrize("bad", ["", "a..local", "x" * 64 + ".local", "é.local", "a." * 130])
def test_query_rejects_bad_names(bad: str) -> None:
    with pytest.raises(MdnsError):
        build_query(bad)


def test_parse_response_records_compression_and_cache_flush() -> None:
    data = response([(NAME, "10.0.0.2"), (NAME, "2001:db8::2")], compress=True)
    msg = parse_message(data)
    assert msg.is_response
    assert [(r.name, r.rtype, r.rclass, r.address) for r in msg.records] == [
        (NAME, TYPE_A, 0x8001, "10.0.0.2"),
        (NAME, TYPE_AAAA, 0x8001, "2001:db8::2"),
    ]


def test_parse_rejects_pointer_loop_and_bad_lengths() -> None:
    loop = struct.pack("!HHHHHH", 0, 0, 1, 0, 0, 0) + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    with pytest.raises(MdnsError, match="loop"):
        parse_message(loop)
    bad_a = struct.pack("!HHHHHH", 0, 0x8400, 0, 1, 0, 0) + _name(NAME)
    bad_a += struct.pack("!HHIH", TYPE_A, CLASS_IN, 1, 3) + b"\x01\x02\x03"
    with pytest.raises(MdnsError, match="A record"):
        parse_message(bad_a)
    with pytest.raises(MdnsError, match="label type"):
        parse_message(struct.pack("!HHHHHH", 0, 0, 1, 0, 0, 0) + b"\x40")


def test_parse_every_truncation_is_an_mdns_error() -> None:
    data = response([(NAME, "10.0.0.2"), (NAME, "2001:db8::2")], compress=True)
    for n in range(len(data)):
        with pytest.raises(MdnsError):
            parse_message(data[:n])


@given(st.binary(max_size=300))
def test_parse_is_total(data: bytes) -> None:
    try:
        parse_message(data)
    except MdnsError:
        pass


# -- resolver ------------------------------------------------------------------------------------


def test_resolver_queries_retransmits_and_gives_up() -> None:
    r = MdnsResolver(random.Random(1))
    assert r.resolve(NAME.upper(), 10.0) and r.resolve(NAME, 10.0)  # one resolution per name
    first = r.queries_to_send()
    assert [parse_message(q).questions[0][1] for q in first] == [TYPE_A, TYPE_AAAA]
    assert r.next_timeout() == 11.0
    assert r.handle_timeout(10.9) == [] and r.queries_to_send() == []
    assert r.handle_timeout(11.0) == [] and r.queries_to_send() == first  # same IDs
    assert r.handle_timeout(12.0) == [] and len(r.queries_to_send()) == 2
    assert r.next_timeout() == 13.0
    assert r.handle_timeout(13.0) == [NAME]
    assert r.queries_to_send() == [] and r.next_timeout() is None and not r


def test_resolver_matches_only_outstanding_usable_answers() -> None:
    r = MdnsResolver(random.Random(1))
    r.resolve(NAME, 0.0)
    other = "00000000-0000-4000-8000-000000000000.local"
    # a query (QR=0), a non-zero rcode, unspecified and other names are not answers
    assert r.receive(build_query(NAME)) == []
    assert r.receive(response([(NAME, "10.0.0.2")], flags=0x8403)) == []
    assert r.receive(response([(NAME, "0.0.0.0"), (NAME, "::"), (other, "10.9.9.9")])) == []
    assert NAME in r
    found = r.receive(response([(NAME.upper(), "10.0.0.2"), (NAME, "fd00::2")]))
    assert [(f.name, f.address) for f in found] == [(NAME, "10.0.0.2"), (NAME, "fd00::2")]
    assert NAME not in r and r.receive(response([(NAME, "10.0.0.3")])) == []


def test_resolver_is_bounded() -> None:
    r = MdnsResolver(random.Random(1), max_pending=3)
    names = [f"{i:08x}-0000-4000-8000-000000000000.local" for i in range(4)]
    assert [r.resolve(n, 0.0) for n in names] == [True, True, True, False]
    r.cancel_all()
    assert not r and r.queries_to_send() == [] and r.resolve(names[3], 0.0)


# -- agent flow on the simulated network -----------------------------------------------------------


class MdnsResponder:
    """A fake RFC 6762 responder on 224.0.0.251:5353 for names of `owner` (an IP literal).

    `unicast`: answer legacy queries (source port != 5353) by unicast to the querier (§6.7).
    `skip`: ignore this many queries first (a lost query).
    """

    def __init__(self, names: dict[str, str], owner: str, *, skip: int = 0) -> None:
        self.names = names
        self.owner = owner
        self.skip = skip
        self.queries = 0
        self.answered = 0

    def serve(self, net: Network, now: float) -> None:
        for data, src in net.recv_all(MDNS_ADDRESS_V4):
            msg = parse_message(data)
            self.queries += 1
            if self.skip:
                self.skip -= 1
                continue
            for qname, qtype, _ in msg.questions:
                address = self.names.get(qname)
                if address is None or (qtype == TYPE_A) != (":" not in address):
                    continue
                self.answered += 1
                net.send(response([(qname, address)], qid=msg.id), (self.owner, 5353), src, now)


class MdnsSim(Sim):
    """Signals `hidden` peers' host candidates under an mDNS name, as browsers do."""

    hidden: dict[str, str]

    def _signal(self, peer: Peer, ev: ice.Event) -> None:
        if isinstance(ev, ice.CandidateGathered) and ev.candidate.type == "host":
            name = self.hidden.get(peer.name)
            if name is not None:
                ev = ice.CandidateGathered(
                    sdp.Candidate.parse(str(ev.candidate).replace(ev.candidate.address, name))
                )
        super()._signal(peer, ev)


def _mdns_sim(
    *, responder: bool = True, skip: int = 0, b_port: int = 6000, a_controlling: bool = True
) -> tuple[MdnsSim, Peer, Peer, MdnsResponder]:
    sim = MdnsSim(Network(seed=3))
    sim.hidden = {"b": NAME}
    a = sim.add(
        "a", ice.Agent(controlling=a_controlling, rng=random.Random(5)), [("10.0.0.1", 5000)]
    )
    b_addr: Address = ("10.0.0.2", b_port)
    b = sim.add("b", ice.Agent(controlling=not a_controlling, rng=random.Random(6)), [b_addr])
    fake = MdnsResponder({NAME: "10.0.0.2"}, "10.0.0.2", skip=skip)
    if responder:
        sim.net.bind(MDNS_ADDRESS_V4)
        sim.servers.append(fake)  # type: ignore[arg-type]  # duck-typed serve(net, now)
    sim.exchange_credentials()
    sim.gather()
    return sim, a, b, fake


def _remote(peer: Peer, address: Address) -> sdp.Candidate:
    return next(c for c in peer.agent.remote_candidates if (c.address, c.port) == address)


def test_mdns_candidate_resolved_by_unicast_answer() -> None:
    sim, a, b, fake = _mdns_sim()
    assert sim.run(lambda: sim.completed() and a.agent.stats["mdns_resolved"] == 1, 10)
    stats = a.agent.stats
    assert stats["mdns_queries_sent"] == 2 and fake.answered == 1  # A and AAAA, one answer
    cand = _remote(a, ("10.0.0.2", 6000))
    signalled = next(e.candidate for e in b.events if isinstance(e, ice.CandidateGathered))
    assert cand.type == "host"
    assert (cand.foundation, cand.priority) == (signalled.foundation, signalled.priority)
    sel = a.agent.selected_pair
    assert sel is not None and sel.remote is cand and sel.remote_address == ("10.0.0.2", 6000)
    assert stats["mdns_candidates_ignored"] == 1 and stats["mdns_resolution_timeouts"] == 0
    assert not [c for c in a.agent.remote_candidates if c.type == "prflx"]
    assert a.agent.next_timeout() is not None  # consent goes on; no mDNS timer is left
    assert a.agent._mdns.next_timeout() is None


def test_late_answer_upgrades_the_prflx_candidate() -> None:
    # the first query is lost: the peer's checks make it prflx first, the answer upgrades it
    sim, a, _, fake = _mdns_sim(skip=2)
    assert sim.run(lambda: a.agent.stats["mdns_resolved"] == 1, 10)
    assert a.agent.stats["prflx_remote_learned"] == 1 and fake.queries == 4
    assert sim.run(sim.completed, 10)
    (cand,) = [c for c in a.agent.remote_candidates if c.port == 6000]
    assert cand.type == "host" and cand.address == "10.0.0.2"
    assert all(p.remote is cand for p in a.agent.checklist.pairs)
    sel = a.agent.selected_pair
    assert sel is not None and sel.remote is cand


def test_without_responder_connects_via_prflx_and_gives_up() -> None:
    sim, a, _, _ = _mdns_sim(responder=False, a_controlling=False)
    assert sim.run(sim.completed, 10)
    sel = a.agent.selected_pair
    assert sel is not None and sel.remote.type == "prflx"
    assert sim.run(lambda: a.agent.stats["mdns_resolution_timeouts"] == 1, 10)
    stats = a.agent.stats
    assert sim.clock.now == pytest.approx(3.0, abs=0.2)
    assert stats["mdns_queries_sent"] == 6 and stats["mdns_candidates_ignored"] == 1
    assert stats["mdns_resolved"] == 0 and not a.agent._mdns_waiting
    sim.run(lambda: False, 5)
    assert a.agent.stats["mdns_queries_sent"] == 6 and a.agent.state in CONNECTED


def test_peer_on_port_5353_still_connects() -> None:
    # the peer's own STUN/data from port 5353 is not mistaken for an mDNS answer
    sim, a, b, _ = _mdns_sim(responder=False, b_port=5353)
    assert sim.run(sim.completed, 10)
    assert a.agent.send(b"\x17data")
    assert sim.run(lambda: b"\x17data" in b.app_data, 2)
    assert b.agent.send(b"\x17back")
    assert sim.run(lambda: b"\x17back" in a.app_data, 2)


def _agent(**kw: object) -> ice.Agent:
    agent = ice.Agent(controlling=True, rng=random.Random(9), **kw)  # type: ignore[arg-type]
    agent.set_remote_credentials("ufrag", "p" * 22)
    agent.gather([("fd00::1", 4000), ("10.0.0.1", 5000), ("10.1.0.1", 5001)], 0.0)
    return agent


def _mdns_candidate(name: str = NAME, port: int = 7000) -> sdp.Candidate:
    return sdp.Candidate.parse(f"candidate:1 1 udp 2122260223 {name} {port} typ host")


def test_queries_go_from_every_ipv4_socket_to_the_group() -> None:
    agent = _agent()
    agent.add_remote_candidate(_mdns_candidate())
    out = agent.datagrams_to_send()
    sent = [(local, remote) for _, local, remote in out if remote == MDNS_ADDRESS_V4]
    sockets = [("10.0.0.1", 5000), ("10.1.0.1", 5001)]
    assert sent == [(s, MDNS_ADDRESS_V4) for s in sockets] * 2  # A and AAAA queries


def test_name_signalled_before_gathering_is_queried_once_sockets_exist() -> None:
    """Answering an offer: the `.local` candidate arrives before gather(); the first query is
    kept, not lost, and goes out as soon as there is an IPv4 socket."""
    agent = ice.Agent(controlling=False, rng=random.Random(9))
    agent.set_remote_credentials("ufrag", "p" * 22)
    agent.add_remote_candidate(_mdns_candidate())
    assert [d for d in agent.datagrams_to_send() if d[2] == MDNS_ADDRESS_V4] == []
    agent.gather([("10.0.0.1", 5000)], 0.0)
    sent = [(local, remote) for _, local, remote in agent.datagrams_to_send()]
    assert sent.count((("10.0.0.1", 5000), MDNS_ADDRESS_V4)) == 2  # A and AAAA, at t=0


def test_multicast_answer_via_receive_mdns_resolves_ipv6() -> None:
    agent = _agent()
    agent.add_remote_candidate(_mdns_candidate())
    agent.receive_mdns(build_query(NAME), 0.1)  # our own query looped back: not an answer
    assert agent.stats["mdns_unmatched"] == 1
    agent.receive_mdns(response([(NAME, "fd00::2")]), 0.2)
    cand = _remote_agent(agent, ("fd00::2", 7000))
    assert cand.type == "host" and agent.stats["mdns_resolved"] == 1
    assert [p.local.base for p in agent.checklist.pairs] == [("fd00::1", 4000)]


def _remote_agent(agent: ice.Agent, address: Address) -> sdp.Candidate:
    return next(c for c in agent.remote_candidates if (c.address, c.port) == address)


def test_resolutions_are_bounded_and_relay_only_does_not_resolve() -> None:
    agent = _agent()
    for i in range(20):
        agent.add_remote_candidate(_mdns_candidate(f"{i:08x}-0000-4000-8000-000000000000.local"))
    assert agent.stats["mdns_resolutions_started"] == 16
    assert agent.stats["mdns_resolutions_refused"] == 4
    relay = _agent(relay_only=True)
    relay.add_remote_candidate(_mdns_candidate())
    assert relay.stats["mdns_resolutions_refused"] == 1
    assert not [d for d in relay.datagrams_to_send() if d[2] == MDNS_ADDRESS_V4]


def test_restart_forgets_outstanding_names() -> None:
    agent = _agent()
    agent.add_remote_candidate(_mdns_candidate())
    agent.set_remote_credentials("other", "q" * 22)  # the peer restarted
    assert agent._mdns.next_timeout() is None and NAME not in agent._mdns
    assert agent.receive(response([(NAME, "10.0.0.2")]), ("10.0.0.2", 5353), 0.5) is None
    assert agent.stats["mdns_resolved"] == 0
    assert not any(c.port == 7000 for c in agent.remote_candidates)


def test_garbage_from_port_5353_is_not_fatal() -> None:
    agent = _agent()
    agent.add_remote_candidate(_mdns_candidate())
    for data in (b"\x00", b"\xff" * 40, response([(NAME, "10.0.0.2")])[:-1], b"\x16\xfe\xfd"):
        assert agent.receive(data, ("10.0.0.2", 5353), 0.1, ("10.0.0.1", 5000)) is None
        agent.receive_mdns(data, 0.1)
    assert agent.stats["mdns_resolved"] == 0 and NAME in agent._mdns


# -- Chromium (real mDNS responder) inside a private netns -----------------------------------------


@pytest.mark.interop
def test_chromium_mdns_resolved() -> None:
    from tests.interop.chromium_peer import CHROMIUM
    from tests.interop.netns import private_netns, require

    require(os.path.exists(CHROMIUM), "chromium is not installed")
    require(importlib.util.find_spec("playwright") is not None, "playwright is not installed")
    with private_netns("icemdns") as ns:
        proc = ns.python("-m", "tests.ice.test_mdns", *ns.addresses, timeout=90)
        assert proc.returncode == 0, proc.stderr[-4000:]
        r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "error" not in r, r
    assert r["connected"] and r["chrome_ice_state"] in ("connected", "completed"), r
    stats = r["stats"]
    # Chromium ignores RFC 6762 §6.7: our one-shot query is answered by multicast only
    assert stats["mdns_resolved"] == 1, r
    # the name stands for Chromium's address on `va` (the namespace's first address)
    (port,) = r["signalled_ports"]
    assert {"type": "host", "address": r["addresses"][0], "port": port} in r["remote_candidates"]
    assert r["selected"]["remote_type"] == "host", r


def _chromium_scenario(addresses: list[str]) -> dict[str, object]:
    """Inside the netns: our agent (controlling) with a 5353 group socket, against Chromium."""
    import socket
    import time

    from tests.ice.chromium_scenario import _credentials, _description
    from tests.ice.udp_driver import UdpPeer
    from tests.interop.chromium_peer import ChromiumPeer

    group = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    group.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    group.bind(("", 5353))
    for a in addresses:
        mreq = socket.inet_aton("224.0.0.251") + socket.inet_aton(a)
        group.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    group.setblocking(False)
    peer = UdpPeer(ice.Agent(controlling=True, rng=random.Random(7)), addresses)
    agent = peer.agent
    result: dict[str, object] = {}
    with ChromiumPeer(mdns=True) as chrome:
        chrome.create_channel("ice")
        agent.gather(list(peer.sockets), time.monotonic())
        peer.flush()
        ours = [e.candidate for e in peer.events if isinstance(e, ice.CandidateGathered)]
        answer = chrome.accept_offer(_description(agent, ours, "actpass"))
        agent.set_remote_credentials(*_credentials(answer))
        signalled: list[sdp.Candidate] = []
        held: list[sdp.Candidate | None] = []
        # Chromium announces a new name twice, ~1 s apart (RFC 6762 §8.3); candidates are held
        # back 2 s so that only an answer to our query can resolve the name.
        release_at: list[float] = []

        def forward() -> None:
            now = time.monotonic()
            peer.read(now)
            while True:
                try:
                    data, _ = group.recvfrom(9000)
                except BlockingIOError:
                    break
                agent.receive_mdns(data, now)
            t = agent.next_timeout()
            if t is not None and t <= now:
                agent.handle_timeout(now)
            for _, _, text in chrome.new_candidates():
                cand = sdp.Candidate.parse(text) if text else None
                if cand is not None:
                    signalled.append(cand)
                held.append(cand)
                if not release_at:
                    release_at.append(now + 2.0)
            if release_at and now >= release_at[0]:
                for cand in held:
                    agent.add_remote_candidate(cand)
                held.clear()
            peer.flush()

        def done() -> bool:
            sel = agent.selected_pair
            return (
                agent.stats["mdns_resolved"] > 0
                and sel is not None
                and sel.remote.type == "host"
                and chrome.ice_connection_state() in ("connected", "completed")
            )

        try:
            chrome.wait_until(done, 15, forward, "mDNS resolved and connected")
        except TimeoutError as exc:
            result["error"] = str(exc)[:2000]
        result["connected"] = agent.state in CONNECTED
        result["chrome_ice_state"] = chrome.ice_connection_state()
        result["addresses"] = addresses
        result["signalled_ports"] = [c.port for c in signalled if c.type == "host"]
        result["remote_candidates"] = [
            {"type": c.type, "address": c.address, "port": c.port} for c in agent.remote_candidates
        ]
        sel = agent.selected_pair
        result["selected"] = None if sel is None else {"remote_type": sel.remote.type}
        result["stats"] = dict(agent.stats)
    peer.close()
    group.close()
    return result


if __name__ == "__main__":
    import sys

    print(json.dumps(_chromium_scenario(sys.argv[1:])))
