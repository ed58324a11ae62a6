"""Running one role's faust worker in this process (``shadowqa worker --role ROLE``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import faust
from prometheus_client import start_http_server

from services.infra.topic_names import TopicNames
from services.settings import Settings
from streams import metrics
from streams.app import app_id, build_app, consumed_topics
from streams.config import PipelineConfig
from streams.lag import LagReporter, ReadPositions
from streams.quiet_logs import QuietLogs


class _Worker(faust.Worker):
    """A faust worker that touches ``ready_file`` once its agents run (supervisors wait for it), and logs a
    broker outage as two lines instead of thousands (with ``quiet_logs``)."""

    ready_file: Path | None = None
    quiet_logs: QuietLogs | None = None

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        """mode calls this once it configured the root logger's handlers; they get the outage filter before faust
        adds its terminal spinner's handler (which sees every DEBUG record)."""
        if self.quiet_logs is not None:
            self.quiet_logs.start(logger.handlers)
        super().on_setup_root_logger(logger, level)

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        if self.ready_file is not None:
            self.ready_file.write_text("ready\n")


def run_worker(settings: Settings, cfg: PipelineConfig, role: str, loglevel: str = "warn",
               ready_file: Path | None = None, metrics_port: int | None = None,
               metrics_host: str = "127.0.0.1") -> None:
    """Blocks until the worker is stopped (SIGTERM/SIGINT); exits the process. With ``metrics_port``,
    Prometheus metrics (e.g. ``shadowqa_dead_letters_total``, and the role's consumer lag, measured
    every 5 s) are served on METRICS_HOST:PORT/metrics."""
    if ready_file is not None:  # a restarted container keeps /tmp: never report ready before these agents run
        ready_file.unlink(missing_ok=True)
    names = TopicNames(settings.topic_prefix)
    positions = ReadPositions() if role == "aggregator" else None
    app: Any = build_app(settings, cfg, role, names, positions)
    quiet = QuietLogs(settings.kafka_bootstrap)
    if metrics_port is not None:
        metrics.declare(role)
        start_http_server(metrics_port, addr=metrics_host)
        LagReporter(settings.kafka_bootstrap, app_id(names, role), consumed_topics(role, names),
                    positions=positions, on_reading=quiet.witness()).start()
    worker = _Worker(app, loglevel=loglevel, quiet=True)
    worker.ready_file, worker.quiet_logs = ready_file, quiet
    worker.execute_from_commandline()
