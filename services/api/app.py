"""The HTTP API: the annotation queue, rollout gates, stats, recommendations and policies (FastAPI).

FastAPI rather than faust's web views: request bodies are validated by the
same pydantic models the messages use (a malformed body gets 422 naming the
field), the OpenAPI document is derived from them (schemathesis fuzzes it in
the tests), and the API runs apart from the stream workers, on its own replicas.

One router per resource in services/api/routes/, their shared dependencies in
services/api/deps.py, what they share in services/api/state.py; this module
only assembles them.

Who may call what (``Authorization: Bearer <token>``; tokens in services/api/tokens.py):

===========================  =========  ======  =====
endpoint                     annotator  reader  admin
===========================  =========  ======  =====
/v1/tasks/* (own leases)     yes        no      no
/v1/gates, /v1/stats,
/v1/recommendations,
GET /v1/policy               no         yes     yes
POST /v1/policy, DELETE
/v1/policy/pins/*,
/v1/admin/*                  no         no      yes
===========================  =========  ======  =====

An annotator sees a task's frame and nothing of the machine's answer: no
response model has a field for boxes, scores, confidences, inclusion
probabilities or comparisons (tests/services/api/test_blind.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from services.api import metrics
from services.api.errors import install
from services.api.exceptions import QueueError
from services.api.extensions import ExtensionFactory
from services.api.limits import BodyLimit
from services.api.routes import ROUTES, router
from services.api.state import Api, ApiConfig
from services.infra.topic_names import TopicNames
from services.tools.kafka import Sink

__all__ = ["Api", "ApiConfig", "create_app"]


def create_app(engine: Engine, *, config: ApiConfig | None = None, admin_token: str | None = None,
               sink: Sink | None = None, names: TopicNames | None = None, background: bool = True,
               extensions: Sequence[ExtensionFactory] = ()) -> FastAPI:
    """The API on ``engine`` (migrated by the caller). ``sink`` publishes annotations and pins to Kafka;
    ``extensions`` add routes and metrics (services/api/extensions.py)."""
    api = Api(engine, config or ApiConfig(), admin_token, sink, names or TopicNames(""))
    added = [make(api) for make in extensions]
    for extension in added:
        for collector in extension.collectors:
            api.registry.register(collector)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background:
            api.start()
        yield
        api.stop()

    app = FastAPI(title="shadowqa", version="1", lifespan=lifespan,
                  description="Annotation queue, rollout gates and statistics of shadowqa.")
    app.state.api = api
    app.state.extensions = {extension.name: extension.state for extension in added}
    app.add_middleware(BodyLimit, limits=api.config.body_limits)
    routes = ROUTES + [route for extension in added for route in extension.router.routes]
    metrics.measure_requests(app, routes)  # added last: outermost, so it counts the 413s of the body limit too
    install(app, retry_after_s=api.config.wait_s)
    app.add_exception_handler(QueueError, queue_error)
    app.include_router(router)
    for extension in added:
        app.include_router(extension.router)
    return app


async def queue_error(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=exc.status if isinstance(exc, QueueError) else 500)
