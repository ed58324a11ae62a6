"""End to end: the bundled sample through the installed ``shadowqa`` command, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "sample"
SHADOWQA = Path(sys.executable).parent / "shadowqa"


def compare(*extra: str) -> subprocess.CompletedProcess[str]:
    argv = [str(SHADOWQA), "compare", "--automation", str(SAMPLE / "automation.json"),
            "--manual", str(SAMPLE / "manual.json"), "--spec", str(SAMPLE / "spec.yaml"), *extra]
    return subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)


def test_demo_prints_the_summary_table() -> None:
    done = compare()
    assert done.returncode == 0, done.stderr
    assert "overall" in done.stdout and "pedestrian" in done.stdout and done.stderr == ""


def test_demo_json_acceptance_is_neither_trivial_nor_degenerate() -> None:
    done = compare("--json")
    summary = json.loads(done.stdout)["summary"]
    assert 0.05 < summary["acceptance_rate"]["estimate"] < 0.95
    assert summary["frames"] == 300


def test_makefile_demo_runs_the_streaming_pipeline() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "shadowqa pipeline run --frames 4000 --report reports/demo" in makefile
    readme = (ROOT / "README.md").read_text().split("## ", 2)[1]
    assert readme.startswith("Quickstart") and "make demo" in readme and "make test" in readme


def test_the_driving_example_spec_is_the_reference_spec() -> None:
    from services.datasets.driving.qa_spec import REFERENCE_SPEC
    from services.io.annotation_files import load_spec

    assert load_spec(ROOT / "examples" / "driving-spec.yaml") == REFERENCE_SPEC
