"""Running one role's faust worker in this process (``shadowqa worker --role ROLE``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust
from prometheus_client import start_http_server

from services.infra.topic_names import TopicNames
from services.settings import Settings
from streams.app import build_app
from streams.config import PipelineConfig


class _Worker(faust.Worker):
    """A faust worker that touches ``ready_file`` once its agents run (supervisors wait for it)."""

    ready_file: Path | None = None

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        if self.ready_file is not None:
            self.ready_file.write_text("ready\n")


def run_worker(settings: Settings, cfg: PipelineConfig, role: str, loglevel: str = "warn",
               ready_file: Path | None = None, metrics_port: int | None = None) -> None:
    """Blocks until the worker is stopped (SIGTERM/SIGINT); exits the process. With ``metrics_port``,
    Prometheus metrics (e.g. ``shadowqa_dead_letters_total``) are served on 127.0.0.1:PORT/metrics."""
    if metrics_port is not None:
        start_http_server(metrics_port, addr="127.0.0.1")
    app: Any = build_app(settings, cfg, role, TopicNames(settings.topic_prefix))
    worker = _Worker(app, loglevel=loglevel, quiet=True)
    worker.ready_file = ready_file
    worker.execute_from_commandline()
