"""The Label Studio bridge's two doors into the API: the webhook Label Studio calls when an annotation is made,
and the signed image URLs its labelling page loads.

The API has them when it is assembled with :func:`extension` (``shadowqa api serve`` does when the bridge's shared
secret SHADOWQA_LABELSTUDIO_SECRET is set; without it, no such routes: 404). The webhook needs the secret in
``X-Shadowqa-Secret`` (Label Studio sends the webhook's configured headers); it answers at once, after recording
the annotation (Label Studio waits 1 s and never retries: what a webhook misses, the
bridge's poll brings). An image URL needs a valid, unexpired signature (services/labelstudio/signing.py) and no
token: the browser fetches it cross-origin, so it is answered with ``Access-Control-Allow-Origin: *`` (the
signature, not the origin, is what guards it).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from services.api.deps import ApiDep
from services.api.errors import invalid
from services.api.extensions import Extension, ExtensionFactory
from services.api.queue_tools import ToolQueue
from services.api.routes.tasks import png
from services.api.state import Api
from services.engine.frame_refs import resolve_frame
from services.exceptions import InvalidInput
from services.labelstudio.client import server_key
from services.labelstudio.exceptions import BadSignature
from services.labelstudio.ingest import Ingest
from services.labelstudio.labeling import labelings
from services.labelstudio.metrics import LabelStudioCollector, PeopleNames
from services.labelstudio.signing import verify
from services.labelstudio.store import TaskMap

router = APIRouter(prefix="/v1/labelstudio", tags=["labelstudio"])
SECRET_HEADER = "X-Shadowqa-Secret"
ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED")
NAME = "labelstudio"


@dataclass(frozen=True)
class LabelStudioLink:
    """What the API needs to take the bridge's webhooks and serve its images: which Label Studio the bridge works
    with (its tasks are mapped per server) and the shared secret; with an API token of that Label Studio, the
    metrics can name people (``named``) instead of showing their pseudonyms."""

    url: str
    secret: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Linked:
    ingest: Ingest
    secret: str = field(repr=False)


def extension(link: LabelStudioLink, named: bool = False) -> ExtensionFactory:
    """The bridge's routes and its metrics (services/labelstudio/metrics.py), for ``create_app(extensions=...)``;
    ``named``: people by their Label Studio e-mail address in /metrics (needs ``link.token``)."""

    def make(api: Api) -> Extension:
        if not isinstance(api.queue, ToolQueue):
            raise TypeError("the Label Studio routes need the API's queue to be a ToolQueue")
        ingest = Ingest(api.queue, TaskMap(api.engine, server_key(link.url)), labelings())
        names = PeopleNames(link.url, link.token) if named and link.token else None
        return Extension(NAME, router, [LabelStudioCollector(api.engine, names)], _Linked(ingest, link.secret))

    return make


def metrics_only() -> ExtensionFactory:
    """The Label Studio side of /metrics alone (no bridge routes): an API without the bridge's secret still shows
    it, at 0 when no bridge works with this database."""

    def make(api: Api) -> Extension:
        return Extension(NAME + "-metrics", APIRouter(), [LabelStudioCollector(api.engine)])

    return make


def _linked(request: Request) -> _Linked:
    linked: _Linked = request.app.state.extensions[NAME]
    return linked


@router.post("/webhook", status_code=204, response_class=Response,
             responses={401: {"description": "missing or wrong shared secret"}})
async def webhook(request: Request, secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None) -> Response:
    """An annotation made in Label Studio: recorded as the person's submission (or skip) before the answer."""
    linked = _linked(request)
    if secret is None or not hmac.compare_digest(secret.encode(), linked.secret.encode()):
        raise HTTPException(401, f"missing or wrong {SECRET_HEADER}")
    try:
        body = await request.json()
    except ValueError:
        raise invalid(["body"], "expected Label Studio's webhook JSON") from None
    if not isinstance(body, dict):
        raise invalid(["body"], "expected a JSON object")
    if body.get("action") in ANNOTATION_ACTIONS and isinstance(body.get("task"), dict):
        await run_in_threadpool(_record, linked.ingest, body)
    return Response(status_code=204)


def _record(ingest: Ingest, body: dict[str, Any]) -> None:
    task = body["task"]
    annotations = body.get("annotations") or [body.get("annotation")]
    for annotation in annotations:
        if isinstance(annotation, dict) and isinstance(task.get("id"), int):
            ingest.annotation(task["id"], task.get("data") or {}, annotation, "webhook")


@router.get("/images/{task_id:path}", name="labelstudio_image", response_class=Response,
            responses={200: {"content": {"image/png": {}}}, 403: {"description": "bad or expired signature"},
                       404: {"description": "no such task"}})
def image(task_id: Annotated[str, Path(max_length=255)], expires: Annotated[int, Query()],
          sig: Annotated[str, Query(max_length=128)], request: Request, api: ApiDep) -> Response:
    """A task's frame, for the browser showing it in Label Studio."""
    try:
        verify(_linked(request).secret, task_id, expires, sig)
    except BadSignature as exc:
        raise HTTPException(403, str(exc)) from None
    ref = api.queue.image_of(task_id)
    if ref is None:
        raise HTTPException(404, "no such task")
    try:
        frame = resolve_frame(ref)
    except InvalidInput as exc:
        raise invalid(["path", "task_id"], f"the task's frame cannot be read: {exc}") from None
    if frame.image is None:
        raise invalid(["path", "task_id"], f"the task's frame cannot be read: {frame.error}")
    return Response(png(frame.image), media_type="image/png",
                    headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "private, max-age=3600"})
