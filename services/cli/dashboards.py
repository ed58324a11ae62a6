"""``shadowqa dashboards push``: provision the Prometheus datasource and the dashboards on a Grafana server.

The dashboards are the committed JSON in ``dashboards/json/`` (``make dashboards`` regenerates it).
Every call is idempotent: the datasource is created or updated by its uid, the folder created if
missing, the dashboards saved with ``overwrite``. Exit status 0 on success, 2 with a one-line reason.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from analysis.exceptions import ShadowQAError
from services.cli.parser import Parser

DASHBOARDS_DIR = Path(__file__).resolve().parents[2] / "dashboards" / "json"
DATASOURCE_UID = "shadowqa-prometheus"  # the same uid as dashboards/provisioning/datasources/prometheus.yaml
DATASOURCE_NAME = "shadowqa Prometheus"
SCRAPE_INTERVAL = "15s"  # Grafana's $__rate_interval is derived from it
T = TypeVar("T")
Grafana = Any  # a grafana_client GrafanaApi; the library leaves its methods unannotated


class DashboardPushFailed(ShadowQAError):
    """Raised when Grafana cannot be reached, refuses the token, or rejects the datasource, folder or a dashboard."""


@dataclass(frozen=True)
class PushResult:
    datasource: str  # "created" or "updated"
    folder: str  # "created" or "exists"
    dashboards: list[str]  # the URLs Grafana gave the saved dashboards


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("dashboards", help="provision the Grafana dashboards",
                            description="The operations overview and annotation-team dashboards on Grafana.")
    sub = p.add_subparsers(dest="dashboards_command", required=True, parser_class=Parser)
    push = sub.add_parser(
        "push", help="create or update the Prometheus datasource and both dashboards on a Grafana server",
        description="Create or update (by uid) the Prometheus datasource, create the folder if missing, and save "
        "every dashboard in dashboards/json/ with overwrite, its datasource variable defaulting to that datasource. "
        "Idempotent: pushing again updates in place.",
    )
    push.add_argument("--url", required=True, help="Grafana's base URL, e.g. http://127.0.0.1:3000")
    push.add_argument("--token", required=True, help="a Grafana service-account token with Editor rights")
    push.add_argument("--prometheus-url", default="http://127.0.0.1:9090", metavar="URL",
                      help="the Prometheus Grafana should query (default http://127.0.0.1:9090)")
    push.add_argument("--folder", default="shadowqa", metavar="NAME", help="dashboard folder (default shadowqa)")
    push.add_argument("--dashboards", type=Path, default=DASHBOARDS_DIR, metavar="DIR",
                      help=f"folder of dashboard JSON files (default {DASHBOARDS_DIR})")
    push.add_argument("--timeout", type=float, default=10.0, metavar="S", help="per-request timeout (default 10)")
    push.set_defaults(run=run_push)


def run_push(args: argparse.Namespace) -> int:
    from grafana_client.api import GrafanaApi  # it and niquests load only when pushing

    api = GrafanaApi.from_url(args.url, credential=args.token, timeout=args.timeout)
    result = push(api, load_dashboards(args.dashboards), args.prometheus_url, args.folder, where=args.url)
    print(f"datasource {DATASOURCE_UID!r} {result.datasource} (Prometheus at {args.prometheus_url})")
    print(f"folder {args.folder!r} {'created' if result.folder == 'created' else 'already there'}")
    for url in result.dashboards:
        print(f"dashboard saved: {url}")
    return 0


def load_dashboards(folder: Path) -> list[dict[str, Any]]:
    """Every ``*.json`` dashboard model in ``folder``, by file name."""
    files = sorted(folder.glob("*.json"))
    if not files:
        raise DashboardPushFailed(f"no dashboard JSON in {folder} (run `make dashboards`)")
    return [json.loads(path.read_text(encoding="utf-8")) for path in files]


def push(api: Grafana, dashboards: list[dict[str, Any]], prometheus_url: str, folder: str,
         where: str) -> PushResult:
    """Provision the datasource, the folder and ``dashboards`` on the Grafana ``api`` talks to (``where``)."""
    source = _call(where, "the datasource", lambda: _upsert_datasource(api, prometheus_url))
    folder_uid = _slug(folder)
    made = _call(where, f"folder {folder!r}", lambda: _ensure_folder(api, folder, folder_uid))
    urls = []
    for model in dashboards:
        body = {"dashboard": with_datasource(model), "folderUid": folder_uid, "overwrite": True,
                "message": "shadowqa dashboards push"}
        saved: dict[str, Any] = _call(where, f"dashboard {model.get('uid')!r}", _saver(api, body))
        urls.append(f"{where.rstrip('/')}{saved.get('url', '')}")
    return PushResult(datasource=source, folder=made, dashboards=urls)


def datasource_body(prometheus_url: str) -> dict[str, Any]:
    return {"name": DATASOURCE_NAME, "uid": DATASOURCE_UID, "type": "prometheus", "access": "proxy",
            "url": prometheus_url, "isDefault": False, "jsonData": {"timeInterval": SCRAPE_INTERVAL}}


def with_datasource(model: dict[str, Any]) -> dict[str, Any]:
    """A copy of the dashboard without its numeric id, the ``datasource`` variable defaulting to ours."""
    model = {key: value for key, value in model.items() if key != "id"}
    model["templating"] = {"list": [
        {**var, "current": {"selected": True, "text": DATASOURCE_NAME, "value": DATASOURCE_UID}}
        if var.get("type") == "datasource" else var
        for var in model.get("templating", {}).get("list", [])
    ]}
    return model


def _upsert_datasource(api: Grafana, prometheus_url: str) -> str:
    from grafana_client.client import GrafanaClientError

    body = datasource_body(prometheus_url)
    try:
        api.datasource.get_datasource_by_uid(DATASOURCE_UID)
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        api.datasource.create_datasource(body)
        return "created"
    api.datasource.update_datasource_by_uid(DATASOURCE_UID, body)
    return "updated"


def _ensure_folder(api: Grafana, title: str, uid: str) -> str:
    from grafana_client.client import GrafanaClientError

    try:
        api.folder.get_folder(uid)
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        api.folder.create_folder(title, uid=uid)
        return "created"
    return "exists"


def _saver(api: Grafana, body: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    def save() -> dict[str, Any]:
        answer: dict[str, Any] = api.dashboard.update_dashboard(body)
        return answer
    return save


def _call(where: str, what: str, step: Callable[[], T]) -> T:
    """Run one Grafana request; its failure becomes a one-line :class:`DashboardPushFailed`."""
    import niquests.exceptions
    from grafana_client.client import GrafanaException, GrafanaUnauthorizedError

    try:
        return step()
    except GrafanaUnauthorizedError:
        raise DashboardPushFailed(f"Grafana at {where} refused the token (401 Unauthorized) on {what}: "
                                  "check --token (a service-account token with Editor rights)") from None
    except GrafanaException as exc:
        raise DashboardPushFailed(f"Grafana at {where} rejected {what}: {exc.message}") from None
    except niquests.exceptions.RequestException as exc:
        raise DashboardPushFailed(f"cannot reach Grafana at {where}: {type(exc).__name__}: {exc}") from None


def _slug(name: str) -> str:
    """A folder uid from its name: lower case, runs of other characters as one dash (Grafana allows 40)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "shadowqa"
