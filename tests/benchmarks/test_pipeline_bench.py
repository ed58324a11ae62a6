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


def test_a_profile_counts_busy_samples_by_function_and_kind_of_work() -> None:
    from benchmarks.harness import ROOT
    from benchmarks.worker_cpu import Profile

    collapsed = "\n".join([
        f"MainThread;run (streams/agents/router.py:1);decode ({ROOT}/services/loop/messages/codec.py:40) 3",
        "MainThread;run (streams/agents/router.py:1);send (/x/site-packages/aiokafka/producer/sender.py:9) 1",
        "MainThread;run_forever (asyncio/base_events.py:1);EpollSelector.select (selectors.py:451) 50",  # idle
    ])
    p = Profile.read(collapsed)
    assert p.samples == 4
    assert p.top("self", 1) == [("decode (services/loop/messages/codec.py:40)", 0.75)]
    assert p.cumulative["run (streams/agents/router.py:1)"] == 4
    assert dict(p.breakdown()) == {"message validation (decode/encode)": 0.75,
                                   "producing (aiokafka producer, our sends)": 0.25}
