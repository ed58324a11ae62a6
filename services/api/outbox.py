"""The annotations' outbox: a submitted annotation is committed to the database first, then put on Kafka.

A background thread publishes pending annotations to ``manual-annotations``
(keyed by frame id, as the simulated annotators do), waits for the broker's
acknowledgement of each record, and only then marks them published. A broker
outage delays annotations; it never loses one (and a crash between send and
mark publishes an annotation twice, which the comparator's join ignores).

No row can hold up the others. A row that cannot be encoded (a value the
message or JSON cannot carry), or whose record the producer or the broker
refuses for itself (larger than the producer's ``max_request_size``, invalid),
goes to ``dead-letters`` instead, with the reason (``encode``, ``too_large`` or
``send``, counted in ``shadowqa_outbox_dead_letters_total``), and is marked with
when and why; the rows after it flow on. A broker that does not answer is never
a reason: nothing is dead-lettered, everything is retried. A row whose dead
letter is not acknowledged stays pending and is retried with the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from prometheus_client import Counter, Gauge
from pydantic import ValidationError
from sqlalchemy import ColumnElement, Engine, Select, func, select

from services.db.engine import session_factory
from services.db.mappers import annotation_message
from services.db.models import ManualAnnotationRow, ManualTaskRow
from services.infra.topic_names import TopicNames
from services.loop.messages import dead_letter, encode
from services.loop.messages.reasons import reason as why
from services.tools.exceptions import DeliveryFailed, RecordRefused, RecordTooLarge
from services.tools.kafka import Delivery, Sink, key_bytes

log = logging.getLogger(__name__)
PENDING = Gauge("shadowqa_outbox_pending", "Submitted annotations not yet acknowledged by Kafka")
REASONS = ("encode", "too_large", "send")
DEAD_LETTERS = Counter("shadowqa_outbox_dead_letters", "Annotations the outbox sent to dead-letters instead of "
                       "manual-annotations, by reason", ["reason"])
for _label in REASONS:  # every series from the start, at 0
    DEAD_LETTERS.labels(reason=_label)
BATCH = 500
STAGE = "outbox"  # the dead letters' stage
REASON_CHARS = 500


@dataclass
class _Pending:
    """A pending row on its way out: its record once encoded, or why it goes to dead-letters."""

    answer: ManualAnnotationRow
    task: ManualTaskRow
    value: bytes = b""
    dead: str | None = None  # the reason, starting with its kind (REASONS)
    delivered: bool = False  # acknowledged: the record, or the dead letter if ``dead``

    @property
    def kind(self) -> str:
        return (self.dead or "").split(":")[0]


class Outbox:
    """Publishes the pending annotations of ``engine`` to ``topic``; dead letters go to ``dead_letters`` (default:
    the ``dead-letters`` topic of ``topic``'s prefix)."""

    def __init__(self, engine: Engine, sink: Sink, topic: str, dead_letters: str | None = None) -> None:
        self._sessions = session_factory(engine)
        self._postgres = engine.dialect.name == "postgresql"
        self._sink, self._topic = sink, topic
        self._dead_letters = dead_letters or dead_letter_topic(topic)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self) -> int:
        """Publish one batch of pending annotations; how many left the outbox (published or dead-lettered; 0: none
        waiting). Raises :class:`DeliveryFailed` when the broker did not acknowledge the batch (nothing is marked:
        all are retried), or after marking the rest when a dead letter was not acknowledged (its row is retried)."""
        with self._sessions() as session, session.begin():
            rows = [_Pending(answer, task) for answer, task in session.execute(self._batch()).all()]
            for row in rows:
                _encode(row)
            self._send(rows)
            failure = self._send_dead_letters([row for row in rows if row.dead is not None])
            now = time.time()
            for row in rows:
                if row.delivered and row.dead is None:
                    row.answer.published_at = now
                elif row.delivered:
                    row.answer.dead_lettered_at, row.answer.dead_letter_reason = now, row.dead
        done = [row for row in rows if row.delivered]
        for row in done:
            if row.dead is not None:
                DEAD_LETTERS.labels(reason=row.kind).inc()
                log.warning("outbox: the annotation of task %s went to %s (%s)", row.answer.task_id,
                            self._dead_letters, row.dead)
        if rows:
            self._measure()
        else:  # the batch query found no pending row: nothing is pending, no need to count
            PENDING.set(0)
        if failure is not None:
            raise failure
        return len(done)

    def _batch(self) -> Select[ManualAnnotationRow, ManualTaskRow]:
        query = (select(ManualAnnotationRow, ManualTaskRow)
                 .join(ManualTaskRow, ManualTaskRow.task_id == ManualAnnotationRow.task_id)
                 .where(*_pending()).order_by(ManualAnnotationRow.id).limit(BATCH))
        if self._postgres:  # several API replicas: each row published by one of them
            query = query.with_for_update(of=ManualAnnotationRow, skip_locked=True)
        return query

    def _send(self, rows: list[_Pending]) -> None:
        """Send the encoded rows and wait for the broker; a record refused for itself makes its row dead. Raises
        :class:`DeliveryFailed` if any other record was not acknowledged (the broker is away: retry them all)."""
        sent: list[tuple[_Pending, Delivery | None]] = []
        for row in rows:
            if row.dead is None:
                try:
                    sent.append((row, self._sink.send(self._topic, key_bytes(row.task.frame_id), row.value)))
                except RecordRefused as exc:  # the producer's own check, before sending
                    row.dead = _reason(exc, row)
        flushed = _flush(self._sink)
        for row, delivery in sent:
            failure = flushed if delivery is None else delivery.failure()  # no delivery: the flush speaks for all
            if isinstance(failure, RecordRefused) and delivery is not None:
                row.dead = _reason(failure, row)
            elif failure is not None:
                raise failure
            else:
                row.delivered = True

    def _send_dead_letters(self, rows: list[_Pending]) -> DeliveryFailed | None:
        """Put each row's dead letter on the dead-letter topic; the first failure, if any (those rows stay pending)."""
        sent: list[tuple[_Pending, Delivery | None]] = []
        failure: DeliveryFailed | None = None
        for row in rows:
            letter = dead_letter(row.dead or "", STAGE, self._topic, None, None,
                                 row.task.frame_id.encode("utf-8", "backslashreplace"), None, time.time())
            try:
                sent.append((row, self._sink.send(self._dead_letters, key_bytes(letter.key or ""), encode(letter))))
            except DeliveryFailed as exc:  # the broker is away: the rest wait for the next round
                failure = exc
                break
        flushed = _flush(self._sink) if sent else None
        for row, delivery in sent:
            problem = flushed if delivery is None else delivery.failure()
            row.delivered = problem is None
            failure = failure or problem
        return failure

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
            PENDING.set(session.scalar(select(func.count()).select_from(ManualAnnotationRow).where(*_pending())) or 0)


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic of ``topic``'s prefix: ``t1-manual-annotations`` -> ``t1-dead-letters``."""
    base = TopicNames().manual_annotations
    if not topic.endswith(base):
        raise ValueError(f"cannot tell the dead-letter topic of {topic!r}: name it")
    return TopicNames(topic.removesuffix(base)).dead_letters


def _pending() -> tuple[ColumnElement[bool], ...]:
    return ManualAnnotationRow.published_at.is_(None), ManualAnnotationRow.dead_lettered_at.is_(None)


def _encode(row: _Pending) -> None:
    try:
        key_bytes(row.task.frame_id)
        row.value = encode(annotation_message(row.answer, row.task))
    except ValidationError as exc:  # a value the message does not allow
        row.dead = _reason(exc, row, "encode", why(exc))
    except Exception as exc:  # a value JSON cannot carry: this row is at fault, not the broker
        row.dead = _reason(exc, row, "encode")


def _flush(sink: Sink) -> DeliveryFailed | None:
    try:
        sink.flush()
    except DeliveryFailed as exc:
        return exc
    return None


def _reason(exc: BaseException, row: _Pending, kind: str | None = None, detail: str | None = None) -> str:
    """``KIND: task T: ERROR`` on one line, short, and storable anywhere (no lone surrogate, no NUL)."""
    kind = kind or ("too_large" if isinstance(exc, RecordTooLarge) else "send")
    text = f"{kind}: task {row.answer.task_id}: {detail or f'{type(exc).__name__}: {exc}'}"
    text = " ".join(text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00").split())
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1] + "…"
