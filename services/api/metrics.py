"""Prometheus metrics of the API: the queue read from the database at scrape time, and per-annotator counters.

Names are the contract with ``dashboards/`` (the annotation-team view): queue
depth, age and evidence per stratum, lease expiries, claims/submissions/skips
per annotator, each annotator's agreement on consensus-compared frames, and
request counts and latencies per route.

Every label takes its values from a fixed set, whatever clients send: the
method is a known HTTP method or ``other``, the route its template (one
``unmatched`` for paths no route serves), the status the one answered, or
:data:`DISCONNECTED` when the client went away before anything was answered
(mid-upload: nobody is left to answer, and that is no server error). ``/metrics`` needs no token, so people
are not named there unless the API is told to (``--metrics-names``): the
``annotator`` label is then :data:`HIDDEN` and the consensus agreement is the
whole team's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a path no route serves
DISCONNECTED = "disconnected"  # the status label of a request whose client left before any answer
HIDDEN = "all"  # the annotator label when people are not named
log = logging.getLogger(__name__)
WAITING = (TaskState.QUEUED.value, TaskState.REQUEUED.value)
SHOWN = (TaskState.QUEUED.value, TaskState.REQUEUED.value, TaskState.LEASED.value)


def person(name: str, named: bool) -> str:
    """The ``annotator`` label of ``name``: the name itself only when people are named."""
    return name if named else HIDDEN


def measure_requests(app: FastAPI, routes: list[BaseRoute] | None = None) -> None:
    """Count and time every request by method, route template and status (labels from fixed sets); added last,
    so outermost: the answers of the other middleware (the body limit's 413) are counted too. ``routes`` (default:
    the app's) name the template of a request answered before routing; FastAPI keeps an included router as one
    route without a template, so an app of included routers passes their routes."""
    app.add_middleware(MeasureRequests, routes=app.router.routes if routes is None else routes)


class MeasureRequests:
    """ASGI middleware: :data:`REQUESTS` and :data:`LATENCY` of every HTTP request. The status is read from the
    answer as it is sent; a request that ends without one was left by its client (:data:`DISCONNECTED`) or
    failed (``500``, which the server error handler outside answers)."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        begin, status = time.perf_counter(), DISCONNECTED

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            status = "500" if status == DISCONNECTED else status
            raise
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = _route(self.routes, scope)
            REQUESTS.labels(method, route, status).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - begin)


def _route(routes: list[BaseRoute], scope: Scope) -> str:
    """The template of the route that served (or would serve) the request, or UNMATCHED."""
    route = scope.get("route")
    if route is None:  # answered before routing (413, a client gone): find the route the path belongs to
        route = next((r for r in routes if r.matches(scope)[0] != Match.NONE), None)
    return str(getattr(route, "path", UNMATCHED))


class QueueCollector(Collector):
    """Queue depth, oldest waiting task and evidence per stratum; consensus agreement per annotator (or of the
    whole team when people are not named). A database that cannot be read leaves these out of the scrape."""

    def __init__(self, engine: Engine, named: bool = False) -> None:
        self._sessions = session_factory(engine)
        self._named = named

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._collect()
        except SQLAlchemyError as exc:
            log.warning("queue metrics left out of the scrape: the database did not answer (%s)",
                        type(exc).__name__)

    def _collect(self) -> list[Metric]:
        depth = GaugeMetricFamily("shadowqa_queue_depth", "Manual tasks by stratum and state",
                                  labels=["stratum", "state"])
        oldest = GaugeMetricFamily("shadowqa_queue_oldest_seconds", "Age of the oldest task waiting to be claimed",
                                   labels=["stratum"])
        evidence = GaugeMetricFamily("shadowqa_queue_evidence", "Annotations submitted in the stratum (the queue "
                                     "serves the least first)", labels=["stratum"])
        now = time.time()
        task = ManualTaskRow
        with self._sessions() as session:
            strata = session.scalars(select(task.stratum).distinct()).all()
            counts = {(s, st): n for s, st, n in session.execute(
                select(task.stratum, task.state, func.count()).group_by(task.stratum, task.state)).all()}
            first = dict(session.execute(select(task.stratum, func.min(task.created_at))
                                         .where(task.state.in_(WAITING)).group_by(task.stratum)).all())
            people = self._consensus(session)
        for stratum in sorted(strata):
            for state in SHOWN:
                depth.add_metric([stratum, state], counts.get((stratum, state), 0))
            created = first.get(stratum)
            oldest.add_metric([stratum], 0.0 if created is None else max(0.0, now - created))
            evidence.add_metric([stratum], counts.get((stratum, TaskState.SUBMITTED.value), 0))
        return [depth, oldest, evidence, *people]

    def _consensus(self, session: Session) -> list[Metric]:
        agreement = GaugeMetricFamily("shadowqa_annotator_consensus_agreement", "Share of the annotator's "
                                      "consensus-compared frames on which both people agreed", labels=["annotator"])
        agreed_n = GaugeMetricFamily("shadowqa_annotator_consensus_n", "Consensus-compared frames of the annotator",
                                     labels=["annotator"])
        accepted = func.avg(case((ComparisonRow.accepted, 1.0), else_=0.0))
        rows: list[tuple[str, float, int]]
        if self._named:
            rows = [(str(a), float(share), int(n)) for a, share, n in session.execute(
                select(ManualAnnotationRow.annotator, accepted, func.count())
                .join(ManualTaskRow, ManualTaskRow.task_id == ManualAnnotationRow.task_id)
                .join(ComparisonRow, ComparisonRow.frame_id == ManualTaskRow.frame_id)
                .where(ComparisonRow.kind == "consensus").group_by(ManualAnnotationRow.annotator)).all()]
        else:
            rows = [(HIDDEN, float(share), int(n)) for share, n in session.execute(
                select(accepted, func.count()).where(ComparisonRow.kind == "consensus")).all() if n]
        for annotator, share, n in rows:
            agreement.add_metric([annotator], share)
            agreed_n.add_metric([annotator], n)
        return [agreement, agreed_n]


def registry(engine: Engine, named: bool = False) -> CollectorRegistry:
    """The API's own registry: the database-backed queue collector (the counters live in the default one)."""
    own = CollectorRegistry(auto_describe=False)
    own.register(QueueCollector(engine, named))
    return own
