"""Values the chart is rendered with besides its defaults: each exercises options the defaults leave out."""

from __future__ import annotations

from typing import Any

SCALING_ROLES = ("automation", "router", "comparator", "persist")

VARIATIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "scaled to the partitions": {"partitions": 8, "workers": {role: {"replicas": 8} for role in SCALING_ROLES}},
    "without ServiceMonitor": {"serviceMonitor": {"enabled": False}},
    "existing secret": {"secrets": {"existingSecret": "qa-db", "databaseUrlKey": "url", "adminTokenKey": "token"}},
    "GPU automation": {"workers": {"automation": {
        "device": "cuda", "gpu": {"count": 2}, "nodeSelector": {"pool": "gpu"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}}},
    "every option": {
        "podDisruptionBudget": {"enabled": True}, "imagePullSecrets": [{"name": "regcred"}],
        "serviceAccountName": "qa", "extraEnv": [{"name": "SHADOWQA_RETENTION_HOURS", "value": "72"}],
        "podAnnotations": {"team": "qa"}, "podLabels": {"team": "qa"}, "pipeline": {"autoApply": False},
        "serviceMonitor": {"labels": {"release": "kube-prometheus-stack"}, "namespace": "monitoring"},
        "dashboards": {"namespace": "grafana", "folderAnnotation": ""},
        "api": {"replicas": 2, "service": {"type": "LoadBalancer"}, "extraArgs": ["--lease-seconds=600"]},
        "workers": {"automation": {"model": "/models/detector.pt", "extraArgs": ["--loglevel=info"]},
                    "router": {"affinity": {"podAntiAffinity": {}}}},
    },
    "API and migrations off": {"api": {"enabled": False}, "migrations": {"enabled": False}},
}
