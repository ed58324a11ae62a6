"""The shadow loop in one process, over message batches: route, annotate, join, compare, fold, recommend, apply.

``Driver.step`` takes a batch of the engine's messages and does what the router,
the annotation team, the comparator and the aggregator do online, with no
delay between them: the policy a window's recommendation names routes the
frames of the next batch, with the sampling policy given the per-stratum
evidence so far (``Router.with_evidence``: a policy that learns, such as
Neyman allocation, adapts; the others ignore it). ``absorb`` / ``compare`` / ``count`` are the same
steps for records that were routed and annotated elsewhere (a topic snapshot):
``replay_snapshot`` drives them. Each (frame, kind) is counted once, as the
aggregator counts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from analysis.policy.automation import AutomationPolicy
from analysis.recommend import Recommendation
from analysis.sampling import Decision, RouterState
from analysis.sampling.evidence import RecentFrames, StratumEvidence
from services.loop.aggregation import Aggregation
from services.loop.build import build_router
from services.loop.config import LoopConfig
from services.loop.context import CompareContext
from services.loop.join import Pending, absorb, compare_ready
from services.loop.messages import (
    AutomationMessage,
    ComparisonMessage,
    Delivery,
    ManualAnnotation,
    ManualTask,
    encode,
)
from services.loop.routing import decide, frame_info, routed

Annotate = Callable[[ManualTask], ManualAnnotation | None]  # None: nobody annotated the task


@dataclass
class StepOutput:
    """What one batch produced, topic by topic, in the order it was produced."""

    decisions: list[Decision] = field(default_factory=list)
    tasks: list[ManualTask] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    annotations: list[ManualAnnotation] = field(default_factory=list)
    comparisons: list[ComparisonMessage] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)


class Driver:
    """One shadow loop under ``config``: the router in force, the join state, the aggregator's folds."""

    def __init__(self, config: LoopConfig, ctx: CompareContext, annotate: Annotate | None = None,
                 policy: AutomationPolicy | None = None) -> None:
        self.config, self.ctx, self.annotate = config, ctx, annotate
        self.router, self.route_state = build_router(config, policy), RouterState()
        self.aggregation = Aggregation(config)
        self.pending: dict[str, Pending] = {}
        self.touched: set[str] = set()
        self.recent = RecentFrames()  # sizes the strata under a new policy (evidence's N_h)

    def step(self, batch: Sequence[AutomationMessage], now: float) -> StepOutput:
        """Route ``batch``, have its tasks annotated, compare what became comparable, count it, apply the policy."""
        if self.annotate is None:
            raise ValueError("Driver.step needs an annotate function (absorb recorded annotations instead)")
        out = StepOutput()
        for m in batch:
            self.recent.add(frame_info(m))
            self.route_state, decision = decide(self.router, self.route_state, m)
            tasks, delivery = routed(decision, m, now)
            out.decisions.append(decision)
            self.absorb("automation-results", encode(m))
            out.tasks += tasks
            for task in tasks:
                self.absorb("manual-queue", encode(task))
            if delivery is not None:
                out.deliveries.append(delivery)
                self.absorb("deliveries", encode(delivery))
        for task in out.tasks:
            annotation = self.annotate(task)
            if annotation is not None:
                out.annotations.append(annotation)
                self.absorb("manual-annotations", encode(annotation))
        out.comparisons = self.compare()
        out.recommendations = self.count(out.comparisons)
        return out

    def absorb(self, topic: str, raw: bytes) -> None:
        """A record of a joined topic into the join state (raises ``InvalidMessage`` if it does not validate)."""
        frame_id, update = absorb(topic, raw)
        self.pending[frame_id] = update(self.pending.get(frame_id) or Pending(since=0.0))
        self.touched.add(frame_id)

    def compare(self) -> list[ComparisonMessage]:
        """The comparisons of every frame that became comparable since the last call (finished frames dropped)."""
        touched = {f: self.pending[f] for f in sorted(self.touched)}
        self.touched.clear()
        out = compare_ready(touched, self.ctx)
        for f, p in touched.items():
            if p.complete:
                self.pending.pop(f, None)
            else:
                self.pending[f] = p
        return out

    def count(self, comparisons: Iterable[ComparisonMessage]) -> list[Recommendation]:
        """Count each (frame, kind) once, in order; the recommendations of the windows closed. The policy they put
        in force (with ``auto_apply``; without it the router keeps its policy, as the workers' does) routes the
        next frames, its sampling given the evidence so far."""
        added = self.aggregation.add_all(comparisons)
        if added.policies or (added.recommendations and self.config.auto_apply):  # evidence refreshed every window
            policy = added.policies[-1] if added.policies else self.router.policy
            self.router = self.router.with_policy(policy).with_evidence(self.evidence(policy))
        return added.recommendations

    def evidence(self, policy: AutomationPolicy | None = None) -> dict[str, StratumEvidence]:
        """Per stratum: the eligible frames' audits, their 1/π-weighted acceptance, and the recent frames
        ``policy`` (default: the one in force) would ship."""
        return self.aggregation.evidence(self.recent.eligible(policy or self.router.policy))
