"""Godot-style signals: `connect`, `disconnect`, `is_connected`, `emit`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import Error


class Signal:
    """A named list of callables, called in connection order by `emit`."""

    __slots__ = ("_callables", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._callables: list[Callable[..., Any]] = []

    def connect(self, callable_: Callable[..., Any]) -> Error:
        """Connect `callable_`; connecting the same callable twice is `ERR_INVALID_PARAMETER`."""
        if not callable(callable_) or callable_ in self._callables:
            return Error.ERR_INVALID_PARAMETER
        self._callables.append(callable_)
        return Error.OK

    def disconnect(self, callable_: Callable[..., Any]) -> None:
        """Disconnect `callable_` (no-op when it is not connected)."""
        try:
            self._callables.remove(callable_)
        except ValueError:
            pass

    def is_connected(self, callable_: Callable[..., Any]) -> bool:
        return callable_ in self._callables

    def get_connections(self) -> list[Callable[..., Any]]:
        return list(self._callables)

    def emit(self, *args: Any) -> None:
        """Call every connected callable with `args` (changes made meanwhile apply next time)."""
        for fn in tuple(self._callables):
            fn(*args)

    def __repr__(self) -> str:
        return f"<Signal {self.name} ({len(self._callables)} connected)>"
