"""The sampling benchmark runs end to end (two small seeds per scenario; smoke only, no ratio is asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import harness, sampling


@pytest.mark.slow
def test_quick_run_compares_both_policies(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(harness, "REPORT", tmp_path / "BENCHMARKS.md")
    results = sampling.main(quick=True)
    assert set(results) == {s.name for s in sampling.SCENARIOS}
    for totals in results.values():
        assert totals["seeds"] >= 1  # at least one seed opened automation under both policies
        assert {"median_width_ratio", "design_ratio", "audits_uniform", "audits_neyman", "coverage_neyman"} <= set(
            totals)
        assert totals["audits_neyman"] == pytest.approx(totals["audits_uniform"], rel=0.1)
    assert not (tmp_path / "BENCHMARKS.md").exists()  # a quick run never overwrites measurements
