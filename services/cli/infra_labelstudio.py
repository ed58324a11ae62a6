"""``shadowqa infra labelstudio up|down|status|install``: the project's own Label Studio server.

Exit status 0 on success, 2 with a one-line reason on failure; ``status`` exits 3 when the server is stopped.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from urllib.parse import urlsplit

from services.cli.infra_common import STOPPED, checked_settings, mark_started, say
from services.cli.parser import Parser, port, positive_int
from services.infra import labelstudio
from services.infra.client import free_port
from services.infra.labelstudio import LabelStudioPaths, ServerStatus, UpResult
from services.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost")


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``labelstudio`` and its actions to ``shadowqa infra``."""
    ls = sub.add_parser(
        "labelstudio", help="start, stop or inspect the local Label Studio server",
        description=f"Label Studio {labelstudio.LABEL_STUDIO_VERSION} from its own virtualenv (made with the "
        "machine's python3), headless on 127.0.0.1 with SQLite and one admin whose password and API token are "
        f"generated once. Virtualenv, template, credentials and data live under {labelstudio.default_home()}.",
    )
    actions = ls.add_subparsers(dest="labelstudio_command", required=True, parser_class=Parser)
    home = Parser(add_help=False)
    home.add_argument("--home", type=Path, metavar="DIR",
                      help=f"folder of the virtualenv, template, credentials and data (default "
                      f"{labelstudio.default_home()})")
    timeout = Parser(add_help=False)
    timeout.add_argument("--timeout", type=positive_int, default=int(labelstudio.START_TIMEOUT_S), metavar="SECONDS",
                         help=f"how long to wait for a starting server to answer (default "
                         f"{labelstudio.START_TIMEOUT_S:g}); the install itself has no limit")
    _register_up(actions, [home, timeout])
    install = actions.add_parser(
        "install", parents=[home, timeout], help="install the virtualenv and build the template (idempotent)",
        description="pip install Label Studio into its own virtualenv (about 1 GB; minutes the first time) and set "
        "up the template data folder new servers start from; no server is left running.")
    install.set_defaults(run=run_install)
    stop = actions.add_parser("down", parents=[home], help="stop the server if it runs (idempotent)")
    stop.set_defaults(run=run_down)
    show = actions.add_parser("status", parents=[home], help="print whether the server runs; exit 0 running, 3 not")
    show.set_defaults(run=run_status)


def _register_up(actions: argparse._SubParsersAction[Parser], parents: list[Parser]) -> None:
    start = actions.add_parser(
        "up", parents=parents, help="start the server unless it runs (idempotent); print its URL",
        description="Install the virtualenv and build the template (first run), start the server detached and wait "
        "until its API answers the admin's token. The URL is the only line on standard output (progress, the login "
        "and where the token is go to standard error): `url=$(shadowqa infra labelstudio up)`.")
    start.add_argument("--port", type=port, metavar="PORT",
                       help=f"port on 127.0.0.1, 0 for any free one (default: SHADOWQA_LABELSTUDIO_URL's when it "
                       f"names this machine, else {labelstudio.DEFAULT_PORT})")
    start.add_argument("--lock-ttl", type=positive_int, default=labelstudio.DEFAULT_LOCK_TTL_S, metavar="SECONDS",
                       help="how long a task stays locked to the annotator who opened it (Label Studio's "
                       f"TASK_LOCK_TTL; default {labelstudio.DEFAULT_LOCK_TTL_S}, shadowqa's lease); a running server "
                       "keeps the TTL it was started with")
    start.add_argument("--started-file", type=Path, metavar="FILE",
                       help="create FILE if this call started the server, remove it otherwise (so a script stops "
                       "only a server it started)")
    start.add_argument("--show-credentials", action="store_true",
                       help="print the admin's password and API token instead of the files holding them")
    start.set_defaults(run=run_up)


def run_up(args: argparse.Namespace) -> int:
    port = default_port(checked_settings()) if args.port is None else args.port or free_port()
    result = labelstudio.up(_paths(args), port, os.environ, lock_ttl_s=args.lock_ttl, timeout_s=float(args.timeout),
                            say=say)
    if args.started_file is not None:
        mark_started(args.started_file, result.started, "labelstudio")
    for line in up_lines(result, show_credentials=args.show_credentials):
        say(line)
    print(result.server.url)
    return 0


def run_install(args: argparse.Namespace) -> int:
    result = labelstudio.prepare(_paths(args), os.environ, timeout_s=float(args.timeout), say=say)
    done = [*(["installed"] if result.installed else []), *(["built the template"] if result.template_built else [])]
    print(f"Label Studio {labelstudio.LABEL_STUDIO_VERSION}: {' and '.join(done) or 'already installed'} "
          f"in {result.seconds:.1f} s ({_paths(args).home})")
    return 0


def run_down(args: argparse.Namespace) -> int:
    before = labelstudio.down(_paths(args))
    if before is None:
        print("Label Studio not running")
    else:
        print(f"stopped Label Studio at {before.url} (pid {before.pid})")
    return 0


def run_status(args: argparse.Namespace) -> int:
    state = labelstudio.status(_paths(args))
    print(status_line(state))
    return 0 if state.running else STOPPED


def up_lines(result: UpResult, *, show_credentials: bool) -> list[str]:
    """What ``up`` reports besides the URL: what it did, the admin login, and the password and token (or files)."""
    server = result.server
    if result.started:
        done = (f"started Label Studio {labelstudio.LABEL_STUDIO_VERSION} at {server.url} (pid {server.pid}) in "
                f"{result.seconds:.1f} s, task lock TTL {_seconds(server.lock_ttl_s)}; log: {server.log}")
    else:
        done = (f"Label Studio already running at {server.url} (pid {server.pid}), task lock TTL "
                f"{_seconds(server.lock_ttl_s)}")
    secrets = server.paths.secrets
    if show_credentials:
        login = f"admin login {server.username}, password {server.password}; API token {server.token}"
    else:
        login = (f"admin login {server.username}, password in {secrets / 'password'}; API token (Authorization: "
                 f"Token …) in {secrets / 'token'}")
    return [done, login]


def status_line(state: ServerStatus) -> str:
    """``running  pid …  url …  version …  data …  log …``, or ``stopped``."""
    if not state.running:
        return "stopped  (start it with `shadowqa infra labelstudio up`)"
    return (f"running  pid {state.pid}  url {state.url}  version {state.version}  lock TTL "
            f"{_seconds(state.lock_ttl_s)}  data {state.data_dir}  log {state.log}")


def default_port(settings: Settings) -> int:
    """The port of SHADOWQA_LABELSTUDIO_URL when it names this machine (so a client finds the server), else 8080."""
    parts = urlsplit(settings.labelstudio_url)
    if parts.hostname in LOOPBACK and parts.port is not None:
        return parts.port
    return labelstudio.DEFAULT_PORT


def _paths(args: argparse.Namespace) -> LabelStudioPaths:
    return LabelStudioPaths.under(args.home or labelstudio.default_home())


def _seconds(value: int | None) -> str:
    return "unknown" if value is None else f"{value} s"
