"""RFC 8445 §5.1.2 / §6.1.2.3 numbers from shared/vectors/ice_timers_priority.txt, foundations."""

from __future__ import annotations

import pytest

import ice
from ice.candidates import candidate_priority, compute_foundation, local_preference, pair_priority


@pytest.mark.parametrize(
    ("type_pref", "local_pref", "component", "expected"),
    [
        (126, 65535, 1, 2130706431),
        (110, 65535, 1, 1862270975),
        (100, 65535, 1, 1694498815),
        (0, 65535, 1, 16777215),
        (126, 65535, 2, 2130706430),
        (126, 32542, 1, 2122260223),
        (126, 30, 1, 2113937151),
        (90, 32542, 1, 1518280447),
        (2, 32542, 1, 41885439),
        (110, 1, 1, 0x6E0001FF),
    ],
)
def test_candidate_priority_vectors(
    type_pref: int, local_pref: int, component: int, expected: int
) -> None:
    assert candidate_priority(type_pref, local_pref, component) == expected


def test_candidate_priority_rejects_out_of_range() -> None:
    with pytest.raises(ValueError):
        candidate_priority(127, 0)
    with pytest.raises(ValueError):
        candidate_priority(0, 65536)
    with pytest.raises(ValueError):
        candidate_priority(0, 0, 0)


def test_pair_priority_vectors() -> None:
    host, srflx, relay = 2130706431, 1694498815, 16777215
    assert pair_priority(host, host) == 9151314442783293438
    assert pair_priority(host, srflx) == 7277816997797167103
    assert pair_priority(srflx, host) == 7277816997797167102
    assert pair_priority(relay, host) == 72057594004373502


def test_local_preference_prefers_ipv6_and_is_unique() -> None:
    prefs = {local_preference(True, i) for i in range(5)} | {
        local_preference(False, i) for i in range(5)
    }
    assert len(prefs) == 10
    assert min(local_preference(True, i) for i in range(5)) > local_preference(False, 0)


def test_foundation_rules() -> None:
    # RFC 8445 §5.1.1.3: same type, base IP, server and transport -> same foundation.
    assert compute_foundation("host", "10.0.0.1") == compute_foundation("host", "10.0.0.1")
    assert compute_foundation("host", "10.0.0.1") != compute_foundation("host", "10.0.0.2")
    assert compute_foundation("host", "10.0.0.1") != compute_foundation("srflx", "10.0.0.1")
    assert compute_foundation("srflx", "10.0.0.1", "1.1.1.1") != compute_foundation(
        "srflx", "10.0.0.1", "2.2.2.2"
    )
    assert compute_foundation("host", "10.0.0.1", transport="UDP") == compute_foundation(
        "host", "10.0.0.1"
    )
    f = compute_foundation("relay", "2001:db8::1", "2001:db8::2")
    assert f.isdigit() and 1 <= len(f) <= 32


def test_gathered_host_candidates_priorities() -> None:
    agent = ice.Agent(controlling=True, local_ufrag="abcd", local_pwd="x" * 24)
    agent.gather([("192.0.2.1", 1000), ("2001:db8::1", 1001), ("192.0.2.2", 1002)], 0.0)
    got = []
    while (ev := agent.next_event()) is not None:
        got.append(ev)
    cands = [e.candidate for e in got if isinstance(e, ice.CandidateGathered)]
    assert isinstance(got[-1], ice.GatheringComplete)
    assert [c.address for c in cands] == ["192.0.2.1", "2001:db8::1", "192.0.2.2"]
    by_addr = {c.address: c for c in cands}
    assert by_addr["2001:db8::1"].priority == candidate_priority(126, 65535)
    assert by_addr["192.0.2.1"].priority == candidate_priority(126, 32767)
    assert by_addr["192.0.2.2"].priority == candidate_priority(126, 32766)
    assert len({c.foundation for c in cands}) == 3
    assert all(c.type == "host" and c.transport == "udp" and c.component == 1 for c in cands)
    assert agent.gathering_state is ice.GatheringState.COMPLETE


def test_credentials_meet_rfc8445_entropy() -> None:
    agent = ice.Agent(controlling=False)
    assert len(agent.local_ufrag) >= 4 and len(agent.local_pwd) >= 22
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    assert set(agent.local_ufrag) <= allowed and set(agent.local_pwd) <= allowed
    assert ice.Agent(controlling=False).local_pwd != agent.local_pwd
    assert 0 <= agent.tie_breaker < 2**64


def test_local_interface_addresses() -> None:
    with_lo = ice.local_interface_addresses(include_loopback=True)
    assert "127.0.0.1" in with_lo
    without = ice.local_interface_addresses()
    assert "127.0.0.1" not in without and "::1" not in without
    assert all(":" not in a for a in ice.local_interface_addresses(ipv6=False))
    v6 = [a for a in with_lo if ":" in a]
    if v6:  # IPv6 addresses come first
        assert with_lo.index(v6[-1]) < with_lo.index("127.0.0.1")
