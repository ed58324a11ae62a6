"""Messages to rows and back: every kind maps to the row it should, and stored rows read back as equal messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.db import mappers
from services.db.exceptions import RowMismatch
from services.db.models import Base, ManualTaskRow
from services.loop.messages import (
    AgreementStats,
    ComparisonMessage,
    Delivery,
    ManualAnnotation,
    ManualTask,
    Message,
    PolicyMessage,
    RecommendationMessage,
)
from tests.services.db.conftest import message
from tests.services.loop.messages.samples import T

FRAME = "driving-s0-000007"
OBJECT = {"geometry": {"type": "box2d", "xywh": [10.0, 20.0, 30.0, 12.0]}, "category_id": 1,
          "attributes": {"occluded": False, "visibility": 0.8, "truncated": 0, "colour": "red"}}
V1_OBJECT = {"bbox": [10.0, 20.0, 30.0, 12.0], "category_id": 1,  # as rows stored before schema version 2 hold it
             "attributes": {"occluded": False, "visibility": 0.8, "truncated": 0, "colour": "red"}}

ROWS: list[tuple[type[Message], Callable[[Any], Base], dict[str, Any]]] = [
    (ManualTask, mappers.task_row, {
        "task_id": f"{FRAME}/2", "frame_id": FRAME, "seq": 8, "image": "synthetic://driving?seed=0#7", "copy": 2,
        "inclusion_prob": 0.25, "consensus_prob": 0.1, "policy_version": 3, "copies": 2, "stratum": "all", "time": T,
        "state": "queued", "lease_owner": None, "lease_deadline": None, "attempts": 0, "expiries": 0, "priority": 0,
        "created_at": T, "updated_at": T, "clip": None}),
    (ManualAnnotation, mappers.annotation_row, {
        "task_id": f"{FRAME}/1", "annotator": "sim-2", "objects": [OBJECT],
        "tags": {"weather": "rain", "time_of_day": "day"}, "submitted_at": T, "published_at": None,
        "dead_lettered_at": None, "dead_letter_reason": None, "clip_frames": None}),
    (ComparisonMessage, mappers.comparison_row, {
        "frame_id": FRAME, "kind": "machine", "accepted": True, "inclusion_prob": 0.25, "stratum": "all",
        "confidence": 0.81, "model_version": "m@1", "policy_version": 0, "tp": 3, "fp": 0, "fn": 1, "mean_iou": 0.77,
        "time": T}),
    (AgreementStats, mappers.stats_row, {
        "stratum": "all", "model_version": "m@1", "n": 120, "estimate": 0.9, "lower": 0.8, "upper": 0.95,
        "decision": "inconclusive", "target": 0.85, "alpha": 0.05, "floor_estimate": 0.93, "floor_lower": 0.85,
        "floor_upper": 0.97, "floor_n": 40, "time": T}),
    (RecommendationMessage, mappers.recommendation_row, {
        "stratum": "all", "thresholds": {"all": 0.9, "weather=fog": None}, "automation_rate": 0.2, "action": "raise",
        "reason": "certified", "policy_version": 4, "time": T}),
    (PolicyMessage, mappers.policy_row, {
        "version": 4, "default_threshold": None, "thresholds": {"all": 0.9}, "applied_by": "recommender",
        "reason": "certified", "time": T}),
]
BACK: list[tuple[Message, Callable[[Any], Base], Callable[[Any], Message]]] = [
    (message(ComparisonMessage), mappers.comparison_row, mappers.comparison_message),
    (message(ComparisonMessage, kind="consensus", confidence=None, mean_iou=None, accepted=False, policy_version=7),
     mappers.comparison_row, mappers.comparison_message),
    (message(ManualTask), mappers.task_row, mappers.task_message),
    (message(AgreementStats), mappers.stats_row, mappers.stats_message),
    (message(AgreementStats, human_floor=None, estimate=None, n=0), mappers.stats_row, mappers.stats_message),
    (message(RecommendationMessage), mappers.recommendation_row, mappers.recommendation_message),
    # who pinned what is stored in policy_pins (the API's table), and the evidence routers learn from is
    # transient: the policies table keeps the policy itself
    (message(PolicyMessage, pinned={}, evidence={}), mappers.policy_row, mappers.policy_message),
    (message(PolicyMessage, default=0.5, thresholds={}, pinned={}, evidence={}), mappers.policy_row,
     mappers.policy_message),
]


def _columns(row: Base) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in row.__table__.columns if c.name != "id"}


@pytest.mark.parametrize(("model", "to_row", "expected"), ROWS, ids=[m.KIND for m, _, _ in ROWS])
def test_every_message_kind_maps_to_its_row(model: type[Message], to_row: Callable[[Any], Base],
                                            expected: dict[str, Any]) -> None:
    assert _columns(to_row(message(model))) == expected


@pytest.mark.parametrize(("original", "to_row", "to_message"), BACK, ids=lambda v: getattr(v, "KIND", None))
def test_stored_rows_read_back_as_equal_messages(session: Session, original: Message, to_row: Callable[[Any], Base],
                                                 to_message: Callable[[Any], Message]) -> None:
    session.add(to_row(original))
    session.commit()
    session.expunge_all()  # read what the database holds, not the objects just added
    (stored,) = session.scalars(select(type(to_row(original)))).all()
    assert to_message(stored) == original


def test_an_annotation_reads_back_with_the_sampling_fields_of_its_task(session: Session) -> None:
    annotation = message(ManualAnnotation, policy_version=2)
    task = message(ManualTask, task_id=f"{FRAME}/1", copy=1, copies=1, inclusion_prob=1.0, consensus_prob=0.0,
                   policy_version=2)
    session.add_all([mappers.task_row(task), mappers.annotation_row(annotation)])
    session.commit()
    session.expunge_all()
    (task_row,) = session.scalars(select(ManualTaskRow)).all()
    (row,) = session.scalars(select(type(mappers.annotation_row(annotation)))).all()
    assert mappers.annotation_message(row, task_row) == annotation
    other = mappers.task_row(message(ManualTask))
    with pytest.raises(RowMismatch, match=f"annotation of task '{FRAME}/1' given task '{FRAME}/2'"):
        mappers.annotation_message(row, other)


def test_an_annotation_stored_with_version_1_boxes_reads_back_as_box2d_geometry(session: Session) -> None:
    annotation = message(ManualAnnotation)
    task = message(ManualTask, task_id=f"{FRAME}/1", copy=1, copies=1, inclusion_prob=1.0, consensus_prob=0.0,
                   policy_version=0)
    old = mappers.annotation_row(annotation)
    old.objects = [V1_OBJECT]
    session.add_all([mappers.task_row(task), old])
    session.commit()
    session.expunge_all()
    (task_row,) = session.scalars(select(ManualTaskRow)).all()
    (row,) = session.scalars(select(type(old))).all()
    assert row.objects == [V1_OBJECT]
    assert mappers.annotation_message(row, task_row) == annotation


def test_task_rows_take_priority_and_creation_time() -> None:
    row = mappers.task_row(message(ManualTask), priority=5, now=T + 3)
    assert (row.priority, row.created_at, row.updated_at, row.time) == (5, T + 3, T + 3, T)


@pytest.mark.parametrize(("decision", "model_version", "expected"), [
    (message(Delivery), None, {"route": "ship", "copies": 0, "model_version": "m@1", "inclusion_prob": 0.25}),
    (message(Delivery), "m@1", {"route": "ship", "copies": 0, "model_version": "m@1", "inclusion_prob": 0.25}),
    (message(ManualTask), "m@1", {"route": "manual", "copies": 2, "model_version": "m@1", "inclusion_prob": 0.25}),
    (message(ManualTask, copies=1, copy=1, task_id=f"{FRAME}/1"), None,
     {"route": "manual", "copies": 1, "model_version": None, "inclusion_prob": 0.25}),
], ids=["ship", "ship-same-model", "manual-consensus", "manual-blind-model"])
def test_router_decisions_map_to_ledger_rows(decision: ManualTask | Delivery, model_version: str | None,
                                             expected: dict[str, Any]) -> None:
    row = mappers.route_row(decision, hash_salt="shadowqa", model_version=model_version)
    common = {"frame_id": FRAME, "seq": 8, "policy_version": 3, "hash_salt": "shadowqa", "time": T}
    assert _columns(row) == {**common, **expected}


def test_a_delivery_of_another_model_is_refused() -> None:
    with pytest.raises(RowMismatch, match="delivery of 'm@1', not 'm@2'"):
        mappers.route_row(message(Delivery), hash_salt="s", model_version="m@2")


@pytest.mark.parametrize(("row", "fields"), [
    (lambda: mappers.task_row(message(ManualTask), priority=3), lambda: mappers.task_fields(message(ManualTask),
                                                                                            priority=3)),
    (lambda: mappers.comparison_row(message(ComparisonMessage)),
     lambda: mappers.comparison_fields(message(ComparisonMessage))),
    (lambda: mappers.route_row(message(Delivery), hash_salt="s"),
     lambda: mappers.route_fields(message(Delivery), hash_salt="s")),
    (lambda: mappers.route_row(message(ManualTask), hash_salt="s", model_version="m"),
     lambda: mappers.route_fields(message(ManualTask), hash_salt="s", model_version="m")),
], ids=["task", "comparison", "delivery-route", "task-route"])
def test_insert_values_are_the_values_of_the_row_without_building_it(row: Callable[[], Base],
                                                                      fields: Callable[[], dict[str, Any]]) -> None:
    built = row()
    assert mappers.insert_values(type(built), fields()) == mappers.values(built)
