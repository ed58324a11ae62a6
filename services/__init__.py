"""Edges of shadowqa: file and service I/O, the CLI, and (later) engines and APIs."""
