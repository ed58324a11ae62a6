"""Simulated clip annotators: deterministic per (seed, clip, person), each mistake governed by its rate, and a
default person who agrees with the truth about as well as real annotators do."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from analysis.exceptions import InvalidInput
from analysis.tracking import TrackMetrics, track_metrics
from services.engine.chain.clip_tracks import ClipLayout, truth_tracks
from services.engine.sequence_source import SyntheticDrivingSequenceSource
from services.replay.clip_annotators import ClipAnnotation, annotate_clip, clip_tracks_of
from services.replay.clip_model import ClipErrorModel
from services.replay.clip_truth import ClipTruth, TruthBox, occlusions

SOURCE = {"seed": 7, "clips": 3, "length": 40}
PERFECT = ClipErrorModel().scaled(0.0)  # every rate and the jitter 0


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return SyntheticDrivingSequenceSource(**SOURCE).ground_truth()  # labels only: no pixels rendered


@pytest.fixture(scope="module")
def clips(truth: dict[str, Any]) -> dict[int, ClipTruth]:
    return {v: ClipTruth.of(truth, v) for v in ClipLayout.of(truth).lengths}


def _metrics(truth: dict[str, Any], clips: dict[int, ClipTruth], model: ClipErrorModel,
             person: int = 1) -> list[TrackMetrics]:
    gt = truth_tracks(truth, ClipLayout.of(truth), "truth")
    return [track_metrics(gt[v], clip_tracks_of(annotate_clip(c, v, seed=3, person=person, model=model)))
            for v, c in clips.items()]


def test_an_annotation_depends_only_on_seed_clip_and_person(truth: dict[str, Any]) -> None:
    first = annotate_clip(truth, 2, seed=5, person=1)
    assert first == annotate_clip(ClipTruth.of(truth, 2), 2, seed=5, person=1)
    assert first != annotate_clip(truth, 2, seed=5, person=2)  # a consensus copy: someone else
    assert first != annotate_clip(truth, 2, seed=6, person=1)


def test_an_annotation_covers_every_frame_with_unique_ids(truth: dict[str, Any]) -> None:
    a = annotate_clip(truth, 3, seed=1, person=1, model=ClipErrorModel().scaled(3.0))
    images = [im["id"] for im in truth["images"] if im["video_id"] == 3]
    assert a.num_frames == 40 and [f.image_id for f in a.frames] == images
    assert [f.frame_index for f in a.frames] == list(range(40))
    for f in a.frames:
        assert len({o.track_id for o in f.objects}) == len(f.objects)
    ids = {o.track_id for f in a.frames for o in f.objects}
    assert ids == set(range(1, len(ids) + 1))


def test_a_clip_the_document_lacks_is_refused(truth: dict[str, Any], clips: dict[int, ClipTruth]) -> None:
    with pytest.raises(InvalidInput):
        annotate_clip(truth, 9, seed=0, person=1)
    with pytest.raises(InvalidInput):
        annotate_clip(clips[1], 2, seed=0, person=1)


def _switches(m: list[TrackMetrics]) -> int:
    return sum(x.clear.num_switches for x in m)


def _misses(m: list[TrackMetrics]) -> int:
    return sum(x.clear.num_misses for x in m)


def _box_error(m: list[TrackMetrics]) -> float:
    return float(np.mean([x.clear.motp for x in m]))


@pytest.mark.parametrize(("changes", "measure", "raised"), [
    ({"box_jitter": 0.1}, _box_error, lambda v: v > 0.05),
    ({"miss_tiny": 1.0}, _misses, lambda v: v > 100),
    ({"miss_small": 1.0}, _misses, lambda v: v > 50),
    ({"miss_other": 1.0}, _misses, lambda v: v > 20),
    ({"miss_occluded": 1.0}, _misses, lambda v: v > 20),
    ({"late_start": 1.0}, _misses, lambda v: v > 30),
    ({"early_end": 1.0}, _misses, lambda v: v > 30),
    ({"split_after_occlusion": 1.0}, _switches, lambda v: v > 0),
    ({"id_swap": 1.0}, _switches, lambda v: v > 2),
])
def test_each_mistake_appears_with_its_rate_and_not_without(
    truth: dict[str, Any], clips: dict[int, ClipTruth], changes: dict[str, Any],
    measure: Callable[[list[TrackMetrics]], float], raised: Callable[[float], bool],
) -> None:
    assert measure(_metrics(truth, clips, PERFECT)) == 0
    assert raised(measure(_metrics(truth, clips, dataclasses.replace(PERFECT, **changes))))


def test_a_person_without_mistakes_is_the_truth(truth: dict[str, Any], clips: dict[int, ClipTruth]) -> None:
    for m in _metrics(truth, clips, PERFECT):
        assert (m.clear.mota, m.identity.idf1, m.hota.hota, m.clear.num_fragmentations) == (1.0, 1.0, 1.0, 0)


def _categories(a: ClipAnnotation) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for f in a.frames:
        for o in f.objects:
            out.setdefault(o.track_id, set()).add(o.category_id)
    return out


def test_a_class_confusion_holds_for_the_whole_track(truth: dict[str, Any], clips: dict[int, ClipTruth]) -> None:
    right, confused = ({t: c.pop() for t, c in _categories(annotate_clip(clips[v], v, seed=0, person=1, model=m))
                        .items()} for v in (1,) for m in (PERFECT, dataclasses.replace(PERFECT, class_confusion=1.0)))
    swapped = {2: 3, 3: 2}  # pedestrian <-> cyclist; cars and signs stay
    assert confused == {t: swapped.get(c, c) for t, c in right.items()} != right


def test_attribute_flips_set_occluded_wrong(clips: dict[int, ClipTruth]) -> None:
    flipped = annotate_clip(clips[1], 1, seed=0, person=1, model=dataclasses.replace(PERFECT, attribute_flip=1.0))
    right = annotate_clip(clips[1], 1, seed=0, person=1, model=PERFECT)
    for f, g in zip(flipped.frames, right.frames, strict=True):
        assert [o.attributes["occluded"] for o in f.objects] == [not o.attributes["occluded"] for o in g.objects]


def test_the_default_person_agrees_with_the_truth_as_people_do(
    truth: dict[str, Any], clips: dict[int, ClipTruth],
) -> None:
    """Per clip the agreement varies (a missed far track weighs much in a 40-frame clip); on average over the
    clips and eight people it lies in the range real annotators reach."""
    m = [x for person in range(1, 9) for x in _metrics(truth, clips, ClipErrorModel(), person)]
    assert 0.85 <= np.mean([x.clear.mota for x in m]) <= 0.95
    assert 0.90 <= np.mean([x.identity.idf1 for x in m]) <= 0.97
    assert all(x.clear.num_false_positives == 0 for x in m)  # people leave out, they do not invent


def test_scaling_multiplies_rates_and_keeps_the_structure() -> None:
    sloppy = ClipErrorModel().scaled(3.0)
    assert (sloppy.miss_tiny, sloppy.id_swap, sloppy.box_jitter) == pytest.approx((0.3, 0.3, 0.09))
    assert (sloppy.keyframe_every, sloppy.occlusion_frames) == (5, 3)
    assert ClipErrorModel(late_start=0.5).scaled(3.0).late_start == 1.0


def _box(frame: int, visibility: float = 1.0) -> TruthBox:
    return TruthBox(frame, (0.0, 0.0, 10.0, 10.0), 1, {"visibility": visibility})


@pytest.mark.parametrize(("boxes", "expected"), [
    ([_box(0), _box(1), _box(2)], []),
    ([_box(0), _box(4)], [(3, 1)]),  # three frames without a box
    ([_box(0), _box(1, 0.1), _box(2, 0.2), _box(3)], [(2, 3)]),  # two heavily occluded frames
    ([_box(0), _box(1, 0.1), _box(3), _box(4, 0.5)], [(2, 2)]),  # occluded, then absent: one occlusion
    ([_box(0), _box(1, 0.1)], []),  # still occluded when the track ends: no box after it
])
def test_occlusions_are_runs_without_a_visible_box(boxes: list[TruthBox], expected: list[tuple[int, int]]) -> None:
    assert list(occlusions(tuple(boxes), 0.3)) == expected
