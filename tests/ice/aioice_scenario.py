"""Our ICE agent against aioice over real UDP. Runs INSIDE a private network namespace.

Usage: python -m tests.ice.aioice_scenario ADDRESS [ADDRESS...]
Prints one JSON object: per role assignment, states, selected pair and data exchanged.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from typing import Any

import aioice

import ice
import sdp
from tests.ice.udp_driver import UdpPeer


class Driver(UdpPeer):
    """`UdpPeer` (non-blocking UDP sockets) driven from asyncio, on the loop's clock."""

    def __init__(self, agent: ice.Agent, addresses: list[str]) -> None:
        super().__init__(agent, addresses)
        self.loop = asyncio.get_running_loop()
        self.stop = False

    def now(self) -> float:
        return self.loop.time()

    def step(self) -> None:
        now = self.now()
        self.read(now)
        t = self.agent.next_timeout()
        if t is not None and t <= now:
            self.agent.handle_timeout(now)
        self.flush()

    async def run(self) -> None:
        while not self.stop:
            self.step()
            await asyncio.sleep(0.002)


async def wait_for(cond: Any, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if cond():
            return True
        await asyncio.sleep(0.01)
    return bool(cond())


async def scenario(addresses: list[str], we_control: bool, seed: int) -> dict[str, Any]:
    result: dict[str, Any] = {"we_control": we_control}
    agent = ice.Agent(controlling=we_control, rng=random.Random(seed))
    driver = Driver(agent, addresses)
    theirs = aioice.Connection(ice_controlling=not we_control, use_ipv6=False)
    await theirs.gather_candidates()
    result["aioice_candidates"] = [c.to_sdp() for c in theirs.local_candidates]

    agent.gather(list(driver.sockets), driver.now())
    driver.step()
    ours = [e.candidate for e in driver.events if isinstance(e, ice.CandidateGathered)]
    result["our_candidates"] = [str(c) for c in ours]

    agent.set_remote_credentials(theirs.local_username, theirs.local_password)
    theirs.remote_username = agent.local_ufrag
    theirs.remote_password = agent.local_pwd
    for c in theirs.local_candidates:
        agent.add_remote_candidate(sdp.Candidate.parse(c.to_sdp()))
    agent.add_remote_candidate(None)
    for ours_c in ours:
        await theirs.add_remote_candidate(aioice.Candidate.from_sdp(ours_c.value()))
    await theirs.add_remote_candidate(None)

    task = asyncio.create_task(driver.run())
    try:
        await asyncio.wait_for(theirs.connect(), 20)
        result["aioice_connected"] = True
        ok = await wait_for(
            lambda: agent.state in (ice.IceState.CONNECTED, ice.IceState.COMPLETED), 10
        )
        result["our_connected"] = ok
        sel = agent.selected_pair
        result["selected"] = (
            None
            if sel is None
            else {
                "local": list(sel.local.base),
                "remote": list(sel.remote_address),
                "remote_type": sel.remote.type,
            }
        )
        # application data both ways
        await theirs.send(b"\x17from-aioice")
        result["we_received"] = await wait_for(lambda: b"\x17from-aioice" in driver.app_data, 5)
        result["send_ok"] = agent.send(b"\x17from-ours")
        got = await asyncio.wait_for(theirs.recv(), 5)
        result["they_received"] = got == b"\x17from-ours"
        # a few more rounds
        for i in range(20):
            agent.send(b"\x17n%d" % i)
        received = [await asyncio.wait_for(theirs.recv(), 5) for _ in range(20)]
        result["they_received_burst"] = received == [b"\x17n%d" % i for i in range(20)]
        result["our_role_final"] = agent.controlling
        result["states"] = [e.state.value for e in driver.events if isinstance(e, ice.StateChanged)]
        result["stats"] = dict(agent.stats)
    except Exception as exc:  # report, don't hide: the pytest side asserts on the fields
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        driver.stop = True
        await task
        await theirs.close()
        driver.close()
    return result


async def main(addresses: list[str]) -> None:
    results = []
    for i, we_control in enumerate((True, False)):
        results.append(await scenario(addresses, we_control, seed=i + 1))
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
