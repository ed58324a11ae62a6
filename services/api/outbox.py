"""The annotations' outbox: a submitted annotation is committed to the database first, then put on Kafka.

A background thread publishes unpublished annotations to ``manual-annotations``
(keyed by frame id, as the simulated annotators do), waits for the broker's
acknowledgement, and only then marks them published. A broker outage delays
annotations; it never loses one (and a crash between send and mark publishes
an annotation twice, which the comparator's join ignores).
"""

from __future__ import annotations

import logging
import threading
import time

from prometheus_client import Gauge
from sqlalchemy import Engine, func, select

from services.db.engine import session_factory
from services.db.mappers import annotation_message
from services.db.models import ManualAnnotationRow, ManualTaskRow
from services.messages import encode
from services.tools.kafka import Sink, key_bytes

log = logging.getLogger(__name__)
PENDING = Gauge("shadowqa_outbox_pending", "Submitted annotations not yet acknowledged by Kafka")
BATCH = 500


class Outbox:
    def __init__(self, engine: Engine, sink: Sink, topic: str) -> None:
        self._sessions = session_factory(engine)
        self._postgres = engine.dialect.name == "postgresql"
        self._sink, self._topic = sink, topic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self) -> int:
        """Publish one batch of unpublished annotations; how many were published (0: none waiting)."""
        with self._sessions() as session, session.begin():
            query = (select(ManualAnnotationRow, ManualTaskRow)
                     .join(ManualTaskRow, ManualTaskRow.task_id == ManualAnnotationRow.task_id)
                     .where(ManualAnnotationRow.published_at.is_(None)).order_by(ManualAnnotationRow.id).limit(BATCH))
            if self._postgres:  # several API replicas: each row published by one of them
                query = query.with_for_update(of=ManualAnnotationRow, skip_locked=True)
            rows = session.execute(query).all()
            for answer, task in rows:
                self._sink.send(self._topic, key_bytes(task.frame_id), encode(annotation_message(answer, task)))
            self._sink.flush()  # raises if any was not acknowledged: nothing is marked, all are retried
            now = time.time()
            for answer, _ in rows:
                answer.published_at = now
        if rows:
            self._measure()
        else:  # the batch query found no unpublished row: nothing is pending, no need to count
            PENDING.set(0)
        return len(rows)

    def start(self, every_s: float = 0.2) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    if self.publish() == BATCH:
                        continue
                except Exception as exc:  # broker or database away: keep the rows, retry
                    log.warning("outbox: publishing annotations failed, retrying (%s: %s)", type(exc).__name__, exc)
                    self._stop.wait(2.0)
                self._stop.wait(every_s)

        self._thread = threading.Thread(target=loop, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after a last publish attempt."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            while self.publish():
                pass
        except Exception as exc:
            log.warning("outbox: %s (%s) left unpublished at shutdown; published at next start", exc,
                        type(exc).__name__)

    def _measure(self) -> None:
        with self._sessions() as session:
            PENDING.set(session.scalar(select(func.count()).select_from(ManualAnnotationRow)
                                       .where(ManualAnnotationRow.published_at.is_(None))) or 0)
