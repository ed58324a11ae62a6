"""Routes and metrics other folders add to the API, without the API importing them (the seam that keeps
``services/api`` below the folders that build on its queue, e.g. the Label Studio bridge).

The caller that assembles the API (``shadowqa api serve``, a test) passes extension factories to
:func:`services.api.app.create_app`; each gets the API's parts and returns its router, the collectors it adds to
``/metrics`` and its state (in ``request.app.state.extensions[name]`` for its routes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from services.api.state import Api


@dataclass(frozen=True)
class Extension:
    name: str
    router: APIRouter
    collectors: Sequence[Collector] = ()
    state: Any = None


ExtensionFactory = Callable[["Api"], Extension]
