"""Frame references, the ``image`` field of messages: where a frame's pixels (and, if known, its truth) are.

- ``synthetic://driving?seed=S#I``: frame ``I`` (0-based) of the driving scenes of seed ``S``;
- ``synthetic://driving3d?seed=S#I``: frame ``I`` (0-based) of the LiDAR driving scenes of seed ``S``, a
  point cloud (:mod:`services.datasets.driving3d`);
- ``synthetic://driving-seq?seed=S&length=L#I``: frame ``I`` (0-based over all clips) of the driving clips of
  ``L`` frames of seed ``S`` (:mod:`services.engine.sequence_source`): frame ``I % L`` of clip ``I // L``;
- ``sklearn-digits://#ID``: the scikit-learn digit whose frame id is ``ID`` (its index + 1);
- ``file:///absolute/path.png``: an image file, read with Pillow as RGB.

A malformed reference raises :class:`InvalidInput` naming the reference and
the part at fault. A well-formed ``file://`` reference whose file cannot be
read gives a frame carrying the ``error`` instead, as every frame source does,
so a worker fails that frame and goes on. Ground truth is known for synthetic
and digits frames; the simulated annotators read it without rendering pixels.
A point-cloud frame's truth is its cuboids as tagged ``cuboid3d`` geometry
(:mod:`services.datasets.driving3d.records`), from a sweep of the frame.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from analysis.exceptions import InvalidInput
from services.datasets import digits, driving3d
from services.datasets.driving import TIME_OF_DAY, WEATHER, FrameLabels, frame_records, label_frame, render_frame
from services.datasets.driving.coco import categories, file_name, image_id
from services.datasets.driving.sequence import MAX_LENGTH
from services.datasets.driving3d.records import TAG_VALUES as driving3d_tag_values
from services.datasets.driving3d.records import categories as driving3d_categories
from services.datasets.driving3d.records import frame_records as driving3d_records
from services.engine.frames import Frame
from services.engine.sequence_source import sequence_frame, sequence_frame_records
from services.engine.sources import load_image_frame, point_frame

FORMS = ("synthetic://driving?seed=S#I, synthetic://driving3d?seed=S#I, synthetic://driving-seq?seed=S&length=L#I, "
         "sklearn-digits://#ID or file:///absolute/path.png")
DIGIT_VALUES = [str(d) for d in range(10)]


@dataclass(frozen=True)
class SyntheticRef:
    seed: int
    index: int


@dataclass(frozen=True)
class Driving3dRef:
    """Frame ``index`` (0-based) of the LiDAR driving scenes of ``seed``."""

    seed: int
    index: int


@dataclass(frozen=True)
class SequenceRef:
    """Frame ``index`` (0-based over all clips) of the driving clips of ``length`` frames of ``seed``."""

    seed: int
    length: int
    index: int

    @property
    def clip(self) -> int:
        """The clip, 0-based (its COCO video id is ``clip + 1``)."""
        return self.index // self.length

    @property
    def frame_index(self) -> int:
        return self.index % self.length


@dataclass(frozen=True)
class DigitsRef:
    frame_id: int


@dataclass(frozen=True)
class FileRef:
    path: Path


FrameRef = SyntheticRef | Driving3dRef | SequenceRef | DigitsRef | FileRef


@dataclass(frozen=True)
class FrameTruth:
    """A frame's ground truth as COCO records: its image record (with ``tags``) and its annotation records.

    ``categories`` are the data set's COCO categories; ``tag_values`` every value
    each image tag can take, in the data set's canonical order.
    """

    image: dict[str, Any]
    objects: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    tag_values: dict[str, list[str]]

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.image.get("tags", {}))


def synthetic_ref(seed: int, index: int) -> str:
    return f"synthetic://driving?seed={seed}#{index}"


def driving3d_ref(seed: int, index: int) -> str:
    return f"synthetic://driving3d?seed={seed}#{index}"


def sequence_ref(seed: int, length: int, index: int) -> str:
    return f"synthetic://driving-seq?seed={seed}&length={length}#{index}"


def digits_ref(frame_id: int) -> str:
    return f"sklearn-digits://#{frame_id}"


def file_ref(path: str | Path) -> str:
    return Path(path).resolve().as_uri()


def parse_ref(ref: str) -> FrameRef:
    """The frame a reference names; :class:`InvalidInput` naming the reference if it is malformed."""
    scheme, sep, _ = ref.partition("://")
    if not sep or scheme not in PARSERS:
        raise InvalidInput(ref, "", f"not a frame reference (expected {FORMS})")
    return PARSERS[scheme](ref)


def resolve_frame(ref: str, frame_id: int | None = None) -> Frame:
    """The frame's pixels (or points) as the engine takes them; ``frame_id`` overrides the id the reference implies."""
    parsed = parse_ref(ref)
    if isinstance(parsed, Driving3dRef):
        return point_frame(parsed.index, driving3d.render_frame(parsed.seed, parsed.index), frame_id)
    if isinstance(parsed, SyntheticRef):
        rendered = render_frame(parsed.seed, parsed.index)
        fid = image_id(parsed.index) if frame_id is None else frame_id
        return Frame(fid, rendered.image, file_name(parsed.index), meta={"tags": dict(rendered.labels.tags)})
    if isinstance(parsed, SequenceRef):
        return sequence_frame(parsed.seed, parsed.length, parsed.index, parsed.index + 1 if frame_id is None
                              else frame_id)
    if isinstance(parsed, DigitsRef):
        data, i = digits.load_split("all"), parsed.frame_id - 1
        label = int(data.labels[i])
        fid = parsed.frame_id if frame_id is None else frame_id
        return Frame(fid, data.images[i], digits.file_name(parsed.frame_id),
                     meta={"label": label, "tags": {"digit": str(label)}})
    return load_image_frame(0 if frame_id is None else frame_id, parsed.path, str(parsed.path))


def frame_truth(ref: str) -> FrameTruth:
    """The ground truth of a synthetic or digits frame, without rendering its pixels."""
    parsed = parse_ref(ref)
    if isinstance(parsed, SyntheticRef):
        image, objects = frame_records(_driving_labels(parsed.seed, parsed.index))
        return FrameTruth(image, objects, categories(), {"weather": list(WEATHER), "time_of_day": list(TIME_OF_DAY)})
    if isinstance(parsed, SequenceRef):
        image, objects = sequence_frame_records(parsed.seed, parsed.length, parsed.index)
        return FrameTruth(image, objects, categories(), {"weather": list(WEATHER), "time_of_day": list(TIME_OF_DAY)})
    if isinstance(parsed, DigitsRef):
        label = str(int(digits.load_split("all").labels[parsed.frame_id - 1]))
        image = {"id": parsed.frame_id, "width": digits.SIZE, "height": digits.SIZE,
                 "file_name": digits.file_name(parsed.frame_id), "tags": {"digit": label}}
        return FrameTruth(image, [], [], {"digit": list(DIGIT_VALUES)})
    if isinstance(parsed, Driving3dRef):
        image, objects = driving3d_records(_driving3d_labels(parsed.seed, parsed.index))
        return FrameTruth(image, objects, driving3d_categories(), dict(driving3d_tag_values))
    raise InvalidInput(ref, "", "no ground truth is known for image files (only for synthetic and digits frames)")


@functools.lru_cache(maxsize=4096)
def _driving_labels(seed: int, index: int) -> FrameLabels:
    """Labels of one driving frame; rendering keeps no state per seed, so the cache is per frame."""
    return label_frame(seed, index)


@functools.lru_cache(maxsize=1024)
def _driving3d_labels(seed: int, index: int) -> driving3d.LidarLabels:
    """Labels of one LiDAR frame: seeing which objects the sensor hit takes a whole sweep, so they are kept."""
    return driving3d.label_frame(seed, index)


def _synthetic(ref: str) -> SyntheticRef | Driving3dRef | SequenceRef:
    parts = urlsplit(ref)
    if parts.netloc == "driving-seq" and parts.path in ("", "/"):
        return _sequence(ref)
    if parts.netloc not in ("driving", "driving3d") or parts.path not in ("", "/"):
        raise InvalidInput(ref, "", f"unknown synthetic data set '{parts.netloc}{parts.path}' (expected driving, "
                           "driving3d or driving-seq)")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(params) - {"seed"})
    if unknown:
        raise InvalidInput(ref, unknown[0], "unknown parameter (expected seed)")
    if "seed" not in params:
        raise InvalidInput(ref, "seed", f"missing (expected synthetic://{parts.netloc}?seed=S#I)")
    seed, index = _natural(ref, "seed", params["seed"]), _natural(ref, "frame", parts.fragment)
    return Driving3dRef(seed, index) if parts.netloc == "driving3d" else SyntheticRef(seed, index)


def _sequence(ref: str) -> SequenceRef:
    parts = urlsplit(ref)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(params) - {"seed", "length"})
    if unknown:
        raise InvalidInput(ref, unknown[0], "unknown parameter (expected seed and length)")
    for name in ("seed", "length"):
        if name not in params:
            raise InvalidInput(ref, name, "missing (expected synthetic://driving-seq?seed=S&length=L#I)")
    length = _natural(ref, "length", params["length"])
    if not 1 <= length <= MAX_LENGTH:
        raise InvalidInput(ref, "length", f"expected 1 to {MAX_LENGTH} frames per clip, got {length}")
    return SequenceRef(_natural(ref, "seed", params["seed"]), length, _natural(ref, "frame", parts.fragment))


def _digits(ref: str) -> DigitsRef:
    parts = urlsplit(ref)
    if parts.netloc or parts.path not in ("", "/") or parts.query:
        raise InvalidInput(ref, "", "expected sklearn-digits://#ID")
    frame_id, count = _natural(ref, "frame", parts.fragment), digits_count()
    if not 1 <= frame_id <= count:
        raise InvalidInput(ref, "frame", f"no digit {frame_id} (ids run from 1 to {count})")
    return DigitsRef(frame_id)


def _file(ref: str) -> FileRef:
    parts = urlsplit(ref)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise InvalidInput(ref, "", "expected an absolute path, file:///absolute/path.png")
    return FileRef(Path(unquote(parts.path)))


def _natural(ref: str, what: str, text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        shown = f"'{text}'" if text else "nothing"
        raise InvalidInput(ref, what, f"expected an integer >= 0, got {shown}")
    return int(text)


@functools.cache
def digits_count() -> int:
    """How many digits scikit-learn bundles (ids 1..count)."""
    return len(digits.load_split("all"))


PARSERS: dict[str, Callable[[str], FrameRef]] = {"synthetic": _synthetic, "sklearn-digits": _digits, "file": _file}
