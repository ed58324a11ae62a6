"""The HTTP API: the annotation queue, rollout gates, stats, recommendations and policies (FastAPI).

FastAPI rather than faust's web views: request bodies are validated by the
same pydantic models the messages use (a malformed body gets 422 naming the
field), the OpenAPI document is derived from them (schemathesis fuzzes it in
the tests), and the API runs apart from the stream workers, on its own replicas.

Who may call what (``Authorization: Bearer <token>``; tokens in services/api/tokens.py):

===========================  =========  ======  =====
endpoint                     annotator  reader  admin
===========================  =========  ======  =====
/v1/tasks/* (own leases)     yes        no      no
/v1/gates, /v1/stats,
/v1/recommendations          no         yes     yes
/v1/policies, /v1/admin/*    no         no      yes
===========================  =========  ======  =====

An annotator sees a task's frame and nothing of the machine's answer: no
response model has a field for boxes, scores, confidences, inclusion
probabilities or comparisons (tests/services/api/test_blind.py).
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, func, select, text

from services.api import formats, metrics
from services.api.evidence import POOLED, Evidence, GateQuery, GateQueryError
from services.api.outbox import Outbox
from services.api.queue import Lease, Queue, QueueConfig, QueueError
from services.api.tokens import Principal, Role, TokenError, Tokens
from services.db.engine import session_factory
from services.db.models import PolicyRow
from services.engine.frame_refs import frame_truth, resolve_frame
from services.exceptions import InvalidInput
from services.infra.topic_names import TopicNames
from services.messages import AnnotatedObject, PolicyMessage, encode
from services.messages.fields import Attributes, Box, CategoryId
from services.tools.kafka import Sink

log = logging.getLogger(__name__)
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
TaskId = Annotated[str, Path(min_length=1, max_length=255)]


@dataclass(frozen=True)
class ApiConfig:
    lease_s: float = 300.0
    max_leases: int = 1
    max_weight: float = 4.0  # default gate weight bound: 1/(the router's audit floor, 0.25 by default)
    sweep_every_s: float = 1.0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskView(BaseModel):
    """A leased task, as its annotator sees it: the frame to annotate and the lease. Blind by construction."""

    task_id: str
    frame_id: str
    copy_number: int = Field(description="1, or 2 for a consensus copy (another person has copy 1)")
    stratum: str
    image_ref: str = Field(description="the frame reference (synthetic://, sklearn-digits://, file://)")
    image_url: str
    lease_deadline: float = Field(description="Unix seconds; heartbeat before it to keep the task")
    lease_seconds: float


class CocoObject(BaseModel):
    """One COCO annotation record; fields COCO files carry besides these (id, image_id, area, ...) are ignored."""

    model_config = ConfigDict(extra="ignore")

    bbox: Box = Field(description="[x, y, width, height] in pixels")
    category_id: CategoryId
    attributes: Attributes = Field(default_factory=dict)

    def annotated(self) -> AnnotatedObject:
        return AnnotatedObject(bbox=self.bbox, category_id=self.category_id, attributes=self.attributes)


class Submission(Strict):
    """An annotation in COCO form: boxes [x, y, width, height] in pixels, category ids, and image tags."""

    annotations: list[CocoObject] = Field(max_length=10_000)
    tags: dict[Annotated[str, Field(min_length=1, max_length=64)], Annotated[str, Field(max_length=256)]] = Field(
        default_factory=dict, max_length=64)


class Skip(Strict):
    reason: str = Field(min_length=1, max_length=500, description="why the task cannot be annotated")


class Submitted(BaseModel):
    task_id: str
    annotator: str
    submitted_at: float


class NewToken(Strict):
    name: str = Field(pattern=NAME, description="the holder's identity (an annotator's name in the queue)")
    role: Role


class TokenOut(BaseModel):
    name: str
    role: Role
    token: str | None = Field(default=None, description="shown once, at creation")
    created_by: str | None = None
    created_at: float | None = None
    revoked: bool = False


class ApplyPolicy(Strict):
    recommendation_id: int = Field(ge=1, le=2**62, description="the id of a recommendation (GET /v1/recommendations)")
    reason: str = Field(min_length=1, max_length=1000)


class PolicyOut(BaseModel):
    version: int
    default: float | None
    thresholds: dict[str, float | None]
    applied_by: str
    reason: str
    time: float


class ExportBatch(Strict):
    format: Literal["label-studio", "cvat"]
    assignee: str = Field(pattern=NAME, description="who works the batch in the external tool (leases are theirs)")
    size: int = Field(default=100, ge=1, le=1000)
    lease_hours: float = Field(default=24.0, gt=0, le=24 * 14)


class ImportResult(BaseModel):
    submitted: list[str]
    rejected: dict[str, str]


class FlaggerHook(BaseModel):
    """Flagger's webhook payload; ``metadata`` may carry target, alpha, max_weight, model_version."""

    name: str = ""
    namespace: str = ""
    phase: str = ""
    metadata: dict[str, str] = Field(default_factory=dict)


class Api:
    """What the routes share: the database-backed parts and the Kafka sink (None: policies cannot be applied)."""

    def __init__(self, engine: Engine, config: ApiConfig, admin_token: str | None, sink: Sink | None,
                 names: TopicNames) -> None:
        self.engine, self.config, self.sink, self.names = engine, config, sink, names
        self.queue = Queue(engine, QueueConfig(config.lease_s, config.max_leases), on_expired=expired)
        self.tokens = Tokens(engine, admin_token)
        self.evidence = Evidence(engine)
        self.registry = metrics.registry(engine)
        self.outbox = Outbox(engine, sink, names.manual_annotations) if sink is not None else None
        self._stop = threading.Event()
        self._policy_lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self._sweeper, name="lease-sweeper", daemon=True).start()
        if self.outbox is not None:
            self.outbox.start()

    def stop(self) -> None:
        self._stop.set()
        if self.outbox is not None:
            self.outbox.stop()

    def _sweeper(self) -> None:
        while not self._stop.wait(self.config.sweep_every_s):
            try:
                self.queue.sweep()  # counted by ``expired``, as the expiries claims find themselves
            except Exception as exc:  # database away: the next sweep (or claim) catches up
                log.warning("lease sweep failed (%s: %s)", type(exc).__name__, exc)


def expired(leases: list[Any]) -> None:
    for e in leases:
        metrics.EXPIRIES.labels(stratum=e.stratum).inc()


_bearer = HTTPBearer(auto_error=False)


def _principal(request: Request,
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    api: Api = request.app.state.api
    who = api.tokens.authenticate(credentials.credentials) if credentials is not None else None
    if who is None:
        raise HTTPException(401, "missing or invalid API token (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    return who


def _role(*allowed: Role) -> Callable[[Principal], Principal]:
    def check(who: Annotated[Principal, Depends(_principal)]) -> Principal:
        if who.role not in allowed:
            raise HTTPException(403, f"a {who.role} token may not do this")
        return who
    return check


Annotator = Annotated[Principal, Depends(_role(Role.ANNOTATOR))]
Reader = Annotated[Principal, Depends(_role(Role.READER, Role.ADMIN))]
Admin = Annotated[Principal, Depends(_role(Role.ADMIN))]


def create_app(engine: Engine, *, config: ApiConfig | None = None, admin_token: str | None = None,
               sink: Sink | None = None, names: TopicNames | None = None, background: bool = True) -> FastAPI:
    """The API on ``engine`` (migrated by the caller). ``sink`` publishes annotations and policies to Kafka."""
    api = Api(engine, config or ApiConfig(), admin_token, sink, names or TopicNames(""))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background:
            api.start()
        yield
        api.stop()

    app = FastAPI(title="shadowqa", version="1", lifespan=lifespan,
                  description="Annotation queue, rollout gates and statistics of shadowqa.")
    app.state.api = api
    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        begin = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        metrics.LATENCY.labels(request.method, path).observe(time.perf_counter() - begin)
        return response

    @app.exception_handler(QueueError)
    async def queue_error(_: Request, exc: QueueError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    def view(lease: Lease, request: Request) -> TaskView:
        return TaskView(task_id=lease.task_id, frame_id=lease.frame_id, copy_number=lease.copy,
                        stratum=lease.stratum, image_ref=lease.image,
                        image_url=str(request.url_for("task_image", task_id=lease.task_id)),
                        lease_deadline=lease.lease_deadline, lease_seconds=api.config.lease_s)

    # --- liveness, metrics -------------------------------------------------------------------------------------
    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], responses={503: {"description": "the database does not answer"}})
    def readyz() -> JSONResponse:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            return JSONResponse({"status": "database unavailable", "error": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["ops"], response_class=Response)
    def prometheus() -> Response:
        return Response(generate_latest(REGISTRY) + generate_latest(api.registry), media_type=CONTENT_TYPE_LATEST)

    # --- the annotation queue ----------------------------------------------------------------------------------
    @app.post("/v1/tasks/claim", tags=["queue"], response_model=TaskView,
              responses={204: {"description": "no task is waiting for you"},
                         409: {"description": "you hold as many tasks as allowed"}})
    def claim(who: Annotator, request: Request) -> Any:
        lease = api.queue.claim(who.name)
        if lease is None:
            return Response(status_code=204)
        metrics.CLAIMED.labels(who.name).inc()
        return view(lease, request)

    @app.get("/v1/tasks", tags=["queue"])
    def my_tasks(who: Annotator, request: Request) -> list[TaskView]:
        return [view(lease, request) for lease in api.queue.mine(who.name)]

    @app.get("/v1/tasks/{task_id:path}/image", tags=["queue"], name="task_image", response_class=Response,
             responses={200: {"content": {"image/png": {}}}, 404: {"description": "not your task"}})
    def task_image(task_id: TaskId, who: Annotator) -> Response:
        lease = api.queue.held(who.name, task_id)
        try:
            frame = resolve_frame(lease.image)
        except InvalidInput as exc:
            raise _invalid(["path", "task_id"], f"the task's frame cannot be read: {exc}") from None
        if frame.image is None:
            raise _invalid(["path", "task_id"], f"the task's frame cannot be read: {frame.error}")
        return Response(_png(frame.image), media_type="image/png")

    @app.post("/v1/tasks/{task_id:path}/heartbeat", tags=["queue"],
              responses={404: {"description": "not your task"}, 409: {"description": "the lease ran out"}})
    def heartbeat(task_id: TaskId, who: Annotator, request: Request) -> TaskView:
        return view(api.queue.heartbeat(who.name, task_id), request)

    @app.post("/v1/tasks/{task_id:path}/submit", tags=["queue"],
              responses={404: {"description": "not your task"}, 409: {"description": "the lease ran out"}})
    def submit(task_id: TaskId, body: Submission, who: Annotator) -> Submitted:
        row = api.queue.submit(who.name, task_id, [a.annotated() for a in body.annotations], body.tags)
        metrics.SUBMITTED.labels(who.name).inc()
        return Submitted(task_id=task_id, annotator=who.name, submitted_at=row.submitted_at)

    @app.post("/v1/tasks/{task_id:path}/skip", tags=["queue"], status_code=204, response_class=Response,
              responses={404: {"description": "not your task"}, 409: {"description": "the lease ran out"}})
    def skip(task_id: TaskId, body: Skip, who: Annotator) -> Response:
        api.queue.skip(who.name, task_id, body.reason)
        metrics.SKIPPED.labels(who.name).inc()
        return Response(status_code=204)

    @app.get("/v1/tasks/{task_id:path}", tags=["queue"], responses={404: {"description": "not your task"}})
    def my_task(task_id: TaskId, who: Annotator, request: Request) -> TaskView:
        return view(api.queue.held(who.name, task_id), request)

    # --- gates, stats, recommendations ---------------------------------------------------------------------------
    def gate_answer(stratum: str, target: float, alpha: float, max_weight: float | None,
                    model_version: str | None, every_stratum: bool, where: list[str | int] | None = None
                    ) -> dict[str, Any]:
        query = GateQuery(stratum, target, alpha, api.config.max_weight if max_weight is None else max_weight,
                          model_version, every_stratum)
        try:
            return api.evidence.gate(query)
        except GateQueryError as exc:
            raise _invalid([*(where or ["query"]), exc.field], exc.detail) from None

    @app.get("/v1/gates/{stratum}", tags=["gates"])
    def gate(
        stratum: Annotated[str, Path(min_length=1, max_length=255,
                                     description=f"a stratum key (weather=rain), or {POOLED} for all frames")],
        who: Reader,
        target: Annotated[float, Query(gt=0, lt=1, description="acceptance rate to prove")],
        alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
        max_weight: Annotated[float | None, Query(ge=1, le=1e9, description="largest weight 1/π (default "
                                                  "1/audit floor)")] = None,
        model_version: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
        every_stratum: bool = False,
    ) -> dict[str, Any]:
        """The gate's decision (pass, fail, inconclusive) and its evidence; Argo Rollouts reads ``$.decision``."""
        return gate_answer(stratum, target, alpha, max_weight, model_version, every_stratum)

    @app.post("/v1/gates/{stratum}/flagger", tags=["gates"],
              responses={412: {"description": "the gate did not pass (fail or inconclusive); body: the evidence"}})
    def flagger(stratum: Annotated[str, Path(min_length=1, max_length=255)], hook: FlaggerHook,
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> JSONResponse:
        """Flagger webhook: 200 when the gate passes, 412 otherwise (Flagger halts on any non-2xx).

        Flagger's webhooks cannot send headers, so a reader token may come as ``metadata.token`` instead.
        """
        meta = hook.metadata
        token = credentials.credentials if credentials is not None else meta.get("token")
        who = api.tokens.authenticate(token) if token else None
        if who is None:
            raise HTTPException(401, "missing or invalid API token (header, or metadata.token for Flagger)",
                                headers={"WWW-Authenticate": "Bearer"})
        if who.role not in (Role.READER, Role.ADMIN):
            raise HTTPException(403, f"a {who.role} token may not do this")
        target, alpha = _metadata_number(meta, "target", "nan"), _metadata_number(meta, "alpha", "0.05")
        max_weight = _metadata_number(meta, "max_weight", "nan") if "max_weight" in meta else None
        for key, value, ok in (("target", target, 0 < target < 1), ("alpha", alpha, 0 < alpha < 1),
                               ("max_weight", max_weight, max_weight is None or 1 <= max_weight <= 1e9)):
            if not ok:
                raise _invalid(["body", "metadata", key], "target and alpha must be in (0, 1) (target is required), "
                               f"max_weight in [1, 1e9]; got {key} = {value}")
        document = gate_answer(stratum, target, alpha, max_weight, meta.get("model_version"),
                               meta.get("every_stratum", "false").lower() == "true", where=["body", "metadata"])
        return JSONResponse(document, status_code=200 if document["decision"] == "pass" else 412)

    @app.get("/v1/stats", tags=["stats"])
    def stats(who: Reader) -> list[dict[str, Any]]:
        """The latest agreement statistics of every stratum."""
        return api.evidence.stats()

    @app.get("/v1/recommendations", tags=["stats"])
    def recommendations(who: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> list[dict[str, Any]]:
        return api.evidence.recommendations(limit)

    # --- policies (admin) ----------------------------------------------------------------------------------------
    @app.post("/v1/policies", tags=["admin"], status_code=201,
              responses={404: {"description": "no such recommendation"},
                         503: {"description": "Kafka did not take the policy; nothing was applied"}})
    def apply_policy(body: ApplyPolicy, who: Admin) -> PolicyOut:
        """Apply a recommendation as the next policy version, recorded with who applied it, and publish it."""
        if api.sink is None:
            raise HTTPException(503, "this API runs without Kafka: policies cannot be published")
        rec = api.evidence.recommendation(body.recommendation_id)
        if rec is None:
            raise HTTPException(404, f"no recommendation {body.recommendation_id}")
        with api._policy_lock, session_factory(engine)() as session, session.begin():
            latest = session.scalar(select(func.max(PolicyRow.version))) or 0
            version = max(latest, rec.policy_version) + 1
            message = PolicyMessage(version=version, default=None, thresholds=dict(rec.thresholds),
                                    applied_by=who.name, reason=body.reason, time=time.time())
            session.add(PolicyRow(version=version, default_threshold=None, thresholds=dict(rec.thresholds),
                                  applied_by=who.name, reason=body.reason, time=message.time))
            session.flush()
            try:
                api.sink.send(api.names.policies, b"policy", encode(message))
                api.sink.flush()
            except Exception as exc:  # rolled back: a policy no router saw is not recorded as applied
                raise HTTPException(503, f"Kafka did not take the policy ({type(exc).__name__}: {exc})") from None
        return PolicyOut(version=version, default=None, thresholds=message.thresholds, applied_by=who.name,
                         reason=body.reason, time=message.time)

    # --- tokens and batches (admin) --------------------------------------------------------------------------------
    @app.post("/v1/admin/tokens", tags=["admin"], status_code=201, responses={409: {"description": "name taken"}})
    def create_token(body: NewToken, who: Admin) -> TokenOut:
        try:
            token = api.tokens.create(body.name, body.role, who.name)
        except TokenError as exc:
            raise HTTPException(409, str(exc)) from None
        return TokenOut(name=body.name, role=body.role, token=token, created_by=who.name)

    @app.get("/v1/admin/tokens", tags=["admin"])
    def list_tokens(who: Admin) -> list[TokenOut]:
        return [TokenOut(name=t.name, role=t.role, created_by=t.created_by, created_at=t.created_at,
                         revoked=t.revoked) for t in api.tokens.list()]

    @app.delete("/v1/admin/tokens/{name}", tags=["admin"], status_code=204, response_class=Response,
                responses={404: {"description": "no such token"}})
    def revoke_token(name: Annotated[str, Path(pattern=NAME)], who: Admin) -> Response:
        try:
            api.tokens.revoke(name)
        except TokenError as exc:
            raise HTTPException(404, str(exc)) from None
        return Response(status_code=204)

    @app.post("/v1/admin/batches/export", tags=["admin"], response_class=Response,
              responses={200: {"content": {"application/json": {}, "application/xml": {}}}})
    def export_batch(body: ExportBatch, who: Admin, request: Request) -> Response:
        """Lease up to ``size`` tasks to ``assignee`` and return them in the external tool's format."""
        leases = api.queue.claim_batch(body.assignee, body.size, body.lease_hours * 3600.0)
        tasks = [_batch_task(lease, str(request.url_for("task_image", task_id=lease.task_id))) for lease in leases]
        names = list(_category_ids())
        if body.format == "cvat":
            return Response(formats.cvat_document(tasks, names), media_type="application/xml")
        return Response(orjson.dumps({"tasks": formats.label_studio_tasks(tasks),
                                      "label_config": formats.label_studio_config(names, _tag_values(leases))}),
                        media_type="application/json")

    @app.post("/v1/admin/batches/import", tags=["admin"],
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                  "application/xml": {"schema": {"type": "string"}}}}})
    async def import_batch(
        request: Request, who: Admin,
        format: Annotated[Literal["label-studio", "cvat"], Query()],
        assignee: Annotated[str, Query(pattern=NAME)],
    ) -> ImportResult:
        """Submit the annotations of an exported batch, as ``assignee`` (who holds the leases)."""
        raw = await request.body()
        try:
            categories = _category_ids()
            if format == "cvat":
                submissions = formats.from_cvat(raw, categories)
            else:
                try:
                    document = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    raise formats.BatchFormatError("document", f"not JSON ({exc})") from None
                submissions = formats.from_label_studio(document, categories)
        except formats.BatchFormatError as exc:
            raise _invalid(["body", exc.where], exc.detail) from None
        result = ImportResult(submitted=[], rejected={})
        for s in submissions:
            try:
                api.queue.submit(assignee, s.task_id, s.objects, s.tags)
            except QueueError as exc:
                result.rejected[s.task_id] = exc.detail
                continue
            metrics.SUBMITTED.labels(assignee).inc()
            result.submitted.append(s.task_id)
        return result

    return app


def _invalid(loc: list[str | int], msg: str) -> HTTPException:
    """A 422 in FastAPI's own form (``detail``: errors with ``loc``), the form the OpenAPI document promises."""
    return HTTPException(422, [{"loc": loc, "msg": msg, "type": "value_error"}])


def _metadata_number(meta: dict[str, str], key: str, default: str) -> float:
    try:
        return float(meta.get(key, default))
    except ValueError:
        raise _invalid(["body", "metadata", key], f"expected a number, got {meta[key]!r}") from None


def _png(image: Any) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image.squeeze() if image.ndim == 3 and image.shape[2] == 1 else image).save(buffer, "PNG")
    return buffer.getvalue()


def _batch_task(lease: Lease, url: str) -> formats.BatchTask:
    width, height = 0, 0
    with contextlib.suppress(InvalidInput):
        image = frame_truth(lease.image).image
        width, height = int(image["width"]), int(image["height"])
    return formats.BatchTask(lease.task_id, lease.frame_id, lease.stratum, url, width, height)


def _category_ids() -> dict[str, int]:
    from services.datasets.driving.coco import categories

    return {str(c["name"]): int(c["id"]) for c in categories()}


def _tag_values(leases: list[Lease]) -> dict[str, list[str]]:
    for lease in leases:
        with contextlib.suppress(InvalidInput):
            return frame_truth(lease.image).tag_values
    return {}
