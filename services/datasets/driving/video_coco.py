"""COCO ground truth of synthetic driving clips, in the TAO / COCO-video convention.

On top of single frames' records (:mod:`services.datasets.driving.coco`, whose
image and annotation ids it keeps: frames are numbered over all clips), the
document has ``videos`` (``id`` 1-based, ``name``, ``width``, ``height``,
``length``), each image its ``video_id`` and ``frame_index`` (0-based within its
clip), each annotation its ``track_id`` and ``video_id``, and ``tracks`` lists
every track that is labelled on some frame with its category and video.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.datasets.driving.coco import categories, frame_records
from services.datasets.driving.motion import FPS
from services.datasets.driving.render import FrameLabels
from services.datasets.driving.scene import HEIGHT, WIDTH

VIDEO_FOLDER = "videos"


def video_id(clip: int) -> int:
    """COCO video id of clip ``clip`` (0-based)."""
    return clip + 1


def video_name(clip: int) -> str:
    return f"{VIDEO_FOLDER}/{video_id(clip):04d}"


def clip_file_name(clip: int, frame: int) -> str:
    return f"{video_name(clip)}/{frame:06d}.png"


def video_record(clip: int, length: int) -> dict[str, Any]:
    return {"id": video_id(clip), "name": video_name(clip), "width": WIDTH, "height": HEIGHT, "length": length,
            "fps": FPS}


def clip_frame_records(labels: FrameLabels, clip: int, frame: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The image record and annotation records of frame ``frame`` of clip ``clip``."""
    image, annotations = frame_records(labels)
    vid = video_id(clip)
    image.update(file_name=clip_file_name(clip, frame), video_id=vid, frame_index=frame)
    for record, obj in zip(annotations, labels.objects, strict=True):
        record.update(track_id=obj.track_id, video_id=vid)
    return image, annotations


def video_ground_truth(
    records: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]], seed: int, clips: int, length: int
) -> dict[str, Any]:
    """A COCO-video ground-truth document from per-frame records, in clip and frame order."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    tracks: dict[int, dict[str, Any]] = {}
    for image, objects in records:
        images.append(image)
        annotations.extend(objects)
        for a in objects:
            tracks.setdefault(a["track_id"], {"id": a["track_id"], "category_id": a["category_id"],
                                              "video_id": a["video_id"]})
    return {
        "info": {"description": "shadowqa synthetic driving clips", "seed": seed, "version": 1, "fps": FPS},
        "videos": [video_record(c, length) for c in range(clips)],
        "images": images, "annotations": annotations, "categories": categories(),
        "tracks": sorted(tracks.values(), key=lambda t: int(t["id"])),
    }
