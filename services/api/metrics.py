"""Prometheus metrics of the API: the queue read from the database at scrape time, and per-annotator counters.

Names are the contract with ``dashboards/`` (the annotation-team view): queue
depth, age and evidence per stratum, lease expiries, claims/submissions/skips
per annotator, each annotator's agreement on consensus-compared frames, and
request counts and latencies per route.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select

from services.db.engine import session_factory
from services.db.models import ComparisonRow, ManualAnnotationRow, ManualTaskRow
from services.db.states import TaskState

CLAIMED = Counter("shadowqa_tasks_claimed", "Tasks leased to an annotator", ["annotator"])
SUBMITTED = Counter("shadowqa_tasks_submitted", "Annotations submitted", ["annotator"])
SKIPPED = Counter("shadowqa_tasks_skipped", "Tasks handed back with a reason", ["annotator"])
EXPIRIES = Counter("shadowqa_lease_expiries", "Leases that ran out; each task went back to the queue once",
                   ["stratum"])
REQUESTS = Counter("shadowqa_api_requests", "API requests by route and status", ["method", "route", "status"])
LATENCY = Histogram("shadowqa_api_request_seconds", "API request time", ["method", "route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))
WAITING = (TaskState.QUEUED.value, TaskState.REQUEUED.value)
SHOWN = (TaskState.QUEUED.value, TaskState.REQUEUED.value, TaskState.LEASED.value)


class QueueCollector(Collector):
    """Queue depth, oldest waiting task and evidence per stratum; consensus agreement per annotator."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = session_factory(engine)

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("shadowqa_queue_depth", "Manual tasks by stratum and state",
                                  labels=["stratum", "state"])
        oldest = GaugeMetricFamily("shadowqa_queue_oldest_seconds", "Age of the oldest task waiting to be claimed",
                                   labels=["stratum"])
        evidence = GaugeMetricFamily("shadowqa_queue_evidence", "Annotations submitted in the stratum (the queue "
                                     "serves the least first)", labels=["stratum"])
        agreement = GaugeMetricFamily("shadowqa_annotator_consensus_agreement", "Share of the annotator's "
                                      "consensus-compared frames on which both people agreed", labels=["annotator"])
        agreed_n = GaugeMetricFamily("shadowqa_annotator_consensus_n", "Consensus-compared frames of the annotator",
                                     labels=["annotator"])
        now = time.time()
        task = ManualTaskRow
        with self._sessions() as session:
            strata = session.scalars(select(task.stratum).distinct()).all()
            counts = {(s, st): n for s, st, n in session.execute(
                select(task.stratum, task.state, func.count()).group_by(task.stratum, task.state)).all()}
            first = dict(session.execute(select(task.stratum, func.min(task.created_at))
                                         .where(task.state.in_(WAITING)).group_by(task.stratum)).all())
            people = session.execute(
                select(ManualAnnotationRow.annotator,
                       func.avg(case((ComparisonRow.accepted, 1.0), else_=0.0)), func.count())
                .join(task, task.task_id == ManualAnnotationRow.task_id)
                .join(ComparisonRow, ComparisonRow.frame_id == task.frame_id)
                .where(ComparisonRow.kind == "consensus").group_by(ManualAnnotationRow.annotator)).all()
        for stratum in sorted(strata):
            for state in SHOWN:
                depth.add_metric([stratum, state], counts.get((stratum, state), 0))
            created = first.get(stratum)
            oldest.add_metric([stratum], 0.0 if created is None else max(0.0, now - created))
            evidence.add_metric([stratum], counts.get((stratum, TaskState.SUBMITTED.value), 0))
        for annotator, share, n in people:
            agreement.add_metric([annotator], float(share))
            agreed_n.add_metric([annotator], n)
        yield from (depth, oldest, evidence, agreement, agreed_n)


def registry(engine: Engine) -> CollectorRegistry:
    """The API's own registry: the database-backed queue collector (the counters live in the default one)."""
    own = CollectorRegistry(auto_describe=False)
    own.register(QueueCollector(engine))
    return own
