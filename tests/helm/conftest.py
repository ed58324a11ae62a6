"""The Helm chart is rendered by the real helm, which ``make test`` (``make helm``) builds into .cache/bin first.

Without it these tests fail (never skip): building helm takes minutes, so the tests do not do it themselves.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helm.render import CHART, HELM, Doc, Helm

SAMPLE_DASHBOARD = '{\n  "title": "QA sample",\n  "uid": "qa-sample",\n  "panels": [],\n  "note": "<&> \\u00e9"\n}\n'


@pytest.fixture(scope="session")
def helm() -> Helm:
    if not os.access(HELM, os.X_OK):
        pytest.fail(f"no helm binary at {HELM}: build it with `make helm` (scripts/helm.sh builds it through the Go "
                    "module proxy, about 2 minutes the first time); `make test` does this before pytest", pytrace=False)
    return Helm(HELM)


@pytest.fixture(scope="session")
def defaults(helm: Helm) -> list[Doc]:
    """The chart rendered with its default values."""
    return helm.template()


@pytest.fixture
def chart_with_sample_dashboard(tmp_path: Path) -> Path:
    """A copy of the chart with one more dashboard file, whatever dashboards the chart itself ships."""
    chart = tmp_path / "shadowqa"
    shutil.copytree(CHART, chart)
    (chart / "dashboards").mkdir(exist_ok=True)
    (chart / "dashboards" / "QA_Sample.json").write_text(SAMPLE_DASHBOARD)
    return chart
