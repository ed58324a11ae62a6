"""Ground occupied by a clip's agents frame by frame, so that no two ever stand in one place.

Placing an agent checks its footprint at every frame it lives against every
agent placed before it and the camera's own car: cars in a lane never drive
through each other, nobody walks into a parked car, and the camera's car hits
nothing. What fails the check is not placed (and another draw is tried).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from services.datasets.driving.motion import Agent, alive_at, depth_at, footprint_offsets, lateral_at
from services.datasets.driving.scene import Road

EGO_BOX = (-1.1, 1.1, -4.0, 2.5)  # the camera's car on the ground: x0, x1, z0, z1 in metres from the lens
Boxes = npt.NDArray[np.float64]  # (frames, 4): x0, x1, z0, z1 per frame, NaN where the agent does not exist


class Occupancy:
    """Footprints of the agents placed so far over a clip of ``length`` frames."""

    def __init__(self, road: Road, length: int) -> None:
        self.road = road
        self.frames = np.arange(length, dtype=np.int64)
        self._boxes = np.full((64, length, 4), np.nan)
        self._spans = np.zeros((64, 2), dtype=np.int64)
        self._n = 0
        self._add(np.tile(np.array(EGO_BOX), (length, 1)), (0, length - 1))

    def place(self, agent: Agent) -> tuple[int, int] | None:
        """Take the agent's ground if it is free at every frame it exists, and return the first and last of
        those frames; None if it is not free (or the agent never exists)."""
        boxes, span = self.footprints(agent)
        if span is None:
            return None
        b, e = span
        spans = self._spans[: self._n]
        rows = np.flatnonzero((spans[:, 0] <= e) & (spans[:, 1] >= b))
        other, mine = self._boxes[rows, b : e + 1], boxes[b : e + 1]
        hit = (other[..., 0] < mine[:, 1]) & (mine[:, 0] < other[..., 1])
        hit &= (other[..., 2] < mine[:, 3]) & (mine[:, 2] < other[..., 3])
        if hit.any():
            return None
        self._add(boxes, span)
        return span

    def footprints(self, agent: Agent) -> tuple[Boxes, tuple[int, int] | None]:
        """The agent's footprint per frame and the first and last frame it exists (None: never)."""
        alive = alive_at(agent, self.frames)
        live = np.flatnonzero(alive)
        z = depth_at(agent, self.frames)
        x = self.road.curve * z * z - self.road.ego_x + lateral_at(agent, self.frames)
        x0, x1, z0, z1 = footprint_offsets(agent.look)
        boxes = np.stack([x + x0, x + x1, z + z0, z + z1], axis=1)
        boxes[~alive] = np.nan
        return boxes, None if live.size == 0 else (int(live[0]), int(live[-1]))

    def _add(self, boxes: Boxes, span: tuple[int, int]) -> None:
        if self._n == len(self._spans):
            self._boxes = np.concatenate([self._boxes, np.full_like(self._boxes, np.nan)])
            self._spans = np.concatenate([self._spans, np.zeros_like(self._spans)])
        self._boxes[self._n], self._spans[self._n] = boxes, span
        self._n += 1
