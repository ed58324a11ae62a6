"""Synthetic driving scenes (``builtin:driving``): road frames from a car with labelled objects.

Each frame is sampled and drawn from its own seed, so frame ``i`` of seed ``s``
is the same pixels and the same ground truth however it is produced; the
pictures are drawn with numpy alone, fast enough to train small detectors on.
"""

from services.datasets.driving.coco import frame_records, ground_truth
from services.datasets.driving.render import (
    DrivingFrame,
    DrivingObject,
    FrameLabels,
    label_frame,
    render_frame,
    render_scene,
)
from services.datasets.driving.scene import CATEGORIES, HEIGHT, TIME_OF_DAY, WEATHER, WIDTH

__all__ = [
    "CATEGORIES",
    "HEIGHT",
    "TIME_OF_DAY",
    "WEATHER",
    "WIDTH",
    "DrivingFrame",
    "DrivingObject",
    "FrameLabels",
    "frame_records",
    "ground_truth",
    "label_frame",
    "render_frame",
    "render_scene",
]
