"""A recording stand-in for Grafana's HTTP API: enough of it to test ``shadowqa dashboards push``.

NOT Grafana (none can run here): a small threaded HTTP server that answers the endpoints the push
uses the way Grafana's API documentation describes (datasources by uid, folders, ``POST
/api/dashboards/db``), keeps what was saved, checks the bearer token (401 otherwise) and records
every request, so tests can check paths, bodies and headers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class GrafanaState:
    token: str
    requests: list[Recorded] = field(default_factory=list)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)  # by uid
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)  # by uid
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # by uid: the saved request body
    versions: dict[str, int] = field(default_factory=dict)

    def answer(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if parts[:3] == ["api", "datasources", "uid"] and len(parts) == 4:
            return self._datasource(method, parts[3], body)
        if parts == ["api", "datasources"] and method == "POST":
            return self._create_datasource(body)
        if parts[:2] == ["api", "folders"]:
            return self._folder(method, parts[2] if len(parts) > 2 else None, body)
        if parts == ["api", "dashboards", "db"] and method == "POST":
            return self._save_dashboard(body)
        return 404, {"message": "Not found"}

    def _datasource(self, method: str, uid: str, body: Any) -> tuple[int, dict[str, Any]]:
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        if method == "PUT":
            self.datasources[uid] = body
            return 200, {"message": "Datasource updated", "datasource": body}
        return 200, self.datasources[uid]

    def _create_datasource(self, body: Any) -> tuple[int, dict[str, Any]]:
        if any(d["name"] == body["name"] or d["uid"] == body["uid"] for d in self.datasources.values()):
            return 409, {"message": "data source with the same name already exists"}
        self.datasources[body["uid"]] = body
        return 200, {"message": "Datasource added", "datasource": body}

    def _folder(self, method: str, uid: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        if method == "POST" and uid is None:
            if body["uid"] in self.folders:
                return 409, {"message": "a folder with the same uid already exists"}
            self.folders[body["uid"]] = body
            return 200, {"uid": body["uid"], "title": body["title"]}
        if uid in self.folders:
            return 200, self.folders[uid]
        return 404, {"message": "folder not found"}

    def _save_dashboard(self, body: Any) -> tuple[int, dict[str, Any]]:
        uid = body["dashboard"]["uid"]
        if body.get("folderUid") not in self.folders:
            return 400, {"message": "folder not found"}
        if uid in self.dashboards and not body.get("overwrite"):
            return 412, {"message": "A dashboard with the same uid already exists", "status": "name-exists"}
        self.dashboards[uid] = body
        self.versions[uid] = self.versions.get(uid, 0) + 1
        return 200, {"status": "success", "uid": uid, "url": f"/d/{uid}/", "version": self.versions[uid]}


@contextmanager
def grafana_standin(token: str) -> Iterator[tuple[str, GrafanaState]]:
    """Serve a stand-in on a free 127.0.0.1 port for the block: (its base URL, its state)."""
    state = GrafanaState(token=token)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            auth = self.headers.get("Authorization")
            state.requests.append(Recorded(self.command, self.path, auth, body))
            status, answer = ((401, {"message": "Unauthorized"}) if auth != f"Bearer {state.token}"
                              else state.answer(self.command, self.path, body))
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
