"""The streaming run's report: summary.json and one self-contained report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import orjson

from services.loop.offline import result_document
from services.replay.report.html import Page
from services.replay.report.plots import to_png
from services.tools.pipeline_run import RunOptions, RunOutcome


def run_summary(options: RunOptions, outcome: RunOutcome) -> dict[str, Any]:
    t = outcome.tally
    overall = t.stats.get("all")
    rec = t.recommendation
    return {
        "frames": options.frames,
        "feed_rate": options.rate,
        "elapsed_s": round(outcome.elapsed_s, 1),
        "engine_results": len(t.results),
        "shipped": len(t.shipped),
        "queued": len(t.queued),
        "manual_tasks": len(t.tasks),
        "annotated": len(t.annotated),
        "comparisons": len(t.comparisons),
        "comparison_records": t.comparison_records,
        "dead_letters": t.dead_letters,
        "policies_published": t.policies,
        "acceptance": None if overall is None else orjson.loads(overall.model_dump_json()),
        "recommendation": None if rec is None else orjson.loads(rec.model_dump_json()),
        "offline_replay": result_document(outcome.offline),
        "snapshot": str(outcome.snapshot_dir),
        "annotation_team": None if outcome.team is None else {
            "people": len(outcome.team.claimed), "claimed": sum(outcome.team.claimed.values()),
            "submitted": sum(outcome.team.submitted.values()), "abandoned": sum(outcome.team.abandoned.values()),
            "skipped": sum(outcome.team.skipped.values()), "lease_lost": sum(outcome.team.lost.values()),
        },
        "database": outcome.database_url.split("@")[-1] if outcome.database_url else None,
    }


def write_report(options: RunOptions, outcome: RunOutcome, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    summary = run_summary(options, outcome)
    (out / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    page = Page("shadowqa streaming run")
    t = outcome.tally
    page.paragraph(f"{options.frames:,} synthetic driving frames fed at {options.rate:g}/s through the Kafka pipeline "
                   f"in {outcome.elapsed_s:.0f} s: {len(t.shipped):,} shipped, {len(t.queued):,} sent to people "
                   f"({len(t.tasks):,} tasks), {len(t.comparisons):,} comparisons, {t.dead_letters:,} dead letters.")
    offline = summary["offline_replay"]
    verdict = "equal to" if offline["matches_online"] else "DIFFERENT from"
    page.paragraph(f"Offline recomputation from the topic snapshots ({outcome.snapshot_dir}): {verdict} the online "
                   f"{' and '.join(offline['checked'])}.")
    page.heading("Acceptance over time")
    page.image(_acceptance_plot(outcome, options.target), "acceptance over time",
               f"Estimate of machine-vs-human acceptance (1/π-weighted, fixed-time {1 - options.alpha:.0%} interval)")
    page.heading("Automation rate over time")
    page.image(_automation_plot(outcome), "automation rate", "Shipped share of routed frames, and the recommended rate")
    page.heading("Agreement per stratum")
    page.table(["stratum", "n", "estimate", "lower", "upper", "decision", "human floor"], [
        [s.stratum, f"{s.n:,}", "n/a" if s.estimate is None else f"{s.estimate:.3f}", f"{s.lower:.3f}",
         f"{s.upper:.3f}", s.decision,
         "n/a" if s.human_floor is None or s.human_floor.estimate is None else f"{s.human_floor.estimate:.3f}"]
        for s in sorted(t.stats.values(), key=lambda s: s.stratum)
    ])
    if t.recommendation is not None:
        page.heading("Latest recommendation")
        page.paragraph(f"{t.recommendation.action}: automation rate {t.recommendation.automation_rate:.1%} "
                       f"(policy version {t.recommendation.policy_version}). {t.recommendation.reason}")
    path = out / "report.html"
    path.write_text(page.render())
    return path


def _acceptance_plot(outcome: RunOutcome, target: float) -> bytes:
    xs, est, lo, hi = [], [], [], []
    for _, tally in outcome.timeline:
        s = tally.stats.get("all")
        if s is not None and s.estimate is not None:
            xs.append(tally.routed)
            est.append(s.estimate)
            lo.append(s.lower)
            hi.append(s.upper)
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.fill_between(xs, lo, hi, color="#9ecae1", alpha=0.6, label="confidence interval")
    ax.plot(xs, est, color="#1f77b4", label="estimate")
    ax.axhline(target, color="#d62728", linestyle="--", label=f"target {target:g}")
    ax.set(xlabel="frames routed", ylabel="acceptance", ylim=(0, 1.02))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return to_png(fig)


def _automation_plot(outcome: RunOutcome) -> bytes:
    xs, shipped, recommended = [], [], []
    for _, tally in outcome.timeline:
        if tally.routed:
            xs.append(tally.routed)
            shipped.append(len(tally.shipped) / tally.routed)
            recommended.append(tally.recommendation.automation_rate if tally.recommendation else 0.0)
    fig, ax = plt.subplots(figsize=(8, 3.0))
    ax.plot(xs, shipped, color="#1f77b4", label="shipped share (cumulative)")
    ax.step(xs, recommended, where="post", color="#ff7f0e", linestyle="--", label="recommended rate")
    ax.set(xlabel="frames routed", ylabel="automation rate", ylim=(0, 1))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return to_png(fig)
