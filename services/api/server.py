"""Serving the API with uvicorn: admin token checked, database migrated, Kafka producer connected, then requests."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from sqlalchemy import Engine

from services.api.app import ApiConfig, create_app
from services.api.extensions import ExtensionFactory
from services.api.tokens import check_admin_token
from services.db.engine import Timeouts, make_engine, upgrade
from services.infra.topic_names import TopicNames
from services.settings import Settings
from services.tools.kafka import KafkaSink, Sink


def serve_api(settings: Settings, config: ApiConfig, *, host: str, port: int, kafka: bool = True,
              ready_file: str | Path | None = None, extensions: Sequence[ExtensionFactory] = ()) -> None:
    """Blocks until SIGINT/SIGTERM (uvicorn stops gracefully; the outbox publishes what is left); after SIGINT it
    raises KeyboardInterrupt, as an interrupted command does.

    A bootstrap admin token shorter than ADMIN_TOKEN_MIN is refused before anything starts. Requests wait for the
    database at most ``config.wait_s`` for a lock or a connection (then 503); the migration before them waits
    as long as it must (another process may be migrating)."""
    admin = check_admin_token(settings.admin_token.get_secret_value() if settings.admin_token is not None else None)
    engine = make_engine(settings.database_url, timeouts=Timeouts(lock_s=config.wait_s, connect_s=config.wait_s))
    upgrade(engine if _in_memory(engine) else settings.database_url)  # a URL: its own engine, without timeouts
    sink: Sink | None = KafkaSink(settings.kafka_bootstrap) if kafka else None
    app = create_app(engine, config=config, admin_token=admin, sink=sink, names=TopicNames(settings.topic_prefix),
                     extensions=extensions)
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    if ready_file is not None:
        threading.Thread(target=_announce, args=(server, Path(ready_file)), daemon=True).start()
    try:
        server.run()
        if signal.SIGINT in server.stopped_by:
            raise KeyboardInterrupt
    finally:
        if isinstance(sink, KafkaSink):
            with contextlib.suppress(Exception):
                sink.close()
        engine.dispose()


class _Server(uvicorn.Server):
    """uvicorn's server, noting the signals that stopped it.

    uvicorn stops gracefully on SIGINT, then raises it again under the handler the process had before; that is
    KeyboardInterrupt, unless the process inherited SIGINT ignored (a background job of a shell without job control
    is started so): then it would end as if it had not been interrupted.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopped_by: list[int] = []

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopped_by.append(sig)
        super().handle_exit(sig, frame)


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


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
