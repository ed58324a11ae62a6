"""`helm lint --strict` and every rendered object validated against the Kubernetes schema (strict: unknown fields
fail), the ServiceMonitor against the prometheus-operator CRD, for the default values and a few variations."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.helm.crd import custom_kinds, validate_custom
from tests.helm.render import CHART, Doc, Helm, component, of_kind
from tests.helm.variations import VARIATIONS

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest kubernetes-validate ships.
KUBERNETES = ("1.25.0", "1.37.0")


def _validate(doc: Doc, kubernetes: str) -> None:
    if (doc["apiVersion"], doc["kind"]) in custom_kinds():
        validate_custom(doc, kubernetes)
    else:
        kubernetes_validate.validate(doc, kubernetes, strict=True)


@pytest.mark.parametrize("values", VARIATIONS.values(), ids=VARIATIONS.keys())
def test_helm_lint_strict_passes(helm: Helm, values: dict[str, Any]) -> None:
    done = helm.run("lint", "--strict", str(CHART), values=values)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


@pytest.mark.parametrize("kubernetes", KUBERNETES)
@pytest.mark.parametrize("values", VARIATIONS.values(), ids=VARIATIONS.keys())
def test_every_rendered_object_is_valid(helm: Helm, values: dict[str, Any], kubernetes: str) -> None:
    docs = helm.template(values, kube_version=kubernetes)
    assert len(docs) >= 8
    for doc in docs:
        try:
            _validate(doc, kubernetes)
        except (jsonschema.ValidationError, kubernetes_validate.SchemaNotFoundError) as error:
            name = f"{doc['kind']} {doc['metadata']['name']}"
            pytest.fail(f"{name} is not valid for Kubernetes {kubernetes}: {getattr(error, 'message', error)}")


def test_the_service_monitor_is_checked_against_its_crd(defaults: list[Doc]) -> None:
    """The CRD route is taken (not skipped) and is strict: an unknown field or a malformed interval fails."""
    monitor = of_kind(defaults, "ServiceMonitor")[0]
    assert ("monitoring.coreos.com/v1", "ServiceMonitor") in custom_kinds()
    validate_custom(monitor, KUBERNETES[-1])
    typo = copy.deepcopy(monitor)
    typo["spec"]["endpoints"][0]["intervall"] = "30s"
    with pytest.raises(jsonschema.ValidationError, match="intervall"):
        validate_custom(typo, KUBERNETES[-1])
    malformed = copy.deepcopy(monitor)
    malformed["spec"]["endpoints"][0]["interval"] = "30 seconds"
    with pytest.raises(jsonschema.ValidationError, match="30 seconds"):
        validate_custom(malformed, KUBERNETES[-1])


def test_built_in_kinds_are_checked_strictly(defaults: list[Doc]) -> None:
    """kubernetes-validate's strict mode rejects a misspelt field the API server would reject."""
    deployment = copy.deepcopy(component(defaults, "Deployment", "router"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(jsonschema.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, KUBERNETES[-1], strict=True)


def test_values_schema_rejects_wrong_values(helm: Helm) -> None:
    assert "/pipeline/target" in helm.template_error({"pipeline": {"target": 1.5}})
    assert "/workers/automation/device" in helm.template_error({"workers": {"automation": {"device": "tpu"}}})
    assert "'partitionz' not allowed" in helm.template_error({"partitionz": 4})
    # the API would refuse to start with it: the chart refuses it at install instead
    assert "/secrets/adminToken" in helm.template_error({"secrets": {"adminToken": "s3cret"}})
