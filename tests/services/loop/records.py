"""Test data of the pipeline: records of the joined topics (from the message samples) and comparisons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from services.loop.messages import AutomationMessage, ComparisonMessage, Delivery, ManualAnnotation, ManualTask, encode
from services.loop.messages.fields import Message
from tests.services.loop.messages.samples import T, sample

Record = tuple[str, bytes]  # (topic without prefix, value)

# The engine's sample sees one car (the 5 px box is under the spec's 12 px minimum height).
def _box(x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {"type": "box2d", "xywh": [x, y, w, h]}


CAR = {"geometry": _box(10.0, 20.0, 30.0, 12.0), "category_id": 1, "attributes": {"occluded": False}}
MISSED = [{"geometry": _box(100.0, 60.0, 40.0, 30.0), "category_id": 1, "attributes": {}},
          {"geometry": _box(200.0, 50.0, 30.0, 30.0), "category_id": 2, "attributes": {}}]
EXTRA = [{"geometry": _box(60.0, 90.0, 25.0, 25.0), "category_id": 3, "attributes": {}},
         {"geometry": _box(150.0, 10.0, 20.0, 40.0), "category_id": 4, "attributes": {}}]


@dataclass(frozen=True)
class FrameCase:
    """One frame's story: shipped, or sent to people with ``copies`` tasks (π ``inclusion_prob``)."""

    frame_id: str
    seq: int
    copies: int = 2
    shipped: bool = False
    failed: bool = False  # the engine failed on the frame
    machine_agrees: bool = True  # copy 1 draws only what the machine found
    people_agree: bool = True  # copy 2 draws what copy 1 drew
    inclusion_prob: float = 0.5
    consensus_prob: float = 0.2
    stratum: str = "all"
    policy_version: int = 1

    def records(self) -> list[Record]:
        """Every record about the frame, in the order the pipeline produces them."""
        out = [("automation-results", _raw(AutomationMessage, self._automation()))]
        if self.shipped:
            return [*out, ("deliveries", _raw(Delivery, self._delivery()))]
        out += [("manual-queue", _raw(ManualTask, self._task(copy))) for copy in range(1, self.copies + 1)]
        return out + [("manual-annotations", _raw(ManualAnnotation, self._annotation(copy)))
                      for copy in range(1, self.copies + 1)]

    def _automation(self) -> dict[str, Any]:
        doc = sample("automation-results", frame_id=self.frame_id, seq=self.seq, stratum=self.stratum,
                     image=f"synthetic://driving?seed=0#{self.seq}", time=T + self.seq)
        if self.failed:
            doc.update(confidence=None, geometries=[], category_ids=[], scores=[], error="decode failed: truncated PNG")
        return doc

    def _delivery(self) -> dict[str, Any]:
        return sample("deliveries", frame_id=self.frame_id, seq=self.seq, policy_version=self.policy_version,
                      inclusion_prob=self.inclusion_prob, time=T + self.seq + 0.5)

    def _sampling(self, copy: int) -> dict[str, Any]:
        return {"task_id": f"{self.frame_id}/{copy}", "frame_id": self.frame_id, "seq": self.seq, "copy": copy,
                "copies": self.copies, "inclusion_prob": self.inclusion_prob, "consensus_prob": self.consensus_prob,
                "policy_version": self.policy_version, "stratum": self.stratum}

    def _task(self, copy: int) -> dict[str, Any]:
        return sample("manual-queue", **self._sampling(copy), image=f"synthetic://driving?seed=0#{self.seq}",
                      time=T + self.seq + 0.5)

    def _annotation(self, copy: int) -> dict[str, Any]:
        objects = [CAR] if self.machine_agrees else [CAR, *MISSED]
        if copy == 2 and not self.people_agree:
            objects = [*objects, *EXTRA]
        return sample("manual-annotations", **self._sampling(copy), annotator=f"sim-{copy}", objects=objects,
                      time=T + self.seq + copy)


def _raw(model: type[Message], doc: dict[str, Any]) -> bytes:
    return encode(model.model_validate(doc))


def comparison(frame_id: str, kind: Literal["machine", "consensus"] = "machine", accepted: bool = True,
               inclusion_prob: float = 1.0, *, stratum: str = "all", confidence: float | None = 0.8,
               model_version: str = "m@1", policy_version: int = 0, time: float = T) -> ComparisonMessage:
    """A comparison as the comparator emits it (consensus pairs carry no confidence and model ``people``)."""
    people = kind == "consensus"
    return ComparisonMessage(
        frame_id=frame_id, kind=kind, accepted=accepted, inclusion_prob=inclusion_prob, stratum=stratum,
        confidence=None if people else confidence, model_version="people" if people else model_version,
        time=time, tp=1 if accepted else 0, fp=0 if accepted else 2, fn=0, mean_iou=0.9 if accepted else 0.4,
        policy_version=policy_version,
    )


def random_comparisons(seed: int, n: int, *, strata: tuple[str, ...] = ("all", "weather=rain"),
                       consensus_share: float = 0.1) -> list[ComparisonMessage]:
    """A stream of comparisons in which the machine is more often accepted at higher confidence.

    The first half is routed under policy 0 (π = 1), the second under policy 1 with audit π of 0.25, 0.5 or 1
    (the streaming recommender's default weight bound, 1 / audit floor, is 4).
    """
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        late = i >= n // 2
        pi = float(rng.choice([0.25, 0.5, 1.0])) if late else 1.0
        stratum = str(rng.choice(strata))
        if rng.random() < consensus_share:
            out.append(comparison(f"f-{i:05d}", "consensus", bool(rng.random() < 0.9), 0.1, stratum=stratum,
                                  policy_version=int(late), time=T + i))
            continue
        confidence = float(rng.uniform())
        out.append(comparison(f"f-{i:05d}", "machine", bool(rng.random() < min(1.0, 0.3 + confidence)), pi,
                              stratum=stratum, confidence=confidence, policy_version=int(late), time=T + i))
    return out
