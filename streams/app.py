"""Building the faust app of one role of the pipeline.

Each role (automation, router, comparator, aggregator) is its own app, and so
its own consumer group: roles scale independently — more automation workers
on GPUs, more comparators — by starting more processes of that role; the
partitions of the role's topics are shared among them.
"""

from __future__ import annotations

from typing import Any

import faust

from services.infra.topic_names import TopicNames
from services.settings import Settings
from streams.agents import aggregator, automation, comparator, router
from streams.config import ROLES, PipelineConfig
from streams.errors import DeadLetters
from streams.topics import Topics


def app_id(names: TopicNames, role: str) -> str:
    return f"{names.prefix}shadowqa-{role}"


def build_app(settings: Settings, cfg: PipelineConfig, role: str, names: TopicNames) -> Any:
    """The faust app running ``role``; exactly-once processing, in-memory stores backed by changelogs."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    app = faust.App(
        app_id(names, role), broker=f"kafka://{settings.kafka_bootstrap}", store="memory://",
        processing_guarantee="exactly_once", topic_partitions=settings.partitions, topic_replication_factor=1,
        web_enabled=False, consumer_auto_offset_reset="earliest", broker_commit_interval=0.5,
        table_standby_replicas=0, producer_linger_ms=5,
    )
    topics = Topics.of(app, names)
    dead = DeadLetters(topics.dead_letters)
    if role == "automation":
        automation.register(app, topics, dead, cfg)
    elif role == "router":
        policies = app.GlobalTable("policies", default=None, partitions=1, changelog_topic=topics.policies,
                                   key_serializer="raw", value_serializer="raw")
        router.register(app, topics, dead, cfg, policies)
    elif role == "comparator":
        comparator.register(app, names, topics, dead, cfg, settings.partitions)
    else:
        aggregator.register(app, topics, dead, cfg, settings.partitions, f"{names.prefix}shadowqa-aggregate")
    return app
