"""Frames as the engine sees them, and the contract every frame source fulfils."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float32]  # (N, 4): x, y, z, intensity


@dataclass(frozen=True, eq=False)
class Frame:
    """One frame to annotate: pixels as an (H, W, C) uint8 array, C = 3 (RGB) or 1, or a point cloud.

    ``points`` is a LiDAR sweep as an (N, 4) float32 array (x, y, z, intensity; metres in the
    coordinate system its source names, e.g. ``vehicle-iso8855``); a point-cloud frame has
    ``image=None``, and an image-only model fails it (no pixels) without stopping the run.
    A frame that could not be loaded carries neither and an ``error`` saying why; runners pass
    such frames through as failed results instead of stopping the run.
    """

    frame_id: int
    image: Image | None
    file_name: str = ""
    error: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    points: Points | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and (self.image is not None or self.points is not None)


class FrameSource(Protocol):
    """A finite, re-iterable collection of frames, optionally with their ground truth."""

    name: str

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Frame]: ...

    def ground_truth(self) -> dict[str, Any] | None:
        """The ground-truth document of these frames, if the source knows it: COCO for images,
        OpenLABEL (cuboids) for point clouds."""
        ...
