"""A pytest plugin (loaded by the root conftest): SIGTERM stops the suite as Ctrl-C does.

Without it a SIGTERM (``kill``, a CI job's timeout) ends pytest at once: no ``finally``, no fixture teardown, so the
worker processes a test supervises (``Supervisor``), the simulated annotators and the API servers live on as
orphans on the machine's broker and database. Raised as KeyboardInterrupt, it unwinds the test's context managers,
which stop them, and pytest reports the interrupted session.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import pytest


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def pytest_configure(config: pytest.Config) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
