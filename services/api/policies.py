"""Policies applied by a person: a recommendation becomes the next policy version, recorded and published."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, func, select

from services.api.exceptions import NotPublished
from services.db.engine import session_factory
from services.db.models import PolicyRow, RecommendationRow
from services.loop.messages import PolicyMessage, encode
from services.tools.kafka import Sink


def apply_recommendation(*, engine: Engine, sink: Sink, topic: str, lock: threading.Lock, rec: RecommendationRow,
                         applied_by: str, reason: str) -> PolicyMessage:
    """Record and publish ``rec``'s thresholds as the next version; whatever ``sink`` raises rolls the record back
    (a policy no router saw is not recorded as applied): :class:`NotPublished`."""
    with lock, session_factory(engine)() as session, session.begin():
        latest = session.scalar(select(func.max(PolicyRow.version))) or 0
        version = max(latest, rec.policy_version) + 1
        message = PolicyMessage(version=version, default=None, thresholds=dict(rec.thresholds),
                                applied_by=applied_by, reason=reason, time=time.time())
        session.add(PolicyRow(version=version, default_threshold=None, thresholds=dict(rec.thresholds),
                              applied_by=applied_by, reason=reason, time=message.time))
        session.flush()
        try:
            sink.send(topic, b"policy", encode(message))
            sink.flush()
        except Exception as exc:  # rolled back with the session
            raise NotPublished(f"Kafka did not take the policy ({type(exc).__name__}: {exc})") from exc
    return message
