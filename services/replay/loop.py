"""The shadow loop offline, frame by frame, through the loop's in-process driver (``services/loop/driver.py``).

It starts at automation rate 0 (every frame goes to people). Each frame's
engine result is routed, its tasks annotated by the simulated people, joined
and compared as messages, and counted by the aggregator's folds: every
``window`` machine comparisons the recommender steps, and its policy routes the
frames after that one, as the router agent would follow ``policies`` (with no
delay). A window here is the frames routed between two recommender steps; the
frames after the last step are a last window without a step of its own. A replay
of clips runs the same loop with a clip as the unit (read "clip" for "frame");
it also keeps each compared clip's step verdicts (``LoopRun.steps``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.gate import Gate, GateResult
from analysis.observations import Observation, Observations
from analysis.recommend import Recommendation
from analysis.sampling import Decision, Router
from services.loop.context import CompareContext
from services.loop.driver import Annotate, Driver
from services.loop.messages import AutomationMessage, StepVerdict
from services.loop.recommend import observation
from services.loop.routing import frame_info
from services.replay.clip_data import ClipReplayData, Replayed
from services.replay.config import ReplayConfig
from services.replay.messages import automation_messages, people


@dataclass(frozen=True)
class WindowRecord:
    """What happened between two recommender steps, and the state of the evidence after it."""

    index: int
    frames_seen: int
    threshold: float  # τ in force while the window was routed
    shipped: int
    manual: int
    audits: int
    consensus: int
    shipped_true_accepted: int  # known only in replay
    gate: GateResult  # over every compared frame so far
    compared: int  # machine comparisons counted by the window's end (the evidence its step saw)
    recommendation: Recommendation  # the step that closed the window (the last window: the step before it)
    stepped: bool = True  # False for the frames after the last step

    @property
    def frames(self) -> int:
        return self.shipped + self.manual


@dataclass
class LoopRun:
    windows: list[WindowRecord] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    eligible: list[bool] = field(default_factory=list)  # per frame: the policy in force would ship it
    ships: dict[str, bool] = field(default_factory=dict)  # the same by frame id
    observations: list[Observation] = field(default_factory=list)
    consensus: list[Observation] = field(default_factory=list)
    candidates: tuple[float, ...] = ()
    steps: dict[str, list[StepVerdict]] = field(default_factory=dict)  # a compared clip's verdict per step


def run_loop(cfg: ReplayConfig, data: Replayed) -> LoopRun:
    ctx = CompareContext(tuple(dict(c) for c in cfg.profile.categories), cfg.quality_spec, cfg.profile.clip_spec,
                         cfg.profile.geometry)
    messages, annotate = _inputs(cfg, data)
    driver, run = Driver(cfg.loop, ctx, annotate), LoopRun()
    gate = Gate(cfg.loop.target, cfg.loop.alpha, max_weight=cfg.loop.max_weight)
    gate_state, start, gated = gate.start(), 0, 0
    for i, message in enumerate(messages):
        router = driver.router
        run.eligible.append(router.policy.ships(frame_info(message)))
        run.ships[message.frame_id] = run.eligible[-1]
        out = driver.step([message], now=message.time)
        run.decisions += out.decisions
        run.observations += [observation(c) for c in out.comparisons if c.kind == "machine"]
        run.steps.update((c.frame_id, c.steps) for c in out.comparisons if c.kind == "machine" and c.steps)
        run.consensus += [observation(c) for c in out.comparisons if c.kind == "consensus"]
        for recommendation in out.recommendations:
            gate_state, _ = gate.update(gate_state, Observations.of(run.observations[gated:]))
            gated = len(run.observations)
            run.windows.append(_record(len(run.windows), range(start, i + 1), run, data, router,
                                       gate.result(gate_state), recommendation))
            start = i + 1
    if start < len(data.info) and run.windows:
        gate_state, _ = gate.update(gate_state, Observations.of(run.observations[gated:]))
        run.windows.append(_record(len(run.windows), range(start, len(data.info)), run, data, driver.router,
                                   gate.result(gate_state), run.windows[-1].recommendation, stepped=False))
    run.candidates = driver.aggregation.recommending.candidates
    return run


def _inputs(cfg: ReplayConfig, data: Replayed) -> tuple[list[AutomationMessage], Annotate]:
    """The engine's messages in arrival order and the people who answer their tasks."""
    if isinstance(data, ClipReplayData):
        return data.messages, data.annotate
    return automation_messages(data, cfg.dataset), people(data)


def _record(
    k: int, window: range, run: LoopRun, data: Replayed, router: Router, gate: GateResult,
    recommendation: Recommendation, stepped: bool = True,
) -> WindowRecord:
    decisions = run.decisions[window.start:window.stop]
    shipped = [i for i, d in zip(window, decisions, strict=True) if d.route == "ship"]
    manual = [d for d in decisions if d.route == "manual"]
    return WindowRecord(
        index=k, frames_seen=window.stop, threshold=router.policy.default, shipped=len(shipped), manual=len(manual),
        audits=sum(1 for d in manual if d.inclusion_prob < 1.0), consensus=sum(1 for d in manual if d.copies == 2),
        shipped_true_accepted=int(data.true_accepted[shipped].sum()), gate=gate, compared=len(run.observations),
        recommendation=recommendation, stepped=stepped,
    )
