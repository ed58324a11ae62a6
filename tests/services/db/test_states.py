"""The manual task state machine: exactly the documented transitions, and errors that say which task and move."""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from services.db.exceptions import IllegalTransition
from services.db.states import LEASABLE, TaskState, allowed, transition

Q, L, S, E, R = TaskState.QUEUED, TaskState.LEASED, TaskState.SUBMITTED, TaskState.EXPIRED, TaskState.REQUEUED
# queued → leased → submitted | expired → requeued → leased; leased → requeued when the annotator skips
DOCUMENTED = {(Q, L), (L, S), (L, E), (E, R), (R, L), (L, R)}
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("current", "target"), list(itertools.product(TaskState, repeat=2)))
def test_every_pair_of_states(current: TaskState, target: TaskState) -> None:
    expected = (current, target) in DOCUMENTED
    assert allowed(current, target) is expected
    assert allowed(current.value, target.value) is expected
    if expected:
        assert transition("f-1/1", current, target) is target
    else:
        with pytest.raises(IllegalTransition):
            transition("f-1/1", current, target)


def test_submitted_is_final_and_only_queued_or_requeued_tasks_are_leased() -> None:
    assert not any(allowed(S, target) for target in TaskState)
    assert {Q, R} == LEASABLE


def test_illegal_transition_names_the_task_and_both_states() -> None:
    with pytest.raises(IllegalTransition, match=r"task 'f-9/2': illegal transition 'expired' -> 'submitted'") as err:
        transition("f-9/2", "expired", "submitted")
    assert (err.value.task_id, err.value.current, err.value.target) == ("f-9/2", "expired", "submitted")


@pytest.mark.parametrize(("current", "target"), [("queued", "done"), ("lost", "leased"), ("", "")])
def test_unknown_states_are_never_allowed(current: str, target: str) -> None:
    assert not allowed(current, target)
    with pytest.raises(IllegalTransition, match=f"'{current}' -> '{target}'"):
        transition("t", current, target)


def test_states_import_no_sqlalchemy() -> None:
    code = "import sys, services.db.states; sys.exit('sqlalchemy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0


def test_analysis_never_imports_sqlalchemy() -> None:
    offenders = [
        str(path.relative_to(ROOT)) for path in sorted((ROOT / "analysis").rglob("*.py"))
        if any(name.split(".")[0] in {"sqlalchemy", "alembic"} for name in _imports(path))
        or any(name.startswith("services.db") for name in _imports(path))
    ]
    assert offenders == []


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names
