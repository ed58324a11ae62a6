"""The pipeline's topics on a broker: created with the layout of docs/streaming.md, checked, deleted.

Per-frame topics share one partition count (co-partitioned by frame id), and so do the topics of a chain's
steps' outputs (``automation-steps.<step>``, keyed by clip id), except ``comparisons``: it has one partition,
so the order the aggregator counts in is the topic's and its snapshot's. The others have a single partition;
``agreement-stats`` and ``policies`` are compacted, the rest expire after the retention.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kafka.admin import ConfigResource, OffsetSpec  # type: ignore[import-untyped, unused-ignore]
from kafka.errors import KafkaError, for_code  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import TopicPartition  # type: ignore[import-untyped, unused-ignore]

from services.infra.client import admin_client
from services.infra.exceptions import TopicAdminFailed, TopicLayoutMismatch
from services.infra.topic_names import COMPACTED, ORDERED, PER_FRAME, SINGLE, TopicNames

REPLICATION_FACTOR = 1  # the local broker is a single node
TIMEOUT_S = 30.0
_ALREADY_EXISTS = 36
_UNKNOWN_TOPIC = 3
_MS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class TopicSpec:
    """A topic as docs/streaming.md lays it out (``retention_ms`` None for compacted topics)."""

    name: str
    partitions: int
    cleanup_policy: str
    retention_ms: int | None = None
    max_message_bytes: int | None = None  # None: the broker's default (1 MB)

    def configs(self) -> dict[str, str]:
        """The topic configuration set at creation."""
        configs = {"cleanup.policy": self.cleanup_policy}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        if self.max_message_bytes is not None:
            configs["max.message.bytes"] = str(self.max_message_bytes)
        return configs


@dataclass(frozen=True)
class TopicState:
    """A topic as the broker has it."""

    name: str
    partitions: int
    cleanup_policy: str
    retention_ms: int | None


@dataclass(frozen=True)
class TopicReport:
    """The layout asked for, which topics were created now and which existed already."""

    layout: tuple[TopicSpec, ...]
    created: tuple[str, ...]
    existing: tuple[str, ...]


def topic_layout(names: TopicNames, partitions: int, retention_hours: float,
                 steps: Sequence[str] = ()) -> tuple[TopicSpec, ...]:
    """Every topic of the pipeline, per-frame ones with ``partitions`` partitions, in docs/streaming.md's order,
    then the topics of the chain ``steps`` (a run of clips through a chain: their names in chain order)."""
    retention_ms = round(retention_hours * _MS_PER_HOUR)
    return tuple(
        TopicSpec(
            name=names.name(base),
            partitions=partitions if base in PER_FRAME and base not in ORDERED else 1,
            cleanup_policy="compact" if base in COMPACTED else "delete",
            retention_ms=None if base in COMPACTED else retention_ms,
        )
        for base in PER_FRAME + SINGLE
    ) + step_layout(names, partitions, retention_hours, steps)


def step_layout(names: TopicNames, partitions: int, retention_hours: float,
                steps: Sequence[str]) -> tuple[TopicSpec, ...]:
    """The topics of a chain's ``steps``' outputs: partitioned like the per-frame topics, deleted after retention."""
    retention_ms = round(retention_hours * _MS_PER_HOUR)
    return tuple(TopicSpec(names.step(s), partitions, "delete", retention_ms) for s in steps)


def layout_problem(spec: TopicSpec, state: TopicState) -> str | None:
    """Why an existing topic does not fit ``spec`` (partitions or cleanup policy), or None when it does."""
    if state.partitions != spec.partitions:
        return f"topic {spec.name!r} has {state.partitions} partitions, the layout wants {spec.partitions}"
    if state.cleanup_policy != spec.cleanup_policy:
        return f"topic {spec.name!r} has cleanup.policy={state.cleanup_policy}, the layout wants {spec.cleanup_policy}"
    return None


def create_topics(bootstrap: str, layout: Sequence[TopicSpec], timeout_s: float = TIMEOUT_S) -> TopicReport:
    """Create the topics of ``layout`` that are missing; existing ones must already fit it.

    Idempotent: a second call creates nothing. Returns once every new partition has a leader.
    """
    with _admin(bootstrap, timeout_s, "creating topics") as admin:
        before = _describe(admin, [spec.name for spec in layout])
        _check(layout, before)
        missing = [spec for spec in layout if spec.name not in before]
        created: tuple[str, ...] = ()
        if missing:
            created = _create(admin, missing, timeout_s)
            _check(missing, _describe(admin, [spec.name for spec in missing]))
    existing = tuple(spec.name for spec in layout if spec.name not in created)
    return TopicReport(tuple(layout), created=created, existing=existing)


def describe_topics(bootstrap: str, names: Iterable[str], timeout_s: float = TIMEOUT_S) -> dict[str, TopicState]:
    """Partitions, cleanup policy and retention of those ``names`` that exist."""
    with _admin(bootstrap, timeout_s, "describing topics") as admin:
        return _describe(admin, list(names))


def delete_topics(bootstrap: str, names: Iterable[str], timeout_s: float = TIMEOUT_S) -> None:
    """Delete ``names``; topics that do not exist are ignored (tests clean up with it)."""
    wanted = list(names)
    if not wanted:
        return
    with _admin(bootstrap, timeout_s, "deleting topics") as admin:
        result = admin.delete_topics(wanted, timeout_ms=int(timeout_s * 1000), raise_errors=False)
    for topic in result["topics"]:
        if topic["error_code"] not in (0, _UNKNOWN_TOPIC):
            raise TopicAdminFailed(f"deleting topic {topic['name']!r} failed: {_error(topic)}")


@contextmanager
def _admin(bootstrap: str, timeout_s: float, doing: str) -> Iterator[Any]:
    """An admin client whose library errors become :class:`TopicAdminFailed` saying what was being done."""
    with admin_client(bootstrap, timeout_s) as admin:
        try:
            yield admin
        except KafkaError as exc:
            raise TopicAdminFailed(f"{doing} on {bootstrap} failed: {type(exc).__name__}: {exc}") from exc


def _describe(admin: Any, names: list[str]) -> dict[str, TopicState]:
    """The states of those ``names`` the broker has."""
    found = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names) if t["error_code"] == 0}
    if not found:
        return {}
    resources = [ConfigResource("TOPIC", name, ["cleanup.policy", "retention.ms"]) for name in found]
    configs = admin.describe_configs(resources, config_filter="all").get("topic", {})
    return {name: _state(name, count, configs.get(name, {})) for name, count in found.items()}


def _state(name: str, partitions: int, configs: dict[str, dict[str, Any]]) -> TopicState:
    retention = configs.get("retention.ms", {}).get("value")
    return TopicState(name=name, partitions=partitions,
                      cleanup_policy=str(configs.get("cleanup.policy", {}).get("value", "delete")),
                      retention_ms=int(retention) if retention is not None else None)


def _check(layout: Iterable[TopicSpec], states: dict[str, TopicState]) -> None:
    for spec in layout:
        state = states.get(spec.name)
        problem = None if state is None else layout_problem(spec, state)
        if problem is not None:
            raise TopicLayoutMismatch(f"{problem}; delete it (or create with that layout) and run again")


def _create(admin: Any, specs: list[TopicSpec], timeout_s: float) -> tuple[str, ...]:
    """Create ``specs``, wait for their leaders, return the names created (one made meanwhile elsewhere is fine)."""
    request = {spec.name: {"num_partitions": spec.partitions, "replication_factor": REPLICATION_FACTOR,
                           "configs": spec.configs()} for spec in specs}
    timeout_ms = int(timeout_s * 1000)
    result = admin.create_topics(request, timeout_ms=timeout_ms, raise_errors=False)
    for topic in result["topics"]:
        if topic["error_code"] not in (0, _ALREADY_EXISTS):
            raise TopicAdminFailed(f"creating topic {topic['name']!r} failed: {_error(topic)}")
    admin.wait_for_topics([spec.name for spec in specs], timeout_ms=timeout_ms)
    _wait_servable(admin, specs, timeout_ms)
    return tuple(str(topic["name"]) for topic in result["topics"] if topic["error_code"] == 0)


def _wait_servable(admin: Any, specs: list[TopicSpec], timeout_ms: int) -> None:
    """Return once every partition's leader serves it (a ListOffsets answer, retried while "not leader").

    Metadata names a leader slightly before that broker hosts the partition; a producer writing in
    that window gets NotLeaderForPartition and retries, which without idempotence can duplicate.
    """
    partitions = {TopicPartition(spec.name, p): OffsetSpec.LATEST for spec in specs for p in range(spec.partitions)}
    admin.list_partition_offsets(partitions, timeout_ms=timeout_ms)


def _error(topic: dict[str, Any]) -> str:
    return str(topic.get("error_message") or for_code(topic["error_code"]).__name__)
