"""The API's request and response bodies: what a client may send, bounded, and what it gets back.

Every value a request can put in the database or on Kafka is bounded by the
message field types (services/loop/messages/fields.py: 64-bit integers, finite
numbers, valid Unicode, lengths and counts), and a submission as a whole by
its encoded size (:data:`SUBMISSION_MAX_BYTES`, well under Kafka's 1 MB
record), so nothing is stored that the outbox cannot publish. A body outside
these bounds gets 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from analysis.geometry import BoxGeometry, write_geometry
from services.api.formats import Format
from services.api.tokens import Name, Role
from services.loop.messages import AnnotatedFrame, AnnotatedObject
from services.loop.messages.fields import (
    ENTRIES_MAX,
    INT64_MAX,
    TEXT_VALUE_MAX,
    Attributes,
    Box,
    CategoryId,
    Key,
    Tags,
    Threshold,
    valid_text,
)
from services.loop.messages.geometry import Shape

OBJECTS_MAX = 10_000  # objects of one submission
SUBMISSION_MAX_BYTES = 512 * 1024  # a submission's objects and tags, encoded as they travel on manual-annotations


Reason = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(valid_text)]
Short = Annotated[str, Field(max_length=255), AfterValidator(valid_text)]
Value = Annotated[str, Field(max_length=TEXT_VALUE_MAX), AfterValidator(valid_text)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskFrame(BaseModel):
    """One frame of a clip task: its place in the clip, its id and where its pixels are."""

    frame_index: int = Field(description="0-based place in the clip")
    frame_id: str
    image_ref: str = Field(description="the frame reference")
    image_url: str


class TaskView(BaseModel):
    """A leased task, as its annotator sees it: the frame (or clip) to annotate and the lease. Blind by
    construction."""

    task_id: str
    frame_id: str = Field(description="the frame's id, or the clip's (clip-<video_id>) for a clip task")
    copy_number: int = Field(description="1, or 2 for a consensus copy (another person has copy 1)")
    stratum: str
    image_ref: str = Field(description="the frame reference (synthetic://, sklearn-digits://, file://); a clip "
                                       "task's first frame's")
    image_url: str | None = Field(description="the frame as PNG (null for a point-cloud frame: see points_url)")
    points_url: str | None = Field(default=None, description=(
        "a point-cloud frame (e.g. synthetic://driving3d): its points as a binary PCD v0.7 file, fields x y z "
        "intensity as little-endian float32, metres in the frame's coordinate system (null for an image); "
        "annotate it with cuboid3d geometries"))
    lease_deadline: float = Field(description="Unix seconds; heartbeat before it to keep the task")
    lease_seconds: float
    video_id: int | None = Field(default=None, description="a clip task: the clip (null for a frame's task)")
    frames: list[TaskFrame] | None = Field(default=None, description=(
        "a clip task: its frames in order, each with its image URL; annotate every frame and submit clip_frames "
        "with a track id per object (null for a frame's task)"))


GEOMETRY_SCHEMA = {
    "type": "object", "required": ["type"], "additionalProperties": True,
    "properties": {"type": {"type": "string", "description": "a registered geometry kind (analysis/geometry)"}},
    "examples": [{"type": "box2d", "xywh": [412.0, 188.5, 36.0, 80.0]},
                 {"type": "polygon", "parts": [[10.0, 10.0, 40.0, 10.0, 25.0, 30.0]]},
                 {"type": "cuboid3d", "centre": [15.3, -3.36, 0.77], "size": [3.92, 1.85, 1.54], "yaw": 0.04,
                  "frame": "vehicle-iso8855"}],
}
Geometry = Annotated[Shape, WithJsonSchema(GEOMETRY_SCHEMA)]


class CocoObject(BaseModel):
    """One object: its tagged ``geometry`` as manual-annotations carries it, or a COCO record's ``bbox``
    (read as a ``box2d`` geometry); fields COCO files carry besides these (id, image_id, area, ...) are ignored."""

    model_config = ConfigDict(extra="ignore")

    geometry: Geometry | None = Field(default=None, description=(
        'tagged geometry, as on manual-annotations: {"type": "box2d", "xywh": [x, y, width, height]}, '
        '{"type": "polygon", "parts": [[x1, y1, x2, y2, x3, y3, ...], ...]}, {"type": "mask", "size": '
        '[height, width], "counts": ...} (COCO RLE), {"type": "cuboid3d", "centre": [x, y, z], "size": [length, '
        'width, height], "yaw": radians, "frame": "vehicle-iso8855"} (a point cloud\'s task; metres) or any other '
        'registered kind; give it or bbox'))
    bbox: Box | None = Field(default=None, description=(
        "COCO [x, y, width, height] in pixels, finite, width and height >= 0: a box2d geometry"))
    category_id: CategoryId
    attributes: Attributes = Field(default_factory=dict, description=(
        f"at most {ENTRIES_MAX}; names of 1 to 64 characters; values true/false, 64-bit integers, finite numbers "
        f"or text of at most {TEXT_VALUE_MAX} characters"))

    @model_validator(mode="after")
    def _geometry_or_bbox(self) -> CocoObject:
        if (self.geometry is None) == (self.bbox is None):
            both = self.bbox is not None
            raise ValueError("give the object's geometry or its COCO bbox" + (", not both" if both else ""))
        if self.geometry is None:  # a COCO box, through the registry's box2d kind like any tagged geometry
            self.geometry = Shape.read(write_geometry(BoxGeometry.kind, self.bbox))
        return self

    def annotated(self) -> AnnotatedObject:
        assert self.geometry is not None  # the validator set it
        return AnnotatedObject(geometry=self.geometry, category_id=self.category_id, attributes=self.attributes)


class TrackedObject(CocoObject):
    """One object on a frame of a clip: as :class:`CocoObject`, with the person's track id (the same id on every
    frame the thing is seen)."""

    track_id: int = Field(ge=0, le=INT64_MAX, description="the person's id of the thing over the clip's frames")

    def annotated(self) -> AnnotatedObject:
        assert self.geometry is not None  # the validator set it
        return AnnotatedObject(geometry=self.geometry, category_id=self.category_id, attributes=self.attributes,
                               track_id=self.track_id)


class ClipFrameAnswer(Strict):
    """A person's objects on one frame of a clip task (a frame without objects may be left out)."""

    frame_index: int = Field(ge=0, le=INT64_MAX, description="0-based place in the clip (the task's frames)")
    annotations: list[TrackedObject] = Field(max_length=OBJECTS_MAX)

    def annotated(self) -> AnnotatedFrame:
        return AnnotatedFrame(frame_index=self.frame_index, objects=[a.annotated() for a in self.annotations])


class Submission(Strict):
    """An annotation: objects with tagged geometry (or COCO boxes [x, y, width, height] in pixels), category ids,
    and image tags; a clip task's, the objects of its frames with track ids (``clip_frames``)."""

    annotations: list[CocoObject] = Field(max_length=OBJECTS_MAX, description="the objects of a frame's task ([] "
                                          "for a clip's task: its objects are in clip_frames)")
    tags: Tags = Field(default_factory=dict, description=f"at most {ENTRIES_MAX}; names of 1 to 64 characters, "
                                                         "values of at most 256")
    clip_frames: list[ClipFrameAnswer] | None = Field(default=None, max_length=OBJECTS_MAX, description=(
        "a clip task's answer (with annotations []): per frame index of the clip, its objects, each with the "
        "person's track id"))

    def annotated_frames(self) -> list[AnnotatedFrame] | None:
        return None if self.clip_frames is None else [f.annotated() for f in self.clip_frames]

    @model_validator(mode="after")
    def _fits_a_kafka_record(self) -> Submission:
        if self.clip_frames is not None and self.annotations:
            raise ValueError("give annotations (a frame's task) or clip_frames (a clip's task), not both")
        if sum(len(f.annotations) for f in self.clip_frames or ()) > OBJECTS_MAX:
            raise ValueError(f"clip_frames: at most {OBJECTS_MAX:,} objects in all")
        try:
            size = len(orjson.dumps({"objects": [a.annotated().model_dump() for a in self.annotations],
                                     "clip_frames": [f.model_dump() for f in self.annotated_frames() or ()],
                                     "tags": self.tags}))
        except orjson.JSONEncodeError as exc:  # a kind's writer gave what JSON cannot hold (an int past 64 bits)
            raise ValueError(f"the annotation cannot travel on manual-annotations: {exc}") from None
        if size > SUBMISSION_MAX_BYTES:
            raise ValueError(f"the annotation encodes to {size:,} bytes; at most {SUBMISSION_MAX_BYTES:,} are taken "
                             "(it travels as one Kafka record)")
        return self


class Skip(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500, description="why the task cannot be annotated"),
                      AfterValidator(valid_text)]


class Submitted(BaseModel):
    task_id: str
    annotator: str
    submitted_at: float


class NewToken(Strict):
    name: Name = Field(description="the holder's identity (an annotator's name in the queue); a revoked name may "
                                   "be given again (the same identity)")
    role: Role


class TokenOut(BaseModel):
    name: str
    role: Role
    token: str | None = Field(default=None, description="shown once, at creation or rotation")
    created_by: str | None = None
    created_at: float | None = None
    revoked: bool = False


class NewPin(Strict):
    stratum: Annotated[str, Field(min_length=1, max_length=255, description="a stratum key (weather=rain), or * "
                                                                           "for the default threshold"),
                       AfterValidator(valid_text)]
    threshold: Threshold | None = Field(description="τ: frames of the stratum ship at confidence >= τ; null: "
                                                    "nothing of it ships")
    reason: Reason


class PinOut(BaseModel):
    stratum: str
    threshold: float | None
    pinned_by: str
    reason: str
    time: float


class Released(BaseModel):
    stratum: str
    released_by: str
    time: float
    pin: PinOut = Field(description="the pin released")


class PolicyOut(BaseModel):
    version: int
    default: float | None
    thresholds: dict[str, float | None]
    applied_by: str
    reason: str
    time: float


class PolicyInForce(BaseModel):
    policy: PolicyOut | None = Field(description="the aggregator's latest policy (null before its first)")
    pins: list[PinOut] = Field(description="the pins recorded; the aggregator applies each over its recommendations")


class ExportBatch(Strict):
    format: Format
    assignee: Name = Field(description="who works the batch in the external tool (leases are theirs)")
    size: int = Field(default=100, ge=1, le=1000)
    lease_hours: float = Field(default=24.0, gt=0, le=24 * 14)


class ImportResult(BaseModel):
    submitted: list[str]
    rejected: dict[str, str] = Field(description="task id -> why it was not imported (the others were)")
    left_out: dict[str, str] = Field(default_factory=dict, description=(
        "task id -> the shapes of a submitted task that were not imported (other_shapes=ignore only)"))


class FlaggerHook(BaseModel):
    """Flagger's webhook payload; ``metadata`` may carry target, alpha, max_weight, model_version."""

    name: Short = ""
    namespace: Short = ""
    phase: Short = ""
    metadata: Annotated[dict[Key, Value], Field(max_length=ENTRIES_MAX)] = Field(default_factory=dict)
