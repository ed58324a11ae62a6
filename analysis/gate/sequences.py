"""Anytime-valid confidence sequences for a mean acceptance rate under 1/π weights, as a fold.

The capital processes of :mod:`analysis.gate.betting` are kept on the grid of
candidate means {0, 1/r, …, 1} ∪ {target}. The lower bound L is the largest
grid point the lower-side gambler has rejected (acceptance is above it), the
upper bound U the smallest the upper-side gambler has rejected (acceptance is
below it); each holds with probability ≥ 1 − α at every time at once, however
often it is read. λ̃ does not depend on m, so at any time the rejected points of
each side form one run from its end of the grid ([0, L], [U, 1]).

Only the points strictly between L and U are tracked. Those at or below L are
settled for good (L is a running maximum); those at or beyond the other side's
bound are dropped — never rejecting a point is always valid, and it keeps
L < U, so a stream cannot both pass and fail. Were both sides to claim the same
points in one step (evidence against any constant rate), neither moves. The
window shrinks to a few dozen points, which keeps streams of 10⁵ frames fast
and a one-frame update cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis.annotations.model_types import BoolArray, FloatArray, IntArray
from analysis.exceptions import InvalidInput
from analysis.gate import betting
from analysis.gate.betting import Side

_CELLS_PER_CHUNK = 1 << 21  # observations x tracked points held at once (16 MB per array)
_FIRST_CHUNK = 256  # small first batches: the window narrows fast at the start of a stream


@dataclass(frozen=True)
class SequenceState:
    """Plain data: what the capital processes need to go on (storable as JSON).

    ``log_lower`` / ``log_upper`` are the log capitals at the grid points strictly
    between ``lower`` and ``upper``; empty before the first observation (all 0).
    """

    n: int = 0
    sum_v: float = 0.0
    sum_va: float = 0.0
    sum_sq: float = 0.0
    lower: float = 0.0
    upper: float = 1.0
    log_lower: tuple[float, ...] = ()
    log_upper: tuple[float, ...] = ()

    @property
    def estimate(self) -> float:
        """The Hájek estimate Σ w·A / Σ w (v = w / w_max gives the same ratio); NaN before data."""
        return self.sum_va / self.sum_v if self.sum_v > 0 else math.nan

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> SequenceState:
        """The state back from ``dataclasses.asdict`` after a JSON round trip (lists become tuples)."""
        return cls(
            n=int(doc["n"]), sum_v=float(doc["sum_v"]), sum_va=float(doc["sum_va"]), sum_sq=float(doc["sum_sq"]),
            lower=float(doc["lower"]), upper=float(doc["upper"]),
            log_lower=tuple(map(float, doc["log_lower"])), log_upper=tuple(map(float, doc["log_upper"])),
        )


@dataclass(frozen=True, eq=False)
class SequenceTrace:
    """Per observation: the weighted estimate and the bounds after it."""

    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray


@dataclass(frozen=True)
class BettingSequence:
    """The rule: level ``alpha`` on each side, weights 1/π up to ``max_weight``, ``target`` on the grid."""

    alpha: float = 0.05
    max_weight: float = 1.0
    target: float | None = None
    resolution: int = 1000
    _grid: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_open_unit("alpha", self.alpha)
        if not (isinstance(self.max_weight, int | float) and math.isfinite(self.max_weight) and self.max_weight >= 1):
            raise InvalidInput("gate", "max_weight", f"must be a finite number >= 1 (1/π_min), got {self.max_weight!r}")
        if self.target is not None:
            check_open_unit("target", self.target)
        if isinstance(self.resolution, bool) or not isinstance(self.resolution, int) or self.resolution < 1:
            raise InvalidInput("gate", "resolution", f"must be a positive integer, got {self.resolution!r}")
        points = np.arange(self.resolution + 1, dtype=np.float64) / self.resolution
        extra = np.array([] if self.target is None else [self.target], dtype=np.float64)
        object.__setattr__(self, "_grid", np.union1d(points, extra))

    @property
    def grid(self) -> FloatArray:
        """The candidate means (sorted; 0, 1 and the target included)."""
        return self._grid

    @property
    def threshold(self) -> float:
        """log(1/α): a true null's log capital ever gets there with probability at most α."""
        return math.log(1.0 / self.alpha)

    def add(self, state: SequenceState, accepted: bool, weight: float = 1.0) -> SequenceState:
        """The state after one more observation."""
        return self.extend(state, np.array([accepted]), np.array([weight]))[0]

    def extend(
        self, state: SequenceState, accepted: npt.ArrayLike, weight: npt.ArrayLike
    ) -> tuple[SequenceState, SequenceTrace]:
        """The state after a batch, and the estimate and bounds after each of its observations.

        Bit for bit the same as adding the observations one at a time.
        """
        a, w = checked(accepted, weight, self.max_weight, state.n)
        v = w / self.max_weight
        parts, start, rows = [], 0, _FIRST_CHUNK
        while start < a.size:
            width = len(state.log_lower) if state.n else self.grid.size
            step = min(rows, max(1, _CELLS_PER_CHUNK // max(1, width)))
            state, part = self._chunk(state, a[start:start + step], v[start:start + step])
            parts.append(part)
            start, rows = start + step, rows * 2
        keys = ("estimate", "lower", "upper")
        if not parts:
            return state, SequenceTrace(*(np.empty(0, dtype=np.float64) for _ in keys))
        return state, SequenceTrace(*(np.concatenate([getattr(p, k) for p in parts]) for k in keys))

    def first_rejections(self, accepted: npt.ArrayLike, weight: npt.ArrayLike, m: float, side: Side) -> IntArray:
        """Runs in rows, observations in columns: after how many observations each run's
        one-sided test at ``m`` first rejects, 0 for never (``lower`` tests H0: μ ≤ m).

        The fast path for simulations: the arithmetic of :meth:`extend` at one grid point.
        """
        a, w = checked(accepted, weight, self.max_weight, 0, runs=True)
        v = w / self.max_weight
        lam = betting.bets(a, v, self.alpha)[0]
        hit: BoolArray = np.cumsum(betting.log_factors(a, v, lam, m, side), axis=-1) >= self.threshold
        first: IntArray = np.where(hit.any(axis=-1), hit.argmax(axis=-1) + 1, 0)
        return first

    def _chunk(self, state: SequenceState, a: FloatArray, v: FloatArray) -> tuple[SequenceState, SequenceTrace]:
        grid = self.grid
        lo, hi = int(np.searchsorted(grid, state.lower)), int(np.searchsorted(grid, state.upper))
        cols = grid[lo + 1:hi]
        sums = (state.sum_v, state.sum_va, state.sum_sq)
        lam, (sum_v, sum_va, sum_sq) = betting.bets(a, v, self.alpha, state.n, sums)
        steps, climbs = np.zeros(a.size, dtype=np.int64), np.zeros(a.size, dtype=np.int64)
        window_lower, window_upper = np.empty(0), np.empty(0)
        if cols.size:
            at = (slice(None), None)
            start_lower, start_upper = (_window(s, state.n, cols.size) for s in (state.log_lower, state.log_upper))
            cap_lower = betting.accumulate(start_lower, betting.log_factors(a[at], v[at], lam[at], cols, "lower"), 0)
            cap_upper = betting.accumulate(start_upper, betting.log_factors(a[at], v[at], lam[at], cols, "upper"), 0)
            steps, climbs = _advance(cap_lower >= self.threshold, cap_upper >= self.threshold)
            keep = slice(int(steps[-1]), cols.size - int(climbs[-1]))
            window_lower, window_upper = cap_lower[-1, keep], cap_upper[-1, keep]
        lower, upper = grid[lo + steps], grid[hi - climbs]
        new = SequenceState(
            n=state.n + a.size, sum_v=float(sum_v[-1]), sum_va=float(sum_va[-1]), sum_sq=float(sum_sq[-1]),
            lower=float(lower[-1]), upper=float(upper[-1]),
            log_lower=tuple(window_lower.tolist()), log_upper=tuple(window_upper.tolist()),
        )
        return new, SequenceTrace(sum_va / sum_v, lower, upper)


def _advance(rejected_lower: BoolArray, rejected_upper: BoolArray) -> tuple[IntArray, IntArray]:
    """Per row, how many tracked points the lower side has settled from the bottom and the
    upper side from the top: each extends its run over the points its gambler rejects at
    that row, never into the other's; a step where both would claim a point is skipped."""
    width = rejected_lower.shape[1]
    following, preceding = betting.next_unrejected(rejected_lower), betting.previous_unrejected(rejected_upper)
    low = np.empty(rejected_lower.shape[0], dtype=np.int64)
    high = np.empty_like(low)
    bottom = top = 0
    for t in range(low.size):
        new_bottom = min(int(following[t, bottom]), width - top)
        new_top = min(width - 1 - int(preceding[t, width - 1 - top]), width - bottom) if top < width else top
        if new_bottom + new_top <= width:
            bottom, top = new_bottom, new_top
        low[t], high[t] = bottom, top
    return low, high


def _window(saved: tuple[float, ...], n: int, width: int) -> FloatArray:
    if n == 0 and not saved:
        return np.zeros(width, dtype=np.float64)
    if len(saved) != width:
        raise InvalidInput("gate", "state", f"holds {len(saved)} capitals where its bounds leave {width} grid points")
    return np.array(saved, dtype=np.float64)


def checked(
    accepted: npt.ArrayLike, weight: npt.ArrayLike, max_weight: float, before: int, runs: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Outcomes as 0/1 floats and weights, checked: outcomes 0 or 1, 1 ≤ w ≤ max_weight."""
    a = np.asarray(accepted, dtype=np.float64)
    if a.ndim != (2 if runs else 1):
        raise InvalidInput("gate", "accepted", f"expected a {'2' if runs else '1'}-D array, got shape {a.shape}")
    w = np.ascontiguousarray(np.broadcast_to(np.asarray(weight, dtype=np.float64), a.shape))
    problems = [
        (~np.isin(a, (0.0, 1.0)), "accepted must be true or false (1 or 0)"),
        (~(np.isfinite(w) & (w >= 1.0)), "weight 1/π must be finite and >= 1 (0 < π <= 1)"),
        (w > max_weight * (1.0 + 1e-12), f"weight 1/π exceeds max_weight {max_weight:g}: set max_weight to "
         "1/(the router's smallest inclusion probability)"),
    ]
    for bad, problem in problems:
        if bad.any():
            index = np.argwhere(bad)[0]
            run = f" of run {int(index[0]) + 1}" if runs else ""
            raise InvalidInput("gate", f"observation {before + int(index[-1]) + 1}{run}", problem)
    return a, w


def check_open_unit(name: str, value: object) -> None:
    """Raise InvalidInput unless ``value`` is a number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value < 1.0:
        raise InvalidInput("gate", name, f"must be in (0, 1), got {value!r}")
