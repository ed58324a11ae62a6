"""Waiting on a worker's progress, never on a fixed total time (the machine may be slow)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from services.tools.supervisor import Supervisor

STALL_S = 120.0  # a worker whose progress stands still this long is stuck, not slow


def wait_for(what: str, progress: Callable[[], Any], done: Callable[[Any], bool], supervisor: Supervisor,
             stall_s: float = STALL_S) -> None:
    """Wait until ``done(progress())``, failing only when progress stands still for ``stall_s`` (or a worker of
    ``supervisor`` died)."""
    last, since = None, time.monotonic()
    while True:
        supervisor.check()
        value = progress()
        if done(value):
            return
        if value != last:
            last, since = value, time.monotonic()
        elif time.monotonic() - since > stall_s:
            pytest.fail(f"{what}: no progress for {stall_s:.0f} s (at {value})")
        time.sleep(0.2)
