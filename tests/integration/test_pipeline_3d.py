"""LiDAR sweeps through the streaming pipeline on the real broker (``shadowqa pipeline run --dataset driving3d``).

One run of 40 sweeps: the automation worker runs the 3D detector on each referenced point cloud and sends its
cuboids; the router queues blind tasks that reference the cloud; the simulated team reads each task's cloud from
the HTTP API as binary PCD and submits cuboids; the comparator judges them under the 3D spec (centre distance and
heading per class, one miss and one extra tolerated). Every frame is routed once, every answer compared once, the
clouds served are the source's sweeps bit for bit, and an offline recomputation from the topic snapshots equals
the online comparisons and statistics.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import orjson
import pytest

from services.datasets import driving3d
from services.engine.frame_refs import driving3d_ref
from services.loop.checks import snapshot_lines
from services.loop.config import LoopConfig
from services.loop.messages import AutomationMessage, ComparisonMessage, ManualAnnotation, decode
from services.settings import Settings
from services.tools.pipeline_run import RunOptions, RunOutcome, run_pipeline

pytestmark = pytest.mark.slow

FRAMES, SEED = 40, 11


@pytest.fixture(scope="module")
def run(settings: Settings, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    out = tmp_path_factory.mktemp("pipeline3d")
    options = RunOptions(frames=FRAMES, rate=40.0, seed=SEED, annotators=3, out=out, stall_s=90.0, lease_s=5.0,
                         abandon=0.0, skip=0.0, database_url=f"sqlite:///{out / 'shadowqa.sqlite3'}",
                         loop=LoopConfig(dataset="driving3d", window=10, consensus_share=0.3))
    return run_pipeline(settings, options, say=lambda _: None)


def _lines(outcome: RunOutcome, topic: str) -> list[dict[str, Any]]:
    return [orjson.loads(raw) for raw in snapshot_lines(outcome.snapshot_dir, topic)]


def test_every_sweep_gets_the_detectors_cuboids_and_is_routed_once(run: RunOutcome) -> None:
    results = [decode(AutomationMessage, orjson.dumps(d)) for d in _lines(run, "automation-results")]
    assert len(results) == FRAMES and all(m.error is None for m in results)
    assert all(m.model_version.startswith("driving3d-detector@") and m.image.startswith("synthetic://driving3d")
               for m in results)
    shapes = [g for m in results for g in m.geometries]
    assert shapes and {g.kind for g in shapes} == {"cuboid3d"}
    routed = Counter(d["frame_id"] for d in _lines(run, "deliveries"))
    routed.update({d["frame_id"] for d in _lines(run, "manual-queue")})
    assert routed == Counter(m.frame_id for m in results), "each frame shipped or queued, once"


def test_each_task_references_its_cloud_and_the_api_served_it_as_the_sources_sweep(run: RunOutcome) -> None:
    tasks = _lines(run, "manual-queue")
    assert tasks and all(t["image"] == driving3d_ref(SEED, t["seq"] - 1) for t in tasks)
    assert run.team is not None and set(run.team.clouds) == {t["image"] for t in tasks}
    for t in tasks:
        points = driving3d.render_frame(SEED, t["seq"] - 1).points
        assert run.team.clouds[t["image"]] == hashlib.sha256(points.tobytes()).hexdigest(), t["frame_id"]


def test_people_submit_cuboids_through_the_api_and_each_is_judged_once(run: RunOutcome) -> None:
    answers = [decode(ManualAnnotation, orjson.dumps(d)) for d in _lines(run, "manual-annotations")]
    assert {(a.frame_id, a.copy_) for a in answers} == {(d["frame_id"], d["copy"]) for d in _lines(run, "manual-queue")}
    assert any(a.copy_ == 2 for a in answers), "a consensus copy too (consensus share 0.3)"
    objects = [o for a in answers for o in a.objects]
    assert objects and {o.geometry.kind for o in objects} == {"cuboid3d"}
    assert all(a.annotator.startswith("sim-") for a in answers)
    comparisons = [decode(ComparisonMessage, orjson.dumps(d)) for d in _lines(run, "comparisons")]
    for kind, copy in (("machine", 1), ("consensus", 2)):
        assert Counter(c.frame_id for c in comparisons if c.kind == kind) == Counter(
            a.frame_id for a in answers if a.copy_ == copy)
    machine = [c for c in comparisons if c.kind == "machine"]
    assert sum(c.tp for c in machine) > 0 and any(c.accepted for c in machine)


def test_the_offline_recomputation_from_the_snapshots_equals_the_online_stats(run: RunOutcome) -> None:
    assert {"comparisons", "agreement-stats"} <= set(run.offline.checked)
    assert run.offline.matches, run.offline.problems
    assert run.tally.aggregated == len(run.tally.comparisons)
