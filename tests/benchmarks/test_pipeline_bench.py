"""The pipeline benchmark's latency reading (pure; the benchmark itself needs the broker and is not timed here)."""

from __future__ import annotations

import pytest

from benchmarks.pipeline import latencies


def test_each_annotation_waits_for_the_first_stats_that_count_it() -> None:
    sent = [10.0, 10.1, 10.2, 10.3]
    points = [(10.05, 1), (10.35, 2), (10.4, 3), (10.9, 4)]
    assert latencies(sent, points) == pytest.approx([0.05, 0.25, 0.2, 0.6])


def test_a_total_that_dips_when_a_stratum_reports_late_does_not_delay_what_was_counted() -> None:
    sent = [0.0, 0.1, 0.2]
    points = [(0.3, 2), (0.4, 1), (0.8, 3)]  # the running maximum is what has been counted
    assert latencies(sent, points) == pytest.approx([0.3, 0.2, 0.6])
