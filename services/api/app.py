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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import AfterValidator
from sqlalchemy import Engine, func, select

from services.api import batches, metrics
from services.api.errors import install, invalid
from services.api.evidence import POOLED, Evidence, GateQuery
from services.api.exceptions import GateQueryError, QueueError, TokenConflict, TokenError
from services.api.formats import Format, Others, Rotated
from services.api.health import database_problem
from services.api.limits import BodyLimit, BodyLimits
from services.api.outbox import Outbox
from services.api.queue import Lease, Queue, QueueConfig
from services.api.schemas import (
    ApplyPolicy,
    ExportBatch,
    FlaggerHook,
    ImportResult,
    NewToken,
    PolicyOut,
    Skip,
    Submission,
    Submitted,
    TaskView,
    TokenOut,
)
from services.api.tokens import NAME_PATTERN, Principal, Role, Tokens
from services.db.engine import session_factory
from services.db.models import PolicyRow
from services.engine.frame_refs import resolve_frame
from services.exceptions import InvalidInput
from services.infra.topic_names import TopicNames
from services.loop.messages import PolicyMessage, encode
from services.loop.messages.fields import TaskId, valid_text
from services.tools.kafka import Sink

log = logging.getLogger(__name__)
TaskIdPath = Annotated[TaskId, Path()]
TokenName = Annotated[str, Path(pattern=NAME_PATTERN)]
Stratum = Annotated[str, Path(min_length=1, max_length=255, description=f"a stratum key (weather=rain), or "
                                                                         f"{POOLED} for all frames"),
                    AfterValidator(valid_text)]
READY_PROBE = anyio.CapacityLimiter(2)  # readiness has its own threads: busy request threads do not delay it


@dataclass(frozen=True)
class ApiConfig:
    lease_s: float = 300.0
    max_leases: int = 1
    max_weight: float = 4.0  # default gate weight bound: 1/(the router's audit floor, 0.25 by default)
    sweep_every_s: float = 1.0
    wait_s: float = 5.0  # how long a request waits for the database (the engine's lock timeout); then 503
    body_limits: BodyLimits = field(default_factory=BodyLimits)
    metrics_names: bool = False  # name annotators in /metrics (which needs no token)


class Api:
    """What the routes share: the database-backed parts and the Kafka sink (None: policies cannot be applied)."""

    def __init__(self, engine: Engine, config: ApiConfig, admin_token: str | None, sink: Sink | None,
                 names: TopicNames) -> None:
        self.engine, self.config, self.sink, self.names = engine, config, sink, names
        self.queue = Queue(engine, QueueConfig(config.lease_s, config.max_leases, config.wait_s),
                           on_expired=expired)
        self.tokens = Tokens(engine, admin_token)
        self.evidence = Evidence(engine)
        self.registry = metrics.registry(engine, config.metrics_names)
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

    def person(self, name: str) -> str:
        """``name`` as the metrics' ``annotator`` label."""
        return metrics.person(name, self.config.metrics_names)

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
    app.add_middleware(BodyLimit, limits=api.config.body_limits)
    metrics.measure_requests(app)  # added last: outermost, so it counts the 413s of the body limit too
    install(app, retry_after_s=api.config.wait_s)

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
    async def healthz() -> dict[str, str]:
        """Liveness only: answered on the event loop, whatever the database does."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], responses={503: {"description": "the database cannot take a write now"}})
    async def readyz() -> JSONResponse:
        problem = await anyio.to_thread.run_sync(database_problem, engine, min(1.0, api.config.wait_s),
                                                 limiter=READY_PROBE)
        if problem is not None:
            return JSONResponse({"status": "database unavailable", "error": problem}, status_code=503)
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
        metrics.CLAIMED.labels(api.person(who.name)).inc()
        return view(lease, request)

    @app.get("/v1/tasks", tags=["queue"])
    def my_tasks(who: Annotator, request: Request) -> list[TaskView]:
        return [view(lease, request) for lease in api.queue.mine(who.name)]

    @app.get("/v1/tasks/{task_id:path}/image", tags=["queue"], name="task_image", response_class=Response,
             responses={200: {"content": {"image/png": {}}}, 404: {"description": "not your task"}})
    def task_image(task_id: TaskIdPath, who: Annotator) -> Response:
        lease = api.queue.held(who.name, task_id)
        try:
            frame = resolve_frame(lease.image)
        except InvalidInput as exc:
            raise invalid(["path", "task_id"], f"the task's frame cannot be read: {exc}") from None
        if frame.image is None:
            raise invalid(["path", "task_id"], f"the task's frame cannot be read: {frame.error}")
        return Response(_png(frame.image), media_type="image/png")

    @app.post("/v1/tasks/{task_id:path}/heartbeat", tags=["queue"],
              responses={404: {"description": "not your task"}, 409: {"description": "the lease ran out"}})
    def heartbeat(task_id: TaskIdPath, who: Annotator, request: Request) -> TaskView:
        return view(api.queue.heartbeat(who.name, task_id), request)

    @app.post("/v1/tasks/{task_id:path}/submit", tags=["queue"],
              responses={404: {"description": "not your task"}, 409: {"description": "the lease ran out"}})
    def submit(task_id: TaskIdPath, body: Submission, who: Annotator) -> Submitted:
        row = api.queue.submit(who.name, task_id, [a.annotated() for a in body.annotations], body.tags)
        metrics.SUBMITTED.labels(api.person(who.name)).inc()
        return Submitted(task_id=task_id, annotator=who.name, submitted_at=row.submitted_at)

    @app.post("/v1/tasks/{task_id:path}/skip", tags=["queue"], status_code=204, response_class=Response,
              responses={404: {"description": "not your task"}, 409: {"description": "the lease ran out"}})
    def skip(task_id: TaskIdPath, body: Skip, who: Annotator) -> Response:
        api.queue.skip(who.name, task_id, body.reason)
        metrics.SKIPPED.labels(api.person(who.name)).inc()
        return Response(status_code=204)

    @app.get("/v1/tasks/{task_id:path}", tags=["queue"], responses={404: {"description": "not your task"}})
    def my_task(task_id: TaskIdPath, who: Annotator, request: Request) -> TaskView:
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
            raise invalid([*(where or ["query"]), exc.field], exc.detail) from None

    @app.get("/v1/gates/{stratum}", tags=["gates"])
    def gate(
        stratum: Stratum,
        who: Reader,
        target: Annotated[float, Query(gt=0, lt=1, description="acceptance rate to prove")],
        alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
        max_weight: Annotated[float | None, Query(ge=1, le=1e9, description="largest weight 1/π (default "
                                                  "1/audit floor)")] = None,
        model_version: Annotated[str | None, Query(min_length=1, max_length=255), AfterValidator(valid_text)] = None,
        every_stratum: bool = False,
    ) -> dict[str, Any]:
        """The gate's decision (pass, fail, inconclusive) and its evidence; Argo Rollouts reads ``$.decision``."""
        return gate_answer(stratum, target, alpha, max_weight, model_version, every_stratum)

    @app.post("/v1/gates/{stratum}/flagger", tags=["gates"],
              responses={412: {"description": "the gate did not pass (fail or inconclusive); body: the evidence"}})
    def flagger(stratum: Stratum, hook: FlaggerHook,
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
                raise invalid(["body", "metadata", key], "target and alpha must be in (0, 1) (target is required), "
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
    @app.post("/v1/admin/tokens", tags=["admin"], status_code=201,
              responses={409: {"description": "the name has an unrevoked token"}})
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

    @app.post("/v1/admin/tokens/{name}/rotate", tags=["admin"], status_code=201,
              responses={404: {"description": "no unrevoked token of that name"},
                         409: {"description": "a concurrent rotation of the name won; list the tokens"}})
    def rotate_token(name: TokenName, who: Admin) -> TokenOut:
        """Revoke the name's token and issue a new secret with the same role, at once: the same identity."""
        try:
            token, role = api.tokens.rotate(name, who.name)
        except TokenConflict as exc:
            raise HTTPException(409, str(exc)) from None
        except TokenError as exc:
            raise HTTPException(404, str(exc)) from None
        return TokenOut(name=name, role=role, token=token, created_by=who.name)

    @app.delete("/v1/admin/tokens/{name}", tags=["admin"], status_code=204, response_class=Response,
                responses={404: {"description": "no such token"}})
    def revoke_token(name: TokenName, who: Admin) -> Response:
        """Revoke the name's token; the name may then be given a new token (the same identity)."""
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
        content, media = batches.export_batch(leases, body.format,
                                              lambda tid: request.url_for("task_image", task_id=tid))
        return Response(content, media_type=media)

    @app.post("/v1/admin/batches/import", tags=["admin"],
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                  "application/xml": {"schema": {"type": "string"}}}}})
    async def import_batch(
        request: Request, who: Admin,
        format: Annotated[Format, Query()],
        assignee: Annotated[str, Query(pattern=NAME_PATTERN)],
        rotated: Annotated[Rotated, Query(description="a rotated box: its enclosing box (enclose) or the task "
                                                      "rejected (refuse)")] = "enclose",
        other_shapes: Annotated[Others, Query(description="a shape other than a box: the task rejected (reject) or "
                                                          "the shape left out and listed (ignore)")] = "reject",
    ) -> ImportResult:
        """Submit the annotations of an exported batch, as ``assignee`` (who holds the leases); tasks that cannot
        be imported are listed in ``rejected`` with the reason, the others are submitted."""
        raw = await request.body()  # read whole already, within the body limit
        return await run_in_threadpool(batches.import_batch, api.queue, raw, format, assignee,
                                       batches.ImportOptions(rotated, other_shapes), api.config.metrics_names)

    return app


def _metadata_number(meta: dict[str, str], key: str, default: str) -> float:
    try:
        return float(meta.get(key, default))
    except ValueError:
        raise invalid(["body", "metadata", key], f"expected a number, got {meta[key]!r}") from None


def _png(image: Any) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image.squeeze() if image.ndim == 3 and image.shape[2] == 1 else image).save(buffer, "PNG")
    return buffer.getvalue()
