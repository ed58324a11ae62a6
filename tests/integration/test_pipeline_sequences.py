"""Clips through the streaming pipeline on the real broker (``shadowqa pipeline run --sequences``).

One run of 10 clips of 10 frames of the driving-seq profile: the automation worker buffers each clip's frames and
runs the reference chain (detect → track → post-process) on the whole clip, each step's output on its own topic;
the router queues clip tasks that the simulated team answers through the HTTP API with track ids; the comparator
judges each clip and attributes its errors to the steps. Every clip is routed once, compared once per annotation,
and an offline recomputation from the topic snapshots equals the online comparisons and statistics. A second test
SIGKILLs the automation worker while clips are half buffered: after its restart every clip is answered once, whole.
"""

from __future__ import annotations

import base64
import io
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from functools import cache
from html import unescape
from pathlib import Path
from typing import Any

import orjson
import pytest
from PIL import Image

from services.engine.chain.spec import load_pipeline
from services.engine.chain.streaming import ClipChain
from services.infra.topic_names import TopicNames
from services.loop.checks import snapshot_lines
from services.loop.config import LoopConfig
from services.loop.messages import AutomationMessage, ComparisonMessage, ManualAnnotation, decode, encode
from services.loop.step_shares import of_comparisons as step_shares
from services.report.build import section_titles
from services.reporting.pipeline_report import write_report
from services.settings import Settings
from services.tools.feed import frame_message, plan
from services.tools.kafka import KafkaSink, key_bytes
from services.tools.pipeline_run import RunOptions, RunOutcome, run_pipeline
from services.tools.snapshot import read_topic
from services.tools.supervisor import Supervisor
from services.tools.worker_args import loop_args

pytestmark = pytest.mark.slow

CLIPS, LENGTH, SEED = 10, 10, 11
STEPS = ["detect", "track", "post"]  # builtin:driving-chain
RESULT_WAIT_S = 120.0  # only against a hang: the results come within seconds of the last frame


def _options(out: Path) -> RunOptions:
    return RunOptions.of_clips(CLIPS, LENGTH, seed=SEED, annotators=4, out=out, stall_s=60.0, lease_s=5.0,
                               abandon=0.0, skip=0.0, database_url=f"sqlite:///{out / 'shadowqa.sqlite3'}",
                               loop=LoopConfig(consensus_share=0.3))


@pytest.fixture(scope="module")
def run(settings: Settings, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    return run_pipeline(settings, _options(tmp_path_factory.mktemp("sequences")), say=lambda _: None)


def _lines(outcome: RunOutcome, topic: str) -> list[dict[str, Any]]:
    return [orjson.loads(raw) for raw in snapshot_lines(outcome.snapshot_dir, topic)]


def test_every_clip_is_answered_by_the_whole_chain_and_routed_once(run: RunOutcome) -> None:
    clips = {f"clip-{v}" for v in range(1, CLIPS + 1)}
    results = [decode(AutomationMessage, orjson.dumps(d)) for d in _lines(run, "automation-results")]
    assert Counter(m.frame_id for m in results) == Counter(clips)
    for m in results:
        assert m.clip is not None and [s.name for s in m.clip.steps] == STEPS
        assert [f.frame_index for f in m.clip.frames] == list(range(LENGTH))
        assert m.model_version.startswith("detect@") and "+track@" in m.model_version and "+post@" in m.model_version
    routed = Counter(d["frame_id"] for d in _lines(run, "deliveries"))
    routed.update({d["frame_id"] for d in _lines(run, "manual-queue")})
    assert routed == Counter(clips), "each clip shipped or queued, once"
    tasks = Counter((d["frame_id"], d["copy"]) for d in _lines(run, "manual-queue"))
    assert set(tasks.values()) == {1}
    assert all(d["clip"]["frames"] for d in _lines(run, "manual-queue"))


def test_each_steps_output_is_on_its_own_topic(run: RunOutcome) -> None:
    final = {d["frame_id"]: d for d in _lines(run, "automation-results")}
    for k, step in enumerate(STEPS):
        lines = _lines(run, f"automation-steps.{step}")
        assert sorted(d["frame_id"] for d in lines) == sorted(final)
        for d in lines:
            (own,) = d["clip"]["steps"]
            assert own == final[d["frame_id"]]["clip"]["steps"][k]
            assert d["model_version"] == own["model_version"] and own["model_version"].startswith("detect@")


def test_clip_tasks_are_answered_through_the_api_with_track_ids(run: RunOutcome) -> None:
    answers = [decode(ManualAnnotation, orjson.dumps(d)) for d in _lines(run, "manual-annotations")]
    tasks = {(d["frame_id"], d["copy"]) for d in _lines(run, "manual-queue")}
    assert {(a.frame_id, a.copy_) for a in answers} == tasks
    assert any(a.copy_ == 2 for a in answers), "a consensus copy too (consensus share 0.3)"
    for a in answers:
        assert a.objects == [] and a.clip_frames is not None and a.annotator.startswith("sim-")
        assert all(o.track_id is not None and o.track_id >= 0 for f in a.clip_frames for o in f.objects)
    assert sum(len(f.objects) for a in answers for f in a.clip_frames or ()) > 0
    database = Path(run.database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT count(*) FROM manual_annotations WHERE clip_frames IS NOT NULL "
                            "AND published_at IS NOT NULL").fetchone()[0]
        queued = db.execute("SELECT count(*) FROM manual_tasks WHERE clip IS NOT NULL").fetchone()[0]
    assert stored == queued == len(tasks)


def test_one_machine_comparison_per_annotated_clip_with_step_verdicts_that_add_up(run: RunOutcome) -> None:
    comparisons = [decode(ComparisonMessage, orjson.dumps(d)) for d in _lines(run, "comparisons")]
    machine = Counter(c.frame_id for c in comparisons if c.kind == "machine")
    first = {d["frame_id"] for d in _lines(run, "manual-annotations") if d["copy"] == 1}
    assert machine == Counter(first)
    seconds = {d["frame_id"] for d in _lines(run, "manual-annotations") if d["copy"] == 2}
    assert Counter(c.frame_id for c in comparisons if c.kind == "consensus") == Counter(seconds)
    for c in comparisons:
        if c.kind != "machine":
            continue
        assert c.steps is not None and c.tracking is not None and [s.name for s in c.steps] == STEPS
        last = c.steps[-1]
        assert sum(s.attributed for s in c.steps) == last.misses + last.false_positives + last.switches
        assert c.accepted == last.accepted
    shares = step_shares(comparisons)
    assert shares.clips == len(first) and sum(s.share for s in shares.steps) == pytest.approx(1.0)


def test_the_offline_recomputation_from_the_snapshots_equals_the_online_stats(run: RunOutcome) -> None:
    assert {"comparisons", "agreement-stats"} <= set(run.offline.checked)
    assert run.offline.matches, run.offline.problems
    assert run.tally.aggregated == len(run.tally.comparisons)
    assert run.team is not None and not any(run.team.lost.values())


def test_the_run_report_names_the_limiting_step_and_shows_each_steps_worst_frames(
    run: RunOutcome, tmp_path: Path,
) -> None:
    """The streaming run's report has what a replay of clips has: the steps table (estimate only: a streaming run
    has no truth) and a gallery per step, the frames read back from the clips' frame references."""
    html = write_report(_options(run.snapshot_dir.parent), run, tmp_path).read_text()
    assert [unescape(t) for t in re.findall(r"<h2>([^<]+)</h2>", html)] == list(section_titles("clips"))
    shares = step_shares(decode(ComparisonMessage, orjson.dumps(d)) for d in _lines(run, "comparisons"))
    assert f"Limiting step: {shares.limiting or 'none'} (estimate from {shares.clips} compared clips" in html
    assert "true share" not in html
    for step in shares.steps:
        assert f"Where {step.name} introduced the most errors" in html
        pictures = html.count(f'alt="{step.name}: clip-')
        assert (pictures > 0) == (step.attributed > 0), (step.name, step.attributed, pictures)
    images = [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]
    assert shares.steps[0].attributed > 0 and len(images) >= 5  # the detector misses (85 % of the errors, seed 0)
    for png in images:
        picture = Image.open(io.BytesIO(png))
        picture.verify()
        assert picture.format == "PNG" and picture.size[0] > 100


@cache
def _chain() -> ClipChain:
    return ClipChain(load_pipeline("builtin:driving-chain"))


@pytest.fixture
def automation(settings: Settings, run_topics: TopicNames, tmp_path: Path) -> Iterator[Supervisor]:
    with Supervisor(run_topics.prefix, tmp_path / "logs",
                    worker_args=loop_args(LoopConfig(dataset="driving-seq"))) as supervisor:
        supervisor.start("automation")
        supervisor.wait_ready()
        yield supervisor


@pytest.mark.faults
def test_half_buffered_clips_survive_a_killed_automation_worker(
        settings: Settings, run_topics: TopicNames, automation: Supervisor) -> None:
    bootstrap = settings.kafka_bootstrap
    source = plan(f"synthetic://driving-seq?seed={SEED}&clips=3&length={LENGTH}")
    half = [f for f in source.frames if f.clip is not None and f.clip.frame_index < LENGTH // 2]
    rest = [f for f in source.frames if f not in half]
    _send(bootstrap, run_topics.frames, half, source.source)
    _wait(lambda: _buffered(bootstrap, run_topics) >= len(half), "the first halves buffered")
    automation.kill("automation")
    automation.start("automation", index=1)
    automation.wait_ready()
    _send(bootstrap, run_topics.frames, rest, source.source)
    _wait(lambda: len(read_topic(bootstrap, run_topics.automation_results).records) >= 3, "three clip results")
    time.sleep(2.0)  # a duplicate would come right behind
    records = read_topic(bootstrap, run_topics.automation_results).records
    got = {r.key.decode(): decode(AutomationMessage, r.value) for r in records}
    assert len(records) == 3 and sorted(got) == ["clip-1", "clip-2", "clip-3"]
    frames = [frame_message(f, source.source, 0.0) for f in source.frames]
    for k in range(3):  # clip by clip, as the worker runs them (the detector's batches alike)
        (e,) = _chain().run([frames[k * LENGTH:(k + 1) * LENGTH]], 0.0)
        m = got[e.message.frame_id]
        assert m.clip is not None and e.message.clip is not None
        assert [f.frame_id for f in m.clip.frames] == [f.frame_id for f in e.message.clip.frames]
        assert m.clip.steps == e.message.clip.steps, "the clip run on all its frames, as in process"


def _send(bootstrap: str, topic: str, frames: list[Any], source: str) -> None:
    sink = KafkaSink(bootstrap)
    try:
        for f in frames:
            sink.send(topic, key_bytes(f.key), encode(frame_message(f, source, time.time())))
        sink.flush()
    finally:
        sink.close()


def _buffered(bootstrap: str, names: TopicNames) -> int:
    """Frames held in the automation worker's buffers (its state topic's live frame entries)."""
    live: dict[str, bytes | None] = {}
    for r in read_topic(bootstrap, f"{names.prefix}shadowqa-automation-state").records:
        live[r.key.decode()] = r.value
    return sum(1 for k, v in live.items() if v is not None and "#" in k)


def _wait(ready: Any, what: str) -> None:
    deadline = time.monotonic() + RESULT_WAIT_S
    while not ready():
        assert time.monotonic() < deadline, f"waited {RESULT_WAIT_S:.0f} s for {what}"
        time.sleep(0.5)
