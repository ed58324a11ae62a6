"""The per-stratum fold: what it adds, that order and splitting do not matter, and its numbers by hand."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import orjson
import pytest
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from analysis.stats import RatioState
from services.loop.aggregate import StratumFold, fold_all
from services.loop.messages import ComparisonMessage
from tests.services.loop.records import comparison, random_comparisons

REL = 1e-12


def fold(comparisons: list[ComparisonMessage]) -> StratumFold:
    out = StratumFold()
    for c in comparisons:
        out = out.add(c)
    return out


def assert_states_close(got: RatioState, want: RatioState) -> None:
    assert got.n == want.n
    for f in fields(RatioState):
        assert getattr(got, f.name) == pytest.approx(getattr(want, f.name), rel=REL, abs=0.0), f.name


def assert_folds_close(got: StratumFold, want: StratumFold) -> None:
    assert_states_close(got.machine, want.machine)
    assert_states_close(got.people, want.people)
    assert got.model_version == want.model_version


def hajek(accepted: list[bool], pi: list[float]) -> float:
    y, w = np.asarray(accepted, dtype=float), 1.0 / np.asarray(pi)
    return float(np.sum(w * y) / np.sum(w))


def wilson(p: float, n: float, confidence: float) -> tuple[float, float]:
    """Wilson's score interval written out, for an estimate ``p`` worth ``n`` observations."""
    z = norm.ppf(1.0 - (1.0 - confidence) / 2.0)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


# --- add, merge and the stored form ---


@pytest.mark.parametrize(("c", "machine", "people"), [
    # comparison -> (n, Σw, Σw·y) of the machine and people states
    (comparison("a", "machine", True, 0.25), (1, 4.0, 4.0), (0, 0.0, 0.0)),
    (comparison("a", "machine", False, 0.5), (1, 2.0, 0.0), (0, 0.0, 0.0)),
    (comparison("a", "machine", True, 1.0), (1, 1.0, 1.0), (0, 0.0, 0.0)),
    (comparison("a", "consensus", True, 0.1), (0, 0.0, 0.0), (1, 10.0, 10.0)),
    (comparison("a", "consensus", False, 0.2), (0, 0.0, 0.0), (1, 5.0, 0.0)),
])
def test_add_weights_each_comparison_by_one_over_pi(c: ComparisonMessage, machine: tuple[int, float, float],
                                                     people: tuple[int, float, float]) -> None:
    got = StratumFold().add(c)
    assert (got.machine.n, got.machine.sw, got.machine.swy) == pytest.approx(machine)
    assert (got.people.n, got.people.sw, got.people.swy) == pytest.approx(people)
    assert got.machine.swx == got.machine.sw and got.people.swx == got.people.sw  # x = 1: acceptance rate


def test_model_version_comes_from_machine_comparisons_only() -> None:
    f = StratumFold().add(comparison("a", model_version="det@1"))
    assert f.add(comparison("b", "consensus")).model_version == "det@1"
    assert f.add(comparison("c", model_version="")).model_version == "det@1"
    assert f.add(comparison("d", model_version="det@2")).model_version == "det@2"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_to_dict_and_from_dict_round_trip_through_json(seed: int) -> None:
    f = fold(random_comparisons(seed, 200))
    doc = orjson.loads(orjson.dumps(f.to_dict()))
    assert set(doc) == {"machine", "people", "model_version", "sampled"}
    assert doc["machine"]["n"] == f.machine.n and doc["people"]["n"] == f.people.n
    assert StratumFold.from_dict(doc) == f


def test_the_evidence_is_the_eligible_frames_audited_at_pi_below_one_once_there_are_any() -> None:
    """A learning sampling policy samples the frames eligible to ship (π < 1): their weighted acceptance is the
    spread it needs; frames below τ (π = 1, the people's anyway) stand in only until one such frame is compared."""
    below = [comparison(f"b{i}", accepted=i < 4, inclusion_prob=1.0) for i in range(10)]  # 0.4 below τ
    f = fold(below)
    assert f.evidence() == (10, pytest.approx(0.4))
    eligible = [comparison(f"e{i}", accepted=i != 0, inclusion_prob=0.25 if i % 2 else 0.5) for i in range(6)]
    f = fold(below + eligible)
    weights = [4.0 if i % 2 else 2.0 for i in range(6)]
    expected = sum(w for i, w in enumerate(weights) if i != 0) / sum(weights)  # the Hájek estimate
    assert f.evidence() == (6, pytest.approx(expected))
    assert f.machine.n == 16 and f.sampled.n == 6


def test_an_empty_fold_round_trips() -> None:
    assert StratumFold.from_dict(StratumFold().to_dict()) == StratumFold()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_order_does_not_change_the_fold(seed: int) -> None:
    comparisons = random_comparisons(seed, 400)
    shuffled = [comparisons[i] for i in np.random.default_rng(seed).permutation(len(comparisons))]
    a, b = fold_all(comparisons), fold_all(shuffled)
    assert sorted(a) == sorted(b) == ["all", "weather=rain"]
    for stratum in a:
        assert_folds_close(b[stratum], a[stratum])
        sa = a[stratum].stats(stratum, target=0.85, alpha=0.05, time=0.0).model_dump()
        sb = b[stratum].stats(stratum, target=0.85, alpha=0.05, time=0.0).model_dump()
        assert sb.pop("human_floor") == pytest.approx(sa.pop("human_floor"), rel=REL)
        numbers = ("estimate", "lower", "upper")
        assert [sb.pop(k) for k in numbers] == pytest.approx([sa.pop(k) for k in numbers], rel=REL)
        assert sb == sa


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("cut", [0, 1, 137, 400])
def test_splitting_then_merging_equals_one_fold(seed: int, cut: int) -> None:
    comparisons = random_comparisons(seed, 400)
    whole = fold(comparisons)
    assert_folds_close(fold(comparisons[:cut]).merge(fold(comparisons[cut:])), whole)


def test_fold_all_splits_by_stratum() -> None:
    comparisons = random_comparisons(5, 300)
    folds = fold_all(comparisons)
    assert sorted(folds) == ["all", "weather=rain"]
    for stratum, f in folds.items():
        mine = [c for c in comparisons if c.stratum == stratum]
        assert f == fold(mine)
        assert f.machine.n == sum(c.kind == "machine" for c in mine)
        assert f.people.n == sum(c.kind == "consensus" for c in mine)


# --- stats: the Hájek estimate and its interval ---


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_stats_against_a_direct_computation(seed: int) -> None:
    """Estimate Σw·y / Σw; interval: Wilson at the design's effective n = r(1 − r) / v, with the linearised
    variance v = n/(n − 1) · Σw²(y − r)² / (Σw)²."""
    comparisons = random_comparisons(seed, 500)
    machine = [c for c in comparisons if c.kind == "machine"]
    people = [c for c in comparisons if c.kind == "consensus"]
    s = fold(comparisons).stats("all", target=0.85, alpha=0.1, time=7.0)

    y = np.array([c.accepted for c in machine], dtype=float)
    w = 1.0 / np.array([c.inclusion_prob for c in machine])
    n = len(machine)
    r = hajek([c.accepted for c in machine], [c.inclusion_prob for c in machine])
    v = n / (n - 1) * np.sum(w**2 * (y - r) ** 2) / np.sum(w) ** 2
    lower, upper = wilson(r, r * (1 - r) / v, 0.9)

    assert s.n == n and s.estimate == pytest.approx(r, rel=REL)
    assert (s.lower, s.upper) == pytest.approx((lower, upper), rel=1e-9)
    assert (s.stratum, s.model_version, s.target, s.alpha, s.time) == ("all", "m@1", 0.85, 0.1, 7.0)
    assert s.decision == ("pass" if lower >= 0.85 else "fail" if upper < 0.85 else "inconclusive")
    assert s.human_floor is not None
    assert s.human_floor.n == len(people)
    assert s.human_floor.estimate == pytest.approx(hajek([c.accepted for c in people],
                                                         [c.inclusion_prob for c in people]), rel=REL)
    assert s.human_floor.estimate is not None
    assert s.human_floor.lower < s.human_floor.estimate < s.human_floor.upper


@pytest.mark.parametrize(("k", "n"), [(1, 2), (3, 7), (17, 20), (170, 200), (981, 1000)])
@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_with_every_pi_one_the_interval_is_wilson_on_n_minus_one(k: int, n: int, alpha: float) -> None:
    """Unweighted, the ratio interval's effective n is n − 1 (the variance's n/(n − 1) factor): Wilson's
    interval at p̂ = k/n worth n − 1 observations, as statsmodels computes it."""
    f = fold([comparison(f"f{i}", accepted=i < k) for i in range(n)])
    s = f.stats("all", target=0.85, alpha=alpha, time=0.0)
    lower, upper = proportion_confint(k / n * (n - 1), n - 1, alpha=alpha, method="wilson")
    assert s.estimate == pytest.approx(k / n, rel=REL)
    assert (s.lower, s.upper) == pytest.approx((lower, upper), rel=1e-9)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (0, 30), (30, 30), (500, 500)])
def test_with_every_pi_one_and_no_variance_the_interval_is_wilson_on_n(k: int, n: int) -> None:
    """At an estimate of 0 or 1 the variance is 0; the effective n falls back to Kish's n, here n."""
    s = fold([comparison(f"f{i}", accepted=i < k) for i in range(n)]).stats("all", target=0.85, alpha=0.05,
                                                                             time=0.0)
    lower, upper = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert s.estimate == k / n
    assert (s.lower, s.upper) == pytest.approx((0.0 if k == 0 else lower, 1.0 if k == n else upper), rel=1e-9)


@pytest.mark.parametrize(("k", "n", "target", "decision"), [
    (200, 200, 0.85, "pass"),
    (195, 200, 0.85, "pass"),
    (170, 200, 0.85, "inconclusive"),
    (175, 200, 0.85, "inconclusive"),
    (100, 200, 0.85, "fail"),
    (0, 200, 0.85, "fail"),
    (9, 10, 0.85, "inconclusive"),
    (195, 200, 0.99, "fail"),
])
def test_decision_reads_the_interval_against_the_target(k: int, n: int, target: float, decision: str) -> None:
    s = fold([comparison(f"f{i}", accepted=i < k) for i in range(n)]).stats("all", target=target, alpha=0.05,
                                                                             time=0.0)
    assert s.decision == decision
    assert (s.lower >= target) == (decision == "pass") and (s.upper < target) == (decision == "fail")


def test_an_empty_fold_says_nothing() -> None:
    s = StratumFold().stats("weather=fog", target=0.85, alpha=0.05, time=1.0)
    assert (s.n, s.estimate, s.lower, s.upper, s.decision, s.human_floor) == (0, None, 0.0, 1.0, "inconclusive", None)


def test_consensus_pairs_alone_give_a_floor_but_no_machine_estimate() -> None:
    f = fold([comparison(f"p{i}", "consensus", accepted=i % 4 != 0, inclusion_prob=0.1) for i in range(40)])
    s = f.stats("all", target=0.85, alpha=0.05, time=0.0)
    assert (s.n, s.estimate, s.decision, s.model_version) == (0, None, "inconclusive", "")
    assert s.human_floor is not None and s.human_floor.n == 40
    assert s.human_floor.estimate == pytest.approx(0.75, rel=REL)
    lower, upper = proportion_confint(0.75 * 39, 39, alpha=0.05, method="wilson")  # equal weights: as unweighted
    assert (s.human_floor.lower, s.human_floor.upper) == pytest.approx((lower, upper), rel=1e-9)
