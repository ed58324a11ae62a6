"""Prometheus metrics of the workers (served with ``shadowqa worker --metrics-port PORT``).

One module-level registry per process (prometheus_client's default); each role
updates the metrics of its step. Names are ``shadowqa_*``; the dashboards and
the services issue build on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, get_args

from prometheus_client import Counter, Gauge, Histogram

from analysis.sampling import Route
from services.loop.messages import AgreementStats, AutomationMessage, ComparisonMessage, RecommendationMessage

FRAMES = Counter("shadowqa_frames_processed", "Frames the automation engine answered", ["outcome"])
INFERENCE = Histogram("shadowqa_inference_seconds", "Engine inference time per frame",
                      buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))
ROUTED = Counter("shadowqa_frames_routed", "Frames routed, by where they went", ["route"])
TASKS = Counter("shadowqa_manual_tasks", "Manual tasks issued, by copy", ["copy"])
COMPARISONS = Counter("shadowqa_comparisons", "Comparisons emitted by the comparator", ["kind"])
EXPIRED = Counter("shadowqa_comparator_expired", "Join entries expired before they were complete")
COUNTED = Counter("shadowqa_comparisons_counted", "Comparisons counted by the aggregator (each once)", ["kind"])
ACCEPTANCE = Gauge("shadowqa_acceptance", "Acceptance estimate per stratum (1/π-weighted)", ["stratum", "bound"])
EVIDENCE = Gauge("shadowqa_acceptance_n", "Machine comparisons behind the estimate", ["stratum"])
HUMAN_FLOOR = Gauge("shadowqa_human_floor", "Human-vs-human acceptance per stratum", ["stratum", "bound"])
RECOMMENDED = Gauge("shadowqa_automation_rate_recommended", "Automation rate the recommender recommends")
POLICY = Gauge("shadowqa_policy_version", "Version of the latest recommended policy")
TARGET = Gauge("shadowqa_acceptance_target", "Acceptance target the stratum's estimate is judged against",
               ["stratum"])
ROWS_PERSISTED = Counter("shadowqa_rows_persisted", "Rows the persist worker inserted (replays insert none)",
                         ["table"])
CHECKPOINT = Gauge("shadowqa_aggregator_checkpoint_offset",
                   "The comparisons offset the aggregator's latest checkpoint covers (the next record to read)")
CHECKPOINT_BYTES = Gauge("shadowqa_aggregator_checkpoint_bytes", "Size of the aggregator's latest checkpoint record")
DEDUP_KEYS = Gauge("shadowqa_aggregator_dedup_keys",
                   "(frame, kind) keys the aggregator remembers to drop duplicates (the last horizon's)")
CLIPS = Counter("shadowqa_clips_processed", "Clips the chain of automation steps answered", ["outcome"])
CLIPS_COMPARED = Counter("shadowqa_clips_compared", "Machine comparisons of clips counted by the aggregator "
                         "(each once)")
STEP_ERRORS = Counter("shadowqa_step_errors_attributed", "Errors of the final output of compared clips, by the "
                      "chain step that introduced them (misses, false positives, identity switches: they add up "
                      "over the steps to the final errors)", ["step", "error"])
CONSUMER_LAG = Gauge("shadowqa_consumer_lag", "Records on a topic the worker's consumer group has not consumed yet "
                     "(end offsets minus committed offsets, summed over partitions)", ["group", "topic"])


def engine_results(results: list[AutomationMessage]) -> None:
    for m in results:
        FRAMES.labels(outcome="failed" if m.error is not None else "ok").inc()
        INFERENCE.observe(m.inference_ms / 1000.0)


def clip_result(m: AutomationMessage) -> None:
    """A clip through the chain: its frames counted as the engine's frames are, the clip once."""
    assert m.clip is not None
    outcome = "failed" if m.error is not None else "ok"
    CLIPS.labels(outcome=outcome).inc()
    frames = len(m.clip.frames)
    FRAMES.labels(outcome=outcome).inc(frames)
    INFERENCE.observe(m.inference_ms / 1000.0 / frames)


def attributed(comparisons: list[ComparisonMessage]) -> None:
    """Each counted machine comparison of a clip: its final errors, by the step that introduced them."""
    for c in comparisons:
        if c.kind != "machine" or c.steps is None:
            continue
        CLIPS_COMPARED.inc()
        for s in c.steps:
            STEP_ERRORS.labels(step=s.name, error="misses").inc(s.attributed_misses)
            STEP_ERRORS.labels(step=s.name, error="false_positives").inc(s.attributed_false_positives)
            STEP_ERRORS.labels(step=s.name, error="switches").inc(s.attributed_switches)


@cache
def _child(metric: Counter, value: str) -> Any:
    """The series of a one-label counter for ``value`` (``labels()`` checks and locks on every call: these are
    counted per frame)."""
    return metric.labels(value)


def routed(route: str, copies: int) -> None:
    _child(ROUTED, route).inc()
    for copy in range(1, copies + 1):
        _child(TASKS, str(copy)).inc()


def compared(comparisons: list[ComparisonMessage]) -> None:
    for c in comparisons:
        _child(COMPARISONS, c.kind).inc()


def checkpoint(offset: int, size: int, keys: int) -> None:
    CHECKPOINT.set(offset)
    CHECKPOINT_BYTES.set(size)
    DEDUP_KEYS.set(keys)


def counted(comparisons: list[ComparisonMessage]) -> None:
    for c in comparisons:
        _child(COUNTED, c.kind).inc()


def stats(s: AgreementStats) -> None:
    if s.estimate is not None:
        ACCEPTANCE.labels(stratum=s.stratum, bound="estimate").set(s.estimate)
    ACCEPTANCE.labels(stratum=s.stratum, bound="lower").set(s.lower)
    ACCEPTANCE.labels(stratum=s.stratum, bound="upper").set(s.upper)
    EVIDENCE.labels(stratum=s.stratum).set(s.n)
    TARGET.labels(stratum=s.stratum).set(s.target)
    floor = s.human_floor
    if floor is not None:
        if floor.estimate is not None:
            HUMAN_FLOOR.labels(stratum=s.stratum, bound="estimate").set(floor.estimate)
        HUMAN_FLOOR.labels(stratum=s.stratum, bound="lower").set(floor.lower)
        HUMAN_FLOOR.labels(stratum=s.stratum, bound="upper").set(floor.upper)


def recommendation(r: RecommendationMessage) -> None:
    RECOMMENDED.set(r.automation_rate)
    POLICY.set(r.policy_version)


def persisted(counts: Mapping[str, int]) -> None:
    for table, n in counts.items():
        ROWS_PERSISTED.labels(table=table).inc(n)


def lag(group: str, by_topic: Mapping[str, int]) -> None:
    for topic, n in by_topic.items():
        CONSUMER_LAG.labels(group=group, topic=topic).set(n)


KINDS = get_args(ComparisonMessage.model_fields["kind"].annotation)  # machine, consensus
KNOWN_SERIES: dict[str, list[tuple[Counter, dict[str, str]]]] = {
    "automation": [(FRAMES, {"outcome": o}) for o in ("ok", "failed")] + [(CLIPS, {"outcome": o})
                                                                           for o in ("ok", "failed")],
    "router": [(ROUTED, {"route": r}) for r in get_args(Route)] + [(TASKS, {"copy": c}) for c in ("1", "2")],
    "comparator": [(COMPARISONS, {"kind": k}) for k in KINDS],
    "aggregator": [(COUNTED, {"kind": k}) for k in KINDS],
}


def declare(role: str) -> None:
    """Create the counters ``role`` reports for every label value known in advance, at zero, so a dashboard
    shows 0 rather than "no data" until the first event: the share of shipped frames is 0 before the first
    frame ships, not missing (Prometheus' advice for labels known in advance)."""
    for counter, labels in KNOWN_SERIES.get(role, []):
        counter.labels(**labels)
