"""Simulated blind annotators for the streaming pipeline: a manual task in, a person's annotation out.

The person is the offline replay's (``services/replay/annotators.py``): ground
truth passed through a :class:`HumanErrorModel`, with random draws from
``annotator_rng(seed, image id, copy)``. So an annotation depends only on
(seed, frame, copy) — not on which worker, partition or moment handled the task
— and an offline replay with the same seed reproduces it. Tag mistakes pick
among the data set's tag values in canonical order (``FrameTruth.tag_values``).

Error models: ``default`` is :class:`HumanErrorModel` as documented there;
``careful`` halves every rate and every jitter; ``sloppy`` triples them
(rates capped at 1). A point-cloud frame's truth is cuboids, which the same
people draw (:mod:`services.replay.cuboid_person`).
"""

from __future__ import annotations

import hashlib
from dataclasses import fields, replace

from analysis.exceptions import InvalidInput
from services.engine.frame_refs import FrameTruth, frame_truth
from services.infra.topic_names import TopicNames
from services.loop.messages import (
    AnnotatedObject,
    InvalidMessage,
    ManualAnnotation,
    ManualTask,
    dead_letter,
    decode,
    encode,
)
from services.replay.annotators import HumanErrorModel, annotate_frame, annotator_rng, drawn_object
from services.replay.human import MAGNITUDES
from services.tools.kafka import Record, Sink, key_bytes

STAGE = "annotators"
SCALES = {"default": 1.0, "careful": 0.5, "sloppy": 3.0}


def scaled(model: HumanErrorModel, factor: float) -> HumanErrorModel:
    """``model`` with every mistake rate and every jitter multiplied by ``factor`` (rates capped at 1)."""
    changes = {}
    for f in fields(model):
        value = getattr(model, f.name) * factor
        changes[f.name] = value if f.name in MAGNITUDES else min(value, 1.0)
    return replace(model, **changes)


def error_model(name: str) -> HumanErrorModel:
    """The named error model: ``default``, ``careful`` or ``sloppy``."""
    if name not in SCALES:
        raise KeyError(f"unknown error model {name!r} (expected {', '.join(SCALES)})")
    return scaled(HumanErrorModel(), SCALES[name])


def annotator_index(frame_id: str, copy: int, people: int) -> int:
    """Which of ``people`` (0-based) annotates copy ``copy`` of a frame: a hash of the frame id.

    Copy 2 (the consensus copy) always goes to someone other than copy 1, so
    ``people`` must be at least 2 when there are consensus copies.
    """
    digest = hashlib.blake2b(frame_id.encode(), digest_size=8).digest()
    h = int.from_bytes(digest, "little")
    first = h % people
    if copy == 1:
        return first
    if people < 2:
        raise ValueError("a consensus copy needs at least two people")
    return (first + 1 + (h // people) % (people - 1)) % people


def annotator_name(frame_id: str, copy: int, people: int) -> str:
    """``sim-<k>``, k from 1, of the person who annotates this copy of the frame."""
    return f"sim-{annotator_index(frame_id, copy, people) + 1}"


def annotate_task(
    task: ManualTask, *, seed: int, model: HumanErrorModel, people: int, now: float,
) -> ManualAnnotation:
    """A simulated person's annotation of ``task``, from the ground truth its frame reference names.

    Raises ``InvalidInput`` when the reference is malformed or has no known truth.
    """
    truth = frame_truth(task.image)
    objects, tags = annotate_truth(truth, seed, task.copy_, model)
    return ManualAnnotation(
        task_id=task.task_id, frame_id=task.frame_id, seq=task.seq, copy=task.copy_,
        annotator=annotator_name(task.frame_id, task.copy_, people), inclusion_prob=task.inclusion_prob,
        consensus_prob=task.consensus_prob, policy_version=task.policy_version, copies=task.copies,
        stratum=task.stratum, objects=objects, tags=tags, time=now,
    )


def annotate_truth(truth: FrameTruth, seed: int, copy: int, model: HumanErrorModel) -> tuple[list[AnnotatedObject],
                                                                                            dict[str, str]]:
    """What a simulated person draws on copy ``copy`` of the frame whose ground truth is ``truth``."""
    names = {int(c["id"]): str(c["name"]) for c in truth.categories}
    rng = annotator_rng(seed, int(truth.image["id"]), copy)
    records, tags = annotate_frame(truth.objects, truth.tags, model=model, rng=rng, names=names,
                                   ids={name: cid for cid, name in names.items()}, tag_values=truth.tag_values)
    return [AnnotatedObject.model_validate(drawn_object(r)) for r in records], tags


def handle_task(
    record: Record, sink: Sink, topics: TopicNames, *, seed: int, model: HumanErrorModel, people: int, now: float,
) -> str | None:
    """Annotate the task in ``record`` and send the annotation; send a dead letter instead if it is invalid.

    Returns the annotator's name, or None when the task went to ``dead-letters``.
    """
    try:
        task = decode(ManualTask, record.value)
        annotation = annotate_task(task, seed=seed, model=model, people=people, now=now)
    except Exception as exc:  # the error policy: a task that cannot be annotated is dead-lettered, never dropped
        letter = dead_letter(_reason(exc), STAGE, record.topic, record.partition, record.offset, record.key,
                             record.value, now)
        sink.send(topics.dead_letters, record.key, encode(letter))
        return None
    sink.send(topics.manual_annotations, key_bytes(task.frame_id), encode(annotation))
    return annotation.annotator


def _reason(exc: Exception) -> str:
    if isinstance(exc, InvalidMessage):
        return exc.reason
    if isinstance(exc, InvalidInput):
        return f"{ManualTask.KIND}: image: {exc}"
    return f"{ManualTask.KIND}: annotation failed ({type(exc).__name__}: {exc})"
