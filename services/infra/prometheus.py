"""A throw-away Prometheus server (Debian's ``prometheus`` package) that scrapes given targets.

The tests start one on a free 127.0.0.1 port with its own storage in a temporary folder,
scraping every second, and query it over its HTTP API; ``make test`` installs the package
(``make system``). Nothing here is used by the pipeline itself.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from services.infra.client import free_port
from services.infra.exceptions import InfraError

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class PrometheusNotFound(InfraError):
    """Raised when no ``prometheus`` binary is on PATH (``make system`` installs Debian's package)."""


class PrometheusStartFailed(InfraError):
    """Raised when the server exits during start-up or is not ready in time; quotes the end of its log."""


class PrometheusQueryFailed(InfraError):
    """Raised when the server rejects a query (bad PromQL) or does not answer it."""


@dataclass(frozen=True)
class PrometheusServer:
    """A running server: its base URL and the folder holding its config, storage and log."""

    url: str
    folder: Path

    def query(self, expr: str, at: float) -> list[dict[str, Any]]:
        """The instant-vector result of ``expr`` evaluated at unix time ``at``."""
        return self._get("/api/v1/query", {"query": expr, "time": f"{at:.3f}"})

    def query_range(self, expr: str, start: float, end: float, step_s: float) -> list[dict[str, Any]]:
        """The range-vector (matrix) result of ``expr`` over ``[start, end]`` every ``step_s`` seconds."""
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step_s:g}"}
        return self._get("/api/v1/query_range", params)

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets with their health (``up``/``down``) and last error."""
        body = httpx.get(f"{self.url}/api/v1/targets", timeout=10.0).json()
        active: list[dict[str, Any]] = body["data"]["activeTargets"]
        return active

    def wait_for_targets(self, count: int, timeout_s: float = 30.0) -> None:
        """Block until ``count`` scrape targets are active (Prometheus applies a new config within ~5 s)."""
        deadline = time.monotonic() + timeout_s
        while len(self.targets()) < count:
            if time.monotonic() > deadline:
                raise PrometheusStartFailed(f"Prometheus at {self.url} has {len(self.targets())} of {count} "
                                            f"scrape targets after {timeout_s:.0f} s")
            time.sleep(0.2)

    def _get(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        try:
            response = httpx.get(f"{self.url}{path}", params=params, timeout=30.0)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise PrometheusQueryFailed(f"Prometheus at {self.url} did not answer {params['query']!r}: {exc}") from exc
        if body.get("status") != "success":
            raise PrometheusQueryFailed(f"Prometheus rejected {params['query']!r}: {body.get('error', body)}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result


def scrape_config(jobs: Mapping[str, list[str]], interval_s: float) -> dict[str, Any]:
    """A Prometheus configuration scraping each job's ``host:port`` targets every ``interval_s`` seconds."""
    interval = f"{interval_s:g}s"
    return {
        "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": list(targets)}]}
                           for job, targets in jobs.items()],
    }


@contextlib.contextmanager
def prometheus_server(jobs: Mapping[str, list[str]], interval_s: float = 1.0,
                      binary: str = "prometheus") -> Iterator[PrometheusServer]:
    """Run Prometheus on a free 127.0.0.1 port scraping ``jobs`` until the block ends, then stop it.

    Its config, storage and log live in a temporary folder removed afterwards.
    """
    executable = shutil.which(binary)
    if executable is None:
        raise PrometheusNotFound(f"no {binary!r} on PATH: install Debian's prometheus package "
                                 "(`make system`, which `make test` runs)")
    with tempfile.TemporaryDirectory(prefix="shadowqa-prometheus-") as tmp:
        folder = Path(tmp)
        config = folder / "prometheus.yml"
        config.write_text(yaml.safe_dump(scrape_config(jobs, interval_s), sort_keys=False), encoding="utf-8")
        port = free_port()
        argv = [executable, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
        log = folder / "prometheus.log"
        with log.open("wb") as out:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            server = PrometheusServer(url=f"http://127.0.0.1:{port}", folder=folder)
            _wait_ready(server, process, log)
            yield server
        finally:
            _stop(process)


def _wait_ready(server: PrometheusServer, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PrometheusStartFailed(f"prometheus exited with status {process.returncode}: {_tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/-/ready", timeout=2.0).status_code == 200:
                return
        time.sleep(0.1)
    raise PrometheusStartFailed(f"prometheus not ready at {server.url} after {READY_TIMEOUT_S:.0f} s: {_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(log: Path, lines: int = 5) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return " | ".join(text[-lines:]) or "(empty log)"
