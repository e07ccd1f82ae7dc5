"""What a scenario is and what it decides: `Scenario`, `Verdict`, `Outcome`, `Result`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import Context

__all__ = ["Outcome", "Result", "Scenario", "ScenarioFailed", "Verdict"]

MAX_NOTES = 40
MAX_TEXT = 2000  # characters of one expected/observed/note text kept in a result


class Verdict(Enum):
    """How a scenario ended against one stack."""

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "n/a"
    UNAVAILABLE = "unavailable"  # the peer kind could not be started on this machine


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Outcome:
    """A scenario's decision: the verdict and its evidence (expected vs observed)."""

    verdict: Verdict
    expected: str
    observed: str
    notes: list[str] = field(default_factory=list)
    focus: float | None = None  # trace time the evidence centres on (None: the end)

    @classmethod
    def check(cls, ok: bool, expected: str, observed: str, **kw: Any) -> Outcome:
        return cls(Verdict.PASS if ok else Verdict.FAIL, expected, observed, **kw)

    @classmethod
    def not_applicable(cls, why: str) -> Outcome:
        return cls(Verdict.NOT_APPLICABLE, "", why)


class ScenarioFailed(Exception):
    """Raised inside a scenario to end it with a FAIL verdict (e.g. a wait that timed out)."""

    def __init__(self, expected: str, observed: str) -> None:
        super().__init__(observed)
        self.expected = expected
        self.observed = observed


@dataclass(frozen=True)
class Scenario:
    """One RFC-cited check. `run(ctx)` returns the Outcome; `peers` limits the peer kinds it
    applies to (None = all); `slow` marks the long ones (seconds of timers); `level` is the
    strength of the rule: "MUST", "SHOULD", or "practice" (what deployed stacks do where the
    RFCs leave it open)."""

    id: str
    rfc: str  # "RFC 8832 §5.1"
    sentence: str  # the RFC's rule, quoted or paraphrased
    expects: str  # what a conforming peer does here
    decides: str  # how the verdict is reached
    run: Callable[[Context], Outcome]
    peers: frozenset[str] | None = None
    slow: bool = False
    level: str = "MUST"

    def describe(self) -> dict[str, str]:
        return {
            "id": self.id,
            "rfc": self.rfc,
            "sentence": self.sentence,
            "expects": self.expects,
            "decides": self.decides,
            "level": self.level,
        }


@dataclass
class Result:
    """A scenario's result against one stack, with the evidence the report shows."""

    scenario: str
    peer: str
    verdict: Verdict
    rfc: str = ""
    sentence: str = ""
    expected: str = ""
    observed: str = ""
    notes: list[str] = field(default_factory=list)
    duration: float = 0.0
    trace: list[dict[str, Any]] = field(default_factory=list)  # --trace-json records
    wire: list[str] = field(default_factory=list)  # the proxy's view, one line per datagram

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "peer": self.peer,
            "verdict": self.verdict.value,
            "rfc": self.rfc,
            "sentence": self.sentence,
            "expected": clip(self.expected),
            "observed": clip(self.observed),
            "notes": [clip(n, 400) for n in self.notes[:MAX_NOTES]],
            "duration": round(self.duration, 3),
            "trace": self.trace,
            "wire": self.wire,
        }
