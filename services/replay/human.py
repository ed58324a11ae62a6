"""How a simulated person errs, and the random stream each of their annotations draws from.

One :class:`HumanErrorModel` describes a person whatever they draw: boxes on images
(:mod:`services.replay.annotators`) and cuboids in point clouds (:mod:`services.replay.cuboid_person`)
read the knobs that apply to them. Each (seed, frame, annotator) draws its own deterministic stream.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

SIMILAR = {"pedestrian": "cyclist", "cyclist": "pedestrian"}
MAGNITUDES = ("box_jitter", "centre_jitter", "centre_jitter_per_m", "yaw_jitter")  # sizes of errors, not rates


@dataclass(frozen=True)
class HumanErrorModel:
    """Rates (and sizes) of human mistakes (defaults: a careful but not perfect annotation team).

    Boxes miss by height in pixels; cuboids by the points the sensor put inside them (fewer than 5:
    as a box under 12 px; 5-14: as one under 32 px). ``box_jitter`` is each box edge's, or each
    cuboid side length's, sd as a share of the object's size.
    """

    miss_tiny: float = 0.25  # boxes under 12 px tall; cuboids with fewer than 5 points
    miss_small: float = 0.02  # boxes 12-32 px tall; cuboids with 5-14 points
    miss_other: float = 0.003
    box_jitter: float = 0.03  # sd of each box edge (cuboid side), as a share of the object's size
    class_confusion: float = 0.01  # between similar classes
    attribute_flip: float = 0.03
    tag_error: float = 0.01  # whole-frame labels (weather, time of day, digit)
    centre_jitter: float = 0.05  # cuboids: sd (m) of the centre along each axis, close up ...
    centre_jitter_per_m: float = 0.004  # ... plus this much per metre of range (a far object has few points)
    yaw_jitter: float = 0.02  # cuboids: sd (rad) of the heading
    yaw_flip: float = 0.01  # cuboids with fewer than 15 points: drawn facing the other way (their outline is
    # the same both ways)
    extra: float = 0.01  # cuboids: a frame where the person draws one around clutter (a bin, a trailer)


def annotator_rng(seed: int, frame_id: int, annotator: int) -> np.random.Generator:
    digest = hashlib.blake2b(f"{seed}:{frame_id}:{annotator}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))
