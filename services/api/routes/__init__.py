"""One router per resource; ``router`` includes them all (the order is the OpenAPI document's), ``ROUTES`` lists
their routes (what a request answered before routing is matched against, for its metrics' route label)."""

from fastapi import APIRouter
from starlette.routing import BaseRoute

from services.api.routes import batches, gates, ops, policy, stats, tasks, tokens

RESOURCES = (ops, tasks, gates, stats, policy, tokens, batches)
router = APIRouter()
for _resource in RESOURCES:
    router.include_router(_resource.router)
ROUTES: list[BaseRoute] = [route for resource in RESOURCES for route in resource.router.routes]
