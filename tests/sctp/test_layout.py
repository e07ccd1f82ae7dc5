"""The shape issue 14 asked for: no module of the sctp package over 1,000 lines, and the
association's parts reachable as its public attributes."""

from __future__ import annotations

import pathlib

import sctp

PACKAGE = pathlib.Path(sctp.__file__).parent


def test_no_module_over_1000_lines() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    assert sizes and all(n <= 1000 for n in sizes.values()), sizes


def test_parts_of_an_association() -> None:
    assoc = sctp.Association(is_client=True)
    for name in ("rx", "tx", "writer", "timers", "rto", "errors", "handshake", "heartbeat"):
        assert getattr(assoc, name) is not None, name
    for name in ("reset", "pl", "channels", "stats"):
        assert getattr(assoc, name) is not None, name
    # the data plane's entry points are the parts' own methods (no wrapper frame)
    assert assoc.send == assoc.tx.send
    assert assoc.next_event == assoc.rx.next_event
    assert assoc.next_timeout == assoc.timers.next_timeout
