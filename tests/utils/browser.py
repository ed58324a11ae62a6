"""Headless Chromium (Debian's package) driven over the DevTools protocol, for report tests."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import websocket

FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise RuntimeError("chromium is not installed; `make test` installs Debian's package "
                           "(scripts/system-packages.sh)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def chromium() -> Iterator[int]:
    """A headless Chromium listening for DevTools on a loopback port; stopped afterwards."""
    port = _free_port()
    # its helper processes (zygote, crashpad) can outlive the browser and still write to the profile: the whole
    # process group is stopped before the profile is removed (CI once failed removing a non-empty 'Default')
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [chromium_path(), *FLAGS, f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            _wait(port)
            yield port
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"chromium did not open its DevTools port {port} within {seconds:.0f} s")


def evaluate_in_page(port: int, page: Path, expression: str, settle: float = 1.0) -> Any:
    """Open ``page`` in a new tab, wait for it to load, and return the value of ``expression``."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?{page.resolve().as_uri()}", method="PUT")
    target = json.loads(urllib.request.urlopen(req, timeout=10).read())
    ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = _call(ws, "Runtime.evaluate", {"expression": "document.readyState", "returnByValue": True})
            if state == "complete":
                break
            time.sleep(0.1)
        time.sleep(settle)
        return _call(ws, "Runtime.evaluate", {"expression": expression, "returnByValue": True})
    finally:
        ws.close()


def screenshot(port: int, page: Path, out: Path, width: int = 1280, max_height: int = 7000) -> Path:
    """Open ``page`` in a new tab at ``width`` CSS pixels and write the whole page (up to ``max_height``): PNG, or
    JPEG (quality 80) when ``out`` ends in .jpg."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?{page.resolve().as_uri()}", method="PUT")
    target = json.loads(urllib.request.urlopen(req, timeout=10).read())
    ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _call(
                ws, "Runtime.evaluate", {"expression": "document.readyState", "returnByValue": True}) != "complete":
            time.sleep(0.1)
        height = None
        while height is None and time.monotonic() < deadline + 30:  # None until the page's context answers
            height = _call(ws, "Runtime.evaluate", {"expression": "document.documentElement.scrollHeight",
                                                    "returnByValue": True})
            time.sleep(0 if height is not None else 0.2)
        height = min(max_height, int(height or max_height))
        _raw(ws, "Emulation.setDeviceMetricsOverride",
             {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        image = {"format": "jpeg", "quality": 80} if out.suffix == ".jpg" else {"format": "png"}
        shot = _raw(ws, "Page.captureScreenshot", {**image, "captureBeyondViewport": True,
                                                   "clip": {"x": 0, "y": 0, "width": width, "height": height,
                                                            "scale": 1}})
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
        return out
    finally:
        ws.close()


def _call(ws: websocket.WebSocket, method: str, params: dict[str, Any]) -> Any:
    return _raw(ws, method, params)["result"].get("value")


def _raw(ws: websocket.WebSocket, method: str, params: dict[str, Any]) -> Any:
    ws.send(json.dumps({"id": 1, "method": method, "params": params}))
    while True:
        message = json.loads(ws.recv())
        if message.get("id") == 1:
            return message["result"]
