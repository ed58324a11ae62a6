"""Writing a frame source to a folder: one PNG per frame at its ``file_name`` and ``annotations.json``.

Works for any :class:`~services.engine.frames.FrameSource` whose frames carry
relative file names (the built-in data sets do), so an export read back
through the COCO-file source gives the same frames bit for bit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from analysis.exceptions import InvalidInput
from services.engine.frames import Frame, FrameSource
from services.io.files import write_json

ANNOTATIONS = "annotations.json"
PNG_COMPRESSION = 1  # zlib level: the sensor noise leaves little to compress, level 6 only costs 2.5x the time


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: frame and object counts and where."""

    frames: int
    objects: dict[str, int]
    out: Path
    folders: tuple[str, ...]
    failed: list[str] = field(default_factory=list)


def export_source(source: FrameSource, out: Path, progress: Callable[[int], object] | None = None) -> ExportSummary:
    """Write every frame of ``source`` under ``out`` and its ground truth to ``out/annotations.json``.

    ``progress`` is called with 1 after each frame. Frames that fail to load are
    skipped and listed in the summary; their image records stay in the ground truth.
    A source without ground truth gets one listing its images and no objects.
    """
    out.mkdir(parents=True, exist_ok=True)
    root = out.resolve()
    folders: set[str] = set()
    failed: list[str] = []
    images: list[dict[str, Any]] = []
    for frame in source:
        if frame.image is None or frame.error is not None:
            failed.append(frame.error or f"frame {frame.frame_id}: no image")
        else:
            path = _target(root, frame, source.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            save_png(frame.image, path)
            folders.add(str(path.parent.relative_to(root)))
            images.append(_image_record(frame, frame.image))
        if progress is not None:
            progress(1)
    doc = source.ground_truth() or {"images": images, "annotations": [], "categories": []}
    write_json(out / ANNOTATIONS, doc, indent=False)
    return ExportSummary(len(images), object_counts(doc), out, tuple(sorted(folders)), failed)


def save_png(image: np.ndarray[Any, np.dtype[np.uint8]], path: Path) -> None:
    """A lossless PNG: (H, W, 3) as RGB, (H, W, 1) as greyscale."""
    pixels = image[..., 0] if image.shape[-1] == 1 else image
    Image.fromarray(np.ascontiguousarray(pixels)).save(path, compress_level=PNG_COMPRESSION)


def object_counts(doc: dict[str, Any]) -> dict[str, int]:
    """Annotations per category name, in category order (zero counts included)."""
    names = {c["id"]: c["name"] for c in doc.get("categories", [])}
    counts = Counter(names.get(a["category_id"], str(a["category_id"])) for a in doc.get("annotations", []))
    ordered = {name: counts.get(name, 0) for name in names.values()}
    ordered.update((name, n) for name, n in counts.items() if name not in ordered)
    return ordered


def _file_name(frame: Frame) -> str:
    return frame.file_name or f"frames/{frame.frame_id:06d}.png"


def _target(root: Path, frame: Frame, source: str) -> Path:
    """Where a frame goes; a file name that is absolute or climbs out of the folder is refused."""
    name = _file_name(frame)
    path = (root / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(root):
        raise InvalidInput(source, f"frame {frame.frame_id}", f"file name {name!r} would be written outside {root}")
    return path


def _image_record(frame: Frame, image: np.ndarray[Any, np.dtype[np.uint8]]) -> dict[str, Any]:
    h, w = image.shape[:2]
    return {"id": frame.frame_id, "width": int(w), "height": int(h), "file_name": _file_name(frame)}
