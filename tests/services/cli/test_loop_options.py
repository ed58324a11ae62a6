"""The loop's command-line options map onto LoopConfig, and back for the workers a run starts."""

from __future__ import annotations

import pytest

from services.cli.loop_options import loop_config
from services.cli.main import build_parser, main
from services.loop.config import LoopConfig, SamplingSpec
from services.tools.worker_args import loop_args


@pytest.mark.parametrize("config", [
    LoopConfig(),
    LoopConfig(target=0.9, alpha=0.01, audit_floor=0.3, window=40, max_step=0.05, consensus_share=0.0,
               dataset="digits", auto_apply=False),
    LoopConfig(sampling=SamplingSpec("uniform", {"rate": 0.2})),
    LoopConfig(dataset="driving-seq"),  # a window given by the config survives the clips' default
    LoopConfig(sampling=SamplingSpec("stratified", {"targets": {"night": 40.0}, "expected": {"night": 400.0}})),
])
def test_worker_options_round_trip(config: LoopConfig) -> None:
    args = build_parser().parse_args(["worker", "--role", "router", *loop_args(config)])
    assert loop_config(args, auto_apply=not args.no_auto_apply) == config


@pytest.mark.parametrize(("argv", "expected"), [
    ([], LoopConfig()),
    (["--dataset", "builtin:digits"], LoopConfig(dataset="digits")),
    (["--dataset", "driving-seq"], LoopConfig(dataset="driving-seq", window=30)),  # a clip is 20 frames
    (["--dataset", "driving-seq", "--window", "150"], LoopConfig(dataset="driving-seq", window=150)),
    (["--sampling", "uniform", "--sampling-param", "rate=0.1"], LoopConfig(sampling=SamplingSpec("uniform",
                                                                                                  {"rate": 0.1}))),
    (["--sampling-param", "scale=0.5", "--sampling-param", "power=2"],
     LoopConfig(sampling=SamplingSpec("confidence", {"scale": 0.5, "power": 2}))),
])
def test_options_name_the_config(argv: list[str], expected: LoopConfig) -> None:
    assert loop_config(build_parser().parse_args(["worker", "--role", "router", *argv])) == expected


@pytest.mark.parametrize(("argv", "message"), [
    (["--sampling", "nope"], "unknown; known kinds: budget, confidence"),
    (["--sampling-param", "scal=1"], "confidence.scal: unknown parameter"),
    (["--dataset", "fog"], "unknown dataset 'fog' (known: digits, driving, driving-seq, driving3d)"),
])
def test_a_bad_loop_option_is_refused_naming_it(argv: list[str], message: str, tmp_path: object,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", "--report", str(tmp_path), "--frames", "20", "--window", "10", *argv])
    assert code == 2 and message in capsys.readouterr().err
