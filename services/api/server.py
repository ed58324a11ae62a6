"""Serving the API with uvicorn: database migrated, Kafka producer connected, then requests."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from services.api.app import ApiConfig, create_app
from services.db.engine import make_engine, upgrade
from services.infra.topic_names import TopicNames
from services.settings import Settings
from services.tools.kafka import KafkaSink, Sink


def serve_api(settings: Settings, *, host: str, port: int, lease_s: float = 300.0, max_leases: int = 1,
              max_weight: float = 4.0, kafka: bool = True, ready_file: str | Path | None = None) -> None:
    """Blocks until SIGINT/SIGTERM (uvicorn stops gracefully; the outbox publishes what is left)."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sink: Sink | None = KafkaSink(settings.kafka_bootstrap) if kafka else None
    admin = settings.admin_token.get_secret_value() if settings.admin_token is not None else None
    app = create_app(engine, config=ApiConfig(lease_s=lease_s, max_leases=max_leases, max_weight=max_weight),
                     admin_token=admin, sink=sink, names=TopicNames(settings.topic_prefix))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    if ready_file is not None:
        threading.Thread(target=_announce, args=(server, Path(ready_file)), daemon=True).start()
    try:
        server.run()
    finally:
        if isinstance(sink, KafkaSink):
            with contextlib.suppress(Exception):
                sink.close()
        engine.dispose()


def _announce(server: uvicorn.Server, path: Path) -> None:
    """Once the server listens, write its base URL to ``path`` (whole or not at all: written aside, then renamed)."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    aside = path.with_name(path.name + ".tmp")
    aside.write_text(base_url(server.servers[0].sockets[0].getsockname()) + "\n")
    aside.replace(path)


def base_url(address: tuple[Any, ...]) -> str:
    """``http://host:port`` of a listening socket's address (IPv6 hosts in brackets)."""
    host, port = address[0], address[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
