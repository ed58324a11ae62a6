"""The streaming run's report: summary.json and one self-contained report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from services.loop.offline import result_document
from services.report.build import build_report
from services.report.snapshot import snapshot_view
from services.report.view import Backlog
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
    """summary.json and report.html: the run report of :mod:`services.report.build`, from the run's snapshots,
    with what only a streaming run has (its feed, dead letters, lag and the topics each number comes from)."""
    out.mkdir(parents=True, exist_ok=True)
    summary = run_summary(options, outcome)
    (out / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    t = outcome.tally
    unit = f"{options.unit}s"
    sentences = [
        f"{options.units:,} {unit} of {options.source} fed at {options.rate:g} frames/s through the Kafka pipeline in "
        f"{outcome.elapsed_s:.0f} s: {len(t.shipped):,} shipped, {len(t.queued):,} sent to people "
        f"({len(t.tasks):,} tasks), {len(t.comparisons):,} comparisons, {t.dead_letters:,} dead letters; target "
        f"acceptance {options.target:g} at α {options.alpha:g}.",
    ]
    offline = summary["offline_replay"]
    if offline["checked"]:
        verdict = "equal to" if offline["matches_online"] else "DIFFERENT from"
        sentences.append(f"Offline recomputation from the topic snapshots ({outcome.snapshot_dir}): {verdict} the "
                         f"online {' and '.join(offline['checked'])}.")
    provenance = [("run", f"topics under the prefix {outcome.prefix!r} on the local broker, exported to "
                          f"{outcome.snapshot_dir} when the run settled"),
                  ("frames", options.source), ("lag", "the topics' counts read once a second while the run went")]
    view = snapshot_view(outcome.snapshot_dir, options.loop, kind="streaming", result=outcome.offline,
                         title=f"shadowqa streaming run: {options.loop.dataset}, seed {options.seed}",
                         summary=sentences, backlog=_backlog(outcome), provenance=provenance)
    path = out / "report.html"
    path.write_text(build_report(view))
    return path


def _backlog(outcome: RunOutcome) -> Backlog:
    """Units waiting at each stage, second by second: answered but not routed, queued but not annotated,
    annotated but not compared, compared but not yet in the aggregator's statistics."""
    seconds = [s for s, _ in outcome.timeline]
    tallies = [t for _, t in outcome.timeline]
    return Backlog(seconds, {
        "router (engine results not yet routed)": [max(0, len(t.results) - t.routed) for t in tallies],
        "people (tasks not yet annotated)": [max(0, len(t.tasks) - len(t.annotated)) for t in tallies],
        "comparator (annotations not yet compared)": [max(0, t.expected_comparisons - len(t.comparisons))
                                                      for t in tallies],
        "aggregator (comparisons not yet counted)": [max(0, len(t.comparisons) - t.aggregated) for t in tallies],
    })
