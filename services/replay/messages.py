"""The replay's prepared data as the loop's messages: the engine's results and the simulated people's work.

The driver (``services/loop/driver.py``) routes, joins and compares messages
exactly as the streaming workers do; these turn the replay's engine results
and annotator documents into those messages.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.engine.annotate import automation_message
from services.loop.driver import Annotate
from services.loop.messages import AutomationMessage, ManualAnnotation, ManualTask
from services.replay.annotators import drawn_object
from services.replay.data import ReplayData


def automation_messages(data: ReplayData, dataset: str) -> list[AutomationMessage]:
    """Every frame's engine result, stamped with the replay's simulated arrival time."""
    return [automation_message(r, frame_id=info.frame_id, seq=int(r.frame_id), image=f"replay://{dataset}#{r.frame_id}",
                               stratum=info.stratum, time=info.time)
            for r, info in zip(data.results, data.info, strict=True)]


def people(data: ReplayData) -> Annotate:
    """The simulated annotators: copy ``k`` of a task is annotator ``k``'s drawing of the frame (blind)."""
    by_image = [_by_image(doc) for doc in data.people]
    tags = [{int(img["id"]): dict(img.get("tags", {})) for img in doc["images"]} for doc in data.people]

    def annotate(task: ManualTask) -> ManualAnnotation:
        k = task.copy_ - 1
        objects = [drawn_object(a) for a in by_image[k].get(task.seq, [])]
        return ManualAnnotation.model_validate({
            "task_id": task.task_id, "frame_id": task.frame_id, "seq": task.seq, "copy": task.copy_,
            "annotator": f"sim-{task.copy_}", "inclusion_prob": task.inclusion_prob,
            "consensus_prob": task.consensus_prob, "policy_version": task.policy_version, "copies": task.copies,
            "stratum": task.stratum, "objects": objects, "tags": tags[k].get(task.seq, {}), "time": task.time,
        })

    return annotate


def _by_image(doc: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for a in doc.get("annotations", []):
        out[int(a["image_id"])].append(a)
    return out
