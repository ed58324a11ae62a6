"""The comparator: machine annotations against manual ones, frame by frame and in aggregate.

``Comparator(options).calculate(automation, manual)`` returns a :class:`Comparison`
holding per-frame agreement, acceptance under the quality spec, and summaries
overall, per class, per tag value and per model version; with ``coco_ap`` set
and a score on every machine object, also COCOeval's AP/AR.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from analysis.agreement.confusion import Confusion, class_confusion
from analysis.agreement.frames import FrameAgreement, frame_agreement
from analysis.agreement.labels import attribute_agreement, tag_agreement, tag_codes
from analysis.agreement.spec import QualitySpec
from analysis.agreement.summary import FrameCounts, StratumSummary, summarize
from analysis.annotations.model import Annotations, BoolArray, FloatArray
from analysis.detection import CocoSummary, coco_summary
from analysis.exceptions import AnalysisFailed, InvalidSpec, ShadowQAError
from analysis.geometry import Geometry, get_geometry
from analysis.matching import Matches, MatchOptions, match, matching_geometry
from analysis.stats import cohen_kappa


@dataclass(frozen=True)
class CompareOptions:
    matching: MatchOptions = field(default_factory=MatchOptions)
    spec: QualitySpec = field(default_factory=QualitySpec)
    confidence: float = 0.95
    # COCOeval's twelve AP/AR stats too: forty matcher runs, so asked for by `shadowqa compare`, not per batch
    coco_ap: bool = False


@dataclass(frozen=True)
class TagSummary:
    """Machine-vs-manual agreement on one image-level tag."""

    frames: int
    agreement: float
    kappa: float


@dataclass(frozen=True, eq=False)
class Comparison:
    options: CompareOptions
    automation: Annotations
    manual: Annotations
    matches: Matches
    confusion: Confusion
    frames: FrameAgreement
    overall: StratumSummary
    per_class: dict[str, StratumSummary]
    strata: dict[str, dict[str, StratumSummary]]
    tags: dict[str, TagSummary]
    coco: CocoSummary | None = None
    coco_skipped: str = ""  # why ``coco`` is None


class Comparator:
    """Analyzer comparing one automation annotation set with the manual one."""

    def __init__(self, options: CompareOptions | None = None) -> None:
        self.options = options or CompareOptions()

    def calculate(self, automation: Annotations, manual: Annotations) -> Comparison:
        try:
            return self._calculate(automation, manual)
        except ShadowQAError:
            raise
        except Exception as exc:
            raise AnalysisFailed(f"comparing {_sides(automation, manual)}: {exc!r}") from exc

    def frame_agreement(self, automation: Annotations, manual: Annotations) -> FrameAgreement:
        """Only the per-frame agreement (what a streaming comparison keeps): no summaries, no COCO AP."""
        try:
            return self._frames(automation, manual)[0]
        except ShadowQAError:
            raise
        except Exception as exc:
            raise AnalysisFailed(f"comparing {_sides(automation, manual)} frame by frame: {exc!r}") from exc

    def _frames(self, automation: Annotations, manual: Annotations) -> tuple[FrameAgreement, Matches, Confusion]:
        opts, spec = self.options, self.options.spec
        rules = spec.resolve(manual.categories)
        spec.check_geometry(get_geometry(opts.matching.geometry))
        matching = spec_matching(spec, opts.matching)
        geometry = matching_geometry(matching)
        by_centre = matching.method == "centre"
        gt_max_distance = rules.max_distance[manual.objects.category] if spec.match == "centre" else None
        matches = match(
            automation, manual, matching, dt_small=rules.too_small(automation.objects),
            gt_small=rules.too_small(manual.objects), gt_max_distance=gt_max_distance,
        )
        confusion = class_confusion(automation, manual, matches, matching, gt_max_distance)
        yaw_error = _yaw_errors(geometry, automation, manual, matches) if rules.limits_yaw else None
        poor = rules.poorly_localised(manual.objects.category[matches.gt], matches.iou, yaw_error, by_iou=not by_centre)
        frames = frame_agreement(
            automation, manual, matches, spec=spec, poor=poor, confusion=confusion,
            attributes=attribute_agreement(automation, manual, matches, spec.attributes),
            tags=tag_agreement(automation, manual, spec.tags),
        )
        return frames, matches, confusion

    def _calculate(self, automation: Annotations, manual: Annotations) -> Comparison:
        opts = self.options
        frames, matches, confusion = self._frames(automation, manual)
        coco, coco_skipped = self._coco(automation, manual)
        counts = FrameCounts(
            frames.accepted, frames.tp, frames.fp, frames.fn, frames.iou_sum, 1.0 / manual.images.inclusion_prob
        )
        return Comparison(
            options=opts, automation=automation, manual=manual, matches=matches, confusion=confusion,
            frames=frames, overall=summarize(counts, opts.confidence),
            per_class=self._per_class(frames, counts, manual),
            strata=self._strata(counts, automation, manual), tags=_tag_summaries(automation, manual),
            coco=coco, coco_skipped=coco_skipped,
        )

    def _coco(self, automation: Annotations, manual: Annotations) -> tuple[CocoSummary | None, str]:
        """COCO AP/AR when asked for and defined (AP ranks detections by score: every one needs a score),
        else why not."""
        if not self.options.coco_ap:
            return None, "not requested"
        unscored, n = int(np.isnan(automation.objects.score).sum()), len(automation.objects)
        if unscored and unscored == n:
            return None, "the automation side has no scores, and AP ranks detections by score"
        if unscored:
            return None, f"{unscored} of {n} automation objects have no score to rank them by"
        return coco_summary(automation, manual, geometry=self.options.matching.geometry), ""

    def _per_class(self, frames: FrameAgreement, counts: FrameCounts, manual: Annotations) -> dict[str, StratumSummary]:
        pc = frames.per_class
        out = {}
        for c, name in enumerate(manual.categories.names):
            present = pc.present[:, c]
            if not present.any():
                continue
            class_counts = FrameCounts(
                pc.accepted[present, c], pc.tp[present, c], pc.fp[present, c], pc.fn[present, c],
                pc.iou_sum[present, c], counts.weight[present],
            )
            out[name] = summarize(class_counts, self.options.confidence)
        return out

    def _strata(
        self, counts: FrameCounts, automation: Annotations, manual: Annotations
    ) -> dict[str, dict[str, StratumSummary]]:
        """Summaries per value of each manual tag, and per machine model version."""
        columns = {key: manual.tag_table.labels(key) for key in manual.tag_table.names}
        if any(v is not None for v in automation.model_version):
            columns["model_version"] = list(automation.model_version)
        out: dict[str, dict[str, StratumSummary]] = {}
        for key, values in columns.items():
            labels = np.array(["" if v is None else str(v) for v in values], dtype=object)
            known: BoolArray = np.array([v is not None for v in values], dtype=bool)
            out[key] = {
                value: summarize(counts.select(known & (labels == value)), self.options.confidence)
                for value in sorted(set(labels[known].tolist()))
            }
        return out


def spec_matching(spec: QualitySpec, options: MatchOptions) -> MatchOptions:
    """``options`` as the spec refines them: centre matching when it says ``match: centre`` (which
    a pycocotools ``coco`` matching contradicts), its ``overlap`` when not the default."""
    method = options.method
    if spec.match == "centre":
        if method == "coco":
            raise InvalidSpec(spec.source, "match", "centre contradicts the comparison's coco matching (by IoU)")
        method = "centre"
    overlap = spec.overlap if spec.overlap != "3d" else options.overlap
    return replace(options, method=method, overlap=overlap)


def _yaw_errors(geometry: Geometry, automation: Annotations, manual: Annotations, matches: Matches) -> FloatArray:
    """The heading difference of each match (a kind with headings: ``QualitySpec.check_geometry`` saw to it)."""
    pair_yaw_error = getattr(geometry, "pair_yaw_error")  # noqa: B009  # not in the Geometry protocol
    out: FloatArray = pair_yaw_error(automation.objects, manual.objects, matches.dt, matches.gt)
    return out


def _sides(automation: Annotations, manual: Annotations) -> str:
    return f"{automation.source or 'automation'} with {manual.source or 'manual'}"


def _tag_summaries(automation: Annotations, manual: Annotations) -> dict[str, TagSummary]:
    out = {}
    for key in manual.tag_table.names:
        machine, human = tag_codes(automation, manual, key)
        if len(human) == 0:
            continue
        agree = float(np.mean(machine == human))
        out[key] = TagSummary(len(human), agree, cohen_kappa(machine.tolist(), human.tolist()))
    return out
