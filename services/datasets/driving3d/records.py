"""A LiDAR frame's ground truth as records: the form the simulated people and the loop read, beside OpenLABEL.

The image record is the 2D set's (``id``, ``file_name``, ``tags``) without a size; each object
record carries its cuboid as tagged geometry on the wire (``{"type": "cuboid3d", ...}``, metres
in ``vehicle-iso8855``), its category id and, as ``attributes``, the ``num_points`` the sensor
put inside it (what decides whether a person notices it at all).
"""

from __future__ import annotations

from typing import Any

from services.datasets.driving3d.openlabel import IDS_PER_FRAME, file_name, frame_id
from services.datasets.driving3d.render import LidarLabels, LidarObject
from services.datasets.driving3d.scene import CATEGORIES, TIME_OF_DAY, WEATHER

TAG_VALUES: dict[str, list[str]] = {"weather": list(WEATHER), "time_of_day": list(TIME_OF_DAY)}


def categories() -> list[dict[str, Any]]:
    """The COCO-style category records (id = place in ``CATEGORIES`` + 1, as ``LidarObject.category_id``)."""
    return [{"id": i + 1, "name": name, "supercategory": "road"} for i, name in enumerate(CATEGORIES)]


def cuboid_wire(obj: LidarObject) -> dict[str, Any]:
    """The object's cuboid as the ``cuboid3d`` geometry's wire mapping."""
    return {"type": "cuboid3d", "centre": list(obj.centre), "size": list(obj.size), "yaw": obj.yaw,
            "frame": obj.frame}


def object_record(index: int, k: int, obj: LidarObject) -> dict[str, Any]:
    """The ``k``-th (0-based) object of frame ``index``: id as its OpenLABEL uid, cuboid, class, points."""
    return {"id": frame_id(index) * IDS_PER_FRAME + k + 1, "image_id": frame_id(index),
            "category_id": obj.category_id, "geometry": cuboid_wire(obj), "attributes": {"num_points": obj.num_points}}


def frame_records(labels: LidarLabels) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The image record and the object records of one frame."""
    image = {"id": frame_id(labels.index), "file_name": file_name(labels.index), "tags": dict(labels.tags)}
    return image, [object_record(labels.index, k, obj) for k, obj in enumerate(labels.objects)]
