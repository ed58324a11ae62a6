"""``shadowqa worker --role ROLE``: one faust worker of the streaming pipeline (docs/streaming.md).

The command lives beside the workers (``services/`` never imports ``streams/``) and joins the ``shadowqa``
command through the ``shadowqa.commands`` entry point group (pyproject.toml).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from services.cli.loop_options import add_loop_options, loop_config
from services.cli.parser import Parser, positive_int, seconds
from services.loop.config import WORKER_ROLES


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("worker", help="run one role of the streaming pipeline on Kafka",
                            description="Run a faust-streaming worker for one role; start more processes of a "
                            "role to scale it out. Kafka and topics come from SHADOWQA_* settings; the persist "
                            "role writes to SHADOWQA_DATABASE_URL.")
    p.add_argument("--role", required=True, choices=WORKER_ROLES)
    p.add_argument("--model", default=None, help="automation model (default: the dataset's reference model)")
    p.add_argument("--pipeline", default=None, metavar="SPEC",
                   help="automation: run this chain of steps (a pipeline spec file or builtin: name) on whole clips, "
                   "their frames buffered per clip (default: the dataset's chain if it has one, e.g. driving-seq's "
                   "builtin:driving-chain; 'none': the model on single frames)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    p.add_argument("--batch-size", type=positive_int, default=16, help="frames per forward pass (default 16)")
    add_loop_options(p)
    p.add_argument("--no-auto-apply", action="store_true",
                   help="recommend only: the policy in force changes only by people's pins (POST /v1/policy)")
    p.add_argument("--checkpoint-interval", type=seconds, default=30.0, metavar="SECONDS",
                   help="aggregator: seconds between checkpoints of its state (default 30); a restart reads the "
                   "latest checkpoint and the comparisons after it")
    p.add_argument("--ready-file", type=Path, help="file written once the worker's agents are running")
    p.add_argument("--metrics-port", type=positive_int, metavar="PORT",
                   help="serve Prometheus metrics (with the role's consumer lag) on METRICS_HOST:PORT/metrics")
    p.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST",
                   help="address the metrics are served on (default 127.0.0.1; 0.0.0.0 in a Kubernetes pod)")
    p.add_argument("--loglevel", default="warn", choices=("crit", "error", "warn", "info", "debug"))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.datasets.profiles import profile
    from services.settings import load_settings
    from streams.config import PipelineConfig
    from streams.worker import run_worker  # faust loads only when a worker runs

    settings = load_settings()
    loop = loop_config(args, auto_apply=not args.no_auto_apply)
    dataset = profile(loop.dataset)
    pipeline = dataset.pipeline if args.pipeline is None else None if args.pipeline == "none" else args.pipeline
    cfg = PipelineConfig(
        loop=loop, model=args.model or dataset.reference_model, pipeline=pipeline, device=args.device,
        batch_size=args.batch_size, checkpoint_interval=args.checkpoint_interval,
        engine_delay_s=settings.test_engine_delay_s,
    )
    run_worker(settings, cfg, args.role, args.loglevel, args.ready_file, args.metrics_port, args.metrics_host)
    return 0
