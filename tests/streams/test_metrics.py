"""The workers' Prometheus metrics move with what the agents do (read back from the default registry)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.loop.messages import AgreementStats, AutomationMessage, ComparisonMessage, RecommendationMessage
from streams import metrics
from tests.services.loop.messages.samples import sample

ROOT = Path(__file__).resolve().parents[2]


def _value(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_engine_results_count_outcomes_and_time_inference() -> None:
    ok = AutomationMessage.model_validate(sample("automation-results", inference_ms=4.0))
    bad = AutomationMessage.model_validate(sample("automation-results", error="unreadable", confidence=None))
    before = (_value("shadowqa_frames_processed_total", outcome="ok"),
              _value("shadowqa_frames_processed_total", outcome="failed"), _value("shadowqa_inference_seconds_count"))
    metrics.engine_results([ok, ok, bad])
    after = (_value("shadowqa_frames_processed_total", outcome="ok"),
             _value("shadowqa_frames_processed_total", outcome="failed"), _value("shadowqa_inference_seconds_count"))
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 1, 3]


def test_routing_counts_frames_and_each_task_copy() -> None:
    before = [_value("shadowqa_frames_routed_total", route="manual"), _value("shadowqa_manual_tasks_total", copy="2")]
    metrics.routed("manual", 2)
    metrics.routed("ship", 0)
    assert _value("shadowqa_frames_routed_total", route="manual") - before[0] == 1
    assert _value("shadowqa_manual_tasks_total", copy="2") - before[1] == 1


def test_stats_and_recommendations_set_the_gauges() -> None:
    doc: dict[str, Any] = sample("agreement-stats", stratum="weather=fog")
    metrics.stats(AgreementStats.model_validate(doc))
    assert _value("shadowqa_acceptance", stratum="weather=fog", bound="estimate") == doc["estimate"]
    assert _value("shadowqa_acceptance", stratum="weather=fog", bound="lower") == doc["lower"]
    assert _value("shadowqa_acceptance_n", stratum="weather=fog") == doc["n"]
    assert _value("shadowqa_human_floor", stratum="weather=fog", bound="upper") == doc["human_floor"]["upper"]
    metrics.recommendation(RecommendationMessage.model_validate(sample("recommendations", automation_rate=0.37)))
    assert _value("shadowqa_automation_rate_recommended") == 0.37


def test_comparisons_are_counted_by_kind() -> None:
    c = ComparisonMessage.model_validate(sample("comparisons", kind="consensus"))
    before = _value("shadowqa_comparisons_total", kind="consensus"), _value("shadowqa_comparisons_counted_total",
                                                                             kind="consensus")
    metrics.compared([c, c])
    metrics.counted([c])
    assert _value("shadowqa_comparisons_total", kind="consensus") - before[0] == 2
    assert _value("shadowqa_comparisons_counted_total", kind="consensus") - before[1] == 1


@pytest.mark.parametrize(("role", "name", "labels"), [
    ("router", "shadowqa_frames_routed_total", {"route": "ship"}),
    ("router", "shadowqa_manual_tasks_total", {"copy": "2"}),
    ("automation", "shadowqa_frames_processed_total", {"outcome": "failed"}),
    ("comparator", "shadowqa_comparisons_total", {"kind": "consensus"}),
    ("aggregator", "shadowqa_comparisons_counted_total", {"kind": "consensus"}),
])
def test_a_role_declares_its_known_series_at_zero(role: str, name: str, labels: dict[str, str]) -> None:
    """A fresh worker process shows 0 shipped frames, not no series (a dashboard's ratio of shipped to routed
    frames was empty in a demo run that shipped nothing)."""
    code = ("import sys; from prometheus_client import REGISTRY; from streams import metrics; "
            f"before = REGISTRY.get_sample_value({name!r}, {labels!r}); metrics.declare({role!r}); "
            f"print(before, REGISTRY.get_sample_value({name!r}, {labels!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split() == ["None", "0.0"]
