"""Run the impairment matrix and write its table into docs/ROBUSTNESS.md.

    python -m tests.robustness.matrix_report            # default sizes
    ROBUSTNESS_FULL=1 python -m tests.robustness.matrix_report

The table goes between the `<!-- matrix:begin -->` / `<!-- matrix:end -->` markers
(printed to stdout as well). `--print` only prints.
"""

from __future__ import annotations

import pathlib
import sys

from .matrix import CELLS, FULL, LIFE_MS, Result, _names, run_cell

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "ROBUSTNESS.md"
BEGIN, END = "<!-- matrix:begin -->", "<!-- matrix:end -->"


def _fmt(t: float | None) -> str:
    return "-" if t is None else f"{t:.2f}"


def row(r: Result) -> str:
    c = r.cell
    verdict = "pass" if r.ok else ("**FAIL (known bug)**" if c.bug else "**FAIL**")
    probes = " / ".join(f"{got}/{sent}" for got, sent in r.probes.values()) or "-"
    size = f"{(c.up_bytes + c.down_bytes) // 1024 * (16 if FULL else 1)} KiB"
    states = _names(r.states_a)
    if r.states_b != r.states_a:
        states += f" ; b: {_names(r.states_b)}"
    return (
        f"| {c.name} | {_fmt(r.connect_time)} | {_fmt(r.transfer_time)} | {size} | {probes} "
        f"| {states} | {verdict} |"
    )


def table(results: list[Result]) -> str:
    lines = [
        f"Sizes: {'ROBUSTNESS_FULL=1' if FULL else 'default'}; lifetime {LIFE_MS} ms;"
        " probes = delivered/sent on rtx0 / life / lifeu; times in virtual seconds"
        " (connect = until both peers are CONNECTED and all 4 channels open on both sides;"
        " transfer = until both reliable streams are complete, incl. the event).",
        "",
        "| cell | connect s | transfer s | reliable | probes | states (a ; b) | result |",
        "|---|---|---|---|---|---|---|",
        *(row(r) for r in results),
    ]
    failures = [r for r in results if not r.ok]
    if failures:
        lines += ["", "Failures:", ""]
        for r in failures:
            lines.append(f"- {r.cell.name}: " + "; ".join(r.failures))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    results = []
    for cell in CELLS:
        results.append(run_cell(cell))
        print(row(results[-1]), file=sys.stderr)
    text = table(results)
    print(text)
    if "--print" not in argv and DOC.exists():
        doc = DOC.read_text()
        if BEGIN in doc and END in doc:
            head, rest = doc.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
            print(f"updated {DOC}", file=sys.stderr)
    unexpected = [r for r in results if r.ok == bool(r.cell.bug)]
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
