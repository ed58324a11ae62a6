"""Building the faust app of one role of the pipeline.

Each role (automation, router, comparator, aggregator, and persist, which
copies the topics into the database) is its own app, and so its own consumer
group: roles scale independently — more automation workers on GPUs, more
comparators — by starting more processes of that role; the partitions of the
role's topics are shared among them.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import aiokafka
import faust

from services.infra.topic_names import TopicNames
from services.infra.topics import TopicSpec, create_topics, step_layout
from services.loop.config import WORKER_ROLES as ROLES
from services.settings import Settings
from streams import assignor
from streams.config import PipelineConfig
from streams.errors import DeadLetters
from streams.lag import ReadPositions
from streams.policies import PolicyFollower
from streams.sensors import QuietMonitor
from streams.state import KeyedState
from streams.topics import Out, Topics

FETCH_MAX_WAIT_MS = 50
# aiokafka's default 16 kB batch holds 2-4 automation results or comparator state entries: a produce request (and a
# socket write) every few records, 7-14 % of each worker's CPU in the pipeline benchmark's profiles; the broker
# takes batches up to its max.message.bytes (1 MB by default)
PRODUCER_BATCH_BYTES = 256 * 1024


class _PromptConsumer(aiokafka.AIOKafkaConsumer):  # type: ignore[misc]
    """aiokafka's consumer, with fetches held at most FETCH_MAX_WAIT_MS on the broker.

    faust-streaming 0.15.3 creates its consumer with ``fetch_max_wait_ms=1500`` (not a setting). aiokafka
    keeps one fetch in flight per broker and leaves partitions with buffered records out of it, so while
    a fetch for the quiet partitions waits its 1.5 s, records for the busy ones wait too: measured, it put
    ~1.5 s between an annotation and its comparison at 500 frames/s.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["fetch_max_wait_ms"] = min(kwargs.get("fetch_max_wait_ms", FETCH_MAX_WAIT_MS), FETCH_MAX_WAIT_MS)
        super().__init__(*args, **kwargs)


def _prompt_fetches() -> None:
    """Make faust's aiokafka driver build :class:`_PromptConsumer` (it calls ``aiokafka.AIOKafkaConsumer``;
    worker processes only, and only consumers created afterwards)."""
    setattr(aiokafka, "AIOKafkaConsumer", _PromptConsumer)  # noqa: B010 (the driver reads it from the module)


def app_id(names: TopicNames, role: str) -> str:
    return f"{names.prefix}shadowqa-{role}"


def _datadir(names: TopicNames, role: str) -> str:
    """faust's data folder (unused with memory stores, but created): under the temp dir, not the working dir.

    faust creates the folder but not its parent, so the parent is made here (a cleaned temp dir lacks it)."""
    parent = Path(tempfile.gettempdir()) / "shadowqa-faust"
    parent.mkdir(parents=True, exist_ok=True)
    return str(parent / app_id(names, role))


def consumed_topics(role: str, names: TopicNames) -> tuple[str, ...]:
    """The topics ``role``'s workers consume (their consumer lag is measured on these)."""
    if role == "persist":
        from streams.agents import persist

        return persist.topics(names)
    return {
        "automation": (names.frames,), "router": (names.automation_results,), "aggregator": (names.comparisons,),
        "comparator": (names.automation_results, names.manual_queue, names.deliveries, names.manual_annotations),
    }[role]


def build_app(settings: Settings, cfg: PipelineConfig, role: str, names: TopicNames,
              positions: ReadPositions | None = None) -> Any:
    """The faust app running ``role``: at-least-once delivery made exact by idempotent state.

    faust-streaming 0.15.3's ``exactly_once`` was tried against this broker and
    is not used (docs/streaming.md, "Exactly-once"): instead every agent flushes
    what it produced before its offsets can be committed (nothing is lost), and
    every stateful step ignores a record it has already seen (nothing counts twice).
    The aggregator records its read positions in ``positions`` (it has no group).
    Each role imports only its own agents: torch loads in automation workers alone (measured: a router's
    imports take 2-3 s instead of 7 and 92 MB instead of 583; tests/streams/test_role_imports.py).
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    _prompt_fetches()
    assignor.install()  # partition P of every topic to one worker (streams/assignor.py)
    app = faust.App(
        app_id(names, role), broker=f"kafka://{settings.kafka_bootstrap}", store="memory://",
        processing_guarantee="at_least_once", topic_partitions=settings.partitions, topic_replication_factor=1,
        web_enabled=False, datadir=_datadir(names, role), consumer_auto_offset_reset="earliest",
        broker_commit_interval=0.5,
        producer_linger_ms=5, producer_max_batch_size=PRODUCER_BATCH_BYTES, table_standby_replicas=0,
        # a worker that dies (SIGKILL, OOM) holds its partitions until its session times out: keep that short
        broker_session_timeout=10.0, broker_heartbeat_interval=2.0, monitor=QuietMonitor(),
    )
    topics = Topics.of(app, names)
    dead = DeadLetters(topics.out.dead_letters)
    if role == "automation" and cfg.pipeline is not None:  # a chain on whole clips, its frames buffered per clip
        from streams.agents import clips

        steps = clips.steps_of(cfg.pipeline)
        create_topics(settings.kafka_bootstrap, [
            TopicSpec(clips.state_topic(names), settings.partitions, "compact"),
            *step_layout(names, settings.partitions, settings.retention_hours, steps)])
        buffers = KeyedState(settings.kafka_bootstrap, clips.state_topic(names), Out(app, clips.state_topic(names)))
        clips.register(app, names, topics, dead, cfg, buffers)
    elif role == "automation":
        from streams.agents import automation

        automation.register(app, topics, dead, cfg)
    elif role == "router":
        from streams.agents import router

        router.register(app, topics, dead, cfg, PolicyFollower(settings.kafka_bootstrap, names.policies))
    elif role == "comparator":
        from streams.agents import comparator

        state_topic = f"{names.prefix}shadowqa-comparator-state"
        create_topics(settings.kafka_bootstrap, [TopicSpec(state_topic, settings.partitions, "compact")])
        state = KeyedState(settings.kafka_bootstrap, state_topic,
                           Out(app, state_topic))
        comparator.register(app, names, topics, dead, cfg, state)
    elif role == "persist":
        from services.db.engine import make_engine, upgrade
        from services.db.sink import writer
        from streams.agents import persist

        engine = make_engine(settings.database_url)
        persist.register(app, names, dead, writer(engine, hash_salt=cfg.loop.salt), partial(upgrade, engine))
    else:
        from streams.agents import aggregator

        aggregator.register(app, topics, cfg, settings.kafka_bootstrap, names, positions)
    return app
