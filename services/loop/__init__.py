"""The shadow loop's only home: its messages, settings, steps (annotate, route, join, compare) and folds.

Each step takes validated messages and returns messages, so a streaming agent is
only the glue between topics and a step, and recomputing a step offline from a
snapshot of its input topics gives what the agent produced. This package may
import ``analysis/`` only (../shared/DESIGN.md).
"""
