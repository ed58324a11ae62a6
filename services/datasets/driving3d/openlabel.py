"""Ground truth of synthetic LiDAR frames as an ASAM OpenLABEL 1.0 document (what ``shadowqa compare
--geometry cuboid3d`` reads, :mod:`services.io.openlabel`).

Frame ``i`` (0-based) is OpenLABEL frame ``i + 1`` (the engine's frame id, as COCO image ids of the 2D
set). Each labelled object is an object of its category's ``type`` whose uid is ``frame * 1000 + k + 1``
(``k``: its place in the frame's labels) existing on that frame only, carrying a ``cuboid`` named
``box3D`` (``[x, y, z, 0, 0, yaw, length, width, height]`` in ``vehicle-iso8855``) and a ``num`` named
``num_points``. The tags are contexts named ``weather`` and ``time_of_day`` with a ``text`` of the same
name on every frame. The lidar is a stream and a coordinate system 1.8 m above the vehicle frame's
origin; each frame names its points file (``frames/000001.pcd``) in its ``frame_properties``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.datasets.driving3d.render import LidarLabels, LidarObject
from services.datasets.driving3d.scene import COORDINATE_SYSTEM, SENSOR_HEIGHT
from services.io.openlabel import Element, ElementData, Frame, OpenLabel, Shape, Value, write_openlabel
from services.io.openlabel.document import intervals
from services.io.openlabel.shapes import CUBOID_NAME

IDS_PER_FRAME = 1000
FRAME_FOLDER = "frames"
STREAM = "lidar"
TAGS = ("weather", "time_of_day")


def frame_id(index: int) -> int:
    """The frame number (engine frame id, OpenLABEL frame) of frame ``index`` (0-based)."""
    return index + 1


def file_name(index: int) -> str:
    return f"{FRAME_FOLDER}/{frame_id(index):06d}.pcd"


def ground_truth(labels: Iterable[LidarLabels], seed: int) -> dict[str, Any]:
    """The OpenLABEL JSON document of these frames' labels, in frame order."""
    objects: dict[str, Element] = {}
    frames: dict[int, Frame] = {}
    for frame in labels:
        f = frame_id(frame.index)
        data: dict[str, ElementData] = {}
        for k, obj in enumerate(frame.objects):
            uid = str(f * IDS_PER_FRAME + k + 1)
            objects[uid] = Element(f"{obj.category}-{uid}", obj.category, frame_intervals=((f, f),))
            data[uid] = ElementData((cuboid_shape(obj),), (Value("num", "num_points", obj.num_points),))
        tags = {str(i): ElementData(values=(Value("text", name, frame.tags[name]),)) for i, name in enumerate(TAGS)}
        frames[f] = Frame(data, tags, {"streams": {STREAM: {"uri": file_name(frame.index)}}})
    numbers = intervals(sorted(frames))
    doc = OpenLabel(
        metadata={"schema_version": "1.0.0", "name": f"synthetic://driving3d?seed={seed}", "annotator": "shadowqa"},
        objects=objects,
        contexts={str(i): Element(name, name, frame_intervals=numbers) for i, name in enumerate(TAGS)},
        frames=frames,
        frame_intervals=numbers,
        coordinate_systems=COORDINATE_SYSTEMS,
        streams={STREAM: {"type": "lidar", "uri": "", "description": DESCRIPTION}},
    )
    return write_openlabel(doc)


def cuboid_shape(obj: LidarObject) -> Shape:
    """The object's cuboid as OpenLABEL's 9 numbers: centre, Euler angles (0, 0, yaw), size."""
    return Shape("cuboid", CUBOID_NAME, (*obj.centre, 0.0, 0.0, obj.yaw, *obj.size), obj.frame)


DESCRIPTION = "synthetic 32-channel lidar, 120 degrees forward; points in vehicle-iso8855"
COORDINATE_SYSTEMS = {
    COORDINATE_SYSTEM: {"type": "local_cs", "parent": "", "children": [STREAM]},
    STREAM: {
        "type": "sensor_cs",
        "parent": COORDINATE_SYSTEM,
        "pose_wrt_parent": {"quaternion": [0.0, 0.0, 0.0, 1.0], "translation": [0.0, 0.0, SENSOR_HEIGHT]},
        "children": [],
    },
}
