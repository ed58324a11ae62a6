"""The comparator's join: idempotent transitions, one comparison per (frame, kind) whatever the order or duplicates."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import orjson
import pytest

from services.loop import join
from services.loop.context import CompareContext
from services.loop.join import JOINED, Decoded, Pending, absorb, compare_ready
from services.loop.messages import ComparisonMessage, InvalidMessage, ManualAnnotation, ManualTask, encode
from tests.services.loop.messages.samples import T, sample
from tests.services.loop.records import FrameCase, Record

CTX = CompareContext.for_dataset("driving")

CONSENSUS = FrameCase("drv-000001", 1, machine_agrees=True, people_agree=False)
MIXED = [
    CONSENSUS,
    FrameCase("drv-000002", 2, copies=1, machine_agrees=False, inclusion_prob=0.25),
    FrameCase("drv-000003", 3, failed=True, inclusion_prob=1.0),
    FrameCase("drv-000004", 4, failed=True, copies=1, inclusion_prob=1.0),
    FrameCase("drv-000005", 5, shipped=True, inclusion_prob=0.0),
    FrameCase("drv-000006", 6, stratum="weather=rain", consensus_prob=0.1),
]


Online = tuple[list[ComparisonMessage], dict[str, Pending]]


def run_online(records: list[Record], batches: list[int] | None = None) -> Online:
    """What the comparator agent does: absorb a batch (keeping its decoded sides), compare, store (settled once
    complete) as JSON."""
    table: dict[str, bytes] = {}
    out: list[ComparisonMessage] = []
    sizes = iter(batches or [1] * len(records))
    start = 0
    while start < len(records):
        size = next(sizes)
        touched: dict[str, Pending] = {}
        decoded: Decoded = {}
        for topic, raw in records[start:start + size]:
            frame_id, update = absorb(topic, raw, decoded)
            stored = table.get(frame_id)
            current = touched.get(frame_id) or (Pending.from_dict(orjson.loads(stored)) if stored else Pending(0.0))
            touched[frame_id] = update(current)
        out += compare_ready(touched, CTX, decoded)
        for frame_id, p in touched.items():
            table[frame_id] = orjson.dumps((p.settled() if p.complete else p).to_dict())
        start += size
    return out, {f: Pending.from_dict(orjson.loads(doc)) for f, doc in table.items()}


def run_offline(records: list[Record]) -> list[ComparisonMessage]:
    """What the offline replay does: absorb everything, then compare once."""
    pending: dict[str, Pending] = {}
    for topic, raw in records:
        frame_id, update = absorb(topic, raw)
        pending[frame_id] = update(pending.get(frame_id) or Pending(0.0))
    return compare_ready(pending, CTX)


def as_set(comparisons: list[ComparisonMessage]) -> set[bytes]:
    return {encode(c) for c in comparisons}


def records_of(cases: list[FrameCase]) -> list[Record]:
    return [r for case in cases for r in case.records()]


# --- Pending: the join state of one frame ---


@pytest.mark.parametrize("side", ["machine", "first", "second"])
def test_a_second_record_for_the_same_side_is_ignored(side: str) -> None:
    p = Pending(0.0).with_side(side, "one")  # type: ignore[arg-type]
    again = p.with_side(side, "two")  # type: ignore[arg-type]
    assert getattr(again, side) == "one"
    assert again is p


def test_a_side_marked_as_seen_ignores_a_replayed_payload() -> None:
    settled = Pending(0.0, machine="", first="", copies=1, machine_done=True)
    assert settled.with_side("first", '{"late": true}').first == ""
    assert settled.with_side("second", "copy 2").second == "copy 2"


COMPLETE_CASES = [
    # (fields, complete)
    ({"shipped": True}, False),
    ({"shipped": True, "machine": "m"}, True),
    ({"shipped": True, "machine": "m", "copies": 2}, True),
    ({"copies": 0, "machine": "m", "first": "a", "machine_done": True}, False),
    ({"copies": 1, "machine": "m", "machine_done": True}, False),
    ({"copies": 1, "machine": "m", "first": "a"}, False),
    ({"copies": 1, "machine": "m", "first": "a", "machine_done": True}, True),
    ({"copies": 1, "machine": "m", "first": "a", "failed": True}, True),
    ({"copies": 2, "machine": "m", "first": "a", "machine_done": True}, False),
    ({"copies": 2, "machine": "m", "first": "a", "second": "b", "people_done": True}, False),
    ({"copies": 2, "machine": "m", "first": "a", "second": "b", "machine_done": True, "people_done": True}, True),
    ({"copies": 2, "machine": "m", "first": "a", "second": "b", "failed": True, "people_done": True}, True),
    ({"copies": 2, "machine": "m", "first": "a", "second": "b", "failed": True}, False),
]


@pytest.mark.parametrize(("fields", "complete"), COMPLETE_CASES)
def test_complete(fields: dict[str, object], complete: bool) -> None:
    assert Pending(0.0, **fields).complete is complete  # type: ignore[arg-type]


@pytest.mark.parametrize("fields", [f for f, complete in COMPLETE_CASES if complete])
def test_settled_drops_payloads_but_keeps_sides_and_completeness(fields: dict[str, object]) -> None:
    p = Pending(12.5, **fields)  # type: ignore[arg-type]
    settled = p.settled()
    for side in ("machine", "first", "second"):
        assert getattr(settled, side) == (None if getattr(p, side) is None else "")
    assert settled.complete
    assert replace(settled, machine=p.machine, first=p.first, second=p.second) == p
    assert not settled.machine_ready and not settled.people_ready


def test_pending_survives_a_json_round_trip() -> None:
    p = Pending(3.5, machine="{}", first="{}", copies=2, machine_done=True, failed=False)
    assert Pending.from_dict(orjson.loads(orjson.dumps(p.to_dict()))) == p


# --- absorb: one record's change to its frame's state ---


def test_absorb_automation_result() -> None:
    (topic, raw), = [r for r in CONSENSUS.records() if r[0] == "automation-results"]
    frame_id, update = absorb(topic, raw)
    assert frame_id == "drv-000001"
    assert update(Pending(0.0)) == Pending(0.0, machine=raw.decode())
    assert update(Pending(0.0, failed=True)).failed  # a failure stays a failure


def test_absorb_failed_automation_result_marks_the_frame_failed() -> None:
    (topic, raw), = [r for r in FrameCase("f", 1, failed=True).records() if r[0] == "automation-results"]
    assert absorb(topic, raw)[1](Pending(0.0)) == Pending(0.0, machine=raw.decode(), failed=True)


@pytest.mark.parametrize(("before", "copies", "after"), [(0, 1, 1), (0, 2, 2), (2, 1, 2), (1, 2, 2)])
def test_absorb_manual_task_raises_copies(before: int, copies: int, after: int) -> None:
    doc = sample("manual-queue", task_id="f/1", frame_id="f", copy=1, copies=copies)
    frame_id, update = absorb("manual-queue", encode(ManualTask.model_validate(doc)))
    assert frame_id == "f"
    assert update(Pending(0.0, copies=before)) == Pending(0.0, copies=after)


def test_absorb_delivery_ships_the_frame() -> None:
    (topic, raw), = [r for r in FrameCase("f", 1, shipped=True).records() if r[0] == "deliveries"]
    frame_id, update = absorb(topic, raw)
    assert frame_id == "f"
    assert update(Pending(0.0, machine="m")) == Pending(0.0, machine="m", shipped=True)


@pytest.mark.parametrize(("copy", "side"), [(1, "first"), (2, "second")])
def test_absorb_annotation_fills_its_copy(copy: int, side: str) -> None:
    doc = sample("manual-annotations", task_id=f"f/{copy}", frame_id="f", copy=copy, copies=2)
    raw = encode(ManualAnnotation.model_validate(doc))
    frame_id, update = absorb("manual-annotations", raw)
    assert frame_id == "f"
    assert update(Pending(0.0)) == Pending(0.0, copies=2, **{side: raw.decode()})  # type: ignore[arg-type]


@pytest.mark.parametrize("topic", ["frames", "comparisons", "dead-letters", "t-automation-results"])
def test_absorb_refuses_a_topic_the_comparator_does_not_read(topic: str) -> None:
    raw = orjson.dumps(sample("automation-results"))
    with pytest.raises(InvalidMessage, match=f"does not read topic '{topic}'"):
        absorb(topic, raw)


@pytest.mark.parametrize("topic", JOINED)
@pytest.mark.parametrize("raw", [b"not json", b"{}", b'{"schema_version": 1, "frame_id": ""}', b"\xff\xfe"])
def test_absorb_refuses_invalid_bytes(topic: str, raw: bytes) -> None:
    with pytest.raises(InvalidMessage) as caught:
        absorb(topic, raw)
    assert caught.value.reason.startswith(f"{topic}: ")


# --- compare_ready: exactly one comparison per (frame, kind) ---


def test_a_consensus_frame_gets_one_machine_and_one_consensus_comparison() -> None:
    out = run_offline(CONSENSUS.records())
    assert [(c.frame_id, c.kind, c.accepted, c.inclusion_prob, c.tp, c.fp, c.fn) for c in out] == [
        ("drv-000001", "machine", True, 0.5, 1, 0, 0),
        ("drv-000001", "consensus", False, 0.2, 1, 2, 0),  # copy 2 drew two extra objects
    ]
    assert out[0].time == T + 1 + 1 and out[1].time == T + 1 + 2  # the later of the two sides
    assert out[0].confidence == 0.81 and out[1].confidence is None
    assert out[0].policy_version == out[1].policy_version == 1


def test_compare_ready_marks_frames_done_and_compares_nothing_twice() -> None:
    pending: dict[str, Pending] = {}
    for topic, raw in CONSENSUS.records():
        frame_id, update = absorb(topic, raw)
        pending[frame_id] = update(pending.get(frame_id) or Pending(0.0))
    assert len(compare_ready(pending, CTX)) == 2
    assert pending["drv-000001"].machine_done and pending["drv-000001"].people_done
    assert pending["drv-000001"].complete
    assert compare_ready(pending, CTX) == []


def test_sides_absorbed_in_the_batch_are_compared_without_a_second_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: Decoded = {}
    pending: dict[str, Pending] = {}
    for topic, raw in CONSENSUS.records():
        frame_id, update = absorb(topic, raw, decoded)
        pending[frame_id] = update(pending.get(frame_id) or Pending(0.0))
    expected = as_set(run_offline(CONSENSUS.records()))
    calls: list[object] = []
    monkeypatch.setattr(join, "decode", lambda *args: calls.append(args))
    assert as_set(compare_ready(pending, CTX, decoded)) == expected
    assert calls == []


def test_mixed_frames_get_the_comparisons_their_story_calls_for() -> None:
    got = sorted((c.frame_id, c.kind, c.accepted, c.stratum) for c in run_offline(records_of(MIXED)))
    assert got == [
        ("drv-000001", "consensus", False, "all"), ("drv-000001", "machine", True, "all"),
        ("drv-000002", "machine", False, "all"),
        ("drv-000003", "consensus", True, "all"),  # engine failed: people only
        ("drv-000006", "consensus", True, "weather=rain"), ("drv-000006", "machine", True, "weather=rain"),
    ]


def test_every_arrival_order_gives_the_same_comparisons() -> None:
    records = CONSENSUS.records()
    assert len(records) == 5  # automation, two tasks, two annotations
    expected = as_set(run_offline(records))
    for order in itertools.permutations(records):
        out, table = run_online(list(order))
        assert len(out) == 2 and as_set(out) == expected, [topic for topic, _ in order]
        assert table["drv-000001"].complete
        assert table["drv-000001"].first == ""  # settled: payloads dropped


@pytest.mark.parametrize("seed", range(6))
def test_replayed_records_in_any_order_and_batching_change_nothing(seed: int) -> None:
    """At-least-once delivery: records come again (also after their frame was settled), in any batches."""
    rng = np.random.default_rng(seed)
    records = records_of(MIXED)
    expected = as_set(run_offline(records))
    assert len(expected) == 6
    for _ in range(25):
        repeats = rng.integers(1, 4, size=len(records))
        stream = [records[i] for i in rng.permutation(np.repeat(np.arange(len(records)), repeats))]
        batches = rng.integers(1, 6, size=len(stream)).tolist()
        out, table = run_online(stream, batches)
        assert len(out) == len(expected)
        assert as_set(out) == expected
        assert all(p.complete for p in table.values())
        assert as_set(run_offline(stream)) == expected


def test_annotations_that_omit_copies_still_join_like_the_offline_replay() -> None:
    """``ManualAnnotation.copies`` defaults to 1 when a producer leaves it out; the task still says 2."""
    def without_copies(record: Record) -> Record:
        topic, raw = record
        if topic != "manual-annotations":
            return record
        doc = orjson.loads(raw)
        del doc["copies"]
        return topic, orjson.dumps(doc)

    automation, task1, task2, copy1, copy2 = (without_copies(r) for r in CONSENSUS.records())
    stream = [automation, copy1, task1, task2, copy2]  # the tasks arrive after copy 1 was compared
    expected = as_set(run_offline(stream))
    assert len(expected) == 2
    out, _ = run_online(stream)
    assert as_set(out) == expected
