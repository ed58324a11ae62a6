"""Frame sources, opened from one string: where the engine's frames come from.

``open_source`` accepts

- ``synthetic://driving?seed=S&n=N``: rendered driving scenes (defaults seed 0, n 100);
- ``synthetic://driving3d?seed=S&n=N``: LiDAR point clouds of driving scenes (defaults seed 0, n 100;
  :mod:`services.datasets.driving3d`): frames carry ``points``, no image; the ground truth is an
  OpenLABEL document of cuboids;
- ``synthetic://driving-seq?seed=S&clips=C&length=L``: rendered driving clips at 10 fps with track ids
  (defaults seed 0, clips 4, length 60: :mod:`services.engine.sequence_source`);
- ``sklearn-digits://?split=SPLIT``: scikit-learn's digits (train, calibration, test
  (default) or all; ``&n=N`` keeps the first N; ``&second_camera=S`` takes a share S of the
  frames from a second camera whose crop sits one pixel lower, tagged ``camera=b``, the
  others ``camera=a``: :func:`services.datasets.digits.second_camera`);
- a COCO ``.json`` listing image files, resolved from the JSON file's folder;
- an ``.npz`` holding ``images`` (N, H, W[, C]) uint8 and optionally ``ids``.

A spec that cannot be opened raises :class:`InvalidInput` naming the spec and
the problem. Once open, a frame whose file cannot be read becomes a frame with
an ``error`` instead of an exception, so a run goes on with the others.
"""

from __future__ import annotations

import math
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from analysis.annotations import checks
from analysis.exceptions import InvalidInput
from services.datasets import digits, driving3d
from services.datasets.driving import FrameLabels, frame_records, label_frame, render_frame
from services.datasets.driving import ground_truth as driving_ground_truth
from services.datasets.driving.coco import file_name, image_id
from services.engine.frames import Frame, FrameSource, Image
from services.engine.sequence_source import DEFAULT_CLIPS, DEFAULT_LENGTH, SyntheticDrivingSequenceSource
from services.io.files import read_json

SPECS = ("synthetic://driving?seed=S&n=N, synthetic://driving3d?seed=S&n=N, "
         "synthetic://driving-seq?seed=S&clips=C&length=L, sklearn-digits://?split=SPLIT, a COCO .json or an .npz file")


def open_source(spec: str) -> FrameSource:
    """The frame source a spec names (see the module documentation)."""
    scheme, sep, _ = spec.partition("://")
    if sep:
        opener = SCHEMES.get(scheme)
        if opener is None:
            raise InvalidInput(spec, "", f"unknown scheme '{scheme}://' (expected {SPECS})")
        return opener(spec)
    file_opener = FILES.get(Path(spec).suffix.lower())
    if file_opener is None:
        raise InvalidInput(spec, "", f"not a known frame source (expected {SPECS})")
    return file_opener(Path(spec))


class _SeededFrames(ABC):
    """Frames ``0..n-1`` of a synthetic data set of ``seed`` (``synthetic://KIND?seed=S&n=N``), made lazily in order
    by ``frame``; the labels of frames made so far are kept for ``ground_truth``."""

    kind = ""

    def __init__(self, seed: int = 0, n: int = 100) -> None:
        self.seed, self.n = seed, n
        self.name = f"synthetic://{self.kind}?seed={seed}&n={n}"
        if seed < 0 or n < 0:
            raise InvalidInput(self.name, "", "seed and n must be >= 0")

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[Frame]:
        return (self.frame(i) for i in range(self.n))

    @abstractmethod
    def frame(self, index: int) -> Frame:
        """Frame ``index`` (0-based) alone; its id is ``index + 1``."""

    def _check(self, index: int) -> None:
        if not 0 <= index < self.n:
            raise IndexError(f"{self.name}: no frame {index}")


class SyntheticDrivingSource(_SeededFrames):
    """Frames ``0..n-1`` of the driving scenes of ``seed``, rendered lazily in order."""

    kind = "driving"

    def __init__(self, seed: int = 0, n: int = 100) -> None:
        super().__init__(seed, n)
        self._labels: dict[int, FrameLabels] = {}

    def frame(self, index: int) -> Frame:
        """Frame ``index`` (0-based) alone; its id is ``index + 1``."""
        self._check(index)
        rendered = render_frame(self.seed, index)
        self._labels[index] = rendered.labels
        return Frame(image_id(index), rendered.image, file_name(index), meta={"tags": dict(rendered.labels.tags)})

    def ground_truth(self) -> dict[str, Any]:
        """The COCO ground truth; labels of frames not yet rendered are computed without pixels."""
        for i in range(self.n):
            if i not in self._labels:
                self._labels[i] = label_frame(self.seed, i)
        return driving_ground_truth((frame_records(self._labels[i]) for i in range(self.n)), self.seed)


class SyntheticDriving3dSource(_SeededFrames):
    """Frames ``0..n-1`` of the LiDAR driving scenes of ``seed``, swept lazily in order: point clouds, no image."""

    kind = "driving3d"

    def __init__(self, seed: int = 0, n: int = 100) -> None:
        super().__init__(seed, n)
        self._labels: dict[int, driving3d.LidarLabels] = {}

    def frame(self, index: int) -> Frame:
        """Frame ``index`` (0-based) alone; its id is ``index + 1``."""
        self._check(index)
        swept = driving3d.render_frame(self.seed, index)
        self._labels[index] = swept.labels
        return point_frame(index, swept)

    def ground_truth(self) -> dict[str, Any]:
        """The OpenLABEL ground truth (cuboids); frames not yet swept are swept for it (seen objects only)."""
        for i in range(self.n):
            if i not in self._labels:
                self._labels[i] = driving3d.label_frame(self.seed, i)
        return driving3d.ground_truth((self._labels[i] for i in range(self.n)), self.seed)


def point_frame(index: int, swept: driving3d.LidarFrame, frame_id: int | None = None) -> Frame:
    """Frame ``index`` of a LiDAR data set as the engine takes it: points, the tags in ``meta``."""
    fid = driving3d.frame_id(index) if frame_id is None else frame_id
    return Frame(fid, None, driving3d.file_name(index), meta={"tags": dict(swept.labels.tags)}, points=swept.points)


class DigitsSource:
    """The frames of one split of :mod:`services.datasets.digits`, optionally only the first ``limit``."""

    def __init__(self, split: str = "test", limit: int | None = None, second_camera: float = 0.0) -> None:
        self._data = digits.load_split(split)
        self.split = split
        self.n = len(self._data) if limit is None else min(limit, len(self._data))
        self._camera_b = digits.second_camera(self._data.ids, second_camera) if second_camera else None
        self.name = (f"sklearn-digits://?split={split}" + ("" if limit is None else f"&n={limit}")
                     + (f"&second_camera={second_camera:g}" if second_camera else ""))

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[Frame]:
        data = self._data
        for i in range(self.n):
            fid, label = int(data.ids[i]), int(data.labels[i])
            meta: dict[str, Any] = {"label": label, "tags": {"digit": str(label)}}
            image = data.images[i]
            if self._camera_b is not None:
                meta["tags"]["camera"] = "b" if self._camera_b[i] else "a"
                image = digits.shifted_down(image) if self._camera_b[i] else image
            yield Frame(fid, image, digits.file_name(fid), meta=meta)

    def ground_truth(self) -> dict[str, Any]:
        doc = digits.ground_truth(self.split)
        doc["images"] = doc["images"][: self.n]
        return doc


class CocoFileSource:
    """The images a COCO JSON file lists, read lazily with Pillow as RGB.

    ``file_name`` is resolved from the JSON file's folder unless absolute. The
    ground truth is the document itself when it has ``annotations`` and
    ``categories``, else None.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(path)
        self._doc = read_json(self.path)
        self._images = _image_list(self._doc, self.name)

    def __len__(self) -> int:
        return len(self._images)

    def __iter__(self) -> Iterator[Frame]:
        root = self.path.parent
        return (load_image_frame(fid, root / name, name) for fid, name in self._images)

    def ground_truth(self) -> dict[str, Any] | None:
        doc: dict[str, Any] = self._doc
        return doc if "annotations" in doc and "categories" in doc else None


def _image_list(doc: Any, source: str) -> list[tuple[int, str]]:
    """``(id, file_name)`` of every image record, checked."""
    rec = checks.as_record(doc, source, "")
    items = checks.as_list(checks.field(rec, "images", source, ""), source, "images")
    images: list[tuple[int, str]] = []
    seen: set[int] = set()
    for i, item in enumerate(items):
        where = f"images[{i}]"
        image = checks.as_record(item, source, where)
        fid = checks.integer(checks.field(image, "id", source, where), source, f"{where}.id")
        name = checks.text(checks.field(image, "file_name", source, where), source, f"{where}.file_name")
        if fid in seen:
            raise InvalidInput(source, f"{where}.id", f"duplicate image id {fid}")
        if not name:
            raise InvalidInput(source, f"{where}.file_name", "is empty")
        seen.add(fid)
        images.append((fid, name))
    return images


def load_image_frame(frame_id: int, path: Path, name: str) -> Frame:
    """The frame in an image file, or a frame carrying ``error="<file>: <reason>"`` if it cannot be read."""
    try:
        with PILImage.open(path) as picture:
            image: Image = np.asarray(picture.convert("RGB"), dtype=np.uint8)
    except FileNotFoundError:
        return Frame(frame_id, None, name, error=f"{path}: no such file")
    except IsADirectoryError:
        return Frame(frame_id, None, name, error=f"{path}: is a directory, expected an image file")
    except PermissionError:
        return Frame(frame_id, None, name, error=f"{path}: permission denied")
    except UnidentifiedImageError:
        return Frame(frame_id, None, name, error=f"{path}: not an image file (unrecognised format)")
    except Exception as exc:  # Pillow's decoders raise OSError, SyntaxError, ValueError, struct.error...
        return Frame(frame_id, None, name, error=f"{path}: corrupt or truncated image ({_one_line(exc)})")
    return Frame(frame_id, image, name)


class NumpySource:
    """Frames from arrays in memory: a list of (H, W[, C]) uint8 images or one (N, H, W[, C]) array.

    Frame ids are ``ids`` if given, else 1..N; there is no ground truth.
    """

    def __init__(
        self, images: npt.NDArray[Any] | Sequence[npt.NDArray[Any]], ids: npt.ArrayLike | None = None,
        name: str = "numpy",
    ) -> None:
        self.name = name
        self._images = [_as_image(a, name, f"images[{i}]") for i, a in enumerate(_split_frames(images, name))]
        self._ids = _frame_ids(ids, len(self._images), name)

    def __len__(self) -> int:
        return len(self._images)

    def __iter__(self) -> Iterator[Frame]:
        return (Frame(fid, image, f"frames/{fid:06d}.png") for fid, image in zip(self._ids, self._images, strict=True))

    def ground_truth(self) -> None:
        return None


def _split_frames(images: npt.NDArray[Any] | Sequence[npt.NDArray[Any]], name: str) -> list[npt.NDArray[Any]]:
    if not isinstance(images, np.ndarray):
        return list(images)
    if images.dtype != np.uint8:
        raise InvalidInput(name, "images", f"expected uint8 pixels, got {images.dtype}")
    if images.ndim not in (3, 4):
        raise InvalidInput(name, "images", f"expected shape (N, H, W) or (N, H, W, C), got {images.shape}")
    return list(images)


def _as_image(a: Any, name: str, where: str) -> Image:
    image = np.asarray(a)
    if image.ndim == 2:
        image = image[..., None]
    ok = image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] in (1, 3) and 0 not in image.shape
    if not ok:
        raise InvalidInput(name, where, f"expected a uint8 (H, W), (H, W, 1) or (H, W, 3) image, "
                           f"got {image.dtype} {image.shape}")
    return image


def _frame_ids(ids: npt.ArrayLike | None, n: int, name: str) -> list[int]:
    if ids is None:
        return list(range(1, n + 1))
    values = np.asarray(ids)
    if values.dtype.kind not in "iu" or values.shape != (n,):
        raise InvalidInput(name, "ids", f"expected {n} integers, got {values.dtype} {values.shape}")
    if len(np.unique(values)) != n:
        raise InvalidInput(name, "ids", "frame ids must be unique")
    return [int(v) for v in values]


def npz_source(path: str | Path) -> NumpySource:
    """Frames stored in an ``.npz``: ``images`` (N, H, W[, C]) uint8 and optional ``ids`` (N,)."""
    path, name = Path(path), str(path)
    if not path.is_file():
        raise InvalidInput(name, "", "is a directory, expected a file" if path.is_dir() else "no such file")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidInput(name, "", f"not a readable .npz archive ({_one_line(exc)})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise InvalidInput(name, "", "holds a single array, expected an .npz archive with 'images'")
    with data:
        if "images" not in data.files:
            raise InvalidInput(name, "", f"no 'images' array (found {', '.join(data.files) or 'none'})")
        images, ids = data["images"], data["ids"] if "ids" in data.files else None
    return NumpySource(images, ids, name=name)


def _synthetic(spec: str) -> FrameSource:
    parts = urlsplit(spec)
    if parts.netloc == "driving-seq" and parts.path in ("", "/"):
        return _driving_clips(spec, parts.query)
    if parts.netloc not in ("driving", "driving3d") or parts.path not in ("", "/"):
        raise InvalidInput(spec, "", f"unknown synthetic data set '{parts.netloc}{parts.path}' "
                           "(expected driving, driving3d or driving-seq)")
    params = _query(spec, parts.query, ("seed", "n"))
    seed, n = _integer(spec, params, "seed", 0), _integer(spec, params, "n", 1)
    source = SyntheticDriving3dSource if parts.netloc == "driving3d" else SyntheticDrivingSource
    return source(0 if seed is None else seed, 100 if n is None else n)


def _driving_clips(spec: str, query: str) -> FrameSource:
    params = _query(spec, query, ("seed", "clips", "length"))
    seed, clips, length = (_integer(spec, params, key, low) for key, low in (("seed", 0), ("clips", 1), ("length", 1)))
    return SyntheticDrivingSequenceSource(
        0 if seed is None else seed, DEFAULT_CLIPS if clips is None else clips,
        DEFAULT_LENGTH if length is None else length,
    )


def _digits(spec: str) -> FrameSource:
    parts = urlsplit(spec)
    if parts.netloc or parts.path not in ("", "/"):
        raise InvalidInput(spec, "", f"unexpected '{parts.netloc}{parts.path}' (expected sklearn-digits://?split=...)")
    params = _query(spec, parts.query, ("split", "n", "second_camera"))
    split = params.get("split", "test")
    if split not in digits.SPLITS:
        raise InvalidInput(spec, "split", f"unknown split {split!r} (expected {', '.join(digits.SPLITS)})")
    return DigitsSource(split, _integer(spec, params, "n", 1), _share(spec, params, "second_camera"))


def _query(spec: str, query: str, allowed: tuple[str, ...]) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise InvalidInput(spec, "", f"malformed query '{query}' (expected key=value&...)") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key not in allowed:
            raise InvalidInput(spec, key, f"unknown parameter (expected {', '.join(allowed)})")
        if key in params:
            raise InvalidInput(spec, key, "given more than once")
        params[key] = value
    return params


def _integer(spec: str, params: dict[str, str], key: str, minimum: int) -> int | None:
    """The integer parameter ``key``, None if absent."""
    if key not in params:
        return None
    text = params[key]
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise InvalidInput(spec, key, f"expected an integer >= {minimum}, got '{text}'")
    return int(text)


def _share(spec: str, params: dict[str, str], key: str) -> float:
    """The share parameter ``key`` in [0, 1], 0 if absent."""
    text = params.get(key, "0")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(spec, key, f"expected a share in [0, 1], got '{text}'")
    return value


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


SCHEMES: dict[str, Callable[[str], FrameSource]] = {"synthetic": _synthetic, "sklearn-digits": _digits}
FILES: dict[str, Callable[[Path], FrameSource]] = {".json": CocoFileSource, ".npz": npz_source}
