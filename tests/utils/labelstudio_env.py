"""A real Label Studio, shadowqa's API (serving the bridge's images and webhook) and a bridge, for integration tests.

The API runs in this process under uvicorn on a free port of 127.0.0.1; the bridge is stepped by the test
(``bridge.round()``) or run in a thread. A "black hole" is an HTTP server that takes webhooks and answers 503,
as a lost webhook looks to Label Studio (it never retries).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine

from services.api.app import create_app
from services.api.queue import QueueConfig
from services.api.queue_tools import ToolQueue
from services.api.state import ApiConfig
from services.infra.labelstudio import LabelStudioServer
from services.infra.topic_names import TopicNames
from services.labelstudio.bridge import Bridge, BridgeConfig
from services.labelstudio.client import LabelStudio
from services.labelstudio.labeling import labelings
from services.labelstudio.routes import LabelStudioLink, extension
from services.labelstudio.store import TaskMap
from services.tools.kafka import Sink

SECRET = "a-test-secret-for-the-bridge-of-32-chars-or-more"
HOST = "127.0.0.1"


@contextlib.contextmanager
def api_server(engine: Engine, ls_url: str, lease_s: float = 300.0, sink: Sink | None = None,
               names: TopicNames | None = None) -> Iterator[str]:
    """shadowqa's API on ``engine`` with the bridge's routes on, until the block ends; yields its base URL. With a
    ``sink`` its outbox publishes annotations to ``names``' manual-annotations (and its lease sweeper runs)."""
    app = create_app(engine, config=ApiConfig(lease_s=lease_s), sink=sink, names=names, background=sink is not None,
                     extensions=[extension(LabelStudioLink(ls_url, SECRET))])
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="api", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the API did not start")
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class BlackHole:
    """Takes webhooks and loses them (answers 503); counts them."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)


@contextlib.contextmanager
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            import json

            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with contextlib.suppress(ValueError):
                hole.received.append(json.loads(body))
            self.send_response(503)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer((HOST, 0), Handler)
    hole.url = f"http://{HOST}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hole
    finally:
        server.shutdown()
        server.server_close()


def make_bridge(server: LabelStudioServer, engine: Engine, api_url: str, *, lease_s: float = 300.0,
                webhook_url: str | None = None, open_frames: int = 20, interval_s: float = 1.0) -> Bridge:
    ls = LabelStudio(server.url, server.token)
    config = BridgeConfig(api_url=api_url, secret=SECRET, lease_s=lease_s, open_frames=open_frames,
                          interval_s=interval_s, webhook_url=webhook_url)
    return Bridge(ls, ToolQueue(engine, QueueConfig(lease_s=lease_s)), TaskMap(engine, ls.key), labelings(), config)


class Admin:
    """Label Studio's REST API as its admin, for what a person would do in the page (annotate, skip, delete)."""

    def __init__(self, server: LabelStudioServer) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=30.0,
                                 headers={"Authorization": f"Token {server.token}"})

    def annotate(self, ls_task_id: int, result: list[dict[str, Any]], lead_time: float = 7.0) -> dict[str, Any]:
        reply = self.http.post(f"/api/tasks/{ls_task_id}/annotations",
                               json={"result": result, "lead_time": lead_time})
        reply.raise_for_status()
        return dict(reply.json())

    def skip(self, ls_task_id: int) -> dict[str, Any]:
        reply = self.http.post(f"/api/tasks/{ls_task_id}/annotations",
                               json={"result": [], "was_cancelled": True, "lead_time": 2.0})
        reply.raise_for_status()
        return dict(reply.json())

    def delete(self, ls_task_id: int) -> None:
        self.http.delete(f"/api/tasks/{ls_task_id}").raise_for_status()

    def task(self, ls_task_id: int) -> dict[str, Any]:
        reply = self.http.get(f"/api/tasks/{ls_task_id}")
        reply.raise_for_status()
        return dict(reply.json())

    def project_tasks(self, project_id: int) -> list[dict[str, Any]]:
        reply = self.http.get("/api/tasks", params={"project": project_id, "page_size": 1000, "fields": "all"})
        reply.raise_for_status()
        body = reply.json()
        return list(body["tasks"] if isinstance(body, dict) else body)


def box_result(x_px: float, y_px: float, w_px: float, h_px: float, label: str, width: int, height: int,
               region: str = "r1", rotation: float = 0.0) -> dict[str, Any]:
    """A ``rectanglelabels`` result as Label Studio stores it (percent of the image), from pixels."""
    return {"id": region, "type": "rectanglelabels", "from_name": "label", "to_name": "image",
            "original_width": width, "original_height": height, "image_rotation": 0,
            "value": {"x": 100 * x_px / width, "y": 100 * y_px / height, "width": 100 * w_px / width,
                      "height": 100 * h_px / height, "rotation": rotation, "rectanglelabels": [label]}}


def wait_for(what: str, done: Callable[[], Any], timeout_s: float = 120.0, every_s: float = 0.2) -> Any:
    """``done()``'s first truthy value; fails after ``timeout_s`` (a guard against a hang, generous on purpose)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = done()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every_s)
