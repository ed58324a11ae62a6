"""``shadowqa api``: serve the HTTP API (queue, gates, stats, policies) and manage its tokens."""

from __future__ import annotations

import argparse

from services.cli.parser import Parser, port, positive_int, seconds, weight

ROLES = ("annotator", "reader", "admin")


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("api", help="the HTTP API: annotation queue, rollout gates, stats, policies")
    sub = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    s = sub.add_parser(
        "serve", help="serve the API (migrates the database first)",
        description="Serve the annotation queue, rollout-gate, stats and policy API on HOST:PORT, with "
        "Prometheus metrics at /metrics and the OpenAPI document at /openapi.json. The database is "
        "SHADOWQA_DATABASE_URL, Kafka SHADOWQA_KAFKA_BOOTSTRAP (topics under SHADOWQA_TOPIC_PREFIX); a "
        "bootstrap admin token may be given as SHADOWQA_ADMIN_TOKEN.",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=port, default=8000, help="port (default 8000; 0: any free port, see --ready-file)")
    s.add_argument("--lease-seconds", type=seconds, default=300.0, metavar="S",
                   help="lease of a claimed task; a heartbeat extends it by as much (default 300)")
    s.add_argument("--max-leases", type=positive_int, default=1, metavar="N",
                   help="tasks one annotator may hold at once (default 1)")
    s.add_argument("--max-weight", type=weight, default=4.0, metavar="W",
                   help="default weight bound 1/π of the gates (default 4 = 1/the default audit floor 0.25)")
    s.add_argument("--no-kafka", action="store_true",
                   help="run without Kafka: annotations stay in the database, policies cannot be applied")
    s.add_argument("--ready-file", help="file written once the API answers, holding its base URL "
                   "(http://HOST:PORT, the port it got with --port 0)")
    s.set_defaults(run=serve)
    t = sub.add_parser("token", help="create or revoke API tokens directly in the database")
    t_sub = t.add_subparsers(dest="token_action", required=True, parser_class=Parser)
    c = t_sub.add_parser("create", help="create a token and print it (shown once)")
    c.add_argument("--name", required=True, help="the holder's identity (an annotator's name in the queue)")
    c.add_argument("--role", required=True, choices=ROLES)
    c.set_defaults(run=create_token)
    r = t_sub.add_parser("revoke", help="revoke a token by name")
    r.add_argument("--name", required=True)
    r.set_defaults(run=revoke_token)


def serve(args: argparse.Namespace) -> int:
    from services.api.server import serve_api
    from services.settings import load_settings

    serve_api(load_settings(), host=args.host, port=args.port, lease_s=args.lease_seconds,
              max_leases=args.max_leases, max_weight=args.max_weight, kafka=not args.no_kafka,
              ready_file=args.ready_file)
    return 0


def create_token(args: argparse.Namespace) -> int:
    from services.api.tokens import Role, Tokens
    from services.db.engine import make_engine, upgrade
    from services.settings import load_settings

    engine = make_engine(load_settings().database_url)
    upgrade(engine)
    print(Tokens(engine).create(args.name, Role(args.role), created_by="cli"))
    return 0


def revoke_token(args: argparse.Namespace) -> int:
    from services.api.tokens import Tokens
    from services.db.engine import make_engine
    from services.settings import load_settings

    Tokens(make_engine(load_settings().database_url)).revoke(args.name)
    print(f"revoked {args.name}")
    return 0
