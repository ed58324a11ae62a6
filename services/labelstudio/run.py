"""The bridge as a process: its parts built from the settings, checked before the first round, run until stopped."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import start_http_server
from sqlalchemy import Engine

from services.api.outbox import Outbox
from services.api.queue import QueueConfig
from services.api.queue_tools import ToolQueue
from services.db.engine import make_engine, upgrade
from services.infra.topic_names import TopicNames
from services.labelstudio.bridge import Bridge, BridgeConfig
from services.labelstudio.client import LabelStudio
from services.labelstudio.exceptions import LabelStudioError, NotConfigured
from services.labelstudio.labeling import labelings
from services.labelstudio.store import TaskMap
from services.settings import Settings
from services.tools.kafka import KafkaSink

Say = Callable[[str], None]


def token_of(settings: Settings) -> str:
    """SHADOWQA_LABELSTUDIO_TOKEN, else the local server's admin token (``shadowqa infra labelstudio up``)."""
    if settings.labelstudio_token is not None:
        return settings.labelstudio_token.get_secret_value()
    from services.infra.labelstudio import default_paths
    from services.infra.labelstudio_credentials import load_credentials

    paths = default_paths()
    if not paths.token_file.is_file():
        raise NotConfigured("no Label Studio token: set SHADOWQA_LABELSTUDIO_TOKEN to an API token of the Label "
                            f"Studio at {settings.labelstudio_url}, or start the local one with `shadowqa infra "
                            "labelstudio up`")
    return load_credentials(paths).token


@dataclass
class BridgeRun:
    bridge: Bridge
    engine: Engine
    outbox: Outbox | None
    sink: KafkaSink | None
    say: Say

    @classmethod
    def start(cls, settings: Settings, *, api_url: str, open_frames: int, lease_s: float, interval_s: float,
              webhook: bool, webhook_url: str | None, kafka: bool, metrics_port: int, say: Say) -> BridgeRun:
        """Check the secret and Label Studio's answer to the token, migrate the database, build the parts."""
        if settings.labelstudio_secret is None:
            raise NotConfigured("SHADOWQA_LABELSTUDIO_SECRET is not set: give the bridge and `shadowqa api serve` "
                                "the same secret of at least 32 characters (e.g. from `python3 -c 'import secrets; "
                                "print(secrets.token_urlsafe(32))'`)")
        ls = LabelStudio(settings.labelstudio_url, token_of(settings))
        try:
            me = ls.whoami()
        except LabelStudioError as exc:
            raise NotConfigured(f"Label Studio does not take the bridge's token: {exc}") from None
        engine = make_engine(settings.database_url)
        upgrade(engine)
        queue = ToolQueue(engine, QueueConfig(lease_s=lease_s))
        config = BridgeConfig(api_url=api_url, secret=settings.labelstudio_secret.get_secret_value(),
                              lease_s=lease_s, open_frames=open_frames, interval_s=interval_s, webhook=webhook,
                              webhook_url=webhook_url)
        bridge = Bridge(ls, queue, TaskMap(engine, ls.key), labelings(), config)
        sink = KafkaSink(settings.kafka_bootstrap) if kafka else None
        outbox = Outbox(engine, sink, TopicNames(settings.topic_prefix).manual_annotations) if sink else None
        if metrics_port:
            start_http_server(metrics_port, addr="127.0.0.1")
        say(f"bridge between {settings.labelstudio_url} (as {me.get('email') or me.get('username')}) and the "
            f"queue in {engine.url.render_as_string(hide_password=True)}; images and webhook at {api_url}; "
            f"{open_frames} frames open at most, a round every {interval_s:g} s")
        return cls(bridge, engine, outbox, sink, say)

    def serve(self, stop: threading.Event) -> None:
        """Rounds until ``stop``; then the outbox publishes what is left and everything is closed."""
        if self.outbox is not None:
            self.outbox.start()
        try:
            self.bridge.run(stop, self.say)
        finally:
            if self.outbox is not None:
                self.outbox.stop()
            if self.sink is not None:
                with contextlib.suppress(Exception):
                    self.sink.close()
            self.bridge.ls.close()
            self.engine.dispose()
