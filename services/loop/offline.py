"""Recomputing the comparator's and the aggregator's output offline from topic snapshots.

A snapshot folder holds ``<topic>.jsonl`` files written by ``shadowqa snapshot
export`` (one JSON value per line). From the four joined topics the comparator's
step is recomputed (the join is order-free and idempotent, so the order of lines
does not matter). The comparisons are then counted once per (frame, kind) and
fed to the loop's folds through the in-process driver (``services/loop/driver.py``)
in the aggregator's order: the recorded ``comparisons`` in their recorded order when the folder has
them (the topic has one partition and is exported in offset order), else the
recomputed ones ordered by (time, frame id, kind). When the folder also holds
the online ``comparisons``, ``agreement-stats`` and ``recommendations``, they are
checked against the recomputation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from analysis.exceptions import InvalidInput
from services.loop.checks import (
    check_comparisons,
    check_recommendations,
    check_stats,
    count_once,
    snapshot_lines,
)
from services.loop.config import LoopConfig
from services.loop.context import CompareContext
from services.loop.driver import Driver
from services.loop.join import JOINED
from services.loop.messages import AgreementStats, ComparisonMessage, InvalidMessage, RecommendationMessage, decode
from services.loop.recommend import recommendation_message

__all__ = ["OfflineResult", "recompute_comparisons", "replay_snapshot", "result_document", "snapshot_lines"]


@dataclass
class OfflineResult:
    comparisons: list[ComparisonMessage]
    stats: dict[str, AgreementStats]
    rejected: int = 0  # records that did not validate (online, they are dead letters)
    problems: list[str] = field(default_factory=list)  # differences from the online output, if it was given
    checked: list[str] = field(default_factory=list)  # which online outputs were checked
    recommendations: list[RecommendationMessage] = field(default_factory=list)
    counted: list[ComparisonMessage] = field(default_factory=list)  # in the order the folds counted them

    @property
    def matches(self) -> bool:
        return not self.problems


def recompute_comparisons(folder: Path, driver: Driver) -> tuple[list[ComparisonMessage], int]:
    """The comparator's output from the snapshots of the joined topics (and how many records were invalid)."""
    missing = [t for t in JOINED if not (folder / f"{t}.jsonl").exists()]
    if missing:
        raise InvalidInput(str(folder), "snapshot", f"missing {', '.join(t + '.jsonl' for t in missing)} "
                           "(export them with `shadowqa snapshot export --topic T --out DIR/T.jsonl`)")
    rejected = 0
    for topic in JOINED:
        for raw in snapshot_lines(folder, topic):
            try:
                driver.absorb(topic, raw)
            except InvalidMessage:
                rejected += 1
    return driver.compare(), rejected


def replay_snapshot(folder: Path, config: LoopConfig) -> OfflineResult:
    """The comparisons, statistics and recommendations ``folder``'s snapshots imply under ``config``."""
    driver = Driver(config, CompareContext.for_dataset(config.dataset))
    recomputed, rejected = recompute_comparisons(folder, driver)
    recomputed = count_once(recomputed)
    recorded = None
    if (folder / "comparisons.jsonl").exists():
        recorded = count_once([decode(ComparisonMessage, raw) for raw in snapshot_lines(folder, "comparisons")])
    order = recorded if recorded is not None else sorted(recomputed, key=lambda c: (c.time, c.frame_id, c.kind))
    recommendations = [recommendation_message(r, 0.0) for r in driver.count(order)]
    aggregation = driver.aggregation
    stats = {s.stratum: s for s in aggregation.stats(aggregation.folds, time=0.0)}
    result = OfflineResult(recomputed, stats, rejected, recommendations=recommendations, counted=order)
    if recorded is not None:
        result.checked.append("comparisons")
        result.problems += check_comparisons(recorded, recomputed)
    if (folder / "agreement-stats.jsonl").exists():
        result.checked.append("agreement-stats")
        result.problems += check_stats(folder, stats)
    if (folder / "recommendations.jsonl").exists():
        result.checked.append("recommendations")
        result.problems += check_recommendations(folder, recommendations)
    return result


def result_document(result: OfflineResult) -> dict[str, Any]:
    return {
        "comparisons": len(result.comparisons),
        "rejected_records": result.rejected,
        "stats": {s: orjson.loads(v.model_dump_json()) for s, v in result.stats.items()},
        "recommendations": [orjson.loads(r.model_dump_json()) for r in result.recommendations],
        "checked": result.checked,
        "matches_online": result.matches if result.checked else None,
        "problems": result.problems,
    }
