"""Rendering the chart with the real helm binary, and picking objects out of what it renders."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "shadowqa"
HELM = ROOT / ".cache" / "bin" / "helm"
RELEASE = "qa"
NAMESPACE = "shadowqa-test"

Doc = dict[str, Any]


class RenderError(AssertionError):
    """helm refused to render the chart; the message is helm's."""


@dataclass(frozen=True)
class Helm:
    binary: Path

    def run(self, *args: str, values: dict[str, Any] | None = None) -> subprocess.CompletedProcess[str]:
        """helm ARGS with ``values`` (if any) as a values file on stdin."""
        extra = ["-f", "-"] if values is not None else []
        return subprocess.run([str(self.binary), *args, *extra], input=json.dumps(values or {}),
                              capture_output=True, text=True, timeout=120, check=False)

    def template(self, values: dict[str, Any] | None = None, *, chart: Path = CHART,
                 kube_version: str | None = None) -> list[Doc]:
        """Every object ``helm template`` renders, in its order; RenderError when it fails."""
        args = ["template", RELEASE, str(chart), "--namespace", NAMESPACE]
        if kube_version is not None:
            args += ["--kube-version", kube_version]
        done = self.run(*args, values=values)
        if done.returncode != 0:
            raise RenderError(done.stderr.strip())
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    def template_error(self, values: dict[str, Any], *, chart: Path = CHART) -> str:
        """helm's error message for values the chart must refuse; fails the test if it renders them."""
        try:
            self.template(values, chart=chart)
        except RenderError as error:
            return str(error)
        raise AssertionError(f"helm rendered values it should refuse: {values}")


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [doc for doc in docs if doc["kind"] == kind]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [doc for doc in of_kind(docs, kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} objects named {name}"
    return found[0]


def component(docs: list[Doc], kind: str, name: str) -> Doc:
    """The object of one component (role, api, migrations): named "<release>-shadowqa-<name>"."""
    return named(docs, kind, f"{RELEASE}-shadowqa-{name}")


def containers(doc: Doc) -> list[Doc]:
    """The containers of a Deployment's or Job's pod template."""
    return list(doc["spec"]["template"]["spec"]["containers"])


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()

