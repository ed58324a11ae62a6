"""Model specs: the declared pre- and post-processing around a network.

A spec travels beside the weights (``model.pt`` + ``model.json``), so a team can
plug in an exported TorchScript detector without writing Python::

    {"name": "my-detector", "kind": "detector",
     "input": {"width": 320, "height": 192, "channels": 3,
               "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
     "decode": {"type": "centernet", "stride": 4, "score_threshold": 0.3,
                "max_detections": 100, "nms_iou": null},
     "categories": [{"id": 1, "name": "car"}, ...]}

Decoders: ``centernet`` (outputs: heatmap logits [B,K,h,w], size [B,2,h,w] as
log(w, h) in input pixels, offset [B,2,h,w]); ``boxes`` (outputs: boxes
[B,N,4] x1 y1 x2 y2 in input pixels, scores [B,N], labels [B,N] as category
indices); ``softmax`` (outputs: logits [B,C]; a tag named ``decode.tag`` whose
values are ``decode.labels``, with ``temperature`` for calibration); ``bev_centernet``
(kind ``detector3d``: outputs heatmap logits [B,K,h,w] and regression [B,8,h,w], see
:mod:`services.engine.decode_bev`).

A ``detector3d`` takes point clouds: its spec has a ``grid`` (the bird's-eye-view cells,
metres in the points' coordinate system ``frame``) whose rows and columns are its input's
``height`` and ``width``; :mod:`services.engine.points` turns a frame's points into that input.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.annotations import checks
from analysis.exceptions import InvalidInput

DECODERS = ("centernet", "boxes", "softmax", "bev_centernet")
KINDS = ("detector", "classifier", "detector3d")


@dataclass(frozen=True)
class InputSpec:
    width: int
    height: int
    channels: int = 3
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)
    std: tuple[float, ...] = (1.0, 1.0, 1.0)
    scale: float = 1.0 / 255.0  # pixel values are multiplied by this before normalising
    resize: bool = True  # False: frames must already have the input size


@dataclass(frozen=True)
class DecodeSpec:
    type: str
    stride: int = 4
    score_threshold: float = 0.3
    max_detections: int = 100
    nms_iou: float | None = None
    tag: str = ""
    labels: tuple[str, ...] = ()
    temperature: float = 1.0
    # Frame confidence calibration (detectors): sigmoid(slope · log-certainty + bias), fitted on
    # held-out frames to P(frame accepted); without it, the product of peak certainties.
    confidence_slope: float | None = None
    confidence_bias: float = 0.0


@dataclass(frozen=True)
class GridSpec:
    """A bird's-eye-view grid over a point cloud: rows along x from ``x_min``, columns along y from
    ``y_min``, square cells of ``cell`` metres, in coordinate system ``frame`` (ground at z = 0)."""

    x_min: float
    x_max: float
    y_min: float
    y_max: float
    cell: float
    frame: str = "vehicle-iso8855"

    @property
    def rows(self) -> int:
        return round((self.x_max - self.x_min) / self.cell)

    @property
    def cols(self) -> int:
        return round((self.y_max - self.y_min) / self.cell)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str  # one of KINDS
    input: InputSpec
    decode: DecodeSpec
    categories: tuple[tuple[int, str], ...] = ()
    grid: GridSpec | None = None  # detector3d only

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name, "kind": self.kind,
            "input": {**self.input.__dict__, "mean": list(self.input.mean), "std": list(self.input.std)},
            "decode": {**self.decode.__dict__, "labels": list(self.decode.labels)},
            "categories": [{"id": i, "name": n} for i, n in self.categories],
        }
        if self.grid is not None:  # absent otherwise, so image models' specs (and versions) are unchanged
            doc["grid"] = dict(self.grid.__dict__)
        return doc

    def canonical_json(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()


def model_version(spec: ModelSpec, weights: bytes) -> str:
    """``name@hash`` of the weights and the spec: every result traces to the exact model."""
    digest = hashlib.sha256(weights + spec.canonical_json()).hexdigest()[:12]
    return f"{spec.name}@{digest}"


def load_spec(path: str | Path) -> ModelSpec:
    source = str(path)
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InvalidInput(source, "", "no such model spec file (expected beside the weights)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(source, "", f"cannot read model spec ({exc})") from None
    return spec_from_dict(doc, source)


def spec_from_dict(doc: Any, source: str) -> ModelSpec:
    rec = checks.as_record(doc, source, "")
    kind = checks.text(checks.field(rec, "kind", source, ""), source, "kind")
    if kind not in KINDS:
        raise InvalidInput(source, "kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    spec = ModelSpec(
        name=checks.text(rec.get("name", Path(source).stem), source, "name"), kind=kind,
        input=_input(checks.as_record(checks.field(rec, "input", source, ""), source, "input"), source),
        decode=_decode(checks.as_record(checks.field(rec, "decode", source, ""), source, "decode"), source),
        categories=_categories(rec.get("categories", []), source),
        grid=None if rec.get("grid") is None else _grid(checks.as_record(rec["grid"], source, "grid"), source),
    )
    _check_points_model(spec, source)
    return spec


def _grid(rec: Any, source: str) -> GridSpec:
    def metres(key: str, **kw: Any) -> float:
        return checks.number(checks.field(rec, key, source, "grid"), source, f"grid.{key}", **kw)

    grid = GridSpec(metres("x_min"), metres("x_max"), metres("y_min"), metres("y_max"), metres("cell", above=0.0),
                    checks.text(rec.get("frame", "vehicle-iso8855"), source, "grid.frame"))
    if not (grid.x_max > grid.x_min and grid.y_max > grid.y_min):
        raise InvalidInput(source, "grid", "needs x_max > x_min and y_max > y_min")
    return grid


def _check_points_model(spec: ModelSpec, source: str) -> None:
    """A detector3d has a grid matching its input and the BEV decoder; no other kind has either."""
    points = spec.kind == "detector3d"
    if points != (spec.grid is not None):
        raise InvalidInput(source, "grid", "a detector3d needs a grid, and only a detector3d has one")
    if points != (spec.decode.type == "bev_centernet"):
        raise InvalidInput(source, "decode.type", "bev_centernet decodes a detector3d, which needs it")
    if spec.grid is not None and (spec.grid.rows, spec.grid.cols) != (spec.input.height, spec.input.width):
        raise InvalidInput(source, "grid", f"gives {spec.grid.rows}x{spec.grid.cols} cells, but the input is "
                           f"{spec.input.height}x{spec.input.width}")


def _input(rec: Any, source: str) -> InputSpec:
    def dim(key: str) -> int:
        return checks.integer(checks.field(rec, key, source, "input"), source, f"input.{key}", minimum=1)

    channels = checks.integer(rec.get("channels", 3), source, "input.channels", minimum=1)
    return InputSpec(
        width=dim("width"), height=dim("height"), channels=channels,
        mean=_floats(rec.get("mean", [0.0] * channels), source, "input.mean", channels),
        std=_floats(rec.get("std", [1.0] * channels), source, "input.std", channels, positive=True),
        scale=checks.number(rec.get("scale", 1 / 255), source, "input.scale", above=0.0),
        resize=checks.flag(rec.get("resize", True), source, "input.resize"),
    )


def _decode(rec: Any, source: str) -> DecodeSpec:
    kind = checks.text(checks.field(rec, "type", source, "decode"), source, "decode.type")
    if kind not in DECODERS:
        raise InvalidInput(source, "decode.type", f"unknown decoder {kind!r} (known: {', '.join(DECODERS)})")
    nms = rec.get("nms_iou")
    labels = checks.as_list(rec.get("labels", []), source, "decode.labels")
    return DecodeSpec(
        type=kind, stride=checks.integer(rec.get("stride", 4), source, "decode.stride", minimum=1),
        score_threshold=checks.number(rec.get("score_threshold", 0.3), source, "decode.score_threshold",
                                      minimum=0.0, maximum=1.0),
        max_detections=checks.integer(rec.get("max_detections", 100), source, "decode.max_detections", minimum=1),
        nms_iou=None if nms is None else checks.number(nms, source, "decode.nms_iou", above=0.0, maximum=1.0),
        tag=checks.text(rec.get("tag", ""), source, "decode.tag"),
        labels=tuple(checks.text(v, source, f"decode.labels[{i}]") for i, v in enumerate(labels)),
        temperature=checks.number(rec.get("temperature", 1.0), source, "decode.temperature", above=0.0),
        confidence_slope=_optional(rec, "confidence_slope", source),
        confidence_bias=checks.number(rec.get("confidence_bias", 0.0), source, "decode.confidence_bias"),
    )


def _optional(rec: Any, key: str, source: str) -> float | None:
    value = rec.get(key)
    return None if value is None else checks.number(value, source, f"decode.{key}")


def _floats(value: Any, source: str, where: str, n: int, positive: bool = False) -> tuple[float, ...]:
    items = checks.as_list(value, source, where)
    if len(items) != n:
        raise InvalidInput(source, where, f"expected {n} values (one per channel), got {len(items)}")
    above = 0.0 if positive else None
    return tuple(checks.number(v, source, f"{where}[{i}]", above=above) for i, v in enumerate(items))


def _categories(value: Any, source: str) -> tuple[tuple[int, str], ...]:
    out = []
    for i, item in enumerate(checks.as_list(value, source, "categories")):
        rec = checks.as_record(item, source, f"categories[{i}]")
        cid = checks.integer(checks.field(rec, "id", source, f"categories[{i}]"), source, f"categories[{i}].id")
        out.append((cid, checks.text(checks.field(rec, "name", source, f"categories[{i}]"), source,
                                     f"categories[{i}].name")))
    return tuple(out)
