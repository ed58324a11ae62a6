"""Synthetic driving clips: determinism, persistent tracks that move smoothly, enter, leave and hide, steady
backgrounds and tags, the class mix of single frames, and ground truth the COCO reader takes."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import numpy as np
import pytest

from analysis.annotations import parse_ground_truth
from analysis.annotations.coco_write import to_coco_ground_truth
from analysis.exceptions import InvalidInput
from services.datasets.driving import CATEGORIES, DrivingObject, FrameLabels, label_frame
from services.datasets.driving.sequence import (
    TRACKS_PER_CLIP,
    label_clip_frame,
    plan_clip,
    render_clip_frame,
)
from services.engine.sequence_source import SyntheticDrivingSequenceSource
from services.engine.sources import open_source

SEED, CLIPS, LENGTH = 1, 2, 30
Tracks = dict[int, dict[int, DrivingObject]]  # track id -> frame index -> object


@pytest.fixture(scope="module")
def clips() -> list[list[FrameLabels]]:
    return [[label_clip_frame(SEED, c, LENGTH, k) for k in range(LENGTH)] for c in range(CLIPS)]


@pytest.fixture(scope="module")
def tracks(clips: list[list[FrameLabels]]) -> Tracks:
    out: Tracks = defaultdict(dict)
    for frames in clips:
        for k, labels in enumerate(frames):
            for obj in labels.objects:
                out[obj.track_id][k] = obj
    return dict(out)


def _centre(obj: DrivingObject) -> np.ndarray:
    x, y, w, h = obj.bbox
    return np.array([x + w / 2, y + h / 2])


def test_two_renders_are_identical_and_a_frame_alone_equals_it_in_a_run() -> None:
    run = [render_clip_frame(SEED, 1, LENGTH, k) for k in range(3)]
    plan_clip.cache_clear()  # frame 2 again from scratch, alone
    alone = render_clip_frame(SEED, 1, LENGTH, 2)
    assert np.array_equal(alone.image, run[2].image) and alone.labels == run[2].labels
    assert not np.array_equal(run[1].image, run[2].image)  # things moved


def test_labels_without_pixels_equal_the_rendered_labels(clips: list[list[FrameLabels]]) -> None:
    for k in (0, 17):
        assert render_clip_frame(SEED, 0, LENGTH, k).labels == clips[0][k]


def test_track_ids_are_unique_per_frame_and_belong_to_their_clip(clips: list[list[FrameLabels]]) -> None:
    for c, frames in enumerate(clips):
        for labels in frames:
            ids = [o.track_id for o in labels.objects]
            assert len(ids) == len(set(ids))
            assert all((c + 1) * TRACKS_PER_CLIP < t < (c + 2) * TRACKS_PER_CLIP for t in ids)


def test_a_track_keeps_its_class_and_moves_smoothly(tracks: Tracks) -> None:
    """Between consecutive frames a clearly seen object moves by less than its own size."""
    steps = 0
    for seq in tracks.values():
        assert len({o.category_id for o in seq.values()}) == 1
        for k in sorted(seq):
            a, b = seq[k], seq.get(k + 1)
            if b is None or a.occluded or b.occluded or a.truncated or b.truncated:
                continue
            steps += 1
            assert np.linalg.norm(_centre(b) - _centre(a)) <= max(a.bbox[2], a.bbox[3]) + 2.0
    assert steps > 100


def test_objects_enter_and_leave_the_view(tracks: Tracks) -> None:
    starts = [min(seq) for seq in tracks.values()]
    ends = [max(seq) for seq in tracks.values()]
    assert sum(s > 0 for s in starts) >= 3 and sum(e < LENGTH - 1 for e in ends) >= 3
    assert any(s > 0 and e < LENGTH - 1 for s, e in zip(starts, ends, strict=True))  # one both enters and leaves


def test_objects_hide_behind_others_for_a_while(tracks: Tracks) -> None:
    """Some track is absent on frames between frames it is labelled on, and is occluded next to the gap."""
    hidden = []
    for seq in tracks.values():
        ks = sorted(seq)
        for a, b in itertools.pairwise(ks):
            if b > a + 1 and (seq[a].occluded or seq[b].occluded):
                hidden.append((a, b))
    assert hidden


def test_tags_are_constant_within_a_clip_and_vary_between_clips(clips: list[list[FrameLabels]]) -> None:
    for frames in clips:
        assert all(labels.tags == frames[0].tags for labels in frames)
    tags = {tuple(sorted(plan_clip(SEED, c, LENGTH).base.conditions.tags.items())) for c in range(8)}
    assert len(tags) >= 3


def test_the_class_mix_is_about_that_of_single_frames() -> None:
    clip_counts = Counter(
        o.category_id for c in range(12) for k in range(0, 60, 6) for o in label_clip_frame(7, c, 60, k).objects
    )
    frame_counts = Counter(o.category_id for i in range(120) for o in label_frame(7, i).objects)
    for cid in range(1, len(CATEGORIES) + 1):
        clip_share = clip_counts[cid] / clip_counts.total()
        frame_share = frame_counts[cid] / frame_counts.total()
        assert clip_share == pytest.approx(frame_share, abs=0.1), CATEGORIES[cid - 1]


def _daylight_clip_without_buildings() -> int:
    for c in range(40):
        base = plan_clip(SEED, c, LENGTH).base
        if not base.road.buildings and base.conditions.tags == {"weather": "clear", "time_of_day": "day"}:
            return c
    raise AssertionError("no such clip in 40")


def test_the_background_does_not_flicker() -> None:
    """The sky stays put from frame to frame (same detail seed: skyline, noise), while the road moves."""
    c = _daylight_clip_without_buildings()
    horizon = int(plan_clip(SEED, c, LENGTH).base.camera.horizon)
    a, b = (render_clip_frame(SEED, c, LENGTH, k).image.astype(np.int16) for k in (10, 11))
    diff = np.abs(a - b)
    assert float(np.median(diff[: horizon - 12])) <= 0.5
    assert float(np.mean(diff[horizon + 10 :])) > 0.5


def test_the_source_serves_frames_with_clip_and_index(clips: list[list[FrameLabels]]) -> None:
    source = open_source(f"synthetic://driving-seq?seed={SEED}&clips={CLIPS}&length={LENGTH}")
    assert isinstance(source, SyntheticDrivingSequenceSource) and len(source) == CLIPS * LENGTH
    frame = source.frame(LENGTH + 4)
    assert frame.frame_id == LENGTH + 5
    assert frame.meta == {"tags": clips[1][4].tags, "video_id": 2, "frame_index": 4}


def test_the_ground_truth_reads_with_video_and_track_columns(clips: list[list[FrameLabels]]) -> None:
    doc = SyntheticDrivingSequenceSource(SEED, CLIPS, LENGTH).ground_truth()
    assert [(v["id"], v["length"]) for v in doc["videos"]] == [(1, LENGTH), (2, LENGTH)]
    ann = parse_ground_truth(doc, "clips")
    assert ann.images.video_id.tolist() == [1] * LENGTH + [2] * LENGTH
    assert ann.images.frame_index.tolist() == list(range(LENGTH)) * 2
    expected = [o.track_id for frames in clips for labels in frames for o in labels.objects]
    assert ann.objects.track_id.tolist() == expected and min(expected) > 0
    tracks = {t["id"]: (t["category_id"], t["video_id"]) for t in doc["tracks"]}
    assert {a["track_id"]: (a["category_id"], a["video_id"]) for a in doc["annotations"]} == tracks
    again = parse_ground_truth(to_coco_ground_truth(ann), "written back")
    assert np.array_equal(again.images.video_id, ann.images.video_id)
    assert np.array_equal(again.images.frame_index, ann.images.frame_index)


@pytest.mark.parametrize(("spec", "problem"), [
    ("synthetic://driving-seq?clips=0", "expected an integer >= 1"),
    ("synthetic://driving-seq?length=ten", "expected an integer >= 1"),
    ("synthetic://driving-seq?length=20000", "expected 1 to 10000 frames per clip"),
    ("synthetic://driving-seq?n=4", "unknown parameter"),
])
def test_a_bad_spec_is_refused_with_the_reason(spec: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        open_source(spec)


def test_defaults_are_four_clips_of_sixty_frames() -> None:
    source = open_source("synthetic://driving-seq")
    assert isinstance(source, SyntheticDrivingSequenceSource)
    assert (source.seed, source.clips, source.length, len(source)) == (0, 4, 60, 240)
