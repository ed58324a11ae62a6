"""``shadowqa labelstudio bridge``: keep shadowqa's sample queue open in a Label Studio server, live.

Exit status 0 after SIGINT/SIGTERM, 2 with a one-line reason when it cannot start (no shared secret, Label
Studio refuses the token, the database cannot be migrated).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from services.cli.parser import Parser, positive_int, seconds


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("labelstudio", help="Label Studio as the annotation team's live workspace")
    sub = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    b = sub.add_parser(
        "bridge", help="move the sample queue into Label Studio and its annotations back, until stopped",
        description="Keeps one Label Studio project per dataset profile (labelling config from the profile), "
        "moves waiting tasks into it holding shadowqa's leases, and brings every annotation back into the queue "
        "(webhook to the API, plus a poll each round). Label Studio is SHADOWQA_LABELSTUDIO_URL with "
        "SHADOWQA_LABELSTUDIO_TOKEN (default: the server `shadowqa infra labelstudio up` runs, and its admin's "
        "token); the database SHADOWQA_DATABASE_URL; Kafka SHADOWQA_KAFKA_BOOTSTRAP. SHADOWQA_LABELSTUDIO_SECRET "
        "(at least 32 characters) must be the same here and for `shadowqa api serve`, which serves the images "
        "and takes the webhook.")
    b.add_argument("--api-url", default="http://127.0.0.1:8000",
                   help="shadowqa's API as the annotators' browsers and Label Studio reach it (default "
                   "http://127.0.0.1:8000)")
    b.add_argument("--webhook-url", help="shadowqa's API as the Label Studio server reaches it, for the webhook "
                   "(default: --api-url)")
    b.add_argument("--open-frames", type=positive_int, default=20, metavar="N",
                   help="frames kept open in Label Studio at once (default 20)")
    b.add_argument("--lease-seconds", type=seconds, default=300.0, metavar="S",
                   help="the bridge's leases, renewed every round while a task is open (default 300)")
    b.add_argument("--interval", type=seconds, default=5.0, metavar="S",
                   help="seconds between rounds: renew, poll, claim (default 5)")
    b.add_argument("--no-webhook", action="store_true",
                   help="do not register the webhook (annotations then arrive with the poll only)")
    b.add_argument("--no-kafka", action="store_true",
                   help="do not publish annotations here (the API's outbox publishes them)")
    b.add_argument("--metrics-port", type=int, default=0, metavar="PORT",
                   help="serve Prometheus metrics on 127.0.0.1:PORT (default 0: off)")
    b.set_defaults(run=bridge)


def bridge(args: argparse.Namespace) -> int:
    from services.labelstudio.run import BridgeRun
    from services.settings import load_settings

    stop = threading.Event()

    def stopping(signum: int, _: FrameType | None) -> None:
        print(f"shadowqa: {signal.Signals(signum).name}: stopping the bridge after this round", file=sys.stderr)
        stop.set()

    signal.signal(signal.SIGINT, stopping)
    signal.signal(signal.SIGTERM, stopping)
    run = BridgeRun.start(load_settings(), api_url=args.api_url, open_frames=args.open_frames,
                          lease_s=args.lease_seconds, interval_s=args.interval, webhook=not args.no_webhook,
                          webhook_url=args.webhook_url, kafka=not args.no_kafka, metrics_port=args.metrics_port,
                          say=lambda line: print(f"shadowqa: {line}", flush=True))
    run.serve(stop)
    return 0
