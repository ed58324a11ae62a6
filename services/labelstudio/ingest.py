"""A Label Studio annotation, from a webhook or from the bridge's poll, relayed into shadowqa's queue.

The person is ``ls:<user id>`` (a pseudonym: Label Studio's user ids, never names, reach shadowqa); the answer's
reference is ``<server key>:annotation:<id>``, so the webhook and the poll that both see it record it once. A
submitted annotation becomes the person's submission of a copy the bridge holds for the frame (boxes converted
from percent to pixels, rotated rectangles as in the batch import); a skip (``was_cancelled``) sends that copy
back to the queue; an annotation that cannot be read, or that no copy can take, is recorded as refused with the
reason. Tasks the bridge did not make are not shadowqa's and are left alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Literal

from prometheus_client import Counter
from pydantic import ValidationError

from services.api.exceptions import AlreadyRecorded
from services.api.formats.common import BatchFormatError
from services.api.formats.label_studio import label_studio_answer
from services.api.queue_tools import Answer, Relayed, ToolQueue
from services.api.schemas import Submission
from services.labelstudio.labeling import Labeling
from services.labelstudio.store import TaskMap

BRIDGE = "labelstudio-bridge"  # the queue identity that holds tasks while they are open in Label Studio
PERSON_PREFIX = "ls:"
Via = Literal["webhook", "poll"]
log = logging.getLogger(__name__)
ANSWERS = Counter("shadowqa_labelstudio_relayed", "Label Studio annotations relayed into the queue, by how they "
                  "came (webhook, or the bridge's poll: a webhook missed) and what became of them", ["via", "outcome"])
for _via in ("webhook", "poll"):
    for _outcome in ("submitted", "skipped", "refused", "duplicate"):
        ANSWERS.labels(via=_via, outcome=_outcome)


def person(annotation: Mapping[str, Any]) -> str:
    """``ls:<user id>`` of whoever made ``annotation`` (``completed_by`` is an id, or an object with ``id``)."""
    who = annotation.get("completed_by")
    if isinstance(who, Mapping):
        who = who.get("id")
    return f"{PERSON_PREFIX}{who}"


def reference(server: str, annotation_id: object) -> str:
    return f"{server}:annotation:{annotation_id}"


class Ingest:
    """Relays the annotations of one server's bridge tasks into ``queue``."""

    def __init__(self, queue: ToolQueue, tasks: TaskMap, labelings: Mapping[str, Labeling],
                 clock: Any = time.time) -> None:
        self.queue, self.tasks, self.labelings, self._clock = queue, tasks, labelings, clock

    def task(self, ls_task: Mapping[str, Any], via: Via) -> list[Relayed]:
        """Every annotation of ``ls_task`` (as ``GET /api/tasks/{id}`` gives it) not recorded yet."""
        return [r for a in ls_task.get("annotations") or [] if isinstance(a, Mapping)
                if (r := self.annotation(int(ls_task["id"]), ls_task.get("data") or {}, a, via)) is not None]

    def annotation(self, ls_task_id: int, data: Mapping[str, Any], annotation: Mapping[str, Any],
                   via: Via) -> Relayed | None:
        """Relay one annotation; None when it is not shadowqa's task or was recorded before."""
        frame_id = self.tasks.frame_of(ls_task_id)
        if frame_id is None or "id" not in annotation:
            return None
        ref, who = reference(self.tasks.server, annotation["id"]), person(annotation)
        if self.queue.recorded(ref):
            return None
        try:
            outcome = self._relay(frame_id, data, annotation, ref, who)
        except AlreadyRecorded:
            ANSWERS.labels(via=via, outcome="duplicate").inc()
            return None
        ANSWERS.labels(via=via, outcome=outcome.outcome).inc()
        if outcome.outcome == "refused":
            log.warning("Label Studio task %s, annotation %s by %s refused: %s", ls_task_id, annotation["id"], who,
                        outcome.reason)
        return outcome

    def _relay(self, frame_id: str, data: Mapping[str, Any], annotation: Mapping[str, Any], ref: str,
               who: str) -> Relayed:
        lead = annotation.get("lead_time")
        began = self._clock() - float(lead) if isinstance(lead, (int, float)) and lead >= 0 else None
        if annotation.get("was_cancelled"):
            return self.queue.relay(BRIDGE, frame_id, Answer(person=who, ref=ref, skipped=True, began_at=began,
                                                             reason="skipped in Label Studio"))
        labeling = self.labelings.get(str(data.get("shadowqa_profile", "")))
        if labeling is None:
            return self.queue.refuse(ref, who, f"the task's profile {data.get('shadowqa_profile')!r} is not one "
                                     "the bridge labels")
        try:
            parsed = label_studio_answer(annotation.get("result"), labeling.categories, where="annotation")
            if parsed.problems:
                return self.queue.refuse(ref, who, "; ".join(parsed.problems))
            body = Submission.model_validate({"annotations": parsed.objects, "tags": parsed.tags})
        except (BatchFormatError, ValidationError) as exc:
            return self.queue.refuse(ref, who, str(exc).splitlines()[0])
        return self.queue.relay(BRIDGE, frame_id, Answer(
            person=who, ref=ref, objects=[a.annotated() for a in body.annotations], tags=body.tags, began_at=began))
