"""Neyman allocation against uniform sampling in ``shadowqa replay``, at equal manual budget.

The digits with 30 % of the frames from a second camera whose crop sits a pixel lower (the model errs more,
and confidently, on those), strata ``camera=a|b`` from the frames' tags, the recommender free to open
automation at its first step (max step 1) so most frames are eligible to ship, both policies at 0.4 audits
per eligible frame under the loop's audit floor. Neyman learns from the audits that camera b's acceptance
varies more, audits it more and camera a less, and its interval of the eligible frames' acceptance is
narrower at the same budget (this seed, and over 40 seeds in BENCHMARKS.md ``sampling``, where the
per-digit strata of the bundled digits, which do not differ, show no gain).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.cli.main import main
from services.loop.config import LoopConfig, SamplingSpec
from services.replay.config import ReplayConfig
from services.replay.data import ReplayData, prepare
from services.replay.loop import LoopRun, run_loop
from services.replay.summary import summary

RATE, SEED = 0.4, 5
SOURCE = "sklearn-digits://?split=all&second_camera=0.3"


def config(kind: str) -> ReplayConfig:
    loop = LoopConfig(dataset="digits", sampling=SamplingSpec(kind, {"rate": RATE}), max_step=1.0, window=100,
                      salt=f"sampling-{SEED}")
    return ReplayConfig(loop=loop, frames=1797, seed=SEED, strata=("camera",), source=SOURCE, model="builtin:digits")


@pytest.fixture(scope="module")
def data() -> ReplayData:
    return prepare(config("uniform"))


@pytest.fixture(scope="module")
def runs(data: ReplayData) -> dict[str, tuple[LoopRun, dict[str, Any]]]:
    out = {}
    for kind in ("uniform", "neyman"):
        run = run_loop(config(kind), data)
        out[kind] = (run, summary(config(kind), data, run))
    return out


@pytest.mark.slow
def test_strata_come_from_the_frames_tags(data: ReplayData) -> None:
    strata = [i.stratum for i in data.info]
    assert set(strata) == {"camera=a", "camera=b"}
    assert strata.count("camera=b") == pytest.approx(0.3 * len(strata), abs=4 * np.sqrt(len(strata) * 0.21))


@pytest.mark.slow
def test_neyman_interval_is_narrower_at_equal_budget(runs: dict[str, tuple[LoopRun, dict[str, Any]]]) -> None:
    """The done-when of issue 12: at the same audits (within 5 %), Neyman's interval of the eligible frames'
    acceptance is narrower than uniform's, realised and by design (the true spreads at the realised audits).
    This seed: 0.063 against 0.078 (ratio 0.81; by design 0.038 against 0.053), audits 163 against 161."""
    uniform, neyman = (runs[k][1]["eligible_acceptance"] for k in ("uniform", "neyman"))
    assert neyman["audits"] == pytest.approx(uniform["audits"], rel=0.05)
    assert neyman["width"] < 0.9 * uniform["width"]
    assert neyman["design_width"] < 0.9 * uniform["design_width"]


@pytest.mark.slow
def test_equal_manual_budget(runs: dict[str, tuple[LoopRun, dict[str, Any]]]) -> None:
    """Nearly the same frames are eligible under both (the threshold path depends on which frames were audited);
    the audits they were expected to get (Σ π over eligible frames) agree within 5 % (this seed: Neyman 1.3 %
    more, as π is solved on the recent frames' mix, not the next ones'; over the benchmark's 40 seeds 451.1
    against 440.8 audits drawn), the audits drawn within binomial noise."""
    uniform, neyman = (runs[k][1]["eligible_acceptance"] for k in ("uniform", "neyman"))
    assert abs(uniform["frames"] - neyman["frames"]) <= 0.02 * uniform["frames"]  # nearly the same frames eligible
    assert uniform["frames"] > 300
    expected = {k: sum(d.inclusion_prob for d, e in zip(run.decisions, run.eligible, strict=True) if e)
                for k, (run, _) in runs.items()}
    assert expected["uniform"] == pytest.approx(RATE * uniform["frames"])
    assert expected["neyman"] == pytest.approx(expected["uniform"], rel=0.05)
    sd = np.sqrt(uniform["frames"] * RATE * (1 - RATE))
    for e in (uniform, neyman):
        assert abs(e["audits"] - RATE * e["frames"]) < 4 * sd


@pytest.mark.slow
def test_neyman_audits_the_stratum_whose_audits_fail_most_more_often(
    data: ReplayData, runs: dict[str, tuple[LoopRun, dict[str, Any]]],
) -> None:
    """The allocation follows the evidence: over the last fifth of the frames the stratum whose audits were
    accepted least (camera b) gets a π > 1.3x that of the other; uniform: the rate for both."""
    strata = [i.stratum for i in data.info]
    for kind in ("neyman", "uniform"):
        run = runs[kind][0]
        audited = {d.frame_id for d, e in zip(run.decisions, run.eligible, strict=True) if e and d.route == "manual"}
        outcomes: dict[str, list[bool]] = defaultdict(list)
        for o in run.observations:
            if o.frame_id in audited:
                outcomes[o.stratum].append(o.accepted)
        acceptance = {h: float(np.mean(v)) for h, v in outcomes.items()}
        tail = list(zip(strata, run.decisions, run.eligible, strict=True))[-len(strata) // 5:]
        pis = {h: float(np.mean([d.inclusion_prob for g, d, e in tail if e and g == h])) for h in acceptance}
        worst, best = sorted(acceptance, key=lambda h: acceptance[h])
        assert worst == "camera=b" and acceptance[worst] < acceptance[best] - 0.05
        ratio = pis[worst] / pis[best]
        assert (ratio > 1.3) if kind == "neyman" else ratio == pytest.approx(1.0), (kind, ratio)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["uniform", "neyman"])
def test_the_eligible_frames_interval_covers_their_true_acceptance(
    runs: dict[str, tuple[LoopRun, dict[str, Any]]], kind: str,
) -> None:
    e = runs[kind][1]["eligible_acceptance"]
    assert e["lower"] <= e["true"] <= e["upper"]
    assert 0.0 < e["width"] < 0.1 and e["design_width"] > 0.0


class Captured(Exception):
    """Raised by the stand-in replay with the configuration the command built."""


@pytest.mark.parametrize(("argv", "strata"), [
    (["--strata", "digit"], ("digit",)),
    (["--strata", "weather,time_of_day"], ("weather", "time_of_day")),
    ([], ()),
])
def test_the_command_takes_strata(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str], strata: tuple[str, ...],
) -> None:
    def replay(cfg: ReplayConfig, report_dir: Path, progress: bool = False) -> None:
        raise Captured(cfg)

    monkeypatch.setattr("services.replay.run.replay", replay)
    with pytest.raises(Captured) as caught:
        main(["replay", "--report", str(tmp_path), "--sampling", "neyman", "--sampling-param", "rate=0.4", *argv])
    cfg = caught.value.args[0]
    assert cfg.strata == strata and cfg.loop.sampling.kind == "neyman"
    assert cfg.stratum({"weather": "rain", "time_of_day": "night", "digit": "3"}) == (
        ",".join(f"{k}={v}" for k, v in [("digit", "3"), ("weather", "rain"), ("time_of_day", "night")]
                 if k in strata) or "all")


def _captured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str]) -> ReplayConfig:
    def replay(cfg: ReplayConfig, report_dir: Path, progress: bool = False) -> None:
        raise Captured(cfg)

    monkeypatch.setattr("services.replay.run.replay", replay)
    with pytest.raises(Captured) as caught:
        main(["replay", "--report", str(tmp_path), *argv])
    return caught.value.args[0]


def test_the_command_replays_a_frame_source_spec_as_its_dataset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    cfg = _captured(monkeypatch, tmp_path, ["--dataset", f"{SOURCE}&n=500", "--strata", "camera"])
    assert (cfg.source, cfg.loop.dataset, cfg.model_name, cfg.frames) == (
        f"{SOURCE}&n=500", "digits", "builtin:digits", 500)
    cfg = _captured(monkeypatch, tmp_path, ["--dataset", SOURCE, "--model", "other.pt"])
    assert (cfg.model_name, cfg.frames) == ("other.pt", 1797)
    cfg = _captured(monkeypatch, tmp_path, ["--dataset", "synthetic://driving?seed=3&n=400"])
    assert (cfg.loop.dataset, cfg.model_name, cfg.frames) == ("driving", "builtin:driving-detector", 400)


@pytest.mark.parametrize(("argv", "message"), [
    (["--dataset", "mnist://?split=all"], "no dataset profile judges frames from 'mnist://'"),
    (["--dataset", SOURCE, "--frames", "300"], "the frame source"),
    (["--dataset", "sklearn-digits://?second_camera=2"], "second_camera: expected a share in [0, 1]"),
])
def test_the_command_refuses_a_frame_source_it_cannot_replay(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str,
) -> None:
    assert main(["replay", "--report", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err
