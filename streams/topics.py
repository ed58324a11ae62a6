"""The pipeline's topics as faust topic objects (raw bytes: messages are decoded at the edge)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.infra.topic_names import TopicNames


@dataclass(frozen=True)
class Out:
    """A topic the agents write to, through the app's producer directly: faust's ``Topic.send`` machinery
    (futures per message, callbacks) cost more CPU than the rest of the router's work per frame."""

    app: Any
    name: str

    async def send(self, *, key: bytes | None, value: bytes | None, partition: int | None = None) -> None:
        await self.app.producer.send(self.name, key, value, partition, None, None)


@dataclass(frozen=True)
class Sinks:
    automation_results: Out
    manual_queue: Out
    deliveries: Out
    comparisons: Out
    agreement_stats: Out
    recommendations: Out
    policies: Out
    dead_letters: Out


@dataclass(frozen=True)
class Topics:
    """The topics agents read (faust topics: raw bytes, decoded at the edge) and the ones they write."""

    frames: Any
    automation_results: Any
    comparator_input: Any  # the four co-partitioned topics the comparator joins
    out: Sinks

    @classmethod
    def of(cls, app: Any, names: TopicNames) -> Topics:
        def topic(*n: str) -> Any:
            return app.topic(*n, key_serializer="raw", value_serializer="raw")

        return cls(
            frames=topic(names.frames), automation_results=topic(names.automation_results),
            comparator_input=topic(names.automation_results, names.manual_queue, names.deliveries,
                                   names.manual_annotations),
            out=Sinks(*(Out(app, names.name(base)) for base in (
                "automation-results", "manual-queue", "deliveries", "comparisons", "agreement-stats",
                "recommendations", "policies", "dead-letters"))),
        )
