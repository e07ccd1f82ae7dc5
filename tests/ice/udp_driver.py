"""A tiny test-only synchronous driver: ICE agents on real non-blocking UDP sockets (loopback)."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable

import ice


class UdpPeer:
    def __init__(self, agent: ice.Agent, hosts: list[str]) -> None:
        self.agent = agent
        self.sockets: dict[tuple[str, int], socket.socket] = {}
        for host in hosts:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((host, 0))
            s.setblocking(False)
            self.sockets[s.getsockname()] = s
        self.events: list[ice.Event] = []
        self.app_data: list[bytes] = []

    def flush(self) -> None:
        for data, local, remote in self.agent.datagrams_to_send():
            self.sockets[local].sendto(data, remote)
        while (ev := self.agent.next_event()) is not None:
            self.events.append(ev)

    def read(self, now: float) -> None:
        for local, s in self.sockets.items():
            while True:
                try:
                    data, addr = s.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    break
                out = self.agent.receive(data, addr, now, local)
                if out is not None:
                    self.app_data.append(out)

    def close(self) -> None:
        self.agent.close()
        self.flush()
        for s in self.sockets.values():
            s.close()


def run(peers: list[UdpPeer], until: Callable[[], bool], timeout: float) -> bool:
    """Pump until `until()` or `timeout` seconds of real time (a safety net, never asserted on)."""
    end = time.monotonic() + timeout
    all_socks = [s for p in peers for s in p.sockets.values()]
    while True:
        now = time.monotonic()
        for p in peers:
            p.read(now)
            t = p.agent.next_timeout()
            if t is not None and t <= now:
                p.agent.handle_timeout(now)
            p.flush()
        if until():
            return True
        if now >= end:
            return False
        select.select(all_socks, [], [], 0.005)
