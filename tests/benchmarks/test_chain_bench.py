"""The chain benchmark runs end to end (one 20-frame clip, one repeat; no timing is asserted)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks import chain, harness


@pytest.mark.slow
def test_quick_run_reports_every_ratio(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(chain, "DATA", tmp_path)
    monkeypatch.setattr(harness, "REPORT", tmp_path / "BENCHMARKS.md")
    ratios = chain.main(quick=True)
    assert set(ratios) == {
        "track_vs_detect", "post_vs_detect", "from_track_vs_full", "from_track_saving_vs_expected",
        "from_post_vs_full", "from_post_saving_vs_expected", "chain_vs_motmetrics", "chain_vs_trackeval",
        "chain_vs_both", "crowded_vs_motmetrics", "crowded_vs_trackeval", "crowded_vs_both",
    }
    assert all(math.isfinite(r) and r > 0 for r in ratios.values()), ratios
    assert (tmp_path / "chain" / "snapshot" / "manifest.json").is_file()  # the re-runs had a snapshot to start from
    assert not (tmp_path / "BENCHMARKS.md").exists()  # a quick run never overwrites measurements
