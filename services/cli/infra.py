"""``shadowqa infra``: the project's own Kafka broker (``kafka up|down|status``), its topics (``topics create``),
PostgreSQL (``postgres up|down|status``) and Label Studio (``labelstudio up|down|status|install``, in
:mod:`services.cli.infra_labelstudio`).

Exit status 0 on success, 2 with a one-line reason on failure; ``kafka status``, ``postgres status`` and
``labelstudio status`` exit 3 when the server is stopped.
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

from services.cli.infra_common import STOPPED, checked_settings, mark_started, say
from services.cli.parser import Parser, checked_float, positive_int

if TYPE_CHECKING:
    from services.infra.kafka import BrokerStatus, KafkaPaths
    from services.infra.topics import TopicReport


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("infra", help="run the project's local Kafka broker (and its topics), PostgreSQL and "
                            "Label Studio",
                            description="Local infrastructure shadowqa provisions itself.")
    p.defer(_register_servers)  # their help names versions and folders from services/infra (Kafka's client, httpx)


def _register_servers(p: Parser) -> None:
    from services.cli import infra_labelstudio

    sub = p.add_subparsers(dest="infra_command", required=True, parser_class=Parser)
    _register_kafka(sub)
    _register_topics(sub)
    _register_postgres(sub)
    infra_labelstudio.register(sub)


def _register_kafka(sub: argparse._SubParsersAction[Parser]) -> None:
    from services.infra.kafka import KAFKA_VERSION, default_home

    kafka = sub.add_parser(
        "kafka", help="start, stop or inspect the local Kafka broker",
        description=f"A single-node KRaft Apache Kafka {KAFKA_VERSION} on 127.0.0.1 from Maven Central's jars, run "
        "with the machine's Java 17+ (ports and heap from SHADOWQA_KAFKA_PORT, SHADOWQA_KAFKA_CONTROLLER_PORT, "
        "SHADOWQA_KAFKA_HEAP_MB). Jars and data live under .cache/kafka.",
    )
    actions = kafka.add_subparsers(dest="kafka_command", required=True, parser_class=Parser)
    home = Parser(add_help=False)
    home.add_argument("--home", type=Path, metavar="DIR",
                      help=f"folder of the broker's jars and data (default {default_home()})")
    start = actions.add_parser("up", parents=[home], help="start the broker unless it runs (idempotent)",
                               description="Resolve the jars (first run), format storage (first run), start the "
                               "broker detached and wait until it answers metadata requests.")
    start.add_argument("--timeout", type=positive_int, default=60, metavar="SECONDS",
                       help="how long to wait for the broker to answer (default 60)")
    start.add_argument("--started-file", type=Path, metavar="FILE",
                       help="create FILE if this call started the broker, remove it otherwise (so a script stops "
                       "only a broker it started)")
    start.set_defaults(run=run_up)
    stop = actions.add_parser("down", parents=[home], help="stop the broker if it runs (idempotent)")
    stop.set_defaults(run=run_down)
    show = actions.add_parser("status", parents=[home], help="print whether the broker runs; exit 0 running, 3 not")
    show.set_defaults(run=run_status)


def _register_topics(sub: argparse._SubParsersAction[Parser]) -> None:
    topics = sub.add_parser("topics", help="create the pipeline's topics",
                            description="The topics of docs/streaming.md on the broker at SHADOWQA_KAFKA_BOOTSTRAP.")
    actions = topics.add_subparsers(dest="topics_command", required=True, parser_class=Parser)
    create = actions.add_parser(
        "create", help="create every topic of docs/streaming.md (idempotent)",
        description="Create the per-frame topics with P partitions and the others with 1, compacted or with "
        "retention as docs/streaming.md says. Existing topics with that layout are left alone; one with another "
        "partition count or cleanup policy is an error.",
    )
    create.add_argument("--partitions", type=positive_int, metavar="P",
                        help="partitions of the per-frame topics (default SHADOWQA_PARTITIONS or 4)")
    create.add_argument("--retention-hours", type=_hours, metavar="H",
                        help="retention of delete-policy topics (default SHADOWQA_RETENTION_HOURS or 168)")
    create.add_argument("--prefix", metavar="X", help="prefix of every topic name (default SHADOWQA_TOPIC_PREFIX)")
    create.set_defaults(run=run_topics_create)


def _register_postgres(sub: argparse._SubParsersAction[Parser]) -> None:
    pg = sub.add_parser(
        "postgres", help="start, stop or inspect the local PostgreSQL cluster",
        description="A Debian PostgreSQL cluster named 'shadowqa' on 127.0.0.1 (port from SHADOWQA_POSTGRES_PORT, "
        "default 5432) with role and database 'shadowqa' (password 'shadowqa'); needs root and Debian's postgresql "
        "package (`make system`).",
    )
    actions = pg.add_subparsers(dest="postgres_command", required=True, parser_class=Parser)
    start = actions.add_parser("up", help="create and start the cluster unless it runs (idempotent); print its URL",
                               description="Create the cluster (first run), start it, create the role and database "
                               "if missing and wait until they accept a login. The URL is the only line on standard "
                               "output (progress goes to standard error): `url=$(shadowqa infra postgres up)`.")
    start.add_argument("--timeout", type=positive_int, default=60, metavar="SECONDS",
                       help="how long to wait for the server to accept a login (default 60)")
    start.add_argument("--started-file", type=Path, metavar="FILE",
                       help="create FILE if this call started the server, remove it otherwise (so a script stops "
                       "only a server it started)")
    start.set_defaults(run=run_postgres_up)
    stop = actions.add_parser("down", help="stop the cluster if it runs (idempotent)")
    stop.set_defaults(run=run_postgres_down)
    show = actions.add_parser("status", help="print whether the cluster runs; exit 0 running, 3 not")
    show.set_defaults(run=run_postgres_status)


def run_postgres_up(args: argparse.Namespace) -> int:
    from services.infra import postgres

    settings = checked_settings()
    result = postgres.up(settings.postgres_port, timeout_s=float(args.timeout), say=say)
    if args.started_file is not None:
        mark_started(args.started_file, result.started, "postgres")
    state = result.status
    verb = "started" if result.started else "already running:"
    say(f"{verb} PostgreSQL {state.version} cluster {postgres.CLUSTER!r} on {postgres.HOST}:{state.port}"
         + (f" in {result.seconds:.1f} s; log: {state.log}" if result.started else ""))
    print(result.url)
    return 0


def run_postgres_down(args: argparse.Namespace) -> int:
    from services.infra import postgres

    before = postgres.down()
    if before is None:
        print("PostgreSQL cluster not running")
    else:
        print(f"stopped PostgreSQL {before.version} cluster {postgres.CLUSTER!r} on port {before.port}")
    return 0


def run_postgres_status(args: argparse.Namespace) -> int:
    from services.infra import postgres

    state = postgres.status()
    if not state.running:
        print("stopped  (start it with `shadowqa infra postgres up`)")
        return STOPPED
    print(f"running  version {state.version}  url {postgres.database_url(state.port or 0)}  log {state.log}")
    return 0


def run_up(args: argparse.Namespace) -> int:
    from services.infra.kafka import up

    settings = checked_settings()
    _quiet_kafka_logging()
    result = up(_paths(args), settings.kafka_port, settings.kafka_controller_port, settings.kafka_heap_mb,
                timeout_s=float(args.timeout), say=say)
    if args.started_file is not None:
        mark_started(args.started_file, result.started, "kafka")
    state = result.status
    if result.started:
        print(f"started Kafka {state.version} on {state.bootstrap} (pid {state.pid}) in {result.seconds:.1f} s; "
              f"log: {state.log}")
    else:
        print(f"Kafka {state.version} already running on {state.bootstrap} (pid {state.pid})")
    return 0


def run_down(args: argparse.Namespace) -> int:
    from services.infra.kafka import down

    before = down(_paths(args))
    if before is None:
        print("Kafka broker not running")
    else:
        print(f"stopped Kafka {before.version} on {before.bootstrap} (pid {before.pid})")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from services.infra.kafka import status

    state = status(_paths(args))
    print(status_line(state))
    return 0 if state.running else STOPPED


def run_topics_create(args: argparse.Namespace) -> int:
    from services.infra.topic_names import TopicNames
    from services.infra.topics import create_topics, topic_layout

    settings = checked_settings()
    _quiet_kafka_logging()
    names = TopicNames(prefix=settings.topic_prefix if args.prefix is None else args.prefix)
    partitions = args.partitions or settings.partitions
    hours = args.retention_hours or settings.retention_hours
    report = create_topics(settings.kafka_bootstrap, topic_layout(names, partitions, hours))
    print(topics_table(report))
    return 0


def status_line(state: BrokerStatus) -> str:
    """``running  pid …  bootstrap …  version …  log …``, or ``stopped``."""
    if not state.running:
        return "stopped  (start it with `shadowqa infra kafka up`)"
    return f"running  pid {state.pid}  bootstrap {state.bootstrap}  version {state.version}  log {state.log}"


def topics_table(report: TopicReport) -> str:
    """One line per topic: name, partitions, cleanup policy, and whether it was created now."""
    width = max(len(spec.name) for spec in report.layout)
    return "\n".join(
        f"{spec.name:<{width}}  {spec.partitions:>3}  {spec.cleanup_policy:<7}  "
        f"{'created' if spec.name in report.created else 'exists'}"
        for spec in report.layout
    )


def _paths(args: argparse.Namespace) -> KafkaPaths:
    from services.infra.kafka import KAFKA_VERSION, KafkaPaths, default_home

    return KafkaPaths.under(args.home or default_home(), KAFKA_VERSION)


def _quiet_kafka_logging() -> None:
    """kafka-python logs connection retries; our failures are one-line errors, so its records go nowhere."""
    logging.getLogger("kafka").addHandler(logging.NullHandler())


def _hours(text: str) -> float:
    return checked_float(text, lambda v: math.isfinite(v) and v > 0, "a number of hours",
                         "a positive number of hours")
