"""Property helpers for codecs (needs hypothesis: `pip install '.[testing]'`).

Apply them to your own encoder/decoder with the strategies of `sdp.strategies`,
`ice.strategies`, `dtls.strategies`, `sctp.strategies` (or your own)::

    from webrtc.testing.properties import round_trip, rejects
    test_candidates = round_trip(sdp_strategies.candidates(), str, my_parse_candidate)
    test_bad_lines = rejects(sdp_strategies.mutated_candidate_lines(), my_parse_candidate,
                             MyParseError)

Each returns a zero-argument function running the property under hypothesis: a test function
pytest collects (assign it to a `test_*` name) or that you call yourself. A failure raises
AssertionError naming the smallest example hypothesis found (and the seed to replay it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

__all__ = ["check_rejects", "check_round_trip", "rejects", "round_trip"]

T = TypeVar("T")
E = TypeVar("E")


def check_round_trip(
    value: T,
    encode: Callable[[T], E],
    decode: Callable[[E], T],
    *,
    eq: Callable[[T, T], bool] | None = None,
) -> None:
    """Assert `decode(encode(value)) == value` (or `eq(decoded, value)`)."""
    encoded = encode(value)
    decoded = decode(encoded)
    same = eq(decoded, value) if eq is not None else decoded == value
    if not same:
        raise AssertionError(
            f"round trip changed the value:\n  value:   {value!r}\n  encoded: {encoded!r}\n"
            f"  decoded: {decoded!r}"
        )


def check_rejects(
    data: Any,
    decode: Callable[[Any], object],
    error: type[BaseException] | tuple[type[BaseException], ...],
) -> None:
    """Assert `decode(data)` raises `error` and nothing else (a decoder must be total)."""
    try:
        result = decode(data)
    except error:
        return
    except Exception as exc:
        raise AssertionError(
            f"decoder raised {type(exc).__name__} instead of {error!r} on {data!r}: {exc}"
        ) from exc
    raise AssertionError(f"decoder accepted a mutated input {data!r} -> {result!r}")


def round_trip(
    strategy: st.SearchStrategy[T],
    encode: Callable[[T], E],
    decode: Callable[[E], T],
    *,
    eq: Callable[[T, T], bool] | None = None,
    max_examples: int | None = None,
) -> Callable[[], None]:
    """A property: for every value of `strategy`, `decode(encode(value)) == value`."""

    def prop(value: T) -> None:
        check_round_trip(value, encode, decode, eq=eq)

    return _wrap(prop, strategy, max_examples)


def rejects(
    strategy: st.SearchStrategy[Any],
    decode: Callable[[Any], object],
    error: type[BaseException] | tuple[type[BaseException], ...],
    *,
    max_examples: int | None = None,
) -> Callable[[], None]:
    """A property: every input of `strategy` makes `decode` raise `error` (never another)."""

    def prop(data: Any) -> None:
        check_rejects(data, decode, error)

    return _wrap(prop, strategy, max_examples)


def _wrap(
    prop: Callable[[Any], None], strategy: st.SearchStrategy[Any], max_examples: int | None
) -> Callable[[], None]:
    test: Callable[[], None] = given(strategy)(prop)
    if max_examples is not None:
        test = settings(max_examples=max_examples)(test)
    return test
