"""The template data folder: Label Studio set up once (migrations, admin, token), copied for every new server.

A fresh data folder takes Label Studio about 100 s of database migrations on a busy machine; a copy of a set-up
one starts in seconds. The template is built by a server on a free loopback port that is stopped (and waited
for) after it answered, so the SQLite file is copied while nothing writes to it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from services.infra import labelstudio_server as server
from services.infra.client import free_port
from services.infra.labelstudio_credentials import Credentials
from services.infra.labelstudio_paths import LabelStudioPaths
from services.infra.labelstudio_venv import kept_environment

STOP_TIMEOUT_S = 30.0


def template_stamp_text(version: str, credentials: Credentials) -> str:
    """What the template stamp holds: the version that migrated it and the credentials it was made with."""
    return f"label-studio=={version}\ncredentials={credentials.fingerprint()}\n"


def template_ready(paths: LabelStudioPaths, version: str, credentials: Credentials) -> bool:
    """Whether the template exists and was made by ``version`` with ``credentials``."""
    try:
        stamp = paths.template_stamp.read_text(encoding="utf-8")
    except OSError:
        return False
    return stamp == template_stamp_text(version, credentials) and (paths.template / server.DATABASE).is_file()


def build_template(paths: LabelStudioPaths, credentials: Credentials, environ: Mapping[str, str], *, version: str,
                   timeout_s: float, say: Callable[[str], None] = lambda _: None) -> None:
    """Set up a fresh data folder with a throwaway server, stop it and keep the folder as the template."""
    building = paths.home / "template.building"
    shutil.rmtree(building, ignore_errors=True)
    paths.template_stamp.unlink(missing_ok=True)
    shutil.rmtree(paths.template, ignore_errors=True)
    building.mkdir(parents=True)
    port = free_port()
    say(f"setting up Label Studio's template data folder {paths.template} (database migrations: a minute or two, "
        f"once); log: {paths.template_log}")
    env = server.server_environment(kept_environment(environ), building, credentials,
                                    lock_ttl_s=server.DEFAULT_LOCK_TTL_S)
    process = server.launch(server.server_command(paths.executable, port, building), env, paths.template_log,
                            cwd=paths.home, version=version)
    try:
        server.wait_ready(process, port, credentials.token, paths.template_log, building, timeout_s)
    finally:
        server.stop(process.pid, STOP_TIMEOUT_S)
    building.rename(paths.template)
    paths.template_stamp.write_text(template_stamp_text(version, credentials), encoding="utf-8")


def copy_template(paths: LabelStudioPaths, storage: Path) -> None:
    """Copy the template into ``storage`` (which may hold media of an earlier server)."""
    storage.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(paths.template, storage, dirs_exist_ok=True)
