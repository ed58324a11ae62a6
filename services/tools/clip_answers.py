"""A simulated person's answer to a clip task seen through the API: the clip's ground truth through the video error
model (:func:`services.replay.clip_annotators.annotate_clip`), as a submission body with ``clip_frames``.

The task view lists the clip's frames; their references (``synthetic://driving-seq?seed=S&length=L#I``) name the
clip, whose ground truth is labelled without pixels. The person's drawing depends only on (seed, clip, copy), so
it equals what :func:`services.replay.clip_people.clip_people` answers for the same task in process.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from analysis.exceptions import InvalidInput
from services.engine.frame_refs import SequenceRef, parse_ref
from services.engine.sequence_source import clip_truth
from services.replay.clip_annotators import ClipAnnotation, annotate_clip
from services.replay.clip_truth import ClipTruth


def clip_submission(task: dict[str, Any], seed: int) -> dict[str, Any]:
    """The body a person (copy ``task["copy_number"]``, the people's ``seed``) submits for the clip task ``task``
    (the API's task view)."""
    ref = parse_ref(task["frames"][0]["image_ref"])
    if not isinstance(ref, SequenceRef):
        raise InvalidInput(task["task_id"], "frames", "a simulated person knows the truth of driving-seq clips only")
    truth, tags = _truth(ref.seed, ref.clip, ref.length)
    drawn = annotate_clip(truth, truth.video_id, seed=seed, person=int(task["copy_number"]))
    if drawn.num_frames != len(task["frames"]):
        raise InvalidInput(task["task_id"], "frames", f"the clip has {drawn.num_frames} frames, the task lists "
                           f"{len(task['frames'])}")
    return {"annotations": [], "clip_frames": _frames(drawn), "tags": tags}


def _frames(drawn: ClipAnnotation) -> list[dict[str, Any]]:
    return [{"frame_index": f.frame_index,
             "annotations": [{"geometry": {"type": "box2d", "xywh": list(o.bbox)}, "category_id": o.category_id,
                              "attributes": dict(o.attributes), "track_id": o.track_id} for o in f.objects]}
            for f in drawn.frames]


@lru_cache(maxsize=64)  # both copies of a clip, and a task handed on after an expired lease
def _truth(seed: int, clip: int, length: int) -> tuple[ClipTruth, dict[str, str]]:
    doc = clip_truth(seed, clip, length)
    video = int(doc["images"][0]["video_id"])
    tags = {str(k): str(v) for k, v in (doc["images"][0].get("tags") or {}).items()}
    return ClipTruth.of(doc, video), tags
