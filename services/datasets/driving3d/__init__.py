"""Synthetic LiDAR driving scenes (``synthetic://driving3d``): point clouds with ground-truth cuboids.

A 32-channel sensor 1.8 m above the ground sweeps 120 degrees ahead of a car on a road with cars,
pedestrians and cyclists (the labelled classes) among buildings, trees, walls, poles, bins and
trailers (unlabelled, and hiding what is behind them). Each frame is sampled and swept from its own
seeds, so frame ``i`` of seed ``s`` is the same points, bit for bit, and the same ground truth however
it is produced; numpy alone, about 45 frames/s on one core here.

- :func:`render_frame` gives a frame's points (N, 4: x, y, z, intensity; float32, metres in
  ``vehicle-iso8855``: x forward, y left, z up, ground at z = 0) and its labels: the cuboids of the
  objects with at least one point inside (see :mod:`.render`) and the tags ``weather`` and
  ``time_of_day`` (the values of the 2D set).
- :func:`ground_truth` writes labels as an OpenLABEL document (see :mod:`.openlabel`).
"""

from services.datasets.driving3d.lidar import LIDAR, Lidar
from services.datasets.driving3d.openlabel import file_name, frame_id, ground_truth
from services.datasets.driving3d.render import (
    LidarFrame,
    LidarLabels,
    LidarObject,
    label_frame,
    points_in_cuboid,
    render_frame,
    render_scene,
)
from services.datasets.driving3d.scene import CATEGORIES, COORDINATE_SYSTEM, SENSOR_HEIGHT, TIME_OF_DAY, WEATHER

__all__ = [
    "CATEGORIES",
    "COORDINATE_SYSTEM",
    "LIDAR",
    "SENSOR_HEIGHT",
    "TIME_OF_DAY",
    "WEATHER",
    "Lidar",
    "LidarFrame",
    "LidarLabels",
    "LidarObject",
    "file_name",
    "frame_id",
    "ground_truth",
    "label_frame",
    "points_in_cuboid",
    "render_frame",
    "render_scene",
]
