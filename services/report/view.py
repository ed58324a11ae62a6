"""What a run report shows, as plain data: one view, whichever run it describes.

A replay (:mod:`services.replay.report.view`), a streaming run and a replay of its topic snapshots
(:mod:`services.report.snapshot`) each fill a :class:`RunView`; :func:`services.report.build.build_report`
turns any of them into the same page. Fields a kind of run cannot know are ``None`` (a streaming run has no
ground truth; a replay has no broker, so no dead letters or lag) and the page says so in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from analysis.compare import Comparison
from services.engine.frames import Frame
from services.report.html import Page

RunKind = Literal["replay", "streaming", "snapshot"]


@dataclass(frozen=True, eq=False)
class Compared:
    """Comparisons in the aggregator's order: accepted or not, weight 1/π, and (machine comparisons) whether
    the policy the unit was routed under would have shipped it, i.e. whether it is an *audit* of a shipped-
    eligible unit."""

    accepted: npt.NDArray[np.bool_]
    weight: npt.NDArray[np.float64]
    eligible: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, accepted: list[bool], weight: list[float], eligible: list[bool] | None = None) -> Compared:
        n = len(accepted)
        return cls(np.asarray(accepted, dtype=bool).reshape(n), np.asarray(weight, dtype=np.float64).reshape(n),
                   np.asarray(eligible if eligible is not None else [False] * n, dtype=bool).reshape(n))

    def __len__(self) -> int:
        return int(self.accepted.size)


@dataclass(frozen=True)
class WindowView:
    """The units routed between two recommender steps and the step that closed them."""

    index: int
    seen: int  # units routed by the window's end
    compared: int  # machine comparisons counted by the window's end (the evidence the step saw)
    threshold: float | None  # τ in force while the window was routed (None: nothing ships)
    shipped: int | None  # None: not known (a snapshot without deliveries)
    manual: int | None
    action: str
    rate: float  # the automation rate the step recommended
    reason: str
    stepped: bool = True  # False: the units after the last step
    source: str = ""  # where the window's numbers come from (topic and records, or the replay)
    shipped_true: float | None = None  # replay only: true acceptance of what this window shipped


@dataclass(frozen=True)
class Truth:
    """What only a replay knows: the population's true acceptance and the oracle's automation rate."""

    acceptance: float
    oracle_rate: float | None


@dataclass(frozen=True)
class Backlog:
    """A streaming run's lag over time: units waiting at each stage, read from the topics once a second."""

    seconds: list[float]
    waiting: dict[str, list[int]]  # stage -> units waiting there at each second


@dataclass
class RunView:
    kind: RunKind
    title: str
    unit: str  # "frame" or "clip"
    summary: list[str]  # the headline sentences
    target: float
    alpha: float
    max_weight: float
    windows: list[WindowView]
    machine: Compared  # machine vs the first person
    consensus: Compared  # second person vs the first (the human floor)
    geometry: str = "box2d"  # the geometry kind compared: which picture the gallery draws
    comparison: Comparison | None = None  # machine vs people on the compared frames: per class, gallery
    frame: Callable[[int], Frame | None] | None = None  # a compared frame by id, for the gallery
    truth: Truth | None = None
    provenance: list[tuple[str, str]] = field(default_factory=list)  # (what, where it comes from)
    dead_letters: dict[str, int] | None = None  # reason -> count; None: not a streaming run
    backlog: Backlog | None = None
    extra_agreement: Callable[[Page], None] | None = None  # a clip replay's steps table
    extra_gallery: Callable[[Page], None] | None = None  # a clip replay's step galleries

    @property
    def units(self) -> str:
        return f"{self.unit}s"
