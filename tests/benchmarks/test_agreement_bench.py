"""The agreement benchmark runs end to end (tiny data; no timing is asserted)."""

from __future__ import annotations

import pytest

from benchmarks import agreement, harness


@pytest.mark.slow
def test_quick_run_reports_every_ratio(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(agreement, "DATA", tmp_path)
    monkeypatch.setattr(harness, "REPORT", tmp_path / "BENCHMARKS.md")
    ratios = agreement.main(quick=True)
    assert set(ratios) == {
        "hungarian_vs_pycoco10", "hungarian_vs_pycoco1", "coco_vs_pycoco10", "coco_vs_pycoco1",
        "summary_vs_pycoco_summary", "cli_vs_pycoco_process", "cli_vs_pycoco1_process",
        "cli_ap_vs_pycoco_summary_process",
    }
    assert all(r > 0 for r in ratios.values())
    assert not (tmp_path / "BENCHMARKS.md").exists()  # a quick run never overwrites measurements
