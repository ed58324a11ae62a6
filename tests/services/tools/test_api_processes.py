"""`shadowqa api serve` processes as runs, tests and benchmarks start them: ready with their URL, or a clear error."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services.tools.api_processes import api_processes
from services.tools.exceptions import ToolError


def test_each_process_answers_on_the_url_it_announced_and_is_stopped_after(tmp_path: Path) -> None:
    env = {"SHADOWQA_DATABASE_URL": f"sqlite:///{tmp_path / 'api.sqlite3'}"}
    with api_processes(2, env, tmp_path / "logs", ["--no-kafka"]) as apis:
        assert len({api.url for api in apis}) == 2
        assert [httpx.get(f"{api.url}/healthz", timeout=10).status_code for api in apis] == [200, 200]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{apis[0].url}/healthz", timeout=10)
    assert sorted(p.name for p in (tmp_path / "logs").glob("*.log")) == ["api-0.log", "api-1.log"]


def test_a_process_that_cannot_start_is_an_error_showing_its_log(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"the API exited with status 2; .*api\.log ends:\n.*nonsense"), \
            api_processes(1, {"SHADOWQA_DATABASE_URL": "nonsense://x"}, tmp_path, ["--no-kafka"]):
        pass
