"""The pipeline benchmark's BENCHMARKS.md section: medians over rounds, CPU per worker, before → after, profiles."""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from benchmarks.harness import machine
from benchmarks.worker_cpu import Profile

BASELINE_NAME = "SHADOWQA_BENCH_BASELINE_NAME"  # what the baseline is, for the notes (e.g. its commit)
BASELINE = "SHADOWQA_BENCH_BASELINE"  # a source tree (``git archive`` of an earlier commit) measured interleaved
BOUND = ("What bounds it: every record costs each faust worker its trip through aiokafka's fetcher, faust's "
         "consumer thread and conductor, the stream and `take_events` (\"consuming\" above), and every record sent "
         "its trip through aiokafka's producer; per frame the router takes 1 record and sends ~1, the comparator takes "
         "~3.1 (result, task, ~1.1 annotations) and sends ~2 (comparison, state entry), persist takes ~3.3 (it reads "
         "the automation results for the tasks' model versions). What is left of our own work is the strict "
         "validation of every message at the edge (the error policy: invalid records are dead-lettered where they "
         "enter) and the comparison. On this machine the four workers, the broker, PostgreSQL and the benchmark's "
         "producer share two cores, with the other helpers' runs beside them: the CPU ms per frame of the four "
         "workers added up is the floor of the cores a rate needs (1,000 frames/s at 2.5 ms/frame: 2.5 cores).")


@dataclass
class Round:
    """One round's measurements: raw loop, pipeline throughput (with CPU per worker), latency per paced rate,
    and the baseline tree's passes (throughput and the highest rate) interleaved with them."""

    raw: float
    pipe: float
    persist: float  # frames/s from the first worker ready to the database holding every comparison
    cpu_ms: dict[str, float]  # CPU ms per frame, per worker, in the throughput pass
    paced: dict[float, tuple[float, float, dict[str, float]]]  # rate -> p50 s, p99 s, CPU ms per frame
    baseline: dict[str, Any] | None = None  # "throughput" and "paced": one_pass's documents



@dataclass(frozen=True)
class Setup:
    """What the rounds ran: frames and input records of the throughput pass, the paced passes' seconds and warm-up,
    the recording's size."""

    n: int
    messages: int
    seconds: int
    warm_up_s: int
    unique: int


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def section(measured: list[Round], profiles: dict[str, Profile], setup: Setup, *, quick: bool) -> str:
    """The BENCHMARKS.md section: medians over the rounds, CPU per worker, each worker's top functions."""
    ratio = [m.pipe / m.raw for m in measured]
    rates, roles, n = sorted(measured[0].paced), list(measured[0].cpu_ms), setup.n
    lines = [
        "## Streaming pipeline (`benchmarks/pipeline.py`)", "",
        f"Kafka 4.4.0 (single node, this machine), 4 partitions, one worker process per role (router, comparator, "
        f"aggregator, persist into a fresh {_database_kind()} database; automation results replayed from a "
        f"recording of {setup.unique:,} frames, people answering at once); {machine()}; medians of {len(measured)} "
        f"rounds, each round the raw loop, then the pipeline, then the paced passes."
        + (" QUICK SMOKE RUN, not a measurement." if quick else ""), "",
        "| measure | value |", "|---|---:|",
        f"| raw kafka-python consume→produce loop over the {n:,} automation results (ceiling) | "
        f"{median(m.raw for m in measured):,.0f} records/s |",
        f"| pipeline: {n:,} frames ({setup.messages:,} input records) from the first worker ready to the agreement "
        f"stats counting the last comparison | {median(m.pipe for m in measured):,.0f} frames/s |",
        f"| **pipeline / raw loop** (per round: {', '.join(f'{r:.2f}' for r in ratio)}) | "
        f"**{median(ratio):.2f}** |",
        f"| persist: the database holding every comparison | {median(m.persist for m in measured):,.0f} frames/s |",
    ]
    for rate in rates:
        p50, p99 = (median(m.paced[rate][0] for m in measured) * 1000,
                    median(m.paced[rate][1] for m in measured) * 1000)
        lines += [
            f"| latency, annotation produced → agreement stats counting it, at {rate:,.0f} frames/s for "
            f"{setup.seconds} s (after {setup.warm_up_s} s of warm-up): p50 / **p99** | "
            f"{p50:,.0f} / **{p99:,.0f}** ms |"]
    lines += ["", "CPU ms per frame, per worker (user + system, from the worker ready to the pass done):", "",
              "| worker | throughput pass | " + " | ".join(f"at {r:,.0f} frames/s" for r in rates) + " |",
              "|---|---:|" + "---:|" * len(rates)]
    for role in roles:
        lines.append(f"| {role} | {median(m.cpu_ms[role] for m in measured):.2f} | "
                     + " | ".join(f"{median(m.paced[r][2][role] for m in measured):.2f}" for r in rates) + " |")
    if any(m.baseline for m in measured):
        lines += _before_after(measured)
    if profiles:
        lines += ["", "Where the time goes (py-spy, one throughput pass; shares of each worker's busy samples by kind "
                  "of work, then the top functions by self time; full lists in `benchmarks/profiles/pipeline-*.txt`):",
                  ""]
        for role, p in profiles.items():
            kinds = "; ".join(f"{kind} {share * 100:.0f} %" for kind, share in p.breakdown())
            top = "; ".join(f"`{f}` {share * 100:.0f} %" for f, share in p.top("self", 5))
            lines.append(f"- **{role}** ({p.samples} samples): {kinds}. Top self: {top}")
        lines += ["", BOUND]
    return "\n".join(lines)


def _database_kind() -> str:
    return "PostgreSQL" if os.environ.get("SHADOWQA_TEST_DATABASE_URL") else "SQLite"


def _before_after(measured: list[Round]) -> list[str]:
    """The baseline tree's passes against this tree's from the same rounds; the ratio is the median of the rounds'
    own ratios (paired: the machine's load moves between rounds more than between a round's passes)."""
    rate = max(measured[0].paced)
    pairs = [(m.baseline, m) for m in measured if m.baseline]
    lines = ["", f"Before → after, interleaved in the same rounds (before: the tree in `{BASELINE}`, "
             f"{os.environ.get(BASELINE_NAME, 'an earlier commit')}):", "",
             "| measure | before | after | after / before (median of the rounds' ratios) |", "|---|---:|---:|---:|"]

    def row(label: str, before: list[float], after: list[float], fmt: str) -> str:
        ratio = median(a / b for a, b in zip(after, before, strict=True))
        return f"| {label} | {median(before):{fmt}} | {median(after):{fmt}} | {ratio:.2f} |"

    lines.append(row("pipeline throughput, frames/s", [b["throughput"]["fps"] for b, _ in pairs],
                     [m.pipe for _, m in pairs], ",.0f"))
    lines.append(row(f"p99 at {rate:,.0f} frames/s, ms", [b["paced"]["p99"] * 1000 for b, _ in pairs],
                     [m.paced[rate][1] * 1000 for _, m in pairs], ",.0f"))
    for role in measured[0].cpu_ms:
        lines.append(row(f"{role} CPU ms/frame, throughput pass", [b["throughput"]["cpu_ms"][role] for b, _ in pairs],
                         [m.cpu_ms[role] for _, m in pairs], ".2f"))
        lines.append(row(f"{role} CPU ms/frame, at {rate:,.0f} frames/s",
                         [b["paced"]["cpu_ms"][role] for b, _ in pairs], [m.paced[rate][2][role] for _, m in pairs],
                         ".2f"))
    return lines


