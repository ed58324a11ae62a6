"""Start-up of the ``shadowqa`` command against the interpreter's own start, in the same run.

Each row is a fresh process (the console script in .venv/bin, as a user runs it); the baseline is
``python -c pass`` with the same interpreter and site-packages, so the ratio is what shadowqa adds.
``--help`` builds the whole parser; ``gate --help`` a command whose options are light; ``compare --help``
one whose options come from analysis/ (numpy), added when that command parses (``Parser.defer``).
"""

from __future__ import annotations

import os
import sys

from benchmarks.harness import ROOT, Timing, machine, time_process, write_section

SHADOWQA = str(ROOT / ".venv" / "bin" / "shadowqa")
CASES = (
    ("`python -c pass` (baseline)", [sys.executable, "-c", "pass"]),
    ("`shadowqa --help`", [SHADOWQA, "--help"]),
    ("`shadowqa --version`", [SHADOWQA, "--version"]),
    ("`shadowqa gate --help`", [SHADOWQA, "gate", "--help"]),
    ("`shadowqa compare --help`", [SHADOWQA, "compare", "--help"]),
)


def main(*, quick: bool = False) -> dict[str, float]:
    repeat = 3 if quick else 15
    for _, argv in CASES:  # one untimed start each: the page cache and .pyc files are warm for every row
        time_process(argv, 1)
    timings = [time_process(argv, repeat) for _, argv in CASES]
    baseline = timings[0].median
    ratios = {label: t.median / baseline for (label, _), t in zip(CASES, timings, strict=True)}
    body = _report(timings, ratios, repeat, quick)
    print(body)
    if not quick:
        write_section("cli-start", body)
    return ratios


def _report(timings: list[Timing], ratios: dict[str, float], repeat: int, quick: bool) -> str:
    rows = [f"| {label} | {t.median:.3f} | {ratios[label]:.1f}× |"
            for (label, _), t in zip(CASES, timings, strict=True)]
    return "\n".join([
        "## CLI start-up (`benchmarks/cli_start.py`)", "",
        f"Median of {repeat} fresh processes each, output discarded; {machine()}."
        + (" No .pyc files are written here (PYTHONDONTWRITEBYTECODE): shadowqa's modules compile at every start."
           if os.environ.get("PYTHONDONTWRITEBYTECODE") else "")
        + (" QUICK SMOKE RUN, not a measurement." if quick else ""), "",
        "| command | median s | × `python -c pass` |", "|---|---:|---:|", *rows,
    ])
