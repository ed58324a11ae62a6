"""Frames rendered with both annotations overlaid: manual in green, machine in red."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

HUMAN = (40, 220, 90)
MACHINE = (255, 60, 60)


@dataclass(frozen=True, eq=False)
class Overlay:
    """One frame and the two annotations of it to draw (the page captions the picture, not the picture itself)."""

    image: np.ndarray  # (H, W, 3) uint8
    human: Sequence[tuple[Sequence[float], str]]  # (xywh box, label)
    machine: Sequence[tuple[Sequence[float], str]]


def render_overlay(item: Overlay, scale: int = 2) -> bytes:
    """PNG bytes of the frame enlarged ``scale`` times with both sets of boxes and labels."""
    h, w = item.image.shape[:2]
    picture = Image.fromarray(item.image).convert("RGB").resize((w * scale, h * scale), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(picture)
    for boxes, colour, dash in ((item.human, HUMAN, 0), (item.machine, MACHINE, 1)):
        for box, label in boxes:
            x, y, bw, bh = (v * scale for v in box)
            draw.rectangle([x, y, x + bw, y + bh], outline=colour, width=2 - dash)
            draw.text((x + 2, y - 11 if y > 12 else y + bh + 1), label, fill=colour)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()
