"""Topic snapshots: every message of a topic up to its end offsets at the time of the call, as JSON Lines.

The consumer is assigned every partition by hand (no group, nothing committed)
and reads committed messages only. Lines are ordered by the messages' ``time``
field (the record timestamp when a value has none), then key, partition and
offset, so the file does not depend on how many partitions the topic has or on
which producer got there first: two snapshots of the same messages are the
same bytes. Offline replays and the gate read such files.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from kafka import KafkaConsumer  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import TopicPartition  # type: ignore[import-untyped, unused-ignore]

from services.tools.exceptions import SnapshotIncomplete, UnknownTopic
from services.tools.kafka import CLIENT_ID, Record, require_topics

Order = Literal["time", "offset"]
POLL_MS = 200
PROGRESS_EVERY_S = 1.0
NOT_JSON = object()


@dataclass(frozen=True)
class Entry:
    """A record with its value parsed (``NOT_JSON`` if it is not JSON, None for a tombstone)."""

    record: Record
    value: Any

    @property
    def time(self) -> float:
        t = self.value.get("time") if isinstance(self.value, dict) else None
        if isinstance(t, int | float) and not isinstance(t, bool):
            return float(t)
        return self.record.timestamp_ms / 1000

    @property
    def key_text(self) -> str:
        return "" if self.record.key is None else self.record.key.decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class TopicContents:
    """What a topic held: its partition numbers and its records in (partition, offset) order."""

    partitions: tuple[int, ...]
    records: list[Record]


@dataclass(frozen=True)
class SnapshotSummary:
    topic: str
    out: str
    per_partition: dict[int, int]
    written: int
    elapsed_s: float

    def line(self) -> str:
        parts = ", ".join(f"{p}: {n:,}" for p, n in sorted(self.per_partition.items()))
        return (f"exported {self.written:,} messages of {self.topic} to {self.out} in {self.elapsed_s:.1f} s "
                f"(per partition {parts or 'none'})")


def read_topic(
    bootstrap: str, topic: str, *, timeout_s: float = 30.0, progress: Callable[[int, int], None] | None = None,
) -> TopicContents:
    """Every committed record of ``topic`` below the end offsets it had when called, in (partition, offset) order.

    ``progress(read, total)`` is called about once a second. Raises
    :class:`SnapshotIncomplete` if the end is not reached within ``timeout_s``.
    """
    require_topics(bootstrap, [topic])
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             client_id=f"{CLIENT_ID}-snapshot", isolation_level="read_committed")
    try:
        return _read(consumer, topic, timeout_s, progress)
    finally:
        consumer.close()


def _read(
    consumer: Any, topic: str, timeout_s: float, progress: Callable[[int, int], None] | None,
) -> TopicContents:
    numbers = sorted(consumer.partitions_for_topic(topic) or ())
    if not numbers:
        raise UnknownTopic(f"topic {topic!r} has no partitions")
    tps = [TopicPartition(topic, p) for p in numbers]
    consumer.assign(tps)
    ends: dict[Any, int] = consumer.end_offsets(tps)
    consumer.seek_to_beginning(*tps)
    starts = {tp: consumer.position(tp) for tp in tps}
    total = sum(ends[tp] - starts[tp] for tp in tps)
    records: list[Record] = []
    deadline, last = time.monotonic() + timeout_s, time.monotonic()
    remaining = [tp for tp in tps if starts[tp] < ends[tp]]
    while remaining:
        if time.monotonic() > deadline:
            tp = remaining[0]
            raise SnapshotIncomplete(f"{topic}: partition {tp.partition} stopped at offset {consumer.position(tp)} of "
                                     f"{ends[tp]} after {timeout_s:g} s (raise --timeout?)")
        for tp, batch in consumer.poll(timeout_ms=POLL_MS).items():
            records.extend(Record.of(r) for r in batch if r.offset < ends[tp])
        finished = [tp for tp in remaining if consumer.position(tp) >= ends[tp]]
        consumer.pause(*finished)
        remaining = [tp for tp in remaining if tp not in finished]
        if progress is not None and time.monotonic() - last >= PROGRESS_EVERY_S:
            last = time.monotonic()
            progress(len(records), total)
    return TopicContents(tuple(numbers), sorted(records, key=lambda r: (r.partition, r.offset)))


def entries(records: Sequence[Record], order: Order = "time") -> list[Entry]:
    """The records with parsed values, in file order (see the module documentation)."""
    parsed = [Entry(r, _parse(r.value)) for r in records]
    if order == "offset":
        return sorted(parsed, key=lambda e: (e.record.partition, e.record.offset))
    return sorted(parsed, key=lambda e: (e.time, e.key_text, e.record.partition, e.record.offset))


def lines(items: Sequence[Entry], *, with_metadata: bool = False, kind: str | None = None) -> Iterator[bytes]:
    """One JSON line per entry: the value, or ``{topic, partition, offset, key, value}`` with metadata.

    Tombstones are skipped unless ``with_metadata``; a value that is not JSON is
    written as a string (base64 with ``"encoding": "base64"`` if not UTF-8).
    ``kind`` keeps only values whose ``kind`` field equals it (e.g. ``machine`` comparisons).
    """
    for e in items:
        if kind is not None and not (isinstance(e.value, dict) and e.value.get("kind") == kind):
            continue
        if e.value is None and not with_metadata:
            continue
        value, encoding = _json_value(e)
        if not with_metadata:
            yield orjson.dumps(value) + b"\n"
            continue
        r = e.record
        doc = {"topic": r.topic, "partition": r.partition, "offset": r.offset, "key": e.key_text if r.key is not None
               else None, "value": value}
        yield orjson.dumps(doc | ({"encoding": encoding} if encoding != "json" else {})) + b"\n"


def write_lines(out: str | Path, content: Iterator[bytes]) -> int:
    """Write the lines to ``out`` (through a temporary file, so a failed export leaves no half file)."""
    path = Path(out)
    partial = path.with_name(path.name + ".partial")
    count = 0
    with partial.open("wb") as f:
        for line in content:
            f.write(line)
            count += 1
    partial.replace(path)
    return count


def export_snapshot(
    bootstrap: str, topic: str, out: str | Path, *, with_metadata: bool = False, order: Order = "time",
    kind: str | None = None, timeout_s: float = 30.0, progress: Callable[[int, int], None] | None = None,
) -> SnapshotSummary:
    """Snapshot ``topic`` into the JSON Lines file ``out``; returns counts per partition."""
    start = time.monotonic()
    contents = read_topic(bootstrap, topic, timeout_s=timeout_s, progress=progress)
    written = write_lines(out, lines(entries(contents.records, order), with_metadata=with_metadata, kind=kind))
    per_partition = dict.fromkeys(contents.partitions, 0)
    for r in contents.records:
        per_partition[r.partition] += 1
    return SnapshotSummary(topic, str(out), per_partition, written, time.monotonic() - start)


def _parse(value: bytes | None) -> Any:
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return NOT_JSON


def _json_value(e: Entry) -> tuple[Any, str]:
    """The value to write and how it is encoded: ``json``, ``utf-8`` (a string) or ``base64``."""
    if e.value is not NOT_JSON:
        return e.value, "json"
    raw = e.record.value or b""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"
