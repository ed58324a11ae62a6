"""What a task's frame is, for the routes that serve it: pixels (PNG) or a point cloud (PCD v0.7).

A point-cloud frame is served as a binary PCD file (:func:`services.io.pcd.pcd_bytes`: fields x, y, z,
intensity, four little-endian float32 each, metres in the frame's coordinate system); an image as PNG.
Which one a reference names is known from the reference alone, without reading the frame.
"""

from __future__ import annotations

import io
from typing import Any

from services.api.errors import invalid
from services.engine.frame_refs import Driving3dRef, parse_ref, resolve_frame
from services.engine.frames import Frame
from services.exceptions import InvalidInput
from services.io.pcd import pcd_bytes

POINT_CLOUD_REFS = (Driving3dRef,)  # the references whose frames are point clouds
PCD_MEDIA_TYPE = "application/octet-stream"  # PCD has no registered media type


def point_cloud(ref: str) -> bool:
    """Whether ``ref`` names a point cloud (False for an image, and for a reference that cannot be parsed:
    reading it says why)."""
    try:
        return isinstance(parse_ref(ref), POINT_CLOUD_REFS)
    except InvalidInput:
        return False


def frame_of(ref: str) -> Frame:
    """The frame ``ref`` names; a 422 naming the task when it cannot be read."""
    try:
        frame = resolve_frame(ref)
    except InvalidInput as exc:
        raise invalid(["path", "task_id"], f"the task's frame cannot be read: {exc}") from None
    if frame.error is not None:
        raise invalid(["path", "task_id"], f"the task's frame cannot be read: {frame.error}")
    return frame


def pcd_of(ref: str) -> bytes:
    """The binary PCD file of the point cloud ``ref`` names."""
    frame = frame_of(ref)
    if frame.points is None:
        raise invalid(["path", "task_id"], "the task's frame has no point cloud")
    return pcd_bytes(frame.points)


def png(image: Any) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image.squeeze() if image.ndim == 3 and image.shape[2] == 1 else image).save(buffer, "PNG")
    return buffer.getvalue()


def png_of(ref: str) -> bytes:
    """The PNG of the image ``ref`` names."""
    frame = frame_of(ref)
    if frame.image is None:
        raise invalid(["path", "task_id"], "the task's frame has no image")
    return png(frame.image)
