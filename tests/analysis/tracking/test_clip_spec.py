"""Clip acceptance specs: track rules plus the frame quality spec on every frame, read, written back and judged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from analysis.agreement import QualitySpec
from analysis.annotations import Annotations, parse_automation, parse_ground_truth
from analysis.compare import Comparator, CompareOptions
from analysis.exceptions import InvalidInput, InvalidSpec
from analysis.tracking import TrackAcceptanceSpec, Tracks, track_metrics
from analysis.tracking.clip_spec import ClipAcceptanceSpec, frame_acceptance, judge_clip
from analysis.tracking.exceptions import InvalidTrackSpec
from tests.analysis.tracking.cases import CASES

FRAMES = {"max_missed": 0, "max_extra": 0, "min_iou": 0.7}


def flags(text: str) -> list[bool]:
    """``"++-"`` -> accepted, accepted, rejected."""
    return [c == "+" for c in text]


# case, spec, frame verdicts, accepted, reasons
JUDGEMENTS = [
    ("id swap", {}, None, True, ()),
    ("id swap", {"tracks": {"max_id_switches": 2, "min_idf1": 0.5}}, None, True, ()),
    ("id swap", {"tracks": {"max_id_switches": 1}}, None, False, ("ID switches 2 > max_id_switches 1",)),
    ("id swap", {"tracks": {"min_idf1": 0.6}}, None, False, ("IDF1 0.5000 < min_idf1 0.6",)),
    ("fragmentation", {"tracks": {"max_fragmentations": 0}}, None, False,
     ("fragmentations 1 > max_fragmentations 0",)),
    ("fragmentation", {"tracks": {"min_mota": 0.9}}, None, False, ("MOTA 0.8000 < min_mota 0.9",)),
    ("fragmentation", {"tracks": {"min_hota": 0.9}}, None, False, ("HOTA 0.8000 < min_hota 0.9",)),
    ("fragmentation", {"frames": FRAMES}, "++-++", False,
     ("frames accepted 0.8000 (4/5) < min_frames_accepted 1.0",)),  # default share: every frame
    ("fragmentation", {"frames": FRAMES, "min_frames_accepted": 0.8}, "++-++", True, ()),
    ("fragmentation", {"frames": FRAMES, "min_frames_accepted": 0.81}, "++-++", False,
     ("frames accepted 0.8000 (4/5) < min_frames_accepted 0.81",)),
    ("id swap", {"tracks": {"max_id_switches": 0}, "frames": FRAMES, "min_frames_accepted": 0.5}, "+---", False,
     ("ID switches 2 > max_id_switches 0", "frames accepted 0.2500 (1/4) < min_frames_accepted 0.5")),
    ("id swap", {"tracks": {"max_id_switches": 2}, "frames": FRAMES, "min_frames_accepted": 0.5}, "++--", True, ()),
    ("empty clip", {"tracks": {"min_idf1": 0.9, "min_mota": 0.9}, "frames": FRAMES}, "+++", True, ()),
    ("empty clip", {"frames": FRAMES}, "", True, ()),  # no frames: nothing to disagree on
]


@pytest.mark.parametrize(("case", "doc", "frames", "accepted", "reasons"), JUDGEMENTS)
def test_judge_clip(case: str, doc: dict[str, Any], frames: str | None, accepted: bool,
                    reasons: tuple[str, ...]) -> None:
    metrics = track_metrics(*CASES[case])
    verdict = judge_clip(ClipAcceptanceSpec.from_dict(doc), metrics, None if frames is None else flags(frames))
    assert (verdict.accepted, verdict.reasons) == (accepted, reasons)
    assert verdict.metrics is metrics
    expected = (None, None) if frames is None else (frames.count("+"), len(frames))
    assert (verdict.frames_accepted, verdict.frames) == expected


def test_the_track_part_is_the_track_specs_judgement() -> None:
    for case in CASES:
        for doc in ({"max_id_switches": 0, "min_idf1": 0.7}, {"min_mota": 0.5, "min_hota": 0.5}):
            metrics = track_metrics(*CASES[case])
            verdict = judge_clip(ClipAcceptanceSpec(TrackAcceptanceSpec.from_dict(doc)), metrics)
            assert (verdict.accepted, verdict.reasons) == TrackAcceptanceSpec.from_dict(doc).judge(metrics)


@pytest.mark.parametrize(("doc", "accepted", "reasons"), [
    ({"tracks": {"max_id_switches": 2, "min_idf1": 0.5}}, False,
     ("no track ids to judge max_id_switches, min_idf1 on",)),
    ({"frames": FRAMES, "min_frames_accepted": 0.5}, True, ()),
])
def test_an_output_without_track_ids_fails_track_rules_only(doc: dict[str, Any], accepted: bool,
                                                           reasons: tuple[str, ...]) -> None:
    verdict = judge_clip(ClipAcceptanceSpec.from_dict(doc), None, flags("++-"))
    assert (verdict.accepted, verdict.reasons, verdict.metrics) == (accepted, reasons, None)


def test_frame_rules_need_each_frames_verdict() -> None:
    with pytest.raises(InvalidInput, match="frames_accepted"):
        judge_clip(ClipAcceptanceSpec(frames=QualitySpec()), track_metrics(*CASES["id swap"]))


def coco(tracks: Tracks, *, results: bool) -> Any:
    """A clip's tracks as COCO: ground truth (one image per frame) or a results list."""
    records = [{"image_id": int(f) + 1, "category_id": 1, "bbox": [float(v) for v in box], "track_id": int(t)}
               for f, t, box in zip(tracks.frame, tracks.track_id, tracks.boxes, strict=True)]
    if results:
        return [{**r, "score": 0.9} for r in records]
    images = [{"id": f + 1, "file_name": f"{f:06d}.png", "width": 200, "height": 100}
              for f in range(tracks.num_frames)]
    return {"images": images, "categories": [{"id": 1, "name": "car"}],
            "annotations": [{**r, "id": k + 1} for k, r in enumerate(records)]}


def sides(case: str) -> tuple[Annotations, Annotations]:
    gt, hyp = CASES[case]
    manual = parse_ground_truth(coco(gt, results=False), case)
    return parse_automation(coco(hyp, results=True), case, manual), manual


def alone(spec: QualitySpec, case: str, frame: int) -> bool:
    """The comparator's verdict on one frame of the clip, compared on its own."""
    gt, hyp = CASES[case]
    doc = coco(gt, results=False)
    doc.update(images=[doc["images"][frame]], annotations=[a for a in doc["annotations"] if a["image_id"] == frame + 1])
    manual = parse_ground_truth(doc, case)
    automation = parse_automation([r for r in coco(hyp, results=True) if r["image_id"] == frame + 1], case, manual)
    return bool(Comparator(CompareOptions(spec=spec)).calculate(automation, manual).frames.accepted[0])


@pytest.mark.parametrize("case", ["id swap", "fragmentation", "below the threshold", "carry-over beats a closer box",
                                  "only false positives", "all misses"])
@pytest.mark.parametrize("frames", [{}, {"max_missed": 1}, {"max_extra": 1, "min_iou": 0.9}])
def test_the_frame_part_agrees_with_judging_each_frame_alone(case: str, frames: dict[str, Any]) -> None:
    spec = QualitySpec.from_mapping(frames, "frames")
    automation, manual = sides(case)
    together = frame_acceptance(spec, automation, manual)
    assert together.tolist() == [alone(spec, case, f) for f in range(CASES[case][0].num_frames)]
    clip = ClipAcceptanceSpec(frames=spec, min_frames_accepted=0.5)
    verdict = judge_clip(clip, track_metrics(*CASES[case]), together)
    assert (verdict.frames_accepted, verdict.frames) == (int(together.sum()), len(together))
    assert verdict.accepted == (together.mean() >= 0.5)


def test_yaml_round_trip() -> None:
    doc = yaml.safe_load("""
        tracks: {max_id_switches: 2, min_idf1: 0.6}
        frames: {min_height: 12, max_missed: 1, max_extra: 1, classes: {pedestrian: {min_iou: 0.6}}}
        min_frames_accepted: 0.9
    """)
    spec = ClipAcceptanceSpec.from_dict(doc, "clip.yaml")
    assert spec.tracks == TrackAcceptanceSpec(max_id_switches=2, min_idf1=0.6) and spec.min_frames_accepted == 0.9
    assert spec.frames == QualitySpec.from_mapping(doc["frames"], "frames")
    assert ClipAcceptanceSpec.from_dict(yaml.safe_load(yaml.safe_dump(spec.to_dict()))) == spec
    assert ClipAcceptanceSpec.from_dict(None) == ClipAcceptanceSpec() == ClipAcceptanceSpec.from_dict({})
    assert ClipAcceptanceSpec().to_dict() == {"tracks": {}}


def test_frame_rules_default_to_every_frame_and_names_go_through_the_callers_loader() -> None:
    named = ClipAcceptanceSpec.from_dict({"frames": "strict"}, frames_named=lambda name: QualitySpec(max_extra=3))
    assert named == ClipAcceptanceSpec(frames=QualitySpec(max_extra=3), min_frames_accepted=1.0)


def refuse(name: str) -> QualitySpec:
    raise InvalidInput(name, "", "no such file")


@pytest.mark.parametrize(("doc", "where", "problem"), [
    ({"track": {}}, "track", "unknown key (known: tracks, frames, min_frames_accepted)"),
    ({"tracks": {"max_switches": 1}}, "tracks.max_switches", "unknown key"),
    ({"tracks": {"min_idf1": 1.5}}, "tracks.min_idf1", "must be <= 1.0"),
    ({"tracks": [1]}, "tracks", "expected an object"),
    ({"frames": {"max_missed": -1}}, "frames.max_missed", "must be >= 0"),
    ({"frames": {"min_iou": 0}}, "frames.min_iou", "must be > 0.0"),
    ({"frames": {"classes": {"car": {"min_hight": 3}}}}, "frames.classes.car.min_hight", "unknown key"),
    ({"frames": [1]}, "frames", "expected an object"),
    ({"frames": "driving"}, "frames", "no loader was given"),
    ({"frames": {}, "min_frames_accepted": 1.2}, "min_frames_accepted", "must be <= 1.0"),
    ({"frames": {}, "min_frames_accepted": "most"}, "min_frames_accepted", "expected a number"),
    ({"min_frames_accepted": 0.5}, "min_frames_accepted", "needs frame rules"),
    ("tracks", "", "expected an object"),
])
def test_bad_specs_are_refused_naming_the_field(doc: Any, where: str, problem: str) -> None:
    with pytest.raises(InvalidTrackSpec) as info:
        ClipAcceptanceSpec.from_dict(doc, "clip.yaml")
    assert info.value.where == where and problem in info.value.problem
    assert isinstance(info.value, InvalidSpec) and str(info.value).startswith("clip.yaml")


def test_a_name_the_loader_refuses_is_named() -> None:
    with pytest.raises(InvalidTrackSpec, match=r"clip.yaml: frames: nowhere.yaml: no such file"):
        ClipAcceptanceSpec.from_dict({"frames": "nowhere.yaml"}, "clip.yaml", frames_named=refuse)


def test_the_result_is_frozen_and_serialisable() -> None:
    verdict = judge_clip(ClipAcceptanceSpec.from_dict({"tracks": {"max_id_switches": 1}}),
                         track_metrics(*CASES["id swap"]))
    with pytest.raises(AttributeError):
        verdict.accepted = True  # type: ignore[misc]
    doc = verdict.to_dict()
    assert doc["accepted"] is False and doc["metrics"]["id_switches"] == 2 and doc["frames"] is None
    assert np.isclose(doc["metrics"]["idf1"], 0.5)
