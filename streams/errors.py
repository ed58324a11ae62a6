"""The stream boundary's error policy, in one place.

A message that fails validation, or whose processing raises, goes to
``dead-letters`` with the reason, the stage (agent) that rejected it, and its
source topic, partition and offset; the agent goes on with the next message;
the rejection is counted. Nothing is dropped silently.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from services.messages import dead_letter, encode


class DeadLetters:
    """Sends rejected records to the dead-letter topic and counts them per (stage, reason)."""

    def __init__(self, topic: Any) -> None:
        self.topic = topic
        self.counts: Counter[tuple[str, str]] = Counter()

    async def reject(self, event: Any, reason: str, stage: str) -> None:
        message = event.message
        letter = dead_letter(reason, stage, message.topic, message.partition, message.offset,
                             message.key, message.value, time.time())
        self.counts[(stage, reason.split(":")[0])] += 1
        await self.topic.send(key=message.key, value=encode(letter))

    @property
    def total(self) -> int:
        return sum(self.counts.values())
