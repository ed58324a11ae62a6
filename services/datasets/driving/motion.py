"""Agents of a driving clip: a look (a :class:`Thing`), where and when it is born, and how it moves.

Motion is in road coordinates seen from the moving camera: ``z`` metres ahead,
``d`` metres from the road's centre line (drawn at ``x = road.centre(z) + d``).
Every motion is linear in time, the sideways drift of a crossing ending at a
kerb, so an agent's state at frame ``k`` is a closed form of its state at
birth: any frame can be computed alone, without stepping through the others.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.datasets.driving.placement import footprint
from services.datasets.driving.scene import Road, Thing

FPS = 10.0  # frames per second of a clip
NEAR, FAR = 1.0, 120.0  # an agent exists while this many metres ahead of the camera (single frames reach 110 m)
SIDE_LIMIT = 40.0  # ... and at most this far from the road's centre line
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Agent:
    """A thing of a clip; ``look``'s own ``x``, ``z`` and ``pose`` are those at birth."""

    look: Thing
    born: int  # frame of birth
    d: float  # lateral offset from the centre line at birth
    closing: float  # dz/dt in m/s, the camera's own speed included (negative: coming closer)
    drift: float = 0.0  # dd/dt in m/s while crossing
    drift_for: float = math.inf  # seconds the drift lasts
    gait: float = 0.0  # pose cycles per second while walking; 0 keeps the pose
    walk_for: float = math.inf  # seconds the gait lasts

    @property
    def z(self) -> float:
        return self.look.z


def seconds(agent: Agent, frames: Ints) -> Floats:
    return (frames - agent.born).astype(np.float64) / FPS


def depth_at(agent: Agent, frames: Ints) -> Floats:
    return agent.z + agent.closing * seconds(agent, frames)


def lateral_at(agent: Agent, frames: Ints) -> Floats:
    return agent.d + agent.drift * np.clip(seconds(agent, frames), 0.0, agent.drift_for)


def alive_at(agent: Agent, frames: Ints) -> npt.NDArray[np.bool_]:
    """Whether the agent exists at each frame: born, and within the simulated stretch of road."""
    z, d = depth_at(agent, frames), lateral_at(agent, frames)
    alive: npt.NDArray[np.bool_] = (frames >= agent.born) & (z >= NEAR) & (z <= FAR) & (np.abs(d) <= SIDE_LIMIT)
    return alive


def pose_at(agent: Agent, frame: int) -> float:
    """A walker's gait swings smoothly to and fro; anything else keeps the pose it was born with."""
    if agent.gait == 0.0:
        return agent.look.pose
    t = min(max((frame - agent.born) / FPS, 0.0), agent.walk_for)
    phase = math.asin(2 * agent.look.pose - 1)
    return 0.5 + 0.5 * math.sin(phase + 2 * math.pi * agent.gait * t)


def thing_at(agent: Agent, road: Road, frame: int) -> Thing:
    """The agent as drawn at ``frame`` (which it must be alive at)."""
    at = np.array([frame], dtype=np.int64)
    z, d = float(depth_at(agent, at)[0]), float(lateral_at(agent, at)[0])
    return dataclasses.replace(agent.look, x=road.centre(z) + d, z=z, pose=pose_at(agent, frame))


def footprint_offsets(look: Thing) -> tuple[float, float, float, float]:
    """The ground area a thing occupies, relative to where it stands: x0, x1, z0, z1."""
    x0, x1, z0, z1 = footprint(dataclasses.replace(look, x=0.0, z=0.0))
    return x0, x1, z0, z1
