"""Frames to a normalised input batch, checking each frame against the model's input spec."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from services.engine.frames import Frame
from services.engine.spec import InputSpec


class BadFrame(ValueError):
    """A frame whose pixels the model cannot take (wrong channels, empty, wrong dtype)."""


@dataclass(frozen=True)
class Batch:
    """Model input for a batch of frames, and the scale from input pixels back to frame pixels."""

    tensor: torch.Tensor  # [B, C, H, W] float32 on the device
    scale: np.ndarray  # [B, 2]: frame width / input width, frame height / input height
    size: np.ndarray  # [B, 2]: frame width, frame height


def check_frame(frame: Frame, spec: InputSpec, *, resize: bool) -> np.ndarray:
    """The frame's pixels as (H, W, C) uint8, or BadFrame saying what is wrong with them."""
    image = frame.image
    if image is None:
        if frame.error is None and frame.points is not None:
            raise BadFrame("no pixels: this model takes images; the frame is a point cloud")
        raise BadFrame(frame.error or "no pixels")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.dtype != np.uint8 or 0 in image.shape:
        raise BadFrame(f"expected an (H, W, {spec.channels}) uint8 image, got {image.dtype} array of shape "
                       f"{tuple(image.shape)}")
    if image.shape[2] != spec.channels:
        raise BadFrame(f"expected {spec.channels} channel(s), got shape {tuple(image.shape)}")
    if not resize and image.shape[:2] != (spec.height, spec.width):
        raise BadFrame(f"expected a {spec.height}x{spec.width} image, got shape {tuple(image.shape)}")
    return image


def to_batch(
    images: list[np.ndarray], spec: InputSpec, device: torch.device,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> Batch:
    """Resize (bilinear) where needed, scale and normalise; one stacked tensor.

    Frames at the input size (the usual case) are stacked as uint8 and converted
    once; the (B, H, W, C) pixels viewed as (B, C, H, W) already are channels-last.
    """
    if all(im.shape[:2] == (spec.height, spec.width) for im in images):
        pixels = torch.from_numpy(np.stack(images)).to(device).permute(0, 3, 1, 2)  # a copy: frames may be read-only
        x = pixels.contiguous(memory_format=memory_format).float()
    else:
        x = torch.stack([_resized(im, spec) for im in images]).to(device).contiguous(memory_format=memory_format)
    mean = torch.tensor(spec.mean, device=device).view(1, -1, 1, 1)
    std = torch.tensor(spec.std, device=device).view(1, -1, 1, 1)
    x.mul_(spec.scale).sub_(mean).div_(std)  # in place on the batch's own copy: (x · scale − mean) / std
    size = np.array([[im.shape[1], im.shape[0]] for im in images], dtype=np.float64)
    return Batch(x, size / np.array([spec.width, spec.height], dtype=np.float64), size)


def _resized(image: np.ndarray, spec: InputSpec) -> torch.Tensor:
    t = torch.tensor(image, dtype=torch.float32).permute(2, 0, 1)
    if t.shape[1:] != (spec.height, spec.width):
        t = F.interpolate(t[None], size=(spec.height, spec.width), mode="bilinear", align_corners=False)[0]
    return t
