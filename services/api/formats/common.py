"""What both batch formats share: the tasks sent out, one task's answer read back, and how reading can fail.

A body that is not the tool's export (not JSON or XML, a wrong type anywhere,
a task id this API cannot have exported) is a :class:`BatchFormatError`,
answered 422 naming the place, and nothing of the batch is imported. A well-formed
export whose task holds something this API cannot take (a label it does not
know, a shape other than a box, a rotated box when rotation is refused) is a
:class:`Rejected` task: the others are imported, and nothing of a person's
answer is silently dropped. Shapes other than boxes may instead be left out
when the import asks for it (``other_shapes=ignore``): the task is imported
and the answer lists what was left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from analysis.geometry import BoxGeometry, write_geometry
from services.exceptions import ShadowQAError
from services.loop.messages.fields import TaskId
from services.loop.messages.reasons import reason

Format = Literal["label-studio", "cvat"]  # the external tools a batch is exported to and imported from
Rotated = Literal["enclose", "refuse"]  # a rotated box: its enclosing axis-aligned box, or the task refused
Others = Literal["reject", "ignore"]  # a shape other than a box: the task rejected, or the shape left out (listed)
_TASK_ID: TypeAdapter[str] = TypeAdapter(TaskId)
PRESENT = "true"  # the value of a tag that is present without a value (CVAT's plain <tag label="good_frame">)


class BatchFormatError(ShadowQAError):
    """An uploaded batch that cannot be read; ``where`` names the task or element."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.where, self.detail = where, detail


@dataclass(frozen=True)
class BatchTask:
    """What an external tool needs of one task: no machine output, as in the queue API."""

    task_id: str
    frame_id: str
    stratum: str
    image_url: str
    width: int
    height: int


@dataclass
class Answer:
    """One person's answer to one task as the tool holds it: objects as the API takes them (tagged ``geometry``,
    a ``box2d`` ``[x, y, w, h]`` in pixels for a box; ``category_id``, ``attributes``), image tags, and what keeps it
    from being imported as it is (``problems``: empty when it can be)."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # shapes not read, with other_shapes=ignore

    def not_read(self, what: str, others: Others) -> None:
        """A shape this API does not read: a problem, or left out when the import says so."""
        (self.left_out if others == "ignore" else self.problems).append(what)

    def add_object(self, box: tuple[float, float, float, float], label: str, categories: Mapping[str, int],
                   part: str, attributes: dict[str, Any] | None = None) -> bool:
        """Add one object (or, for a label with no category, a problem naming ``part``); whether it was added."""
        if label not in categories:
            self.problems.append(f"{part}: unknown label {label!r} (known: {', '.join(categories)})")
            return False
        self.objects.append({"geometry": write_geometry(BoxGeometry.kind, box), "category_id": categories[label],
                             "attributes": attributes or {}})
        return True

    def add_tag(self, key: str, value: str) -> None:
        if self.tags.get(key, value) != value:
            self.problems.append(f"tag {key!r} given twice, as {self.tags[key]!r} and {value!r}")
        self.tags[key] = value


@dataclass(frozen=True)
class Submission:
    """A task's answer, to submit as the batch's assignee."""

    task_id: str
    objects: list[dict[str, Any]]
    tags: dict[str, str]
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """A task of the batch that is not imported, and why."""

    task_id: str
    reason: str


def outcome(task_id: str, answer: Answer) -> Submission | Rejected:
    """The task's submission, or its rejection with every problem its answer has."""
    if answer.problems:
        return Rejected(task_id, "; ".join(dict.fromkeys(answer.problems)) + " (nothing of this task was imported)")
    return Submission(task_id, answer.objects, answer.tags, tuple(answer.left_out))


def enclosing_box(corners: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """The axis-aligned box ``[x, y, w, h]`` around ``corners``."""
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def rotated_corners(x: float, y: float, w: float, h: float, degrees: float,
                    about: tuple[float, float]) -> list[tuple[float, float]]:
    """The corners of the box ``[x, y, w, h]`` rotated by ``degrees`` (clockwise on the image, whose y axis
    points down) about the point ``about``."""
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    ax, ay = about
    return [(ax + (px - ax) * cos - (py - ay) * sin, ay + (px - ax) * sin + (py - ay) * cos)
            for px, py in ((x, y), (x + w, y), (x + w, y + h), (x, y + h))]


def number(value: Any, where: str, what: str) -> float:
    """``value`` as a finite float (JSON numbers or numeric text), else a :class:`BatchFormatError`."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BatchFormatError(where, f"{what}: expected a number, got {type(value).__name__}")
    try:
        result = float(value)
    except ValueError:
        raise BatchFormatError(where, f"{what}: expected a number, got {value!r}") from None
    if not math.isfinite(result):
        raise BatchFormatError(where, f"{what}: expected a finite number, got {value!r}")
    return result


def task_id(value: Any, where: str, what: str) -> str:
    """``value`` if it is a task id this API could have exported (the queue's :data:`TaskId` rule: valid text of at
    most 255 characters), else a :class:`BatchFormatError` naming ``what`` (the value itself is not echoed)."""
    if not isinstance(value, str) or not value:
        raise BatchFormatError(where, f"{what} missing: import the batch this API exported")
    try:
        return _TASK_ID.validate_python(value)
    except ValidationError as exc:
        raise BatchFormatError(where, f"{what} is not a task id this API exported: {reason(exc)}") from None
