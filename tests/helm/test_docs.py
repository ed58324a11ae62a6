"""Every value of the chart is documented (a `# --` comment above it in values.yaml and a row in helm/README.md),
and NOTES.txt renders."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.helm.render import CHART, RELEASE, Helm, of_kind

VALUES = CHART / "values.yaml"
README = CHART.parent / "README.md"
# values that are Kubernetes objects or free-form lists/maps, documented as one value
WHOLE = {"resources", "nodeSelector", "tolerations", "affinity", "podSecurityContext", "securityContext", "labels",
         "podAnnotations", "podLabels", "imagePullSecrets", "extraEnv", "extraArgs"}


def _leaves(tree: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and key not in WHOLE:
            out |= _leaves(value, f"{path}.")
        else:
            out.add(path)
    return out


def _commented() -> set[str]:
    """Dotted paths of the keys in values.yaml right below a comment block holding a `# --` line."""
    out: set[str] = set()
    stack: list[str] = []
    block: list[str] = []
    for line in VALUES.read_text().splitlines():
        if line.lstrip().startswith("#"):
            block.append(line.strip())
            continue
        key = re.match(r"^( *)([A-Za-z]\w*):", line)
        if key:
            stack = [*stack[: len(key.group(1)) // 2], key.group(2)]
            if any(comment.startswith("# --") for comment in block):
                out.add(".".join(stack))
        block = []
    return out


def test_every_value_has_a_comment_in_values_yaml() -> None:
    leaves = _leaves(yaml.safe_load(VALUES.read_text()))
    assert len(leaves) > 50
    assert sorted(leaves - _commented()) == []


def test_the_readme_table_lists_exactly_the_values() -> None:
    rows = set(re.findall(r"^\| `([\w.]+)` \|", README.read_text(), flags=re.MULTILINE))
    leaves = _leaves(yaml.safe_load(VALUES.read_text()))
    assert sorted(leaves - rows) == [], "values missing from helm/README.md"
    assert sorted(rows - leaves) == [], "helm/README.md lists values the chart does not have"


def test_notes_render_with_the_release_objects(helm: Helm, chart_with_sample_dashboard: Path) -> None:
    """`helm template` does not print NOTES.txt: a ConfigMap in a copy of the chart carries its rendering."""
    (chart_with_sample_dashboard / "templates" / "notes-probe.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n"
        "data:\n  notes: {{ include (print .Template.BasePath \"/NOTES.txt\") . | toJson }}\n")
    docs = helm.template({"secrets": {"existingSecret": "qa-db"}}, chart=chart_with_sample_dashboard)
    notes = next(cm for cm in of_kind(docs, "ConfigMap") if cm["metadata"]["name"] == "notes")["data"]["notes"]
    assert "aggregator: 1 replica (always exactly one)" in notes
    assert f"port-forward svc/{RELEASE}-shadowqa-api 8000" in notes
    assert "get secret qa-db -o jsonpath='{.data.admin-token}'" in notes
    dashboards = len(list((chart_with_sample_dashboard / "dashboards").glob("*.json")))
    assert f"Dashboards: {dashboards} ConfigMap(s)" in notes
