"""The file-provisioning YAML agrees with the dashboards and with ``shadowqa dashboards push``."""

from __future__ import annotations

from typing import Any

import yaml

from dashboards.render import ROOT
from services.cli.dashboards import DATASOURCE_NAME, DATASOURCE_UID, SCRAPE_INTERVAL, datasource_body

PROVISIONING = ROOT / "dashboards" / "provisioning"


def _load(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PROVISIONING / relative).read_text(encoding="utf-8"))
    return loaded


def test_datasource_file_provisions_what_push_creates() -> None:
    (source,) = _load("datasources/prometheus.yaml")["datasources"]
    pushed = datasource_body("${SHADOWQA_PROMETHEUS_URL}")
    assert {k: source[k] for k in ("name", "uid", "type", "access", "url", "isDefault")} == \
        {k: pushed[k] for k in ("name", "uid", "type", "access", "url", "isDefault")}
    assert (source["uid"], source["name"], source["jsonData"]["timeInterval"]) == \
        (DATASOURCE_UID, DATASOURCE_NAME, SCRAPE_INTERVAL)


def test_dashboard_provider_loads_files_into_the_push_folder() -> None:
    (provider,) = _load("dashboards/shadowqa.yaml")["providers"]
    assert provider["type"] == "file" and provider["folderUid"] == "shadowqa"
    assert provider["options"]["path"].startswith("/")
