"""What the routes share: the API's settings and its database-backed parts (queue, tokens, evidence, outbox)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from services.api import metrics
from services.api.evidence import Evidence
from services.api.limits import BodyLimits
from services.api.outbox import Outbox
from services.api.queue import QueueConfig
from services.api.queue_tools import ToolQueue
from services.api.tokens import Tokens
from services.infra.topic_names import TopicNames
from services.loop.config import DEFAULT_MAX_WEIGHT
from services.tools.kafka import Sink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiConfig:
    lease_s: float = 300.0
    max_leases: int = 1
    max_weight: float = DEFAULT_MAX_WEIGHT  # the gates' weight bound when a request names none: 1/audit floor
    sweep_every_s: float = 1.0
    wait_s: float = 5.0  # how long a request waits for the database (the engine's lock timeout); then 503
    body_limits: BodyLimits = field(default_factory=BodyLimits)
    metrics_names: bool = False  # name annotators in /metrics (which needs no token)


class Api:
    """The database-backed parts and the Kafka sink (None: nothing is published), started and stopped with the
    app; the routes reach it through ``deps.ApiDep``."""

    def __init__(self, engine: Engine, config: ApiConfig, admin_token: str | None, sink: Sink | None,
                 names: TopicNames) -> None:
        self.engine, self.config, self.sink, self.names = engine, config, sink, names
        self.queue = ToolQueue(engine, QueueConfig(config.lease_s, config.max_leases, config.wait_s),
                           on_expired=expired)
        self.tokens = Tokens(engine, admin_token)
        self.evidence = Evidence(engine)
        self.registry = metrics.registry(engine, config.metrics_names)
        self.outbox = Outbox(engine, sink, names.manual_annotations) if sink is not None else None
        self._stop = threading.Event()
        self.policy_lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self._sweeper, name="lease-sweeper", daemon=True).start()
        if self.outbox is not None:
            self.outbox.start()

    def stop(self) -> None:
        self._stop.set()
        if self.outbox is not None:
            self.outbox.stop()

    def person(self, name: str) -> str:
        """``name`` as the metrics' ``annotator`` label."""
        return metrics.person(name, self.config.metrics_names)

    def _sweeper(self) -> None:
        while not self._stop.wait(self.config.sweep_every_s):
            try:
                self.queue.sweep()  # counted by ``expired``, as the expiries claims find themselves
            except Exception as exc:  # database away: the next sweep (or claim) catches up
                log.warning("lease sweep failed (%s: %s)", type(exc).__name__, exc)


def expired(leases: list[Any]) -> None:
    for e in leases:
        metrics.EXPIRIES.labels(stratum=e.stratum).inc()
