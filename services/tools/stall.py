"""Telling a slow pipeline run from a stuck one, and naming the stage that stopped.

A run on a busy machine may take as long as it needs while something still
moves; it is stuck when none of its counts (frames fed, through the engine,
routed, annotated, compared, in the stats, dead letters) has changed for a
stall window. The stage to blame is the first one, in the pipeline's order,
that still has work waiting: the stages after it wait for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from services.loop.tally import Tally


@dataclass(frozen=True)
class Stage:
    """How far one stage of the run got: ``done`` of the ``of`` items its upstream has handed it so far."""

    name: str  # who does the work: "the engine", "the annotators", ...
    items: str  # what is counted: "frames through the engine", ...
    done: int
    of: int

    @property
    def waiting(self) -> bool:
        return self.done < self.of

    def line(self) -> str:
        return f"{self.name}: {self.done:,} of {self.of:,} {self.items}"


def stages(tally: Tally, fed: int, frames: int, clip_length: int | None = None) -> list[Stage]:
    """Every stage of a run of ``frames`` frames with ``fed`` fed so far, in the pipeline's order; with
    ``clip_length``, a run of clips of that many frames (the engine answers each clip once it has all its frames)."""
    unit = "frames" if clip_length is None else "clips"
    return [
        Stage("the feed", "frames fed", fed, frames),
        Stage("the engine", f"{unit} through the engine", len(tally.results),
              fed if clip_length is None else fed // clip_length),
        Stage("the router", f"answered {unit} routed", tally.routed, len(tally.results)),
        Stage("the annotators", "tasks annotated", len(tally.annotated & tally.tasks), len(tally.tasks)),
        Stage("the comparator", "annotations compared", len(tally.comparisons), tally.expected_comparisons),
        Stage("the aggregator", "comparisons in the stats", tally.aggregated, len(tally.comparisons)),
    ]


def stalled_stage(tally: Tally, fed: int, frames: int, clip_length: int | None = None) -> Stage | None:
    """The first stage with work waiting (None: none waits)."""
    return next((s for s in stages(tally, fed, frames, clip_length) if s.waiting), None)


def movement(tally: Tally, fed: int) -> tuple[int, ...]:
    """Every count of the run: while any of them changes, the run moves."""
    return (fed, len(tally.results), len(tally.shipped), len(tally.queued), len(tally.tasks), len(tally.annotated),
            tally.comparison_records, tally.aggregated, len(tally.stats), tally.policies, tally.dead_letters,
            tally.invalid)


class StallWatch:
    """How long the counts it is shown have stayed the same."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: tuple[int, ...] | None = None
        self._since = clock()

    def still_s(self, counts: tuple[int, ...]) -> float:
        """Seconds since ``counts`` last differed from the counts shown before (0 when they just changed)."""
        now = self._clock()
        if counts != self._last:
            self._last, self._since = counts, now
        return now - self._since


def stall_message(tally: Tally, fed: int, frames: int, still_s: float, clip_length: int | None = None) -> str:
    """Which stage stalled, with its counts and every stage's, for the error a stalled run raises."""
    every = stages(tally, fed, frames, clip_length)
    stage = next((s for s in every if s.waiting), None)
    head = (f"{stage.name} stalled: nothing moved for {still_s:.0f} s with {stage.done:,} of {stage.of:,} "
            f"{stage.items}" if stage is not None else f"the run stalled: nothing moved for {still_s:.0f} s")
    return f"{head} ({'; '.join(s.line() for s in every)})"
