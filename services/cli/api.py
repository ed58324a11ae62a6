"""``shadowqa api``: serve the HTTP API (queue, gates, stats, policies) and manage its tokens."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from services.cli.parser import Parser, port, positive_int, seconds, weight
from services.loop.config import DEFAULT_AUDIT_FLOOR, DEFAULT_MAX_WEIGHT

if TYPE_CHECKING:
    from services.api.tokens import Tokens
    from services.settings import Settings

ROLES = ("annotator", "reader", "admin")


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("api", help="the HTTP API: annotation queue, rollout gates, stats, policies")
    sub = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    s = sub.add_parser(
        "serve", help="serve the API (migrates the database first)",
        description="Serve the annotation queue, rollout-gate, stats and policy API on HOST:PORT, with "
        "Prometheus metrics at /metrics and the OpenAPI document at /openapi.json. The database is "
        "SHADOWQA_DATABASE_URL, Kafka SHADOWQA_KAFKA_BOOTSTRAP (topics under SHADOWQA_TOPIC_PREFIX); a "
        "bootstrap admin token of at least 32 characters may be given as SHADOWQA_ADMIN_TOKEN.",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=port, default=8000, help="port (default 8000; 0: any free port, see --ready-file)")
    s.add_argument("--lease-seconds", type=seconds, default=300.0, metavar="S",
                   help="lease of a claimed task; a heartbeat extends it by as much (default 300)")
    s.add_argument("--max-leases", type=positive_int, default=1, metavar="N",
                   help="tasks one annotator may hold at once (default 1)")
    s.add_argument("--max-weight", type=weight, default=DEFAULT_MAX_WEIGHT, metavar="W",
                   help="weight bound 1/π of the gates when a request names none (default "
                   f"{DEFAULT_MAX_WEIGHT:g} = 1/the default audit floor {DEFAULT_AUDIT_FLOOR:g}, as shadowqa gate)")
    s.add_argument("--db-timeout", type=seconds, default=5.0, metavar="S",
                   help="how long a request waits for the database before it gets 503 with Retry-After (SQLite: "
                   "in all; PostgreSQL: each lock or connection wait) (default 5)")
    s.add_argument("--max-body-bytes", type=positive_int, default=1024 * 1024, metavar="N",
                   help="largest request body of every route but batch imports; larger gets 413 (default 1 MiB)")
    s.add_argument("--max-import-bytes", type=positive_int, default=32 * 1024 * 1024, metavar="N",
                   help="largest batch import (a Label Studio or CVAT file); larger gets 413 (default 32 MiB)")
    s.add_argument("--metrics-names", action="store_true",
                   help="name annotators in /metrics (which needs no token); default: one 'all' series "
                   "(and Label Studio's people by their ls:<user id> pseudonyms, named by e-mail with this)")
    s.add_argument("--no-kafka", action="store_true",
                   help="run without Kafka: annotations stay in the database, policies cannot be applied")
    s.add_argument("--ready-file", help="file written once the API answers, holding its base URL "
                   "(http://HOST:PORT, the port it got with --port 0)")
    s.set_defaults(run=serve)
    t = sub.add_parser("token", help="create, rotate or revoke API tokens directly in the database")
    t_sub = t.add_subparsers(dest="token_action", required=True, parser_class=Parser)
    c = t_sub.add_parser("create", help="create a token and print it (shown once)")
    c.add_argument("--name", required=True, type=token_name,
                   help="the holder's identity (an annotator's name in the queue); a revoked name may be reused")
    c.add_argument("--role", required=True, choices=ROLES)
    c.set_defaults(run=create_token)
    o = t_sub.add_parser("rotate", help="revoke a name's token and print a new one with the same role (the same "
                         "identity)")
    o.add_argument("--name", required=True, type=token_name)
    o.set_defaults(run=rotate_token)
    r = t_sub.add_parser("revoke", help="revoke a token by name (the name may then take a new token)")
    r.add_argument("--name", required=True, type=token_name)
    r.set_defaults(run=revoke_token)


def token_name(text: str) -> str:
    """A token name, by the API's rule (services/api/tokens.py ``Name``)."""
    from services.api.exceptions import TokenError
    from services.api.tokens import check_name

    try:
        return check_name(text)
    except TokenError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def serve(args: argparse.Namespace) -> int:
    from services.api.app import ApiConfig
    from services.api.limits import BodyLimits
    from services.api.server import serve_api
    from services.labelstudio.routes import LabelStudioLink, extension, metrics_only
    from services.settings import load_settings

    settings = load_settings()
    secret = settings.labelstudio_secret
    config = ApiConfig(lease_s=args.lease_seconds, max_leases=args.max_leases, max_weight=args.max_weight,
                       wait_s=args.db_timeout, body_limits=BodyLimits(args.max_body_bytes, args.max_import_bytes),
                       metrics_names=args.metrics_names)
    bridge = metrics_only() if secret is None else extension(
        LabelStudioLink(settings.labelstudio_url, secret.get_secret_value(), _labelstudio_token(settings)),
        named=args.metrics_names)
    serve_api(settings, config, extensions=[bridge], host=args.host, port=args.port, kafka=not args.no_kafka,
              ready_file=args.ready_file)
    return 0


def _labelstudio_token(settings: Settings) -> str | None:
    """The bridge's Label Studio token when there is one (for naming people in /metrics), else None."""
    from services.labelstudio.exceptions import NotConfigured
    from services.labelstudio.run import token_of

    try:
        return token_of(settings)
    except NotConfigured:
        return None


def create_token(args: argparse.Namespace) -> int:
    from services.api.tokens import Role

    print(_tokens(migrate=True).create(args.name, Role(args.role), created_by="cli"))
    return 0


def rotate_token(args: argparse.Namespace) -> int:
    token, _ = _tokens(migrate=True).rotate(args.name, rotated_by="cli")
    print(token)
    return 0


def revoke_token(args: argparse.Namespace) -> int:
    _tokens(migrate=False).revoke(args.name)
    print(f"revoked {args.name}")
    return 0


def _tokens(*, migrate: bool) -> Tokens:
    from services.api.tokens import Tokens
    from services.db.engine import make_engine, upgrade
    from services.settings import load_settings

    engine = make_engine(load_settings().database_url)
    if migrate:
        upgrade(engine)
    return Tokens(engine)
