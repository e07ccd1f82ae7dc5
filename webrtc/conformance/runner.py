"""Runs scenarios against one peer kind; every ending (timeout, exception) becomes a verdict."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Iterable
from typing import TextIO

from .context import Context, RunOptions
from .model import Outcome, Result, Scenario, ScenarioFailed, Verdict
from .peers.base import PeerAdapter, PeerUnavailable, PeerUnscriptable

__all__ = ["run_catalog", "run_scenario"]


def run_scenario(
    scenario: Scenario,
    peer_kind: str,
    make_peer: Callable[[], PeerAdapter],
    options: RunOptions,
) -> Result:
    """One scenario against one peer kind; never raises (but KeyboardInterrupt)."""
    started = time.monotonic()
    if scenario.peers is not None and peer_kind not in scenario.peers:
        outcome = Outcome.not_applicable(f"not run against {peer_kind}")
        return _result(scenario, peer_kind, outcome, started, ([], []))
    ctx = Context(peer_kind, make_peer, options)
    try:
        outcome = scenario.run(ctx)
    except ScenarioFailed as exc:
        outcome = Outcome(Verdict.FAIL, exc.expected, exc.observed)
    except PeerUnavailable as exc:
        outcome = Outcome(Verdict.UNAVAILABLE, "", str(exc))
    except PeerUnscriptable as exc:
        outcome = Outcome.not_applicable(str(exc))
    except Exception as exc:  # the peer adapter or the peer itself broke: that is a verdict
        tail = traceback.format_exception(type(exc), exc, exc.__traceback__)[-3:]
        outcome = Outcome(
            Verdict.FAIL, "the scenario runs to its end", f"{exc!r}", notes=["".join(tail)]
        )
    try:
        evidence = ctx.evidence(outcome.focus) if outcome.verdict is Verdict.FAIL else ([], [])
    except Exception as exc:
        evidence = ([], [f"evidence unavailable: {exc!r}"])
    ctx.close()
    return _result(scenario, peer_kind, outcome, started, evidence)


def _result(
    scenario: Scenario,
    peer_kind: str,
    outcome: Outcome,
    started: float,
    evidence: tuple[list[dict[str, object]], list[str]],
) -> Result:
    trace, wire = evidence
    return Result(
        scenario=scenario.id,
        peer=peer_kind,
        verdict=outcome.verdict,
        rfc=scenario.rfc,
        sentence=scenario.sentence,
        expected=outcome.expected,
        observed=outcome.observed,
        notes=list(outcome.notes),
        duration=time.monotonic() - started,
        trace=trace,
        wire=wire,
    )


def run_catalog(
    scenarios: Iterable[Scenario],
    peer_kind: str,
    make_peer: Callable[[], PeerAdapter],
    options: RunOptions,
    progress: TextIO | None = sys.stderr,
) -> list[Result]:
    """Every scenario in order; once the peer kind proves unavailable the rest are too."""
    results: list[Result] = []
    unavailable: str | None = None
    for sc in scenarios:
        if progress is not None:
            print(f"[{peer_kind}] {sc.id} ...", end="", file=progress, flush=True)
        if unavailable is not None:
            outcome = Outcome(Verdict.UNAVAILABLE, "", unavailable)
            r = _result(sc, peer_kind, outcome, time.monotonic(), ([], []))
        else:
            r = run_scenario(sc, peer_kind, make_peer, options)
            if r.verdict is Verdict.UNAVAILABLE:
                unavailable = r.observed
        results.append(r)
        if progress is not None:
            print(f" {r.verdict.value} ({r.duration:.1f} s)", file=progress, flush=True)
            if r.verdict is not Verdict.PASS:
                print(f"    expected: {r.expected}\n    observed: {r.observed}", file=progress)
    return results
