"""The 3D matcher benchmark runs end to end (tiny data; no timing is asserted)."""

from __future__ import annotations

import pytest

from benchmarks import cuboids, harness


@pytest.mark.slow
def test_quick_run_reports_every_ratio(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(harness, "REPORT", tmp_path / "BENCHMARKS.md")
    ratios = cuboids.main(quick=True)
    assert set(ratios) == {"match_vs_shapely", "iou_vs_shapely_iou", "dense_iou_vs_shapely_iou"}
    assert all(r > 0 for r in ratios.values())
    assert not (tmp_path / "BENCHMARKS.md").exists()  # a quick run never overwrites measurements
