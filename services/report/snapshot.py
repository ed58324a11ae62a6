"""A run's topic snapshots as a run report's view: what ``pipeline run`` reports and ``replay --from-snapshot
--report`` rebuilds from the same folder.

The comparisons are taken in the order the aggregator counted them (the recorded ``comparisons`` topic, one
partition, offset order) and the recommender's windows are recomputed from them (a step every ``window``
machine comparisons, :mod:`services.loop.folds`); the routed counts of a window are the ``deliveries`` and
first-copy ``manual-queue`` records written before the online step that closed it (``recommendations``, by
time). A comparison is an audit of a shipped-eligible unit when its confidence reaches the τ of the policy
version it was routed under (``policies``). The gallery's frames are read back from each automation result's
frame reference (synthetic frames are regenerated from it).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import orjson

import services.datasets.profiles  # noqa: F401  (registers the dataset profiles the loop judges by)
from services.engine.frame_refs import resolve_frame
from services.engine.frames import Frame
from services.exceptions import InvalidInput
from services.loop.checks import snapshot_lines
from services.loop.compare import machine_comparison
from services.loop.config import LoopConfig
from services.loop.context import CompareContext
from services.loop.messages import (
    AutomationMessage,
    ComparisonMessage,
    InvalidMessage,
    ManualAnnotation,
    Message,
    PolicyMessage,
    RecommendationMessage,
    decode,
)
from services.loop.offline import OfflineResult, replay_snapshot
from services.loop.step_shares import of_comparisons
from services.report.steps import ComparedClip, step_galleries, steps_table
from services.report.view import Backlog, Compared, RunKind, RunView, WindowView

M = TypeVar("M", bound=Message)
GALLERY_POOL = 4000  # compared frames the gallery and the per-class view look at (the latest ones beyond this)


def snapshot_view(folder: Path, loop: LoopConfig, *, kind: RunKind = "snapshot", result: OfflineResult | None = None,
                  title: str | None = None, summary: list[str] | None = None, backlog: Backlog | None = None,
                  provenance: list[tuple[str, str]] | None = None) -> RunView:
    """The view of the run whose topics ``folder`` holds, judged under ``loop`` (the run's own settings)."""
    result = result if result is not None else replay_snapshot(folder, loop)
    counted = result.counted
    machine = [c for c in counted if c.kind == "machine"]
    consensus = [c for c in counted if c.kind == "consensus"]
    policies = _policies(folder)
    eligible = [_eligible(c, policies) for c in machine]
    unit = "clip" if any(c.tracking is not None for c in machine) else "frame"
    windows = _windows(folder, loop, machine, result.recommendations, policies)
    view = RunView(
        kind=kind, title=title or f"shadowqa run from snapshots: {folder}", unit=unit,
        summary=summary or [_headline(folder, result, machine, consensus, unit)], target=loop.target,
        alpha=loop.alpha, max_weight=loop.max_weight, windows=windows,
        machine=Compared.of([c.accepted for c in machine], [1.0 / c.inclusion_prob for c in machine], eligible),
        consensus=Compared.of([c.accepted for c in consensus], [1.0 / c.inclusion_prob for c in consensus]),
        provenance=(provenance or []) + _sources(folder, machine, windows),
        dead_letters=dict(Counter(_dead_letter_reasons(folder))), backlog=backlog,
    )
    ctx = CompareContext.for_dataset(loop.dataset)
    view.geometry = ctx.geometry
    if unit == "frame":
        pairs = _pairs(folder, machine[-GALLERY_POOL:])
        if pairs:
            view.comparison = machine_comparison(pairs, ctx)
            refs = [m.image for m, _ in pairs]
            view.frame = _reader(refs)
    else:
        _clip_sections(view, folder, machine, ctx)
    return view


def _clip_sections(view: RunView, folder: Path, machine: list[ComparisonMessage], ctx: CompareContext) -> None:
    """A run of clips: the steps table over every compared clip (1/π-weighted; no truth in a streaming run) and
    the step galleries from the latest ones, their frames read back from the clip's frame references."""
    verdicts = {c.frame_id: c.steps for c in machine if c.steps}
    if not verdicts:
        return
    estimate = of_comparisons(machine).to_dict()
    recent = [c for c in machine[-GALLERY_POOL:] if c.frame_id in verdicts]
    compared = [ComparedClip(m, a, verdicts[m.frame_id] or ()) for m, a in _pairs(folder, recent)]
    names = {int(c["id"]): str(c["name"]) for c in ctx.categories}
    view.extra_agreement = lambda page: steps_table(page, estimate)
    view.extra_gallery = lambda page: step_galleries(page, compared, lambda at: _frame_at(at.image), names)


def _headline(folder: Path, result: OfflineResult, machine: list[ComparisonMessage],
              consensus: list[ComparisonMessage], unit: str) -> str:
    overall = result.stats.get("all")
    est = "" if overall is None or overall.estimate is None else (
        f"; acceptance of all {unit}s {overall.estimate:.3f} [{overall.lower:.3f}, {overall.upper:.3f}]")
    checked = ""
    if result.checked:
        checked = (f" The recomputation equals the online {' and '.join(result.checked)}." if result.matches
                   else f" The recomputation DIFFERS from the online output: {result.problems[0]}")
    return (f"Recomputed from the topic snapshots in {folder}: {len(machine):,} machine and {len(consensus):,} "
            f"consensus comparisons{est}.{checked}")


def _policies(folder: Path) -> dict[int, PolicyMessage]:
    out: dict[int, PolicyMessage] = {}
    for raw in snapshot_lines(folder, "policies"):
        try:
            p: PolicyMessage = decode(PolicyMessage, raw)
        except InvalidMessage:
            continue
        out.setdefault(p.version, p)
    return out


def _eligible(c: ComparisonMessage, policies: dict[int, PolicyMessage]) -> bool:
    """Whether the policy ``c``'s unit was routed under would have shipped it (so people saw it as an audit)."""
    policy = policies.get(c.policy_version)
    if policy is None or c.confidence is None:
        return False
    tau = policy.thresholds.get(c.stratum, policy.default)
    return tau is not None and c.confidence >= tau


def _windows(folder: Path, loop: LoopConfig, machine: list[ComparisonMessage],
             recommendations: list[RecommendationMessage], policies: dict[int, PolicyMessage]) -> list[WindowView]:
    steps = len(machine) // loop.window
    if steps == 0:
        return [WindowView(0, len(machine), len(machine), None, None, None, "hold", 0.0, "", stepped=False,
                           source=f"comparisons #1–{len(machine)}")] if machine else []
    per = max(1, len(recommendations) // steps)
    recs = [recommendations[(k + 1) * per - 1] for k in range(steps) if (k + 1) * per - 1 < len(recommendations)]
    online = [r for r in _decoded(folder, "recommendations", RecommendationMessage)]
    online_per = max(1, len(online) // steps) if online else 0
    ends = [online[(k + 1) * online_per - 1].time for k in range(steps)
            if online and (k + 1) * online_per - 1 < len(online)]
    routed = _routed(folder)
    windows: list[WindowView] = []
    for k, rec in enumerate(recs):
        compared = (k + 1) * loop.window
        start, until = (ends[k - 1] if 0 < k <= len(ends) else None), (ends[k] if k < len(ends) else None)
        shipped, manual = _routed_between(routed, start, until)
        seen = None if until is None else _routed_until(routed, until)
        windows.append(WindowView(
            index=k, seen=compared if seen is None else seen, compared=compared,
            threshold=_policy_between(routed, policies, start, until), shipped=shipped, manual=manual,
            action=rec.action, rate=rec.automation_rate, reason=rec.reason,
            source=f"comparisons #{k * loop.window + 1}–{compared}; routed before the step at "
                   f"{'?' if until is None else f'{until:.1f}'}"))
    last = ends[-1] if ends else None
    if len(machine) > steps * loop.window or (routed.known and last is not None and routed.times[-1] > last):
        shipped, manual = _routed_between(routed, last, None)
        windows.append(WindowView(
            index=len(windows), seen=_routed_until(routed, math.inf), compared=len(machine),
            threshold=_policy_between(routed, policies, last, None), shipped=shipped, manual=manual,
            action=windows[-1].action, rate=windows[-1].rate, reason=windows[-1].reason, stepped=False,
            source=f"comparisons #{steps * loop.window + 1}–{len(machine)}; routed after the last step"))
    return windows


@dataclass(frozen=True)
class Routed:
    """Routed records by time: deliveries, first manual copies, and every routed record's policy version."""

    shipped: list[float]
    manual: list[float]
    times: list[float]
    versions: list[int]

    @property
    def known(self) -> bool:
        return bool(self.times)


def _routed(folder: Path) -> Routed:
    shipped: list[float] = []
    manual: list[float] = []
    stamped: list[tuple[float, int]] = []
    for topic in ("deliveries", "manual-queue"):
        for raw in snapshot_lines(folder, topic):
            doc = orjson.loads(raw)
            if topic == "manual-queue" and doc.get("copy", 1) != 1:
                continue
            (shipped if topic == "deliveries" else manual).append(float(doc["time"]))
            stamped.append((float(doc["time"]), int(doc.get("policy_version", 0))))
    stamped.sort()
    return Routed(sorted(shipped), sorted(manual), [t for t, _ in stamped], [v for _, v in stamped])


def _policy_between(routed: Routed, policies: dict[int, PolicyMessage], start: float | None,
                    end: float | None) -> float | None:
    """τ (the default threshold) of the newest policy the units routed in (start, end] were routed under."""
    lo = 0 if start is None else bisect.bisect_right(routed.times, start)
    hi = len(routed.times) if end is None else bisect.bisect_right(routed.times, end)
    if hi <= lo:
        return None
    policy = policies.get(max(routed.versions[lo:hi]))
    return None if policy is None else policy.default


def _routed_between(routed: Routed, start: float | None, end: float | None) -> tuple[int | None, int | None]:
    if not routed.known:
        return None, None
    lo, hi = -math.inf if start is None else start, math.inf if end is None else end
    shipped, manual = (bisect.bisect_right(t, hi) - bisect.bisect_right(t, lo) for t in (routed.shipped, routed.manual))
    return shipped, manual


def _routed_until(routed: Routed, end: float) -> int:
    return sum(bisect.bisect_right(t, end) for t in (routed.shipped, routed.manual))


def _decoded(folder: Path, topic: str, model: type[M]) -> list[M]:
    out: list[M] = []
    for raw in snapshot_lines(folder, topic):
        try:
            out.append(decode(model, raw))
        except InvalidMessage:
            continue
    return out


def _pairs(folder: Path, machine: list[ComparisonMessage]) -> list[tuple[AutomationMessage, ManualAnnotation]]:
    wanted = {c.frame_id for c in machine}
    results: dict[str, AutomationMessage] = {}
    for m in _decoded(folder, "automation-results", AutomationMessage):
        if m.frame_id in wanted and m.error is None:
            results.setdefault(m.frame_id, m)
    first: dict[str, ManualAnnotation] = {}
    for a in _decoded(folder, "manual-annotations", ManualAnnotation):
        if a.frame_id in wanted and a.copy_ == 1:
            first.setdefault(a.frame_id, a)
    return [(results[c.frame_id], first[c.frame_id]) for c in machine
            if c.frame_id in results and c.frame_id in first]


def _reader(refs: list[str]) -> Callable[[int], Frame | None]:
    def frame(i: int) -> Frame | None:
        return _frame_at(refs[i]) if 0 <= i < len(refs) else None

    return frame


def _frame_at(ref: str) -> Frame | None:
    """The frame ``ref`` names, read back (synthetic frames are regenerated); None when it cannot be."""
    try:
        f = resolve_frame(ref)
    except InvalidInput:
        return None
    return None if f.error is not None else f


def _dead_letter_reasons(folder: Path) -> list[str]:
    out = []
    for raw in snapshot_lines(folder, "dead-letters"):
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            out.append("unreadable record")
            continue
        out.append(f"{doc.get('stage', '?')}: {str(doc.get('reason', '?')).split(':')[0][:80]}")
    return out


def _sources(folder: Path, machine: list[ComparisonMessage], windows: list[WindowView]) -> list[tuple[str, str]]:
    counts = {p.stem: sum(1 for line in p.open("rb") if line.strip()) for p in sorted(folder.glob("*.jsonl"))}
    rows = [("comparisons counted", f"topic comparisons ({folder / 'comparisons.jsonl'}), {len(machine):,} machine "
                                    "comparisons in offset order, each (frame, kind) counted once")]
    rows += [(f"records of {topic}", f"{n:,} in {folder / (topic + '.jsonl')}") for topic, n in counts.items()]
    if windows:
        rows.append(("windows", "a recommender step every window of machine comparisons (the aggregator's rule); "
                                "routed counts from deliveries and manual-queue by time"))
    return rows
