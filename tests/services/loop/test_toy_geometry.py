"""A geometry kind registered by a test alone travels the wire and is compared by the loop's compare step.

The kind is 1-D intervals ``{"type": "toy-interval", "start": a, "end": b}`` with
IoU = overlap / union. No production file names it: registering its module is
all it takes (issue 12's done-when test for geometry as data).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from analysis.agreement import QualitySpec
from analysis.annotations import checks
from analysis.annotations.model import FloatArray, IntArray, Objects
from analysis.exceptions import InvalidInput
from analysis.geometry import register, unregister
from services.loop.compare import compare_machine, compare_people
from services.loop.context import CompareContext
from services.loop.messages import AutomationMessage, InvalidMessage, ManualAnnotation, decode, encode
from tests.services.loop.messages.samples import sample

KIND = "toy-interval"
ROOT = Path(__file__).resolve().parents[3]


class Intervals:
    """``[start, end]`` on a line; column block (N, 2)."""

    kind = KIND
    aliases: tuple[str, ...] = ()

    def read(self, doc: Mapping[str, Any], source: str, where: str) -> tuple[float, float]:
        start = checks.number(checks.field(doc, "start", source, where), source, f"{where}.start")
        end = checks.number(checks.field(doc, "end", source, where), source, f"{where}.end")
        if end < start:
            raise InvalidInput(source, f"{where}.end", "ends before it starts")
        return start, end

    def write(self, value: tuple[float, float]) -> dict[str, Any]:
        return {"type": KIND, "start": value[0], "end": value[1]}

    def column(self, values: Sequence[tuple[float, float]]) -> FloatArray:
        return np.array(values, dtype=np.float64).reshape(len(values), 2)

    def area(self, column: FloatArray) -> FloatArray:
        return column[:, 1] - column[:, 0]

    def extent(self, column: FloatArray) -> FloatArray:
        return column[:, 1] - column[:, 0]

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        d, g = dt.geometry[KIND][dt_idx], gt.geometry[KIND][gt_idx]
        overlap = np.clip(np.minimum(d[:, 1], g[:, 1]) - np.maximum(d[:, 0], g[:, 0]), 0.0, None)
        union = (d[:, 1] - d[:, 0]) + (g[:, 1] - g[:, 0]) - overlap
        return np.divide(overlap, union, out=np.zeros(len(d)), where=union > 0)


@pytest.fixture
def intervals() -> Iterator[None]:
    register(Intervals)
    yield
    unregister(KIND)


CTX = CompareContext(categories=({"id": 1, "name": "event"}, {"id": 2, "name": "pause"}),
                     spec=QualitySpec.from_mapping({"min_iou": 0.5, "max_missed": 0, "max_extra": 0}, "toy spec"))

# frame: (machine intervals, manual intervals) as (start, end, category id), and what a person computes by hand:
# TP, FP, FN, mean IoU of the matches, accepted (every match >= 0.5, nothing missed, nothing extra)
FRAMES = [
    ("a", [(0, 10, 1)], [(0, 8, 1)], (1, 0, 0, 0.8, True)),
    ("b", [(0, 10, 1), (20, 30, 1)], [(5, 15, 1)], (0, 2, 1, None, False)),  # IoU 5/15 < 0.5; no overlap
    ("c", [(0, 4, 1)], [(0, 4, 1), (10, 20, 1)], (1, 0, 1, 1.0, False)),  # one missed
    ("d", [], [], (0, 0, 0, None, True)),
    ("e", [(0, 10, 1), (12, 20, 2)], [(1, 10, 1), (12, 22, 2)], (2, 0, 0, (0.9 + 0.8) / 2, True)),
    ("f", [(0, 10, 2)], [(0, 10, 1)], (0, 1, 1, None, False)),  # same interval, other class
]


def _wire(objects: list[tuple[float, float, int]]) -> list[dict[str, Any]]:
    return [{"type": KIND, "start": s, "end": e} for s, e, _ in objects]


def _machine(frame_id: str, seq: int, objects: list[tuple[float, float, int]]) -> AutomationMessage:
    doc = sample("automation-results", frame_id=frame_id, seq=seq, geometries=_wire(objects),
                 category_ids=[c for *_, c in objects], scores=[0.9] * len(objects))
    return decode(AutomationMessage, orjson.dumps(doc))


def _manual(frame_id: str, seq: int, objects: list[tuple[float, float, int]], copy: int = 1) -> ManualAnnotation:
    doc = sample("manual-annotations", frame_id=frame_id, task_id=f"{frame_id}/{copy}", seq=seq, copy=copy,
                 copies=2, consensus_prob=0.2,
                 objects=[{"geometry": g, "category_id": c, "attributes": {}}
                          for g, (*_, c) in zip(_wire(objects), objects, strict=True)])
    return decode(ManualAnnotation, orjson.dumps(doc))


def _counts(c: Any) -> tuple[Any, ...]:
    return c.tp, c.fp, c.fn, None if c.mean_iou is None else round(c.mean_iou, 12), c.accepted


@pytest.mark.usefixtures("intervals")
def test_machine_comparisons_of_a_test_only_kind_are_the_hand_computed_ones() -> None:
    pairs = [(_machine(f, i, m), _manual(f, i, h)) for i, (f, m, h, _) in enumerate(FRAMES)]
    assert orjson.loads(encode(pairs[0][0]))["geometries"] == [{"type": KIND, "start": 0.0, "end": 10.0}]
    out = compare_machine(pairs, CTX)
    assert [c.frame_id for c in out] == [f for f, *_ in FRAMES]
    expected = [(tp, fp, fn, None if iou is None else round(iou, 12), ok) for *_, (tp, fp, fn, iou, ok) in FRAMES]
    assert [_counts(c) for c in out] == expected


@pytest.mark.usefixtures("intervals")
def test_one_frame_at_a_time_gives_the_same_comparisons() -> None:
    pairs = [(_machine(f, i, m), _manual(f, i, h)) for i, (f, m, h, _) in enumerate(FRAMES)]
    assert compare_machine(pairs, CTX) == [c for p in pairs for c in compare_machine([p], CTX)]


@pytest.mark.usefixtures("intervals")
def test_consensus_comparisons_of_a_test_only_kind() -> None:
    first = _manual("a", 0, [(0, 10, 1), (20, 30, 2)])
    second = _manual("a", 0, [(0, 9, 1)], copy=2)
    (c,) = compare_people([(second, first)], CTX)
    assert (c.kind, *_counts(c)) == ("consensus", 1, 0, 1, 0.9, False)


@pytest.mark.usefixtures("intervals")
def test_a_bad_interval_is_refused_naming_its_field() -> None:
    doc = sample("automation-results", geometries=[{"type": KIND, "start": 3, "end": 1}], category_ids=[1],
                 scores=[0.5])
    with pytest.raises(InvalidMessage, match=r"^automation-results: geometries\[0\]: end: ends before it starts$"):
        decode(AutomationMessage, orjson.dumps(doc))


def test_an_unregistered_kind_is_refused_on_the_wire() -> None:
    doc = sample("automation-results", geometries=[{"type": KIND, "start": 0, "end": 1}], category_ids=[1],
                 scores=[0.5])
    with pytest.raises(InvalidMessage, match=f"unknown geometry kind '{KIND}'"):
        decode(AutomationMessage, orjson.dumps(doc))


def test_no_production_file_names_the_toy_kind() -> None:
    for folder in ("analysis", "services", "streams"):
        for path in (ROOT / folder).rglob("*.py"):
            assert KIND not in path.read_text(), path
