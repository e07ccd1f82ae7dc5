"""The one error type of the `sdp` package."""

from __future__ import annotations


class ParseError(ValueError):
    """Malformed SDP text or attribute value.

    `line_number` is 1-based for errors found by `sdp.parse`; it is 0 when the bad value did not
    come from a parsed description (e.g. `Candidate.parse("...")` or a typed accessor on a
    programmatically built description). `line` is the offending line without its line ending
    ("" when not known).
    """

    def __init__(self, message: str, line_number: int = 0, line: str = "") -> None:
        self.message = message
        self.line_number = line_number
        self.line = line
        super().__init__(message, line_number, line)

    def __str__(self) -> str:
        if self.line_number:
            return f"line {self.line_number}: {self.message}: {self.line!r}"
        return self.message
