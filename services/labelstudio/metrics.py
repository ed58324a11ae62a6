"""Prometheus metrics of the Label Studio side of the queue, read from the database at scrape time.

From the bridge's rows, whichever process wrote them (the bridge, or the API taking a webhook): tasks open in
Label Studio, copies the bridge holds, and per person the tasks answered there and the time spent on them
(from the person's lease in the log: when they opened the task to when they answered). People are
``ls:<Label Studio user id>``: pseudonyms (Label Studio's Organization page shows who is who), unless the API is
told to name people (``--metrics-names``) and can read Label Studio's users: then their e-mail addresses.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from services.db.engine import session_factory
from services.db.models import LabelStudioTaskRow, ManualTaskRow, TaskLeaseRow
from services.db.states import TaskState
from services.labelstudio.client import LabelStudio
from services.labelstudio.exceptions import LabelStudioError
from services.labelstudio.ingest import BRIDGE, PERSON_PREFIX

log = logging.getLogger(__name__)
OUTCOMES = ("submitted", "skipped")
MAX_AGE_S = 60.0


class PeopleNames:
    """``ls:<id>`` -> e-mail address, from Label Studio's users, read at most every ``max_age_s``; an unreadable
    list leaves people as pseudonyms until the next try."""

    def __init__(self, url: str, token: str, max_age_s: float = MAX_AGE_S) -> None:
        self._url, self._token, self._max_age_s = url, token, max_age_s
        self._names: dict[str, str] = {}
        self._read_at = -math.inf
        self._lock = threading.Lock()

    def __call__(self) -> dict[str, str]:
        with self._lock:
            if time.monotonic() - self._read_at >= self._max_age_s:
                self._read_at = time.monotonic()
                client = LabelStudio(self._url, self._token)
                try:
                    self._names = {f"{PERSON_PREFIX}{u['id']}": str(u.get("email") or u.get("username"))
                                   for u in client.users() if "id" in u}
                except LabelStudioError as exc:
                    log.warning("people left as pseudonyms in /metrics: %s", exc)
                finally:
                    client.close()
            return dict(self._names)


class LabelStudioCollector(Collector):
    """The Label Studio bridge's state and people, from the database; left out of a scrape the database misses.
    ``names``: people named (else their pseudonyms)."""

    def __init__(self, engine: Engine, names: Callable[[], dict[str, str]] | None = None) -> None:
        self._sessions = session_factory(engine)
        self._names = names

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._collect()
        except SQLAlchemyError as exc:
            log.warning("Label Studio metrics left out of the scrape: the database did not answer (%s)",
                        type(exc).__name__)

    def _collect(self) -> list[Metric]:
        open_tasks = GaugeMetricFamily("shadowqa_labelstudio_open_tasks", "Tasks the bridge keeps open in Label "
                                       "Studio (one per frame)")
        held = GaugeMetricFamily("shadowqa_labelstudio_held_copies", "Task copies leased to the bridge while open "
                                 "in Label Studio")
        answered = CounterMetricFamily("shadowqa_labelstudio_answered", "Tasks answered in Label Studio, by "
                                       "person (a pseudonym) and outcome", labels=["annotator", "outcome"])
        spent = CounterMetricFamily("shadowqa_labelstudio_answer_seconds", "Time people spent on the tasks they "
                                    "answered in Label Studio (from opening to answer), by outcome",
                                    labels=["outcome"])
        spent_n = CounterMetricFamily("shadowqa_labelstudio_answers", "Tasks answered in Label Studio, by outcome "
                                      "(the count behind shadowqa_labelstudio_answer_seconds)", labels=["outcome"])
        lease = TaskLeaseRow
        people = lease.annotator.startswith(PERSON_PREFIX, autoescape=True)
        names = self._names() if self._names is not None else {}
        with self._sessions() as session:
            open_tasks.add_metric([], session.scalar(select(func.count()).select_from(LabelStudioTaskRow).where(
                LabelStudioTaskRow.closed_at.is_(None))) or 0)
            held.add_metric([], session.scalar(select(func.count()).select_from(ManualTaskRow).where(
                ManualTaskRow.state == TaskState.LEASED.value, ManualTaskRow.lease_owner == BRIDGE)) or 0)
            for who, outcome, n in session.execute(select(lease.annotator, lease.outcome, func.count()).where(
                    people, lease.outcome.in_(OUTCOMES)).group_by(lease.annotator, lease.outcome)):
                answered.add_metric([names.get(who, who), str(outcome)], n)
            totals = {outcome: (n, seconds) for outcome, n, seconds in session.execute(
                select(lease.outcome, func.count(), func.sum(lease.ended_at - lease.leased_at)).where(
                    people, lease.outcome.in_(OUTCOMES)).group_by(lease.outcome))}
        for outcome in OUTCOMES:
            n, seconds = totals.get(outcome, (0, 0.0))
            spent.add_metric([outcome], float(seconds or 0.0))
            spent_n.add_metric([outcome], n)
        return [open_tasks, held, answered, spent, spent_n]
