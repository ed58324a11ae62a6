"""The run report: one HTML page, the same sections for a streaming run, a replay and a replay of snapshots.

Every plot has a caption saying what it shows and how to read it; a section a run has nothing for says why in
words instead of showing an empty figure. Two questions are kept apart on the page, and every decision names
the one it answers: the *gate* asks whether the machine's labels of **all** units meet the target (its
anytime-valid band), the *recommender* asks how many units **above a confidence threshold τ** may ship (its
automation rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.gate import Gate
from analysis.gate.departure import BandDeparture, explain_band
from analysis.gate.evidence import GateTrace, decide
from analysis.observations import Observations
from analysis.stats.ratio import RatioState, ratio_interval
from services.report import plots
from services.report.html import Page
from services.report.pictures import PICTURES
from services.report.view import RunView

GALLERY = 8
SECTIONS = ("Summary", "Acceptance over time", "Acceptance of shipped {units}", "Automation rate over time",
            "Agreement per class and per stratum", "Human floor", "Worst disagreements", "Windows",
            "Pipeline and provenance")
ALL_UNITS = "all {units}"
ABOVE_TAU = "{units} above τ"


@dataclass(frozen=True)
class Rate:
    """A 1/π-weighted acceptance with its fixed-time interval."""

    estimate: float | None
    lower: float
    upper: float
    n: int

    @classmethod
    def of(cls, accepted: np.ndarray, weight: np.ndarray, alpha: float) -> Rate:
        state = RatioState().add(accepted.astype(np.float64), 1.0, weight)
        interval = ratio_interval(state, 1.0 - alpha)
        estimate = None if math.isnan(state.estimate) else state.estimate
        return cls(estimate, interval.lower, interval.upper, state.n)

    def text(self) -> str:
        if self.estimate is None:
            return "n/a"
        return f"{self.estimate:.3f} [{self.lower:.3f}, {self.upper:.3f}] (n {self.n:,})"


def section_titles(units: str) -> tuple[str, ...]:
    """The report's sections, in order, for a run of ``units`` (frames or clips): the same for every kind of run."""
    return tuple(s.format(units=units) for s in SECTIONS)


def build_report(view: RunView) -> str:
    page = Page(view.title)
    trace = _trace(view)
    departure = explain_band(view.machine.accepted, view.machine.weight, target=view.target, alpha=view.alpha,
                             max_weight=view.max_weight) if len(view.machine) else None
    _summary(page, view, trace)
    _acceptance(page, view, trace, departure)
    _shipped(page, view)
    _automation(page, view)
    _agreement(page, view)
    _floor(page, view)
    _gallery(page, view)
    _windows(page, view, trace)
    _pipeline(page, view)
    return page.render()


def _trace(view: RunView) -> GateTrace | None:
    """The gate's answer after every machine comparison (the anytime-valid band as the page reports it)."""
    if not len(view.machine):
        return None
    gate = Gate(view.target, view.alpha, max_weight=view.max_weight)
    n = len(view.machine)
    observations = Observations(
        frame_id=tuple(str(i) for i in range(n)), accepted=view.machine.accepted,
        inclusion_prob=1.0 / view.machine.weight, stratum=("all",) * n, confidence=np.full(n, np.nan),
        model_version=("",) * n, time=np.full(n, np.nan))
    return gate.trace(observations)


def _summary(page: Page, view: RunView, trace: GateTrace | None) -> None:
    page.heading(SECTIONS[0])
    for sentence in view.summary:
        page.paragraph(sentence)
    units = view.units
    if trace is not None:
        last = len(trace) - 1
        page.paragraph(
            f"Gate (question: do the machine's labels of {ALL_UNITS.format(units=units)} meet the target "
            f"{view.target:g}?): {trace.decision[last]} after {int(trace.n[last]):,} compared {units}, "
            f"anytime-valid band [{trace.lower[last]:.3f}, {trace.upper[last]:.3f}] at α {view.alpha:g}.")
    stepped = [w for w in view.windows if w.stepped]
    if stepped:
        w = stepped[-1]
        where = "nothing ships" if w.threshold is None else f"τ {w.threshold:.3f}"
        page.paragraph(
            f"Recommender (question: may the {ABOVE_TAU.format(units=units)} ship without people?): {w.action}, "
            f"automation rate {w.rate:.1%} ({where} before the step)."
            + (f" The gate's answer about all {units} and this rate are not in conflict: the rate is for the "
               f"confident {units} above τ only, whose acceptance can meet the target when that of all {units} "
               "does not." if w.rate > 0 and trace is not None and trace.decision[-1] != "pass" else ""))


def _acceptance(page: Page, view: RunView, trace: GateTrace | None, departure: BandDeparture | None) -> None:
    page.heading(SECTIONS[1])
    if trace is None:
        page.paragraph(f"No {view.unit} has been compared with people yet: nothing to show.")
        return
    xs = np.arange(1, len(trace) + 1)
    ends = [w.compared for w in view.windows if w.compared > 0]
    fixed = [Rate.of(view.machine.accepted[:k], view.machine.weight[:k], view.alpha) for k in ends]
    png = plots.acceptance_bands(
        xs.tolist(), trace.estimate.tolist(), trace.lower.tolist(), trace.upper.tolist(), ends,
        [r.lower for r in fixed], [r.upper for r in fixed],
        view.target, None if view.truth is None else view.truth.acceptance, unit=view.units)
    page.image(png, "acceptance over time",
               f"Machine-vs-people acceptance of all {view.units} (1/π-weighted) after each comparison. Shaded: the "
               f"gate's anytime-valid {1 - view.alpha:.0%} band, valid at every moment at once; it only narrows, so "
               f"early {view.units} can fix an edge. Bars: the fixed-time {1 - view.alpha:.0%} interval at each "
               "window's end, the best reading of the rate at that moment. Dashed red: the target.")
    if departure is not None:
        page.paragraph(departure.text)


def _shipped(page: Page, view: RunView) -> None:
    page.heading(SECTIONS[2].format(units=view.units))
    units = view.units
    ends, rates, truth_x, truth_y = [], [], [], []
    start = 0
    for w in view.windows:
        chosen = view.machine.eligible[start:w.compared]
        if chosen.any():
            ends.append(w.compared)
            rates.append(Rate.of(view.machine.accepted[start:w.compared][chosen],
                                 view.machine.weight[start:w.compared][chosen], view.alpha))
        if w.shipped_true is not None:
            truth_x.append(w.compared)
            truth_y.append(w.shipped_true)
        start = max(start, w.compared)
    if not rates and not truth_y:
        page.paragraph(f"No audited shipped {units}: no window shipped anything yet (automation rate 0), so the "
                       f"acceptance of shipped {units} has no evidence.")
        return
    png = plots.shipped_windows(ends, [r.estimate for r in rates], [r.lower for r in rates],
                                [r.upper for r in rates], truth_x, truth_y, view.target, unit=units)
    page.image(png, f"acceptance of shipped {units}",
               f"Per window: the acceptance of the audited {units} the policy in force would have shipped (the "
               f"{ABOVE_TAU.format(units=units)} that the router still sent to people with probability π, "
               f"1/π-weighted), with its fixed-time {1 - view.alpha:.0%} interval. Points below the dashed target "
               "line are windows whose shipped work fell short; "
               + ("green: the true acceptance of what the window shipped." if truth_y else
                  "a streaming run has no ground truth, so audits are the only evidence."))


def _automation(page: Page, view: RunView) -> None:
    page.heading(SECTIONS[3])
    known = [w for w in view.windows if w.shipped is not None and w.manual is not None and w.shipped + w.manual]
    if not known:
        page.paragraph("The routed counts per window are not in this run's records (no deliveries or manual-queue "
                       "snapshot): the recommended rates are in the windows table.")
        return
    xs = [w.seen for w in known]
    actual = [w.shipped / (w.shipped + w.manual) for w in known]  # type: ignore[operator]
    png = plots.automation_over_time(xs, actual, [w.rate for w in known],
                                     None if view.truth is None else view.truth.oracle_rate, unit=view.units)
    page.image(png, "automation rate over time",
               f"Per window: the share of routed {view.units} that shipped without people (solid) and the rate the "
               "recommender's step at the window's end recommended (dashed); the router follows a step from the "
               "next window on" + (", the dotted line is the oracle's rate (truth known)." if view.truth and
                                   view.truth.oracle_rate is not None else "."))


def _agreement(page: Page, view: RunView) -> None:
    page.heading(SECTIONS[4])
    c = view.comparison
    if view.extra_agreement is not None:
        view.extra_agreement(page)
    if c is None:
        if view.extra_agreement is None:
            page.paragraph(f"No per-class comparison for this run's {view.units}.")
        return
    rows = [(f"class {n}", s.acceptance) for n, s in c.per_class.items()]
    rows += [(f"{k}={v}", s.acceptance) for k, vals in c.strata.items() if k != "model_version"
             for v, s in vals.items()]
    if not rows:
        page.paragraph("The compared frames have no class or stratum with objects.")
        return
    page.image(plots.bars_with_intervals([r[0] for r in rows], [r[1].estimate for r in rows],
                                         [r[1].lower for r in rows], [r[1].upper for r in rows],
                                         "Frame acceptance (1/π-weighted) with 95% intervals", view.target, "target"),
               "agreement per class and stratum",
               f"Each bar: the acceptance of the compared {view.units} holding that class (or in that stratum) "
               "with its 95% interval; a bar whose interval ends left of the dashed target is a class or stratum "
               "the machine does not yet handle well enough.")


def _floor(page: Page, view: RunView) -> None:
    page.heading(SECTIONS[5])
    machine = Rate.of(view.machine.accepted, view.machine.weight, view.alpha)
    floor = Rate.of(view.consensus.accepted, view.consensus.weight, view.alpha)
    if machine.estimate is None:
        page.paragraph("No machine comparison yet.")
        return
    labels, rates = ["machine vs people"], [machine]
    if floor.estimate is not None:
        labels.append("people vs people (consensus copies)")
        rates.append(floor)
    page.image(plots.bars_with_intervals(labels, [r.estimate or 0.0 for r in rates], [r.lower for r in rates],
                                         [r.upper for r in rates], "Machine agreement beside the human floor",
                                         view.target, "target"), "human floor",
               f"Machine-vs-people acceptance beside how often two people agree on the same {view.unit} (both "
               f"1/π-weighted, fixed-time {1 - view.alpha:.0%} intervals): a target above the people's own "
               "agreement cannot be met by any machine."
               + ("" if floor.estimate is not None else " No consensus copy was compared in this run."))


def _gallery(page: Page, view: RunView) -> None:
    page.heading(SECTIONS[6])
    if view.extra_gallery is not None:
        view.extra_gallery(page)
        return
    c = view.comparison
    picture = PICTURES.get(view.geometry)
    if c is None or picture is None or view.frame is None:
        page.paragraph(f"No pictures of this run's {view.units} can be drawn.")
        return
    errors = c.frames.fp + c.frames.fn + c.frames.class_confused + c.frames.poor_iou
    worst = [f for f in np.argsort(-errors, kind="stable")[:GALLERY].tolist() if errors[f] > 0]
    shown = 0
    for f in worst:
        frame = view.frame(int(c.manual.images.ids[f]))
        if frame is None:
            continue
        frame_id = frame.frame_id
        poor = int(c.frames.poor_iou[f])
        caption = (f"frame {frame_id}: {c.frames.fn[f]} missed, {c.frames.fp[f]} extra"
                   + (f", {poor} poorly localised" if poor else "") + " (people green, machine red)")
        png = picture(frame, c, f)
        if png is not None:
            page.image(png, f"frame {frame_id}", caption, gallery=True)
            shown += 1
    if not shown:
        page.paragraph(f"No compared {view.unit} has a missed, extra or poorly placed object to draw (disagreements "
                       "on tags or classes alone are counted in the per-class view).")


def _windows(page: Page, view: RunView, trace: GateTrace | None) -> None:
    page.heading(SECTIONS[7])
    rows, start = [], 0
    decisions = ([] if trace is None else
                 decide(trace.lower, trace.upper, view.target))
    for w in view.windows:
        chosen = view.machine.eligible[start:w.compared]
        audited = Rate.of(view.machine.accepted[start:w.compared][chosen],
                          view.machine.weight[start:w.compared][chosen], view.alpha)
        gate = decisions[w.compared - 1] if decisions and w.compared > 0 else "no evidence"
        tau = "none" if w.threshold is None else f"{w.threshold:.3f}"
        routed = "n/a" if w.shipped is None else f"{w.shipped:,} / {w.manual:,}"
        step = f"{w.action} → {w.rate:.1%}" if w.stepped else "(no step yet)"
        rows.append([str(w.index), f"{w.seen:,}", f"{w.compared:,}", tau, routed, audited.text(), gate, step,
                     w.reason if w.stepped else "", w.source])
        start = max(start, w.compared)
    page.table(["window", f"{view.units} routed", "compared", "τ in force", "shipped / to people",
                f"audited shipped acceptance ({ABOVE_TAU.format(units=view.units)})",
                f"gate ({ALL_UNITS.format(units=view.units)})",
                f"recommendation ({ABOVE_TAU.format(units=view.units)})", "reason", "source"], rows)


def _pipeline(page: Page, view: RunView) -> None:
    page.heading(SECTIONS[8])
    if view.provenance:
        page.table(["number", "comes from"], [[a, b] for a, b in view.provenance])
    if view.dead_letters is None:
        page.paragraph("An in-process replay: no broker, so no dead letters and no consumer lag to report.")
    elif view.dead_letters:
        page.table(["dead-letter reason", "records"], [[k, f"{v:,}"] for k, v in sorted(view.dead_letters.items())])
    else:
        page.paragraph("Dead letters: none (every record validated).")
    if view.backlog is not None and view.backlog.seconds:
        page.image(plots.backlog(view.backlog.seconds, view.backlog.waiting, unit=view.units), "lag",
                   f"{view.units.capitalize()} waiting at each stage, read from the topics once a second: a stage "
                   "whose line keeps rising is falling behind; lines back at 0 at the end mean nothing was left "
                   "waiting.")

