"""The pipeline's topic names, with an optional prefix so tests and demos do not collide."""

from __future__ import annotations

from dataclasses import dataclass

PER_FRAME = ("frames", "automation-results", "manual-queue", "deliveries", "manual-annotations", "comparisons")
SINGLE = ("agreement-stats", "recommendations", "policies", "policy-pins", "dead-letters")
COMPACTED = ("agreement-stats", "policies", "policy-pins")
ORDERED = ("comparisons",)  # one partition whatever the partition count: the aggregator's order is the topic's
STEPS = "automation-steps."  # + a chain step's name: that step's output per clip, keyed (and partitioned) by clip


def step_topic(step: str) -> str:
    """The base name of the topic of chain step ``step``'s outputs (``automation-steps.<step>``)."""
    if not step or not all(c.isalnum() or c in "._-" for c in step):
        raise KeyError(f"a step name fit for a topic name (letters, digits, '.', '_', '-'), got {step!r}")
    return f"{STEPS}{step}"


def known(base: str) -> bool:
    """A topic of the layout: one of the pipeline's, or a chain step's."""
    return base in PER_FRAME + SINGLE or (base.startswith(STEPS) and bool(base.removeprefix(STEPS)))


@dataclass(frozen=True)
class TopicNames:
    """``TopicNames(prefix="t1-").frames == "t1-frames"``; see docs/streaming.md for the layout."""

    prefix: str = ""

    def name(self, base: str) -> str:
        if not known(base):
            raise KeyError(f"unknown topic {base!r}")
        return f"{self.prefix}{base}"

    def step(self, step: str) -> str:
        """The topic of chain step ``step``'s outputs."""
        return self.name(step_topic(step))

    @property
    def frames(self) -> str:
        return self.name("frames")

    @property
    def automation_results(self) -> str:
        return self.name("automation-results")

    @property
    def manual_queue(self) -> str:
        return self.name("manual-queue")

    @property
    def deliveries(self) -> str:
        return self.name("deliveries")

    @property
    def manual_annotations(self) -> str:
        return self.name("manual-annotations")

    @property
    def comparisons(self) -> str:
        return self.name("comparisons")

    @property
    def agreement_stats(self) -> str:
        return self.name("agreement-stats")

    @property
    def recommendations(self) -> str:
        return self.name("recommendations")

    @property
    def policies(self) -> str:
        return self.name("policies")

    @property
    def policy_pins(self) -> str:
        return self.name("policy-pins")

    @property
    def dead_letters(self) -> str:
        return self.name("dead-letters")

    def all(self) -> tuple[str, ...]:
        return tuple(self.name(b) for b in PER_FRAME + SINGLE)
