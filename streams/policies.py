"""The policy in force, read by every router worker from the compacted ``policies`` topic.

Each router process reads the whole topic itself (no consumer group: every
worker must see every policy), from the beginning, and follows it. Routing
waits until the reader has caught up with the topic's end at start-up, so a
restarted worker never routes under an older policy than the one published.
(faust's GlobalTable does the same in principle; with faust-streaming 0.15.3
on Kafka 4.4 its partition assignment never completed, see docs/streaming.md.)
"""

from __future__ import annotations

import asyncio
import logging
import math

from aiokafka import AIOKafkaConsumer, TopicPartition

from analysis.policy.automation import AutomationPolicy
from services.loop.messages import InvalidMessage, PolicyMessage, decode

log = logging.getLogger(__name__)


def policy_of(message: PolicyMessage) -> AutomationPolicy:
    def tau(value: float | None) -> float:
        return math.inf if value is None else float(value)

    return AutomationPolicy(
        default=tau(message.default), thresholds={k: tau(v) for k, v in message.thresholds.items()},
        version=message.version,
    )


def evidence_of(message: PolicyMessage) -> dict[str, tuple[int, float]]:
    """The record's per-stratum evidence: (audited machine comparisons, their 1/π-weighted acceptance; NaN at 0)."""
    return {s: (e.n, math.nan if e.acceptance is None else e.acceptance) for s, e in message.evidence.items()}


class PolicyFollower:
    """The latest valid record of the topic (version 0, nothing ships, until one is published), with the
    per-stratum evidence it carried (for sampling policies that learn). ``current`` is a new object for every
    record, so a router rebuilds when it is not the one it was built with."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.current = AutomationPolicy()
        self.evidence: dict[str, tuple[int, float]] = {}
        self.caught_up = asyncio.Event()
        self.rejected = 0

    def absorb(self, raw: bytes | None) -> None:
        if raw is None:
            return
        try:
            message = decode(PolicyMessage, raw)
        except InvalidMessage as exc:  # the router never acts on a policy it cannot read
            self.rejected += 1
            log.error("policies: ignoring an invalid policy record: %s (%r)", exc.reason, raw[:200])
            return
        self.current = policy_of(message)  # the latest record is the policy in force (a compacted topic)
        self.evidence = evidence_of(message)

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None,
                                    fetch_max_wait_ms=50, isolation_level="read_committed")
        await consumer.start()
        try:
            tp = TopicPartition(self.topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            if end == 0:
                self.caught_up.set()
            while True:
                batches = await consumer.getmany(tp, timeout_ms=500)
                for record in batches.get(tp, []):
                    self.absorb(record.value)
                    if record.offset + 1 >= end:
                        self.caught_up.set()
                if not self.caught_up.is_set() and await consumer.position(tp) >= end:
                    self.caught_up.set()
        finally:
            await consumer.stop()
