"""``python -m benchmarks [NAME ...]``: run benchmarks and rewrite their BENCHMARKS.md sections."""

from __future__ import annotations

import argparse

from benchmarks import (
    aggregator_restart,
    agreement,
    api,
    chain,
    cli_start,
    cuboids,
    engine,
    inference,
    models,
    pipeline,
    replay,
    sampling,
    soak,
)

BENCHMARKS = {"agreement": agreement.main, "cli-start": cli_start.main, "engine": engine.main,
              "inference": inference.main, "models": models.main, "replay": replay.main, "pipeline": pipeline.main,
              "api": api.main, "aggregator-restart": aggregator_restart.main, "sampling": sampling.main,
              "chain": chain.main, "soak": soak.main, "cuboids": cuboids.main}
# run only when named: the soak is 30 minutes of steady traffic (`python -m benchmarks soak`)
ON_REQUEST = {"soak"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all but "
                                                 f"{', '.join(sorted(ON_REQUEST))})")
    parser.add_argument("--quick", action="store_true", help="small data, one repeat: a smoke run")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r} (known: {', '.join(BENCHMARKS)})")
    for name in args.names or [n for n in BENCHMARKS if n not in ON_REQUEST]:
        print(f"== {name}")
        BENCHMARKS[name](quick=args.quick)


if __name__ == "__main__":
    main()
