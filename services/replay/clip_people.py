"""Simulated people answering clip tasks: a clip task's answer is their annotation of every frame, with track ids.

Person ``copy`` of a clip task draws it as :func:`services.replay.clip_annotators.annotate_clip` does (blind: the
task has no machine output), and the answer echoes the task's sampling fields as a frame's answer does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from services.loop.messages import ManualAnnotation, ManualTask
from services.replay.clip_annotators import ClipAnnotation, annotate_clip
from services.replay.clip_model import ClipErrorModel
from services.replay.clip_truth import ClipTruth


def clip_answer(task: ManualTask, annotation: ClipAnnotation, tags: Mapping[str, str],
                annotator: str) -> ManualAnnotation:
    """``annotation`` (of the task's clip) as the answer to ``task``."""
    if task.clip is None:
        raise ValueError(f"task {task.task_id} is a frame's task, not a clip's")
    if annotation.num_frames != len(task.clip.frames):
        raise ValueError(f"task {task.task_id}: the clip has {len(task.clip.frames)} frames, the annotation "
                         f"{annotation.num_frames}")
    frames = [{"frame_index": f.frame_index,
               "objects": [{"geometry": {"type": "box2d", "xywh": list(o.bbox)}, "category_id": o.category_id,
                            "attributes": dict(o.attributes), "track_id": o.track_id} for o in f.objects]}
              for f in annotation.frames]
    return ManualAnnotation.model_validate({
        "task_id": task.task_id, "frame_id": task.frame_id, "seq": task.seq, "copy": task.copy_,
        "annotator": annotator, "inclusion_prob": task.inclusion_prob, "consensus_prob": task.consensus_prob,
        "policy_version": task.policy_version, "copies": task.copies, "stratum": task.stratum, "objects": [],
        "tags": dict(tags), "time": task.time, "clip_frames": frames})


def clip_people(truth: dict[str, Any], *, seed: int, model: ClipErrorModel | None = None,
                ) -> Callable[[ManualTask], ManualAnnotation]:
    """The simulated people of a COCO-video ground truth: copy ``k`` of a clip task is person ``k``'s drawing."""
    clips: dict[int, ClipTruth] = {}
    tags = _clip_tags(truth)

    def annotate(task: ManualTask) -> ManualAnnotation:
        if task.clip is None:
            raise ValueError(f"task {task.task_id} is a frame's task, not a clip's")
        video = task.clip.video_id
        clip = clips.get(video) or clips.setdefault(video, ClipTruth.of(truth, video))
        drawn = annotate_clip(clip, video, seed=seed, person=task.copy_, model=model)
        return clip_answer(task, drawn, tags.get(video, {}), f"sim-{task.copy_}")

    return annotate


def _clip_tags(truth: dict[str, Any]) -> dict[int, dict[str, str]]:
    """Each clip's tags: its first image's (a clip's scene tags do not change)."""
    out: dict[int, dict[str, str]] = {}
    for image in truth.get("images", []):
        if "video_id" in image:
            out.setdefault(int(image["video_id"]), {str(k): str(v) for k, v in (image.get("tags") or {}).items()})
    return out
