"""Cohen's kappa against scikit-learn and Krippendorff's alpha against ``krippendorff``."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from analysis.stats import cohen_kappa, krippendorff_alpha

NAMES = ["car", "pedestrian", "cyclist", "truck", "bus", "sign", "light", "animal"]


def _skewed(rng: np.random.Generator, k: int) -> np.ndarray:
    """A random, deliberately unequal distribution over ``k`` labels."""
    p = rng.dirichlet(np.full(k, 0.6))
    return np.asarray(p / p.sum())


def _rater_pair(
    rng: np.random.Generator, n: int, k: int, agreement: float
) -> tuple[list[int], list[int]]:
    """Two raters with different marginals who copy each other with probability ``agreement``."""
    first = rng.choice(k, size=n, p=_skewed(rng, k))
    own = rng.choice(k, size=n, p=_skewed(rng, k))
    second = np.where(rng.random(n) < agreement, first, own)
    return first.tolist(), second.tolist()


# --- Cohen's kappa ---


@pytest.mark.parametrize("seed", range(40))
def test_cohen_kappa_matches_sklearn_integer_labels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    n = int(rng.integers(5, 600))
    first, second = _rater_pair(rng, n, k, agreement=float(rng.uniform(0.0, 0.95)))
    if len(set(first) | set(second)) < 2:
        first[0], second[0] = 0, 1
    want = cohen_kappa_score(first, second)
    assert cohen_kappa(first, second) == pytest.approx(want, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_cohen_kappa_matches_sklearn_string_labels(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    k = int(rng.integers(2, len(NAMES) + 1))
    first_i, second_i = _rater_pair(rng, int(rng.integers(5, 400)), k, float(rng.uniform(0, 0.9)))
    # The second rater never uses one of the first rater's labels and vice versa, sometimes.
    first = [NAMES[i] for i in first_i]
    second = [NAMES[(i + 1) % k] if rng.random() < 0.1 else NAMES[i] for i in second_i]
    if len(set(first) | set(second)) < 2:
        first[0], second[0] = NAMES[0], NAMES[1]
    want = cohen_kappa_score(first, second)
    assert cohen_kappa(first, second) == pytest.approx(want, rel=1e-12, abs=1e-12)
    # Agreement is symmetric in the two raters.
    assert cohen_kappa(second, first) == pytest.approx(want, rel=1e-12, abs=1e-12)


# (first rater, second rater, kappa) — one hand-computed case per line.
KAPPA_CASES = [
    pytest.param("aabbcc", "aabbcc", 1.0, id="perfect agreement, 3 labels"),
    pytest.param("abababab", "abababab", 1.0, id="perfect agreement, alternating"),
    pytest.param("aabb", "abab", 0.0, id="agreement exactly at chance"),
    pytest.param("aaaabbbb", "abababab", 0.0, id="agreement at chance, 8 items"),
    pytest.param("ab", "ba", -1.0, id="complete disagreement, balanced"),
    pytest.param("aab", "bba", -0.8, id="complete disagreement, unequal marginals"),
    pytest.param("aaab", "aaba", -1 / 3, id="p_o=1/2 p_e=5/8"),
    pytest.param("aaabbbcccc", "aaabbbccca", 1 - (1 / 10) / (1 - 0.33), id="one slip"),
]


@pytest.mark.parametrize(("first", "second", "kappa"), KAPPA_CASES)
def test_cohen_kappa_hand_cases(first: str, second: str, kappa: float) -> None:
    assert cohen_kappa(list(first), list(second)) == pytest.approx(kappa, abs=1e-12)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(["car"] * 5, ["car"] * 5, id="one label everywhere"),
        pytest.param([1], [1], id="single item"),
        pytest.param([], [], id="no items"),
    ],
)
def test_cohen_kappa_is_nan_when_chance_agreement_is_certain(
    first: list[Hashable], second: list[Hashable]
) -> None:
    assert math.isnan(cohen_kappa(first, second))


@pytest.mark.parametrize(("first", "second"), [([1, 2, 3], [1, 2]), ([], ["a"]), (["a"], [])])
def test_cohen_kappa_rejects_length_mismatch(
    first: list[Hashable], second: list[Hashable]
) -> None:
    with pytest.raises(ValueError, match="differ in length"):
        cohen_kappa(first, second)


# --- Krippendorff's alpha (nominal) ---


def _units(data: np.ndarray, names: Sequence[Hashable] | None = None) -> list[list[Hashable]]:
    """A raters × units matrix with NaN for missing → our list of units with None."""
    return [
        [None if np.isnan(v) else (names[int(v)] if names else int(v)) for v in column]
        for column in data.T
    ]


def _random_reliability_data(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raters = int(rng.integers(2, 7))
    units = int(rng.integers(5, 200))
    k = int(rng.integers(2, 7))
    truth = rng.choice(k, size=units, p=_skewed(rng, k))
    noise = rng.choice(k, size=(raters, units), p=_skewed(rng, k))
    data = np.where(rng.random((raters, units)) < rng.uniform(0.0, 0.9), truth, noise)
    data = data.astype(np.float64)
    data[rng.random((raters, units)) < rng.uniform(0.0, 0.5)] = np.nan
    # Guarantee two pairable units with different values so alpha is defined.
    data[:2, 0], data[:2, 1] = 0.0, 1.0
    return data


@pytest.mark.parametrize("seed", range(60))
def test_krippendorff_alpha_matches_reference(seed: int) -> None:
    data = _random_reliability_data(seed)
    want = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha(_units(data)) == pytest.approx(want, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("seed", range(15))
def test_krippendorff_alpha_string_labels_and_ragged_units(seed: int) -> None:
    data = _random_reliability_data(500 + seed)
    want = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    named = _units(data, NAMES)
    assert krippendorff_alpha(named) == pytest.approx(want, rel=1e-9, abs=1e-9)
    # Only the labels a unit received matter, not which coder slot was empty.
    ragged = [[v for v in unit if v is not None] for unit in named]
    assert krippendorff_alpha(ragged) == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_krippendorff_alpha_published_example() -> None:
    """Krippendorff (2011), 'Computing Krippendorff's alpha-reliability', nominal: 0.743."""
    n = None
    coders = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
        [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
    ]
    units = [list(unit) for unit in zip(*coders, strict=True)]
    # 1 - (n-1)·D_o/D_e with n = 40 pairable values; the paper rounds to 0.743.
    assert krippendorff_alpha(units) == pytest.approx(0.743421052631579, abs=1e-12)
    # A unit with a single label is not pairable and must not change alpha.
    assert krippendorff_alpha([*units, [7, n, n, n]]) == pytest.approx(0.743421052631579,
                                                                        abs=1e-12)


# (units, alpha) — one hand case per line.
ALPHA_CASES = [
    pytest.param([["a", "a"], ["b", "b"], ["c", "c", None]], 1.0, id="perfect agreement"),
    pytest.param([["a", "b"], ["b", "a"]], -0.5, id="complete disagreement, 2 units"),
    pytest.param([["a", "a"], ["b", "b"], ["a", "b"]], 1 - 5 * 2 / 18, id="one of three split"),
]


@pytest.mark.parametrize(("units", "alpha"), ALPHA_CASES)
def test_krippendorff_alpha_hand_cases(units: list[list[Hashable]], alpha: float) -> None:
    assert krippendorff_alpha(units) == pytest.approx(alpha, abs=1e-12)


@pytest.mark.parametrize(
    "units",
    [
        pytest.param([["a", "a"], ["a", "a", "a"]], id="one value everywhere"),
        pytest.param([["a", None], [None, "b"]], id="no pairable unit"),
        pytest.param([], id="no units"),
    ],
)
def test_krippendorff_alpha_undefined_is_nan(units: list[list[Hashable]]) -> None:
    assert math.isnan(krippendorff_alpha(units))
