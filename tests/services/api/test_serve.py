"""``shadowqa api serve`` as a user starts it: a free port with ``--port 0``, named in the ready file; bad ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.api.server import base_url

ROOT = Path(__file__).resolve().parents[3]


def _serve(tmp_path: Path, *args: str, sigint_ignored: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "SHADOWQA_DATABASE_URL": f"sqlite:///{tmp_path / 'api.sqlite3'}"}
    argv = [sys.executable, "-m", "services.cli.main", "api", "serve", "--no-kafka", *args]
    if sigint_ignored:  # as a shell without job control starts a background job (`make test &` in a script)
        argv = ["/bin/sh", "-c", "trap '' INT; exec \"$@\"", "sh", *argv]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["sigint-as-inherited", "sigint-ignored"])
def test_port_zero_takes_a_free_port_and_the_ready_file_names_it(tmp_path: Path, sigint_ignored: bool) -> None:
    """Ctrl-C stops the server with exit status 130 even when it inherited SIGINT ignored (uvicorn would exit 0)."""
    ready = tmp_path / "api.ready"
    server = _serve(tmp_path, "--port", "0", "--ready-file", str(ready), sigint_ignored=sigint_ignored)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "the API did not start within 60 s"
            time.sleep(0.05)
        url = ready.read_text().strip()
        assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 130 and "Traceback" not in output, output  # stopped by Ctrl-C, cleanly


@pytest.mark.parametrize(("port", "message"), [("70000", "must be 0 to 65535, got 70000"),
                                                ("-1", "must be 0 to 65535, got -1"),
                                                ("http", "expected a port number, got 'http'")])
def test_a_bad_port_is_refused_before_anything_starts(tmp_path: Path, port: str, message: str) -> None:
    output, _ = _serve(tmp_path, "--port", port).communicate(timeout=60)
    assert message in output
    assert not (tmp_path / "api.sqlite3").exists(), "nothing may be created for a refused command line"


@pytest.mark.parametrize(("address", "url"), [(("127.0.0.1", 8000), "http://127.0.0.1:8000"),
                                              (("::1", 8001, 0, 0), "http://[::1]:8001")])
def test_base_url_of_a_socket_address(address: tuple[object, ...], url: str) -> None:
    assert base_url(address) == url
