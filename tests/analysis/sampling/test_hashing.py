"""The hashed uniform draw: deterministic, in [0, 1), uniform over frame ids, independent across salts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.sampling import drawn, unit_hash

IDS = [f"frame-{i}" for i in range(20_000)]


def test_same_frame_and_salt_give_the_same_draw() -> None:
    assert unit_hash("f-17", "shadowqa") == unit_hash("f-17", "shadowqa")
    assert unit_hash("f-17", "shadowqa") != unit_hash("f-17", "other-salt")
    assert unit_hash("f-17", "shadowqa") != unit_hash("f-18", "shadowqa")


@pytest.mark.parametrize(("frame_id", "salt"), [("", ""), ("a", "b"), ("ab", ""), ("", "ab"), ("x" * 500, "y" * 500)])
def test_draws_lie_in_the_unit_interval(frame_id: str, salt: str) -> None:
    assert 0.0 <= unit_hash(frame_id, salt) < 1.0


def test_concatenation_does_not_collide() -> None:
    assert unit_hash("bc", "a") != unit_hash("c", "ab")


def test_draws_are_uniform_over_frame_ids() -> None:
    u = np.array([unit_hash(i, "s") for i in IDS])
    result = stats.kstest(u, "uniform")
    assert result.pvalue > 1e-3, f"KS p = {result.pvalue:.2g}: hashed draws are not uniform"


def test_draws_under_two_salts_are_uncorrelated() -> None:
    a = np.array([unit_hash(i, "audit") for i in IDS])
    b = np.array([unit_hash(i, "audit/consensus") for i in IDS])
    r = float(np.corrcoef(a, b)[0, 1])
    assert abs(r) < 4.0 / np.sqrt(len(IDS)), f"correlation {r:.4f} between salts"


@pytest.mark.parametrize("probability", [0.0, 1e-9, 0.02, 0.5, 1.0])
def test_drawn_is_u_below_pi(probability: float) -> None:
    for frame_id in IDS[:200]:
        assert drawn(frame_id, "s", probability) == (unit_hash(frame_id, "s") < probability)
    assert all(drawn(i, "s", 1.0) for i in IDS[:200])
    assert not any(drawn(i, "s", 0.0) for i in IDS[:200])
