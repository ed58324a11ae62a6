"""Why the estimate lies outside the gate's band: an unlucky early sample, or drift.

The gate's band [lower, upper] is a running intersection: lower only rises, upper
only falls, and the two never cross (a step where both sides would claim the same
rate is skipped, so the band never empties). Early frames that happened to run low
can set the upper edge below a steady rate, which each edge allows with probability
≤ α; the band never widens again, so the estimate may sit above it for the rest of
the run. A real change of acceptance mid-run does the same on the side it moves to.
:func:`explain_band` says which, with the numbers, and :attr:`BandDeparture.text`
says it in words.

Drift is the project's CUSUM e-detector (:class:`DriftDetector`, the recommender's
default threshold A = 10⁴) run two-sided over the compared frames in arrival order,
each frame judged against the 1/π-weighted acceptance c of the frames before it
(one pseudo-frame at ½ keeps c off 0 and 1): *down* is ``fold(accepted, c)``, *up*
the mirror on 1 − accepted at 1 − c, and the first alarm of the two is reported with
its direction. (``fold`` takes one reference per call, so a new call starts where the
per-frame c has moved more than 0.05 in log-odds since the reference in force.) The
alarm frame is thus when a monitor watching live would have fired. This detector only
explains and acts on nothing; the recommender's own (one-sided, on audited shipped
frames, at its target) steps the stratum down to automation 0 when it alarms.

Why not the suggested reference, the run's own final estimate θ̂? One change makes
both halves anomalous against θ̂: over 600 frames at 0.85 then 900 at 0.55, θ̂ = 0.67
and the *up* side fires inside the first segment (median frame 115, before the
change) in 400 of 400 seeded runs: wrong direction, wrong time. Nor the band's own
edges (c = lower before each frame), although they make the bound exact (the
detector's guarantee holds for any predictable c ≤ θ): an edge that an extreme early
sample put far off a steady rate is, to such a detector, frames beyond the edge, so
it called "drift" 24 of the 194 steady runs below that ended outside their band —
the very runs this module is meant to call unlucky — against 5 for the past frames.

How far to trust an alarm: c is estimated from the same stream, so the detector's
bound (average run length to a false alarm ≥ A, P(false alarm within H frames) ≤ H/A
per side) holds only approximately, and H/A is loose anyway (0.15 at H = 1,500).
Measured (``tests/analysis/gate/test_departure.py`` keeps a smaller copy):

- steady: 4,000 seeded runs of 300–1,500 frames at rates 0.3–0.995, half weighted
  (π ∈ {0.25, 1}, the π = 0.25 frames accepted 0.1 less often): an alarm in 0.50%,
  called "drift" in 0.13%; 194 (4.9%) ended outside their band, 5 of them "drift";
- the replay's story, 200 runs: the first 150 frames at 0.48, then 1,350 at a steady
  0.5775: 40 ended outside the band, 37 called "unlucky-early" and 3 "drift";
- drift, 400 runs each (alarmed in the change's direction after it; median delay in
  frames): 0.85 → 0.55 after 600 frames 99.8%, 36; 0.55 → 0.85 100%, 52; 0.9 → 0.7
  after 400 99.8%, 83; 0.95 → 0.85 after 300 70%, 180; 0.80 → 0.70 after 600 68%,
  330; a short early stretch 0.45 → 0.58 after 150 frames 22%.

A very unlucky early sample (25 accepted of the first 55 at a steady 0.7, a 4σ
event) is a change in every sense the data can show, and is called drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from analysis.annotations.model_types import BoolArray, FloatArray, IntArray
from analysis.gate.evidence import Decision, decide
from analysis.gate.gate import Gate
from analysis.gate.sequences import SequenceState, checked
from analysis.recommend.detector import DetectorState, DriftDetector
from analysis.stats.proportions import Interval
from analysis.stats.ratio import RatioState, ratio_interval

Kind = Literal["none", "unlucky-early", "drift"]
Side = Literal["above", "below"]
Direction = Literal["down", "up"]

DETECTOR = DriftDetector()  # the recommender's default (RecommenderConfig.detector)
PRIOR_MEAN = 0.5  # one pseudo-frame in the reference, as in the bets of analysis.gate.betting
TOLERANCE = 0.05  # log-odds by which the reference in force may differ from the per-frame one


@dataclass(frozen=True)
class Drift:
    """The detector's first alarm. Frames are counted from the start of the run (1: the first)."""

    direction: Direction
    alarm_at: int  # the frame at which the detector fired
    statistic: float  # its average CUSUM there (≥ threshold)
    threshold: float
    change_at: int  # least-squares split before the alarm: the first ``change_at`` frames ran at ``before``
    before: float
    after: float  # the weighted acceptance of the frames after the split
    current: float  # the weighted acceptance of the frames after the alarm (nan if none)
    current_interval: Interval  # their fixed-time (1 − α) interval: fresh frames, the alarm being a stopping time


@dataclass(frozen=True)
class BandDeparture:
    """Whether the estimate lies outside the gate's band after the last frame, since when, and why.

    ``left_at``: the frame since which the estimate has been outside on ``side``
    without a break. ``edge_set_at``: the frame at which the crossed ``edge`` took
    its final value; ``before`` / ``after`` the weighted acceptance of the frames up
    to it and after it. ``interval``: the fixed-time (1 − α) interval of the whole run
    (the aggregator's). ``drift``: the detector's alarm, reported whatever the kind.
    """

    kind: Kind
    n: int
    estimate: float
    lower: float
    upper: float
    target: float
    alpha: float
    decision: Decision
    interval: Interval
    side: Side | None = None
    edge: float | None = None
    left_at: int | None = None
    edge_set_at: int | None = None
    before: float | None = None
    after: float | None = None
    drift: Drift | None = None

    @property
    def text(self) -> str:
        """A few plain sentences for an operations lead: where, why, the better reading, what the gate does."""
        return explain_text(self)


def fixed_time_interval(accepted: npt.ArrayLike, weight: npt.ArrayLike = 1.0, alpha: float = 0.05) -> Interval:
    """The fixed-time (1 − α) interval of the 1/π-weighted acceptance, as the aggregator's AgreementStats has it.

    Valid at one look decided in advance, not under repeated looks (that is the gate's band).
    """
    a = np.asarray(accepted, dtype=np.float64)
    w = np.broadcast_to(np.asarray(weight, dtype=np.float64), a.shape)
    return ratio_interval(RatioState().add(a, 1.0, w) if a.size else RatioState(), 1.0 - alpha)


def explain_band(
    accepted: npt.ArrayLike, weight: npt.ArrayLike = 1.0, *, target: float, alpha: float = 0.05,
    max_weight: float = 1.0, detector: DriftDetector = DETECTOR,
) -> BandDeparture:
    """Where and why the estimate left the pooled gate's band, from the compared frames in arrival order."""
    a, w = checked(accepted, weight, max_weight, 0)
    band = Gate(target, alpha, max_weight=max_weight).sequence().extend(SequenceState(), a, w)[1]
    n = int(a.size)
    estimate = float(band.estimate[-1]) if n else math.nan
    lower, upper = (float(band.lower[-1]), float(band.upper[-1])) if n else (0.0, 1.0)
    result = BandDeparture(
        kind="none", n=n, estimate=estimate, lower=lower, upper=upper, target=target, alpha=alpha,
        decision=decide(np.array([lower]), np.array([upper]), target)[0], interval=fixed_time_interval(a, w, alpha),
        drift=detect_drift(a, w, max_weight=max_weight, alpha=alpha, detector=detector),
    )
    if not (estimate > upper or estimate < lower):
        return result
    side: Side = "above" if estimate > upper else "below"
    edges, outside = (band.upper, band.estimate > band.upper) if side == "above" else \
        (band.lower, band.estimate < band.lower)
    inside = np.flatnonzero(~outside)
    set_at = int(np.argmax(edges == edges[-1])) + 1
    return replace(
        result, kind="drift" if result.drift is not None else "unlucky-early", side=side, edge=float(edges[-1]),
        left_at=int(inside[-1]) + 2 if inside.size else 1, edge_set_at=set_at,
        before=_hajek(a[:set_at], w[:set_at]), after=_hajek(a[set_at:], w[set_at:]),
    )


def detect_drift(
    accepted: npt.ArrayLike, weight: npt.ArrayLike = 1.0, *, max_weight: float = 1.0, alpha: float = 0.05,
    detector: DriftDetector = DETECTOR,
) -> Drift | None:
    """The detector's first alarm on either side, each frame judged against the weighted acceptance before it."""
    a, w = checked(accepted, weight, max_weight, 0)
    if a.size == 0:
        return None
    totals = np.concatenate([[0.0], np.cumsum(w * a)]), np.concatenate([[0.0], np.cumsum(w)])
    reference = ((PRIOR_MEAN + totals[0]) / (1.0 + totals[1]))[:-1]
    starts = segments(reference)
    hit = a.astype(bool)
    down = _first_alarm(hit, w, starts, reference[starts], max_weight, detector, a.size)
    up = _first_alarm(~hit, w, starts, 1.0 - reference[starts], max_weight, detector,
                      down[0] - 1 if down else a.size)
    direction: Direction = "up" if up is not None else "down"
    alarm = up if up is not None else down
    if alarm is None:
        return None
    at = alarm[0]
    split = _change_point(a, w, at)
    return Drift(
        direction=direction, alarm_at=at, statistic=alarm[1], threshold=detector.threshold, change_at=split,
        before=_hajek(a[:split], w[:split]), after=_hajek(a[split:], w[split:]), current=_hajek(a[at:], w[at:]),
        current_interval=fixed_time_interval(a[at:], w[at:], alpha),
    )


def segments(reference: FloatArray) -> IntArray:
    """The frames where a new reference is put in force: where the per-frame one has moved more than
    TOLERANCE in log-odds from the one in force."""
    logit = (np.log(reference) - np.log1p(-reference)).tolist()
    out: list[int] = []
    anchor = math.inf
    for t, value in enumerate(logit):
        if not abs(value - anchor) <= TOLERANCE:
            out.append(t)
            anchor = value
    return np.array(out, dtype=np.int64)


def _first_alarm(
    hit: BoolArray, weight: FloatArray, starts: IntArray, reference: FloatArray, max_weight: float,
    detector: DriftDetector, stop: int,
) -> tuple[int, float] | None:
    """(frame, average CUSUM) of the first alarm among the first ``stop`` frames, ``reference[k]`` in force
    from frame ``starts[k]``."""
    state = DetectorState()
    ends = [*starts[1:].tolist(), hit.size]
    for b, e, c in zip(starts.tolist(), ends, reference.tolist(), strict=True):
        if b >= stop:
            break
        e = min(e, stop)
        state, alarm = detector.fold(state, hit[b:e], weight[b:e], c, max_weight)
        if alarm is not None:
            return b + alarm.index + 1, math.exp(alarm.state.statistic)
    return None


def _change_point(a: FloatArray, w: FloatArray, alarm_at: int) -> int:
    """The split k < ``alarm_at`` maximising W₁W₂/W·(mean₁ − mean₂)²: least squares for one change of rate."""
    k = np.arange(1, min(alarm_at, a.size))
    if k.size == 0:
        return min(1, a.size)
    cw, cwa = np.cumsum(w), np.cumsum(w * a)
    w1, s1 = cw[k - 1], cwa[k - 1]
    w2, s2 = cw[-1] - w1, cwa[-1] - s1
    return int(k[np.argmax(w1 * w2 / cw[-1] * (s1 / w1 - s2 / w2) ** 2)])


def _hajek(a: FloatArray, w: FloatArray) -> float:
    total = float(w.sum())
    return float((w * a).sum()) / total if total > 0 else math.nan


def explain_text(d: BandDeparture) -> str:
    """The departure in plain words: where, why, the better reading of the rate, and what the gate does."""
    if d.n == 0:
        return "No compared frames yet: there is neither an estimate nor a band to compare it with."
    level = f"{1.0 - d.alpha:.0%}"
    if d.side is None:
        text = (f"The estimate {d.estimate:.3f} lies inside the band [{d.lower:.3f}, {d.upper:.3f}] after {d.n:,} "
                f"frames: nothing to explain; the fixed-time {level} interval is "
                f"[{d.interval.lower:.3f}, {d.interval.upper:.3f}].")
        if d.drift is not None:
            change, current = _drift_text(d.drift, level)
            text += f" The drift detector did alarm, though: {change}, so the band may lag the current rate. {current}"
        return text
    edge = "upper" if d.side == "above" else "lower"
    head = (f"The estimate {d.estimate:.3f} has been {d.side} the band's {edge} edge {d.edge:.3f} "
            f"since frame {d.left_at:,}")
    if d.drift is not None:
        change, current = _drift_text(d.drift, level)
        reading = d.interval if math.isnan(d.drift.current) else d.drift.current_interval
        gate = _gate(d, reading, "the current rate's interval", "The gate does not watch for drift and")
        return (f"{head}: {change}, so the band, which assumes a steady rate, still reflects the earlier one. "
                f"{current} {gate}; the recommender, on its own drift alarm (audited shipped frames below its "
                f"target), steps the stratum down to automation 0 and restarts its evidence.")
    return (f"{head}: that edge was set by the first {d.edge_set_at:,} frames, {_early(d)}. The drift detector "
            f"found no change in the rate, so this is the chance the band allows (at most {d.alpha:.0%}) of an early "
            f"sample pushing an edge past a steady rate; the fixed-time {level} interval "
            f"[{d.interval.lower:.3f}, {d.interval.upper:.3f}] is the better reading of the rate. "
            f"{_gate(d, d.interval, 'the fixed-time interval', 'The gate')}.")


def _early(d: BandDeparture) -> str:
    """The frames that set the edge against those after, and whether they were unluckily low (high)."""
    before = math.nan if d.before is None else d.before
    after = math.nan if d.after is None else d.after
    if math.isnan(after):
        return f"whose acceptance was {before:.3f}"
    if (before < after) if d.side == "above" else (before > after):
        word = "low" if d.side == "above" else "high"
        return f"whose acceptance ({before:.3f}) was unluckily {word} next to the {after:.3f} of the frames since"
    return f"whose acceptance was {before:.3f} (the frames since: {after:.3f})"


def _drift_text(drift: Drift, level: str) -> tuple[str, str]:
    """The change and the alarm; the current rate from the frames since the alarm."""
    moved = "fell" if drift.direction == "down" else "rose"
    change = (f"acceptance {moved} from {drift.before:.3f} to {drift.after:.3f} around frame {drift.change_at + 1:,} "
              f"and the drift detector alarmed at frame {drift.alarm_at:,} (CUSUM {drift.statistic:,.0f} ≥ "
              f"{drift.threshold:,.0f})")
    if math.isnan(drift.current):
        return change, "No frames have come since the alarm."
    i = drift.current_interval
    return change, (f"The frames since the alarm put the current rate at {drift.current:.3f} "
                    f"[{i.lower:.3f}, {i.upper:.3f}] (fixed-time {level}).")


def _gate(d: BandDeparture, reading: Interval, name: str, lead: str) -> str:
    """What the gate does: its band only narrows and never empties, so a pass or fail stands."""
    against = f"against the target {d.target:g}"
    if d.decision == "inconclusive":
        return (f"{lead} answers inconclusive {against} for now: its band can only narrow and never empties, "
                f"so it may still pass or fail")
    text = f"{lead} keeps its answer, {d.decision} {against}, as its band only narrows and never empties"
    if (d.decision == "fail" and reading.lower > d.target) or (d.decision == "pass" and reading.upper < d.target):
        text += f", although {name} lies {'above' if d.decision == 'fail' else 'below'} the target"
    return text
