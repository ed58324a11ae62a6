"""What a pipeline run has done so far, counted from its topics (the demo's progress, the tests' checks).

Counts are of distinct keys, so a record delivered twice (at-least-once) is
counted once and a double count in the pipeline's own output shows up as a
difference between ``comparisons`` and ``comparison_records``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.loop.messages import AgreementStats, InvalidMessage, RecommendationMessage, decode


@dataclass
class Tally:
    results: set[str] = field(default_factory=set)  # frames the engine has answered
    failed: set[str] = field(default_factory=set)  # frames the engine failed on
    shipped: set[str] = field(default_factory=set)
    queued: set[str] = field(default_factory=set)  # frames sent to people
    tasks: set[tuple[str, int]] = field(default_factory=set)  # (frame, copy)
    annotated: set[tuple[str, int]] = field(default_factory=set)
    comparisons: set[tuple[str, str]] = field(default_factory=set)  # (frame, kind)
    comparison_records: int = 0
    dead_letters: int = 0
    stats: dict[str, AgreementStats] = field(default_factory=dict)  # latest per stratum
    recommendation: RecommendationMessage | None = None
    policies: int = 0
    invalid: int = 0  # records that do not validate (the pipeline dead-letters them)

    def add(self, topic: str, value: bytes | None) -> None:
        """Count one record of the (unprefixed) ``topic``."""
        if value is None:
            return
        if topic == "dead-letters":
            self.dead_letters += 1
            return
        try:
            message: Any = decode(topic, value)
        except InvalidMessage:
            self.invalid += 1
            return
        doc = message.model_dump(by_alias=True)
        if topic == "automation-results":
            self.results.add(doc["frame_id"])
            if doc.get("error") is not None:
                self.failed.add(doc["frame_id"])
        elif topic == "deliveries":
            self.shipped.add(doc["frame_id"])
        elif topic == "manual-queue":
            self.queued.add(doc["frame_id"])
            self.tasks.add((doc["frame_id"], doc["copy"]))
        elif topic == "manual-annotations":
            self.annotated.add((doc["frame_id"], doc["copy"]))
        elif topic == "comparisons":
            self.comparisons.add((doc["frame_id"], doc["kind"]))
            self.comparison_records += 1
        elif topic == "agreement-stats":
            s: AgreementStats = message
            current = self.stats.get(s.stratum)
            if current is None or (s.n, s.time) >= (current.n, current.time):
                self.stats[s.stratum] = s
        elif topic == "recommendations":
            self.recommendation = message
        elif topic == "policies":
            self.policies += 1

    @property
    def routed(self) -> int:
        return len(self.shipped | self.queued)

    @property
    def expected_comparisons(self) -> int:
        """Comparisons the annotations so far call for: copy 1 vs machine (unless the engine failed), copy 2 vs 1."""
        return sum(1 for frame, copy in self.annotated if copy == 2 or frame not in self.failed)

    @property
    def aggregated(self) -> int:
        """Comparisons the latest agreement stats include (machine and consensus)."""
        return sum(s.n + (s.human_floor.n if s.human_floor else 0) for s in self.stats.values())

    def settled(self, frames: int) -> bool:
        """Every one of ``frames`` routed, every task annotated, compared and aggregated."""
        return (
            self.routed >= frames
            and self.annotated >= self.tasks
            and len(self.comparisons) >= self.expected_comparisons
            and self.aggregated >= len(self.comparisons)
        )

    def line(self, fed: int, unit: str = "frame") -> str:
        """One progress line: ``fed`` frames sent; the counts after the engine are of ``unit``s (a frame, or a
        clip when the loop's unit is a clip)."""
        overall = self.stats.get("all")
        estimate = ""
        if overall is not None and overall.estimate is not None:
            estimate = f" | acceptance {overall.estimate:.3f} [{overall.lower:.3f}, {overall.upper:.3f}] n={overall.n}"
        rec = ""
        if self.recommendation is not None:
            rec = f" | recommend {self.recommendation.automation_rate:.0%} ({self.recommendation.action})"
        engine = "engine" if unit == "frame" else f"{unit}s"
        return (f"frames in {fed:,} | {engine} {len(self.results):,} | shipped {len(self.shipped):,} | "
                f"queued {len(self.queued):,} | annotated {len(self.annotated):,} | "
                f"compared {len(self.comparisons):,}{estimate}{rec}"
                + (f" | dead letters {self.dead_letters:,}" if self.dead_letters else ""))
