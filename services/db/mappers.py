"""Messages to rows and rows back to messages: pure functions, no session, no I/O.

The only place that knows both the pydantic messages and the ORM classes, so
``analysis/`` and the messages never import SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import inspect

from services.db.exceptions import RowMismatch
from services.db.models import (
    Base,
    ComparisonRow,
    ManualAnnotationRow,
    ManualTaskRow,
    PolicyRow,
    RecommendationRow,
    RouteRow,
    StatsRow,
)
from services.db.states import TaskState
from services.loop.messages import (
    AgreementStats,
    ComparisonMessage,
    Delivery,
    HumanFloor,
    ManualAnnotation,
    ManualTask,
    PolicyMessage,
    RecommendationMessage,
)

_COMPARISON_FIELDS = (
    "frame_id", "kind", "accepted", "inclusion_prob", "stratum", "confidence", "model_version", "policy_version",
    "tp", "fp", "fn", "mean_iou", "time",
)
_TASK_FIELDS = (
    "task_id", "frame_id", "seq", "image", "inclusion_prob", "consensus_prob", "policy_version", "copies", "stratum",
    "time",
)


def task_row(task: ManualTask, *, priority: int = 0, now: float | None = None) -> ManualTaskRow:
    """A ``queued`` task row; created and updated at ``now`` (default: the task's own time)."""
    return ManualTaskRow(**task_fields(task, priority=priority, now=now))


def task_fields(task: ManualTask, *, priority: int = 0, now: float | None = None) -> dict[str, Any]:
    """The attributes of :func:`task_row`'s row."""
    at = task.time if now is None else now
    return {**{name: getattr(task, name) for name in _TASK_FIELDS}, "copy": task.copy_,
            "state": TaskState.QUEUED.value, "lease_owner": None, "lease_deadline": None, "attempts": 0,
            "expiries": 0, "priority": priority, "created_at": at, "updated_at": at,
            "clip": None if task.clip is None else task.clip.model_dump(mode="json")}


def task_message(row: ManualTaskRow) -> ManualTask:
    """The blind task a task row was made from (lease fields are not part of the message)."""
    return ManualTask.model_validate({**{name: getattr(row, name) for name in _TASK_FIELDS}, "copy": row.copy,
                                      "clip": row.clip})


def annotation_row(annotation: ManualAnnotation) -> ManualAnnotationRow:
    """The row of a person's answer; objects and tags as JSON, as on the wire."""
    return ManualAnnotationRow(
        task_id=annotation.task_id, annotator=annotation.annotator, tags=dict(annotation.tags),
        objects=[obj.model_dump(mode="json") for obj in annotation.objects], submitted_at=annotation.time,
        published_at=None, clip_frames=None if annotation.clip_frames is None else
        [f.model_dump(mode="json") for f in annotation.clip_frames],
    )


def annotation_message(row: ManualAnnotationRow, task: ManualTaskRow) -> ManualAnnotation:
    """The annotation message of ``row``, its sampling fields echoed from ``task`` as the annotator's tool does."""
    if row.task_id != task.task_id:
        raise RowMismatch(f"annotation of task {row.task_id!r} given task {task.task_id!r}")
    return ManualAnnotation.model_validate({
        "task_id": task.task_id, "frame_id": task.frame_id, "seq": task.seq, "copy": task.copy,
        "annotator": row.annotator, "inclusion_prob": task.inclusion_prob, "consensus_prob": task.consensus_prob,
        "policy_version": task.policy_version, "copies": task.copies, "stratum": task.stratum,
        "objects": row.objects, "tags": row.tags, "time": row.submitted_at, "clip_frames": row.clip_frames,
    })


def comparison_row(comparison: ComparisonMessage) -> ComparisonRow:
    """The row of one compared frame."""
    return ComparisonRow(**comparison_fields(comparison))


def comparison_fields(comparison: ComparisonMessage) -> dict[str, Any]:
    """The attributes of :func:`comparison_row`'s row."""
    return {name: getattr(comparison, name) for name in _COMPARISON_FIELDS}


def comparison_message(row: ComparisonRow) -> ComparisonMessage:
    """The comparison a row holds; equal to the message it was made from."""
    return ComparisonMessage.model_validate({name: getattr(row, name) for name in _COMPARISON_FIELDS})


def stats_row(stats: AgreementStats) -> StatsRow:
    """A snapshot row of a stratum's estimate; a missing human floor leaves the four floor columns null."""
    floor = stats.human_floor
    return StatsRow(
        stratum=stats.stratum, model_version=stats.model_version, n=stats.n, estimate=stats.estimate,
        lower=stats.lower, upper=stats.upper, decision=stats.decision, target=stats.target, alpha=stats.alpha,
        floor_estimate=None if floor is None else floor.estimate, floor_lower=None if floor is None else floor.lower,
        floor_upper=None if floor is None else floor.upper, floor_n=None if floor is None else floor.n,
        time=stats.time,
    )


def stats_message(row: StatsRow) -> AgreementStats:
    """The agreement stats a snapshot row holds (a human floor when its ``n`` is set)."""
    floor = None if row.floor_n is None else HumanFloor.model_validate({
        "estimate": row.floor_estimate, "lower": row.floor_lower, "upper": row.floor_upper, "n": row.floor_n,
    })
    return AgreementStats.model_validate({
        "stratum": row.stratum, "model_version": row.model_version, "n": row.n, "estimate": row.estimate,
        "lower": row.lower, "upper": row.upper, "decision": row.decision, "target": row.target, "alpha": row.alpha,
        "human_floor": floor, "time": row.time,
    })


def recommendation_row(recommendation: RecommendationMessage) -> RecommendationRow:
    """The row of one recommendation; thresholds as JSON (null for a stratum where nothing ships)."""
    return RecommendationRow(
        stratum=recommendation.stratum, thresholds=dict(recommendation.thresholds),
        automation_rate=recommendation.automation_rate, action=recommendation.action, reason=recommendation.reason,
        policy_version=recommendation.policy_version, time=recommendation.time,
    )


def recommendation_message(row: RecommendationRow) -> RecommendationMessage:
    """The recommendation a row holds."""
    return RecommendationMessage.model_validate({
        "stratum": row.stratum, "thresholds": row.thresholds, "automation_rate": row.automation_rate,
        "action": row.action, "reason": row.reason, "policy_version": row.policy_version, "time": row.time,
    })


def policy_row(policy: PolicyMessage) -> PolicyRow:
    """The row of a policy version; ``default`` is stored as ``default_threshold``."""
    return PolicyRow(
        version=policy.version, default_threshold=policy.default, thresholds=dict(policy.thresholds),
        applied_by=policy.applied_by, reason=policy.reason, time=policy.time,
    )


def policy_message(row: PolicyRow) -> PolicyMessage:
    """The policy a row holds."""
    return PolicyMessage.model_validate({
        "version": row.version, "default": row.default_threshold, "thresholds": row.thresholds,
        "applied_by": row.applied_by, "reason": row.reason, "time": row.time,
    })


def route_row(decision: ManualTask | Delivery, *, hash_salt: str, model_version: str | None = None) -> RouteRow:
    """The ledger row of the router's decision on a frame: a delivery ships, a task goes to people.

    Tasks are blind, so their model version comes from the caller (``model_version``);
    a delivery carries its own, and ``model_version`` must then be None or agree.
    """
    return RouteRow(**route_fields(decision, hash_salt=hash_salt, model_version=model_version))


def route_fields(decision: ManualTask | Delivery, *, hash_salt: str, model_version: str | None = None
                 ) -> dict[str, Any]:
    """The attributes of :func:`route_row`'s row."""
    if isinstance(decision, Delivery):
        if model_version not in (None, decision.model_version):
            raise RowMismatch(
                f"frame {decision.frame_id!r}: delivery of {decision.model_version!r}, not {model_version!r}"
            )
        route, copies, model_version = "ship", 0, decision.model_version
    else:
        route, copies = "manual", decision.copies
    return {"frame_id": decision.frame_id, "seq": decision.seq, "policy_version": decision.policy_version,
            "inclusion_prob": decision.inclusion_prob, "hash_salt": hash_salt, "model_version": model_version,
            "route": route, "copies": copies, "time": decision.time}


def values(row: Base) -> dict[str, Any]:
    """A row's column values by column name, without an unset primary key: the parameters of a Core ``INSERT``."""
    mapper = inspect(type(row))
    out = {attr.columns[0].name: getattr(row, attr.key) for attr in mapper.column_attrs}
    for column in mapper.primary_key:
        if out.get(column.name) is None:
            del out[column.name]
    return out


def insert_values(model: type[Base], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``values(model(**fields))`` without building the ORM object (instrumented attributes cost more than the
    ``INSERT`` of the row: the persist worker's hot path)."""
    attributes, keys = _columns(model)
    out = {column: fields.get(key) for key, column in attributes}
    for column in keys:
        if out.get(column) is None:
            del out[column]
    return out


@cache
def _columns(model: type[Base]) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(attribute key, column name) of every column attribute of ``model``, and its primary key's columns."""
    mapper = inspect(model)
    return (tuple((attr.key, attr.columns[0].name) for attr in mapper.column_attrs),
            tuple(column.name for column in mapper.primary_key))
