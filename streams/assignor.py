"""Partition assignment that keeps co-partitioned topics together: partition P of every topic to one worker.

faust-streaming 0.15.3 uses its own co-partitioning assignor only for apps with
changelog tables or standby replicas; ours have neither (streams/state.py), so
it falls back to aiokafka's round robin over all (topic, partition) pairs. That
deals partition P of ``automation-results`` and partition P of
``manual-annotations`` to different workers as soon as a role runs a number of
workers that does not divide the partitions (three comparators on four
partitions): the comparator's join by frame, and its state partitioned like its
input, then live in two processes at once and annotations are never compared.
:func:`install` puts :class:`CopartitionedAssignor` in the fallback's place:
members sorted by id, partition P of each topic to the (P mod N)-th member
subscribed to it, so a worker owns the same partitions of every topic it reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from aiokafka.cluster import ClusterMetadata
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata


class CopartitionedAssignor(AbstractPartitionAssignor):  # type: ignore[misc]  # aiokafka's base is untyped
    """Partition P of every subscribed topic to the same member (see the module docstring)."""

    name = "shadowqa-copartitioned"
    version = 0

    @classmethod
    def assign(cls, cluster: ClusterMetadata, members: Mapping[str, ConsumerProtocolMemberMetadata],
               ) -> dict[str, ConsumerProtocolMemberAssignment]:
        topics = sorted({t for metadata in members.values() for t in metadata.subscription})
        plan = copartitioned({m: members[m].subscription for m in members},
                             {t: sorted(cluster.partitions_for_topic(t) or ()) for t in topics})
        return {member: ConsumerProtocolMemberAssignment(cls.version, sorted(plan[member].items()), b"")
                for member in members}

    @classmethod
    def metadata(cls, topics: Iterable[str]) -> ConsumerProtocolMemberMetadata:
        return ConsumerProtocolMemberMetadata(cls.version, list(topics), b"")

    @classmethod
    def on_assignment(cls, assignment: ConsumerProtocolMemberAssignment) -> None:
        pass


def copartitioned(subscriptions: Mapping[str, Iterable[str]], partitions: Mapping[str, list[int]],
                  ) -> dict[str, dict[str, list[int]]]:
    """Member -> topic -> partitions: partition P of topic T to the (P mod N)-th of T's N subscribers (by id)."""
    plan: dict[str, dict[str, list[int]]] = {member: defaultdict(list) for member in subscriptions}
    for topic, numbers in partitions.items():
        readers = sorted(m for m, subscribed in subscriptions.items() if topic in set(subscribed))
        for p in numbers:
            if readers:
                plan[readers[p % len(readers)]][topic].append(p)
    return {member: dict(topics) for member, topics in plan.items()}


def install() -> None:
    """Make faust's consumers of apps without changelog tables use :class:`CopartitionedAssignor`."""
    from faust.transport.drivers import aiokafka as driver

    setattr(driver, "RoundRobinPartitionAssignor", CopartitionedAssignor)  # noqa: B010 (read from the module)
