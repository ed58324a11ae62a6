"""Task batches for external tools: export leases a batch to an assignee in the tool's format; import submits
what the tool exported, task by task.

An import is blocking work (parsing, one transaction per task): the route runs
it in the threadpool, never on the event loop. Each task's answer is held to
the same bounds as a submission through the queue API (services/api/schemas.py);
a task that breaks them, or that the tool's reader rejects, is listed in
``rejected`` with the reason and the others are imported. A body that is not
the tool's export at all is a 422 naming the place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from pydantic import ValidationError

from services.api import formats, metrics
from services.api.errors import invalid
from services.api.exceptions import QueueError
from services.api.queue import Lease, Queue
from services.api.schemas import ImportResult, Submission
from services.engine.frame_refs import frame_truth
from services.exceptions import InvalidInput
from services.loop.messages.reasons import reason


def export_batch(leases: list[Lease], kind: formats.Format, image_url: Callable[[str], object]) -> tuple[bytes, str]:
    """The leased tasks in the tool's format, and its media type; ``image_url(task_id)`` is a task's image URL."""
    tasks = [_batch_task(lease, str(image_url(lease.task_id))) for lease in leases]
    names = list(category_ids())
    if kind == "cvat":
        return formats.cvat_document(tasks, names), "application/xml"
    return orjson.dumps({"tasks": formats.label_studio_tasks(tasks),
                         "label_config": formats.label_studio_config(names, _tag_values(leases))}), "application/json"


@dataclass(frozen=True)
class ImportOptions:
    """How an import reads the tool's file: rotated boxes and shapes other than boxes (formats.common)."""

    rotated: formats.Rotated = "enclose"
    other_shapes: formats.Others = "reject"


def import_batch(queue: Queue, raw: bytes, kind: formats.Format, assignee: str, options: ImportOptions,
                 named: bool) -> ImportResult:
    """Submit each task of the tool's export as ``assignee`` (who holds the leases); ``named``: count the
    submissions under the assignee's name in the metrics."""
    result = ImportResult(submitted=[], rejected={})
    for task in _read(raw, kind, options):
        if isinstance(task, formats.Rejected):
            result.rejected[task.task_id] = task.reason
            continue
        try:
            body = Submission.model_validate({"annotations": task.objects, "tags": task.tags})
            queue.submit(assignee, task.task_id, [a.annotated() for a in body.annotations], body.tags)
        except ValidationError as exc:
            result.rejected[task.task_id] = reason(exc)
            continue
        except QueueError as exc:
            result.rejected[task.task_id] = exc.detail
            continue
        metrics.SUBMITTED.labels(metrics.person(assignee, named)).inc()
        result.submitted.append(task.task_id)
        if task.left_out:
            result.left_out[task.task_id] = "; ".join(task.left_out)
    return result


def _read(raw: bytes, kind: formats.Format, options: ImportOptions) -> list[formats.Submission | formats.Rejected]:
    try:
        if kind == "cvat":
            return formats.from_cvat(raw, category_ids(), options.rotated, options.other_shapes)
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise formats.BatchFormatError("document", f"not JSON ({exc})") from None
        return formats.from_label_studio(document, category_ids(), options.rotated, options.other_shapes)
    except formats.BatchFormatError as exc:
        raise invalid(["body", exc.where], exc.detail) from None


def category_ids() -> dict[str, int]:
    """The driving data set's category ids by name (what batch labels are read as)."""
    from services.datasets.driving.coco import categories

    return {str(c["name"]): int(c["id"]) for c in categories()}


def _batch_task(lease: Lease, url: str) -> formats.BatchTask:
    width, height = 0, 0
    with contextlib.suppress(InvalidInput):
        image = frame_truth(lease.image).image
        width, height = int(image["width"]), int(image["height"])
    return formats.BatchTask(lease.task_id, lease.frame_id, lease.stratum, url, width, height)


def _tag_values(leases: list[Lease]) -> dict[str, list[str]]:
    for lease in leases:
        with contextlib.suppress(InvalidInput):
            return frame_truth(lease.image).tag_values
    return {}
