"""The stream boundary's error policy, in one place.

A message that fails validation, or whose processing raises, goes to
``dead-letters`` with the reason, the stage (agent) that rejected it, and its
source topic, partition and offset; the agent goes on with the next message;
the rejection is counted. Nothing is dropped silently.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from prometheus_client import Counter as PromCounter

from services.loop.messages import dead_letter, encode

log = logging.getLogger(__name__)
T = TypeVar("T")

DEAD_LETTERS = PromCounter("shadowqa_dead_letters", "Records sent to dead-letters", ["stage", "reason"])


class DeadLetters:
    """Sends rejected records to the dead-letter topic and counts them per (stage, reason)."""

    def __init__(self, topic: Any) -> None:
        self.topic = topic
        self.counts: Counter[tuple[str, str]] = Counter()

    async def reject(self, event: Any, reason: str, stage: str) -> None:
        message = event.message
        letter = dead_letter(reason, stage, message.topic, message.partition, message.offset,
                             message.key, message.value, time.time())
        kind = _reason_kind(reason)
        self.counts[(stage, kind)] += 1
        DEAD_LETTERS.labels(stage=stage, reason=kind).inc()
        await self.topic.send(key=message.key, value=encode(letter))

    async def guard(self, events: list[Any], stage: str, step: Callable[[], Awaitable[T]]) -> T | None:
        """Run ``step``; if it raises, dead-letter ``events`` (the records it was processing) and go on."""
        try:
            return await step()
        except Exception as exc:  # processing failed: the error policy says dead-letter, never stop
            log.exception("%s: processing failed on %d record(s); sent to dead-letters", stage, len(events))
            for event in events:
                await self.reject(event, f"processing failed: {type(exc).__name__}: {exc}", stage)
            return None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _reason_kind(reason: str) -> str:
    """A low-cardinality label for the metric: the reason up to its first colon (a field path or error class)."""
    head = reason.split(":")[0].strip()
    return head if len(head) <= 60 else head[:60]
