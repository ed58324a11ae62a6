"""Which offsets a consumer may commit when records are processed out of order by several workers.

A partition's committed offset is the first record not yet done: records
fetched but not finished (or never started) hold it back, so a restart
re-delivers them and nothing is lost; records finished out of order are
committed once everything before them is done.
"""

from __future__ import annotations

from collections.abc import Iterable

Partition = tuple[str, int]  # (topic, partition)


class OffsetTracker:
    """Outstanding offsets per partition and the offsets last committed."""

    def __init__(self) -> None:
        self._outstanding: dict[Partition, set[int]] = {}
        self._next: dict[Partition, int] = {}  # one past the highest offset fetched
        self._committed: dict[Partition, int] = {}

    def fetched(self, partition: Partition, offset: int) -> None:
        """A record was handed to this consumer; it is outstanding until :meth:`done`."""
        self._outstanding.setdefault(partition, set()).add(offset)
        self._next[partition] = max(self._next.get(partition, 0), offset + 1)

    def done(self, partition: Partition, offset: int) -> None:
        """A record was processed and its output acknowledged (or will be before the next commit)."""
        self._outstanding.get(partition, set()).discard(offset)

    def outstanding(self, partitions: Iterable[Partition] | None = None) -> int:
        """How many fetched records are not done (of ``partitions``, or all)."""
        chosen = self._outstanding if partitions is None else {p: self._outstanding.get(p, set()) for p in partitions}
        return sum(len(offsets) for offsets in chosen.values())

    def committable(self) -> dict[Partition, int]:
        """The offsets to commit now: per partition, the first outstanding one, only where it moved."""
        moves: dict[Partition, int] = {}
        for partition, end in self._next.items():
            waiting = self._outstanding.get(partition)
            offset = min(waiting) if waiting else end
            if offset > self._committed.get(partition, -1):
                moves[partition] = offset
        return moves

    def committed(self, offsets: dict[Partition, int]) -> None:
        self._committed.update(offsets)

    def forget(self, partitions: Iterable[Partition]) -> None:
        """Drop revoked partitions: their outstanding records are the next owner's."""
        for partition in partitions:
            self._outstanding.pop(partition, None)
            self._next.pop(partition, None)
            self._committed.pop(partition, None)
