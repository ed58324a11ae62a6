"""A worker loads what its role needs: torch (~3 s of imports, ~300 MB) only in automation workers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.loop.config import WORKER_ROLES

PROBE = """
import sys
import streams.worker
import streams.agents.{role}
print(",".join(sorted(m for m in ("torch", "torchvision") if m in sys.modules)))
"""


@pytest.mark.parametrize("role", [r for r in WORKER_ROLES if r != "automation"])
def test_a_worker_of_another_role_does_not_import_torch(role: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(role=role)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"a {role} worker imports {done.stdout.strip()}"


def test_an_automation_worker_does_import_torch() -> None:
    """The probe can see torch: the automation agent's imports load it."""
    done = subprocess.run([sys.executable, "-c", PROBE.format(role="automation")], capture_output=True, text=True,
                          check=True)
    assert "torch" in done.stdout.strip().split(",")
