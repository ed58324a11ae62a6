"""The comparator's join state for one frame: whichever side arrives first waits for the rest.

Each frame goes either to ``deliveries`` (shipped: nothing to compare, its entry
is settled) or to ``manual-queue`` (``copies`` tasks); the entry is complete once
the machine and copy 1 are compared and, with a consensus copy, copy 2 against
copy 1. State is plain JSON-able data kept in the comparator's state topic, and
every transition is idempotent, so a replayed message changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from services.loop.compare import compare_machine, compare_people
from services.loop.compare_clips import compare_machine_clips, compare_people_clips
from services.loop.context import CompareContext
from services.loop.messages import (
    AutomationMessage,
    ComparisonMessage,
    Delivery,
    InvalidMessage,
    ManualAnnotation,
    ManualTask,
    decode,
)

Side = Literal["machine", "first", "second"]


@dataclass(frozen=True)
class Pending:
    since: float  # when the first message about the frame arrived (wall clock)
    machine: str | None = None  # raw JSON of the automation result
    first: str | None = None  # raw JSON of the copy-1 annotation
    second: str | None = None  # raw JSON of the copy-2 annotation
    copies: int = 0  # manual tasks issued for the frame: 0 unknown yet, 1 or 2
    shipped: bool = False
    machine_done: bool = False
    people_done: bool = False
    failed: bool = False  # the engine failed on the frame: nothing to compare the people with

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))  # every field is a scalar: what asdict gives, without its deep copy

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Pending:
        return cls(**doc)

    def with_side(self, side: Side, raw: str) -> Pending:
        """Record a side once; a duplicate (a replayed message) is ignored."""
        if getattr(self, side) is not None:
            return self
        if side == "machine":
            return replace(self, machine=raw)
        return replace(self, first=raw) if side == "first" else replace(self, second=raw)

    def settled(self) -> Pending:
        """This complete entry without its payloads: sides stay marked as seen ("")."""
        def mark(raw: str | None) -> str | None:
            return None if raw is None else ""

        return replace(self, machine=mark(self.machine), first=mark(self.first), second=mark(self.second))

    @property
    def machine_ready(self) -> bool:
        return self.machine is not None and self.first is not None and not self.machine_done and not self.failed

    @property
    def people_ready(self) -> bool:
        return self.first is not None and self.second is not None and not self.people_done

    @property
    def complete(self) -> bool:
        """Nothing more will happen to this frame: drop its entry."""
        if self.shipped:
            return self.machine is not None
        if self.copies == 0 or self.first is None:
            return False
        machine = self.machine_done or self.failed
        return machine and (self.copies == 1 or self.people_done)


Update = Callable[[Pending], Pending]
Decoded = dict[str, Any]  # a side's raw JSON (as the join state keeps it) -> its message, decoded once
JOINED = ("automation-results", "manual-queue", "deliveries", "manual-annotations")


def absorb(topic: str, raw: bytes, decoded: Decoded | None = None) -> tuple[str, Update]:
    """Decode a record of the joined ``topic`` (name without prefix) into (frame id, its change to the
    frame's join state); raises :class:`InvalidMessage` for a record that does not validate. A side's message
    is kept in ``decoded`` (given: a batch's) under its raw JSON, so comparing it in the same batch does not
    decode it again."""
    if topic == "automation-results":
        m = decode(AutomationMessage, raw)
        text = _kept(raw, m, decoded)
        return m.frame_id, lambda p: replace(p.with_side("machine", text), failed=p.failed or m.error is not None)
    if topic == "manual-queue":
        t = decode(ManualTask, raw)
        return t.frame_id, lambda p: replace(p, copies=max(p.copies, t.copies))
    if topic == "deliveries":
        return decode(Delivery, raw).frame_id, lambda p: replace(p, shipped=True)
    if topic == "manual-annotations":
        a = decode(ManualAnnotation, raw)
        text = _kept(raw, a, decoded)
        side: Side = "first" if a.copy_ == 1 else "second"
        # copies known from the annotation only when it says so (or is copy 2); else the task tells
        known = max(a.copies if "copies" in a.model_fields_set else 0, 2 if a.copy_ == 2 else 0)
        return a.frame_id, lambda p: replace(p.with_side(side, text), copies=max(p.copies, known))
    raise InvalidMessage(f"the comparator does not read topic {topic!r}")


def _kept(raw: bytes, message: Any, decoded: Decoded | None) -> str:
    text = raw.decode()
    if decoded is not None:
        decoded[text] = message
    return text


def compare_ready(touched: dict[str, Pending], ctx: CompareContext,
                  decoded: Decoded | None = None) -> list[ComparisonMessage]:
    """Compare every frame of ``touched`` that has become comparable and mark it done (in place); sides found in
    ``decoded`` (:func:`absorb`'s) are not decoded again."""
    machine = [fid for fid, p in touched.items() if p.machine_ready]
    people = [fid for fid, p in touched.items() if p.people_ready]
    seen = decoded or {}
    pairs = [_pair(touched[f].machine, touched[f].first, seen) for f in machine]
    humans = [_human(touched[f].second, touched[f].first, seen) for f in people]
    out = compare_machine([p for p in pairs if p[0].clip is None], ctx)  # frames in one batch, then clips
    out += compare_machine_clips([p for p in pairs if p[0].clip is not None], ctx)
    out += compare_people([p for p in humans if p[1].clip_frames is None], ctx)
    out += compare_people_clips([p for p in humans if p[1].clip_frames is not None], ctx)
    for f in machine:
        touched[f] = replace(touched[f], machine_done=True)
    for f in people:
        touched[f] = replace(touched[f], people_done=True)
    return out


def _pair(machine: str | None, first: str | None, seen: Decoded) -> tuple[AutomationMessage, ManualAnnotation]:
    assert machine and first
    return _decoded(AutomationMessage, machine, seen), _decoded(ManualAnnotation, first, seen)


def _human(second: str | None, first: str | None, seen: Decoded) -> tuple[ManualAnnotation, ManualAnnotation]:
    assert second and first
    return _decoded(ManualAnnotation, second, seen), _decoded(ManualAnnotation, first, seen)


def _decoded(kind: type[Any], text: str, seen: Decoded) -> Any:
    """A side's message: the one decoded at absorb in this batch, else decoded again from the raw JSON the join
    state keeps (a side that arrived in an earlier batch). Only a batch's messages are kept: a cache across
    batches would hold ~5-9 kB per message, most of them never read (a shipped frame's result is never
    compared); within a batch it spares the comparator's second decode, 12 % of its CPU in the pipeline
    benchmark's profile."""
    message = seen.get(text)
    return message if isinstance(message, kind) else decode(kind, text.encode())
