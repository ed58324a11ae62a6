"""The reference QA spec for the synthetic LiDAR scenes (``synthetic://driving3d``): cuboid3d objects.

Cuboids are paired as nuScenes' detection benchmark pairs them (``match: centre``: machine cuboids,
highest score first, each take the nearest free manual cuboid of their class), within 2 m for cars
and 1 m for pedestrians and cyclists between the centres seen from above. A car's or cyclist's
heading must be within 30 degrees (a car turned round fails); a pedestrian's is not judged. One
missed and one extra cuboid are tolerated per frame. No manual cuboid is ignored: the ground truth
already holds only objects with at least one LiDAR point (nuScenes' rule), and a spec cannot ignore
by point count or range, only by footprint or height, which would not tell a far car from a near
one. The 3D detector's frame confidence is calibrated against this spec.
"""

from __future__ import annotations

from analysis.agreement import QualitySpec

DRIVING3D_QA = {
    "match": "centre",
    "overlap": "bev",
    "max_distance": 2.0,
    "max_yaw_error": 30,
    "max_missed": 1,
    "max_extra": 1,
    "classes": {"pedestrian": {"max_distance": 1.0, "max_yaw_error": 180}, "cyclist": {"max_distance": 1.0}},
}
REFERENCE_SPEC = QualitySpec.from_mapping(DRIVING3D_QA, "driving3d reference spec")
