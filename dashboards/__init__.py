"""Grafana dashboards as code: the operations overview and the annotation team's view.

``python -m dashboards`` (``make dashboards``) writes their JSON to ``dashboards/json/`` and
``helm/shadowqa/dashboards/``; both copies are committed, so a diff shows what an operator will see.
"""
