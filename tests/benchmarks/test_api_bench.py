"""The API benchmark's pure parts: percentiles, combining the clients' logs, the correctness check, the workload
(the benchmark itself needs PostgreSQL and API processes and is not timed here)."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.api import tasks
from benchmarks.api_clients import ClientLog, RunResult, combine, jobs, percentile, problems, summarize

SAMPLES = [0.5, 0.1, 0.4, 0.2, 0.3, 0.9, 0.8, 0.7, 0.6, 1.0]


@pytest.mark.parametrize(("samples", "q", "expected"), [
    (sorted(SAMPLES), 50, 0.5),  # the 5th of 10
    (sorted(SAMPLES), 95, 1.0),  # ceil(9.5) = 10th
    (sorted(SAMPLES), 90, 0.9),
    (sorted(SAMPLES), 10, 0.1),
    (sorted(SAMPLES), 0, 0.1),
    ([7.0], 99, 7.0),
    ([float(i) for i in range(1, 101)], 99, 99.0),
    ([float(i) for i in range(1, 101)], 95, 95.0),
])
def test_nearest_rank_percentile(samples: list[float], q: float, expected: float) -> None:
    assert percentile(samples, q) == expected


def test_no_samples_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)


def test_summary_sorts_its_samples() -> None:
    s = summarize(SAMPLES)
    assert (s.n, s.p50, s.p95, s.p99) == (10, 0.5, 1.0, 1.0)


def _log(start: float, end: float, done: list[str], claims: list[float], statuses: dict[str, int]) -> ClientLog:
    return ClientLog(latencies={"claim": claims, "submit": [0.01] * len(done)}, statuses=Counter(statuses),
                     done=done, start=start, end=end)


def test_a_run_lasts_from_the_first_start_to_the_last_end_and_pools_latencies() -> None:
    a = _log(10.0, 14.0, ["t1", "t2"], [0.1, 0.3, 0.05], {"claim 200": 2, "claim 204": 1, "submit 200": 2})
    b = _log(11.0, 15.0, ["t3"], [0.2, 0.05], {"claim 200": 1, "claim 204": 1, "submit 200": 1})
    run = combine("api", [a, b])
    assert run.seconds == 5.0
    assert run.items == 3 and run.rate == pytest.approx(0.6)
    assert run.requests == 8 and run.request_rate == pytest.approx(1.6)
    assert run.latency["claim"].n == 5 and run.latency["claim"].p50 == 0.1
    assert run.statuses["claim 200"] == 3


def _run(done: list[str], statuses: dict[str, int], errors: list[str] | None = None) -> RunResult:
    log = _log(0.0, 1.0, done, [0.1], statuses)
    log.errors = errors or []
    return combine("api", [log])


GOOD = {"claim 200": 3, "claim 204": 8, "submit 200": 3}
ROWS = {"tasks": 3, "tasks submitted": 3, "annotations": 3, "tasks with an annotation": 3}


def test_a_clean_run_has_no_problems() -> None:
    assert problems(_run(["a", "b", "c"], GOOD), 3, ROWS) == []


@pytest.mark.parametrize(("done", "statuses", "rows", "errors", "expected"), [
    (["a", "b", "b"], GOOD, ROWS, [], "2 distinct"),  # one task accepted twice
    (["a", "b"], {**GOOD, "submit 200": 2, "submit 409": 1}, ROWS, [], "submit 409"),  # a lease refused
    (["a", "b", "c"], {**GOOD, "claim 500": 1}, ROWS, [], "claim 500"),
    (["a", "b", "c"], {**GOOD, "claim 200": 4}, ROWS, [], "4 claims"),  # a claim the submits never closed
    (["a", "b", "c"], GOOD, {**ROWS, "tasks submitted": 2}, [], "tasks submitted: 2"),  # the database disagrees
    (["a", "b", "c"], GOOD, {**ROWS, "annotations": 4}, [], "annotations: 4"),
    (["a", "b", "c"], GOOD, ROWS, ["ReadTimeout: timed out"], "ReadTimeout"),
])
def test_lost_doubled_or_refused_work_is_a_problem(done: list[str], statuses: dict[str, int], rows: dict[str, int],
                                                   errors: list[str], expected: str) -> None:
    found = problems(_run(done, statuses, errors), 3, rows)
    assert any(expected in p for p in found), found


@pytest.mark.parametrize("n", [0, 1, 2, 11, 400])
def test_the_workload_has_n_distinct_tasks_and_consensus_copies_come_in_pairs(n: int) -> None:
    queued = tasks(n)
    assert len(queued) == n == len({t.task_id for t in queued})
    per_frame = Counter(t.frame_id for t in queued)
    assert all(per_frame[t.frame_id] == t.copies for t in queued)
    if n >= 11:
        assert sum(c == 2 for c in per_frame.values()) == (n + 9) // 11  # frames 0, 10, 20, ... have two copies
        assert len({t.stratum for t in queued}) == 4


def test_annotators_are_dealt_to_every_process_and_shared_by_the_replicas() -> None:
    people = [(f"annotator-{k}", f"token-{k}") for k in range(8)]
    dealt = jobs("api", "postgresql://db", people, ["http://a", "http://b"])
    everyone = [a for job in dealt for a in job.annotators]
    assert sorted(name for name, _, _ in everyone) == sorted(name for name, _ in people)
    assert Counter(url for _, _, url in everyone) == {"http://a": 4, "http://b": 4}
    assert len(dealt) == 4 and all(len(job.annotators) == 2 for job in dealt)
    # each process talks to both replicas when there are two (so a process is not pinned to one server)
    assert all({url for _, _, url in job.annotators} == {"http://a", "http://b"} for job in dealt)
