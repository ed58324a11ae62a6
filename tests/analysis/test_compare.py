"""The comparator end to end on hand-made and simulated data."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analysis.annotations import parse_automation, parse_ground_truth
from analysis.compare import Comparator, CompareOptions
from analysis.exceptions import AnalysisFailed
from analysis.matching import MatchOptions
from analysis.stats import cohen_kappa
from services.datasets.box_pairs import PairConfig, generate
from tests.utils.docs import dt_object as dt
from tests.utils.docs import gt_object as gt
from tests.utils.docs import pair


def test_class_confusion_is_told_apart_from_misses() -> None:
    gts = [gt(1, [0, 0, 20, 20]), gt(2, [100, 100, 20, 20]), gt(3, [200, 0, 20, 20], cat=2)]
    dts = [dt([0, 0, 20, 20]), dt([100, 100, 20, 20], cat=2), dt([300, 300, 20, 20], cat=2)]
    automation, manual = pair(gts, dts)
    result = Comparator().calculate(automation, manual)
    # rows: manual car, pedestrian, nothing; columns: machine car, pedestrian, nothing
    assert result.confusion.matrix.tolist() == [[1, 1, 0], [0, 0, 1], [0, 1, 0]]
    assert result.frames.class_confused.tolist() == [1]
    assert (result.frames.tp[0], result.frames.fp[0], result.frames.fn[0]) == (1, 2, 2)


def test_per_class_acceptance_judges_only_that_class() -> None:
    gts = [gt(1, [0, 0, 20, 20]), gt(2, [100, 100, 10, 30], cat=2)]
    automation, manual = pair(gts, [dt([0, 0, 20, 20])])
    result = Comparator().calculate(automation, manual)
    assert not result.frames.accepted[0]
    assert result.per_class["car"].acceptance.estimate == 1.0
    assert result.per_class["pedestrian"].acceptance.estimate == 0.0


@pytest.fixture(scope="module")
def simulated() -> tuple:
    manual_doc, automation_doc = generate(PairConfig(frames=400, objects_per_frame=8, seed=11))
    manual = parse_ground_truth(manual_doc, "gt.json")
    return parse_automation(automation_doc, "results.json", manual), manual


def test_overall_counts_equal_the_sum_of_frames_and_classes(simulated: tuple) -> None:
    automation, manual = simulated
    r = Comparator().calculate(automation, manual)
    assert r.overall.tp == r.frames.tp.sum() == sum(s.tp for s in r.per_class.values())
    assert r.overall.fn == r.frames.fn.sum() == sum(s.fn for s in r.per_class.values())
    assert r.overall.precision.estimate == pytest.approx(r.overall.tp / (r.overall.tp + r.overall.fp))
    assert r.overall.acceptance.estimate == pytest.approx(r.frames.accepted.mean())
    weather = r.strata["weather"]
    assert sum(s.frames for s in weather.values()) == 400
    assert set(r.strata) == {"weather", "time_of_day", "model_version"}


def test_tag_kappa_is_reported_against_manual_tags(simulated: tuple) -> None:
    automation, manual = simulated
    rng = np.random.default_rng(0)
    guessed = [{"weather": t["weather"] if rng.random() < 0.8 else "clear"} for t in manual.tags]
    r = Comparator().calculate(replace(automation, tags=guessed), manual)
    human = [t["weather"] for t in manual.tags]
    machine = [t["weather"] for t in guessed]
    assert r.tags["weather"].kappa == pytest.approx(cohen_kappa(machine, human))
    assert r.tags["weather"].agreement == pytest.approx(np.mean([a == b for a, b in zip(machine, human, strict=True)]))


def test_inclusion_probabilities_weight_the_acceptance_rate(simulated: tuple) -> None:
    automation, manual = simulated
    plain = Comparator().calculate(automation, manual)
    accepted = plain.frames.accepted
    prob = np.where(accepted, 0.1, 0.5)  # accepted frames were sampled less often
    weighted_manual = replace(manual, images=replace(manual.images, inclusion_prob=prob))
    r = Comparator().calculate(replace(automation, images=weighted_manual.images), weighted_manual)
    w = 1 / prob
    assert r.overall.weighted and r.overall.acceptance.interval.method == "hajek-wilson"
    assert r.overall.acceptance.estimate == pytest.approx((w * accepted).sum() / w.sum())
    assert r.overall.acceptance.estimate > plain.overall.acceptance.estimate


def test_both_matchers_agree_on_well_separated_objects(simulated: tuple) -> None:
    automation, manual = simulated
    hung = Comparator().calculate(automation, manual)
    coco = Comparator(CompareOptions(MatchOptions(method="coco"))).calculate(automation, manual)
    assert abs(hung.overall.tp - coco.overall.tp) <= 0.01 * hung.overall.tp


def test_unexpected_errors_say_what_was_being_done() -> None:
    automation, manual = pair([gt(1, [0, 0, 5, 5])], [dt([0, 0, 5, 5])])
    broken = replace(automation, objects=replace(automation.objects, boxes=np.zeros((0, 4))))
    with pytest.raises(AnalysisFailed, match=r"comparing results\.json with gt\.json"):
        Comparator().calculate(broken, manual)
