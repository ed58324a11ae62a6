"""Running one role's faust worker in this process (``shadowqa worker --role ROLE``)."""

from __future__ import annotations

from typing import Any

import faust

from services.infra.topic_names import TopicNames
from services.settings import Settings
from streams.app import build_app
from streams.config import PipelineConfig


def run_worker(settings: Settings, cfg: PipelineConfig, role: str, loglevel: str = "warn") -> None:
    """Blocks until the worker is stopped (SIGTERM/SIGINT); exits the process."""
    app: Any = build_app(settings, cfg, role, TopicNames(settings.topic_prefix))
    faust.Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
