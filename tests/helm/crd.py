"""Validating custom resources against the openAPIV3Schema of the CRD that defines them (tests/helm/crds/).

The schema is made as strict as the API server's strict field validation (kubectl's default): an object schema
that lists its properties accepts no others unless it says ``x-kubernetes-preserve-unknown-fields``. The object's
metadata is checked as the ObjectMeta it is, with kubernetes-validate.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

CRDS = Path(__file__).parent / "crds"
Schema = dict[str, Any]


def _strict(schema: Schema) -> Schema:
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {name: _strict(sub) for name, sub in out["properties"].items()}
        if "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = _strict(out["additionalProperties"])
    if isinstance(out.get("items"), dict):
        out["items"] = _strict(out["items"])
    for key in ("anyOf", "allOf", "oneOf"):
        if key in out:
            out[key] = [_strict(sub) for sub in out[key]]
    if out.get("x-kubernetes-int-or-string") and "anyOf" not in out:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    return out


@cache
def _validators() -> dict[tuple[str, str], jsonschema.Draft4Validator]:
    """(apiVersion, kind) -> a validator, for every served version of every CRD file."""
    out = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        spec = crd["spec"]
        for version in spec["versions"]:
            if version.get("served", True):
                schema = _strict(version["schema"]["openAPIV3Schema"])
                out[f"{spec['group']}/{version['name']}", spec["names"]["kind"]] = jsonschema.Draft4Validator(schema)
    return out


def custom_kinds() -> set[tuple[str, str]]:
    """(apiVersion, kind) of every custom resource a CRD here defines."""
    return set(_validators())


def validate_custom(doc: dict[str, Any], kubernetes_version: str) -> None:
    """Raises jsonschema.ValidationError (or kubernetes-validate's, for the metadata) when ``doc`` is invalid."""
    _validators()[doc["apiVersion"], doc["kind"]].validate(doc)
    kubernetes_validate.validate({"apiVersion": "v1", "kind": "ConfigMap", "metadata": doc["metadata"]},
                                 kubernetes_version, strict=True)
