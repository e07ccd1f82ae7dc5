"""Shared fixtures for the dtls tests: certificates (generated once) and paired connections."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import dtls
from dtls import Certificate, Connection, State
from tests.netsim import Link, VirtualClock, run_pair


@functools.cache
def cert(kind: str = "ecdsa-p256", index: int = 0) -> Certificate:
    del index  # distinct cache keys give distinct certificates
    return Certificate.generate(kind)


def fp(c: Certificate, algorithm: str = "sha-256") -> list[tuple[str, bytes]]:
    return [(algorithm, dtls.fingerprint(c.der, algorithm))]


def make_pair(
    *,
    client_cert: Certificate | None = None,
    server_cert: Certificate | None = None,
    client_kwargs: dict[str, object] | None = None,
    server_kwargs: dict[str, object] | None = None,
    **common: object,
) -> tuple[Connection, Connection]:
    cc = client_cert or cert("ecdsa-p256", 0)
    sc = server_cert or cert("ecdsa-p256", 1)
    ck = {"remote_fingerprints": fp(sc), **common, **(client_kwargs or {})}
    sk = {"remote_fingerprints": fp(cc), **common, **(server_kwargs or {})}
    client = Connection(is_client=True, certificate=cc, **ck)  # type: ignore[arg-type]
    server = Connection(is_client=False, certificate=sc, **sk)  # type: ignore[arg-type]
    return client, server


def both_established(client: Connection, server: Connection) -> bool:
    return client.state is State.ESTABLISHED and server.state is State.ESTABLISHED


def handshake(
    client: Connection,
    server: Connection,
    *,
    clock: VirtualClock | None = None,
    link_ab: Link | None = None,
    link_ba: Link | None = None,
    max_time: float = 120.0,
) -> VirtualClock:
    clock = clock or VirtualClock()
    client.start(clock.now)
    ok = run_pair(
        client,
        server,
        clock=clock,
        until=lambda: both_established(client, server),
        link_ab=link_ab,
        link_ba=link_ba,
        max_time=max_time,
    )
    assert ok, (client.state, server.state, client.stats, server.stats)
    return clock


def events(conn: Connection) -> list[object]:
    out: list[object] = []
    while (ev := conn.next_event()) is not None:
        out.append(ev)
    return out


def deliver(datagrams: Iterable[bytes], to: Connection, now: float = 0.0) -> None:
    for d in datagrams:
        to.receive(d, now)
