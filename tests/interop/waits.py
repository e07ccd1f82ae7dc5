"""Waiting helpers shared by the harness peers (`AiortcPeer`, `ChromiumPeer`).

Every wait calls `pump()` between checks, so a caller's own poll()-driven peer keeps running while
it waits on the third-party one. A subclass provides the probes (`log`, `connection_state`,
`channel_state`, `remote_channels`), `peer_name` and `wait_interval`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Pump = Callable[[], None] | None


class PeerWaits:
    peer_name = "peer"
    wait_interval = 0.005

    def log(self) -> list[str]:
        raise NotImplementedError

    def connection_state(self) -> str:
        raise NotImplementedError

    def channel_state(self, label: str) -> str | None:
        raise NotImplementedError

    def remote_channels(self) -> list[str]:
        raise NotImplementedError

    def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float,
        pump: Pump = None,
        what: str = "condition",
    ) -> None:
        """Call pump() and check condition() until it holds or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            if pump is not None:
                pump()
            if condition():
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{self.peer_name}: {what} not reached in {timeout}s; log: {self.log()}"
                )
            time.sleep(self.wait_interval)

    def wait_connection_state(self, state: str, timeout: float = 10.0, pump: Pump = None) -> None:
        self.wait_until(
            lambda: self.connection_state() == state, timeout, pump, f"connection {state}"
        )

    def wait_channel_state(
        self, label: str, state: str, timeout: float = 10.0, pump: Pump = None
    ) -> None:
        """Wait for readyState `state`; raises RuntimeError at once if the channel closed."""

        def reached() -> bool:
            current = self.channel_state(label)
            if current == "closed" and state != "closed":
                raise RuntimeError(f"{self.peer_name}: channel {label!r} closed; log: {self.log()}")
            return current == state

        self.wait_until(reached, timeout, pump, f"channel {label!r} {state}")

    def wait_channel_open(self, label: str, timeout: float = 10.0, pump: Pump = None) -> None:
        self.wait_channel_state(label, "open", timeout, pump)

    def wait_remote_channel(self, label: str, timeout: float = 10.0, pump: Pump = None) -> None:
        self.wait_until(
            lambda: label in self.remote_channels(), timeout, pump, f"remote channel {label!r}"
        )
