"""Label Studio's REST API, the parts the bridge uses, over httpx.

Not label-studio-sdk: it pulls opencv, pandas, nltk and a code generator into shadowqa's environment for a dozen
plain JSON calls (see pyproject.toml). The endpoints were checked against label-studio 1.23.2:
``/api/projects`` (``title``, ``label_config``, ``maximum_annotations``, ``skip_queue``),
``/api/projects/{id}/import?return_task_ids=true`` (the extra ``data`` keys come back in tasks and webhooks),
``/api/tasks/{id}`` (with its annotations, skips included: ``was_cancelled``; PATCH ``overlap``: the
annotations the task takes from different people), ``/api/webhooks`` (``headers`` sent with each call).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from services.labelstudio.exceptions import LabelStudioError, LabelStudioUnavailable, NotFound

TIMEOUT_S = 10.0
PAGE = 100


def server_key(url: str) -> str:
    """A short stable name of a Label Studio server (its URL), to tell servers' ids apart in shadowqa's tables."""
    return "ls-" + hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:10]


class LabelStudio:
    """One Label Studio server, as the user whose API token is given (an admin of the team's organisation)."""

    def __init__(self, url: str, token: str, timeout_s: float = TIMEOUT_S,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.key = server_key(self.url)
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s, transport=transport,
                                  headers={"Authorization": f"Token {token}"})

    def close(self) -> None:
        self._http.close()

    def whoami(self) -> dict[str, Any]:
        """The token's user (checks the URL and the token)."""
        return dict(self._call("GET", "/api/current-user/whoami"))

    def projects(self) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            body = self._call("GET", "/api/projects", params={"page": page, "page_size": PAGE})
            yield from body.get("results", [])
            if not body.get("next"):
                return
            page += 1

    def project_by_title(self, title: str) -> dict[str, Any] | None:
        return next((p for p in self.projects() if p.get("title") == title), None)

    def create_project(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/api/projects", json=dict(fields)))

    def update_project(self, project_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/api/projects/{project_id}", json=dict(fields)))

    def import_tasks(self, project_id: int, tasks: Sequence[Mapping[str, Any]]) -> list[int]:
        """Create ``tasks`` (``{"data": {...}}`` each, no predictions) in the project; their ids, in order."""
        body = self._call("POST", f"/api/projects/{project_id}/import", params={"return_task_ids": "true"},
                          json=[dict(t) for t in tasks])
        ids = [int(i) for i in body.get("task_ids", [])]
        if len(ids) != len(tasks):
            raise LabelStudioError(f"Label Studio created {len(ids)} of {len(tasks)} tasks in project {project_id}")
        return ids

    def task(self, task_id: int) -> dict[str, Any] | None:
        """The task with its annotations (skips included), or None when it was deleted."""
        try:
            return dict(self._call("GET", f"/api/tasks/{task_id}"))
        except NotFound:
            return None

    def tasks_from(self, project_id: int, first_id: int) -> dict[int, dict[str, Any]]:
        """The project's tasks with ids from ``first_id`` on, with their annotations (skips included), by id: one
        request per 100 tasks (the data manager's list, filtered on the id), instead of one per task."""
        query = json.dumps({"filters": {"conjunction": "and", "items": [
            {"filter": "filter:tasks:id", "operator": "greater_or_equal", "type": "Number", "value": first_id}]}})
        found: dict[int, dict[str, Any]] = {}
        page = 1
        while True:
            body = self._call("GET", "/api/tasks", params={"project": project_id, "fields": "all", "page": page,
                                                           "page_size": PAGE, "query": query})
            tasks = body.get("tasks", []) if isinstance(body, dict) else []
            found.update({int(t["id"]): t for t in tasks})
            if not tasks or len(found) >= int(body.get("total", 0)):
                return found
            page += 1

    def update_task(self, task_id: int, fields: Mapping[str, Any]) -> None:
        self._call("PATCH", f"/api/tasks/{task_id}", json=dict(fields))

    def delete_task(self, task_id: int) -> None:
        """Delete the task (a task already gone is fine)."""
        try:
            self._call("DELETE", f"/api/tasks/{task_id}")
        except NotFound:
            return

    def webhooks(self, project_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/webhooks", params={"project": project_id}))

    def create_webhook(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/api/webhooks", json=dict(fields)))

    def update_webhook(self, webhook_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/api/webhooks/{webhook_id}", json=dict(fields)))

    def users(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/users"))

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            reply = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise LabelStudioUnavailable(f"Label Studio at {self.url} did not answer {method} {path}: "
                                         f"{type(exc).__name__}: {exc}") from exc
        if reply.status_code == 404:
            raise NotFound(path)
        if reply.status_code >= 500:
            raise LabelStudioUnavailable(f"Label Studio at {self.url} failed {method} {path}: HTTP "
                                         f"{reply.status_code}")
        if reply.status_code >= 400:
            raise LabelStudioError(f"Label Studio at {self.url} refused {method} {path}: HTTP {reply.status_code} "
                                   f"{reply.text[:300]}")
        return reply.json() if reply.content else {}

