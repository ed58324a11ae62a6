"""Benchmarks, run with ``python -m benchmarks [NAME ...]``; results go to BENCHMARKS.md.

Every number is reported beside a baseline measured in the same run, as a ratio,
so a slower or busier machine changes both sides alike.
"""
