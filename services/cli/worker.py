"""``shadowqa worker --role ROLE``: one faust worker of the streaming pipeline (docs/streaming.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from services.cli.parser import Parser, open_interval, positive_int

ROLES = ("automation", "router", "comparator", "aggregator", "persist")


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("worker", help="run one role of the streaming pipeline on Kafka",
                            description="Run a faust-streaming worker for one role; start more processes of a "
                            "role to scale it out. Kafka and topics come from SHADOWQA_* settings; the persist "
                            "role writes to SHADOWQA_DATABASE_URL.")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--dataset", choices=("driving", "digits"), default="driving",
                   help="label set and QA spec the comparator judges by (default driving)")
    p.add_argument("--model", default=None, help="automation model (default: the dataset's reference model)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    p.add_argument("--batch-size", type=positive_int, default=16, help="frames per forward pass (default 16)")
    p.add_argument("--target", type=open_interval, default=0.85, help="acceptance target (default 0.85)")
    p.add_argument("--alpha", type=open_interval, default=0.05, help="error probability (default 0.05)")
    p.add_argument("--audit-floor", type=open_interval, default=0.25, help="smallest audit π (default 0.25)")
    p.add_argument("--consensus-share", type=float, default=0.1, help="share of tasks with a second copy")
    p.add_argument("--window", type=positive_int, default=150, metavar="N",
                   help="machine comparisons per recommender step (default 150, as the replay's window)")
    p.add_argument("--no-auto-apply", action="store_true", help="recommend only; never publish policies")
    p.add_argument("--ready-file", type=Path, help="file written once the worker's agents are running")
    p.add_argument("--metrics-port", type=positive_int, metavar="PORT",
                   help="serve Prometheus metrics (with the role's consumer lag) on METRICS_HOST:PORT/metrics")
    p.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST",
                   help="address the metrics are served on (default 127.0.0.1; 0.0.0.0 in a Kubernetes pod)")
    p.add_argument("--loglevel", default="warn", choices=("crit", "error", "warn", "info", "debug"))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.settings import load_settings
    from streams.config import PipelineConfig
    from streams.worker import run_worker

    model = args.model or ("builtin:digits" if args.dataset == "digits" else "builtin:driving-detector")
    settings = load_settings()
    cfg = PipelineConfig(
        model=model, dataset=args.dataset, device=args.device, batch_size=args.batch_size, target=args.target,
        alpha=args.alpha, audit_floor=args.audit_floor, consensus_share=args.consensus_share,
        auto_apply=not args.no_auto_apply, window=args.window, engine_delay_s=settings.test_engine_delay_s,
    )
    run_worker(settings, cfg, args.role, args.loglevel, args.ready_file, args.metrics_port, args.metrics_host)
    return 0
