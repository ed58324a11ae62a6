"""Label Studio's own virtualenv: made with the machine's ``python3``, one pinned ``pip install``, a stamp after.

shadowqa never imports ``label_studio``; it runs the venv's ``label-studio`` executable, so Label Studio's
Django pins never touch shadowqa's own environment.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from services.infra.exceptions import LabelStudioInstallFailed
from services.infra.labelstudio_paths import LabelStudioPaths

# One pin. A new version reinstalls the venv and rebuilds the template (its migrations differ); check
# tests/integration/test_labelstudio_infra.py against it first.
LABEL_STUDIO_VERSION = "1.23.2"
PACKAGE = "label-studio"
MIN_PYTHON = (3, 10)  # label-studio 1.23.2: Requires-Python >=3.10,<4
VENV_TIMEOUT_S = 300.0
# Only these (and pip's own PIP_* settings) reach pip and Label Studio from the caller's environment: no PYTHONPATH
# or VIRTUAL_ENV of shadowqa's, and none of the bare names Label Studio also reads as settings (HOST, PORT, DEBUG,
# USERNAME, PASSWORD, ...).
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
_PROGRESS = ("Collecting ", "Installing collected packages", "Successfully installed", "ERROR")
_MAX_LINE = 160


def stamp_text(version: str) -> str:
    """What the install stamp holds for ``version``."""
    return f"{PACKAGE}=={version}\n"


def needs_install(stamp: str | None, version: str) -> bool:
    """Whether the venv must be (re)installed: no stamp, or one for another version."""
    return stamp is None or stamp.strip() != stamp_text(version).strip()


def kept_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of ``environ`` a child of ours inherits (:data:`KEPT_VARIABLES` and ``PIP_*``)."""
    return {name: value for name, value in environ.items() if name in KEPT_VARIABLES or name.startswith("PIP_")}


def installed_version(paths: LabelStudioPaths) -> str | None:
    """The label-studio version installed in the venv, from its package metadata (nothing is run)."""
    sites = [str(site) for site in sorted(paths.venv.glob("lib/python*/site-packages"))]
    found = importlib.metadata.distributions(name=PACKAGE, path=sites) if sites else iter(())
    return next((dist.version for dist in found), None)


def venv_ready(paths: LabelStudioPaths, version: str = LABEL_STUDIO_VERSION) -> bool:
    """Whether the venv holds ``version`` (stamp written) and its ``label-studio`` executable."""
    return not needs_install(_read(paths.install_stamp), version) and paths.executable.is_file()


def ensure_venv(paths: LabelStudioPaths, environ: Mapping[str, str], *, version: str = LABEL_STUDIO_VERSION,
                say: Callable[[str], None] = lambda _: None) -> bool:
    """Install ``label-studio==version`` into its own venv unless the stamp says it is there; whether it installed.

    A venv of another version is removed first (pip's cache makes the reinstall cheaper). Progress lines
    (pip's "Collecting ..." and a line per phase) go to ``say``; pip's full output to ``install.log``.
    """
    if venv_ready(paths, version):
        return False
    env = kept_environment(environ)
    python = find_python(env)
    if paths.venv.exists():
        say(f"removing {paths.venv} (it does not hold {PACKAGE} {version})")
        shutil.rmtree(paths.venv)
    paths.home.mkdir(parents=True, exist_ok=True)
    paths.install_log.write_text(f"=== shadowqa: installing {PACKAGE}=={version} into {paths.venv} ===\n",
                                 encoding="utf-8")
    say(f"creating Label Studio's virtualenv {paths.venv} with {python}")
    _run([python, "-m", "venv", str(paths.venv)], paths, env, say=None)
    pip = [str(paths.venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           "--progress-bar", "off"]
    # the pip that ensurepip brings may be old enough not to read the cache a current pip filled (and vice versa)
    _run([*pip, "--upgrade", "pip"], paths, env, say=None)
    say(f"installing {PACKAGE}=={version} into it (about 1 GB; minutes the first time); log: {paths.install_log}")
    _run([*pip, f"{PACKAGE}=={version}"], paths, env, say=say)
    found = installed_version(paths)
    if found != version:
        raise LabelStudioInstallFailed(f"pip installed {PACKAGE} {found or 'nothing'} into {paths.venv}, not "
                                       f"{version}; see {paths.install_log}")
    paths.install_stamp.write_text(stamp_text(version), encoding="utf-8")
    return True


def find_python(env: Mapping[str, str]) -> str:
    """The machine's ``python3`` (on ``env``'s PATH), if it is new enough for Label Studio."""
    python = shutil.which("python3", path=env.get("PATH"))
    if python is None:
        raise LabelStudioInstallFailed("no python3 on PATH to create Label Studio's virtualenv; install Python "
                                       f"{'.'.join(map(str, MIN_PYTHON))} or newer")
    probe = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                           text=True, env=dict(env), timeout=VENV_TIMEOUT_S, check=False)
    found = tuple(int(part) for part in probe.stdout.split() if part.isdigit())
    if probe.returncode != 0 or found < MIN_PYTHON:
        shown = ".".join(map(str, found)) or "unknown"
        raise LabelStudioInstallFailed(f"{python} is Python {shown}; Label Studio {LABEL_STUDIO_VERSION} needs "
                                       f"{'.'.join(map(str, MIN_PYTHON))} or newer")
    return python


def _run(argv: list[str], paths: LabelStudioPaths, env: Mapping[str, str],
         say: Callable[[str], None] | None) -> None:
    """Run ``argv``, its output appended to the install log (and its progress lines to ``say``)."""
    lines: list[str] = []
    with paths.install_log.open("a", encoding="utf-8") as log:
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, env=dict(env))
        except OSError as exc:
            raise LabelStudioInstallFailed(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            lines.append(line.rstrip())
            if say is not None and line.startswith(_PROGRESS):
                say(_shorten(line.strip()))
        code = process.wait()
    if code != 0:
        problem = next((line for line in reversed(lines) if line.startswith("ERROR")), None) or next(
            (line for line in reversed(lines) if line.strip()), "no output")
        raise LabelStudioInstallFailed(f"`{' '.join(argv[:3])} …` failed (exit status {code}): "
                                       f"{_shorten(problem.strip())}; full output: {paths.install_log}")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _shorten(line: str) -> str:
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…"
