"""N worker processes per role, and a rebalance mid-run: a worker added and another one killed.

Two processes each of automation, router and comparator (the per-frame topics have 4 partitions) and one
aggregator run on the real broker, as ``shadowqa worker --role ROLE`` started several times. Mid-run a third
comparator joins its group and router 0 is SIGKILLed: its partitions stay with the dead member until the group's
session timeout (10 s, heartbeats every 2 s: streams/app.py), then the surviving router takes them. The run must
still route every frame once, compare and count every annotation once, and match the offline recomputation; the
router group must move on in *every* partition of ``automation-results`` (the killed router's included) within
RESUME_BOUND_S of the kill.

When to act is read from the broker (the router group's committed offsets), not from the run's tally: the tally
is a reader that can fall behind on a loaded machine (on CI it once saw 150 results only after the routers had
committed all 600, so the kill came after the last frame and no partition could move on).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from services.infra.client import admin_client
from services.infra.topic_names import TopicNames
from services.loop.offline import replay_snapshot
from services.loop.tally import Tally
from services.settings import Settings
from services.tools.annotator_process import annotators
from services.tools.pipeline_run import RunOptions, drive, export_run
from services.tools.supervisor import Supervisor
from services.tools.worker_args import loop_args
from streams.app import app_id
from tests.integration.conftest import PARTITIONS
from tests.utils.pipeline_checks import REACHABLE, check_counted_once, frame_ids, records_written

pytestmark = [pytest.mark.slow, pytest.mark.faults]

# 600 frames at 20/s: 30 s of feed, about 22 s of it after the kill (at 150 routed), longer than the
# session timeout and the rebalance, so every partition sees frames the survivor must route
FRAMES, SEED, RATE = 600, 25, 20.0
COUNTS = {"automation": 2, "router": 2, "comparator": 2}  # and one aggregator (it folds everything)
ACT_WHEN = 150  # routed results committed (every partition; a comparison made): add a comparator, kill a router
RESUME_BOUND_S = 60.0  # guard: the session timeout (10 s) plus a rebalance (measured: 11.5-11.7 s)
LOOP = replace(REACHABLE, window=60)  # recommendations (and policies the routers follow) before and after the kill


@dataclass
class Rebalance:
    """Adds comparator 2 and kills router 0 on the first tick the router group has committed ACT_WHEN results,
    then times the group's recovery: seconds from the kill until its committed offset has moved in every
    partition."""

    bootstrap: str
    names: TopicNames
    killed_at: float | None = None
    comparisons_at_kill: int = 0
    tally_at_kill: int = 0  # comparisons the run's tally had read by then (how far that reader lags: a diagnostic)
    before: dict[int, int] = field(default_factory=dict)
    resumed_s: float | None = None
    comparator_members: int = 0

    def tick(self, t: Tally, supervisor: Supervisor) -> None:
        if self.killed_at is None:
            committed = self._committed()
            if (len(committed) == PARTITIONS and sum(committed.values()) >= ACT_WHEN
                    and records_written(self.bootstrap, self.names.comparisons) > 0):
                self.before = committed
                supervisor.start("comparator", index=COUNTS["comparator"])
                supervisor.kill("router", 0)  # SIGKILL: no leave-group, no commit
                self.killed_at = time.monotonic()
                self.comparisons_at_kill = records_written(self.bootstrap, self.names.comparisons)
                self.tally_at_kill = len(t.comparisons)
            return
        if self.resumed_s is None:
            now = self._committed()
            if all(now.get(p, -1) > offset for p, offset in self.before.items()):
                self.resumed_s = round(time.monotonic() - self.killed_at, 1)
        self.comparator_members = max(self.comparator_members, self._members("comparator"))

    def _committed(self) -> dict[int, int]:
        """The router group's committed offset per partition of ``automation-results``."""
        group = app_id(self.names, "router")
        with admin_client(self.bootstrap) as admin:
            committed: dict[Any, Any] = admin.list_group_offsets(group).get(group, {})
        return {tp.partition: meta.offset for tp, meta in committed.items()
                if tp.topic == self.names.automation_results and meta.offset >= 0}

    def _members(self, role: str) -> int:
        group = app_id(self.names, role)
        with admin_client(self.bootstrap) as admin:
            described: dict[str, Any] = admin.describe_groups([group])
        return len(described.get(group, {}).get("members", []))


def test_two_workers_per_role_with_one_added_and_one_killed_mid_run_count_every_frame_once(
    settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    names, begin = run_topics, time.monotonic()
    options = RunOptions(frames=FRAMES, rate=RATE, seed=SEED, annotators=8, annotator_delay_ms=0, loop=LOOP,
                         out=tmp_path)
    rebalance = Rebalance(settings.kafka_bootstrap, names)
    with Supervisor(names.prefix, tmp_path / "logs", worker_args=loop_args(LOOP)) as supervisor:
        supervisor.start_all(counts=COUNTS)
        with annotators(names.prefix, tmp_path / "logs", options):
            t = drive(settings, names, options, supervisor, on_tick=rebalance.tick).tally
    export_run(settings.kafka_bootstrap, names, tmp_path / "snapshot")
    offline = replay_snapshot(tmp_path / "snapshot", LOOP)
    print(f"router group moved on in every partition {rebalance.resumed_s} s after the kill; comparisons "
          f"{rebalance.comparisons_at_kill} at the kill ({rebalance.tally_at_kill} read by the tally), "
          f"{len(t.comparisons)} in all; {len(t.shipped)} shipped; run "
          f"{time.monotonic() - begin:.1f} s")

    assert rebalance.killed_at is not None, "the run ended before a router could be killed"
    assert len(rebalance.before) == PARTITIONS, f"the routers had not committed in every partition: {rebalance.before}"
    assert sum(rebalance.before.values()) <= FRAMES - 2 * ACT_WHEN, (
        f"most frames were routed before the kill: {rebalance.before}")
    assert rebalance.resumed_s is not None, "the router group never moved on in the killed router's partitions"
    assert rebalance.resumed_s < RESUME_BOUND_S
    assert rebalance.comparator_members == COUNTS["comparator"] + 1, "the added comparator never joined its group"
    assert len(t.comparisons) >= 2 * rebalance.comparisons_at_kill, "most comparisons must come after the kill"
    assert t.shipped | t.queued == frame_ids(SEED, FRAMES) and not t.shipped & t.queued
    assert t.shipped and t.policies >= 1  # the routers followed published policies on both sides of the kill
    check_counted_once(t)
    assert offline.problems == []
