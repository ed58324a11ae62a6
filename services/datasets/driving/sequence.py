"""Synthetic driving clips: frames at :data:`FPS` of one drive, whose things move and keep their identity.

Clip ``c`` of seed ``s`` is planned from its own random stream, without
pixels: one camera, road, set of conditions and detail seed for the whole clip
(its tags and background do not change), the distance driven per frame, and
every agent's birth and motion (:mod:`services.datasets.driving.traffic`). The
plan is cached; frame ``k`` is drawn from the plan alone, so a frame rendered
alone equals the same frame rendered in a run. Labelled agents carry a track id
unique over the seed's clips; an agent with no visible pixels on a frame is not
labelled there, as in single frames.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from analysis.exceptions import InvalidInput
from services.datasets.driving.motion import FPS, NEAR, Agent, thing_at
from services.datasets.driving.occupancy import Occupancy
from services.datasets.driving.render import DrivingFrame, FrameLabels, label_scene, render_scene
from services.datasets.driving.scene import (
    Block,
    Scene,
    Thing,
    sample_blocks,
    sample_camera,
    sample_conditions,
    sample_road,
)
from services.datasets.driving.traffic import Setting, streams

PLAN_SALT = 0x5E0  # keeps a clip's random stream apart from the single frames' ``[seed, index]``
TRACKS_PER_CLIP = 100_000  # track ids of clip c (0-based) lie in (c + 1) * TRACKS_PER_CLIP + [1, ...)
MAX_LENGTH = 10_000  # frames per clip: keeps a clip's track ids within its range
EGO_SPEED = (7.0, 13.0)  # m/s, urban driving
ATTEMPTS = 6  # draws per newcomer before giving up on it (its ground stayed taken)
BUSY_SHAPE = 6.0  # clips differ in how crowded they are (mean 1, sd 0.41), less than single frames do
BLOCKS_AHEAD = 160.0  # facades are drawn this far ahead (single frames: about 150 m)


@dataclass(frozen=True)
class ClipPlan:
    """Everything needed to draw any frame of a clip; ``spans`` are each agent's first and last frame."""

    seed: int
    clip: int
    length: int
    base: Scene  # camera, road, conditions, blocks and detail seed; no things
    ego_speed: float  # m/s
    agents: tuple[Agent, ...]
    spans: tuple[tuple[int, int], ...]

    def travelled(self, frame: int) -> float:
        """Metres driven from the clip's first frame to ``frame``."""
        return self.ego_speed * frame / FPS


def track_id(clip: int, n: int) -> int:
    """The track id of the ``n``-th (1-based) agent of clip ``clip`` (0-based); clutter takes no id, so
    labelled agents' ids have gaps."""
    return (clip + 1) * TRACKS_PER_CLIP + n


def global_index(plan: ClipPlan, frame: int) -> int:
    """Frame ``frame`` of the clip as a 0-based index over all clips of the seed (clips share one length)."""
    return plan.clip * plan.length + frame


@functools.lru_cache(maxsize=64)
def plan_clip(seed: int, clip: int, length: int) -> ClipPlan:
    """The plan of clip ``clip`` (0-based) of ``length`` frames of data set ``seed``."""
    if not 1 <= length <= MAX_LENGTH:
        raise InvalidInput(f"driving clips of seed {seed}", "length",
                           f"expected 1 to {MAX_LENGTH} frames, got {length}")
    rng = np.random.default_rng([seed, clip, PLAN_SALT])
    conditions, camera, road = sample_conditions(rng), sample_camera(rng), sample_road(rng)
    ego_speed, busy = float(rng.uniform(*EGO_SPEED)), float(rng.gamma(BUSY_SHAPE, 1 / BUSY_SHAPE))
    blocks = sample_blocks(rng, road, until=150.0 + ego_speed * length / FPS)
    base = Scene(0, camera, road, conditions, (), blocks, int(rng.integers(2**62)))
    agents, spans = _populate(rng, Setting(road, camera, conditions, ego_speed, busy), clip, length)
    return ClipPlan(seed, clip, length, base, ego_speed, agents, spans)


def _populate(
    rng: np.random.Generator, setting: Setting, clip: int, length: int
) -> tuple[tuple[Agent, ...], tuple[tuple[int, int], ...]]:
    """Every agent of the clip in order of birth, and when each exists; labelled ones get track ids."""
    occupancy = Occupancy(setting.road, length)
    roles = streams(rng, setting)
    agents: list[Agent] = []
    spans: list[tuple[int, int]] = []
    for frame in range(length):
        for stream in roles:
            for _ in range(stream.births(rng, frame)):
                for _ in range(ATTEMPTS):
                    agent = stream.make(rng, stream.depth(rng, frame), frame)
                    span = occupancy.place(agent)
                    if span is not None:
                        if agent.look.category_id:
                            agent = _identified(agent, track_id(clip, len(spans) + 1))
                        agents.append(agent)
                        spans.append(span)
                        break
    return tuple(agents), tuple(spans)


def _identified(agent: Agent, track: int) -> Agent:
    return dataclasses.replace(agent, look=dataclasses.replace(agent.look, track=track))


def clip_scene(plan: ClipPlan, frame: int) -> Scene:
    """The scene of frame ``frame`` (0-based) of the clip: things where they are then, far to near."""
    if not 0 <= frame < plan.length:
        raise IndexError(f"clip {plan.clip} has no frame {frame}")
    base, travelled = plan.base, plan.travelled(frame)
    road = dataclasses.replace(base.road, dash_phase=base.road.dash_phase + travelled, travelled=travelled)
    things = [
        thing_at(a, base.road, frame) for a, (b, e) in zip(plan.agents, plan.spans, strict=True) if b <= frame <= e
    ]
    seen = sorted((t for t in things if _may_show(plan, t)), key=lambda t: -t.z)
    return Scene(global_index(plan, frame), base.camera, road, base.conditions, tuple(seen),
                 _blocks_at(base.blocks, travelled), base.detail_seed, rain_seed=base.detail_seed + frame)


def _may_show(plan: ClipPlan, t: Thing) -> bool:
    """False for a thing so far to the side that none of it (nor its light) can be in the picture."""
    cam = plan.base.camera
    return abs(t.x) < cam.cx / cam.focal * t.z + max(t.width, t.height) + 3.0


def _blocks_at(blocks: tuple[Block, ...], travelled: float) -> tuple[Block, ...]:
    moved = (dataclasses.replace(b, z0=b.z0 - travelled, z1=b.z1 - travelled) for b in blocks)
    return tuple(b for b in moved if b.z1 > NEAR and b.z0 < BLOCKS_AHEAD)


def render_clip_frame(seed: int, clip: int, length: int, frame: int) -> DrivingFrame:
    """Frame ``frame`` of clip ``clip`` of data set ``seed``: pixels and labels with track ids."""
    return render_scene(clip_scene(plan_clip(seed, clip, length), frame))


def label_clip_frame(seed: int, clip: int, length: int, frame: int) -> FrameLabels:
    """The labels of :func:`render_clip_frame` without its pixels."""
    return label_scene(clip_scene(plan_clip(seed, clip, length), frame))
