"""The tables, as SQLAlchemy 2 typed ORM classes; portable types only (SQLite and PostgreSQL).

Times are Unix seconds (``DOUBLE PRECISION``), as in the messages, so a row
converts back to its message exactly; Grafana reads them with
``$__unixEpochFilter(time)``. Rows mirror the messages of docs/streaming.md;
``services/db/mappers.py`` converts between the two.
"""

from __future__ import annotations

from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.db.states import TaskState

NAMING = {  # stable constraint names, so migrations can drop and alter them on every backend
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
STATES = ", ".join(f"'{s.value}'" for s in TaskState)
LEASE_OUTCOMES = "'submitted', 'expired', 'skipped', 'handed_over', 'released'"

Id = Annotated[int, mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)]
Name = Annotated[str, mapped_column(String(255))]
Big = Annotated[int, mapped_column(BigInteger())]
Small = Annotated[int, mapped_column(SmallInteger())]
Real = Annotated[float, mapped_column(Double())]
OptionalReal = Annotated[float | None, mapped_column(Double())]
Json = Annotated[Any, mapped_column(JSON())]


class Base(DeclarativeBase):
    """Declarative base of every table; its ``metadata`` is what the migrations are checked against."""

    metadata = MetaData(naming_convention=NAMING)


class ManualTaskRow(Base):
    """A blind manual task (``ManualTask``) and its lease: where it is in the state machine, who holds it."""

    __tablename__ = "manual_tasks"
    __table_args__ = (
        CheckConstraint(f"state IN ({STATES})", name="state"),
        CheckConstraint("copy IN (1, 2) AND copies IN (1, 2)", name="copy"),
        Index("ix_manual_tasks_state_priority", "state", "priority", "created_at"),
    )

    id: Mapped[Id]
    task_id: Mapped[str] = mapped_column(String(255), unique=True)
    frame_id: Mapped[str] = mapped_column(String(255), index=True)
    seq: Mapped[Big]
    image: Mapped[str] = mapped_column(Text())
    copy: Mapped[Small]
    inclusion_prob: Mapped[Real]
    consensus_prob: Mapped[Real]
    policy_version: Mapped[Big]
    copies: Mapped[Small]
    stratum: Mapped[Name]
    time: Mapped[Real]
    state: Mapped[str] = mapped_column(String(16), default=TaskState.QUEUED.value)
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_deadline: Mapped[OptionalReal]
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    expiries: Mapped[int] = mapped_column(Integer(), default=0, server_default="0")  # leases that ran out
    priority: Mapped[int] = mapped_column(Integer(), default=0)
    created_at: Mapped[Real]
    updated_at: Mapped[Real]
    clip: Mapped[Any | None] = mapped_column(JSON())  # a clip task: ``TaskClip`` (its frames), null for a frame's


class ManualAnnotationRow(Base):
    """A person's answer to one task (``ManualAnnotation``); the task's sampling fields stay on the task."""

    __tablename__ = "manual_annotations"

    id: Mapped[Id]
    task_id: Mapped[str] = mapped_column(String(255), ForeignKey("manual_tasks.task_id"), unique=True)
    annotator: Mapped[Name]
    objects: Mapped[Json]
    tags: Mapped[Json]
    submitted_at: Mapped[Real]
    published_at: Mapped[OptionalReal]  # when the API's outbox put it on `manual-annotations` (None: not yet)
    # when and why the outbox gave up on it (it cannot be encoded or sent) and put a dead letter on `dead-letters`
    dead_lettered_at: Mapped[OptionalReal]
    dead_letter_reason: Mapped[str | None] = mapped_column(Text())
    clip_frames: Mapped[Any | None] = mapped_column(JSON())  # a clip task's answer: objects per frame, track ids

    # also makes a flush insert the task before its annotation (foreign keys alone do not order inserts)
    task: Mapped[ManualTaskRow] = relationship()


class ComparisonRow(Base):
    """One compared frame (``ComparisonMessage``); one row per (frame, kind), whatever the topic replays."""

    __tablename__ = "comparisons"
    __table_args__ = (
        UniqueConstraint("frame_id", "kind"),
        CheckConstraint("kind IN ('machine', 'consensus')", name="kind"),
        Index("ix_comparisons_stratum_time", "stratum", "time"),
    )

    id: Mapped[Id]
    frame_id: Mapped[Name]
    kind: Mapped[str] = mapped_column(String(16))
    accepted: Mapped[bool] = mapped_column(Boolean())
    inclusion_prob: Mapped[Real]
    stratum: Mapped[Name]
    confidence: Mapped[OptionalReal]
    model_version: Mapped[Name]
    policy_version: Mapped[Big]
    tp: Mapped[Big]
    fp: Mapped[Big]
    fn: Mapped[Big]
    mean_iou: Mapped[OptionalReal]
    time: Mapped[Real]


class StatsRow(Base):
    """A snapshot of a stratum's running acceptance estimate (``AgreementStats``), human floor flattened."""

    __tablename__ = "agreement_stats"
    __table_args__ = (
        Index("ix_agreement_stats_stratum_time", "stratum", "time"),
        UniqueConstraint("stratum", "model_version", "n", "time"),  # a replayed snapshot is the same snapshot
    )

    id: Mapped[Id]
    stratum: Mapped[Name]
    model_version: Mapped[Name]
    n: Mapped[Big]
    estimate: Mapped[OptionalReal]
    lower: Mapped[Real]
    upper: Mapped[Real]
    decision: Mapped[str] = mapped_column(String(16))
    target: Mapped[Real]
    alpha: Mapped[Real]
    floor_estimate: Mapped[OptionalReal]
    floor_lower: Mapped[OptionalReal]
    floor_upper: Mapped[OptionalReal]
    floor_n: Mapped[int | None] = mapped_column(BigInteger())
    time: Mapped[Real]


class RecommendationRow(Base):
    """The recommender's thresholds per stratum and what it advises (``RecommendationMessage``)."""

    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("stratum", "policy_version", "time"),)

    id: Mapped[Id]
    stratum: Mapped[Name]
    thresholds: Mapped[Json]
    automation_rate: Mapped[Real]
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text())
    policy_version: Mapped[Big]
    time: Mapped[Real] = mapped_column(Double(), index=True)


class PolicyRow(Base):
    """An automation policy that was in force (``PolicyMessage``); versions are unique."""

    __tablename__ = "policies"

    id: Mapped[Id]
    version: Mapped[int] = mapped_column(BigInteger(), unique=True)
    default_threshold: Mapped[OptionalReal]
    thresholds: Mapped[Json]
    applied_by: Mapped[Name]
    reason: Mapped[str] = mapped_column(Text())
    time: Mapped[Real]


class PolicyPinRow(Base):
    """A person's pin of one stratum's threshold (null: nothing ships), held until released (the row deleted)."""

    __tablename__ = "policy_pins"

    stratum: Mapped[str] = mapped_column(String(255), primary_key=True)
    threshold: Mapped[OptionalReal]
    pinned_by: Mapped[Name]
    reason: Mapped[str] = mapped_column(Text())
    time: Mapped[Real]


class RouteRow(Base):
    """The router's ledger: one decision per frame, with what it needs to be replayed (policy, π, hash salt)."""

    __tablename__ = "routes"
    __table_args__ = (
        CheckConstraint("route IN ('ship', 'manual')", name="route"),
        CheckConstraint("(route = 'ship' AND copies = 0) OR (route = 'manual' AND copies IN (1, 2))", name="copies"),
    )

    id: Mapped[Id]
    frame_id: Mapped[str] = mapped_column(String(255), unique=True)
    seq: Mapped[Big]
    policy_version: Mapped[Big]
    inclusion_prob: Mapped[Real]
    hash_salt: Mapped[Name]
    model_version: Mapped[str | None] = mapped_column(String(255))
    route: Mapped[str] = mapped_column(String(8))
    copies: Mapped[Small]
    time: Mapped[Real]


class TaskLeaseRow(Base):
    """Every lease ever given: who held which task from when to when and how it ended (the queue's audit log).

    ``outcome`` is None while the lease is held, then ``submitted``, ``expired`` or ``skipped`` (with ``reason``);
    a tool's lease (a bridge holding tasks for people working elsewhere) ends ``handed_over`` when a person's
    answer arrives (the person's own lease follows) or ``released`` when the tool gives it back. The queue reads
    it to keep both copies of a frame with different people and a skipped task away from whoever skipped it.
    """

    __tablename__ = "task_leases"
    __table_args__ = (
        CheckConstraint(f"outcome IS NULL OR outcome IN ({LEASE_OUTCOMES})", name="outcome"),
        Index("ix_task_leases_annotator_frame", "annotator", "frame_id"),
    )

    id: Mapped[Id]
    task_id: Mapped[str] = mapped_column(String(255), ForeignKey("manual_tasks.task_id"), index=True)
    frame_id: Mapped[Name]
    annotator: Mapped[Name]
    leased_at: Mapped[Real]
    ended_at: Mapped[OptionalReal]
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text())



class ExternalRefRow(Base):
    """An answer from another tool that was recorded (an idempotency key): the same event, seen twice (a webhook
    and a poll), is recorded once. ``outcome``: ``submitted``, ``skipped`` or ``refused`` (with ``reason``)."""

    __tablename__ = "external_refs"

    ref: Mapped[str] = mapped_column(String(255), primary_key=True)
    task_id: Mapped[str | None] = mapped_column(String(255))
    annotator: Mapped[Name]
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text())
    recorded_at: Mapped[Real]


class LabelStudioTaskRow(Base):
    """A Label Studio task the bridge made for one frame (its copies leased to the bridge); closed when the bridge
    holds none of them any more."""

    __tablename__ = "labelstudio_tasks"
    __table_args__ = (UniqueConstraint("server", "ls_task_id"),
                      Index("ix_labelstudio_tasks_open", "server", "closed_at"))

    id: Mapped[Id]
    server: Mapped[Name]  # which Label Studio (services/labelstudio/client.py server_key)
    project_id: Mapped[int] = mapped_column(Integer())
    ls_task_id: Mapped[int] = mapped_column(Integer())
    frame_id: Mapped[str] = mapped_column(String(255), index=True)
    image_task_id: Mapped[str] = mapped_column(String(255))  # the copy whose signed URL shows the image
    overlap: Mapped[int] = mapped_column(Integer())
    signed_until: Mapped[Real]
    created_at: Mapped[Real]
    closed_at: Mapped[OptionalReal]
    reason: Mapped[str | None] = mapped_column(Text())


ACTIVE_TOKEN = text("revoked_at IS NULL")


class ApiTokenRow(Base):
    """An API token: a name, a role, and the SHA-256 of the secret (the secret itself is never stored).

    The name is the holder's identity; it has at most one unrevoked token (a partial unique index), and revoked
    rows stay as the record of earlier secrets, so revoking frees the name for a new token of the same person.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("role IN ('annotator', 'reader', 'admin')", name="role"),
        Index("uq_api_tokens_name_active", "name", unique=True, sqlite_where=ACTIVE_TOKEN,
              postgresql_where=ACTIVE_TOKEN),
    )

    id: Mapped[Id]
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[Name]
    created_at: Mapped[Real]
    revoked_at: Mapped[OptionalReal]
