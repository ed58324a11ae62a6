"""The committed reference models: scores as documented, mistakes varied, confidence informative."""

from __future__ import annotations

import pytest

from services.engine.evaluate import EvalReport
from services.engine.reference import evaluate_reference, headline, read_metrics


@pytest.fixture(scope="module")
def detector() -> EvalReport:
    return evaluate_reference("driving-detector")


@pytest.fixture(scope="module")
def digits() -> EvalReport:
    return evaluate_reference("digits")


@pytest.mark.slow
def test_committed_scores_are_those_of_the_committed_weights(detector: EvalReport, digits: EvalReport) -> None:
    """weights/metrics.json (quoted in README and BENCHMARKS.md) belongs to these weights."""
    recorded = read_metrics()
    for name, report in (("driving-detector", detector), ("digits", digits)):
        fresh = headline(report)
        assert recorded[name]["model_version"] == fresh["model_version"], name
        for key, value in fresh.items():
            if key != "model_version":
                assert recorded[name][key] == pytest.approx(value, abs=1e-9), (name, key)


@pytest.mark.slow
def test_detector_mistakes_leave_the_automation_policy_something_to_decide(detector: EvalReport) -> None:
    m = detector.metrics
    assert 0.1 < m["acceptance"]["rate"] < 0.9
    assert set(m["per_class"]) == {"car", "pedestrian", "cyclist", "traffic_sign"}
    assert 0.3 < m["map50"] < 0.95
    sizes = [b["recall"] for b in m["recall_by_size"].values()]
    assert sizes[0] < sizes[-1] - 0.2, "tiny objects should be missed far more often than large ones"


@pytest.mark.slow
def test_frame_confidence_is_informative(detector: EvalReport) -> None:
    deciles = detector.metrics["acceptance_by_confidence_decile"]
    assert len(deciles) == 10
    assert deciles[-1]["acceptance"] > deciles[0]["acceptance"] + 0.2


@pytest.mark.slow
def test_digits_classifier_is_accurate_and_calibrated(digits: EvalReport) -> None:
    assert digits.metrics["accuracy"] > 0.95
    assert digits.metrics["ece"] < 0.05
    assert digits.failed == 0 and digits.frames == 450
