"""Where the local Label Studio's virtualenv, template, credentials, data, log and pid file live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LabelStudioPaths:
    """Label Studio's files: what every server shares (``home``) and one server's folder (``data``).

    ``home`` holds the virtualenv, the pristine template data folder and the admin's credentials;
    ``data`` holds one server's Label Studio data folder (``storage``), log, pid file and lock.
    Throwaway servers get a scratch ``data`` beside the same ``home``.
    """

    home: Path
    data: Path

    @classmethod
    def under(cls, home: Path) -> LabelStudioPaths:
        """``home`` and ``home/data``, e.g. under the project's ``.cache/labelstudio``."""
        return cls(home=home, data=home / "data")

    @property
    def venv(self) -> Path:
        """Label Studio's own virtualenv: its Django pins never meet shadowqa's."""
        return self.home / "venv"

    @property
    def executable(self) -> Path:
        return self.venv / "bin" / "label-studio"

    @property
    def install_stamp(self) -> Path:
        """Written after a successful ``pip install``; names the pinned version."""
        return self.venv / ".shadowqa-installed"

    @property
    def install_log(self) -> Path:
        return self.home / "install.log"

    @property
    def template(self) -> Path:
        """A set-up Label Studio data folder (migrated, admin and token made), copied for each new server."""
        return self.home / "template"

    @property
    def template_stamp(self) -> Path:
        """Beside the template (not in it, so copies stay clean): the version and credentials it was made with."""
        return self.home / "template.stamp"

    @property
    def template_log(self) -> Path:
        return self.home / "template.log"

    @property
    def secrets(self) -> Path:
        """The admin's generated-once password and API token, mode 0600."""
        return self.home / "secrets"

    @property
    def password_file(self) -> Path:
        return self.secrets / "password"

    @property
    def token_file(self) -> Path:
        return self.secrets / "token"

    @property
    def home_lock(self) -> Path:
        """Held while the virtualenv is installed or the template built, so two of them never race."""
        return self.home / "labelstudio.lock"

    @property
    def storage(self) -> Path:
        """This server's Label Studio data folder (``--data-dir``): SQLite database, media, exports."""
        return self.data / "labelstudio"

    @property
    def log(self) -> Path:
        """The server's stdout and stderr."""
        return self.data / "server.log"

    @property
    def pid(self) -> Path:
        return self.data / "server.pid"

    @property
    def lock(self) -> Path:
        """Held while ``up`` or ``down`` runs, so two of them never race."""
        return self.data / "server.lock"
