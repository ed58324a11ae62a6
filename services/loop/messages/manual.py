"""Messages of the manual side: blind tasks on ``manual-queue`` and people's answers on ``manual-annotations``."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from analysis.policy.automation import ALL
from services.loop.messages.clips import TaskClip, TrackId, clip_field
from services.loop.messages.fields import (
    Attributes,
    Box,
    CategoryId,
    Copy,
    FrameId,
    InclusionProb,
    Label,
    Message,
    Offset,
    SchemaVersion2,
    Seq,
    Tags,
    Text,
    Time,
    Unit,
    Version,
    version_field,
)
from services.loop.messages.geometry import Shape


def task_id(frame_id: str, copy: int) -> str:
    """The id of copy ``copy`` of a frame's manual task: ``<frame_id>/<copy>``."""
    return f"{frame_id}/{copy}"


def _check_task_id(value: str, frame_id: str, copy: int) -> None:
    expected = task_id(frame_id, copy)
    if value != expected:
        raise ValueError(f"task_id: expected {expected!r} (<frame_id>/<copy>), got {value!r}")


class ManualTask(Message):
    """A blind annotation task. It has no field for any machine output: people never see the machine's answer."""

    KIND = "manual-queue"

    task_id: Text
    frame_id: FrameId
    seq: Seq
    image: Text
    copy_: Copy = Field(alias="copy")  # ``copy`` on the wire; BaseModel has a method of that name
    inclusion_prob: InclusionProb
    consensus_prob: Unit
    policy_version: Version
    copies: Copy = 1  # manual tasks issued for the frame: 2 when a consensus copy exists
    stratum: Label = ALL
    time: Time
    clip: TaskClip | None = clip_field()  # a clip task: the frames to annotate, with track ids

    @model_validator(mode="after")
    def _task_id_names_frame_and_copy(self) -> ManualTask:
        _check_task_id(self.task_id, self.frame_id, self.copy_)
        return self


class AnnotatedObject(BaseModel):
    """One object a person drew: its tagged geometry (version 1: a COCO ``bbox``), category and attributes."""

    model_config = ManualTask.model_config

    geometry: Shape = Field(default=None, validate_default=False)  # type: ignore[assignment]  # checked below
    bbox: Box | None = Field(default=None, exclude=True)  # version 1, read as a box2d geometry
    category_id: CategoryId
    attributes: Attributes
    track_id: TrackId | None = clip_field()  # the person's track id, in a clip's annotation

    @model_validator(mode="after")
    def _geometry_or_v1_box(self) -> AnnotatedObject:
        if "geometry" not in self.model_fields_set:
            if self.bbox is None:
                raise ValueError("missing required field 'geometry'")
            self.__dict__["geometry"] = Shape.box(self.bbox)
            self.__pydantic_fields_set__.add("geometry")  # read: given as far as a revalidation can tell
        self.__dict__["bbox"] = None
        return self


class AnnotatedFrame(BaseModel):
    """A person's objects on one frame of a clip (``frame_index`` 0-based), each with their track id."""

    model_config = ManualTask.model_config

    frame_index: Offset
    objects: list[AnnotatedObject]

    @model_validator(mode="after")
    def _every_object_tracked(self) -> AnnotatedFrame:
        for k, o in enumerate(self.objects):
            if o.track_id is None:
                raise ValueError(f"objects[{k}]: a clip's object needs its track_id")
        return self


class ManualAnnotation(Message):
    """A person's annotation of one task, echoing the task's sampling fields so comparisons can weight it."""

    KIND = "manual-annotations"

    schema_version: SchemaVersion2 = version_field()  # type: ignore[assignment]  # 1 is read, 2 is written
    task_id: Text
    frame_id: FrameId
    seq: Seq
    copy_: Copy = Field(alias="copy")  # ``copy`` on the wire; BaseModel has a method of that name
    annotator: Text
    inclusion_prob: InclusionProb
    consensus_prob: Unit
    policy_version: Version = 0  # echoed from the task: which policy routed the frame
    copies: Copy = 1  # echoed from the task
    stratum: Label = ALL
    objects: list[AnnotatedObject]
    tags: Tags
    time: Time
    clip_frames: list[AnnotatedFrame] | None = clip_field()  # a clip task's answer: every frame, track ids

    @model_validator(mode="after")
    def _task_id_names_frame_and_copy(self) -> ManualAnnotation:
        _check_task_id(self.task_id, self.frame_id, self.copy_)
        self.__dict__["schema_version"] = 2  # version 1's boxes are held as geometries
        return self
