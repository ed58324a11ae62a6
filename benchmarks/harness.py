"""Timing helpers and the BENCHMARKS.md writer (one section per benchmark)."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "BENCHMARKS.md"
DATA = ROOT / "benchmarks" / ".data"


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated runs; the median is what ratios use."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def rate(self, items: int) -> float:
        return items / self.median


def time_call(fn: Callable[[], object], repeat: int = 3, *, warm_up: bool = True) -> Timing:
    """Median-ready timings of ``fn``; one untimed call first fills caches and lazy imports."""
    if warm_up:
        fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return Timing(tuple(runs))


def time_process(argv: Sequence[str], repeat: int = 3) -> Timing:
    def run() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)

    return time_call(run, repeat, warm_up=False)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = REPORT.read_text() if REPORT.exists() else _HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text.rstrip()}\n\n{block}\n"
    REPORT.write_text(text)


_HEADER = """# Benchmarks

Written by `make bench` (`python -m benchmarks`). Each section is rewritten by
its own benchmark; numbers are medians of repeated runs, and every speed is
given as a ratio to a baseline measured in the same run on the same data.
"""
